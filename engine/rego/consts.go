package rego

import (
	"sync/atomic"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/topdown"
)

// constRules are the rules of a Set whose value does not depend on the
// event: complete rules without arguments that read no input, data only
// under data.config (fixed for the Set) or through other such rules, and
// call no built-in whose result is not a function of its arguments, like
// the tables rules build from data.config
// (protected := object.union(...)). OPA computes a rule's value once per
// evaluation; the Set computes these once for its life, through the
// evaluation's virtual cache (constCache).
type constRules struct {
	index map[[2]string]int // (rule module name, rule name) -> slot
	vals  []atomic.Pointer[constVal]
}

// constVal is a computed value; term nil means undefined.
type constVal struct{ term *ast.Term }

// findConstRules returns the constant rules of the compiled modules of
// rules, nil when there are none.
func findConstRules(rules []*Rule, c *ast.Compiler) *constRules {
	type key = [2]string
	type cand struct {
		defs []*ast.Rule
		deps []key
		ok   bool
	}
	cands := map[key]*cand{}
	impure := impureBuiltins()
	dataVar := ast.Var("data")
	for _, r := range rules {
		m := c.Modules[r.File]
		if m == nil {
			continue
		}
		for _, rule := range m.Rules {
			ref := rule.Head.Ref()
			name, isVar := ref[0].Value.(ast.Var)
			k := key{r.name, string(name)}
			cd := cands[k]
			if cd == nil {
				cd = &cand{ok: true}
				cands[k] = cd
			}
			cd.defs = append(cd.defs, rule)
			if !isVar || len(ref) != 1 || len(rule.Head.Args) > 0 || rule.Head.RuleKind() != ast.SingleValue {
				cd.ok = false
			}
		}
	}
	// Each candidate's own references: no input, data only under config or
	// in other candidates, no impure built-ins.
	for _, cd := range cands {
		for _, def := range cd.defs {
			if !cd.ok {
				break
			}
			if usesInput(def) {
				cd.ok = false
				break
			}
			var walk func(x any)
			vis := func(x any) bool {
				if !cd.ok {
					return true
				}
				switch v := x.(type) {
				case ast.Ref:
					if impure[v.String()] {
						cd.ok = false
						return true
					}
					if head, _ := v[0].Value.(ast.Var); head == dataVar {
						switch d, ok := constDep(v); {
						case !ok:
							cd.ok = false
							return true
						case d != key{}:
							cd.deps = append(cd.deps, d)
						}
					}
					for _, t := range v[1:] {
						walk(t)
					}
					return true
				case ast.Var:
					if v == dataVar || v == inputVar {
						cd.ok = false
					}
				}
				return !cd.ok
			}
			walk = func(x any) { ast.NewGenericVisitor(vis).Walk(x) }
			walk(def)
		}
	}
	for changed := true; changed; {
		changed = false
		for _, cd := range cands {
			if !cd.ok {
				continue
			}
			for _, d := range cd.deps {
				if dc := cands[d]; dc == nil || !dc.ok {
					cd.ok = false
					changed = true
					break
				}
			}
		}
	}
	cr := &constRules{index: map[key]int{}}
	for k, cd := range cands {
		if cd.ok {
			cr.index[k] = len(cr.index)
		}
	}
	if len(cr.index) == 0 {
		return nil
	}
	cr.vals = make([]atomic.Pointer[constVal], len(cr.index))
	return cr
}

// constDep classifies a reference into data for a constant rule:
// data.config... is fine (zero key, true), data.detect.rules.<m>.<r>...
// depends on rule r of module m, anything else is not constant.
func constDep(v ast.Ref) ([2]string, bool) {
	str := func(i int) string {
		if i >= len(v) {
			return ""
		}
		s, _ := v[i].Value.(ast.String)
		return string(s)
	}
	switch {
	case str(1) == "config":
		return [2]string{}, true
	case str(1) == "detect" && str(2) == "rules" && str(3) != "" && str(4) != "":
		return [2]string{str(3), str(4)}, true
	}
	return [2]string{}, false
}

// slot returns the slot of ref when it is a constant rule's,
// data.detect.rules.<module>.<rule>.
func (cr *constRules) slot(ref ast.Ref) (int, bool) {
	if len(ref) != 5 || !ref[0].Equal(ast.DefaultRootDocument) {
		return 0, false
	}
	var parts [4]string
	for i := range parts {
		s, ok := ref[i+1].Value.(ast.String)
		if !ok {
			return 0, false
		}
		parts[i] = string(s)
	}
	if parts[0] != "detect" || parts[1] != "rules" {
		return 0, false
	}
	i, ok := cr.index[[2]string{parts[2], parts[3]}]
	return i, ok
}

// constCache is the virtual cache of one evaluation: OPA's own, with the
// Set's constant rules shared across evaluations. Inside with (a pushed
// frame) the constants are not shared: with may replace data or built-ins
// they use.
type constCache struct {
	topdown.VirtualCache
	consts *constRules
	depth  int
}

func (c *constCache) Push() {
	c.depth++
	c.VirtualCache.Push()
}

func (c *constCache) Pop() {
	c.depth--
	c.VirtualCache.Pop()
}

func (c *constCache) Get(ref ast.Ref) (*ast.Term, bool) {
	if c.depth == 0 {
		if i, ok := c.consts.slot(ref); ok {
			if v := c.consts.vals[i].Load(); v != nil {
				return v.term, v.term == nil
			}
		}
	}
	return c.VirtualCache.Get(ref)
}

func (c *constCache) Put(ref ast.Ref, value *ast.Term) {
	c.VirtualCache.Put(ref, value)
	if c.depth == 0 {
		if i, ok := c.consts.slot(ref); ok && c.consts.vals[i].Load() == nil {
			c.consts.vals[i].Store(&constVal{value})
		}
	}
}

// usesInput reports whether x refers to input at all. inputReads is not
// enough here: it names the event fields read, and a windowed rule's
// input.count or input.history is none of them, though its value is the
// window's.
func usesInput(x any) bool {
	found := false
	ast.NewGenericVisitor(func(x any) bool {
		switch v := x.(type) {
		case ast.Ref:
			found = found || (len(v) > 0 && v[0].Value.Compare(inputVar) == 0)
		case ast.Var:
			found = found || v == inputVar
		}
		return found
	}).Walk(x)
	return found
}

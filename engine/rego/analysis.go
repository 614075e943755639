package rego

import (
	"slices"

	"github.com/open-policy-agent/opa/v1/ast"

	"github.com/detect-dev/detect/schema"
)

var inputVar = ast.Var("input")

// inputReads returns the event fields x reads as input.<field>, and whether
// it reads input as a whole or with a computed key (then every field may be
// read).
func inputReads(x any) (reads fieldSet, all bool) {
	var visit func(x any)
	visitor := func(x any) bool {
		switch v := x.(type) {
		case ast.Ref:
			if len(v) == 0 || v[0].Value != ast.Value(inputVar) {
				return false
			}
			rest := v[1:]
			if len(v) > 1 {
				if s, ok := v[1].Value.(ast.String); ok {
					if f, known := schema.LookupField(string(s)); known && f.Name() == string(s) {
						reads.add(f)
					}
					rest = v[2:]
				} else {
					all = true
				}
			} else {
				all = true
			}
			for _, t := range rest {
				visit(t)
			}
			return true
		case ast.Var:
			if v == inputVar {
				all = true
			}
		}
		return false
	}
	visit = func(x any) { ast.NewGenericVisitor(visitor).Walk(x) }
	visit(x)
	return reads, all
}

// alertNeeds returns the fields every alert of m needs to be present to
// fire, and the event types its alerts are limited to (nil when some alert
// may fire on any type). See needsAnalysis.
func alertNeeds(m *ast.Module) (fieldSet, []string) {
	a := newNeedsAnalysis(m)
	var types []string
	unconstrained := false
	first := true
	for _, r := range m.Rules {
		if !isAlert(r) {
			continue
		}
		for def := r; def != nil; def = def.Else {
			t, ok := eventTypesOf(def.Body)
			if !ok {
				unconstrained = true
			}
			if first {
				types, first = t, false
			} else {
				types = union(types, t)
			}
		}
	}
	if unconstrained {
		types = nil
	}
	return a.ruleNeeds(ast.Var("alert")), types
}

// needsAnalysis works out which input fields a rule of a module needs: an
// undefined input.<field> makes an expression that reads it undefined, and
// the body fails. A definition needs the fields its head and its top-level,
// non-negated expressions read, directly or through the module's own
// complete rules and functions (and its partial rules where they are
// iterated or indexed, as an empty set fails those too); a rule needs what
// all its definitions need. Reads under not, in comprehensions and in every
// are not counted: they may not run, or may succeed without the field.
type needsAnalysis struct {
	byName   map[ast.Var][]*ast.Rule
	memo     map[ast.Var]fieldSet
	visiting map[ast.Var]bool
}

func newNeedsAnalysis(m *ast.Module) *needsAnalysis {
	a := &needsAnalysis{byName: map[ast.Var][]*ast.Rule{}, memo: map[ast.Var]fieldSet{}, visiting: map[ast.Var]bool{}}
	for _, r := range m.Rules {
		if ref := r.Head.Ref(); len(ref) > 0 {
			if v, ok := ref[0].Value.(ast.Var); ok {
				a.byName[v] = append(a.byName[v], r)
			}
		}
	}
	return a
}

func (a *needsAnalysis) ruleNeeds(name ast.Var) fieldSet {
	if n, ok := a.memo[name]; ok {
		return n
	}
	if a.visiting[name] {
		return 0
	}
	a.visiting[name] = true
	defer delete(a.visiting, name)
	var need fieldSet
	first := true
	for _, r := range a.byName[name] {
		if r.Default {
			need, first = 0, false
			break
		}
		for def := r; def != nil; def = def.Else {
			n := a.definitionNeeds(def)
			if first {
				need, first = n, false
			} else {
				need &= n
			}
		}
	}
	a.memo[name] = need
	return need
}

func (a *needsAnalysis) definitionNeeds(r *ast.Rule) fieldSet {
	var n fieldSet
	if r.Head.Key != nil {
		n |= a.reads(r.Head.Key)
	}
	if r.Head.Value != nil {
		n |= a.reads(r.Head.Value)
	}
	for _, expr := range r.Body {
		if expr.Negated {
			continue
		}
		if _, every := expr.Terms.(*ast.Every); every {
			continue
		}
		n |= a.reads(expr)
	}
	return n
}

// multiValue reports whether name is a partial set or object rule of the
// module, which is defined (empty) even when none of its bodies succeeds.
func (a *needsAnalysis) multiValue(name ast.Var) bool {
	for _, r := range a.byName[name] {
		if r.Head.RuleKind() == ast.MultiValue || len(r.Head.Ref()) > 1 || r.Head.Key != nil && r.Head.Value != nil {
			return true
		}
	}
	return false
}

// reads is the fields x needs, outside closures.
func (a *needsAnalysis) reads(x any) fieldSet {
	var n fieldSet
	var walk func(x any)
	walk = func(x any) {
		ast.NewGenericVisitor(func(x any) bool {
			switch v := x.(type) {
			case *ast.ArrayComprehension, *ast.SetComprehension, *ast.ObjectComprehension, *ast.Every:
				return true
			case ast.Call:
				// x in rule, some x in rule, some k, v in rule: iterating a
				// partial rule needs what it needs.
				if op, ok := v[0].Value.(ast.Ref); ok && len(v) >= 3 {
					if name := op.String(); name == "internal.member_2" || name == "internal.member_3" {
						if coll, ok := v[len(v)-1].Value.(ast.Var); ok {
							n |= a.ruleNeeds(coll)
						}
					}
				}
			case ast.Ref:
				if len(v) > 1 && v[0].Value == ast.Value(inputVar) {
					if s, ok := v[1].Value.(ast.String); ok {
						if f, known := schema.LookupField(string(s)); known && f.Name() == string(s) {
							n.add(f)
						}
					}
				}
				if head, ok := v[0].Value.(ast.Var); ok && a.byName[head] != nil && (len(v) > 1 || !a.multiValue(head)) {
					n |= a.ruleNeeds(head) // a function call's operator, rule[x], rule.field
				}
				for _, t := range v[1:] {
					walk(t)
				}
				return true
			case ast.Var:
				if a.byName[v] != nil && !a.multiValue(v) {
					n |= a.ruleNeeds(v) // a complete rule
				}
			}
			return false
		}).Walk(x)
	}
	walk(x)
	return n
}

var eventTypeRef = ast.MustParseRef("input.event_type")

// eventTypesOf returns the event types a body limits input.event_type to
// with top-level, non-negated `input.event_type == "t"` or
// `input.event_type in {"t", ...}` expressions, and false when it does not.
func eventTypesOf(body ast.Body) ([]string, bool) {
	var types []string
	found := false
	for _, expr := range body {
		if expr.Negated || !expr.IsCall() {
			continue
		}
		var these []string
		switch op := expr.Operator().String(); {
		case (op == "equal" || op == "eq") && len(expr.Operands()) == 2:
			a, b := expr.Operand(0), expr.Operand(1)
			if s, ok := b.Value.(ast.String); ok && isEventType(a) {
				these = []string{string(s)}
			} else if s, ok := a.Value.(ast.String); ok && isEventType(b) {
				these = []string{string(s)}
			}
		case op == "internal.member_2" && len(expr.Operands()) == 2 && isEventType(expr.Operand(0)):
			these = constStrings(expr.Operand(1))
		}
		if these == nil {
			continue
		}
		if !found {
			types, found = these, true
		} else {
			types = intersect(types, these)
		}
	}
	return types, found
}

func isEventType(t *ast.Term) bool {
	ref, ok := t.Value.(ast.Ref)
	return ok && ref.Equal(eventTypeRef)
}

// constStrings returns the strings of a set or array literal of strings.
func constStrings(t *ast.Term) []string {
	var out []string
	ok := true
	each := func(e *ast.Term) {
		if s, isStr := e.Value.(ast.String); isStr {
			out = append(out, string(s))
		} else {
			ok = false
		}
	}
	switch v := t.Value.(type) {
	case ast.Set:
		v.Foreach(each)
	case *ast.Array:
		v.Foreach(each)
	default:
		return nil
	}
	if !ok {
		return nil
	}
	return out
}

func union(a, b []string) []string {
	out := slices.Clone(a)
	for _, s := range b {
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	slices.Sort(out)
	return out
}

func intersect(a, b []string) []string {
	out := []string{}
	for _, s := range a {
		if slices.Contains(b, s) {
			out = append(out, s)
		}
	}
	return out
}

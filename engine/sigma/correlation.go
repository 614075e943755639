package sigma

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/detect-dev/detect/schema"
)

// Correlation types of the Sigma specification v2.
var correlationTypes = []string{"event_count", "value_count", "value_sum", "value_avg", "temporal", "temporal_ordered"}

// conditionOps are the comparisons of a correlation condition.
var conditionOps = []string{"gt", "gte", "lt", "lte", "eq", "neq"}

// ErrLink marks the errors of Link (references between rules), which only
// a load of the whole rule tree can find.
var ErrLink = errors.New("correlation reference")

// Correlation is the correlation block of a correlation rule (v2).
type Correlation struct {
	Type     string
	Rules    []string // as written: ids or names; Link resolves them
	RuleIDs  []string // lower-case ids, set by Link
	GroupBy  []string // canonical field names
	Timespan time.Duration
	Field    string             // value_* types: canonical field name
	Cond     map[string]float64 // op -> value; several ops make a range
	Generate bool               // referenced rules also alert on their own

	refs []*yaml.Node // the Rules entries, for Link's positions
	line int
	col  int
}

var timespanRe = regexp.MustCompile(`^(\d+)([smhdw])$`)

// ParseTimespan reads a Sigma timespan: a number and one of s, m, h, d, w.
func ParseTimespan(s string) (time.Duration, error) {
	m := timespanRe.FindStringSubmatch(strings.TrimSpace(s))
	if m == nil {
		return 0, fmt.Errorf("timespan %q is not a number followed by s, m, h, d or w (e.g. 10m)", s)
	}
	n, err := strconv.Atoi(m[1])
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("timespan %q must be positive", s)
	}
	unit := map[string]time.Duration{"s": time.Second, "m": time.Minute, "h": time.Hour, "d": 24 * time.Hour, "w": 7 * 24 * time.Hour}[m[2]]
	return time.Duration(n) * unit, nil
}

// correlation reads a correlation block; nil when it has errors.
func (p *parser) correlation(key, v *yaml.Node) *Correlation {
	if v.Kind != yaml.MappingNode {
		p.errorf(v, "correlation must be a mapping, not a %s", kindName(v))
		return nil
	}
	before := len(p.errs)
	c := &Correlation{line: key.Line, col: key.Column}
	var typeKey, rulesKey, spanKey, condKey *yaml.Node
	field := func(n *yaml.Node) string {
		f, ok := schema.LookupField(n.Value)
		if !ok {
			p.errorf(n, "unknown field %q", n.Value)
			return ""
		}
		return f.Name()
	}
	p.mapping(v, "correlation", func(k, v *yaml.Node) {
		switch k.Value {
		case "type":
			typeKey = k
			c.Type = p.str(k, v)
			if c.Type != "" && !slices.Contains(correlationTypes, c.Type) {
				p.errorf(v, "correlation type %q is not one of %s", c.Type, strings.Join(correlationTypes, ", "))
			}
		case "rules":
			rulesKey = k
			if v.Kind == yaml.ScalarNode && v.ShortTag() != "!!null" {
				c.refs = []*yaml.Node{v}
			} else if v.Kind == yaml.SequenceNode {
				for _, item := range v.Content {
					if item = resolve(item); item.Kind != yaml.ScalarNode {
						p.errorf(item, "rules must be a list of rule ids or names, found a %s", kindName(item))
						continue
					}
					c.refs = append(c.refs, item)
				}
			} else {
				p.errorf(v, "rules must be a list of rule ids or names, not a %s", kindName(v))
			}
			for _, r := range c.refs {
				c.Rules = append(c.Rules, r.Value)
			}
		case "group-by":
			switch {
			case v.Kind == yaml.ScalarNode && v.ShortTag() != "!!null":
				if f := field(v); f != "" {
					c.GroupBy = append(c.GroupBy, f)
				}
			case v.Kind == yaml.SequenceNode:
				for _, item := range v.Content {
					if item = resolve(item); item.Kind != yaml.ScalarNode {
						p.errorf(item, "group-by must be a list of fields, found a %s", kindName(item))
					} else if f := field(item); f != "" {
						c.GroupBy = append(c.GroupBy, f)
					}
				}
			default:
				p.errorf(v, "group-by must be a list of fields, not a %s", kindName(v))
			}
		case "timespan":
			spanKey = k
			d, err := ParseTimespan(p.str(k, v))
			if err != nil {
				p.errorf(v, "%v", err)
			}
			c.Timespan = d
		case "field":
			c.Field = field(v)
		case "condition":
			condKey = k
			p.correlationCond(c, v, field)
		case "generate":
			if v.Kind != yaml.ScalarNode || v.ShortTag() != "!!bool" {
				p.errorf(v, "generate must be true or false")
			} else {
				c.Generate = strings.EqualFold(v.Value, "true")
			}
		case "aliases":
			p.errorf(k, "correlation aliases are not supported yet: group by a field every referenced rule has")
		default:
			p.errorf(k, "unknown correlation attribute %q (known: type, rules, group-by, timespan, condition, field, generate)", k.Value)
		}
	})
	if typeKey == nil {
		p.errorf(key, "correlation has no type (one of %s)", strings.Join(correlationTypes, ", "))
	}
	if rulesKey == nil || len(c.refs) == 0 {
		p.errorf(key, "correlation has no rules: list the ids or names of the rules it counts")
	}
	if spanKey == nil {
		p.errorf(key, "correlation has no timespan (e.g. timespan: 10m)")
	}
	temporal := c.Type == "temporal" || c.Type == "temporal_ordered"
	switch {
	case condKey == nil && !temporal:
		p.errorf(key, "correlation has no condition (e.g. condition: {gte: 10})")
	case condKey == nil:
		c.Cond = map[string]float64{"gte": float64(len(c.refs))} // every rule matched
	}
	if strings.HasPrefix(c.Type, "value_") && c.Field == "" && len(p.errs) == before {
		p.errorf(key, "a %s correlation needs a field (condition: {field: recipient, gte: 100})", c.Type)
	}
	if len(p.errs) > before {
		return nil
	}
	return c
}

func (p *parser) correlationCond(c *Correlation, v *yaml.Node, field func(*yaml.Node) string) {
	if v.Kind != yaml.MappingNode {
		p.errorf(v, "condition must be a mapping of comparisons (e.g. {gte: 10}), not a %s", kindName(v))
		return
	}
	c.Cond = map[string]float64{}
	p.mapping(v, "condition", func(k, v *yaml.Node) {
		if k.Value == "field" {
			c.Field = field(v)
			return
		}
		if !slices.Contains(conditionOps, k.Value) {
			p.errorf(k, "condition operator %q is not one of %s", k.Value, strings.Join(conditionOps, ", "))
			return
		}
		n, err := strconv.ParseFloat(v.Value, 64)
		if v.Kind != yaml.ScalarNode || err != nil {
			p.errorf(v, "condition %s needs a number", k.Value)
			return
		}
		c.Cond[k.Value] = n
	})
	if len(c.Cond) == 0 {
		p.errorf(v, "condition has no comparison (gt, gte, lt, lte, eq, neq)")
	}
}

// Link resolves the references of the correlation rules among rules (a
// whole rule tree), by id or name, and sets each rule's Generate: a rule
// that some correlation refers to alerts on its own only when it says
// generate: true or a correlation referring to it does; other rules alert
// unless they say generate: false. Errors (unknown rules, cycles, chains)
// are positioned at the reference and wrap ErrLink. A reference that
// declared accepts (a rule that exists but did not compile, reported where
// it is) is not reported again; declared may be nil.
func Link(rules []*Rule, declared func(ref string) bool) ErrorList {
	var errs ErrorList
	byID := map[string]*Rule{}
	byName := map[string]*Rule{}
	for _, r := range rules {
		byID[r.ID] = r
		if r.Name != "" {
			byName[r.Name] = r
		}
	}
	lookup := func(ref string) *Rule {
		if r, ok := byID[strings.ToLower(ref)]; ok {
			return r
		}
		return byName[ref]
	}
	errAt := func(r *Rule, n *yaml.Node, line, col int, format string, args ...any) {
		if n != nil {
			line, col = n.Line, n.Column
		}
		errs = append(errs, &Error{File: r.File, Line: line, Col: col, Msg: fmt.Sprintf(format, args...), Err: ErrLink})
	}
	// reaches reports whether correlation from refers, directly or through
	// other correlations, to rule to.
	var reaches func(from, to *Rule, seen map[*Rule]bool) bool
	reaches = func(from, to *Rule, seen map[*Rule]bool) bool {
		if from == to {
			return true
		}
		if from.Correlation == nil || seen[from] {
			return false
		}
		seen[from] = true
		for _, ref := range from.Correlation.Rules {
			if t := lookup(ref); t != nil && reaches(t, to, seen) {
				return true
			}
		}
		return false
	}
	referenced := map[*Rule]bool{}
	generate := map[*Rule]bool{}
	for _, r := range rules {
		c := r.Correlation
		if c == nil {
			continue
		}
		c.RuleIDs = c.RuleIDs[:0]
		for i, ref := range c.Rules {
			t := lookup(ref)
			var n *yaml.Node
			if i < len(c.refs) {
				n = c.refs[i]
			}
			switch {
			case t == nil && declared != nil && declared(ref):
				continue
			case t == nil:
				errAt(r, n, c.line, c.col, "correlation refers to unknown rule %q (no rule has this id or name)", ref)
				continue
			case t == r:
				errAt(r, n, c.line, c.col, "correlation cycle: %s refers to itself", r.ID)
				continue
			case t.Correlation != nil:
				if reaches(t, r, map[*Rule]bool{}) {
					errAt(r, n, c.line, c.col, "correlation cycle: %s refers to %q, which refers back to it", r.ID, ref)
				} else {
					errAt(r, n, c.line, c.col, "correlation refers to correlation %q: chained correlations are not supported yet", ref)
				}
				continue
			}
			c.RuleIDs = append(c.RuleIDs, t.ID)
			referenced[t] = true
			if c.Generate {
				generate[t] = true
			}
		}
	}
	for _, r := range rules {
		switch {
		case r.Correlation != nil:
			r.Generate = true
		case r.GenerateSet:
		case referenced[r]:
			r.Generate = generate[r]
		default:
			r.Generate = true
		}
	}
	errs.Sort()
	return errs
}

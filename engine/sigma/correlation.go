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
	Type    string
	Rules   []string // as written: ids or names; Link resolves them
	RuleIDs []string // lower-case ids, set by Link
	// GroupBy are the names of the group members: canonical field names,
	// or names defined in Aliases.
	GroupBy  []string
	Timespan time.Duration
	Field    string             // value_* types: canonical field name
	Cond     map[string]float64 // op -> value; several ops make a range
	Generate bool               // referenced rules also alert on their own
	// Aliases map an alias name to the field it stands for in the events
	// of each referenced rule (by the rule's name or id as written).
	Aliases map[string]map[string]string
	// Keys, set by Link, say where each group member (GroupBy order) is
	// read for the events of each referenced rule (RuleIDs order).
	Keys [][]GroupKey
	// Self is set for a legacy aggregation (condition "sel | count() by
	// x > N"): the correlation counts the matches of its own rule, whose
	// detection is the condition before the pipe. Legacy then says how to
	// write it in Sigma v2 (a lint warning).
	Self   bool
	Legacy string

	refs      []*yaml.Node // the Rules entries, for Link's positions
	aliasRefs []aliasRef
	groupBy   []*yaml.Node
	line      int
	col       int
}

// GroupKey is where a correlation reads one group member in the events of
// one referenced rule: the event field Field (canonical name), or, for a
// referenced correlation, the member Member of its alerts' group.
type GroupKey struct {
	Field  string
	Member string
}

// aliasRef is one "rule: field" entry of an alias, for Link's checks.
type aliasRef struct {
	alias      string
	ref, field *yaml.Node
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
			// Resolved once aliases, which may come later, are known.
			switch {
			case v.Kind == yaml.ScalarNode && v.ShortTag() != "!!null":
				c.groupBy = append(c.groupBy, v)
			case v.Kind == yaml.SequenceNode:
				for _, item := range v.Content {
					if item = resolve(item); item.Kind != yaml.ScalarNode {
						p.errorf(item, "group-by must be a list of fields, found a %s", kindName(item))
					} else {
						c.groupBy = append(c.groupBy, item)
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
			p.correlationAliases(c, v)
		default:
			p.errorf(k, "unknown correlation attribute %q (known: type, rules, group-by, timespan, condition, field, generate, aliases)", k.Value)
		}
	})
	for _, n := range c.groupBy {
		if _, ok := c.Aliases[n.Value]; ok {
			c.GroupBy = append(c.GroupBy, n.Value)
		} else if f := field(n); f != "" {
			c.GroupBy = append(c.GroupBy, f)
		}
	}
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

// correlationAliases reads aliases: {alias: {rule: field, ...}, ...}. The
// fields are checked by Link, which knows whether each rule is a detection
// (an event field) or a correlation (a member of its group).
func (p *parser) correlationAliases(c *Correlation, v *yaml.Node) {
	if v.Kind != yaml.MappingNode {
		p.errorf(v, "aliases must be a mapping of alias names to {rule: field} mappings, not a %s", kindName(v))
		return
	}
	c.Aliases = map[string]map[string]string{}
	p.mapping(v, "aliases", func(k, v *yaml.Node) {
		if v.Kind != yaml.MappingNode {
			p.errorf(v, "alias %s must map rule names to fields ({rule_name: field}), not be a %s", k.Value, kindName(v))
			return
		}
		m := map[string]string{}
		p.mapping(v, "alias "+k.Value, func(rk, rv *yaml.Node) {
			if rv.Kind != yaml.ScalarNode || rv.Value == "" {
				p.errorf(rv, "alias %s: the field for rule %s must be a field name", k.Value, rk.Value)
				return
			}
			m[rk.Value] = rv.Value
			c.aliasRefs = append(c.aliasRefs, aliasRef{alias: k.Value, ref: rk, field: rv})
		})
		c.Aliases[k.Value] = m
	})
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
// that some correlation refers to (a detection, or a correlation whose
// alerts the referring one counts: a chain) alerts on its own only when it
// says generate: true or a correlation referring to it does; other rules
// alert unless they say generate: false. It checks the aliases and sets
// Keys. Errors (unknown rules, cycles, aliases, group-by members a chained
// correlation's alerts lack) are positioned and wrap ErrLink. A reference that
// declared accepts (a rule that exists but did not compile, reported where
// it is) is not reported again; declared may be nil.
func Link(rules []*Rule, declared func(ref string) bool) ErrorList {
	var errs ErrorList
	byID := map[string]*Rule{}
	byName := map[string]*Rule{}
	for _, r := range rules {
		byID[r.ID] = r
		if r.Name == "" {
			continue
		}
		if first, dup := byName[r.Name]; dup {
			// Correlations refer to rules by name: two rules of one name
			// would make the reference pick one silently.
			errs = append(errs, &Error{File: r.File, Line: r.nameLine, Col: r.nameCol, Err: ErrLink,
				Msg: fmt.Sprintf("rule name %s is already used by %s:%d (%q); names must be unique, correlations refer to rules by them", r.Name, first.File, first.nameLine, first.Title)})
			continue
		}
		byName[r.Name] = r
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
		c.RuleIDs, c.Keys = c.RuleIDs[:0], nil
		if c.Self {
			keys := make([]GroupKey, len(c.GroupBy))
			for i, f := range c.GroupBy {
				keys[i].Field = f
			}
			c.RuleIDs, c.Keys = []string{r.ID}, [][]GroupKey{keys}
			continue
		}
		var targets []*Rule
		var targetNodes []*yaml.Node
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
			case t.Correlation != nil && reaches(t, r, map[*Rule]bool{}):
				errAt(r, n, c.line, c.col, "correlation cycle: %s refers to %q, which refers back to it", r.ID, ref)
				continue
			}
			c.RuleIDs = append(c.RuleIDs, t.ID)
			targets = append(targets, t)
			targetNodes = append(targetNodes, n)
			referenced[t] = true
			if c.Generate {
				generate[t] = true
			}
		}
		for _, ar := range c.aliasRefs {
			if t := lookup(ar.ref.Value); t == nil || !slices.Contains(targets, t) {
				errAt(r, ar.ref, 0, 0, "alias %s maps rule %q, which this correlation does not refer to (rules: %s)", ar.alias, ar.ref.Value, strings.Join(c.Rules, ", "))
			}
		}
		if len(targets) != len(c.Rules) {
			continue // not evaluated: its keys do not matter
		}
		before := len(errs)
		for k, t := range targets {
			keys := make([]GroupKey, len(c.GroupBy))
			for i, name := range c.GroupBy {
				at := c.groupBy[i]
				for _, ar := range c.aliasRefs {
					if ar.alias == name && lookup(ar.ref.Value) == t {
						name, at = ar.field.Value, ar.field
					}
				}
				if tc := t.Correlation; tc != nil {
					if !slices.Contains(tc.GroupBy, name) {
						errAt(r, at, 0, 0, "group-by %s: the alerts of correlation %q carry only its group-by (%s); add an alias that maps %q to one of them",
							c.GroupBy[i], c.Rules[k], strings.Join(tc.GroupBy, ", "), c.Rules[k])
					}
					keys[i] = GroupKey{Member: name}
					continue
				}
				f, ok := schema.LookupField(name)
				if !ok {
					if _, isAlias := c.Aliases[c.GroupBy[i]]; isAlias && at == c.groupBy[i] {
						errAt(r, at, 0, 0, "alias %s does not say which field of rule %q to group by (add %s: {%s: <field>})", name, c.Rules[k], name, c.Rules[k])
					} else {
						errAt(r, at, 0, 0, "unknown field %q", name)
					}
					continue
				}
				keys[i] = GroupKey{Field: f.Name()}
			}
			if tc := t.Correlation; tc != nil && c.Field != "" && !slices.Contains(tc.GroupBy, c.Field) {
				errAt(r, targetNodes[k], c.line, c.col, "field %s: the alerts of correlation %q carry only its group-by (%s)", c.Field, c.Rules[k], strings.Join(tc.GroupBy, ", "))
			}
			c.Keys = append(c.Keys, keys)
		}
		if len(errs) > before {
			c.RuleIDs = c.RuleIDs[:0] // not evaluated
		}
	}
	for _, r := range rules {
		switch {
		case r.Correlation != nil && !referenced[r]:
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

// DefaultTimeframe is the timespan of a legacy aggregation whose rule gives
// no timeframe.
const DefaultTimeframe = time.Hour

// legacyAggregation is a detection's v1 aggregation (condition
// "sel | count() by field > N" with an optional timeframe), read by
// legacyAggregation and turned into a correlation by correlation.
type legacyAggregation struct {
	agg       *legacyAgg
	by, field string // canonical field names
	span      time.Duration
	spanSet   bool
	line, col int // of the pipe
}

// legacyAggregation checks the aggregation the conditions of cp ended with
// (n conditions) and the detection's timeframe, and records it in p.agg.
func (p *parser) legacyAggregation(cp *condCtx, n int, timeframeKey, timeframe *yaml.Node) {
	a := cp.agg
	if a == nil {
		if timeframeKey != nil {
			p.errorf(timeframeKey, "timeframe belongs to aggregations (| count() ...), and this condition has none: write a correlation rule with a timespan instead")
		}
		return
	}
	cond := cp.aggNode
	la := &legacyAggregation{agg: a, span: DefaultTimeframe}
	la.line, la.col = p.offsetPos(cond, strings.Index(cond.Value, a.text))
	if n > 1 {
		p.errorAt(la.line, la.col, "condition: an aggregation in a list of conditions is not translated: write one condition, or a correlation rule per condition")
		return
	}
	field := func(name string, off int) string {
		f, ok := schema.LookupField(name)
		if !ok {
			line, col := p.offsetPos(cond, off)
			p.errorAt(line, col, "condition: unknown field %q", name)
			return ""
		}
		return f.Name()
	}
	if a.by != "" {
		la.by = field(a.by, a.off)
	}
	if a.field != "" {
		la.field = field(a.field, a.fieldOff)
	}
	if timeframe != nil {
		d, err := ParseTimespan(p.str(timeframeKey, timeframe))
		if err != nil {
			p.errorf(timeframe, "timeframe: %v", err)
		}
		la.span, la.spanSet = d, true
	}
	p.agg = la
}

// correlation is the correlation a legacy aggregation stands for: an
// event_count (count()) or value_count (count(field)) over the rule's own
// matches, with the aggregation's condition.
func (la *legacyAggregation) correlation(r *Rule) *Correlation {
	c := &Correlation{Type: "event_count", Self: true, Timespan: la.span, Field: la.field,
		Cond: map[string]float64{la.agg.op: la.agg.n}, Rules: []string{r.ID}, line: la.line, col: la.col}
	if la.field != "" {
		c.Type = "value_count"
	}
	if la.by != "" {
		c.GroupBy = []string{la.by}
	}
	c.Legacy = la.rewrite(r, c)
	return c
}

// rewrite says how to write the aggregation as Sigma v2 correlation, for
// lint.
func (la *legacyAggregation) rewrite(r *Rule, c *Correlation) string {
	span := fmt.Sprintf("%v timeframe", la.span)
	if !la.spanSet {
		span = fmt.Sprintf("no timeframe, so the default %v", DefaultTimeframe)
	}
	name := r.Name
	if name == "" {
		name = nameFromTitle(r.Title)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "type: %s, rules: [%s]", c.Type, name)
	if len(c.GroupBy) > 0 {
		fmt.Fprintf(&b, ", group-by: [%s]", c.GroupBy[0])
	}
	fmt.Fprintf(&b, ", timespan: %s", formatTimespan(c.Timespan))
	cond := fmt.Sprintf("%s: %s", la.agg.op, strconv.FormatFloat(la.agg.n, 'f', -1, 64))
	if c.Field != "" {
		cond += ", field: " + c.Field
	}
	fmt.Fprintf(&b, ", condition: {%s}", cond)
	// The correlation is what alerts, so it keeps the rule's id (alerts
	// and the rule's case file refer to it); the detection becomes its
	// base under a new id.
	return fmt.Sprintf("aggregation %q is deprecated (Sigma v1); it runs as a correlation of type %s over this rule's matches (%s). "+
		"Sigma v2: keep this rule's title, id and level for a correlation rule with correlation: {%s}, and make this document its base rule: "+
		"drop the aggregation and timeframe, give it a new id, name: %s and generate: false", la.agg.text, c.Type, span, b.String(), name)
}

// nameFromTitle makes a rule name (snake_case) from a title, for a
// rewrite that needs one.
func nameFromTitle(title string) string {
	var b strings.Builder
	gap := false
	for _, r := range strings.ToLower(title) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			if gap && b.Len() > 0 {
				b.WriteByte('_')
			}
			b.WriteRune(r)
			gap = false
		} else {
			gap = true
		}
	}
	if b.Len() == 0 {
		return "base_rule"
	}
	return b.String()
}

// formatTimespan writes d as a Sigma timespan (the largest whole unit).
func formatTimespan(d time.Duration) string {
	for _, u := range []struct {
		unit string
		d    time.Duration
	}{{"d", 24 * time.Hour}, {"h", time.Hour}, {"m", time.Minute}} {
		if d%u.d == 0 {
			return fmt.Sprintf("%d%s", d/u.d, u.unit)
		}
	}
	return fmt.Sprintf("%ds", d/time.Second)
}

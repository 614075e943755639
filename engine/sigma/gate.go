package sigma

import (
	"slices"

	"github.com/detect-dev/detect/schema"
)

// Gate is a test every event the rule matches passes: its string Field
// equals, ignoring ASCII case, one of Values (lower case). Most rules
// start with such a test (event_type: reject, action: deferred), so a rule
// set can sort an event's rules by one look-up of that field and skip the
// rules it cannot match without evaluating them.
type Gate struct {
	Field  schema.Field
	Values []string
}

// Gate returns the rule's gate, or false when its condition has none
// (a negation, a pattern, a field that may be absent in some branch). The
// gate is implied by the condition, never extra: skipping a rule whose
// gate fails gives the matches Match gives.
func (r *Rule) Gate() (Gate, bool) {
	if r.cond == nil {
		return Gate{}, false
	}
	return gateOf(r.cond)
}

// gateOf finds a gate of a condition node: one of an and's parts, the
// same field's union over an or's parts or a search's alternatives.
func gateOf(n node) (Gate, bool) {
	switch n := n.(type) {
	case andNode:
		for _, c := range n {
			if g, ok := gateOf(c); ok {
				return g, true
			}
		}
	case orNode:
		parts := make([][]Gate, len(n))
		for i, c := range n {
			g, ok := gateOf(c)
			if !ok {
				return Gate{}, false
			}
			parts[i] = []Gate{g}
		}
		return union(parts)
	case *search:
		parts := make([][]Gate, len(n.alts))
		for i, alt := range n.alts {
			parts[i] = conjGates(alt)
		}
		return union(parts)
	}
	return Gate{}, false
}

// conjGates lists the gates of one map of a search: its conditions that
// are exact, case-insensitive literals on a string field.
func conjGates(c conj) []Gate {
	var gs []Gate
	for _, x := range c {
		fc, ok := x.(*fieldCond)
		if !ok || fc.kind != schema.KindString || (fc.all && len(fc.vals) > 1) || len(fc.vals) == 0 {
			continue
		}
		g := Gate{Field: fc.field}
		for i := range fc.vals {
			v := &fc.vals[i]
			if v.kind != valText || len(v.more) > 0 || v.text.kind != strExact || !v.text.fold {
				g.Values = nil
				break
			}
			g.Values = append(g.Values, v.text.lit)
		}
		if g.Values != nil {
			gs = append(gs, g)
		}
	}
	return gs
}

// union is a gate every part has on one field (each part offers its
// candidates), with the values of all of them: any part may be the one
// that matched. The first field of the first part that every part gates
// is taken.
func union(parts [][]Gate) (Gate, bool) {
	if len(parts) == 0 {
		return Gate{}, false
	}
next:
	for _, first := range parts[0] {
		g := Gate{Field: first.Field}
		for _, part := range parts {
			i := slices.IndexFunc(part, func(x Gate) bool { return x.Field == first.Field })
			if i < 0 {
				continue next
			}
			for _, v := range part[i].Values {
				if !slices.Contains(g.Values, v) {
					g.Values = append(g.Values, v)
				}
			}
		}
		return g, true
	}
	return Gate{}, false
}

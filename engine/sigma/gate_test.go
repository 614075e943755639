package sigma

import (
	"slices"
	"testing"

	"github.com/detect-dev/detect/schema"
)

func TestGate(t *testing.T) {
	cases := []struct {
		name   string
		det    string
		field  schema.Field
		values []string // nil: no gate
	}{
		{"literal", "\n  sel:\n    event_type: Reject\n    helo|contains: x\n  condition: sel", schema.FieldEventType, []string{"reject"}},
		{"list", "\n  sel:\n    action: [deferred, BOUNCED]\n  condition: sel", schema.FieldAction, []string{"deferred", "bounced"}},
		{"and takes a part's gate", "\n  a:\n    helo|contains: x\n  b:\n    action: deferred\n  condition: a and b", schema.FieldAction, []string{"deferred"}},
		{"or unites one field", "\n  a:\n    action: deferred\n  b:\n    action: bounced\n    helo: y\n  condition: a or b", schema.FieldAction, []string{"deferred", "bounced"}},
		{"alternatives unite", "\n  sel:\n    - action: deferred\n    - action: bounced\n  condition: sel", schema.FieldAction, []string{"deferred", "bounced"}},
		{"or without a common field", "\n  a:\n    action: deferred\n  b:\n    helo: y\n  condition: a or b", 0, nil},
		{"not", "\n  sel:\n    action: deferred\n  condition: not sel", 0, nil},
		{"pattern", "\n  sel:\n    action: defer*\n  condition: sel", 0, nil},
		{"cased", "\n  sel:\n    action|cased: deferred\n  condition: sel", 0, nil},
		{"all of several", "\n  sel:\n    action|all: [deferred, bounced]\n  condition: sel", 0, nil},
		{"numeric field", "\n  sel:\n    size: 5\n  condition: sel", 0, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			g, ok := compileDetection(t, tc.det).Gate()
			if tc.values == nil {
				if ok {
					t.Fatalf("gate %v, want none", g)
				}
				return
			}
			if !ok || g.Field != tc.field || !slices.Equal(g.Values, tc.values) {
				t.Fatalf("gate %v (%v), want %v %v", g, ok, tc.field, tc.values)
			}
		})
	}
}

// TestGateImplied checks on events of every combination of the gated
// values, in both cases, that a rule never matches an event its gate
// turns away: the gate only skips work.
func TestGateImplied(t *testing.T) {
	dets := []string{
		"\n  sel:\n    event_type: reject\n  condition: sel",
		"\n  a:\n    action: [deferred, Bounced]\n  b:\n    event_type: delivery\n  condition: a and b",
		"\n  a:\n    action: deferred\n  b:\n    action: bounced\n    event_type: delivery\n  condition: 1 of them",
		"\n  sel:\n    - action: deferred\n    - action: bounced\n      event_type: reject\n  condition: sel",
	}
	var events []schema.Event
	for _, typ := range []string{"", "reject", "REJECT", "delivery", "Delivery", "auth"} {
		for _, act := range []string{"", "deferred", "Deferred", "bounced", "BOUNCED", "delivered"} {
			events = append(events, ev(schema.Event{EventType: typ, Action: act}))
		}
	}
	for _, det := range dets {
		r := compileDetection(t, det)
		g, ok := r.Gate()
		if !ok {
			t.Fatalf("%s: no gate", det)
		}
		matched, turned := 0, 0
		for i := range events {
			e := &events[i]
			passes := false
			for _, v := range g.Values {
				passes = passes || lowerString(e.Str(g.Field)) == v
			}
			if r.Match(e) {
				matched++
				if !passes {
					t.Errorf("%s: %+v matches but fails gate %v", det, e, g)
				}
			}
			if !passes {
				turned++
			}
		}
		if matched == 0 || turned == 0 {
			t.Errorf("%s: %d matched, %d turned away: the events do not test the gate", det, matched, turned)
		}
	}
}

func lowerString(s string) string {
	b := []byte(s)
	for i, c := range b {
		b[i] = lowerASCII(c)
	}
	return string(b)
}

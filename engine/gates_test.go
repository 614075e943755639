package engine

import (
	"bytes"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/detect-dev/detect/bench/postfixgen"
	"github.com/detect-dev/detect/normalize"
	"github.com/detect-dev/detect/normalize/postfix"
	"github.com/detect-dev/detect/rules"
	"github.com/detect-dev/detect/schema"
)

// TestGatesSkipOnlyWhatCannotMatch runs the embedded pack over a
// generated log with and without the gate index: the same alerts and
// correlation slots for every event, and the index must have turned
// rules away.
func TestGatesSkipOnlyWhatCannotMatch(t *testing.T) {
	rs, err := Load(Source{FS: rules.FS(), Display: rules.Display})
	if err != nil {
		t.Fatal(err)
	}
	if len(rs.gates.fields) == 0 {
		t.Fatal("no rule of the pack is gated")
	}
	plain := *rs
	plain.gates = gates{}
	plain.rules = make([]*Rule, len(rs.rules))
	for i, r := range rs.rules {
		c := *r
		c.gate = nil
		plain.rules[i] = &c
	}

	var log bytes.Buffer
	if _, err := postfixgen.Generate(&log, postfixgen.Config{Lines: 20000, Seed: 7, Start: time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC), Span: 6 * time.Hour}); err != nil {
		t.Fatal(err)
	}
	var events []*schema.Event
	p := postfix.New(normalize.Options{})
	emit := func(e *schema.Event) { events = append(events, e) }
	for i, line := range strings.Split(log.String(), "\n") {
		p.Parse(schema.Line{Text: line, File: "gen.log", Number: i + 1}, emit)
	}
	p.Flush(emit)

	ids := func(rs *Ruleset, e *schema.Event) (string, []int) {
		var got []string
		slots := rs.EvaluateSlots(e, func(a *schema.Alert) { got = append(got, a.RuleID+" "+a.Message) }, nil)
		return strings.Join(got, "\n"), slots
	}
	skipped, alerts := 0, 0
	for _, e := range events {
		a, s := ids(rs, e)
		b, u := ids(&plain, e)
		if a != b || !slices.Equal(s, u) {
			t.Fatalf("event %+v: gated %q %v, ungated %q %v", e, a, s, b, u)
		}
		if a != "" || len(s) > 0 {
			alerts++ // a rule matched
		}
		var g [maxGated]int
		rs.gates.lookup(e, &g)
		for _, r := range rs.rules {
			if !r.passes(&g) {
				skipped++
			}
		}
	}
	if alerts == 0 || skipped == 0 {
		t.Fatalf("%d events: %d matched by a rule, %d rule evaluations skipped: the log does not test the gates", len(events), alerts, skipped)
	}
}

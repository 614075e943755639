package pipeline

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/detect-dev/detect/engine"
	"github.com/detect-dev/detect/schema"
	"github.com/detect-dev/detect/source"
)

// TestWindowedRegoSameWithAnyWorkers is TestCorrelationSameWithAnyWorkers
// for a windowed Rego rule: its windows are fed in input order by the
// collector, so their alerts and the events they list do not depend on
// the number of workers.
func TestWindowedRegoSameWithAnyWorkers(t *testing.T) {
	rule := `# METADATA
# title: Failures from one client
# custom:
#   id: 11111111-2222-4333-8444-0000000000d1
#   level: high
#   requires: [auth]
#   window: {group_by: [src_ip], span: 5m}
package detect.rules.failures

alert contains msg if {
	fails := [e.auth_user | some e in input.events; e.action == "failed"]
	count(fails) >= 20
	msg := sprintf("%d failures of %d events, users %s", [count(fails), input.count, concat(",", fails)])
}
`
	rs, err := engine.Load(engine.Source{FS: fstest.MapFS{"failures.rego": {Data: []byte(rule)}}, Display: "rules"})
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	t0 := time.Date(2026, 11, 28, 5, 0, 0, 0, time.UTC)
	for i := range 20000 {
		// Mostly in order, with some events up to 30s late.
		at := t0.Add(time.Duration(i)*time.Second - time.Duration(i%7*5)*time.Second)
		action := "failed"
		if i%5 == 0 {
			action = "succeeded"
		}
		fmt.Fprintf(&b, `{"time":%q,"event_type":"auth","action":%q,"src_ip":"10.0.0.%d","auth_user":"u%d"}`+"\n",
			at.Format(time.RFC3339), action, i%3, i%13)
	}
	for workers, byRule := range alertsWithAnyWorkers(t, rs, b.String()) {
		if byRule["11111111-2222-4333-8444-0000000000d1"] == 0 {
			t.Fatalf("workers=%d: the windowed rule did not fire: %v", workers, byRule)
		}
	}
}

// alertsWithAnyWorkers scans input (JSON lines) with rs using 1, 3 and 8
// workers, fails the test when the alerts of a run differ from those of
// the first, and returns each run's alerts per rule, by worker count.
func alertsWithAnyWorkers(t *testing.T, rs *engine.Ruleset, input string) map[int]map[string]int {
	t.Helper()
	out := map[int]map[string]int{}
	var first []string
	for _, workers := range []int{1, 3, 8} {
		var got []string
		st, err := Run(context.Background(), Config{
			Inputs:  []source.Input{{Path: "a"}},
			Format:  "json",
			Rules:   rs,
			Workers: workers,
			OnAlert: func(a *schema.Alert) error {
				j, _ := json.Marshal(a)
				got = append(got, string(j))
				return nil
			},
			Open: memOpen(map[string]string{"a": input}),
		})
		if err != nil {
			t.Fatal(err)
		}
		out[workers] = st.AlertsByRule
		if first == nil {
			first = got
			continue
		}
		if strings.Join(got, "\n") != strings.Join(first, "\n") {
			t.Fatalf("workers=%d: %d alerts differ from workers=1 (%d)", workers, len(got), len(first))
		}
	}
	return out
}

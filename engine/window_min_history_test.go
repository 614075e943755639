package engine

import (
	"fmt"
	"strings"
	"testing"

	"github.com/detect-dev/detect/engine/window"
	"github.com/detect-dev/detect/schema"
)

// everyWindow alerts on every window it is evaluated on, listing the sums
// of the earlier windows it was given: what fires is what was evaluated.
const everyWindow = `# METADATA
# title: Every window
# custom:
#   id: 11111111-2222-4333-8444-0000000000b7
#   level: low
#   requires: [reject, src_ip]
#   window: {group_by: [src_ip], span: 10m, history: 4, min_history: 3, sum: size}
package detect.rules.every_window

alert contains sprintf("%s at %d: %v", [input.group.src_ip, input.sum, [p.sum | some p in input.history]]) if true
`

// TestWindowedRegoMinHistory: with min_history 3 a group's first three
// windows are remembered but not evaluated, so a rule that alerts on every
// window fires from the fourth on. Client a has one event a window, at
// minutes 0, 20, ..., 100, each of as many bytes as its minute: windows 1
// to 3 have 0, 1 and 2 earlier ones (quiet); window 4 (60) has 3 (40 20
// 0), 5 (80) and 6 (100) the last 4 (history: 4). Client b has two
// windows: never judged. A reload with another min_history is a new
// definition: the group starts again without history.
func TestWindowedRegoMinHistory(t *testing.T) {
	files := map[string]string{"rego/every_window.rego": everyWindow}
	var events []*schema.Event
	for m := 0; m <= 100; m += 20 {
		events = append(events, sizedReject(m, "a", int64(m)))
	}
	events = append(events, sizedReject(1, "b", 7), sizedReject(21, "b", 9))
	run := func(reload string) []string {
		var got []string
		emit := func(a *schema.Alert) { got = append(got, a.Message) }
		st := mustLoad(t, files).NewState(window.Options{})
		for _, e := range events[:3] { // a's windows at 0, 20, 40
			st.Event(e, emit)
		}
		st = mustLoad(t, map[string]string{"rego/every_window.rego": reload}).NewStateFrom(st, window.Options{})
		for _, e := range events[3:] {
			st.Event(e, emit)
		}
		st.Flush(emit)
		return got
	}
	for _, tc := range []struct {
		name, reload, want string
	}{
		{"unchanged", everyWindow, "[a at 60: [40, 20, 0] a at 80: [60, 40, 20, 0] a at 100: [80, 60, 40, 20]]"},
		// min_history 2: a's windows at 60 and 80 start its history again.
		{"min_history changed", strings.Replace(everyWindow, "min_history: 3", "min_history: 2", 1), "[a at 100: [80, 60]]"},
	} {
		if got := fmt.Sprint(run(tc.reload)); got != tc.want {
			t.Errorf("%s: alerts %s, want %s", tc.name, got, tc.want)
		}
	}
}

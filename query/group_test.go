package query

import (
	"fmt"
	"runtime"
	"strings"
	"testing"

	"github.com/detect-dev/detect/schema"
)

// TestGroupAllocations: a new group of a top or stats by one text field
// costs two allocations (its key, shared with the by-value, and the group
// with room for the value); it used to cost four, and a report holds a
// group per reject reason and client IP of its whole input.
func TestGroupAllocations(t *testing.T) {
	const groups = 20_000
	events := make([]*schema.Event, groups)
	for i := range events {
		e := &schema.Event{EventType: "reject", Action: "rejected", Reason: fmt.Sprintf("cannot find your hostname, [%d]", i)}
		e.Complete()
		events[i] = e
	}
	for _, q := range []string{"top limit=3 reason", "stats count by reason"} {
		run := MustParse(q).Start()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		for _, e := range events {
			run.Add(e)
		}
		runtime.ReadMemStats(&after)
		perGroup := float64(after.Mallocs-before.Mallocs) / groups
		t.Logf("%s: %.2f allocations per group", q, perGroup)
		// Two, and a little for the map's and the group list's growth;
		// stats adds the list of aggregation states and the count's.
		limit := 2.2
		if strings.HasPrefix(q, "stats") {
			limit += 2
		}
		if perGroup > limit {
			t.Errorf("%s: %.2f allocations per group, want at most %.1f", q, perGroup, limit)
		}
		// The by-values are pieces of the key: they must still read right.
		res := run.Result()
		wantRows := groups
		if strings.HasPrefix(q, "top") {
			wantRows = 3
		}
		if len(res.Rows) != wantRows || res.Rows[0][0].Str != "cannot find your hostname, [0]" {
			t.Fatalf("%s: %d rows, first %v", q, len(res.Rows), res.Rows[0])
		}
		for _, row := range res.Rows {
			if v := row[0].Str; !strings.HasPrefix(v, "cannot find your hostname, [") || !strings.HasSuffix(v, "]") {
				t.Fatalf("%s: by-value %q", q, v)
			}
		}
	}
}

package window

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/detect-dev/detect/schema"
)

// TestSlidingMatchesLegacy feeds random traffic (three clients, gaps of 0
// to 20s, every fifth event up to 150s behind the newest, so some are
// within the 2m lateness and some beyond it) to event_count and value_sum
// specs, with and without suppression, and expects the alerts of Points
// to be those of the Entries they replaced (legacySliding in
// bench_test.go): the same groups, measures, starts and ends, and events
// that lie in the window, in time order. 4000 events per run let the
// points of a group be dropped and compacted many times.
func TestSlidingMatchesLegacy(t *testing.T) {
	ip := []schema.Field{field("src_ip")}
	specs := []Spec{
		{ID: "count", Type: EventCount, Slots: []int{0}, GroupBy: ip, Span: 2 * time.Minute, Cond: Cond{Gte: f(7)}},
		{ID: "count-gt", Type: EventCount, Slots: []int{0}, GroupBy: ip, Span: 5 * time.Minute, Cond: Cond{Gt: f(14)}},
		{ID: "sum", Type: ValueSum, Slots: []int{0}, GroupBy: ip, Field: field("size"), Span: 3 * time.Minute, Cond: Cond{Gte: f(500)}},
		{ID: "sum-range", Type: ValueSum, Slots: []int{0}, GroupBy: ip, Field: field("size"), Span: 10 * time.Minute, Cond: Cond{Gt: f(1350)}},
	}
	fired := 0
	for seed := range uint64(6) {
		rng := rand.New(rand.NewPCG(seed, 7))
		var events []*schema.Event
		at := t0
		for i := range 4000 {
			at = at.Add(time.Duration(rng.IntN(21)) * time.Second)
			when := at
			if i%5 == 0 {
				when = at.Add(-time.Duration(rng.IntN(151)) * time.Second)
			}
			events = append(events, &schema.Event{Time: when, SrcIP: fmt.Sprint("c", rng.IntN(3)), Size: int64(rng.IntN(100))})
		}
		for _, sp := range specs {
			for _, suppress := range []time.Duration{0, 4 * time.Minute} {
				opt := Options{Suppress: suppress}
				var want, got []Result
				l := newLegacySliding(sp, opt)
				s := New([]Spec{sp}, opt)
				for _, e := range events {
					l.observe(e, func(r Result) { want = append(want, r) })
					s.Observe(e, []int{0}, func(r Result) { got = append(got, r) })
				}
				s.Flush(func(r Result) { got = append(got, r) })
				name := fmt.Sprintf("seed %d, %s, suppress %v", seed, sp.ID, suppress)
				if summary(got) != summary(want) {
					t.Fatalf("%s:\n got %s\nwant %s", name, summary(got), summary(want))
				}
				fired += len(got)
				for _, r := range got {
					if len(r.Events) == 0 || len(r.Events) > DefaultMaxEvents {
						t.Errorf("%s: %d events", name, len(r.Events))
					}
					for i, e := range r.Events {
						if e.Time.Before(r.Start) || e.Time.After(r.End) || e.SrcIP != r.Group["src_ip"] ||
							(i > 0 && e.Time.Before(r.Events[i-1].Time)) {
							t.Errorf("%s: event %v %s of alert %s", name, e.Time.Sub(t0), e.SrcIP, summary([]Result{r}))
						}
					}
				}
			}
		}
	}
	if fired < 1000 {
		t.Errorf("only %d alerts: the traffic does not exercise the conditions", fired)
	}
}

// TestSlidingEvents: a burst's alert lists its first events, as before;
// a steady trickle whose first events have long expired lists the ones
// of the window the group still holds. value_sum gte 100 in 60s, sizes
// 10 every 10s from 0 to 300s (a window holds 7: 70), then 50 at 310:
// [250,310] sums 60+50.
func TestSlidingEvents(t *testing.T) {
	sp := Spec{ID: "r", Type: ValueSum, Slots: []int{0}, GroupBy: []schema.Field{field("src_ip")}, Field: field("size"), Span: time.Minute, Cond: Cond{Gte: f(100)}}
	var steps []step
	for sec := 0; sec <= 300; sec += 10 {
		steps = append(steps, step{sized(sec, "", 10), []int{0}})
	}
	steps = append(steps, step{sized(310, "", 50), []int{0}})
	got := run(New([]Spec{sp}, Options{Lateness: -1}), steps)
	if want := "[map[src_ip:a] 110 4m10s..5m10s]"; summary(got) != want {
		t.Fatalf("got %s want %s", summary(got), want)
	}
	var times []time.Duration
	for _, e := range got[0].Events {
		times = append(times, e.Time.Sub(t0))
	}
	if want := "[4m10s 4m20s 4m30s 4m40s 4m50s]"; fmt.Sprint(times) != want {
		t.Errorf("events at %v, want %s", times, want)
	}
}

// TestSlidingKeepsNoEvents: 100,000 events of one group within a day-long
// value_sum that never fires are 100,000 points but at most 2*MaxEvents
// events, and once they expire the group is gone.
func TestSlidingKeepsNoEvents(t *testing.T) {
	sp := Spec{ID: "r", Type: ValueSum, Slots: []int{0}, GroupBy: []schema.Field{field("src_ip")}, Field: field("size"), Span: 24 * time.Hour, Cond: Cond{Gte: f(1e15)}}
	s := New([]Spec{sp}, Options{})
	for i := range 100_000 {
		s.Observe(sized(i/2, "", 1000), []int{0}, func(Result) { t.Fatal("fired") })
	}
	g := s.Groups["r"]["a"]
	if n := len(g.Points) - g.Head; n != 100_000 || len(g.Entries) != 0 || len(g.Kept) != 2*DefaultMaxEvents {
		t.Fatalf("%d points, %d entries, %d kept events", n, len(g.Entries), len(g.Kept))
	}
	for _, e := range g.Kept[len(g.Kept):cap(g.Kept)] {
		if e.Event != nil {
			t.Fatal("a dropped kept entry still holds its event")
		}
	}
	s.Observe(&schema.Event{Time: t0.Add(72 * time.Hour), SrcIP: "b", Size: 1}, []int{0}, func(Result) {})
	if s.Groups["r"]["a"] != nil {
		t.Error("the group outlived its day")
	}
}

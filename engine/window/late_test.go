package window

import (
	"fmt"
	"testing"
	"time"

	"github.com/detect-dev/detect/schema"
)

// sized is an event at t0+sec of src_ip a with recipient rcpt and size.
func sized(sec int, rcpt string, size int64) *schema.Event {
	return &schema.Event{Time: t0.Add(time.Duration(sec) * time.Second), SrcIP: "a", Recipient: rcpt, Size: size}
}

// TestLateEventsEveryType feeds each correlation type the same events in
// time order and with one of them arriving late (within the default 2m
// lateness, after an event of its group that lies more than Span after
// it), and expects the same, hand-computed alerts both ways.
func TestLateEventsEveryType(t *testing.T) {
	a := []schema.Field{field("src_ip")}
	type ev struct {
		sec  int
		rcpt string
		size int64
		slot int
	}
	for _, tc := range []struct {
		name string
		spec Spec
		// in time order; the event at index late comes last when late
		events []ev
		late   int
		want   string
	}{
		// gte 3 in 60s: 0, 40, 50 fire at 50; 120 is alone.
		{"event_count", Spec{Type: EventCount, Cond: Cond{Gte: f(3)}},
			[]ev{{0, "", 1, 0}, {40, "", 1, 0}, {50, "", 1, 0}, {120, "", 1, 0}}, 1,
			"[map[src_ip:a] 3 0s..50s]"},
		// 3 distinct recipients in 60s: x, y, z by 50.
		{"value_count", Spec{Type: ValueCount, Field: field("recipient"), Cond: Cond{Gte: f(3)}},
			[]ev{{0, "x", 1, 0}, {40, "y", 1, 0}, {50, "z", 1, 0}, {120, "w", 1, 0}}, 1,
			"[map[src_ip:a] 3 0s..50s]"},
		// size sum gte 90 in 60s: 10+40+40 at 50; 120 adds 1.
		{"value_sum", Spec{Type: ValueSum, Field: field("size"), Cond: Cond{Gte: f(90)}},
			[]ev{{0, "", 10, 0}, {40, "", 40, 0}, {50, "", 40, 0}, {120, "", 1, 0}}, 1,
			"[map[src_ip:a] 90 0s..50s]"},
		// All three rules within 60s, in any order: by 50.
		{"temporal", Spec{Type: Temporal, Slots: []int{0, 1, 2}, Cond: Cond{Gte: f(3)}},
			[]ev{{0, "", 1, 0}, {40, "", 1, 1}, {50, "", 1, 2}, {120, "", 1, 0}}, 1,
			"[map[src_ip:a] 3 0s..50s]"},
		// Rules 0, 1, 2 in this order within 60s: by 50.
		{"temporal_ordered", Spec{Type: TemporalOrdered, Slots: []int{0, 1, 2}, Cond: Cond{Gte: f(3)}},
			[]ev{{0, "", 1, 0}, {40, "", 1, 1}, {50, "", 1, 2}, {120, "", 1, 0}}, 1,
			"[map[src_ip:a] 3 0s..50s]"},
		// Tumbling, lt 3: windows [0,60] (0, 50) and [70,130] (70).
		{"event_count lt", Spec{Type: EventCount, Cond: Cond{Lt: f(3)}},
			[]ev{{0, "", 1, 0}, {50, "", 1, 0}, {70, "", 1, 0}}, 1,
			"[map[src_ip:a] 2 0s..50s][map[src_ip:a] 1 1m10s..1m10s]"},
		// Average size gte 30: (1+61)/2 in [0,60]; 10 in [70,130].
		{"value_avg", Spec{Type: ValueAvg, Field: field("size"), Cond: Cond{Gte: f(30)}},
			[]ev{{0, "", 1, 0}, {50, "", 61, 0}, {70, "", 10, 0}}, 1,
			"[map[src_ip:a] 31 0s..50s]"},
		// At most 2 distinct recipients per window: {x, y}, then {z}.
		{"value_count lte", Spec{Type: ValueCount, Field: field("recipient"), Cond: Cond{Lte: f(2)}},
			[]ev{{0, "x", 1, 0}, {50, "y", 1, 0}, {70, "z", 1, 0}}, 1,
			"[map[src_ip:a] 2 0s..50s][map[src_ip:a] 1 1m10s..1m10s]"},
		// Windowed Rego: every window is a Result with its events.
		{"collect", Spec{Type: Collect},
			[]ev{{0, "", 1, 0}, {50, "", 1, 0}, {70, "", 1, 0}}, 1,
			"[map[src_ip:a] 2 0s..50s][map[src_ip:a] 1 1m10s..1m10s]"},
	} {
		sp := tc.spec
		sp.ID, sp.GroupBy, sp.Span = "r", a, time.Minute
		if sp.Slots == nil {
			sp.Slots = []int{0}
		}
		mk := func(x ev) step { return step{sized(x.sec, x.rcpt, x.size), []int{sp.Slots[x.slot]}} }
		var inOrder, late []step
		for i, x := range tc.events {
			inOrder = append(inOrder, mk(x))
			if i != tc.late {
				late = append(late, mk(x))
			}
		}
		late = append(late, mk(tc.events[tc.late]))
		for _, order := range []struct {
			name  string
			steps []step
		}{{"in order", inOrder}, {"late", late}} {
			s := New([]Spec{sp}, Options{})
			got := run(s, order.steps)
			if summary(got) != tc.want {
				t.Errorf("%s, %s:\n got %s\nwant %s", tc.name, order.name, summary(got), tc.want)
			}
			if s.Stats.Late != 0 {
				t.Errorf("%s, %s: %d late", tc.name, order.name, s.Stats.Late)
			}
			for _, r := range got {
				if len(r.Events) != r.Count && sp.Type != ValueSum && sp.Type != ValueAvg {
					t.Errorf("%s, %s: %d events for count %d", tc.name, order.name, len(r.Events), r.Count)
				}
				for i := 1; i < len(r.Events); i++ {
					if r.Events[i].Time.Before(r.Events[i-1].Time) {
						t.Errorf("%s, %s: events out of time order", tc.name, order.name)
					}
				}
			}
		}
	}
}

// TestLateBeyondSpanTumbling: with a lateness longer than the span, a late
// event that would stretch a tumbling window past its span is counted as
// late, not counted in a window it does not fit.
func TestLateBeyondSpanTumbling(t *testing.T) {
	s := New([]Spec{byIP(EventCount, Cond{Lt: f(5)}, time.Minute)}, Options{Lateness: 5 * time.Minute})
	// [100,150]; 80 would make it 70s long; 110 fits.
	got := run(s, []step{{ev(100, "a", ""), []int{0}}, {ev(150, "a", ""), []int{0}}, {ev(80, "a", ""), []int{0}}, {ev(110, "a", ""), []int{0}}})
	if want := "[map[src_ip:a] 3 1m40s..2m30s]"; summary(got) != want || s.Stats.Late != 1 {
		t.Errorf("got %s, %d late; want %s, 1 late", summary(got), s.Stats.Late, want)
	}
}

// TestLateEventExtendsTumblingWindow: a late event just before a group's
// window (after the previous one) opens it earlier, as it would have in
// time order; the window then ends Span after it.
func TestLateEventExtendsTumblingWindow(t *testing.T) {
	s := New([]Spec{byIP(EventCount, Cond{Lt: f(5)}, time.Minute)}, Options{})
	// In order: 90 opens [90,150] with 100 and 140; 155 opens the next.
	got := run(s, []step{{ev(100, "a", ""), []int{0}}, {ev(140, "a", ""), []int{0}}, {ev(90, "a", ""), []int{0}}, {ev(155, "a", ""), []int{0}}})
	if want := "[map[src_ip:a] 3 1m30s..2m20s][map[src_ip:a] 1 2m35s..2m35s]"; summary(got) != want {
		t.Errorf("got %s want %s", summary(got), want)
	}
}

// TestZeroTimeEvents: an event without a time is counted at the watermark.
func TestZeroTimeEvents(t *testing.T) {
	s := New([]Spec{byIP(EventCount, Cond{Gte: f(2)}, time.Minute)}, Options{})
	noTime := ev(0, "a", "")
	noTime.Time = time.Time{}
	got := run(s, []step{{ev(100, "a", ""), []int{0}}, {noTime, []int{0}}})
	if want := "[map[src_ip:a] 2 1m40s..1m40s]"; summary(got) != want {
		t.Errorf("got %s want %s", summary(got), want)
	}
}

// TestTumblingValueCountBounded: a tumbling value_count keeps no more
// distinct values than its condition can use (lt 10: eleven, one past the
// bound), however many
// come in one window, and its entries hold no events.
func TestTumblingValueCountBounded(t *testing.T) {
	spec := Spec{ID: "r", Type: ValueCount, Slots: []int{0}, GroupBy: []schema.Field{field("src_ip")},
		Field: field("recipient"), Span: time.Hour, Cond: Cond{Lt: f(10)}}
	s := New([]Spec{spec}, Options{})
	var steps []step
	for i := range 10_000 {
		steps = append(steps, step{ev(i/10, "a", fmt.Sprint("r", i)), []int{0}})
	}
	if got := observe(s, steps); len(got) != 0 {
		t.Fatalf("alerts %s", summary(got))
	}
	w := s.Groups["r"]["a"].Windows[0]
	if len(w.Entries) != 11 || w.N != 10_000 {
		t.Errorf("window holds %d values of %d events, want 11 of 10000", len(w.Entries), w.N)
	}
	for _, e := range w.Entries {
		if e.Event != nil {
			t.Fatal("a tumbling entry holds its event")
		}
	}
	if got := run(s, nil); len(got) != 0 {
		t.Errorf("10000 distinct values alerted as fewer than 10: %s", summary(got))
	}
}

// TestRisingEntriesBounded: a value that comes again and again keeps at
// most two entries per span, and dropped entries leave no event behind in
// the group's slice.
func TestRisingEntriesBounded(t *testing.T) {
	spec := Spec{ID: "r", Type: ValueCount, Slots: []int{0}, GroupBy: []schema.Field{field("src_ip")},
		Field: field("recipient"), Span: time.Minute, Cond: Cond{Gte: f(3)}}
	s := New([]Spec{spec}, Options{Lateness: -1})
	for i := range 1000 {
		s.Observe(ev(i, "a", "same"), []int{0}, func(Result) { t.Fatal("one value alerted") })
	}
	g := s.Groups["r"]["a"]
	if len(g.Entries) > 2 {
		t.Errorf("%d entries for one value", len(g.Entries))
	}
	for _, e := range g.Entries[len(g.Entries):cap(g.Entries)] {
		if e.Event != nil {
			t.Fatal("a dropped entry still holds its event")
		}
	}
}

// TestExpiryEveryType: whatever the type, groups are deleted once their
// windows can no longer receive an event, so a long stream of ever new
// groups holds about those of the last Span+Lateness (here 3 minutes of
// one new client a second), chained specs included.
func TestExpiryEveryType(t *testing.T) {
	ip := []schema.Field{field("src_ip")}
	// inner: 2 events of a client; outer: inner's alert, then an event
	// of that client (the third).
	chained := Spec{ID: "inner", Type: EventCount, Slots: []int{0}, GroupBy: ip, Span: time.Minute, Cond: Cond{Gte: f(2)}, Chained: true, ResultSlot: 1}
	outer := Spec{ID: "outer", Type: TemporalOrdered, Slots: []int{1, 0}, Span: time.Minute, Cond: Cond{Gte: f(2)},
		Names: []string{"src_ip"}, Keys: map[int][]Key{0: {{Field: field("src_ip")}}, 1: {{Name: "src_ip"}}}}
	for _, tc := range []struct {
		name    string
		specs   []Spec
		results int // per client
	}{
		{"event_count", []Spec{byIP(EventCount, Cond{Gte: f(1000)}, time.Minute)}, 0},
		{"event_count lt", []Spec{byIP(EventCount, Cond{Lt: f(4)}, time.Minute)}, 1},
		{"value_count", []Spec{{ID: "r", Type: ValueCount, Slots: []int{0}, GroupBy: ip, Field: field("recipient"), Span: time.Minute, Cond: Cond{Gte: f(1000)}}}, 0},
		{"value_count lte", []Spec{{ID: "r", Type: ValueCount, Slots: []int{0}, GroupBy: ip, Field: field("recipient"), Span: time.Minute, Cond: Cond{Lte: f(1)}}}, 0},
		{"value_sum", []Spec{{ID: "r", Type: ValueSum, Slots: []int{0}, GroupBy: ip, Field: field("size"), Span: time.Minute, Cond: Cond{Gte: f(1e12)}}}, 0},
		{"value_avg", []Spec{{ID: "r", Type: ValueAvg, Slots: []int{0}, GroupBy: ip, Field: field("size"), Span: time.Minute, Cond: Cond{Gte: f(1)}}}, 1},
		{"temporal", []Spec{{ID: "r", Type: Temporal, Slots: []int{0, 1}, GroupBy: ip, Span: time.Minute, Cond: Cond{Gte: f(2)}}}, 0},
		{"collect", []Spec{{ID: "r", Type: Collect, Slots: []int{0}, GroupBy: ip, Span: time.Minute}}, 1},
		{"chain", []Spec{chained, outer}, 2},
	} {
		s := New(tc.specs, Options{})
		results, maxLen := 0, 0
		emit := func(Result) { results++ }
		const clients = 10_000
		for i := range 3 * clients {
			// Each client sends three events within two seconds.
			sec := i / 3
			s.Observe(ev(sec, fmt.Sprint(sec), fmt.Sprint("r", i)), []int{0}, emit)
			if i%500 == 0 {
				maxLen = max(maxLen, s.Len())
			}
		}
		s.Flush(emit)
		if maxLen > 250*len(tc.specs) || s.Len() != 0 {
			t.Errorf("%s: held up to %d groups, %d after Flush", tc.name, maxLen, s.Len())
		}
		if s.Stats.Expired != int64(clients*len(tc.specs)) || results != tc.results*clients {
			t.Errorf("%s: %d groups expired, %d results; want %d and %d", tc.name, s.Stats.Expired, results, clients*len(tc.specs), tc.results*clients)
		}
	}
}

// TestSpanBoundaryEveryType: windows are inclusive at both ends. Client a
// has events at 0, 30 and exactly 60 (Span after the first: one window);
// client b, interleaved, at 1, 31 and 62 (61s after its first: two
// windows). Sizes 10, 10, 40; recipients x, y, z; rules 0, 1, 2.
func TestSpanBoundaryEveryType(t *testing.T) {
	ip := []schema.Field{field("src_ip")}
	rcpt, size := field("recipient"), field("size")
	for _, tc := range []struct {
		name string
		spec Spec
		want string
	}{
		{"event_count", Spec{Type: EventCount, Cond: Cond{Gte: f(3)}}, "[map[src_ip:a] 3 0s..1m0s]"},
		{"value_count", Spec{Type: ValueCount, Field: rcpt, Cond: Cond{Gte: f(3)}}, "[map[src_ip:a] 3 0s..1m0s]"},
		{"value_sum", Spec{Type: ValueSum, Field: size, Cond: Cond{Gte: f(60)}}, "[map[src_ip:a] 60 0s..1m0s]"},
		{"temporal", Spec{Type: Temporal, Slots: []int{0, 1, 2}, Cond: Cond{Gte: f(3)}}, "[map[src_ip:a] 3 0s..1m0s]"},
		{"temporal_ordered", Spec{Type: TemporalOrdered, Slots: []int{0, 1, 2}, Cond: Cond{Gte: f(3)}}, "[map[src_ip:a] 3 0s..1m0s]"},
		{"event_count eq", Spec{Type: EventCount, Cond: Cond{Eq: f(3)}}, "[map[src_ip:a] 3 0s..1m0s]"},
		{"value_count eq", Spec{Type: ValueCount, Field: rcpt, Cond: Cond{Eq: f(3)}}, "[map[src_ip:a] 3 0s..1m0s]"},
		// a: (10+10+40)/3 = 20; b: 10 in [1,61], then 40 in [62,122].
		{"value_avg", Spec{Type: ValueAvg, Field: size, Cond: Cond{Gte: f(20)}}, "[map[src_ip:a] 20 0s..1m0s][map[src_ip:b] 40 1m2s..1m2s]"},
		{"collect", Spec{Type: Collect}, "[map[src_ip:a] 3 0s..1m0s][map[src_ip:b] 2 1s..31s][map[src_ip:b] 1 1m2s..1m2s]"},
	} {
		sp := tc.spec
		sp.ID, sp.GroupBy, sp.Span = "r", ip, time.Minute
		slot := func(int) int { return 0 }
		if sp.Slots == nil {
			sp.Slots = []int{0}
		} else {
			slot = func(i int) int { return sp.Slots[i] }
		}
		var steps []step
		for i, x := range []struct {
			sec int
			ip  string
		}{{0, "a"}, {1, "b"}, {30, "a"}, {31, "b"}, {60, "a"}, {62, "b"}} {
			e := &schema.Event{Time: t0.Add(time.Duration(x.sec) * time.Second), SrcIP: x.ip,
				Recipient: []string{"x", "y", "z"}[i/2], Size: []int64{10, 10, 40}[i/2]}
			steps = append(steps, step{e, []int{slot(i / 2)}})
		}
		if got := summary(run(New([]Spec{sp}, Options{}), steps)); got != tc.want {
			t.Errorf("%s:\n got %s\nwant %s", tc.name, got, tc.want)
		}
	}
}

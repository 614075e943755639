package window

import (
	"fmt"
	"testing"
	"time"

	"github.com/detect-dev/detect/schema"
)

var t0 = time.Date(2026, 11, 28, 5, 0, 0, 0, time.UTC)

func f(v float64) *float64 { return &v }

func field(name string) schema.Field {
	fl, ok := schema.LookupField(name)
	if !ok {
		panic(name)
	}
	return fl
}

// ev is an event at t0+sec seconds from src_ip ip with recipient rcpt.
func ev(sec int, ip, rcpt string) *schema.Event {
	return &schema.Event{Time: t0.Add(time.Duration(sec) * time.Second), SrcIP: ip, Recipient: rcpt, Size: int64(sec + 1)}
}

type step struct {
	e     *schema.Event
	slots []int
}

func run(s *State, steps []step) []Result {
	out := observe(s, steps)
	s.Flush(func(r Result) { out = append(out, r) })
	return out
}

func observe(s *State, steps []step) []Result {
	var out []Result
	emit := func(r Result) { out = append(out, r) }
	for _, st := range steps {
		s.Observe(st.e, st.slots, emit)
	}
	return out
}

func summary(rs []Result) string {
	var s string
	for _, r := range rs {
		s += fmt.Sprintf("[%v %d %s..%s]", r.Group, r.Count, r.Start.Sub(t0), r.End.Sub(t0))
	}
	return s
}

func byIP(typ string, cond Cond, span time.Duration) Spec {
	return Spec{ID: "r", Type: typ, Slots: []int{0}, GroupBy: []schema.Field{field("src_ip")}, Span: span, Cond: cond}
}

func TestEventCountBoundaryInclusive(t *testing.T) {
	// 3 events in 10m: at 0s, 300s and exactly 600s. The last is at the
	// span boundary, so it is in the window of the first: one alert.
	s := New([]Spec{byIP(EventCount, Cond{Gte: f(3)}, 10*time.Minute)}, Options{})
	got := run(s, []step{{ev(0, "a", ""), []int{0}}, {ev(300, "a", ""), []int{0}}, {ev(600, "a", ""), []int{0}}})
	if want := "[map[src_ip:a] 3 0s..10m0s]"; summary(got) != want {
		t.Errorf("got %s want %s", summary(got), want)
	}
	// One second later the first event has left the window: no alert.
	s = New([]Spec{byIP(EventCount, Cond{Gte: f(3)}, 10*time.Minute)}, Options{})
	got = run(s, []step{{ev(0, "a", ""), []int{0}}, {ev(300, "a", ""), []int{0}}, {ev(601, "a", ""), []int{0}}})
	if len(got) != 0 {
		t.Errorf("got %s want none", summary(got))
	}
}

func TestEventCountOneAlertPerWindowAndGroupsInterleaved(t *testing.T) {
	// gt 2 in 60s. Group a: 0,10,20 fire at 20 (count 3, start 0), then
	// 30,40 are within the window that alerted (quiet until 60) and are
	// not counted; 70,80,90 fire again (start 70). Group b interleaved:
	// 5, 15 (2, not > 2), 100 (15 and 5 left the window): no alert.
	// Slot 1 events (another rule) are ignored.
	s := New([]Spec{byIP(EventCount, Cond{Gt: f(2)}, time.Minute)}, Options{})
	var steps []step
	for _, x := range []struct {
		sec int
		ip  string
	}{{0, "a"}, {5, "b"}, {10, "a"}, {15, "b"}, {20, "a"}, {30, "a"}, {40, "a"}, {70, "a"}, {80, "a"}, {90, "a"}, {100, "b"}} {
		steps = append(steps, step{ev(x.sec, x.ip, ""), []int{0}})
	}
	steps = append(steps, step{ev(101, "b", ""), []int{1}}, step{ev(102, "b", ""), []int{1}})
	got := run(s, steps)
	if want := "[map[src_ip:a] 3 0s..20s][map[src_ip:a] 3 1m10s..1m30s]"; summary(got) != want {
		t.Errorf("got %s want %s", summary(got), want)
	}
	if len(got[0].Events) != 3 || got[0].Events[2].Time != t0.Add(20*time.Second) {
		t.Errorf("events %v", got[0].Events)
	}
}

func TestLateEvents(t *testing.T) {
	// gte 3 in 60s, lateness 2m. Events at 200, 210, then 150 arrives 60s
	// late (within lateness) but is 60s before 210: window [150,210] holds
	// three: alert, start 150. An event 121s behind the watermark is
	// dropped and counted.
	s := New([]Spec{byIP(EventCount, Cond{Gte: f(3)}, time.Minute)}, Options{})
	got := run(s, []step{{ev(200, "a", ""), []int{0}}, {ev(210, "a", ""), []int{0}}, {ev(150, "a", ""), []int{0}}})
	if want := "[map[src_ip:a] 3 2m30s..3m30s]"; summary(got) != want {
		t.Errorf("got %s want %s", summary(got), want)
	}
	s = New([]Spec{byIP(EventCount, Cond{Gte: f(2)}, time.Hour)}, Options{})
	got = run(s, []step{{ev(200, "a", ""), []int{0}}, {ev(79, "a", ""), []int{0}}})
	if len(got) != 0 || s.Stats.Late != 1 {
		t.Errorf("got %s late %d, want none and 1 late", summary(got), s.Stats.Late)
	}
}

func TestValueCount(t *testing.T) {
	// Distinct recipients by src_ip, gte 3 in 10m. a: x, x, y, X (same as
	// x), z at 700s: the first x (0s) left but the third x (30s) and y
	// (20s)... are within [100,700]? No: window is newest-10m = 100s, so
	// x@30 and y@20 left; only z: no alert at 700. b: p q r within 60s:
	// alert with count 3. Events without a recipient are not counted.
	// Without lateness no later event can reach back before 100s, so a
	// keeps z alone.
	spec := Spec{ID: "r", Type: ValueCount, Slots: []int{0}, GroupBy: []schema.Field{field("src_ip")},
		Field: field("recipient"), Span: 10 * time.Minute, Cond: Cond{Gte: f(3)}}
	s := New([]Spec{spec}, Options{Lateness: -1})
	got := observe(s, []step{
		{ev(0, "a", "x"), []int{0}}, {ev(10, "a", "x"), []int{0}}, {ev(20, "a", "y"), []int{0}},
		{ev(30, "a", "X"), []int{0}}, {ev(31, "a", ""), []int{0}}, {ev(40, "b", "p"), []int{0}},
		{ev(50, "b", "q"), []int{0}}, {ev(60, "b", "q"), []int{0}}, {ev(100, "b", "r"), []int{0}},
		{ev(700, "a", "z"), []int{0}},
	})
	if want := "[map[src_ip:b] 3 40s..1m40s]"; summary(got) != want {
		t.Errorf("got %s want %s", summary(got), want)
	}
	if n := len(s.Groups["r"]["a"].Entries); n != 1 {
		t.Errorf("group a holds %d entries, want 1 (z)", n)
	}
}

func TestTemporalAndOrdered(t *testing.T) {
	// Rules 0 then 1 within 60s, grouped by src_ip. a: 1 at 0s, 0 at 10s,
	// 1 at 20s: temporal fires at 10s (both seen), ordered at 20s (0 then
	// 1). b: 0 at 0, 1 at 61: both too far apart.
	specs := []Spec{
		{ID: "t", Type: Temporal, Slots: []int{0, 1}, GroupBy: []schema.Field{field("src_ip")}, Span: time.Minute, Cond: Cond{Gte: f(2)}},
		{ID: "o", Type: TemporalOrdered, Slots: []int{0, 1}, GroupBy: []schema.Field{field("src_ip")}, Span: time.Minute, Cond: Cond{Gte: f(2)}},
	}
	s := New(specs, Options{})
	got := run(s, []step{
		{ev(0, "a", ""), []int{1}}, {ev(0, "b", ""), []int{0}}, {ev(10, "a", ""), []int{0}},
		{ev(20, "a", ""), []int{1}}, {ev(61, "b", ""), []int{1}},
	})
	var sum string
	for _, r := range got {
		sum += fmt.Sprintf("%s:%s ", s.Specs[r.Spec].ID, summary([]Result{r}))
	}
	if want := "t:[map[src_ip:a] 2 0s..10s] o:[map[src_ip:a] 2 10s..20s] "; sum != want {
		t.Errorf("got  %s\nwant %s", sum, want)
	}
}

func TestTumblingConditions(t *testing.T) {
	// lt 3 in 60s per src_ip, decided when the window closes: a has 2
	// events in [0,60] (alert when 100 arrives), then 3 in [100,160]
	// (none); b has 1 at flush (alert). value_avg of size (sec+1) gte 15:
	// a's first window averages (1+31)/2 = 16, its second (101+111+121)/3
	// = 111, b's 131. Windows stay open until the watermark passes their
	// end plus the lateness (2m), so here Flush closes them all: by rule,
	// then group key, then time.
	specs := []Spec{
		byIP(EventCount, Cond{Lt: f(3)}, time.Minute),
		{ID: "avg", Type: ValueAvg, Slots: []int{0}, GroupBy: []schema.Field{field("src_ip")}, Field: field("size"), Span: time.Minute, Cond: Cond{Gte: f(15)}},
	}
	s := New(specs, Options{})
	got := run(s, []step{
		{ev(0, "a", ""), []int{0}}, {ev(30, "a", ""), []int{0}}, {ev(100, "a", ""), []int{0}},
		{ev(110, "a", ""), []int{0}}, {ev(120, "a", ""), []int{0}}, {ev(130, "b", ""), []int{0}},
	})
	var sum string
	for _, r := range got {
		sum += fmt.Sprintf("%s:%s ", s.Specs[r.Spec].ID, summary([]Result{r}))
	}
	want := "r:[map[src_ip:a] 2 0s..30s] r:[map[src_ip:b] 1 2m10s..2m10s] avg:[map[src_ip:a] 16 0s..30s] avg:[map[src_ip:a] 111 1m40s..2m0s] avg:[map[src_ip:b] 131 2m10s..2m10s] "
	if sum != want {
		t.Errorf("got  %s\nwant %s", sum, want)
	}
}

func TestMemoryBoundedAndGroupCap(t *testing.T) {
	// 300k events from 100k rotating IPs over ~3.5 days of event
	// time: groups expire after span+lateness, so few are held at once.
	s := New([]Spec{byIP(EventCount, Cond{Gte: f(1000)}, time.Minute)}, Options{MaxGroups: 5000})
	emit := func(Result) {}
	maxLen := 0
	for i := range 300_000 {
		s.Observe(ev(i, fmt.Sprint(i%100_000), ""), []int{0}, emit)
		if i%1000 == 0 && s.Len() > maxLen {
			maxLen = s.Len()
		}
	}
	if maxLen > 5000 {
		t.Errorf("held %d groups", maxLen)
	}
	if s.Stats.Overflow != 0 {
		t.Errorf("overflow %d", s.Stats.Overflow)
	}
	// All in one second: the cap is hit and counted.
	s = New([]Spec{byIP(EventCount, Cond{Gte: f(1000)}, time.Minute)}, Options{MaxGroups: 10})
	for i := range 20 {
		s.Observe(ev(0, fmt.Sprint(i), ""), []int{0}, emit)
	}
	if s.Len() != 10 || s.Stats.Overflow != 10 {
		t.Errorf("len %d overflow %d", s.Len(), s.Stats.Overflow)
	}
}

func TestSuppressRising(t *testing.T) {
	// gte 2 in 60s by src_ip. a: 0,10 | 100,110 | 300,310 | 311,320;
	// b: 105,115 interleaved.
	// Default (quiet until start+span): a alerts at [0..10], quiet to 60;
	// [100..110], quiet to 160; [300..310], quiet to 360, so 311 and 320
	// are not counted. b alerts at [105..115].
	// Suppress 5m (quiet until end+300s): a alerts at [0..10], quiet to
	// 310, so 100..310 are not counted (310 is not after 310); 311 and 320
	// alert. b is suppressed on its own clock only.
	var steps []step
	for _, x := range []struct {
		sec int
		ip  string
	}{{0, "a"}, {10, "a"}, {100, "a"}, {105, "b"}, {110, "a"}, {115, "b"}, {300, "a"}, {310, "a"}, {311, "a"}, {320, "a"}} {
		steps = append(steps, step{ev(x.sec, x.ip, ""), []int{0}})
	}
	for _, tc := range []struct {
		suppress time.Duration
		want     string
	}{
		{0, "[map[src_ip:a] 2 0s..10s][map[src_ip:a] 2 1m40s..1m50s][map[src_ip:b] 2 1m45s..1m55s][map[src_ip:a] 2 5m0s..5m10s]"},
		{5 * time.Minute, "[map[src_ip:a] 2 0s..10s][map[src_ip:b] 2 1m45s..1m55s][map[src_ip:a] 2 5m11s..5m20s]"},
	} {
		s := New([]Spec{byIP(EventCount, Cond{Gte: f(2)}, time.Minute)}, Options{Suppress: tc.suppress})
		if got := summary(run(s, steps)); got != tc.want {
			t.Errorf("suppress %v:\n got %s\nwant %s", tc.suppress, got, tc.want)
		}
	}
}

func TestSuppressTumbling(t *testing.T) {
	// lt 3 in 60s by src_ip: every window of a alerts when it closes.
	// Events of z feed another rule (slot 1) and only move the watermark
	// (lateness 2m, sweeps every 60s of event time).
	//   a@0     window [0,60]
	//   z@200   sweep, limit 80: a's window closes, alerts (end 0)
	//   z@400   sweep
	//   a@410   window [410,470]
	//   z@700   sweep, limit 580: a's window closes (end 410)
	//   z@800   sweep, limit 680
	//   a@810   window [810,870], closed by Flush (end 810)
	// Without suppression: three alerts. Suppress 10m: after the alert
	// ending at 0, a is quiet until 600; the group is kept, empty, through
	// the sweeps at 200 and 400 so the window ending at 410 is suppressed;
	// at 800 (limit 680 > 600) it is deleted, and 810 alerts again.
	steps := []step{
		{ev(0, "a", ""), []int{0}}, {ev(200, "z", ""), []int{1}}, {ev(400, "z", ""), []int{1}},
		{ev(410, "a", ""), []int{0}}, {ev(700, "z", ""), []int{1}}, {ev(800, "z", ""), []int{1}},
		{ev(810, "a", ""), []int{0}},
	}
	for _, tc := range []struct {
		suppress time.Duration
		want     string
		expired  int64
	}{
		{0, "[map[src_ip:a] 1 0s..0s][map[src_ip:a] 1 6m50s..6m50s][map[src_ip:a] 1 13m30s..13m30s]", 3},
		{10 * time.Minute, "[map[src_ip:a] 1 0s..0s][map[src_ip:a] 1 13m30s..13m30s]", 2},
	} {
		s := New([]Spec{byIP(EventCount, Cond{Lt: f(3)}, time.Minute)}, Options{Suppress: tc.suppress})
		if got := summary(run(s, steps)); got != tc.want {
			t.Errorf("suppress %v:\n got %s\nwant %s", tc.suppress, got, tc.want)
		}
		if s.Stats.Expired != tc.expired {
			t.Errorf("suppress %v: %d groups expired, want %d", tc.suppress, s.Stats.Expired, tc.expired)
		}
	}
	// Windows closed by the group's own next event: a@0, 100, 200, 300 in
	// [0,60] [100,160] [200,260] [300,360]; suppress 150s: alerts end 0
	// (quiet to 150), 100 suppressed, 200 alerts (quiet to 350), 300
	// suppressed at Flush.
	s := New([]Spec{byIP(EventCount, Cond{Lt: f(3)}, time.Minute)}, Options{Suppress: 150 * time.Second})
	got := summary(run(s, []step{{ev(0, "a", ""), []int{0}}, {ev(100, "a", ""), []int{0}}, {ev(200, "a", ""), []int{0}}, {ev(300, "a", ""), []int{0}}}))
	if want := "[map[src_ip:a] 1 0s..0s][map[src_ip:a] 1 3m20s..3m20s]"; got != want {
		t.Errorf("own events:\n got %s\nwant %s", got, want)
	}
}

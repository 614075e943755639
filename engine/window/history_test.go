package window

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/detect-dev/detect/schema"
)

// pasts prints a Result's history as [start..end count sum] from t0.
func pasts(ps []Past) string {
	var b strings.Builder
	for _, p := range ps {
		fmt.Fprintf(&b, "[%s..%s %d %g]", p.Start.Sub(t0), p.End.Sub(t0), p.Count, p.Sum)
	}
	return b.String()
}

// TestCollectSumAndHistory: a Collect spec with Sums and History 2 (span
// 60s, lateness 2m: a window closes 180s after it opened). Client a:
//
//	W1 0 (10), 30 (20)         count 2, sum 30, history none
//	W2 100 (5)                 sum 5, history W1
//	W3 200 (7), 250 (no size), 210 late (8)
//	                           count 3, sum 15, history W2 W1
//	W4 320 (1)                 sum 1, history W3 W2 (two at most)
//
// b at 321 (1000) has its own window. z at 520 moves the watermark so W4
// and b's window close (by key: a, then b); z at 600 (limit 480) finds a
// without windows for longer than History*Span (W4 ended 320, 320+120 <
// 480): a is forgotten, and its window at 610 has no history. Flush
// closes the rest by key: a, then z's two windows.
func TestCollectSumAndHistory(t *testing.T) {
	sp := Spec{ID: "r", Type: Collect, Slots: []int{0}, GroupBy: []schema.Field{field("src_ip")}, Span: time.Minute,
		Field: field("size"), Sums: true, History: 2}
	s := New([]Spec{sp}, Options{})
	var steps []step
	for _, x := range []struct {
		sec  int
		ip   string
		size int64
	}{{0, "a", 10}, {30, "a", 20}, {100, "a", 5}, {200, "a", 7}, {250, "a", 0}, {210, "a", 8}, {320, "a", 1}, {321, "b", 1000},
		{520, "z", 2}, {600, "z", 3}, {610, "a", 4}} {
		e := ev(x.sec, x.ip, "")
		e.Size = x.size
		steps = append(steps, step{e, []int{0}})
	}
	var got []string
	for _, r := range run(s, steps) {
		got = append(got, fmt.Sprintf("%s sum %g history %s", summary([]Result{r}), r.Sum, pasts(r.History)))
	}
	want := []string{
		"[map[src_ip:a] 2 0s..30s] sum 30 history ",
		"[map[src_ip:a] 1 1m40s..1m40s] sum 5 history [0s..30s 2 30]",
		"[map[src_ip:a] 3 3m20s..4m10s] sum 15 history [1m40s..1m40s 1 5][0s..30s 2 30]",
		"[map[src_ip:a] 1 5m20s..5m20s] sum 1 history [3m20s..4m10s 3 15][1m40s..1m40s 1 5]",
		"[map[src_ip:b] 1 5m21s..5m21s] sum 1000 history ",
		"[map[src_ip:a] 1 10m10s..10m10s] sum 4 history ",
		"[map[src_ip:z] 1 8m40s..8m40s] sum 2 history ",
		"[map[src_ip:z] 1 10m0s..10m0s] sum 3 history [8m40s..8m40s 1 2]",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if s.Stats.Expired != 4 { // a (at 600), then a, b and z at Flush
		t.Errorf("%d groups expired, want 4", s.Stats.Expired)
	}
}

// TestCollectHistoryBoundsAndExpiry: a day-long Collect with History 14
// remembers the last 14 windows however long a client sends, keeps an
// idle client for 14 days after its last window (so its history survives
// a week's pause), and forgets it after that.
func TestCollectHistoryBoundsAndExpiry(t *testing.T) {
	day := 24 * time.Hour
	sp := Spec{ID: "r", Type: Collect, Slots: []int{0}, GroupBy: []schema.Field{field("src_ip")}, Span: day, History: 14}
	s := New([]Spec{sp}, Options{})
	var last Result
	emit := func(r Result) {
		if r.Group["src_ip"] == "a" {
			last = r
		}
	}
	at := func(d time.Duration, ip string) *schema.Event { return &schema.Event{Time: t0.Add(d), SrcIP: ip} }
	// One event a day and a minute for 30 days: windows 0..29.
	step := day + time.Minute
	for i := range 30 {
		s.Observe(at(time.Duration(i)*step, "a"), []int{0}, emit)
	}
	// Client z moves the watermark through a week of a's silence: window
	// 29 closes, with windows 28 down to 15 as its history.
	s.Observe(at(36*day, "z"), []int{0}, emit)
	if last.Start != t0.Add(29*step) || len(last.History) != 14 ||
		last.History[0].Start != t0.Add(28*step) || last.History[13].Start != t0.Add(15*step) {
		t.Fatalf("window at %v: history %s", last.Start.Sub(t0), pasts(last.History))
	}
	if g := s.Groups["r"]["a"]; g == nil || len(g.History) != 14 {
		t.Fatal("a's history was dropped during a week's pause")
	}
	// a comes back after the pause: its window's history starts with
	// window 29.
	s.Observe(at(37*day, "a"), []int{0}, emit)
	s.Observe(at(39*day, "z"), []int{0}, emit)
	if last.Start != t0.Add(37*day) || len(last.History) != 14 || last.History[0].Start != t0.Add(29*step) {
		t.Fatalf("after the pause: window at %v, history %s", last.Start.Sub(t0), pasts(last.History))
	}
	// 14 days after its last window ended (its one event, at 37 days),
	// a is forgotten: still there when the watermark minus the lateness
	// is a minute short of it, gone a minute past it.
	s.Observe(at(51*day+time.Minute, "z"), []int{0}, emit)
	if s.Groups["r"]["a"] == nil {
		t.Fatal("a forgotten before 14 days")
	}
	s.Observe(at(51*day+3*time.Minute, "z"), []int{0}, emit)
	if s.Groups["r"]["a"] != nil {
		t.Error("a outlived its history")
	}
}

// TestCollectMinHistory: with MinHistory 2 (History 3, span 60s, lateness
// 2m) a's windows W1 (0, 10) and W2 (100) are remembered without a Result
// and hold no events while open (they are never judged); W3 (200) and W4
// (300) have two and three earlier windows: their Results list their
// events and history.
func TestCollectMinHistory(t *testing.T) {
	sp := Spec{ID: "r", Type: Collect, Slots: []int{0}, GroupBy: []schema.Field{field("src_ip")}, Span: time.Minute,
		Field: field("size"), Sums: true, History: 3, MinHistory: 2, Keep: 5}
	s := New([]Spec{sp}, Options{})
	var got []string
	emit := func(r Result) {
		got = append(got, fmt.Sprintf("%s %d events, history %s", summary([]Result{r}), len(r.Events), pasts(r.History)))
	}
	held := func() (n []int) {
		for _, w := range s.Groups["r"]["a"].Windows {
			n = append(n, len(w.First))
		}
		return n
	}
	for _, x := range []struct {
		sec  int
		size int64
		held string // events held by a's open windows after x
	}{{0, 1, "[0]"}, {10, 2, "[0]"}, {100, 4, "[0 0]"}, {200, 8, "[0 1]"}, {300, 16, "[1 1]"}} {
		e := ev(x.sec, "a", "")
		e.Size = x.size
		s.Observe(e, []int{0}, emit)
		if h := fmt.Sprint(held()); h != x.held {
			t.Errorf("after %ds: open windows hold %s events, want %s", x.sec, h, x.held)
		}
	}
	s.Flush(emit)
	want := []string{
		"[map[src_ip:a] 1 3m20s..3m20s] 1 events, history [1m40s..1m40s 1 4][0s..10s 2 3]",
		"[map[src_ip:a] 1 5m0s..5m0s] 1 events, history [3m20s..3m20s 1 8][1m40s..1m40s 1 4][0s..10s 2 3]",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

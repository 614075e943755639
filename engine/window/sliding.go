package window

import (
	"math"
	"slices"
	"sort"
	"time"
)

// Point is one counted event of a rising event_count or value_sum group:
// its time in Unix nanoseconds and the running sum of the values of the
// group's points up to and including it. A window's sum is then the
// difference of two running sums, found by binary search, instead of a
// loop over the window's events on every arrival; and a point holds no
// event, so a day-long window costs 16 bytes per event it counts, not the
// event.
type Point struct {
	At  int64
	Sum float64
}

// sliding reports whether the spec keeps Points (rather than Entries) in
// rising mode: the measures that need only how many events, or their sum.
func (sp *Spec) sliding() bool {
	return sp.Type == EventCount || sp.Type == ValueSum
}

// nanos is t in Unix nanoseconds, clamped to the int64 range (the zero
// time, which counts events without a time before any has one, becomes
// math.MinInt64 and back again).
func nanos(t time.Time) int64 {
	switch {
	case t.IsZero() || t.Before(minTime):
		return math.MinInt64
	case t.After(maxTime):
		return math.MaxInt64
	}
	return t.UnixNano()
}

var (
	minTime = time.Unix(0, math.MinInt64)
	maxTime = time.Unix(0, math.MaxInt64)
)

// fromNanos is the time of a Point, in UTC like the parsers' event times.
func fromNanos(n int64) time.Time {
	if n == math.MinInt64 {
		return time.Time{}
	}
	return time.Unix(0, n).UTC()
}

// minus and plus move a point's time by d without overflowing.
func minus(n int64, d time.Duration) int64 {
	if n < math.MinInt64+int64(d) {
		return math.MinInt64
	}
	return n - int64(d)
}

func plus(n int64, d time.Duration) int64 {
	if n > math.MaxInt64-int64(d) {
		return math.MaxInt64
	}
	return n + int64(d)
}

// prefix is the running sum of the group's points before index i.
func (g *Group) prefix(i int) float64 {
	if i == 0 {
		return 0
	}
	return g.Points[i-1].Sum
}

// dropPoints forgets the points at or before bound (inclusive: after an
// alert) or before it, and the kept events among them. Dropping moves
// Head; the slice is compacted once half of it is dead (and shrunk when
// mostly unused), so dropping costs O(1) per point over time and the
// running sums are rebased to stay small.
func (g *Group) dropPoints(bound int64, inclusive bool) {
	live := g.Points[g.Head:]
	stays := func(i int) bool { return live[i].At > bound || (!inclusive && live[i].At == bound) }
	if len(live) > 0 && stays(0) {
		return // the usual case: nothing has expired since the last event
	}
	n := sort.Search(len(live), stays)
	g.Head += n
	k := 0
	for k < len(g.Kept) && (nanos(g.Kept[k].Time) < bound || (inclusive && nanos(g.Kept[k].Time) == bound)) {
		k++
	}
	g.Kept = slices.Delete(g.Kept, 0, k)
	switch {
	case g.Head == len(g.Points):
		g.Points, g.Head = g.Points[:0], 0
		if cap(g.Points) > 1024 {
			g.Points = nil // a burst's backing array
		}
	case g.Head > 16 && 2*g.Head >= len(g.Points):
		base := g.prefix(g.Head)
		rest := g.Points[g.Head:]
		if cap(g.Points) > 1024 && 4*len(rest) < cap(g.Points) {
			g.Points = make([]Point, len(rest), 2*len(rest))
		} else {
			g.Points = g.Points[:len(rest)]
		}
		for i, p := range rest { // copy runs front to back: overlap is safe
			g.Points[i] = Point{At: p.At, Sum: p.Sum - base}
		}
		g.Head = 0
	}
}

// insertPoint counts a value at time at, after the points of equal time
// (input order breaks ties), and returns its index.
func (g *Group) insertPoint(at int64, num float64) int {
	if n := len(g.Points); n == g.Head || g.Points[n-1].At <= at {
		if g.Points == nil {
			g.Points = make([]Point, 0, 4) // most groups count a few events
		}
		g.Points = append(g.Points, Point{At: at, Sum: g.prefix(n) + num})
		return n
	}
	live := g.Points[g.Head:]
	i := g.Head + sort.Search(len(live), func(i int) bool { return live[i].At > at })
	// A late event: the running sums after it grow by its value.
	g.Points = slices.Insert(g.Points, i, Point{At: at, Sum: g.prefix(i) + num})
	for j := i + 1; j < len(g.Points); j++ {
		g.Points[j].Sum += num
	}
	return i
}

// keepEvent adds ent to kept, the events an alert of the group can list: the
// first MaxEvents of the points it holds and the latest MaxEvents, by
// time. The first ones are a burst's start; when they have expired (a
// group that counted for longer than Span), the latest ones are those
// that led to the alert. Kept is sorted, so the one to forget when it is
// over 2*keep long is in the middle.
func keepEvent(kept []Entry, ent Entry, keep int) []Entry {
	if kept == nil {
		kept = make([]Entry, 0, min(4, 2*keep)) // most groups count a few events
	}
	at := len(kept)
	for at > 0 && kept[at-1].Time.After(ent.Time) {
		at--
	}
	kept = slices.Insert(kept, at, ent)
	if len(kept) > 2*keep {
		kept = slices.Delete(kept, keep, keep+1)
	}
	return kept
}

// addSliding counts ent in g's sliding windows (event_count, value_sum)
// and alerts on the first window holding it whose measure satisfies the
// condition: the same windows and alerts as addRising, on points.
func (s *State) addSliding(si int, g *Group, ent Entry, emit func(Result)) {
	sp := &s.Specs[si]
	reach, ok := s.reach(sp, g, ent.Time)
	if !ok {
		return
	}
	g.dropPoints(nanos(reach), false)
	t := nanos(ent.Time)
	g.insertPoint(t, ent.Num)
	g.Kept = keepEvent(g.Kept, ent, s.Opt.MaxEvents)
	lo, hi, v, ok := s.firstSliding(sp, g, t)
	if !ok {
		return
	}
	r := s.result(si, g.Values, v, fromNanos(g.Points[lo].At), fromNanos(g.Points[hi-1].At))
	for _, k := range g.Kept {
		if len(r.Events) == s.Opt.MaxEvents {
			break
		}
		if !k.Time.Before(r.Start) && !k.Time.After(r.End) {
			r.Events = append(r.Events, k.Event)
		}
	}
	g.Quiet = s.quietAfter(sp, r)
	g.dropPoints(nanos(g.Quiet), true)
	emit(r)
}

// firstSliding is firstAlert on points: the first window [end-Span, end]
// holding the point at t whose measure satisfies the condition, end being
// t or a later point's time within Span of it. The window holds
// g.Points[lo:hi]; its measure is hi-lo points or the difference of two
// running sums.
func (s *State) firstSliding(sp *Spec, g *Group, t int64) (lo, hi int, v float64, ok bool) {
	ps := g.Points
	from := minus(t, sp.Span)
	lo = g.Head + sort.Search(len(ps)-g.Head, func(i int) bool { return ps[g.Head+i].At >= from })
	hi = len(ps)
	if ps[hi-1].At > t { // t is late
		hi = lo + sort.Search(len(ps)-lo, func(i int) bool { return ps[lo+i].At > t })
	}
	last := plus(t, sp.Span)
	for {
		if sp.Type == ValueSum {
			v = g.prefix(hi) - g.prefix(lo)
		} else {
			v = float64(hi - lo)
		}
		if sp.Cond.Holds(v) {
			return lo, hi, v, true
		}
		if hi == len(ps) || ps[hi].At > last {
			return 0, 0, 0, false
		}
		end := ps[hi].At
		for hi < len(ps) && ps[hi].At <= end {
			hi++
		}
		for ps[lo].At < minus(end, sp.Span) {
			lo++
		}
	}
}

package query

import (
	"sort"
	"strconv"
	"strings"
	"time"
)

// spanSpec is a timechart bucket size. Buckets are aligned in UTC: fixed
// spans to the Unix epoch (so 1h buckets start on the hour and 1d buckets
// at midnight UTC), weeks to Monday 00:00 UTC, months to the first of the
// month.
type spanSpec struct {
	secs   int64 // fixed spans
	months int64 // calendar spans
	text   string
}

func (s spanSpec) isZero() bool { return s.secs == 0 && s.months == 0 }

const week = 7 * 86400

// mondayOffset shifts Unix time so that weeks start on Monday (1970-01-01
// was a Thursday).
const mondayOffset = 3 * 86400

func parseSpan(s string) (spanSpec, bool) {
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	n, err := strconv.ParseInt(s[:i], 10, 64)
	if i == 0 || err != nil || n <= 0 || n > 1e6 {
		return spanSpec{}, false
	}
	unit := strings.ToLower(s[i:])
	var secs int64
	switch unit {
	case "s", "sec", "secs", "second", "seconds":
		secs = 1
	case "m", "min", "mins", "minute", "minutes":
		secs = 60
	case "h", "hr", "hrs", "hour", "hours":
		secs = 3600
	case "d", "day", "days":
		secs = 86400
	case "w", "week", "weeks":
		secs = week
	case "mon", "month", "months":
		return spanSpec{months: n, text: s}, true
	default:
		return spanSpec{}, false
	}
	return spanSpec{secs: n * secs, text: s}, true
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

// bucket returns the index of the bucket holding t (Unix nanoseconds).
func (s spanSpec) bucket(t int64) int64 {
	sec := floorDiv(t, 1e9)
	if s.months > 0 {
		tm := time.Unix(sec, 0).UTC()
		m := int64(tm.Year()-1970)*12 + int64(tm.Month()-1)
		return floorDiv(m, s.months)
	}
	if s.secs%week == 0 {
		return floorDiv(sec+mondayOffset, s.secs)
	}
	return floorDiv(sec, s.secs)
}

// start returns the start of bucket i in Unix nanoseconds.
func (s spanSpec) start(i int64) int64 {
	if s.months > 0 {
		m := i * s.months
		y := 1970 + floorDiv(m, 12)
		mon := m - floorDiv(m, 12)*12
		return time.Date(int(y), time.Month(mon+1), 1, 0, 0, 0, 0, time.UTC).UnixNano()
	}
	if s.secs%week == 0 {
		return (i*s.secs - mondayOffset) * 1e9
	}
	return i * s.secs * 1e9
}

// autoSpans are the spans timechart picks from when none is given: the
// smallest that keeps the chart within maxAutoBuckets buckets. Each nests in
// the next, so buckets can be merged as the time range grows.
var autoSpans = []spanSpec{
	{secs: 1, text: "1s"}, {secs: 5, text: "5s"}, {secs: 10, text: "10s"}, {secs: 30, text: "30s"},
	{secs: 60, text: "1m"}, {secs: 300, text: "5m"}, {secs: 600, text: "10m"}, {secs: 1800, text: "30m"},
	{secs: 3600, text: "1h"}, {secs: 86400, text: "1d"}, {months: 1, text: "1mon"},
}

const maxAutoBuckets = 100

// maxFilledBuckets bounds the rows timechart fills with zeros.
const maxFilledBuckets = 1_000_000

type tcSeries struct {
	val     Value
	null    bool
	buckets map[int64][]aggState
}

type timechartStage struct {
	c       *timechartCmd
	aggs    []aggFn
	by      *ref
	span    spanSpec
	auto    int // index into autoSpans when the span is automatic, else -1
	series  map[string]*tcSeries
	null    *tcSeries
	minT    int64
	maxT    int64
	any     bool
	scratch []Value
	vals    []Value
	next    stage
}

func newTimechartStage(c *timechartCmd, aggs []aggFn, by *ref, next stage) *timechartStage {
	t := &timechartStage{c: c, aggs: aggs, by: by, span: c.bucket, auto: -1, series: map[string]*tcSeries{}, next: next}
	if c.bucket.isZero() {
		t.auto = 0
		t.span = autoSpans[0]
	}
	return t
}

func (t *timechartStage) states(s *tcSeries, b int64) []aggState {
	st, ok := s.buckets[b]
	if !ok {
		st = make([]aggState, len(t.aggs))
		for i := range t.aggs {
			st[i] = t.aggs[i].newState()
		}
		s.buckets[b] = st
	}
	return st
}

func (t *timechartStage) seriesFor(v Value) *tcSeries {
	k := v.key()
	s, ok := t.series[k]
	if !ok {
		s = &tcSeries{val: cloneValue(v), buckets: map[int64][]aggState{}}
		t.series[strings.Clone(k)] = s
	}
	return s
}

func (t *timechartStage) push(r *record) bool {
	ts, ok := r.time()
	if !ok {
		return true
	}
	if !t.any {
		t.minT, t.maxT, t.any = ts, ts, true
	} else {
		t.minT, t.maxT = min(t.minT, ts), max(t.maxT, ts)
	}
	if t.auto >= 0 {
		t.coarsen()
	}
	b := t.span.bucket(ts)
	if t.by == nil {
		t.scratch = feed(t.aggs, t.states(t.seriesFor(Value{}), b), r, t.scratch)
		return true
	}
	t.vals = r.values(t.by, t.vals[:0])
	if len(t.vals) == 0 {
		if !t.c.useNull {
			return true
		}
		if t.null == nil {
			t.null = &tcSeries{null: true, buckets: map[int64][]aggState{}}
		}
		t.scratch = feed(t.aggs, t.states(t.null, b), r, t.scratch)
		return true
	}
	for i, v := range t.vals {
		dup := false
		for _, w := range t.vals[:i] {
			if w.key() == v.key() {
				dup = true
			}
		}
		if !dup {
			t.scratch = feed(t.aggs, t.states(t.seriesFor(v), b), r, t.scratch)
		}
	}
	return true
}

// coarsen widens an automatic span until the time range fits in
// maxAutoBuckets buckets, merging the buckets already filled.
func (t *timechartStage) coarsen() {
	old := t.span
	for t.auto < len(autoSpans)-1 && t.span.bucket(t.maxT)-t.span.bucket(t.minT)+1 > maxAutoBuckets {
		t.auto++
		t.span = autoSpans[t.auto]
	}
	if t.span == old {
		return
	}
	all := make([]*tcSeries, 0, len(t.series)+1)
	for _, s := range t.series {
		all = append(all, s)
	}
	if t.null != nil {
		all = append(all, t.null)
	}
	for _, s := range all {
		merged := make(map[int64][]aggState, len(s.buckets))
		for b, st := range s.buckets {
			nb := t.span.bucket(old.start(b))
			if cur, ok := merged[nb]; ok {
				for i := range cur {
					cur[i].merge(st[i])
				}
			} else {
				merged[nb] = st
			}
		}
		s.buckets = merged
	}
}

func (t *timechartStage) done() {
	defer t.next.done()
	if !t.any {
		return
	}
	first, last := t.span.bucket(t.minT), t.span.bucket(t.maxT)

	// The series shown: all without by; with by, the limit largest by
	// the sum of their values over every bucket, the rest folded into
	// OTHER (Splunk's agg=sum ranking).
	var shown []*tcSeries
	var other *tcSeries
	if t.by == nil {
		for _, s := range t.series {
			shown = append(shown, s)
		}
	} else {
		ranked := make([]*tcSeries, 0, len(t.series))
		score := map[*tcSeries]float64{}
		for _, s := range t.series {
			ranked = append(ranked, s)
			var sum float64
			for _, st := range s.buckets {
				if n, ok := st[0].result().Float(); ok {
					sum += n
				}
			}
			score[s] = sum
		}
		sort.Slice(ranked, func(i, j int) bool {
			if score[ranked[i]] != score[ranked[j]] {
				return score[ranked[i]] > score[ranked[j]]
			}
			return compareAuto(ranked[i].val, ranked[j].val) < 0
		})
		shown = ranked
		if t.c.limit > 0 && len(ranked) > t.c.limit {
			shown = ranked[:t.c.limit]
			if t.c.useOther {
				other = &tcSeries{buckets: map[int64][]aggState{}}
				for _, s := range ranked[t.c.limit:] {
					for b, st := range s.buckets {
						cur := t.states(other, b)
						for i := range cur {
							cur[i].merge(st[i])
						}
					}
				}
			}
		}
		sort.Slice(shown, func(i, j int) bool { return compareAuto(shown[i].val, shown[j].val) < 0 })
		if t.null != nil {
			shown = append(shown, t.null)
		}
		if other != nil {
			shown = append(shown, other)
		}
	}

	cols := []string{"_time"}
	if t.by == nil {
		for _, a := range t.aggs {
			cols = append(cols, a.out)
		}
	} else {
		for _, s := range shown {
			switch {
			case s == other:
				cols = append(cols, t.c.otherStr)
			case s.null:
				cols = append(cols, t.c.nullStr)
			default:
				cols = append(cols, s.val.Text(" "))
			}
		}
	}
	hdr := newHeader(cols)
	zero := t.aggs[0].zeroFilled()
	emit := func(b int64) bool {
		row := make([]Value, 0, len(cols))
		row = append(row, timeNanos(t.span.start(b)))
		for _, s := range shown {
			st, ok := s.buckets[b]
			for i, a := range t.aggs {
				switch {
				case ok:
					row = append(row, st[i].result())
				case a.zeroFilled() && (t.by == nil || zero):
					row = append(row, Num(0))
				default:
					row = append(row, Value{})
				}
			}
		}
		return t.next.push(&record{row: row, hdr: hdr})
	}
	// Empty buckets are filled between the first and the last event, unless
	// a stray timestamp makes that range absurdly long.
	if t.c.cont && last-first < maxFilledBuckets {
		for b := first; b <= last; b++ {
			if !emit(b) {
				return
			}
		}
		return
	}
	seen := map[int64]bool{}
	for _, s := range shown {
		for b := range s.buckets {
			seen[b] = true
		}
	}
	bs := make([]int64, 0, len(seen))
	for b := range seen {
		bs = append(bs, b)
	}
	sort.Slice(bs, func(i, j int) bool { return bs[i] < bs[j] })
	for _, b := range bs {
		if !emit(b) {
			return
		}
	}
}

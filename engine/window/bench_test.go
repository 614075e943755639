package window

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/detect-dev/detect/schema"
)

// BenchmarkObserve feeds 1000 clients' events, one a second, to the
// correlation types of the shipped rules, in time order and with every
// third event 30s late.
func BenchmarkObserve(b *testing.B) {
	ip := []schema.Field{field("src_ip")}
	specs := []Spec{
		{ID: "count", Type: EventCount, Slots: []int{0}, GroupBy: ip, Span: 10 * time.Minute, Cond: Cond{Gte: f(100)}},
		{ID: "values", Type: ValueCount, Slots: []int{0}, GroupBy: ip, Field: field("recipient"), Span: time.Hour, Cond: Cond{Gte: f(50)}},
		{ID: "sum", Type: ValueSum, Slots: []int{0}, GroupBy: ip, Field: field("size"), Span: 24 * time.Hour, Cond: Cond{Gte: f(1e12)}},
	}
	events := make([]*schema.Event, 100_000)
	for i := range events {
		events[i] = &schema.Event{Time: t0.Add(time.Duration(i) * time.Second), SrcIP: fmt.Sprint(i % 1000), Recipient: fmt.Sprint("r", i%37), Size: 1000}
	}
	for _, late := range []bool{false, true} {
		b.Run(fmt.Sprint("late=", late), func(b *testing.B) {
			emit := func(Result) {}
			for b.Loop() {
				s := New(specs, Options{})
				for i, e := range events {
					if late && i%3 == 0 {
						e = &schema.Event{Time: e.Time.Add(-30 * time.Second), SrcIP: e.SrcIP, Recipient: e.Recipient, Size: e.Size}
					}
					s.Observe(e, []int{0}, emit)
				}
			}
		})
	}
}

// delivery is one outbound message of sendTraffic.
type delivery struct {
	at     time.Time
	sender string
	size   int64
}

// sendTraffic is a day and a half of outbound mail: n deliveries from 2000
// senders, a few of them busy (sender 2000u³ for u uniform in [0,1), so
// sender 0 sends a tenth of the mail), sizes 1 kB to 200 kB, every tenth
// event up to a minute late. Seeded: the same traffic every run.
func sendTraffic(n int) []delivery {
	rng := rand.New(rand.NewPCG(1, 2))
	out := make([]delivery, n)
	step := 36 * time.Hour / time.Duration(n)
	for i := range out {
		u := rng.Float64()
		at := t0.Add(time.Duration(i) * step)
		if i%10 == 0 {
			at = at.Add(-time.Duration(rng.Int64N(int64(time.Minute))))
		}
		out[i] = delivery{at: at, sender: fmt.Sprintf("s%d@corp.example", int(2000*u*u*u)), size: 1000 + rng.Int64N(199_000)}
	}
	return out
}

// event makes the delivery's event afresh, as a parser would: what a
// window keeps of it is all that stays alive after Observe.
func (d delivery) event() *schema.Event {
	return &schema.Event{Time: d.at, EventType: "delivery", Action: "delivered", Sender: d.sender,
		Recipient: "someone@elsewhere.example", Relay: "mx.elsewhere.example[192.0.2.1]:25", Size: d.size,
		Host: "mx1", Product: "postfix", Process: "postfix/smtp", QueueID: "4NxMj75bWFz9tR2", SourceFile: "mail.log"}
}

// BenchmarkSliding compares the rising event_count and value_sum of Points
// (new) with the Entries they replaced (old, legacySliding below) on the
// same traffic in the same run: a day-long value_sum by sender that never
// fires (the outbound volume rule of before, every event kept a day) and
// a 10-minute event_count by sender (sender burst). ns/op is per event;
// retained-B/event is the heap the state holds after the traffic, per
// event fed.
func BenchmarkSliding(b *testing.B) {
	traffic := sendTraffic(200_000)
	by := []schema.Field{field("sender")}
	for _, sp := range []Spec{
		{ID: "sum", Type: ValueSum, Slots: []int{0}, GroupBy: by, Field: field("size"), Span: 24 * time.Hour, Cond: Cond{Gte: f(1e15)}},
		{ID: "count", Type: EventCount, Slots: []int{0}, GroupBy: by, Span: 10 * time.Minute, Cond: Cond{Gte: f(500)}},
	} {
		for _, impl := range []string{"old", "new"} {
			b.Run(sp.ID+"/"+impl, func(b *testing.B) {
				feed := func() any {
					emit := func(Result) {}
					if impl == "old" {
						l := newLegacySliding(sp, Options{})
						for _, d := range traffic {
							l.observe(d.event(), emit)
						}
						return l
					}
					s := New([]Spec{sp}, Options{})
					for _, d := range traffic {
						s.Observe(d.event(), []int{0}, emit)
					}
					return s
				}
				for b.Loop() {
					feed()
				}
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(traffic)), "ns/event")
				var ms runtime.MemStats
				runtime.GC()
				runtime.ReadMemStats(&ms)
				before := ms.HeapAlloc
				state := feed()
				runtime.GC()
				runtime.ReadMemStats(&ms)
				b.ReportMetric(float64(ms.HeapAlloc-min(before, ms.HeapAlloc))/float64(len(traffic)), "retained-B/event")
				runtime.KeepAlive(state)
			})
		}
	}
}

// legacySliding is how rising event_count and value_sum were counted
// before Points, kept as the baseline of BenchmarkSliding and the
// reference of TestSlidingMatchesLegacy: one spec, every counted event an
// Entry holding its event for Span+Lateness, and every arrival tallying
// the window it ends anew. (No expiry of idle groups, no chains.)
type legacySliding struct {
	sp        Spec
	opt       Options
	watermark time.Time
	groups    map[string]*legacyGroup
	nextSweep time.Time
}

type legacyGroup struct {
	values  []string
	entries []Entry
	quiet   time.Time
	latest  time.Time
}

// sweep deletes the groups no window can reach any more, as State did.
func (l *legacySliding) sweep() {
	limit := l.watermark.Add(-l.opt.Lateness)
	var done []string
	for key, g := range l.groups {
		if g.latest.Add(l.sp.Span).Before(limit) && g.quiet.Before(limit) {
			done = append(done, key)
		}
	}
	sort.Strings(done)
	for _, key := range done {
		delete(l.groups, key)
	}
}

func newLegacySliding(sp Spec, opt Options) *legacySliding {
	s := New([]Spec{sp}, opt) // the same defaults
	return &legacySliding{sp: sp, opt: s.Opt, groups: map[string]*legacyGroup{}}
}

func (l *legacySliding) observe(e *schema.Event, emit func(Result)) {
	sp := &l.sp
	t := e.Time
	if t.IsZero() {
		t = l.watermark
	}
	if !l.watermark.IsZero() && t.Before(l.watermark.Add(-l.opt.Lateness)) {
		return
	}
	if t.After(l.watermark) {
		l.watermark = t
	}
	if !l.watermark.Before(l.nextSweep) {
		defer func() {
			l.sweep()
			l.nextSweep = l.watermark.Add(min(time.Minute, l.sp.Span))
		}()
	}
	ent := Entry{Time: t, Event: e}
	if sp.Type == ValueSum {
		n, ok := e.Number(sp.Field)
		if !ok {
			return
		}
		ent.Num = n
	}
	vals := make([]string, len(sp.GroupBy))
	for i, fl := range sp.GroupBy {
		vals[i] = e.Str(fl)
	}
	key := strings.Join(vals, "\x1f")
	g := l.groups[key]
	if g == nil {
		g = &legacyGroup{values: vals, latest: t}
		l.groups[key] = g
	}
	if t.After(g.latest) {
		g.latest = t
	}
	if !g.quiet.IsZero() && !t.After(g.quiet) {
		return
	}
	horizon := l.watermark.Add(-l.opt.Lateness)
	if t.Before(horizon) {
		horizon = t
	}
	old := 0
	for old < len(g.entries) && g.entries[old].Time.Before(horizon.Add(-sp.Span)) {
		old++
	}
	g.entries = slices.Delete(g.entries, 0, old)
	at := len(g.entries)
	for at > 0 && g.entries[at-1].Time.After(t) {
		at--
	}
	g.entries = slices.Insert(g.entries, at, ent)
	es := g.entries
	value := func(x Entry) float64 {
		if sp.Type == EventCount {
			return 1
		}
		return x.Num
	}
	lo := sort.Search(len(es), func(i int) bool { return !es[i].Time.Before(t.Add(-sp.Span)) })
	hi := sort.Search(len(es), func(i int) bool { return es[i].Time.After(t) })
	v := 0.0
	for _, x := range es[lo:hi] {
		v += value(x)
	}
	for {
		if sp.Cond.Holds(v) {
			r := Result{Group: map[string]string{}, Count: int(math.Round(v)), Value: v, Start: es[lo].Time, End: es[hi-1].Time}
			for i, fl := range sp.GroupBy {
				r.Group[fl.Name()] = g.values[i]
			}
			for i := lo; i < hi && len(r.Events) < l.opt.MaxEvents; i++ {
				r.Events = append(r.Events, es[i].Event)
			}
			g.quiet = r.Start.Add(sp.Span)
			if l.opt.Suppress > 0 {
				g.quiet = r.End.Add(l.opt.Suppress)
			}
			quiet := 0
			for quiet < len(g.entries) && !g.entries[quiet].Time.After(g.quiet) {
				quiet++
			}
			g.entries = slices.Delete(g.entries, 0, quiet)
			emit(r)
			return
		}
		if hi == len(es) || es[hi].Time.After(t.Add(sp.Span)) {
			return
		}
		end := es[hi].Time
		for hi < len(es) && !es[hi].Time.After(end) {
			v += value(es[hi])
			hi++
		}
		for es[lo].Time.Before(end.Add(-sp.Span)) {
			v -= value(es[lo])
			lo++
		}
	}
}

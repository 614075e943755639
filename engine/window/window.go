// Package window evaluates stateful (correlation) rules on event time.
//
// A State holds, for each correlation Spec, one Group per group-by key. It is
// fed every event in input order together with the slots (referenced base
// rules) that event matched, so the same input gives the same results
// whatever the number of workers that computed the matches.
//
// Two evaluation modes exist:
//
//   - Rising conditions (gt, gte, or a range with only a lower bound, on a
//     measure that can only grow as events arrive: event_count, value_count,
//     value_sum of non-negative values, temporal, temporal_ordered) use
//     sliding windows of Span, inclusive at both ends (an event exactly Span
//     after another is in the same window). On each arrival the windows
//     [end-Span, end] holding the new event are checked, end being its time
//     or, for a late event, that of a later event within Span: in time
//     order that is the one window ending at the event. When the condition
//     holds, one Result is produced and the group stays quiet (its events
//     are not counted) until Span after the window's start: one alert per
//     group and window, not one per event.
//   - Other conditions (lt, lte, eq, neq, upper-bounded ranges, value_avg)
//     use tumbling windows: an event past the group's windows opens one at
//     its time, [t, t+Span]. A window is decided when the watermark minus
//     Lateness passes its end (or at Flush), so late events still reach
//     it; a late event just before a window opens it earlier, as it would
//     have in time order. Collect specs (windowed Rego rules) are tumbling
//     too: every window is a Result holding its first MaxCollect events in
//     time order, for the rule to judge, the sum of a field over all its
//     events (Sums), and the group's previous windows (History: counts and
//     sums, newest first), so the rule can hold a window against the
//     group's own past.
//
// So events up to Lateness out of order give the alerts they give in time
// order, except when an alert they would have prevented was already raised,
// or (tumbling windows, Lateness beyond Span) a late event would stretch a
// window past Span: it is then counted in Stats.Late.
//
// Options.Suppress replaces the default quiet period: after an alert, the
// (rule, group) raises none that ends within Suppress of the alert's end
// (for Collect specs, an alert is what the rule makes of a Result: the
// caller reports it with Alerted; Silent specs, which only feed chains,
// keep the default).
// In rising mode the events of that period are not counted, so the next
// alert's window starts after it; a tumbling group whose windows closed
// while suppressed is kept, empty, until the period is over.
//
// The watermark is the latest event time seen; an event without a time is
// counted at it. Events older than the watermark minus Lateness are not
// counted (Stats.Late). A group whose windows can no longer receive an
// event expires and is deleted, so memory is bounded by the groups active
// within Span+Lateness (Collect specs with History: within History*Span
// after their last window, which the next window's history would show);
// MaxGroups caps the groups of one rule (new groups
// beyond it are dropped and counted in Stats.Overflow). A rising group
// keeps what its last Span+Lateness counted: for event_count (fewer than
// the threshold per Span) and value_sum (as many as come) a Point of 16
// bytes each, with a running sum, and the events of the first and latest
// few for the alert; for value_count and temporal the events of at most
// two occurrences per value or rule and Span; for temporal_ordered at most
// maxOrdered events. A tumbling window keeps counters, its
// first events, and for value_count the distinct values up to the point
// where its condition can no longer hold.
//
// Chains: the Results of a Chained spec are fed, as events of its
// ResultSlot, to the specs that refer to it (a Sigma correlation counting
// another's alerts), read through Keys by group member name; aliases give
// a spec per-slot Keys too. Specs come after those they refer to, so Flush
// closes a chain from its first link to its last.
//
// State is plain data keyed by rule id and group key, so it can be carried
// across rule reloads or serialized.
package window

import (
	"hash/maphash"
	"maps"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/detect-dev/detect/schema"
)

// Correlation types.
const (
	EventCount      = "event_count"
	ValueCount      = "value_count"
	ValueSum        = "value_sum"
	ValueAvg        = "value_avg"
	Temporal        = "temporal"
	TemporalOrdered = "temporal_ordered"
	// Collect gathers each group's events per tumbling window for a rule
	// that judges the window as a whole (windowed Rego): every window
	// with events is a Result, with its first MaxCollect events by time.
	Collect = "collect"
)

// Defaults.
const (
	DefaultLateness  = 2 * time.Minute
	DefaultMaxGroups = 100_000
	DefaultMaxEvents = 5
	// maxOrdered caps the entries a temporal_ordered group keeps.
	maxOrdered = 1024
	// MaxCollect caps the events a Collect window keeps (Count counts
	// them all).
	MaxCollect = 100
)

// Cond is a conjunction of comparisons on the measure; nil bounds are
// absent.
type Cond struct {
	Gt, Gte, Lt, Lte, Eq, Neq *float64
}

// Holds reports whether x satisfies every bound.
func (c Cond) Holds(x float64) bool {
	return (c.Gt == nil || x > *c.Gt) && (c.Gte == nil || x >= *c.Gte) &&
		(c.Lt == nil || x < *c.Lt) && (c.Lte == nil || x <= *c.Lte) &&
		(c.Eq == nil || x == *c.Eq) && (c.Neq == nil || x != *c.Neq)
}

// rising reports whether the condition, once true, stays true as the
// measure grows, and can be decided on arrival.
func (c Cond) rising() bool {
	return c.Lt == nil && c.Lte == nil && c.Eq == nil && c.Neq == nil && (c.Gt != nil || c.Gte != nil)
}

// Spec is one correlation rule.
type Spec struct {
	ID      string // rule id: the key of its state
	Type    string
	Slots   []int // referenced rules, in the rule's order
	GroupBy []schema.Field
	Field   schema.Field // value_* types
	Span    time.Duration
	Cond    Cond
	// Fingerprint identifies the rule's definition (its own and that of
	// the rules it refers to): NewFrom keeps a group's state across a
	// reload only when both the id and the fingerprint are unchanged.
	Fingerprint string
	// Names name the group members in Results; nil means GroupBy's field
	// names. Keys, by slot, say where each member is read for that slot's
	// events when it is not the GroupBy field (aliases, chains); a spec
	// with Names has Keys for every slot.
	Names []string
	Keys  map[int][]Key
	// Chained specs feed their Results, as events of slot ResultSlot, to
	// the specs that refer to them (correlation chains). A spec must come
	// after the specs it refers to.
	Chained    bool
	ResultSlot int
	// Silent specs only feed chains (the rule does not alert):
	// Options.Suppress, which quiets alerts, does not throttle them.
	Silent bool
	// Collect specs: Sums adds Field up over all the events of a window
	// (Result.Sum; events without it add nothing), and History keeps a
	// group's last History closed windows (Result.History) and the group
	// itself until History*Span after its last window, so a rule can
	// compare a window with the group's own past. MinHistory (at most
	// History) holds back the Results of windows with fewer earlier
	// windows: they are remembered, not judged.
	Sums       bool
	History    int
	MinHistory int
	// Keep, for Collect specs, is how many of a window's first events its
	// Result holds: MaxCollect when 0 (a rule that never reads the events
	// needs only the few its alert lists).
	Keep int
}

// Past is a closed Collect window that a group remembers (Spec.History).
type Past struct {
	Start, End time.Time
	Count      int
	Sum        float64
}

// Key is where a spec reads one group member in the events of one slot:
// the event's Field or, for the Results of a chained spec, the value of
// their group member Name (Field is then read from the group too).
type Key struct {
	Field schema.Field
	Name  string
}

// width is the number of group members.
func (sp *Spec) width() int {
	if sp.Names != nil {
		return len(sp.Names)
	}
	return len(sp.GroupBy)
}

// member reads group member i of an event (or chained Result's group) of
// slot.
func (sp *Spec) member(slot, i int, e *schema.Event, group map[string]string) string {
	if keys, ok := sp.Keys[slot]; ok {
		if keys[i].Name != "" {
			return group[keys[i].Name]
		}
		return e.Str(keys[i].Field)
	}
	return e.Str(sp.GroupBy[i])
}

func (s *Spec) rising() bool { return s.Type != ValueAvg && s.Type != Collect && s.Cond.rising() }

// Options tune a State; zero values take the defaults.
type Options struct {
	Lateness  time.Duration // negative: no lateness
	MaxGroups int
	MaxEvents int // events kept for the alert
	// Suppress is how long, in event time, a (rule, group) stays quiet
	// after it alerted: no alert of it ends before the last alert's end
	// plus Suppress. Zero keeps the default: quiet until the window that
	// alerted has passed (rising conditions), none (tumbling ones).
	Suppress time.Duration
}

// Result is one correlation firing.
type Result struct {
	Spec   int // index into the State's specs
	Group  map[string]string
	Count  int     // the measure (rounded for value_sum/value_avg)
	Value  float64 // the measure
	Start  time.Time
	End    time.Time
	Events []*schema.Event
	// Collect specs: the sum of Field over all the window's events
	// (Spec.Sums), and the group's earlier windows, newest first, at most
	// Spec.History (a group is forgotten History*Span after its last
	// window, so these are the windows of its current stretch of activity).
	Sum     float64
	History []Past

	key string // the group's key, for Alerted
}

// Entry is one counted event of a group, at the time it is counted at.
// Event is kept only where an alert may list it (rising mode, and a
// window's First).
type Entry struct {
	Time  time.Time
	Slot  int
	Value string
	Num   float64
	Event *schema.Event

	// hash is Value's (valueSeed), or 0 when not known (an Entry made
	// elsewhere): a group scans its entries for a value on every arrival,
	// and comparing hashes first spares comparing the bytes of values of
	// equal length that differ (addresses, hosts).
	hash uint64
}

// valueSeed seeds Entry.hash: one per process, so entries of every State
// (and those NewFrom carries over) compare.
var valueSeed = maphash.MakeSeed()

// Group is the state of one (rule, group key).
type Group struct {
	Values []string // group-by values, in GroupBy order
	// Rising mode: the counted events a window holding a future event may
	// still reach (those from Span before the watermark minus Lateness
	// on), by time; for value_count and temporal only the occurrences of
	// a value or rule that such a window needs. event_count and value_sum
	// keep them as Points[Head:] instead, without their events, and the
	// events of the first and latest few in Kept (see Point).
	Entries []Entry
	Points  []Point
	Head    int
	Kept    []Entry
	// Tumbling mode: the open windows, by start. A window stays open
	// until the watermark minus Lateness passes its end, so late events
	// still reach it.
	Windows []*Window
	// Quiet: no alert of the group ends at or before this time (rising
	// mode: events up to it are not counted).
	Quiet  time.Time
	Latest time.Time // latest event time of the group
	// History: a Collect group's closed windows, newest first, at most
	// Spec.History.
	History []Past

	popped uint64 // the State's dueKeys call that last took it
	gone   bool   // deleted: its queue entries are void
}

// Window is one open tumbling window of a group: [Start, Start+Span].
type Window struct {
	Start time.Time // its first event's time
	End   time.Time // its last event's time
	N     int       // events counted
	Sum   float64   // their sum (value_sum, value_avg)
	// First holds its first events by time (each with the time it was
	// counted at): MaxEvents, or MaxCollect for Collect specs.
	First []Entry
	// Entries hold what the measure needs, without events: one per
	// distinct value (value_count) or rule (temporal), the rules in time
	// order (temporal_ordered).
	Entries []Entry
}

// Stats counts what a State dropped.
type Stats struct {
	Late     int64 // events older than watermark - lateness
	Overflow int64 // events of new groups beyond MaxGroups
	Expired  int64 // groups deleted after their window
}

// State is the window state of a rule set's correlations.
type State struct {
	Specs     []Spec
	Opt       Options
	Groups    map[string]map[string]*Group // rule id -> group key -> group
	Watermark time.Time
	Stats     Stats
	// ChainEvent makes the event that stands for a chained spec's Result
	// in the windows of the specs that refer to it (their Results list
	// it); nil gives an event with only the Result's end as its time.
	ChainEvent func(Result) *schema.Event

	bySlot    map[int][]int
	queues    []dueQueue // by spec: groups by when a sweep may find them done
	pops      uint64     // dueKeys' calls: Group.popped marks the groups one took
	again     []dueEntry // dueKeys' scratch: groups taken but not done
	tally     tally
	keyBuf    []byte // add's scratch for joining group keys
	nextSweep time.Time
	sweepStep time.Duration
}

// New returns an empty State for specs.
func New(specs []Spec, opt Options) *State {
	if opt.Lateness == 0 {
		opt.Lateness = DefaultLateness
	} else if opt.Lateness < 0 {
		opt.Lateness = 0
	}
	if opt.MaxGroups <= 0 {
		opt.MaxGroups = DefaultMaxGroups
	}
	if opt.MaxEvents <= 0 {
		opt.MaxEvents = DefaultMaxEvents
	}
	s := &State{Specs: specs, Opt: opt, Groups: map[string]map[string]*Group{}, bySlot: map[int][]int{}}
	s.sweepStep = time.Minute
	for i, sp := range specs {
		s.Groups[sp.ID] = map[string]*Group{}
		seen := map[int]bool{}
		for _, slot := range sp.Slots {
			if !seen[slot] {
				seen[slot] = true
				s.bySlot[slot] = append(s.bySlot[slot], i)
			}
		}
		if sp.Span > 0 && sp.Span < s.sweepStep {
			s.sweepStep = sp.Span
		}
	}
	return s
}

// NewFrom returns a State for specs that continues prev (which may be nil):
// the groups of every spec whose ID and Fingerprint are those of a spec of
// prev are kept, as are prev's watermark and counters; other specs start
// empty, and prev's specs that are gone are dropped. prev must not be used
// afterwards, since the new State takes over its groups.
func NewFrom(specs []Spec, opt Options, prev *State) *State {
	s := New(specs, opt)
	if prev == nil {
		return s
	}
	s.Watermark, s.Stats = prev.Watermark, prev.Stats
	old := make(map[string]*Spec, len(prev.Specs))
	for i := range prev.Specs {
		old[prev.Specs[i].ID] = &prev.Specs[i]
	}
	for _, sp := range specs {
		was := old[sp.ID]
		if was == nil || was.Fingerprint != sp.Fingerprint || len(was.Slots) != len(sp.Slots) {
			continue
		}
		// Slots number the referenced rules of the whole rule set, so
		// they move when other rules come or go: renumber the entries.
		slot := make(map[int]int, len(sp.Slots))
		for i, o := range was.Slots {
			slot[o] = sp.Slots[i]
		}
		groups := prev.Groups[sp.ID]
		for _, g := range groups {
			g.popped = 0 // marks of prev's sweeps, which this State's count anew
			renumber(g.Entries, slot)
			for _, w := range g.Windows {
				renumber(w.Entries, slot)
			}
		}
		s.Groups[sp.ID] = groups
	}
	return s
}

// Observe feeds one event, in input order, with the slots it matched.
func (s *State) Observe(e *schema.Event, slots []int, emit func(Result)) {
	t := e.Time
	if t.IsZero() {
		t = s.Watermark
	}
	if !s.Watermark.IsZero() && t.Before(s.Watermark.Add(-s.Opt.Lateness)) {
		if len(slots) > 0 {
			s.Stats.Late++
		}
		return
	}
	if t.After(s.Watermark) {
		s.Watermark = t
	}
	emit = s.chain(emit)
	for _, slot := range slots {
		for _, si := range s.bySlot[slot] {
			s.add(si, slot, e, nil, t, emit)
		}
	}
	if !s.Watermark.Before(s.nextSweep) {
		s.sweep(emit, false)
		s.nextSweep = s.Watermark.Add(s.sweepStep)
	}
}

// Flush closes every open tumbling window (end of input) and emits what
// holds.
func (s *State) Flush(emit func(Result)) { s.sweep(s.chain(emit), true) }

// chain wraps emit so that the Results of chained specs are also fed to
// the specs that refer to them, in the order they are produced.
func (s *State) chain(emit func(Result)) func(Result) {
	var wrapped func(Result)
	wrapped = func(r Result) {
		emit(r)
		sp := &s.Specs[r.Spec]
		if !sp.Chained {
			return
		}
		e := &schema.Event{Time: r.End}
		if s.ChainEvent != nil {
			e = s.ChainEvent(r)
		}
		for _, si := range s.bySlot[sp.ResultSlot] {
			s.add(si, sp.ResultSlot, e, r.Group, r.End, wrapped)
		}
	}
	return wrapped
}

// Len is the number of groups held.
func (s *State) Len() int {
	n := 0
	for _, g := range s.Groups {
		n += len(g)
	}
	return n
}

func (s *State) sweep(emit func(Result), all bool) {
	limit := s.Watermark.Add(-s.Opt.Lateness)
	for si := range s.Specs {
		sp := &s.Specs[si]
		groups := s.Groups[sp.ID]
		rising := sp.rising()
		isDone := func(g *Group) bool {
			switch {
			case rising:
				return g.Latest.Add(sp.Span).Before(limit) && g.Quiet.Before(limit)
			case len(g.Windows) > 0:
				return g.Windows[0].Start.Add(sp.Span).Before(limit)
			case g.Quiet.After(limit):
				return false // empty, remembering an alert until its suppression ends
			case g.remembers(sp, limit):
				return false // empty, keeping its history for its next window
			}
			return true
		}
		var done []string
		if all {
			done = slices.Collect(maps.Keys(groups))
		} else {
			done = s.dueKeys(si, limit, isDone)
		}
		sort.Strings(done) // deterministic order of closing alerts
		for _, key := range done {
			g := groups[key]
			if !rising {
				n := 0
				for n < len(g.Windows) && (all || g.Windows[n].Start.Add(sp.Span).Before(limit)) {
					s.closeWindow(si, g, g.Windows[n], emit)
					n++
				}
				g.Windows = slices.Delete(g.Windows, 0, n)
				if len(g.Windows) > 0 || (!all && (g.Quiet.After(limit) || g.remembers(sp, limit))) {
					s.queue(si, key, g)
					continue // still open, or remembering an alert or its history
				}
			}
			g.gone = true
			delete(groups, key)
			s.Stats.Expired++
		}
	}
	if all {
		s.queues = nil // every group is gone: rebuilt if events come after
	}
}

// add counts event e of slot (group: the group of the chained Result e
// stands for, else nil) at time t.
func (s *State) add(si, slot int, e *schema.Event, group map[string]string, t time.Time, emit func(Result)) {
	sp := &s.Specs[si]
	ent := Entry{Time: t, Slot: slot}
	switch sp.Type {
	case ValueCount:
		v := e.Str(sp.Field)
		if group != nil {
			v = group[sp.Field.Name()]
		}
		if v == "" {
			return // events without the field are not counted
		}
		ent.Value = strings.ToLower(v)
		ent.hash = maphash.String(valueSeed, ent.Value)
	case ValueSum, ValueAvg:
		n, ok := e.Number(sp.Field)
		if group != nil {
			var err error
			n, err = strconv.ParseFloat(group[sp.Field.Name()], 64)
			ok = err == nil
		}
		if !ok {
			return
		}
		ent.Num = n
	case Collect:
		if sp.Sums {
			ent.Num, _ = e.Number(sp.Field) // counted without adding to the sum
		}
	}
	// The key is looked up without allocating (one member is its own
	// key; several are joined in a reused buffer, which a lookup converts
	// without copying); only a new group allocates its key and values.
	var key string
	width := sp.width()
	if width == 1 {
		key = sp.member(slot, 0, e, group)
	} else {
		buf := s.keyBuf[:0]
		for i := range width {
			if i > 0 {
				buf = append(buf, '\x1f')
			}
			buf = append(buf, sp.member(slot, i, e, group)...)
		}
		s.keyBuf = buf
	}
	groups := s.Groups[sp.ID]
	var g *Group
	if width == 1 {
		g = groups[key]
	} else {
		g = groups[string(s.keyBuf)]
	}
	created := false
	if g == nil {
		if len(groups) >= s.Opt.MaxGroups {
			s.Stats.Overflow++
			return
		}
		if width != 1 {
			key = string(s.keyBuf)
		}
		vals := make([]string, width)
		for i := range vals {
			vals[i] = sp.member(slot, i, e, group)
		}
		g = &Group{Values: vals, Latest: t}
		groups[key] = g
		created = true
	}
	if t.After(g.Latest) {
		g.Latest = t
	}
	if sp.rising() {
		ent.Event = e
		if sp.sliding() {
			s.addSliding(si, g, ent, emit)
		} else {
			s.addRising(si, g, ent, emit)
		}
		if created {
			s.queue(si, key, g) // later events only make it due later
		}
		return
	}
	if s.addTumbling(sp, g, ent, e) || created {
		if width != 1 && !created {
			key = string(s.keyBuf) // addTumbling emits nothing: keyBuf still holds the key
		}
		s.queue(si, key, g)
	}
}

// addRising counts ent in g's sliding windows and alerts on the first
// window holding it whose measure satisfies the condition (value_count,
// temporal, temporal_ordered; the others go to addSliding).
func (s *State) addRising(si int, g *Group, ent Entry, emit func(Result)) {
	sp := &s.Specs[si]
	reach, ok := s.reach(sp, g, ent.Time)
	if !ok {
		return
	}
	old := 0
	for old < len(g.Entries) && g.Entries[old].Time.Before(reach) {
		old++
	}
	g.Entries = slices.Delete(g.Entries, 0, old)
	if !insertRising(sp, g, ent) {
		return // a window holding it holds the same value or rule already
	}
	lo, hi, v, ok := s.firstAlert(sp, g.Entries, ent.Time)
	if !ok {
		return
	}
	r := s.result(si, g.Values, v, g.Entries[lo].Time, g.Entries[hi-1].Time)
	for i := lo; i < hi && len(r.Events) < s.Opt.MaxEvents; i++ {
		r.Events = append(r.Events, g.Entries[i].Event)
	}
	g.Quiet = s.quietAfter(sp, r)
	quiet := 0
	for quiet < len(g.Entries) && !g.Entries[quiet].Time.After(g.Quiet) {
		quiet++
	}
	g.Entries = slices.Delete(g.Entries, 0, quiet)
	emit(r)
}

// reach is where the windows that can hold an event of g at t, or a later
// one, start: Span before the watermark minus Lateness, or before t for
// an older chained Result (decided when its own window closed). ok is
// false when t falls in g's quiet period: in the window that alerted, or
// suppressed after it.
func (s *State) reach(sp *Spec, g *Group, t time.Time) (reach time.Time, ok bool) {
	if !g.Quiet.IsZero() && !t.After(g.Quiet) {
		return time.Time{}, false
	}
	horizon := s.Watermark.Add(-s.Opt.Lateness)
	if t.Before(horizon) {
		horizon = t
	}
	return horizon.Add(-sp.Span), true
}

// quietAfter is the end of a rising group's quiet period after alert r:
// the window that alerted, or Options.Suppress after it.
func (s *State) quietAfter(sp *Spec, r Result) time.Time {
	if s.Opt.Suppress > 0 && !sp.Silent {
		return r.End.Add(s.Opt.Suppress)
	}
	return r.Start.Add(sp.Span)
}

// insertRising puts ent into g.Entries by time (after equal times, so
// input order breaks ties) and reports whether it is kept. value_count and
// temporal then drop the occurrences of ent's value (rule) that no window
// needs: one whose neighbouring occurrences lie within Span of each other,
// since every window of Span holding it holds one of them. So a group
// keeps at most two occurrences of a value per Span, however often it
// comes, and late events still find the ones their windows hold.
func insertRising(sp *Spec, g *Group, ent Entry) bool {
	at := len(g.Entries)
	for at > 0 && g.Entries[at-1].Time.After(ent.Time) {
		at--
	}
	g.Entries = slices.Insert(g.Entries, at, ent)
	switch sp.Type {
	case TemporalOrdered:
		if len(g.Entries) > maxOrdered {
			g.Entries = slices.Delete(g.Entries, 0, 1)
			return at > 0
		}
	case ValueCount, Temporal:
		var same []int // indexes of ent's value, by time
		for i, x := range g.Entries {
			if sameKey(sp, x, ent) {
				same = append(same, i)
			}
		}
		kept := true
		for k := 1; k+1 < len(same); {
			if g.Entries[same[k+1]].Time.After(g.Entries[same[k-1]].Time.Add(sp.Span)) {
				k++
				continue
			}
			if same[k] == at {
				kept = false
			}
			g.Entries = slices.Delete(g.Entries, same[k], same[k]+1)
			for j := k + 1; j < len(same); j++ {
				same[j]--
			}
			if same[k] < at {
				at--
			}
			same = slices.Delete(same, k, k+1)
			k = max(k-1, 1)
		}
		return kept
	}
	return true
}

// sameKey reports whether two entries count as one for value_count
// (the same value) or temporal (the same rule).
func sameKey(sp *Spec, a, b Entry) bool {
	if sp.Type == Temporal {
		return a.Slot == b.Slot
	}
	if a.hash != 0 && b.hash != 0 && a.hash != b.hash {
		return false // most values differ: no bytes compared
	}
	return a.Value == b.Value
}

// firstAlert finds the first window [end-Span, end] holding the entry at t
// whose measure satisfies the condition, trying as end t and then the
// times of the later entries within Span of it (the alert the events would
// have raised had they come in time order; in order, t is the latest and
// its window the only one). The window holds es[lo:hi]. A measure only
// grows with the entries a window holds, so a window ending at t starting
// later than t-Span needs no check.
//
// Every measure here (distinct values, rules, the ordered prefix) is at
// most the number of entries the window holds, and a rising condition
// holding for a measure holds for any larger one: a window with too few
// entries to satisfy it is passed over without tallying. Most groups hold
// fewer entries than their threshold, so most arrivals tally nothing; the
// tally is built the first time a window is large enough, and then kept
// up to date as the window slides.
func (s *State) firstAlert(sp *Spec, es []Entry, t time.Time) (lo, hi int, v float64, ok bool) {
	tl := &s.tally
	tallied := false
	lo = sort.Search(len(es), func(i int) bool { return !es[i].Time.Before(t.Add(-sp.Span)) })
	hi = sort.Search(len(es), func(i int) bool { return es[i].Time.After(t) })
	for {
		if sp.Cond.Holds(float64(hi - lo)) {
			if !tallied {
				tl.reset(sp)
				for _, x := range es[lo:hi] {
					tl.add(x)
				}
				tallied = true
			}
			if v = tl.value(es[lo:hi]); sp.Cond.Holds(v) {
				if sp.Type == TemporalOrdered {
					// The window starts where the ordered chain starts.
					for lo < hi-1 && es[lo].Slot != sp.Slots[0] {
						lo++
					}
				}
				return lo, hi, v, true
			}
		}
		if hi == len(es) || es[hi].Time.After(t.Add(sp.Span)) {
			return 0, 0, 0, false
		}
		end := es[hi].Time
		for hi < len(es) && !es[hi].Time.After(end) {
			if tallied {
				tl.add(es[hi])
			}
			hi++
		}
		for es[lo].Time.Before(end.Add(-sp.Span)) {
			if tallied {
				tl.remove(es[lo])
			}
			lo++
		}
	}
}

// tally keeps the distinct values or rules of a run of entries as entries
// join and leave it, for firstAlert (one per State, reused).
//
// Values and rules are counted in maps of their own: a string key or an int
// key hashes on the runtime's fast paths, a struct of both did not.
type tally struct {
	sp     *Spec
	values map[string]int // value_count: occurrences per value
	slots  map[int]int    // temporal: occurrences per rule
}

func (tl *tally) reset(sp *Spec) {
	tl.sp = sp
	// clear would cost what the largest window ever tallied did, on
	// every event after it: a map grown large is replaced instead.
	if len(tl.values) > 512 || tl.values == nil {
		tl.values = map[string]int{}
	}
	if len(tl.slots) > 512 || tl.slots == nil {
		tl.slots = map[int]int{}
	}
	clear(tl.values)
	clear(tl.slots)
}

func (tl *tally) add(e Entry) {
	switch tl.sp.Type {
	case ValueCount:
		tl.values[e.Value]++
	case Temporal:
		tl.slots[e.Slot]++
	}
}

func (tl *tally) remove(e Entry) {
	switch tl.sp.Type {
	case ValueCount:
		if tl.values[e.Value]--; tl.values[e.Value] == 0 {
			delete(tl.values, e.Value)
		}
	case Temporal:
		if tl.slots[e.Slot]--; tl.slots[e.Slot] == 0 {
			delete(tl.slots, e.Slot)
		}
	}
}

// value is the measure of es, the entries tallied (value_count, temporal,
// temporal_ordered; event_count and value_sum slide on Points).
func (tl *tally) value(es []Entry) float64 {
	switch tl.sp.Type {
	case TemporalOrdered:
		return float64(ordered(tl.sp, es))
	case Temporal:
		return float64(len(tl.slots))
	}
	return float64(len(tl.values))
}

// addTumbling counts ent, of event e, in the open window of g its time
// falls in, opening one when it falls past them all. It reports whether
// a window opened or started earlier: g may then be due sooner.
func (s *State) addTumbling(sp *Spec, g *Group, ent Entry, e *schema.Event) (sooner bool) {
	t := ent.Time
	// The first window ending at or after t (windows do not overlap, so
	// their ends are in order like their starts).
	i := sort.Search(len(g.Windows), func(i int) bool { return !g.Windows[i].Start.Add(sp.Span).Before(t) })
	var w *Window
	switch {
	case i == len(g.Windows):
		w = &Window{Start: t, End: t}
		g.Windows = append(g.Windows, w)
		sooner = true
	case !t.Before(g.Windows[i].Start):
		w = g.Windows[i]
	case !g.Windows[i].End.After(t.Add(sp.Span)):
		// A late event between the previous window and this one: in
		// time order it would have opened this window, holding the same
		// events.
		w = g.Windows[i]
		w.Start = t
		sooner = true
	default:
		// Only when Lateness exceeds Span: a window opened at t would
		// leave out events this one holds, another would overlap it.
		s.Stats.Late++
		return false
	}
	if t.After(w.End) {
		w.End = t
	}
	w.N++
	w.Sum += ent.Num
	keep := s.Opt.MaxEvents
	if sp.Type == Collect {
		keep = MaxCollect
		if sp.Keep > 0 {
			keep = sp.Keep
		}
		// The windows before w close before it (a window only opens
		// after the others), each adding one to the history: when that
		// still leaves it under MinHistory, w is never judged and its
		// events would be held for a day for nothing.
		if len(g.History)+i < sp.MinHistory {
			keep = 0
		}
	}
	w.First = insertFirst(w.First, Entry{Time: t, Event: e}, keep)
	switch sp.Type {
	case ValueCount, Temporal:
		for _, x := range w.Entries {
			if sameKey(sp, x, ent) {
				return
			}
		}
		if n, ok := sp.Cond.saturation(); ok && len(w.Entries) >= n {
			return // the condition fails however many more values come
		}
		w.Entries = append(w.Entries, ent)
	case TemporalOrdered:
		at := len(w.Entries)
		for at > 0 && w.Entries[at-1].Time.After(t) {
			at--
		}
		w.Entries = slices.Insert(w.Entries, at, ent)
		if len(w.Entries) > maxOrdered {
			w.Entries = slices.Delete(w.Entries, 0, 1)
		}
	}
	return sooner
}

// insertFirst puts ent into es, the first events by time (ties in input
// order), keeping at most keep.
func insertFirst(es []Entry, ent Entry, keep int) []Entry {
	at := len(es)
	for at > 0 && es[at-1].Time.After(ent.Time) {
		at--
	}
	if at >= keep {
		return es
	}
	if len(es) >= keep {
		es = slices.Delete(es, len(es)-1, len(es))
	}
	return slices.Insert(es, at, ent)
}

// saturation is, for a measure that counts (distinct values, rules), the
// count from which the condition fails whatever comes next: one more than
// its smallest upper bound. ok is false when it has none.
func (c Cond) saturation() (n int, ok bool) {
	var upper *float64
	for _, b := range []*float64{c.Lt, c.Lte, c.Eq} {
		if b != nil && (upper == nil || *b < *upper) {
			upper = b
		}
	}
	if upper == nil {
		return 0, false
	}
	return max(0, int(math.Floor(*upper))+1), true
}

// closeWindow emits w's Result if the condition holds and g is not
// suppressed.
func (s *State) closeWindow(si int, g *Group, w *Window, emit func(Result)) {
	sp := &s.Specs[si]
	var history []Past
	if sp.History > 0 {
		if len(g.History) < sp.MinHistory {
			// Too little history to judge w by; under History, so
			// nothing drops out of it.
			g.History = slices.Insert(g.History, 0, w.past())
			return
		}
		history = g.remember(sp, w)
	}
	v := measure(sp, w)
	if !sp.Cond.Holds(v) {
		return
	}
	if !g.Quiet.IsZero() && !w.End.After(g.Quiet) {
		return // suppressed: the group alerted less than Suppress ago
	}
	r := s.result(si, g.Values, v, w.Start, w.End)
	r.Sum, r.History = w.Sum, history
	r.Events = make([]*schema.Event, len(w.First))
	for i, x := range w.First {
		r.Events[i] = x.Event
	}
	if s.Opt.Suppress > 0 && sp.Type != Collect && !sp.Silent {
		g.Quiet = r.End.Add(s.Opt.Suppress)
	}
	emit(r)
}

// remember adds closing window w to g's history and returns the history
// w's Result carries: the windows before it, newest first.
func (g *Group) remember(sp *Spec, w *Window) []Past {
	before := slices.Clone(g.History)
	g.History = slices.Insert(g.History[:min(len(g.History), sp.History-1)], 0, w.past())
	return before
}

// past is closed window w as its group's history remembers it.
func (w *Window) past() Past { return Past{Start: w.Start, End: w.End, Count: w.N, Sum: w.Sum} }

// remembers reports whether g, without open windows, must be kept for
// its history: a window opening now (at limit, or later) would still see
// its last one.
func (g *Group) remembers(sp *Spec, limit time.Time) bool {
	return sp.History > 0 && len(g.History) > 0 &&
		!g.History[0].End.Add(time.Duration(sp.History)*sp.Span).Before(limit)
}

// Alerted starts the suppression period (Options.Suppress) of the group of
// r, a Collect Result whose rule raised an alert on it: unlike a
// correlation's, a Collect Result is a window to judge, not an alert, so
// only the rule can say the group alerted. Call it from the emit function
// that received r.
func (s *State) Alerted(r Result) {
	if s.Opt.Suppress <= 0 || r.Spec < 0 || r.Spec >= len(s.Specs) {
		return
	}
	if g := s.Groups[s.Specs[r.Spec].ID][r.key]; g != nil && r.End.Add(s.Opt.Suppress).After(g.Quiet) {
		g.Quiet = r.End.Add(s.Opt.Suppress)
	}
}

func (s *State) result(si int, values []string, v float64, start, end time.Time) Result {
	sp := &s.Specs[si]
	group := make(map[string]string, len(values))
	for i, v := range values {
		if sp.Names != nil {
			group[sp.Names[i]] = v
		} else {
			group[sp.GroupBy[i].Name()] = v
		}
	}
	return Result{Spec: si, Group: group, Count: int(math.Round(v)), Value: v, Start: start, End: end, key: strings.Join(values, "\x1f")}
}

// measure is the value a tumbling window's condition compares.
func measure(sp *Spec, w *Window) float64 {
	switch sp.Type {
	case ValueCount, Temporal:
		return float64(len(w.Entries))
	case ValueSum:
		return w.Sum
	case ValueAvg:
		return w.Sum / float64(w.N)
	case TemporalOrdered:
		return float64(ordered(sp, w.Entries))
	}
	return float64(w.N) // event_count, collect
}

// ordered is the length of the longest prefix of the spec's rules that
// entries (by time) match in order.
func ordered(sp *Spec, es []Entry) int {
	k := 0
	for _, e := range es {
		if k < len(sp.Slots) && e.Slot == sp.Slots[k] {
			k++
		}
	}
	return k
}

// renumber moves the entries' slots to the slots of a new rule set.
func renumber(es []Entry, slot map[int]int) {
	for i := range es {
		es[i].Slot = slot[es[i].Slot]
	}
}

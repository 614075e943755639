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
//     value_sum, temporal, temporal_ordered) use a sliding window: a group
//     keeps the entries of the last Span (inclusive: an event exactly Span
//     after another is in the same window) and is checked on every arrival.
//     When the condition holds, one Result is produced, the group's entries
//     are dropped and the group stays quiet until Span after the window's
//     start (one alert per group and window, not one per event).
//   - Other conditions (lt, lte, eq, neq, upper-bounded ranges, value_avg)
//     use a tumbling window opened by the group's first event and checked
//     when it closes: when an event of the group falls past its end, when
//     the watermark passes end+Lateness, or at Flush. Collect specs
//     (windowed Rego rules) are tumbling too: every window is a Result
//     holding its first MaxCollect events in time order, for the rule to
//     judge.
//
// Options.Suppress replaces the default quiet period: after an alert, the
// (rule, group) raises none that ends within Suppress of the alert's end.
// In rising mode the events of that period are not counted, so the next
// alert's window starts after it; a tumbling group whose window closed
// while suppressed is kept, empty, until the period is over.
//
// The watermark is the latest event time seen. Events older than the
// watermark minus Lateness are not counted (Stats.Late); events within the
// lateness are inserted where their time puts them. A group whose window
// can no longer receive an event expires and is deleted, so memory is
// bounded by the groups active within Span+Lateness; MaxGroups caps the
// groups of one rule (new groups beyond it are dropped and counted in
// Stats.Overflow). In rising mode a group holds fewer entries than the
// threshold (value_count and temporal keep one entry per distinct value or
// rule), so its size does not grow with the event rate.
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
	"math"
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
}

// Entry is one counted event of a group.
type Entry struct {
	Time  time.Time
	Slot  int
	Value string
	Num   float64
	Event *schema.Event
}

// Group is the state of one (rule, group key).
type Group struct {
	Values  []string // group-by values, in GroupBy order
	Entries []Entry  // by time
	// Tumbling mode: window start, events counted, their sum, and the
	// first events (Entries then holds only what the measure needs).
	Start time.Time
	N     int
	Sum   float64
	First []*schema.Event
	// Quiet: no alert of the group ends at or before this time (rising
	// mode: events up to it are not counted).
	Quiet  time.Time
	Latest time.Time // latest event time of the group
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
			for i := range g.Entries {
				g.Entries[i].Slot = slot[g.Entries[i].Slot]
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
		var done []string
		for key, g := range groups {
			if sp.rising() {
				if all || (g.Latest.Add(sp.Span).Before(limit) && g.Quiet.Before(limit)) {
					done = append(done, key)
				}
				continue
			}
			if all || g.Start.Add(sp.Span).Before(limit) {
				done = append(done, key)
			}
		}
		sort.Strings(done) // deterministic order of closing alerts
		for _, key := range done {
			g := groups[key]
			if !sp.rising() {
				s.closeTumbling(si, g, emit)
				if !all && g.Quiet.After(limit) {
					// Still suppressed: keep the group, empty, so its
					// next window remembers the alert.
					*g = Group{Values: g.Values, Quiet: g.Quiet}
					continue
				}
			}
			delete(groups, key)
			s.Stats.Expired++
		}
	}
}

// add counts event e of slot (group: the group of the chained Result e
// stands for, else nil) at time t.
func (s *State) add(si, slot int, e *schema.Event, group map[string]string, t time.Time, emit func(Result)) {
	sp := &s.Specs[si]
	ent := Entry{Time: t, Slot: slot, Event: e}
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
	}
	vals := make([]string, sp.width())
	for i := range vals {
		vals[i] = sp.member(slot, i, e, group)
	}
	key := strings.Join(vals, "\x1f")
	groups := s.Groups[sp.ID]
	g := groups[key]
	if g == nil {
		if len(groups) >= s.Opt.MaxGroups {
			s.Stats.Overflow++
			return
		}
		g = &Group{Values: vals, Start: t}
		groups[key] = g
	}
	if sp.rising() {
		if t.After(g.Latest) {
			g.Latest = t
		}
		s.addRising(si, g, ent, emit)
		return
	}
	if t.After(g.Start.Add(sp.Span)) {
		s.closeTumbling(si, g, emit)
		*g = Group{Values: vals, Start: t, Latest: t, Quiet: g.Quiet}
	}
	if t.After(g.Latest) {
		g.Latest = t
	}
	if t.Before(g.Start) {
		g.Start = t // a late event opens the window earlier
	}
	g.N++
	g.Sum += ent.Num
	if len(g.First) < s.Opt.MaxEvents && sp.Type != Collect {
		g.First = append(g.First, e)
	}
	switch sp.Type {
	case ValueCount, Temporal, TemporalOrdered, Collect:
		insert(sp, g, ent)
	}
}

func (s *State) addRising(si int, g *Group, ent Entry, emit func(Result)) {
	sp := &s.Specs[si]
	if !ent.Time.After(g.Quiet) && !g.Quiet.IsZero() {
		return // this window already alerted
	}
	insert(sp, g, ent)
	newest := g.Entries[len(g.Entries)-1].Time
	cut := 0
	for cut < len(g.Entries) && g.Entries[cut].Time.Before(newest.Add(-sp.Span)) {
		cut++
	}
	if cut > 0 {
		g.Entries = append(g.Entries[:0], g.Entries[cut:]...)
	}
	v := measure(sp, g.Entries, len(g.Entries), sum(g.Entries))
	if !sp.Cond.Holds(v) {
		return
	}
	if sp.Type == TemporalOrdered {
		// The window starts where the ordered chain starts.
		i := 0
		for i < len(g.Entries)-1 && g.Entries[i].Slot != sp.Slots[0] {
			i++
		}
		g.Entries = g.Entries[i:]
	}
	r := s.result(si, g, v, g.Entries[0].Time, newest)
	for i := 0; i < len(g.Entries) && i < s.Opt.MaxEvents; i++ {
		r.Events = append(r.Events, g.Entries[i].Event)
	}
	g.Quiet = r.Start.Add(sp.Span)
	if s.Opt.Suppress > 0 {
		g.Quiet = r.End.Add(s.Opt.Suppress)
	}
	g.Entries = nil
	emit(r)
}

func (s *State) closeTumbling(si int, g *Group, emit func(Result)) {
	sp := &s.Specs[si]
	if g.N == 0 {
		return
	}
	v := measure(sp, g.Entries, g.N, g.Sum)
	if !sp.Cond.Holds(v) {
		return
	}
	if !g.Quiet.IsZero() && !g.Latest.After(g.Quiet) {
		return // suppressed: the group alerted less than Suppress ago
	}
	r := s.result(si, g, v, g.Start, g.Latest)
	r.Events = g.First
	if sp.Type == Collect {
		r.Events = make([]*schema.Event, len(g.Entries))
		for i, ent := range g.Entries {
			r.Events[i] = ent.Event
		}
	}
	if s.Opt.Suppress > 0 {
		g.Quiet = r.End.Add(s.Opt.Suppress)
	}
	emit(r)
}

func (s *State) result(si int, g *Group, v float64, start, end time.Time) Result {
	sp := &s.Specs[si]
	group := make(map[string]string, len(g.Values))
	for i, v := range g.Values {
		if sp.Names != nil {
			group[sp.Names[i]] = v
		} else {
			group[sp.GroupBy[i].Name()] = v
		}
	}
	return Result{Spec: si, Group: group, Count: int(math.Round(v)), Value: v, Start: start, End: end}
}

// insert puts ent into g.Entries by time (after equal times, so input
// order breaks ties), replacing the entry it supersedes for the types that
// count distinct values or rules.
func insert(sp *Spec, g *Group, ent Entry) {
	switch sp.Type {
	case ValueCount, Temporal:
		for i, x := range g.Entries {
			if (sp.Type == ValueCount && x.Value == ent.Value) || (sp.Type == Temporal && x.Slot == ent.Slot) {
				if !ent.Time.After(x.Time) {
					return // the later occurrence is already counted
				}
				g.Entries = append(g.Entries[:i], g.Entries[i+1:]...)
				break
			}
		}
	case TemporalOrdered:
		if len(g.Entries) >= maxOrdered {
			g.Entries = append(g.Entries[:0], g.Entries[1:]...)
		}
	case Collect:
		// Keep the first MaxCollect by time: a full window takes a late
		// event in place of its last one.
		if len(g.Entries) >= MaxCollect {
			if !ent.Time.Before(g.Entries[len(g.Entries)-1].Time) {
				return
			}
			g.Entries = g.Entries[:len(g.Entries)-1]
		}
	}
	i := len(g.Entries)
	for i > 0 && g.Entries[i-1].Time.After(ent.Time) {
		i--
	}
	g.Entries = append(g.Entries, Entry{})
	copy(g.Entries[i+1:], g.Entries[i:])
	g.Entries[i] = ent
}

func sum(es []Entry) float64 {
	var t float64
	for _, e := range es {
		t += e.Num
	}
	return t
}

// measure is the value a correlation's condition compares: n events, their
// sum, or what the entries hold.
func measure(sp *Spec, es []Entry, n int, total float64) float64 {
	switch sp.Type {
	case EventCount, Collect:
		return float64(n)
	case ValueCount, Temporal:
		return float64(len(es))
	case ValueSum:
		return total
	case ValueAvg:
		if n == 0 {
			return 0
		}
		return total / float64(n)
	case TemporalOrdered:
		// The longest prefix of Slots matched in time order.
		k := 0
		for _, e := range es {
			if k < len(sp.Slots) && e.Slot == sp.Slots[k] {
				k++
			}
		}
		return float64(k)
	}
	return 0
}

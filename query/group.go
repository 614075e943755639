package query

import (
	"sort"
	"strings"

	"github.com/detect-dev/detect/schema"
)

// grouper maps records to groups keyed by the values of the by-fields.
// Memory grows with the number of groups, not with the number of records.
type grouper struct {
	by     []*ref
	fast   bool // every by-field is a scalar string field of events
	m      map[string]*group
	groups []*group // in order of creation
	key    []byte
	bufs   [][]Value
	hits   []*group
	init   func(*group)
}

type group struct {
	vals   []Value // the by-values
	states []aggState
	n      int64
}

func newGrouper(by []*ref, init func(*group)) *grouper {
	g := &grouper{by: by, m: map[string]*group{}, bufs: make([][]Value, len(by)), init: init, fast: true}
	for _, f := range by {
		if !f.ev || f.field.Kind() != schema.KindString {
			g.fast = false
		}
	}
	return g
}

// lookup returns the groups r belongs to: none when a by-field is absent
// (as Splunk's stats drops such events), one per combination of values when
// a by-field holds several.
func (g *grouper) lookup(r *record) []*group {
	g.hits = g.hits[:0]
	if g.fast && r.ev != nil {
		g.key = g.key[:0]
		for _, f := range g.by {
			if !r.ev.Has(f.field) {
				return nil
			}
			g.key = append(g.key, r.ev.Str(f.field)...)
			g.key = append(g.key, 0)
		}
		if gr, ok := g.m[string(g.key)]; ok {
			g.hits = append(g.hits, gr)
			return g.hits
		}
		// The by-values are pieces of the map's key: one copy of the text
		// per group, not two (a top over reject reasons that name the
		// client holds one group per event).
		key := string(g.key)
		gr := g.newGroup()
		rest := key
		for i, f := range g.by {
			n := len(r.ev.Str(f.field))
			gr.vals[i] = Str(rest[:n])
			rest = rest[n+1:]
		}
		g.hits = append(g.hits, g.add(key, gr))
		return g.hits
	}
	multi := false
	for i, f := range g.by {
		g.bufs[i] = r.values(f, g.bufs[i][:0])
		switch len(g.bufs[i]) {
		case 0:
			return nil
		case 1:
		default:
			multi = true
		}
	}
	if !multi {
		g.hits = append(g.hits, g.get(nil))
		return g.hits
	}
	// Every combination of the values, each value once per record.
	idx := make([]int, len(g.by))
	for {
		g.hits = append(g.hits, g.get(idx))
		i := len(idx) - 1
		for ; i >= 0; i-- {
			idx[i]++
			if idx[i] < len(g.bufs[i]) {
				break
			}
			idx[i] = 0
		}
		if i < 0 {
			break
		}
	}
	g.hits = dedupGroups(g.hits)
	return g.hits
}

// dedupGroups drops repeats (a list holding one value twice).
func dedupGroups(gs []*group) []*group {
	out := gs[:0]
	for i, g := range gs {
		dup := false
		for _, h := range gs[:i] {
			if h == g {
				dup = true
				break
			}
		}
		if !dup {
			out = append(out, g)
		}
	}
	return out
}

// get returns the group of the values picked by idx (nil: the first of each).
func (g *grouper) get(idx []int) *group {
	g.key = g.key[:0]
	pick := func(i int) Value {
		if idx == nil {
			return g.bufs[i][0]
		}
		return g.bufs[i][idx[i]]
	}
	for i := range g.by {
		g.key = append(g.key, pick(i).key()...)
		g.key = append(g.key, 0)
	}
	if gr, ok := g.m[string(g.key)]; ok {
		return gr
	}
	gr := g.newGroup()
	for i := range g.by {
		gr.vals[i] = cloneValue(pick(i))
	}
	return g.add(string(g.key), gr)
}

// groupOf1 is a group and its one by-value in one allocation: the usual
// top or stats by one field.
type groupOf1 struct {
	group
	val [1]Value
}

// newGroup makes an empty group with room for the by-values.
func (g *grouper) newGroup() *group {
	if len(g.by) == 1 {
		b := &groupOf1{}
		b.vals = b.val[:]
		return &b.group
	}
	return &group{vals: make([]Value, len(g.by))}
}

// add files gr under key.
func (g *grouper) add(key string, gr *group) *group {
	if g.init != nil {
		g.init(gr)
	}
	g.m[key] = gr
	g.groups = append(g.groups, gr)
	return gr
}

// compareVals orders groups by their by-values.
func compareVals(a, b []Value) int {
	for i := range a {
		if c := compareAuto(a[i], b[i]); c != 0 {
			return c
		}
	}
	return 0
}

// orderKey is a Value prepared for compareAuto-ordering: parsing text as a
// number once per group, not once per comparison.
type orderKey struct {
	null  bool
	isNum bool
	num   float64
	text  string
}

func makeOrderKey(v Value) orderKey {
	if v.Kind == Null {
		return orderKey{null: true}
	}
	if n, ok := v.Float(); ok {
		return orderKey{isNum: true, num: n}
	}
	return orderKey{text: v.Text("\n")}
}

func (a *orderKey) compare(b *orderKey) int {
	switch {
	case a.null || b.null:
		switch {
		case a.null == b.null:
			return 0
		case a.null:
			return 1
		}
		return -1
	case a.isNum && b.isNum:
		return cmpFloat(a.num, b.num)
	case a.isNum:
		return -1
	case b.isNum:
		return 1
	}
	return strings.Compare(a.text, b.text)
}

// sortGroups orders groups by their first n by-values as compareVals
// does; equal ones keep their order.
func sortGroups(groups []*group, n int) {
	type item struct {
		g   *group
		idx int
		k   []orderKey
	}
	items := make([]item, len(groups))
	keys := make([]orderKey, len(groups)*n)
	for i, g := range groups {
		k := keys[i*n : (i+1)*n : (i+1)*n]
		for x := range k {
			k[x] = makeOrderKey(g.vals[x])
		}
		items[i] = item{g, i, k}
	}
	sort.Slice(items, func(i, j int) bool {
		a, b := &items[i], &items[j]
		for x := range a.k {
			if c := a.k[x].compare(&b.k[x]); c != 0 {
				return c < 0
			}
		}
		return a.idx < b.idx
	})
	for i := range items {
		groups[i] = items[i].g
	}
}

// ---- stats ------------------------------------------------------------

type statsStage struct {
	g       *grouper
	aggs    []aggFn
	byNames []string
	next    stage
	scratch []Value
	single  *group
}

func newStatsStage(by []*ref, byNames []string, aggs []aggFn, next stage) *statsStage {
	s := &statsStage{aggs: aggs, byNames: byNames, next: next}
	init := func(gr *group) {
		gr.states = make([]aggState, len(aggs))
		for i := range aggs {
			gr.states[i] = aggs[i].newState()
		}
	}
	if len(by) == 0 {
		s.single = &group{}
		init(s.single)
	} else {
		s.g = newGrouper(by, init)
	}
	return s
}

func (s *statsStage) push(r *record) bool {
	if s.single != nil {
		s.scratch = feed(s.aggs, s.single.states, r, s.scratch)
		return true
	}
	for _, gr := range s.g.lookup(r) {
		s.scratch = feed(s.aggs, gr.states, r, s.scratch)
	}
	return true
}

func (s *statsStage) done() {
	cols := append([]string{}, s.byNames...)
	for _, a := range s.aggs {
		cols = append(cols, a.out)
	}
	hdr := newHeader(cols)
	groups := []*group{s.single}
	if s.single == nil {
		groups = s.g.groups
		sortGroups(groups, len(s.byNames))
	}
	for _, gr := range groups {
		row := make([]Value, 0, len(cols))
		row = append(row, gr.vals...)
		for _, st := range gr.states {
			row = append(row, st.result())
		}
		if !s.next.push(&record{row: row, hdr: hdr}) {
			break
		}
	}
	s.next.done()
}

// ---- top / rare ---------------------------------------------------------

type topStage struct {
	c      *topCmd
	g      *grouper
	nBy    int
	fields []string
	next   stage
}

func newTopStage(c *topCmd, fields, by []*ref, next stage) *topStage {
	refs := append(append([]*ref{}, by...), fields...)
	t := &topStage{c: c, g: newGrouper(refs, nil), nBy: len(by), next: next}
	return t
}

func (t *topStage) push(r *record) bool {
	for _, gr := range t.g.lookup(r) {
		gr.n++
	}
	return true
}

func (t *topStage) done() {
	c := t.c
	var cols []string
	for _, n := range c.by {
		cols = append(cols, n.text)
	}
	for _, n := range c.fields {
		cols = append(cols, n.text)
	}
	if c.showCount {
		cols = append(cols, c.countField)
	}
	if c.showPerc {
		cols = append(cols, c.percentField)
	}
	hdr := newHeader(cols)

	// Partition by the by-values; rank within each partition.
	type part struct {
		vals   []Value
		groups []*group
		total  int64
	}
	parts := map[string]*part{}
	var order []*part
	for _, gr := range t.g.groups {
		var kb strings.Builder
		for _, v := range gr.vals[:t.nBy] {
			kb.WriteString(v.key())
			kb.WriteByte(0)
		}
		p, ok := parts[kb.String()]
		if !ok {
			p = &part{vals: gr.vals[:t.nBy]}
			parts[kb.String()] = p
			order = append(order, p)
		}
		p.groups = append(p.groups, gr)
		p.total += gr.n
	}
	sort.SliceStable(order, func(i, j int) bool { return compareVals(order[i].vals, order[j].vals) < 0 })
	for _, p := range order {
		gs := p.groups
		sort.SliceStable(gs, func(i, j int) bool {
			if gs[i].n != gs[j].n {
				if c.rare {
					return gs[i].n < gs[j].n
				}
				return gs[i].n > gs[j].n
			}
			return compareVals(gs[i].vals[t.nBy:], gs[j].vals[t.nBy:]) < 0
		})
		if c.limit > 0 && len(gs) > c.limit {
			gs = gs[:c.limit]
		}
		var shown int64
		emit := func(vals []Value, n int64) bool {
			row := append([]Value{}, vals...)
			if c.showCount {
				row = append(row, Num(float64(n)))
			}
			if c.showPerc {
				pct := Num(float64(n) * 100 / float64(p.total))
				pct.fixed6 = true
				row = append(row, pct)
			}
			return t.next.push(&record{row: row, hdr: hdr})
		}
		for _, gr := range gs {
			shown += gr.n
			if !emit(gr.vals, gr.n) {
				t.next.done()
				return
			}
		}
		if c.useOther && shown < p.total {
			vals := append([]Value{}, p.vals...)
			for range c.fields {
				vals = append(vals, Str(c.otherStr))
			}
			if !emit(vals, p.total-shown) {
				t.next.done()
				return
			}
		}
	}
	t.next.done()
}

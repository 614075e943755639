package query

import (
	"container/heap"
	"net/netip"
	"sort"
	"strings"
)

// stage is one step of a running query. push hands it a record and reports
// whether the stage wants more; the record is only valid during the call (a
// stage that keeps it copies it). done signals the end of the input, and
// the stage flushes what it holds downstream before passing done on.
type stage interface {
	push(r *record) bool
	done()
}

// ---- filters (search, where) ------------------------------------------------

type filterStage struct {
	pred predicate
	next stage
}

func (f *filterStage) push(r *record) bool {
	if f.pred(r) {
		return f.next.push(r)
	}
	return true
}

func (f *filterStage) done() { f.next.done() }

// ---- head / tail ------------------------------------------------------------

type headStage struct {
	n, seen int
	next    stage
}

func (h *headStage) push(r *record) bool {
	if h.seen >= h.n {
		return false
	}
	h.seen++
	more := h.next.push(r)
	return more && h.seen < h.n
}

func (h *headStage) done() { h.next.done() }

// tailStage keeps the last n records and passes them on newest first, as
// Splunk's tail does.
type tailStage struct {
	n    int
	ring []record
	pos  int
	full bool
	next stage
}

func (t *tailStage) push(r *record) bool {
	if t.n == 0 {
		return true
	}
	if len(t.ring) < t.n {
		t.ring = append(t.ring, *r)
		return true
	}
	t.ring[t.pos] = *r
	t.pos = (t.pos + 1) % t.n
	t.full = true
	return true
}

func (t *tailStage) done() {
	defer t.next.done()
	k := len(t.ring)
	for i := 1; i <= k; i++ {
		idx := ((t.pos-i)%k + k) % k
		if !t.full {
			idx = k - i
		}
		if !t.next.push(&t.ring[idx]) {
			return
		}
	}
}

// ---- sort ------------------------------------------------------------------

type sortKeyC struct {
	ref  *ref
	desc bool
	mode string
}

type sortItem struct {
	r    record
	keys []Value
	ord  []orderKey // keys prepared for auto mode
	seq  int        // arrival order: equal keys keep it
}

// sortStage keeps at most limit records (Splunk's sort keeps 10000 unless
// told otherwise; 0 keeps all): with a limit, a heap holds the best ones
// seen so far, so memory is bounded by the limit and time by n log limit.
type sortStage struct {
	keys  []sortKeyC
	limit int
	items []*sortItem
	seq   int
	next  stage
}

func (s *sortStage) push(r *record) bool {
	it := &sortItem{r: *r, keys: make([]Value, len(s.keys)), ord: make([]orderKey, len(s.keys)), seq: s.seq}
	s.seq++
	for i, k := range s.keys {
		v := r.cell(k.ref)
		if v.Kind == Multi && len(v.List) > 0 {
			v = v.List[0]
		}
		it.keys[i] = v
		if k.mode == "auto" {
			it.ord[i] = makeOrderKey(v)
		}
	}
	switch {
	case s.limit == 0:
		s.items = append(s.items, it)
	case len(s.items) < s.limit:
		heap.Push((*worstFirst)(s), it)
	case s.less(it, s.items[0]):
		s.items[0] = it
		heap.Fix((*worstFirst)(s), 0)
	}
	return true
}

// worstFirst is the sort's heap: the record that would come last on top.
type worstFirst sortStage

func (h *worstFirst) Len() int           { return len(h.items) }
func (h *worstFirst) Less(i, j int) bool { return (*sortStage)(h).less(h.items[j], h.items[i]) }
func (h *worstFirst) Swap(i, j int)      { h.items[i], h.items[j] = h.items[j], h.items[i] }
func (h *worstFirst) Push(x any)         { h.items = append(h.items, x.(*sortItem)) }
func (h *worstFirst) Pop() any {
	it := h.items[len(h.items)-1]
	h.items = h.items[:len(h.items)-1]
	return it
}

func (s *sortStage) less(a, b *sortItem) bool {
	for i, k := range s.keys {
		var c int
		if k.mode == "auto" {
			c = a.ord[i].compare(&b.ord[i])
		} else {
			c = compareMode(a.keys[i], b.keys[i], k.mode)
		}
		if c == 0 {
			continue
		}
		// Absent values stay last whichever the direction.
		if k.desc && a.keys[i].Kind != Null && b.keys[i].Kind != Null {
			c = -c
		}
		return c < 0
	}
	return a.seq < b.seq
}

func (s *sortStage) done() {
	defer s.next.done()
	sort.Slice(s.items, func(i, j int) bool { return s.less(s.items[i], s.items[j]) })
	for _, it := range s.items {
		if !s.next.push(&it.r) {
			return
		}
	}
}

// compareMode compares two sort keys: auto (numbers before text), num
// (numbers only; others last), str (text) or ip (addresses numerically).
func compareMode(a, b Value, mode string) int {
	if a.Kind == Null || b.Kind == Null {
		return compareAuto(a, b)
	}
	switch mode {
	case "num":
		an, aok := a.Float()
		bn, bok := b.Float()
		switch {
		case aok && bok:
			return cmpFloat(an, bn)
		case aok:
			return -1
		case bok:
			return 1
		}
		return 0
	case "str":
		return strings.Compare(a.Text("\n"), b.Text("\n"))
	case "ip":
		ap, aerr := netip.ParseAddr(a.Text(""))
		bp, berr := netip.ParseAddr(b.Text(""))
		switch {
		case aerr == nil && berr == nil:
			return ap.Compare(bp)
		case aerr == nil:
			return -1
		case berr == nil:
			return 1
		}
		return strings.Compare(a.Text(""), b.Text(""))
	}
	return compareAuto(a, b)
}

// ---- dedup ------------------------------------------------------------------

type dedupStage struct {
	refs        []*ref
	n           int
	keepEmpty   bool
	consecutive bool
	seen        map[string]int
	last        string
	lastN       int
	started     bool
	key         []byte
	next        stage
}

func (d *dedupStage) push(r *record) bool {
	d.key = d.key[:0]
	for _, f := range d.refs {
		v := r.cell(f)
		if v.Kind == Null {
			if d.keepEmpty {
				return d.next.push(r)
			}
			return true
		}
		d.key = append(d.key, v.key()...)
		d.key = append(d.key, 0)
	}
	if d.consecutive {
		if d.started && string(d.key) == d.last {
			d.lastN++
			if d.lastN > d.n {
				return true
			}
			return d.next.push(r)
		}
		d.started, d.last, d.lastN = true, string(d.key), 1
		return d.next.push(r)
	}
	n := d.seen[string(d.key)]
	if n >= d.n {
		return true
	}
	d.seen[string(d.key)] = n + 1
	return d.next.push(r)
}

func (d *dedupStage) done() { d.next.done() }

// ---- rename, table, fields over rows --------------------------------------

// reshapeStage maps rows to new columns (rename, table, fields); the mapping
// is worked out once per input header.
type reshapeStage struct {
	plan func(cols []string) (out []string, from []int)
	in   *header
	out  *header
	from []int
	next stage
}

func (s *reshapeStage) push(r *record) bool {
	if r.ev != nil {
		return s.next.push(r)
	}
	if r.hdr != s.in {
		cols, from := s.plan(r.hdr.cols)
		s.in, s.out, s.from = r.hdr, newHeader(cols), from
	}
	row := make([]Value, len(s.from))
	for i, j := range s.from {
		row[i] = r.row[j]
	}
	return s.next.push(&record{row: row, hdr: s.out})
}

func (s *reshapeStage) done() { s.next.done() }

// wildcardMatch matches a field-name pattern with * (case-sensitive, as
// Splunk's field names are).
func wildcardMatch(pat, s string) bool {
	if !strings.Contains(pat, "*") {
		return pat == s
	}
	parts := strings.Split(pat, "*")
	return globMatch(parts, s, strings.HasPrefix, strings.HasSuffix, strings.Index)
}

func renamePlan(pairs [][2]string) func([]string) ([]string, []int) {
	return func(cols []string) ([]string, []int) {
		out := append([]string{}, cols...)
		for _, p := range pairs {
			for i, c := range out {
				if c == p[0] {
					out[i] = p[1]
				} else if c == p[1] {
					out[i] = "" // overwritten by the rename, as in Splunk
				}
			}
		}
		var keep []string
		var from []int
		for i, c := range out {
			if c != "" || cols[i] == "" {
				keep = append(keep, c)
				from = append(from, i)
			}
		}
		return keep, from
	}
}

// projectPlan keeps the columns matching the patterns, in pattern order
// (table, fields +), or drops them (fields -).
func projectPlan(patterns []string, remove bool) func([]string) ([]string, []int) {
	return func(cols []string) ([]string, []int) {
		var out []string
		var from []int
		if remove {
			for i, c := range cols {
				drop := false
				for _, p := range patterns {
					if wildcardMatch(p, c) {
						drop = true
						break
					}
				}
				if !drop {
					out = append(out, c)
					from = append(from, i)
				}
			}
			return out, from
		}
		used := make([]bool, len(cols))
		for _, p := range patterns {
			for i, c := range cols {
				if !used[i] && wildcardMatch(p, c) {
					used[i] = true
					out = append(out, c)
					from = append(from, i)
				}
			}
		}
		return out, from
	}
}

package window

import "time"

// A sweep looks only at the groups that may be done: each spec keeps its
// groups in a queue by the time from which a sweep may have work for them
// (a window to close, a group to expire). Iterating every group of every
// spec each sweep cost as much as the rest of a scan once groups lived for
// a day (a day's windows, a fortnight's history). An entry is a lower
// bound: a group's time only moves later as events come (its latest event,
// its quiet period), except when a window opens or a late event moves a
// window's start, which queue the group again. Entries of deleted groups,
// and earlier entries of groups queued again, are dropped or re-queued
// when they come up.

// dueEntry queues group g, of key, from at (Unix nanoseconds) on. It holds
// the group itself so that a sweep finds it without hashing its key; a
// deleted group is marked gone (a new group of the same key is another).
type dueEntry struct {
	at  int64
	key string
	g   *Group
}

// dueQueue is a min-heap of entries by time, then key (so equal times pop
// in a fixed order). It is written out rather than built on container/heap,
// whose interface boxes every entry pushed: a sweep re-queues each active
// group about once per Span.
type dueQueue []dueEntry

func (q dueQueue) less(i, j int) bool {
	return q[i].at < q[j].at || (q[i].at == q[j].at && q[i].key < q[j].key)
}

func (q *dueQueue) push(e dueEntry) {
	*q = append(*q, e)
	h := *q
	for i := len(h) - 1; i > 0; {
		parent := (i - 1) / 2
		if !h.less(i, parent) {
			break
		}
		h[i], h[parent] = h[parent], h[i]
		i = parent
	}
}

func (q *dueQueue) pop() dueEntry {
	h := *q
	top := h[0]
	last := len(h) - 1
	h[0] = h[last]
	h[last] = dueEntry{}
	h = h[:last]
	for i := 0; ; {
		least, l, r := i, 2*i+1, 2*i+2
		if l < len(h) && h.less(l, least) {
			least = l
		}
		if r < len(h) && h.less(r, least) {
			least = r
		}
		if least == i {
			break
		}
		h[i], h[least] = h[least], h[i]
		i = least
	}
	*q = h
	return top
}

// due is the time from which a sweep may find g done: the end of its
// first window (tumbling), of its last window and quiet period (rising),
// or of its quiet period and history (tumbling, without windows).
func (sp *Spec) due(g *Group) time.Time {
	switch {
	case sp.rising():
		return later(g.Latest.Add(sp.Span), g.Quiet)
	case len(g.Windows) > 0:
		return g.Windows[0].Start.Add(sp.Span)
	case sp.History > 0 && len(g.History) > 0:
		return later(g.Quiet, g.History[0].End.Add(time.Duration(sp.History)*sp.Span))
	}
	return g.Quiet
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// queue puts g, of spec si and key, in the spec's queue at its due time.
func (s *State) queue(si int, key string, g *Group) {
	s.ensureQueues()
	s.queues[si].push(dueEntry{at: nanos(s.Specs[si].due(g)), key: key, g: g})
}

// ensureQueues builds the queues from the groups when they are missing (a
// State whose Groups were filled without add, as NewFrom does).
func (s *State) ensureQueues() {
	if len(s.queues) == len(s.Specs) {
		return
	}
	s.queues = make([]dueQueue, len(s.Specs))
	for si := range s.Specs {
		sp := &s.Specs[si]
		for key, g := range s.Groups[sp.ID] {
			s.queues[si].push(dueEntry{at: nanos(sp.due(g)), key: key, g: g})
		}
	}
}

// dueKeys pops the keys of spec si's groups whose entries are due at
// limit, without duplicates (a group may be queued more than once); done
// says whether a group is done. Those that are not are queued again.
func (s *State) dueKeys(si int, limit time.Time, done func(*Group) bool) []string {
	s.ensureQueues()
	q := &s.queues[si]
	at := nanos(limit)
	var keys []string
	s.again = s.again[:0]
	s.pops++ // marks the groups this call takes, without a set of keys to hash
	for len(*q) > 0 && (*q)[0].at <= at {
		x := q.pop()
		if x.g.gone || x.g.popped == s.pops {
			continue // deleted, or already taken
		}
		x.g.popped = s.pops
		if done(x.g) {
			keys = append(keys, x.key)
		} else {
			s.again = append(s.again, x)
		}
	}
	for i, x := range s.again {
		s.queue(si, x.key, x.g)
		s.again[i] = dueEntry{} // holds no group past the call
	}
	return keys
}

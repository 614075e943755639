package query

import (
	"math"
	"sort"
	"strings"
)

// aggState accumulates one statistical function over the records of one
// group. States merge, so timechart can coarsen its buckets and fold small
// series into OTHER without seeing the events again.
type aggState interface {
	add(vals []Value, t int64, hasT bool)
	merge(o aggState)
	result() Value
}

// aggFn is a compiled statistical function.
type aggFn struct {
	fn    string
	field *ref // nil for plain count
	out   string
}

func (a *aggFn) newState() aggState {
	switch a.fn {
	case "count":
		if a.field == nil {
			return &countAll{}
		}
		return &countVals{}
	case "dc":
		return &distinct{seen: map[string]struct{}{}}
	case "sum":
		return &sumState{}
	case "avg":
		return &avgState{}
	case "min":
		return &extremum{max: false}
	case "max":
		return &extremum{max: true}
	case "values":
		return &valuesState{seen: map[string]Value{}}
	case "latest":
		return &timed{latest: true}
	case "earliest":
		return &timed{}
	}
	panic("query: unknown function " + a.fn)
}

// zeroFilled reports whether an empty bucket or absent group shows 0 (the
// counting functions) rather than nothing.
func (a *aggFn) zeroFilled() bool {
	return a.fn == "count" || a.fn == "dc" || a.fn == "sum"
}

// feed adds record r to the states of one group.
func feed(aggs []aggFn, states []aggState, r *record, scratch []Value) []Value {
	t, hasT := int64(0), false
	for i := range aggs {
		a := &aggs[i]
		if a.field == nil {
			states[i].add(nil, 0, false)
			continue
		}
		scratch = r.values(a.field, scratch[:0])
		if len(scratch) == 0 {
			continue
		}
		if (a.fn == "latest" || a.fn == "earliest") && !hasT {
			t, hasT = r.time()
			if !hasT {
				continue
			}
		}
		states[i].add(scratch, t, hasT)
	}
	return scratch
}

type countAll struct{ n int64 }

func (c *countAll) add([]Value, int64, bool) { c.n++ }
func (c *countAll) merge(o aggState)         { c.n += o.(*countAll).n }
func (c *countAll) result() Value            { return Num(float64(c.n)) }

type countVals struct{ n int64 }

func (c *countVals) add(v []Value, _ int64, _ bool) { c.n += int64(len(v)) }
func (c *countVals) merge(o aggState)               { c.n += o.(*countVals).n }
func (c *countVals) result() Value                  { return Num(float64(c.n)) }

type distinct struct{ seen map[string]struct{} }

func (d *distinct) add(vals []Value, _ int64, _ bool) {
	for _, v := range vals {
		k := v.key()
		if _, ok := d.seen[k]; !ok {
			d.seen[strings.Clone(k)] = struct{}{}
		}
	}
}

func (d *distinct) merge(o aggState) {
	for k := range o.(*distinct).seen {
		d.seen[k] = struct{}{}
	}
}

func (d *distinct) result() Value { return Num(float64(len(d.seen))) }

type sumState struct {
	sum float64
	any bool
}

func (s *sumState) add(vals []Value, _ int64, _ bool) {
	for _, v := range vals {
		if n, ok := v.Float(); ok {
			s.sum += n
			s.any = true
		}
	}
}

func (s *sumState) merge(o aggState) {
	x := o.(*sumState)
	s.sum += x.sum
	s.any = s.any || x.any
}

func (s *sumState) result() Value {
	if !s.any {
		return Value{}
	}
	return Num(s.sum)
}

type avgState struct {
	sum float64
	n   int64
}

func (s *avgState) add(vals []Value, _ int64, _ bool) {
	for _, v := range vals {
		if n, ok := v.Float(); ok {
			s.sum += n
			s.n++
		}
	}
}

func (s *avgState) merge(o aggState) {
	x := o.(*avgState)
	s.sum += x.sum
	s.n += x.n
}

func (s *avgState) result() Value {
	if s.n == 0 {
		return Value{}
	}
	return Num(s.sum / float64(s.n))
}

// extremum is min or max: numeric when any value is a number (as Splunk),
// else lexicographic.
type extremum struct {
	max       bool
	num       float64
	hasNum    bool
	str       string
	hasStr    bool
	timeValue bool // the numeric extremum came from times
}

func (m *extremum) add(vals []Value, _ int64, _ bool) {
	for _, v := range vals {
		if n, ok := v.Float(); ok {
			if !m.hasNum || (m.max && n > m.num) || (!m.max && n < m.num) {
				m.num, m.hasNum, m.timeValue = n, true, v.Kind == Time
			}
			continue
		}
		s := v.Text("\n")
		if !m.hasStr || (m.max && s > m.str) || (!m.max && s < m.str) {
			m.str, m.hasStr = strings.Clone(s), true
		}
	}
}

func (m *extremum) merge(o aggState) {
	x := o.(*extremum)
	if x.hasNum {
		v := Num(x.num)
		if x.timeValue {
			v = timeNanos(int64(math.Round(x.num * 1e9)))
		}
		m.add([]Value{v}, 0, false)
	}
	if x.hasStr {
		m.add([]Value{Str(x.str)}, 0, false)
	}
}

func (m *extremum) result() Value {
	switch {
	case m.hasNum && m.timeValue:
		return timeNanos(int64(math.Round(m.num * 1e9)))
	case m.hasNum:
		return Num(m.num)
	case m.hasStr:
		return Str(m.str)
	}
	return Value{}
}

// valuesState collects distinct values, listed in lexicographic order as
// Splunk's values() does.
type valuesState struct{ seen map[string]Value }

func (s *valuesState) add(vals []Value, _ int64, _ bool) {
	for _, v := range vals {
		k := v.key()
		if _, ok := s.seen[k]; !ok {
			if v.Kind == String {
				v.Str = strings.Clone(v.Str)
			}
			s.seen[strings.Clone(k)] = v
		}
	}
}

func (s *valuesState) merge(o aggState) {
	for k, v := range o.(*valuesState).seen {
		s.seen[k] = v
	}
}

func (s *valuesState) result() Value {
	if len(s.seen) == 0 {
		return Value{}
	}
	list := make([]Value, 0, len(s.seen))
	for _, v := range s.seen {
		list = append(list, v)
	}
	sort.Slice(list, func(i, j int) bool { return list[i].Text("\n") < list[j].Text("\n") })
	if len(list) == 1 {
		return list[0]
	}
	return Value{Kind: Multi, List: list}
}

// timed is latest or earliest: the value of the chronologically last (or
// first) record. Ties go to the record seen last (latest) or first
// (earliest).
type timed struct {
	latest bool
	t      int64
	set    bool
	v      Value
}

func (s *timed) add(vals []Value, t int64, hasT bool) {
	if !hasT {
		return
	}
	if s.set && ((s.latest && t < s.t) || (!s.latest && t >= s.t)) {
		return
	}
	s.t, s.set = t, true
	if len(vals) == 1 {
		s.v = cloneValue(vals[0])
		return
	}
	list := make([]Value, len(vals))
	for i, v := range vals {
		list[i] = cloneValue(v)
	}
	s.v = Value{Kind: Multi, List: list}
}

func (s *timed) merge(o aggState) {
	x := o.(*timed)
	if !x.set {
		return
	}
	if !s.set || (s.latest && x.t >= s.t) || (!s.latest && x.t < s.t) {
		s.t, s.set, s.v = x.t, true, x.v
	}
}

func (s *timed) result() Value { return s.v }

func cloneValue(v Value) Value {
	if v.Kind == String {
		v.Str = strings.Clone(v.Str)
	}
	return v
}

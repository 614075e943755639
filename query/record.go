package query

import (
	"github.com/detect-dev/detect/schema"
)

// record is what flows between stages: an event before the first
// transforming command (top, rare, stats, timechart), a result row after it.
type record struct {
	ev  *schema.Event
	row []Value
	hdr *header
}

// header names the columns of result rows.
type header struct {
	cols []string
	idx  map[string]int
}

func newHeader(cols []string) *header {
	h := &header{cols: cols, idx: make(map[string]int, len(cols))}
	for i, c := range cols {
		if _, dup := h.idx[c]; !dup {
			h.idx[c] = i
		}
	}
	return h
}

// ref is a field reference bound to the stage that reads it: a schema field
// for events, a column name for rows.
type ref struct {
	name  string
	field schema.Field
	ev    bool
}

// values appends the values of f in r to dst: none when absent, one for a
// scalar, one per element for a list.
func (r *record) values(f *ref, dst []Value) []Value {
	if r.ev != nil {
		if !f.ev {
			return dst
		}
		return appendEventValues(dst, r.ev, f.field)
	}
	i, ok := r.hdr.idx[f.name]
	if !ok {
		return dst
	}
	switch v := r.row[i]; v.Kind {
	case Null:
		return dst
	case Multi:
		return append(dst, v.List...)
	default:
		return append(dst, v)
	}
}

// cell returns f in r as one value (several values as a Multi).
func (r *record) cell(f *ref) Value {
	if r.ev != nil {
		if !f.ev {
			return Value{}
		}
		return eventCell(r.ev, f.field)
	}
	if i, ok := r.hdr.idx[f.name]; ok {
		return r.row[i]
	}
	return Value{}
}

// time returns the record's time in Unix nanoseconds: the event's time, or
// a row's _time column.
func (r *record) time() (int64, bool) {
	if r.ev != nil {
		if r.ev.Time.IsZero() {
			return 0, false
		}
		return r.ev.Time.UnixNano(), true
	}
	if i, ok := r.hdr.idx["_time"]; ok && r.row[i].Kind == Time {
		return r.row[i].Nanos, true
	}
	return 0, false
}

// appendEventValues appends the values of field f of e.
func appendEventValues(dst []Value, e *schema.Event, f schema.Field) []Value {
	switch f {
	case schema.FieldAttachmentName:
		for _, s := range e.AttachmentName {
			dst = append(dst, Str(s))
		}
		return dst
	case schema.FieldAttachmentExt:
		for _, s := range e.AttachmentExt {
			dst = append(dst, Str(s))
		}
		return dst
	case schema.FieldAttachmentType:
		for _, s := range e.AttachmentType {
			dst = append(dst, Str(s))
		}
		return dst
	case schema.FieldAttachmentSize:
		for _, n := range e.AttachmentSize {
			dst = append(dst, Num(float64(n)))
		}
		return dst
	case schema.FieldAttachments:
		for _, a := range e.Attachments {
			dst = append(dst, Str(a.Name))
		}
		return dst
	case schema.FieldTime:
		if e.Time.IsZero() {
			return dst
		}
		return append(dst, TimeValue(e.Time))
	}
	if !e.Has(f) {
		return dst
	}
	switch f.Kind() {
	case schema.KindInt, schema.KindFloat:
		n, _ := e.Number(f)
		return append(dst, Num(n))
	}
	return append(dst, Str(e.Str(f)))
}

// eventCell returns field f of e as one value.
func eventCell(e *schema.Event, f schema.Field) Value {
	switch f.Kind() {
	case schema.KindStringList, schema.KindIntList, schema.KindObjectList:
		vs := appendEventValues(nil, e, f)
		if len(vs) == 0 {
			return Value{}
		}
		return Value{Kind: Multi, List: vs}
	}
	var one [1]Value
	vs := appendEventValues(one[:0], e, f)
	if len(vs) == 0 {
		return Value{}
	}
	return vs[0]
}

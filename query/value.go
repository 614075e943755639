package query

import (
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/detect-dev/detect/schema"
)

// Kind is the type of a Value.
type Kind uint8

// Value kinds.
const (
	Null    Kind = iota // absent
	String              // text
	Number              // a count, size, delay, sum ...
	Time                // a point in time (_time, latest(_time) ...)
	Multi               // several values (values(x), attachment lists)
	boolean             // where's intermediate results; never in a Result
)

// Value is one cell of a result row.
type Value struct {
	Kind  Kind
	Str   string  // String
	Num   float64 // Number; Time in Unix seconds
	Nanos int64   // Time in Unix nanoseconds
	List  []Value // Multi
	// fixed6 formats a Number with six decimals, as Splunk shows percent.
	fixed6 bool
}

// Str makes a String value.
func Str(s string) Value { return Value{Kind: String, Str: s} }

// Num makes a Number value.
func Num(n float64) Value { return Value{Kind: Number, Num: n} }

// TimeValue makes a Time value.
func TimeValue(t time.Time) Value {
	ns := t.UnixNano()
	return Value{Kind: Time, Nanos: ns, Num: float64(ns) / 1e9}
}

func timeNanos(ns int64) Value { return Value{Kind: Time, Nanos: ns, Num: float64(ns) / 1e9} }

func boolValue(b bool) Value {
	if b {
		return Value{Kind: boolean, Num: 1}
	}
	return Value{Kind: boolean}
}

// IsNull reports whether v is absent.
func (v Value) IsNull() bool { return v.Kind == Null }

// Time returns a Time value as a time.Time in UTC.
func (v Value) Time() time.Time { return time.Unix(0, v.Nanos).UTC() }

// Float returns the value as a number: Numbers and Times as they are,
// Strings when they hold a decimal number.
func (v Value) Float() (float64, bool) {
	switch v.Kind {
	case Number, Time:
		return v.Num, true
	case String:
		s := strings.TrimSpace(v.Str)
		if s == "" || !isNumberText(s) {
			return 0, false
		}
		n, err := strconv.ParseFloat(s, 64)
		return n, err == nil
	case boolean:
		return v.Num, true
	}
	return 0, false
}

// Text formats the value for tables and CSV: numbers in decimal (percent
// with six decimals, as Splunk shows it), times in RFC 3339 UTC, several
// values joined by sep.
func (v Value) Text(sep string) string {
	switch v.Kind {
	case String:
		return v.Str
	case Number:
		return formatNumber(v.Num, v.fixed6)
	case Time:
		return v.Time().Format(time.RFC3339Nano)
	case Multi:
		parts := make([]string, len(v.List))
		for i, x := range v.List {
			parts[i] = x.Text(sep)
		}
		return strings.Join(parts, sep)
	case boolean:
		if v.Num != 0 {
			return "true"
		}
		return "false"
	}
	return ""
}

func (v Value) String() string { return v.Text(", ") }

func formatNumber(n float64, fixed6 bool) string {
	if fixed6 {
		return strconv.FormatFloat(n, 'f', 6, 64)
	}
	if n == math.Trunc(n) && math.Abs(n) < 1e15 {
		return strconv.FormatInt(int64(n), 10)
	}
	return strconv.FormatFloat(n, 'f', -1, 64)
}

// AppendJSON appends the value's JSON encoding: numbers as numbers (percent
// rounded to six decimals), times as RFC 3339 strings, several values as an
// array, null as null.
func (v Value) AppendJSON(dst []byte) []byte {
	switch v.Kind {
	case String:
		return schema.AppendJSONString(dst, v.Str)
	case Number:
		n := v.Num
		if v.fixed6 {
			n = math.Round(n*1e6) / 1e6
		}
		if math.IsNaN(n) || math.IsInf(n, 0) {
			return append(dst, "null"...)
		}
		return append(dst, formatNumber(n, false)...)
	case Time:
		dst = append(dst, '"')
		dst = v.Time().AppendFormat(dst, time.RFC3339Nano)
		return append(dst, '"')
	case Multi:
		dst = append(dst, '[')
		for i, x := range v.List {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = x.AppendJSON(dst)
		}
		return append(dst, ']')
	case boolean:
		if v.Num != 0 {
			return append(dst, "true"...)
		}
		return append(dst, "false"...)
	}
	return append(dst, "null"...)
}

// MarshalJSON implements json.Marshaler.
func (v Value) MarshalJSON() ([]byte, error) { return v.AppendJSON(nil), nil }

// key is the value's identity for grouping and distinct counts.
func (v Value) key() string {
	switch v.Kind {
	case String:
		return v.Str
	case Number:
		return formatNumber(v.Num, false)
	case Time:
		return strconv.FormatInt(v.Nanos, 10)
	}
	return v.Text("\x1f")
}

// compareAuto orders two values as Splunk's sort does by default: numbers
// (and times) numerically and before text; text lexicographically. Null
// values come last. It returns -1, 0 or 1.
func compareAuto(a, b Value) int {
	if a.Kind == Null || b.Kind == Null {
		switch {
		case a.Kind == b.Kind:
			return 0
		case a.Kind == Null:
			return 1
		}
		return -1
	}
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
	return strings.Compare(a.Text("\n"), b.Text("\n"))
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

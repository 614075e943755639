package query

import (
	"strings"

	"github.com/detect-dev/detect/schema"
)

// pattern is a search value: case-insensitive, with * matching any run of
// characters.
type pattern struct {
	lower string   // the whole pattern, lower case
	parts []string // lower-case pieces between the stars
	star  bool     // contains a *
	ascii bool     // pattern is ASCII (fast, allocation-free matching)
}

func newPattern(s string) *pattern {
	p := &pattern{lower: strings.ToLower(s), star: strings.Contains(s, "*"), ascii: isASCII(s)}
	if p.star {
		p.parts = strings.Split(p.lower, "*")
	}
	return p
}

// matchAll reports whether the pattern is just stars.
func (p *pattern) matchAll() bool {
	return p.star && strings.Trim(p.lower, "*") == ""
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// match reports whether s matches the whole pattern, ignoring case. An
// ASCII pattern folds ASCII letters only (bytes of other characters never
// equal an ASCII pattern byte), so s needs no conversion.
func (p *pattern) match(s string) bool {
	if !p.ascii {
		s = strings.ToLower(s)
		if !p.star {
			return s == p.lower
		}
		return globMatch(p.parts, s, strings.HasPrefix, strings.HasSuffix, strings.Index)
	}
	if !p.star {
		return len(s) == len(p.lower) && hasPrefixFold(s, p.lower)
	}
	return globMatch(p.parts, s, hasPrefixFold, hasSuffixFold, indexFold)
}

// globMatch matches s against pieces that were separated by stars.
func globMatch(parts []string, s string, hasPrefix, hasSuffix func(s, p string) bool, index func(s, p string) int) bool {
	first, last := parts[0], parts[len(parts)-1]
	if !hasPrefix(s, first) {
		return false
	}
	s = s[len(first):]
	if len(s) < len(last) || !hasSuffix(s, last) {
		return false
	}
	s = s[:len(s)-len(last)]
	for _, mid := range parts[1 : len(parts)-1] {
		i := index(s, mid)
		if i < 0 {
			return false
		}
		s = s[i+len(mid):]
	}
	return true
}

func lowerByte(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// hasPrefixFold: lower is already lower case; s is ASCII.
func hasPrefixFold(s, lower string) bool {
	if len(s) < len(lower) {
		return false
	}
	for i := 0; i < len(lower); i++ {
		if lowerByte(s[i]) != lower[i] {
			return false
		}
	}
	return true
}

func hasSuffixFold(s, lower string) bool {
	return len(s) >= len(lower) && hasPrefixFold(s[len(s)-len(lower):], lower)
}

func indexFold(s, lower string) int {
	if lower == "" {
		return 0
	}
	c0 := lower[0]
	for i := 0; i+len(lower) <= len(s); i++ {
		if lowerByte(s[i]) == c0 && hasPrefixFold(s[i:], lower) {
			return i
		}
	}
	return -1
}

// predicate decides whether a record passes a filter.
type predicate func(r *record) bool

// compileSearch turns a search expression into a predicate.
func (c *compiler) compileSearch(x sexpr) predicate {
	switch x := x.(type) {
	case *sAnd:
		l, r := c.compileSearch(x.l), c.compileSearch(x.r)
		return func(rec *record) bool { return l(rec) && r(rec) }
	case *sOr:
		l, r := c.compileSearch(x.l), c.compileSearch(x.r)
		return func(rec *record) bool { return l(rec) || r(rec) }
	case *sNot:
		inner := c.compileSearch(x.x)
		return func(rec *record) bool { return !inner(rec) }
	case *sWord:
		return c.compileWord(x)
	case *sIn:
		f := c.resolve(x.field)
		var preds []predicate
		for _, v := range x.values {
			preds = append(preds, c.termPredicate(f, itemEq, v))
		}
		return func(rec *record) bool {
			for _, p := range preds {
				if p(rec) {
					return true
				}
			}
			return false
		}
	case *sTerm:
		if isIgnoredField(x.field.text) {
			c.failSpan(x.field.span, "%s= is accepted only as a leading term of the search (there is no index: the paths are the data)", x.field.text)
		}
		return c.termPredicate(c.resolve(x.field), x.op, x.value)
	}
	panic("query: unknown search node")
}

// termPredicate compiles field OP value.
func (c *compiler) termPredicate(f *ref, op itemType, value string) predicate {
	pat := newPattern(value)
	num, numOK := 0.0, false
	if !pat.star {
		if v, ok := Str(value).Float(); ok {
			num, numOK = v, true
		}
	}
	present := func(rec *record) bool {
		if rec.ev != nil {
			return f.ev && rec.ev.Has(f.field)
		}
		return !rec.cell(f).IsNull()
	}
	if pat.matchAll() {
		switch op {
		case itemEq:
			return present
		case itemNe:
			return func(*record) bool { return false }
		}
	}
	eq := func(v Value) bool {
		if numOK && (v.Kind == Number || v.Kind == Time) {
			return v.Num == num
		}
		return pat.match(v.Text("\n"))
	}
	// Scalar string fields of events are matched without building Values:
	// this is the hot path of most searches.
	fastEq := f.ev && f.field.Kind() == schema.KindString
	anyEq := func(rec *record) bool {
		if fastEq && rec.ev != nil {
			return rec.ev.Has(f.field) && pat.match(rec.ev.Str(f.field))
		}
		var buf [4]Value
		for _, v := range rec.values(f, buf[:0]) {
			if eq(v) {
				return true
			}
		}
		return false
	}
	switch op {
	case itemEq:
		return anyEq
	case itemNe:
		return func(rec *record) bool { return present(rec) && !anyEq(rec) }
	}
	// Ordering: numerically when the value is a number, else as text.
	lower := strings.ToLower(value)
	cmpOK := func(c int) bool {
		switch op {
		case itemLt:
			return c < 0
		case itemLe:
			return c <= 0
		case itemGt:
			return c > 0
		}
		return c >= 0
	}
	return func(rec *record) bool {
		var buf [4]Value
		for _, v := range rec.values(f, buf[:0]) {
			if numOK {
				if n, ok := v.Float(); ok && cmpOK(cmpFloat(n, num)) {
					return true
				}
				continue
			}
			if cmpOK(strings.Compare(strings.ToLower(v.Text("\n")), lower)) {
				return true
			}
		}
		return false
	}
}

// textFields are the event fields a bare word is looked for in: every text
// field that would appear in the log line (not source_file), the lists of
// attachment names and types, and the size.
var textFields = func() []schema.Field {
	var out []schema.Field
	for _, f := range schema.Fields() {
		switch {
		case f == schema.FieldSourceFile:
		case f.Kind() == schema.KindString, f == schema.FieldAttachmentName, f == schema.FieldAttachmentType, f == schema.FieldSize:
			out = append(out, f)
		}
	}
	return out
}()

// compileWord compiles a bare word or quoted phrase: it matches when any
// text field contains it, ignoring case (events carry no raw line).
func (c *compiler) compileWord(w *sWord) predicate {
	text := w.text
	if !strings.HasPrefix(text, "*") {
		text = "*" + text
	}
	if !strings.HasSuffix(text, "*") {
		text += "*"
	}
	pat := newPattern(text)
	if pat.matchAll() {
		return func(*record) bool { return true }
	}
	return func(rec *record) bool {
		if rec.ev != nil {
			e := rec.ev
			for _, f := range textFields {
				switch f.Kind() {
				case schema.KindString:
					if s := e.Str(f); s != "" && pat.match(s) {
						return true
					}
				default:
					var buf [4]Value
					for _, v := range appendEventValues(buf[:0], e, f) {
						if pat.match(v.Text("\n")) {
							return true
						}
					}
				}
			}
			return false
		}
		for _, v := range rec.row {
			if v.Kind != Null && pat.match(v.Text("\n")) {
				return true
			}
		}
		return false
	}
}

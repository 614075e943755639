package sigma

import (
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/detect-dev/detect/schema"
)

// node is a compiled condition: a search, or and/or/not over nodes.
type node interface {
	eval(e *schema.Event) bool
}

type andNode []node

func (n andNode) eval(e *schema.Event) bool {
	for _, c := range n {
		if !c.eval(e) {
			return false
		}
	}
	return true
}

type orNode []node

func (n orNode) eval(e *schema.Event) bool {
	for _, c := range n {
		if c.eval(e) {
			return true
		}
	}
	return false
}

type notNode struct{ n node }

func (n notNode) eval(e *schema.Event) bool { return !n.n.eval(e) }

// search is one named search of the detection block: it matches if any of
// its alternatives (the maps and keywords of a list) matches.
type search struct {
	name string
	alts []conj
}

func (s *search) eval(e *schema.Event) bool {
	for _, c := range s.alts {
		if c.eval(e) {
			return true
		}
	}
	return false
}

// conj is one map of a search: every field condition must match.
type conj []cond

func (c conj) eval(e *schema.Event) bool {
	for _, x := range c {
		if !x.match(e) {
			return false
		}
	}
	return true
}

// cond is one entry of a search map (a field or keywords with its values).
type cond interface {
	match(e *schema.Event) bool
}

// valKind says how one value of a condition compares.
type valKind uint8

const (
	valText   valKind = iota // string pattern, regexp
	valNumEq                 // a YAML number against a numeric field
	valCmp                   // gt, gte, lt, lte
	valCIDR                  // cidr
	valNull                  // null: absent or empty
	valExists                // exists: true/false
)

type cmpOp uint8

const (
	opGT cmpOp = iota + 1
	opGTE
	opLT
	opLTE
)

// val is one compiled value of a condition.
type val struct {
	kind     valKind
	text     strMatcher
	op       cmpOp
	num      float64
	prefixes []netip.Prefix
	exists   bool
	more     []strMatcher // alternatives of text (base64offset's encodings)
}

// matchScalar compares v with the value s of a string field.
func (v *val) matchScalar(s string, present bool) bool {
	switch v.kind {
	case valNull:
		// Absent only: for most fields "" means absent anyway, but the
		// null sender "" is a value (Event.Has tells them apart).
		return !present
	case valExists:
		return present == v.exists
	}
	return present && v.matchText(s)
}

// matchList compares v with a string list field: any element may match.
func (v *val) matchList(list []string) bool {
	switch v.kind {
	case valNull:
		return len(list) == 0
	case valExists:
		return (len(list) > 0) == v.exists
	}
	for _, s := range list {
		if v.matchText(s) {
			return true
		}
	}
	return false
}

// matchText compares v with one text element of a field.
func (v *val) matchText(s string) bool {
	switch v.kind {
	case valText:
		if v.text.match(s) {
			return true
		}
		for i := range v.more {
			if v.more[i].match(s) {
				return true
			}
		}
		return false
	case valNumEq, valCmp:
		// String fields may hold numbers (status codes, values decoded from
		// JSON); the syntax check first avoids strconv's error allocation.
		if !looksNumeric(s) {
			return false
		}
		n, err := strconv.ParseFloat(s, 64)
		return err == nil && v.matchNum(n)
	case valCIDR:
		if !maybeAddr(s) {
			return false // ParseAddr's error would allocate
		}
		a, err := netip.ParseAddr(s)
		if err != nil {
			return false
		}
		a = a.Unmap()
		for _, p := range v.prefixes {
			if p.Contains(a) {
				return true
			}
		}
	}
	return false
}

// matchNum compares v with one numeric element. Text patterns see the
// number in the decimal form schema.Event.AppendText uses.
func (v *val) matchNum(n float64) bool {
	switch v.kind {
	case valNumEq:
		return n == v.num
	case valCmp:
		switch v.op {
		case opGT:
			return n > v.num
		case opGTE:
			return n >= v.num
		case opLT:
			return n < v.num
		case opLTE:
			return n <= v.num
		}
	case valText:
		var buf [32]byte
		return v.matchText(string(strconv.AppendFloat(buf[:0], n, 'f', -1, 64)))
	}
	return false
}

// fieldCond is "field|modifiers: values".
type fieldCond struct {
	field schema.Field
	kind  schema.Kind
	all   bool
	vals  []val
}

func (c *fieldCond) match(e *schema.Event) bool {
	if c.kind == schema.KindString {
		// The common case: read the field once for all values instead of
		// once per value. Has is only needed to tell the null sender ("",
		// present) from an absent one.
		s := e.Str(c.field)
		present := s != "" || e.Has(c.field)
		for i := range c.vals {
			// OR returns at the first match, AND (all) at the first miss.
			if m := c.vals[i].matchScalar(s, present); m != c.all {
				return m
			}
		}
		return c.all
	}
	if c.kind == schema.KindStringList {
		list := stringList(e, c.field)
		for i := range c.vals {
			if m := c.vals[i].matchList(list); m != c.all {
				return m
			}
		}
		return c.all
	}
	for i := range c.vals {
		if m := c.matchVal(e, &c.vals[i]); m != c.all {
			return m
		}
	}
	return c.all
}

// matchVal compares one value with a numeric, time or attachments field
// (string fields take the faster paths in match).
func (c *fieldCond) matchVal(e *schema.Event, v *val) bool {
	switch v.kind {
	case valNull:
		return !e.Has(c.field) // numbers and lists have no "empty" value
	case valExists:
		return e.Has(c.field) == v.exists
	}
	if !e.Has(c.field) {
		return false
	}
	switch c.kind {
	case schema.KindInt, schema.KindFloat:
		n, _ := e.Number(c.field)
		return v.matchNum(n)
	case schema.KindTime:
		if v.kind == valText {
			return v.matchText(e.Time.UTC().Format(time.RFC3339Nano))
		}
		n, _ := e.Number(c.field)
		return v.matchNum(n)
	case schema.KindIntList:
		for _, n := range e.AttachmentSize {
			if v.matchNum(float64(n)) {
				return true
			}
		}
	case schema.KindObjectList:
		// Text patterns see attachment names, numbers their sizes, as in
		// schema.Event.AppendText and AppendNumbers.
		for i := range e.Attachments {
			a := &e.Attachments[i]
			if v.kind == valText || v.kind == valCIDR {
				if v.matchText(a.Name) {
					return true
				}
			} else if v.matchNum(float64(a.Size)) {
				return true
			}
		}
	}
	return false
}

func stringList(e *schema.Event, f schema.Field) []string {
	switch f {
	case schema.FieldAttachmentName:
		return e.AttachmentName
	case schema.FieldAttachmentExt:
		return e.AttachmentExt
	case schema.FieldAttachmentType:
		return e.AttachmentType
	}
	return nil
}

// keywordFields are the fields a keyword searches: the text of the mail and
// of the SMTP session. Classification fields (event_type, action, status,
// product, process, host, direction, protocol) and source_file are left
// out: they are the same words on every event ("delivery", "postfix"), so a
// keyword would match everything, and a keyword such as "invoice" must not
// fire on a log file's name.
var keywordFields = []schema.Field{
	schema.FieldStatusCode, schema.FieldReason, schema.FieldQueueID, schema.FieldMessageID,
	schema.FieldSender, schema.FieldRecipient, schema.FieldOrigRecipient, schema.FieldSubject,
	schema.FieldSrcIP, schema.FieldSrcHost, schema.FieldHelo, schema.FieldAuthUser, schema.FieldRelay,
}

var keywordLists = []schema.Field{schema.FieldAttachmentName, schema.FieldAttachmentExt, schema.FieldAttachmentType}

// keywordCond is a list of keywords (or a field-less map key): each value
// matches if any text field of the event matches it.
type keywordCond struct {
	all  bool
	vals []val
}

func (c *keywordCond) match(e *schema.Event) bool {
	if c.all {
		for i := range c.vals {
			if !anyText(e, &c.vals[i]) {
				return false
			}
		}
		return true
	}
	for i := range c.vals {
		if anyText(e, &c.vals[i]) {
			return true
		}
	}
	return false
}

func anyText(e *schema.Event, v *val) bool {
	for _, f := range keywordFields {
		s := e.Str(f)
		if (s != "" || e.Has(f)) && v.matchText(s) {
			return true
		}
	}
	for _, f := range keywordLists {
		for _, s := range stringList(e, f) {
			if v.matchText(s) {
				return true
			}
		}
	}
	return false
}

// maybeAddr reports whether s could be an IP address: hex digits, dots and
// colons (and a %zone). It keeps words like "unknown" away from
// netip.ParseAddr, whose error value is allocated.
func maybeAddr(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case '0' <= c && c <= '9', 'a' <= c && c <= 'f', 'A' <= c && c <= 'F', c == '.', c == ':':
		case c == '%':
			return true // the zone may hold anything
		default:
			return false
		}
	}
	return true
}

// looksNumeric reports whether s has the shape of a decimal number
// ([+-]digits[.digits][e[+-]digits]), so ParseFloat is only called when it
// can succeed.
func looksNumeric(s string) bool {
	i := 0
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		i++
	}
	digits := 0
	for i < len(s) && '0' <= s[i] && s[i] <= '9' {
		i++
		digits++
	}
	if i < len(s) && s[i] == '.' {
		i++
		for i < len(s) && '0' <= s[i] && s[i] <= '9' {
			i++
			digits++
		}
	}
	if digits == 0 {
		return false
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		exp := 0
		for i < len(s) && '0' <= s[i] && s[i] <= '9' {
			i++
			exp++
		}
		if exp == 0 {
			return false
		}
	}
	return i == len(s)
}

// Match reports whether the event matches the rule: its logsource product
// (when the rule names one) and its condition. It is safe for concurrent
// use and does not allocate, except when a text pattern is applied to a
// numeric or time field, which needs the number formatted.
func (r *Rule) Match(e *schema.Event) bool {
	if r.cond == nil {
		return false // a correlation rule: see engine/window
	}
	if r.Logsource.Product != "" && !strings.EqualFold(e.Product, r.Logsource.Product) {
		return false
	}
	return r.cond.eval(e)
}

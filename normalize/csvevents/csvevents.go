// Package csvevents reads normalized events that other tools export. It
// registers two formats:
//
//   - "csv": one event a row under a header row of field names;
//   - "json-export": one JSON object a line whose keys are field names,
//     nested or dotted (ECS writes {"email": {"from": {"address": ...}}}).
//
// Field names are the schema's own (time, sender, attachment_name, ...) or
// any alias schema.LookupField knows: Splunk CIM (src_user, file_name,
// file_size, src, dest, ...), ECS and OCSF (email.from.address, source.ip,
// @timestamp, ...) and the seed searches' names (sender, recipient, action,
// attachment_type, attachment_size). On top of those, this package reads
// the ECS attachment fields email.attachments.file.name, .extension,
// .mime_type, .size and .hash.sha256, and CIM's file_hash. Names are matched
// without regard to case; a column no name resolves is skipped and
// counted (unknown_columns).
//
// In CSV, list fields (attachment_name, attachment_ext, attachment_type,
// attachment_size, and the ECS attachment fields) hold their items
// separated by ";"; attachments holds a JSON array of {name, ext, type,
// size, sha256} objects or ";"-separated names. In JSON, lists are arrays.
// When the attachment lists are of one length they are joined into
// attachments, item by item; otherwise they stay flat lists.
//
// The grain is the schema's, one event per recipient: a recipient cell
// with several addresses (";"-separated, or a JSON array, as CIM's
// multivalue recipient is exported) gives one event per address.
//
// Values: time is RFC 3339, "2006-01-02 15:04:05" (Options.Location, UTC by
// default) or Unix epoch seconds (Splunk's _time); numbers may carry a
// fraction; an empty cell is an absent field, except that sender "<>" is
// the null sender. Events keep source_file and source_line when the export
// has them, else they point at the line they were read from.
//
// A CSV stream's first row (after blank and "#" lines) must be its header:
// at least two of its columns must resolve, or the row is NotUnderstood and
// the next row is tried as the header. Rows with an unterminated quote, an
// unreadable value or a different number of fields than the header are
// NotUnderstood, and so are JSON lines that are not an object.
package csvevents

import (
	"encoding/json"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/detect-dev/detect/normalize"
	"github.com/detect-dev/detect/schema"
)

func init() {
	normalize.Register("csv", func(o normalize.Options) normalize.Parser { return NewCSV(o) })
	normalize.Register("json-export", func(o normalize.Options) normalize.Parser { return NewJSON(o) })
}

// Pseudo-fields for names that are not one schema field.
const (
	colSkip   = -1 - iota // unknown column
	colSHA256             // attachment hashes
)

// extraNames are the names this package adds to schema.LookupField's.
var extraNames = map[string]int{
	"email.attachments.file.name":        int(schema.FieldAttachmentName),
	"email.attachments.file.extension":   int(schema.FieldAttachmentExt),
	"email.attachments.file.mime_type":   int(schema.FieldAttachmentType),
	"email.attachments.file.size":        int(schema.FieldAttachmentSize),
	"email.attachments.file.hash.sha256": colSHA256,
	"file.hash.sha256":                   colSHA256,
	"file_hash":                          colSHA256,
	"attachment_sha256":                  colSHA256,
	"sha256":                             colSHA256,
}

// resolve maps a column or key name to a field, colSHA256 or colSkip.
func resolve(name string) int {
	name = strings.TrimSpace(name)
	if c, ok := extraNames[strings.ToLower(name)]; ok {
		return c
	}
	if f, ok := schema.LookupField(name); ok {
		return int(f)
	}
	return colSkip
}

// Stats keys.
const (
	StatUnknownColumns = "unknown_columns" // header columns (or JSON keys, once each) no name resolves
	StatBadValue       = "bad_value"       // rows or objects NotUnderstood for a value
	StatBadRow         = "bad_row"         // rows NotUnderstood for their shape (quoting, field count, not an object)
	StatIgnoredHeader  = "ignored_header"  // header rows
	StatIgnoredComment = "ignored_comment" // "#" lines before the header
	StatIgnoredBlank   = "ignored_blank"   // blank lines
)

// StatsKeys lists every key Stats may return, sorted.
func StatsKeys() []string {
	keys := []string{StatUnknownColumns, StatBadValue, StatBadRow, StatIgnoredHeader, StatIgnoredComment, StatIgnoredBlank}
	sort.Strings(keys)
	return keys
}

type counters struct {
	unknownColumns, badValue, badRow, header, comment, blank int
	unknownKeys                                              map[string]bool
}

func (c *counters) stats() map[string]int {
	return map[string]int{
		StatUnknownColumns: c.unknownColumns, StatBadValue: c.badValue, StatBadRow: c.badRow,
		StatIgnoredHeader: c.header, StatIgnoredComment: c.comment, StatIgnoredBlank: c.blank,
	}
}

// CSVParser reads the "csv" format. Use NewCSV or normalize.New("csv").
type CSVParser struct {
	loc    *time.Location
	cols   []int // field per column; nil until the header is read
	fields []string
	counters
}

var _ normalize.Parser = (*CSVParser)(nil)
var _ normalize.FileAware = (*CSVParser)(nil)

// NewCSV returns a CSV parser for one stream.
func NewCSV(o normalize.Options) *CSVParser {
	p := &CSVParser{loc: o.Location}
	if p.loc == nil {
		p.loc = time.UTC
	}
	return p
}

// BeginFile forgets the header: every file has its own.
func (p *CSVParser) BeginFile(string, time.Time) { p.cols = nil }

// Flush does nothing: events are emitted per row.
func (p *CSVParser) Flush(normalize.Emit) {}

// Stats reports the counters.
func (p *CSVParser) Stats() map[string]int { return p.stats() }

// Parse handles one line. It never panics: anything it cannot place is
// NotUnderstood, for the caller to count and sample.
func (p *CSVParser) Parse(src schema.Line, emit normalize.Emit) normalize.Result {
	text := strings.TrimSuffix(src.Text, "\r")
	text = strings.TrimPrefix(text, "\ufeff")
	if strings.TrimSpace(text) == "" {
		p.blank++
		return normalize.Ignored
	}
	if p.cols == nil && strings.HasPrefix(text, "#") {
		p.comment++
		return normalize.Ignored
	}
	fields, err := SplitRow(text, p.fields)
	p.fields = fields
	if err != nil {
		p.badRow++
		return normalize.NotUnderstood
	}
	if p.cols == nil {
		cols := make([]int, len(fields))
		known, unknown := 0, 0
		for i, f := range fields {
			if cols[i] = resolve(f); cols[i] != colSkip {
				known++
			} else {
				unknown++
			}
		}
		if known < 2 {
			p.badRow++
			return normalize.NotUnderstood
		}
		p.cols = cols
		p.unknownColumns += unknown
		p.header++
		return normalize.Ignored
	}
	if len(fields) != len(p.cols) {
		p.badRow++
		return normalize.NotUnderstood
	}
	b := builder{loc: p.loc}
	for i, f := range fields {
		if p.cols[i] == colSkip || f == "" {
			continue
		}
		var vals []string
		if p.cols[i] == int(schema.FieldAttachments) && strings.HasPrefix(strings.TrimSpace(f), "[") {
			if !b.attachmentsJSON([]byte(f)) {
				p.badValue++
				return normalize.NotUnderstood
			}
			continue
		}
		if isList(p.cols[i]) {
			vals = splitList(f)
		} else {
			vals = []string{strings.TrimSpace(f)}
		}
		if !b.set(p.cols[i], vals) {
			p.badValue++
			return normalize.NotUnderstood
		}
	}
	b.emit(src, emit)
	return normalize.Understood
}

// isList reports whether a column holds ";"-separated items.
func isList(c int) bool {
	if c == colSHA256 {
		return true
	}
	switch schema.Field(c).Kind() {
	case schema.KindStringList, schema.KindIntList, schema.KindObjectList:
		return true
	}
	return schema.Field(c) == schema.FieldRecipient
}

func splitList(s string) []string {
	var out []string
	for _, item := range strings.Split(s, ";") {
		if item = strings.TrimSpace(item); item != "" {
			out = append(out, item)
		}
	}
	return out
}

// JSONParser reads the "json-export" format. Use NewJSON or
// normalize.New("json-export").
type JSONParser struct {
	loc *time.Location
	counters
}

var _ normalize.Parser = (*JSONParser)(nil)

// NewJSON returns a JSON export parser for one stream.
func NewJSON(o normalize.Options) *JSONParser {
	p := &JSONParser{loc: o.Location}
	if p.loc == nil {
		p.loc = time.UTC
	}
	p.unknownKeys = map[string]bool{}
	return p
}

// Flush does nothing: events are emitted per line.
func (p *JSONParser) Flush(normalize.Emit) {}

// Stats reports the counters.
func (p *JSONParser) Stats() map[string]int { return p.stats() }

// maxUnknownKeys bounds the set of unknown keys remembered for counting.
const maxUnknownKeys = 1024

// Parse handles one line. It never panics: anything it cannot place is
// NotUnderstood, for the caller to count and sample.
func (p *JSONParser) Parse(src schema.Line, emit normalize.Emit) normalize.Result {
	text := strings.TrimSpace(strings.TrimPrefix(src.Text, "\ufeff"))
	if text == "" {
		p.blank++
		return normalize.Ignored
	}
	if text[0] != '{' {
		p.badRow++
		return normalize.NotUnderstood
	}
	var obj map[string]any
	dec := json.NewDecoder(strings.NewReader(text))
	dec.UseNumber()
	if err := dec.Decode(&obj); err != nil || dec.More() {
		p.badRow++
		return normalize.NotUnderstood
	}
	b := builder{loc: p.loc}
	if !p.walk(&b, "", obj) {
		p.badValue++
		return normalize.NotUnderstood
	}
	b.emit(src, emit)
	return normalize.Understood
}

// walk sets the fields of obj, whose keys are prefixed with prefix and a
// dot. Objects are walked into, except under the attachments names, whose
// value is the list of attachment objects.
func (p *JSONParser) walk(b *builder, prefix string, obj map[string]any) bool {
	for k, v := range obj {
		name := k
		if prefix != "" {
			name = prefix + "." + k
		}
		c := resolve(name)
		if m, ok := v.(map[string]any); ok && c != int(schema.FieldAttachments) {
			// An object is a level of nesting, even under a name that
			// is an alias itself (ECS "source": {"ip": ...}, where CIM
			// "source" is source_file).
			if !p.walk(b, name, m) {
				return false
			}
			continue
		}
		if c == colSkip {
			if arr, ok := v.([]any); ok && len(arr) > 0 {
				if _, isObj := arr[0].(map[string]any); isObj && (name == "email.attachments" || name == "attachments") {
					raw, _ := json.Marshal(arr)
					if !b.attachmentsJSON(raw) {
						return false
					}
					continue
				}
			}
			if !p.unknownKeys[name] && len(p.unknownKeys) < maxUnknownKeys {
				p.unknownKeys[name] = true
				p.unknownColumns++
			}
			continue
		}
		if c == int(schema.FieldAttachments) {
			raw, _ := json.Marshal(v)
			if !b.attachmentsJSON(raw) {
				return false
			}
			continue
		}
		var vals []string
		switch x := v.(type) {
		case []any:
			for _, item := range x {
				if s, ok := scalar(item); ok && s != "" {
					vals = append(vals, s)
				}
			}
		default:
			s, ok := scalar(x)
			if !ok {
				return false
			}
			if x == nil {
				continue
			}
			if s == "" {
				// "sender": "" is the null sender, as in the json format.
				if c == int(schema.FieldSender) {
					b.ev.SetSender("")
				}
				continue
			}
			vals = []string{s}
		}
		if len(vals) > 0 && !b.set(c, vals) {
			return false
		}
	}
	return true
}

// scalar renders a JSON scalar as text; null is "".
func scalar(v any) (string, bool) {
	switch x := v.(type) {
	case nil:
		return "", true
	case string:
		return x, true
	case json.Number:
		return x.String(), true
	case bool:
		return strconv.FormatBool(x), true
	}
	return "", false
}

// Package m365 normalizes Microsoft 365 (Exchange Online) message trace
// results into schema events. It registers the format "m365".
//
// Message trace has no log file of its own; what reaches detect is one of
// its exports, all read by this parser:
//
//   - CSV: Get-MessageTrace / Get-MessageTraceV2 | Export-Csv (columns
//     Received, SenderAddress, RecipientAddress, Subject, Status, ToIP,
//     FromIP, Size, MessageId, MessageTraceId, after an optional "#TYPE"
//     line), the admin center's downloaded results, and the historical
//     search summary report (origin_timestamp_utc, sender_address,
//     recipient_status "a@x##Receive, Deliver", message_subject,
//     total_bytes, message_id, network_message_id, original_client_ip,
//     directionality). Columns are found by their header row and compared
//     without case and punctuation, so RecipientAddress, recipient_address
//     and "Recipient address" are one.
//   - JSON: the Graph API's exchangeMessageTrace collection ({"value": [...]},
//     camelCase fields, receivedDateTime), the Reporting Web Service's
//     OData answer ({"d": {"results": [...]}} with "/Date(ms)/" stamps),
//     ConvertTo-Json arrays, and one record per line. A document may be
//     pretty-printed over many lines: lines are gathered until the JSON
//     value they open is complete.
//
// One record is one message to one recipient; it becomes one event with
// sender, recipient, subject, size, message_id (without <>), queue_id the
// MessageTraceId (or the network message id), src_ip the FromIP (or
// original_client_ip), relay the ToIP, direction from directionality
// (Incoming inbound, Outgoing outbound, Originating outbound unless sender
// and recipient share a domain, then internal), status the Status as
// written, and event type and action from the Status:
//
//	Delivered       delivery/delivered    delivered to the recipient's mailbox or next hop
//	Expanded        delivery/delivered    a distribution group, delivered to its members
//	Resolved        delivery/delivered    redirected to a new recipient address after a directory lookup
//	Pending         delivery/deferred     delivery underway or deferred and being retried
//	GettingStatus   delivery/deferred     waiting for a status update
//	Failed          delivery/failed       delivery attempted and failed
//	None            delivery/rejected     no delivery status: rejected (or redirected)
//	Quarantined     filter/quarantined    quarantined (spam, phish, malware, mail flow rule)
//	FilteredAsSpam  filter/rejected       marked as spam by filtering, not delivered to the inbox
//
// Status values are compared without case or spaces ("Filtered as spam",
// "filteredAsSpam"). The summary report's recipient_status gives each
// recipient its events; the last one decides: Deliver, Send, Expand,
// Resolve and Redirect delivered, Fail failed, Defer deferred, Drop
// discarded, Receive alone received (receive/received). A record whose
// Status is none of these is NotUnderstood and counted (unknown_status), so
// a new status shows in the scan summary instead of as a wrong action.
//
// Stamps without a zone are taken as UTC, as message trace reports them;
// Export-Csv writes them in the exporting machine's culture, and the
// formats month/day/year with AM/PM, ISO and day.month.year are read.
package m365

import (
	"bytes"
	"encoding/json"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/detect-dev/detect/normalize"
	"github.com/detect-dev/detect/normalize/csvevents"
	"github.com/detect-dev/detect/schema"
)

func init() {
	normalize.Register("m365", func(o normalize.Options) normalize.Parser { return New(o) })
}

// Columns read.
const (
	colTime = iota
	colSender
	colRecipient
	colSubject
	colStatus
	colRecipientStatus // summary report: "a@x##Receive, Deliver;b@y##..."
	colFromIP
	colToIP
	colSize
	colMessageID
	colTraceID
	colNetworkID
	colDirection
	numCols
)

// columnNames maps column names, lower case letters and digits only, to
// the columns read.
var columnNames = map[string]int{
	"received":           colTime,
	"receiveddatetime":   colTime,
	"date":               colTime,
	"dateutc":            colTime,
	"datetime":           colTime,
	"datetimeutc":        colTime,
	"origintimestamputc": colTime,
	"timestamp":          colTime,
	"senderaddress":      colSender,
	"sender":             colSender,
	"recipientaddress":   colRecipient,
	"recipient":          colRecipient,
	"recipients":         colRecipient,
	"subject":            colSubject,
	"messagesubject":     colSubject,
	"status":             colStatus,
	"deliverystatus":     colStatus,
	"recipientstatus":    colRecipientStatus,
	"fromip":             colFromIP,
	"originalclientip":   colFromIP,
	"toip":               colToIP,
	"size":               colSize,
	"totalbytes":         colSize,
	"messageid":          colMessageID,
	"messagetraceid":     colTraceID,
	"id":                 colTraceID,
	"networkmessageid":   colNetworkID,
	"directionality":     colDirection,
	"direction":          colDirection,
}

// statusKind is what a Status value makes.
type statusKind struct{ typ, action string }

// statuses maps Status values (lower case, no spaces) to events.
var statuses = map[string]statusKind{
	"delivered":      {schema.TypeDelivery, schema.ActionDelivered},
	"expanded":       {schema.TypeDelivery, schema.ActionDelivered},
	"resolved":       {schema.TypeDelivery, schema.ActionDelivered},
	"pending":        {schema.TypeDelivery, schema.ActionDeferred},
	"gettingstatus":  {schema.TypeDelivery, schema.ActionDeferred},
	"failed":         {schema.TypeDelivery, schema.ActionFailed},
	"none":           {schema.TypeDelivery, schema.ActionRejected},
	"quarantined":    {schema.TypeFilter, schema.ActionQuarantined},
	"filteredasspam": {schema.TypeFilter, schema.ActionRejected},
}

// summaryEvents maps the last event of a summary report's recipient_status.
var summaryEvents = map[string]statusKind{
	"deliver":  {schema.TypeDelivery, schema.ActionDelivered},
	"send":     {schema.TypeDelivery, schema.ActionDelivered},
	"expand":   {schema.TypeDelivery, schema.ActionDelivered},
	"resolve":  {schema.TypeDelivery, schema.ActionDelivered},
	"redirect": {schema.TypeDelivery, schema.ActionDelivered},
	"fail":     {schema.TypeDelivery, schema.ActionFailed},
	"defer":    {schema.TypeDelivery, schema.ActionDeferred},
	"drop":     {schema.TypeDelivery, schema.ActionDiscarded},
	"receive":  {schema.TypeReceive, schema.ActionReceived},
}

// Stats keys besides the ignored_<category> counters.
const (
	StatRecords          = "records"           // message trace records read (CSV rows and JSON objects)
	StatUnknownStatus    = "unknown_status"    // records NotUnderstood for their Status
	StatBadRecord        = "bad_record"        // records without a readable time, rows before a header, bad quoting
	StatJSONErrors       = "json_errors"       // JSON documents that did not decode (their last line is NotUnderstood)
	StatJSONUnterminated = "json_unterminated" // lines of a JSON document still open at the end of a file
)

// Ignored-line categories.
const (
	catHeader = iota // CSV header rows and PowerShell's #TYPE line
	catBlank
	numCategories
)

var categoryNames = [numCategories]string{catHeader: "header", catBlank: "blank"}

// MaxDocument bounds a multi-line JSON document; a longer one is dropped
// and its last line NotUnderstood.
const MaxDocument = 256 << 20

// Parser parses one message trace export stream. Use New or
// normalize.New("m365").
type Parser struct {
	loc     *time.Location
	cols    [numCols]int // CSV field index per column, -1 when absent
	haveHdr bool
	fields  []string

	// A JSON document being gathered over lines.
	doc      []byte
	docLines int
	depth    int
	inString bool
	escaped  bool

	keys map[string]int // JSON key -> column, see keyColumn

	ignored      [numCategories]int
	records      int
	unknown      int
	bad          int
	jsonErrors   int
	unterminated int
}

var _ normalize.Parser = (*Parser)(nil)
var _ normalize.FileAware = (*Parser)(nil)

// New returns a parser for one stream.
func New(o normalize.Options) *Parser {
	p := &Parser{loc: o.Location}
	if p.loc == nil {
		p.loc = time.UTC
	}
	p.reset()
	return p
}

func (p *Parser) reset() {
	for i := range p.cols {
		p.cols[i] = -1
	}
	p.haveHdr = false
}

// BeginFile forgets the CSV header and any unfinished JSON document: each
// file states its own.
func (p *Parser) BeginFile(string, time.Time) {
	p.dropDocument()
	p.reset()
}

func (p *Parser) dropDocument() {
	p.unterminated += p.docLines
	p.doc, p.docLines, p.depth, p.inString, p.escaped = p.doc[:0], 0, 0, false, false
}

// Flush counts the lines of a JSON document left open.
func (p *Parser) Flush(normalize.Emit) { p.dropDocument() }

// Stats reports records, records not understood and ignored lines.
func (p *Parser) Stats() map[string]int {
	m := map[string]int{
		StatRecords: p.records, StatUnknownStatus: p.unknown, StatBadRecord: p.bad,
		StatJSONErrors: p.jsonErrors, StatJSONUnterminated: p.unterminated,
	}
	for i, n := range p.ignored {
		if n > 0 {
			m["ignored_"+categoryNames[i]] = n
		}
	}
	return m
}

// StatsKeys lists every key Stats may return, sorted.
func StatsKeys() []string {
	keys := []string{StatRecords, StatUnknownStatus, StatBadRecord, StatJSONErrors, StatJSONUnterminated}
	for _, n := range categoryNames {
		keys = append(keys, "ignored_"+n)
	}
	sort.Strings(keys)
	return keys
}

func (p *Parser) ignore(cat int) normalize.Result {
	p.ignored[cat]++
	return normalize.Ignored
}

// canonical lowers a name and keeps only letters and digits.
func canonical(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', '0' <= c && c <= '9':
			b.WriteByte(c)
		case 'A' <= c && c <= 'Z':
			b.WriteByte(c + 'a' - 'A')
		}
	}
	return b.String()
}

// Parse handles one line. It never panics: anything it cannot place is
// NotUnderstood, for the caller to count and sample.
func (p *Parser) Parse(src schema.Line, emit normalize.Emit) normalize.Result {
	text := strings.TrimSuffix(src.Text, "\r")
	text = strings.TrimPrefix(text, "\ufeff")
	if p.docLines > 0 {
		return p.jsonLine(text, src, emit)
	}
	trimmed := strings.TrimSpace(text)
	if trimmed == "" {
		return p.ignore(catBlank)
	}
	if trimmed[0] == '{' || trimmed[0] == '[' {
		return p.jsonLine(text, src, emit)
	}
	if strings.HasPrefix(trimmed, "#TYPE") || strings.HasPrefix(trimmed, "#") && !p.haveHdr {
		return p.ignore(catHeader)
	}
	fields, err := csvevents.SplitRow(text, p.fields)
	p.fields = fields
	if err != nil {
		p.bad++
		return normalize.NotUnderstood
	}
	if p.header(fields) {
		return p.ignore(catHeader)
	}
	if !p.haveHdr {
		p.bad++
		return normalize.NotUnderstood
	}
	var rec [numCols]string
	for c, i := range p.cols {
		if i >= 0 && i < len(fields) {
			rec[c] = strings.TrimSpace(fields[i])
		}
	}
	return p.record(&rec, src, emit)
}

// header takes a row as the CSV header when it names a time column and a
// sender, recipient or status column, and no field looks like data.
func (p *Parser) header(fields []string) bool {
	var cols [numCols]int
	for i := range cols {
		cols[i] = -1
	}
	for i, f := range fields {
		if strings.ContainsAny(f, "@/") {
			return false
		}
		if c, ok := columnNames[canonical(f)]; ok && cols[c] < 0 {
			cols[c] = i
		}
	}
	if cols[colTime] < 0 || cols[colSender] < 0 && cols[colRecipient] < 0 && cols[colRecipientStatus] < 0 {
		return false
	}
	p.cols, p.haveHdr = cols, true
	return true
}

// jsonLine adds a line to the JSON document being gathered and decodes the
// document when its outermost value closes.
func (p *Parser) jsonLine(text string, src schema.Line, emit normalize.Emit) normalize.Result {
	p.docLines++
	start := len(p.doc)
	p.doc = append(p.doc, text...)
	p.doc = append(p.doc, '\n')
	complete := false
	for i := start; i < len(p.doc); i++ {
		c := p.doc[i]
		switch {
		case p.inString:
			switch {
			case p.escaped:
				p.escaped = false
			case c == '\\':
				p.escaped = true
			case c == '"':
				p.inString = false
			}
		case c == '"':
			p.inString = true
		case c == '{' || c == '[':
			p.depth++
		case c == '}' || c == ']':
			p.depth--
			if p.depth <= 0 {
				complete = true
			}
		}
		if complete {
			// Text after the value on the same line is not JSON.
			if strings.TrimSpace(string(p.doc[i+1:])) != "" {
				p.jsonErrors++
				p.doc, p.docLines, p.depth, p.inString, p.escaped = p.doc[:0], 0, 0, false, false
				return normalize.NotUnderstood
			}
			break
		}
	}
	if !complete {
		if len(p.doc) > MaxDocument {
			p.jsonErrors++
			p.doc, p.docLines, p.depth, p.inString, p.escaped = p.doc[:0], 0, 0, false, false
			return normalize.NotUnderstood
		}
		return normalize.Understood // gathered; decoded when complete
	}
	doc := p.doc
	p.doc, p.docLines, p.depth, p.inString, p.escaped = p.doc[:0], 0, 0, false, false
	recs, ok := decodeDocument(doc)
	if !ok {
		p.jsonErrors++
		return normalize.NotUnderstood
	}
	if len(recs) == 0 {
		return p.ignore(catHeader) // an empty collection: {"value": []}
	}
	result := normalize.NotUnderstood
	for _, m := range recs {
		var rec [numCols]string
		for k, v := range m {
			c := p.keyColumn(k)
			if c < 0 || rec[c] != "" {
				continue
			}
			rec[c] = jsonText(v)
		}
		if p.record(&rec, src, emit) == normalize.Understood {
			result = normalize.Understood
		}
	}
	return result
}

// keyColumn resolves a JSON key to a column (-1 for none), remembering the
// answers: records repeat the same few keys.
func (p *Parser) keyColumn(k string) int {
	if c, ok := p.keys[k]; ok {
		return c
	}
	c, ok := columnNames[canonical(k)]
	if !ok {
		c = -1
	}
	if p.keys == nil {
		p.keys = map[string]int{}
	}
	if len(p.keys) < 256 {
		p.keys[k] = c
	}
	return c
}

// decodeDocument finds the message trace records of a JSON document.
func decodeDocument(doc []byte) ([]map[string]json.RawMessage, bool) {
	doc = bytes.TrimSpace(doc)
	if len(doc) > 0 && doc[0] == '[' {
		var recs []map[string]json.RawMessage
		if err := json.Unmarshal(doc, &recs); err != nil {
			return nil, false
		}
		return recs, true
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(doc, &top); err != nil {
		return nil, false
	}
	if v, ok := top["value"]; ok { // Graph and OData v4
		return decodeDocument(v)
	}
	if d, ok := top["d"]; ok { // OData v2: {"d": {"results": [...]}} or {"d": [...]}
		var inner map[string]json.RawMessage
		if json.Unmarshal(d, &inner) == nil {
			if r, ok := inner["results"]; ok {
				return decodeDocument(r)
			}
			return []map[string]json.RawMessage{inner}, true
		}
		return decodeDocument(d)
	}
	return []map[string]json.RawMessage{top}, true
}

// jsonText renders a JSON value as the text of a field: strings unquoted,
// numbers as written, null and objects as "".
func jsonText(v json.RawMessage) string {
	v = bytes.TrimSpace(v)
	if len(v) == 0 {
		return ""
	}
	switch v[0] {
	case '"':
		if len(v) >= 2 && v[len(v)-1] == '"' && bytes.IndexByte(v[1:len(v)-1], '\\') < 0 &&
			bytes.IndexByte(v[1:len(v)-1], '"') < 0 && utf8.Valid(v) {
			return strings.TrimSpace(string(v[1 : len(v)-1])) // no escapes: the text itself
		}
		var s string
		if json.Unmarshal(v, &s) != nil {
			return ""
		}
		return strings.TrimSpace(s)
	case 'n', '{', '[':
		return ""
	}
	return string(v)
}

// record turns one record into events.
func (p *Parser) record(rec *[numCols]string, src schema.Line, emit normalize.Emit) normalize.Result {
	p.records++
	t, ok := parseTime(rec[colTime], p.loc)
	if !ok {
		p.bad++
		return normalize.NotUnderstood
	}
	base := schema.Event{
		Time:       t,
		Product:    "m365",
		Process:    "message-trace",
		Subject:    rec[colSubject],
		MessageID:  trimAngle(rec[colMessageID]),
		QueueID:    rec[colTraceID],
		SrcIP:      rec[colFromIP],
		Relay:      rec[colToIP],
		SourceFile: src.File,
		SourceLine: src.Number,
	}
	if base.QueueID == "" {
		base.QueueID = rec[colNetworkID]
	}
	if s := rec[colSender]; s != "" {
		if s == "<>" {
			s = ""
		}
		base.SetSender(s)
	}
	if n, err := strconv.ParseInt(rec[colSize], 10, 64); err == nil && n >= 0 {
		base.Size = n
	} else if f, err := strconv.ParseFloat(rec[colSize], 64); err == nil && f >= 0 && f < 1e18 {
		base.Size = int64(f)
	}

	type outcome struct {
		rcpt, status string
		kind         statusKind
	}
	var outs []outcome
	if rs := rec[colRecipientStatus]; rs != "" && strings.Contains(rs, "##") {
		for _, item := range strings.Split(rs, ";") {
			addr, evs, ok := strings.Cut(item, "##")
			if !ok {
				continue
			}
			evs = strings.TrimSpace(evs)
			last := evs
			if i := strings.LastIndexByte(evs, ','); i >= 0 {
				last = evs[i+1:]
			}
			k, ok := summaryEvents[canonical(last)]
			if !ok {
				p.unknown++
				return normalize.NotUnderstood
			}
			outs = append(outs, outcome{strings.TrimSpace(addr), evs, k})
		}
	} else {
		st := rec[colStatus]
		k, ok := statuses[canonical(st)]
		if !ok {
			p.unknown++
			return normalize.NotUnderstood
		}
		rcpts := splitRecipients(rec[colRecipient])
		if len(rcpts) == 0 {
			rcpts = []string{""}
		}
		for _, r := range rcpts {
			outs = append(outs, outcome{r, st, k})
		}
	}
	if len(outs) == 0 {
		p.bad++
		return normalize.NotUnderstood
	}
	for _, o := range outs {
		ev := base
		ev.Recipient = trimAngle(o.rcpt)
		ev.EventType, ev.Action, ev.Status = o.kind.typ, o.kind.action, o.status
		ev.Direction = direction(rec[colDirection], ev.Sender, ev.Recipient)
		ev.Complete()
		emit(&ev)
	}
	return normalize.Understood
}

// splitRecipients splits a list of addresses separated by ";" or ",".
func splitRecipients(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return r == ';' || r == ',' || r == ' ' })
}

func direction(dir, sender, rcpt string) string {
	switch canonical(dir) {
	case "":
		return ""
	case "incoming", "inbound":
		return schema.DirectionInbound
	case "outgoing", "outbound":
		return schema.DirectionOutbound
	case "originating":
		if sd, rd := schema.DomainOf(sender), schema.DomainOf(rcpt); sd != "" && sd == rd {
			return schema.DirectionInternal
		}
		return schema.DirectionOutbound
	case "intraorg", "internal":
		return schema.DirectionInternal
	}
	return schema.DirectionUnknown
}

// parseTime reads the stamps of the exports (see the package comment).
func parseTime(s string, loc *time.Location) (time.Time, bool) {
	if s == "" {
		return time.Time{}, false
	}
	if strings.HasPrefix(s, "/Date(") && strings.HasSuffix(s, ")/") {
		// "/Date(1795766401000)/", optionally with "+0100" after the ms.
		ms := s[len("/Date(") : len(s)-2]
		if i := strings.IndexAny(ms[min(1, len(ms)):], "+-"); i >= 0 {
			ms = ms[:i+1]
		}
		n, err := strconv.ParseInt(ms, 10, 64)
		if err != nil || n < -62135596800000 || n > 253402300799000 {
			return time.Time{}, false
		}
		return time.UnixMilli(n).UTC(), true
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t.UTC(), true
	}
	for _, layout := range [...]string{
		"2006-01-02T15:04:05.9999999", "2006-01-02 15:04:05.9999999", "2006-01-02 15:04:05Z07:00",
		"1/2/2006 3:04:05 PM", "1/2/2006 3:04 PM", "1/2/2006 15:04:05", "1/2/2006 15:04",
		"02.01.2006 15:04:05", "2.1.2006 15:04:05", "02/01/2006 15:04:05",
	} {
		if t, err := time.ParseInLocation(layout, s, loc); err == nil {
			return t.UTC(), true
		}
	}
	return time.Time{}, false
}

func trimAngle(s string) string {
	if len(s) >= 2 && s[0] == '<' && s[len(s)-1] == '>' {
		return s[1 : len(s)-1]
	}
	return s
}

// Package exchange normalizes Microsoft Exchange Server logs into schema
// events. It registers two formats:
//
//   - "exchange": the message tracking log (MSGTRK*.LOG), this file;
//   - "exchange-smtp": the SMTP receive protocol log (RECV*.LOG), smtp.go.
//
// # Message tracking log
//
// A tracking log is CSV under a header of comment lines:
//
//	#Software: Microsoft Exchange Server
//	#Version: 15.02.1118.007
//	#Log-type: Message Tracking Log
//	#Date: 2026-11-27T08:00:00.000Z
//	#Fields: date-time,client-ip,client-hostname,server-ip,server-hostname,...
//
// The columns are taken from #Fields: (the Exchange 2013+ list is assumed
// until one is seen), and also from the header row of a
// Get-MessageTrackingLog | Export-Csv export (Timestamp, EventId, Sender,
// Recipients, ..., after an optional "#TYPE" line): column names are
// compared without case and punctuation, so event-id and EventId are one.
// Quoted fields may hold commas and doubled quotes.
//
// One row is one event of one message on one server; its recipient-address
// column lists the recipients it concerns, separated by ";", and
// recipient-status their statuses in the same order. A row of an event id
// that makes events becomes one event per recipient:
//
//	RECEIVE        receive/received    message accepted (SMTP, STOREDRIVER submission, pickup)
//	SEND           delivery/delivered  handed to another server over SMTP (relay = server-hostname)
//	DELIVER        delivery/delivered  delivered to a mailbox
//	DEFER          delivery/deferred   delayed, will be retried (reason from the {LED=...} of the status)
//	FAIL           delivery/bounced    failed permanently; Exchange sends a non-delivery report
//	DROP           delivery/discarded  dropped without a non-delivery report
//	BADMAIL        delivery/failed     could neither be delivered nor returned
//	POISONMESSAGE  delivery/failed     put in the poison message queue
//
// The other documented event ids are recognized and ignored, counted per id
// in Stats as ignored_<id>: DSN (the non-delivery report is a new message;
// the FAIL row carries the outcome), the routing steps RESOLVE, REDIRECT,
// EXPAND, TRANSFER and the DUPLICATE* ones, the submission steps SUBMIT,
// SUBMITDEFER, SUBMITFAIL, CLIENTSUBMISSION, RESUBMIT*, the shadow
// redundancy steps HA* and NOTIFYSHADOW, and the agent and moderation
// records AGENTINFO, PROCESS, PROCESSMEETINGMESSAGE, NOTIFYMAPI, LOAD,
// INITMESSAGECREATED, MODERATOR*, MODERATIONEXPIRE, MODERATEDTRANSFER,
// THROTTLE, SUPPRESSED, DELIVERFAIL. A row with an unknown event id, an
// unreadable date-time or an unterminated quote is NotUnderstood.
//
// Fields: time from date-time, queue_id from internal-message-id,
// message_id (without <>), sender from sender-address ("<>" is the null
// sender), size from total-bytes, recipient_count, subject from
// message-subject, status the event id, status_code and reason from the
// recipient's recipient-status ("550 5.1.10 RESOLVER.ADR.RecipientNotFound;
// not found" gives "550 5.1.10" and the text). src_ip is original-client-ip,
// else client-ip on RECEIVE rows from SMTP (with src_host client-hostname);
// host is the Exchange server that logged the row (server-hostname, else
// client-hostname; client-hostname on SEND rows, where the server is the
// next hop). process is the source column (SMTP, STOREDRIVER,
// ROUTING, AGENT, DSN ...), protocol is smtp for SMTP rows. direction comes
// from directionality: Incoming is inbound, Originating is internal when
// the recipient's domain is the sender's or the row is a DELIVER, outbound
// otherwise; Undefined is unknown.
package exchange

import (
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/detect-dev/detect/normalize"
	"github.com/detect-dev/detect/normalize/csvevents"
	"github.com/detect-dev/detect/schema"
)

func init() {
	normalize.Register("exchange", func(o normalize.Options) normalize.Parser { return New(o) })
	normalize.Register("exchange-smtp", func(o normalize.Options) normalize.Parser { return NewSMTP(o) })
}

// Columns of the tracking log that the parser reads.
const (
	colDateTime = iota
	colClientIP
	colClientHost
	colServerIP
	colServerHost
	colSource
	colEventID
	colInternalID
	colMessageID
	colRecipients
	colRecipientStatus
	colTotalBytes
	colRecipientCount
	colSubject
	colSender
	colDirectionality
	colOrigClientIP
	numCols
)

// columnNames maps column names, lower case without punctuation, to the
// columns read. Both the log's names (date-time) and the property names of
// Get-MessageTrackingLog (Timestamp) are listed.
var columnNames = map[string]int{
	"datetime":          colDateTime,
	"timestamp":         colDateTime,
	"clientip":          colClientIP,
	"clienthostname":    colClientHost,
	"serverip":          colServerIP,
	"serverhostname":    colServerHost,
	"source":            colSource,
	"eventid":           colEventID,
	"internalmessageid": colInternalID,
	"messageid":         colMessageID,
	"recipientaddress":  colRecipients,
	"recipients":        colRecipients,
	"recipientstatus":   colRecipientStatus,
	"totalbytes":        colTotalBytes,
	"recipientcount":    colRecipientCount,
	"messagesubject":    colSubject,
	"senderaddress":     colSender,
	"sender":            colSender,
	"directionality":    colDirectionality,
	"originalclientip":  colOrigClientIP,
}

// defaultFields is the #Fields: line of Exchange 2013 to 2019, used until
// a file states its own.
const defaultFields = "date-time,client-ip,client-hostname,server-ip,server-hostname,source-context," +
	"connector-id,source,event-id,internal-message-id,message-id,network-message-id,recipient-address," +
	"recipient-status,total-bytes,recipient-count,related-recipient-address,reference,message-subject," +
	"sender-address,return-path,message-info,directionality,tenant-id,original-client-ip," +
	"original-server-ip,custom-data,transport-traffic-type,log-id,schema-version"

// eventKind says what an event id makes.
type eventKind struct {
	typ, action string // "" for ignored ids
}

// eventIDs lists every documented event id of the tracking log.
var eventIDs = map[string]eventKind{
	"RECEIVE":       {schema.TypeReceive, schema.ActionReceived},
	"SEND":          {schema.TypeDelivery, schema.ActionDelivered},
	"DELIVER":       {schema.TypeDelivery, schema.ActionDelivered},
	"DEFER":         {schema.TypeDelivery, schema.ActionDeferred},
	"FAIL":          {schema.TypeDelivery, schema.ActionBounced},
	"DROP":          {schema.TypeDelivery, schema.ActionDiscarded},
	"BADMAIL":       {schema.TypeDelivery, schema.ActionFailed},
	"POISONMESSAGE": {schema.TypeDelivery, schema.ActionFailed},

	"DSN":                   {},
	"RESOLVE":               {},
	"REDIRECT":              {},
	"EXPAND":                {},
	"TRANSFER":              {},
	"DUPLICATEDELIVER":      {},
	"DUPLICATEEXPAND":       {},
	"DUPLICATEREDIRECT":     {},
	"SUBMIT":                {},
	"SUBMITDEFER":           {},
	"SUBMITFAIL":            {},
	"CLIENTSUBMISSION":      {},
	"RESUBMIT":              {},
	"RESUBMITDEFER":         {},
	"RESUBMITFAIL":          {},
	"HADISCARD":             {},
	"HARECEIVE":             {},
	"HAREDIRECT":            {},
	"HAREDIRECTFAIL":        {},
	"NOTIFYSHADOW":          {},
	"AGENTINFO":             {},
	"PROCESS":               {},
	"PROCESSMEETINGMESSAGE": {},
	"NOTIFYMAPI":            {},
	"LOAD":                  {},
	"INITMESSAGECREATED":    {},
	"MODERATORAPPROVE":      {},
	"MODERATORREJECT":       {},
	"MODERATIONEXPIRE":      {},
	"MODERATEDTRANSFER":     {},
	"THROTTLE":              {},
	"SUPPRESSED":            {},
	"DELIVERFAIL":           {},
}

// Stats keys besides ignored_<event id> (lower case), ignored_header and
// ignored_blank.
const (
	StatUnknownEventID = "unknown_event_id" // rows NotUnderstood for their event id
	StatBadRow         = "bad_row"          // rows NotUnderstood otherwise (time, quoting, too few columns)
)

// Parser parses one message tracking log stream. Use New or
// normalize.New("exchange").
type Parser struct {
	loc     *time.Location
	cols    [numCols]int // field index per column, -1 when absent
	fields  []string
	ignored map[string]int
	unknown int
	bad     int
}

var _ normalize.Parser = (*Parser)(nil)
var _ normalize.FileAware = (*Parser)(nil)

// New returns a parser for one stream.
func New(o normalize.Options) *Parser {
	p := &Parser{loc: o.Location, ignored: map[string]int{}}
	if p.loc == nil {
		p.loc = time.UTC
	}
	p.setFields(strings.Split(defaultFields, ","))
	return p
}

// BeginFile resets the columns to the default for the next file, which
// states its own in its header.
func (p *Parser) BeginFile(string, time.Time) {
	p.setFields(strings.Split(defaultFields, ","))
}

// Flush does nothing: events are emitted per row.
func (p *Parser) Flush(normalize.Emit) {}

// Stats reports the ignored rows per event id and the rows not understood.
func (p *Parser) Stats() map[string]int {
	m := map[string]int{StatUnknownEventID: p.unknown, StatBadRow: p.bad}
	for k, v := range p.ignored {
		m["ignored_"+k] = v
	}
	return m
}

// StatsKeys lists every key Stats may return, sorted.
func StatsKeys() []string {
	keys := []string{StatUnknownEventID, StatBadRow, "ignored_header", "ignored_blank"}
	for id, k := range eventIDs {
		if k.typ == "" {
			keys = append(keys, "ignored_"+strings.ToLower(id))
		}
	}
	sort.Strings(keys)
	return keys
}

func (p *Parser) ignore(cat string) normalize.Result {
	p.ignored[cat]++
	return normalize.Ignored
}

// canonical lowers a column name and drops everything but letters and
// digits: "event-id", "EventId" and "Event ID" are "eventid".
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

// setFields maps the columns read onto the given names.
func (p *Parser) setFields(names []string) {
	for i := range p.cols {
		p.cols[i] = -1
	}
	for i, n := range names {
		if c, ok := columnNames[canonical(n)]; ok && p.cols[c] < 0 {
			p.cols[c] = i
		}
	}
}

// isHeaderRow reports whether a row is the header of a CSV export: it
// names the event id and the time, and every field is a plain name.
func isHeaderRow(fields []string) bool {
	hasID, hasTime := false, false
	for _, f := range fields {
		c, ok := columnNames[canonical(f)]
		switch {
		case !ok:
		case c == colEventID:
			hasID = true
		case c == colDateTime:
			hasTime = true
		}
		if strings.ContainsAny(f, "@:;") {
			return false
		}
	}
	return hasID && hasTime
}

// Parse handles one line. It never panics: anything it cannot place is
// NotUnderstood, for the caller to count and sample.
func (p *Parser) Parse(src schema.Line, emit normalize.Emit) normalize.Result {
	text := strings.TrimSuffix(src.Text, "\r")
	text = strings.TrimPrefix(text, "\ufeff")
	if strings.TrimSpace(text) == "" {
		return p.ignore("blank")
	}
	if text[0] == '#' {
		if rest, ok := strings.CutPrefix(text, "#Fields:"); ok {
			fields, err := csvevents.SplitRow(strings.TrimSpace(rest), p.fields)
			p.fields = fields
			if err != nil || len(fields) < 2 {
				p.bad++
				return normalize.NotUnderstood
			}
			p.setFields(fields)
		}
		// #Software, #Version, #Log-type, #Date, and PowerShell's #TYPE.
		return p.ignore("header")
	}
	fields, err := csvevents.SplitRow(text, p.fields)
	p.fields = fields
	if err != nil {
		p.bad++
		return normalize.NotUnderstood
	}
	if isHeaderRow(fields) {
		p.setFields(fields)
		return p.ignore("header")
	}
	get := func(c int) string {
		if i := p.cols[c]; i >= 0 && i < len(fields) {
			return strings.TrimSpace(fields[i])
		}
		return ""
	}
	id := strings.ToUpper(get(colEventID))
	kind, known := eventIDs[id]
	if !known {
		if id == "" {
			p.bad++
		} else {
			p.unknown++
		}
		return normalize.NotUnderstood
	}
	t, ok := parseTime(get(colDateTime), p.loc)
	if !ok {
		p.bad++
		return normalize.NotUnderstood
	}
	if kind.typ == "" {
		return p.ignore(strings.ToLower(id))
	}

	base := schema.Event{
		Time:       t,
		Product:    "exchange",
		Process:    get(colSource),
		EventType:  kind.typ,
		Action:     kind.action,
		Status:     id,
		QueueID:    get(colInternalID),
		MessageID:  trimAngle(get(colMessageID)),
		Subject:    get(colSubject),
		SourceFile: src.File,
		SourceLine: src.Number,
	}
	if strings.EqualFold(base.Process, "SMTP") {
		base.Protocol = "smtp"
	}
	if s := get(colSender); s != "" {
		if s == "<>" {
			s = ""
		}
		base.SetSender(s)
	}
	if n, err := strconv.ParseInt(get(colTotalBytes), 10, 64); err == nil && n >= 0 {
		base.Size = n
	}
	if n, err := strconv.Atoi(get(colRecipientCount)); err == nil && n >= 0 {
		base.RecipientCount = n
	}
	if id == "SEND" {
		base.Host = get(colClientHost)
		base.Relay = hostIP(get(colServerHost), get(colServerIP))
	} else if base.Host = get(colServerHost); base.Host == "" {
		base.Host = get(colClientHost) // DEFER rows of an SMTP send name no server
	}
	base.SrcIP = get(colOrigClientIP)
	if id == "RECEIVE" && base.Protocol == "smtp" {
		if base.SrcIP == "" {
			base.SrcIP = get(colClientIP)
		}
		base.SrcHost = get(colClientHost)
	}
	dir := get(colDirectionality)

	recipients := splitList(get(colRecipients))
	statuses := splitStatuses(get(colRecipientStatus))
	if len(recipients) == 0 {
		recipients = []string{""}
	}
	for i, rcpt := range recipients {
		ev := base
		ev.Recipient = rcpt
		var st string
		switch {
		case len(statuses) == len(recipients):
			st = statuses[i]
		case len(statuses) == 1:
			st = statuses[0]
		}
		ev.StatusCode, ev.Reason = splitStatus(st)
		ev.Direction = direction(dir, id, ev.Sender, rcpt)
		ev.Complete()
		emit(&ev)
	}
	return normalize.Understood
}

// parseTime reads date-time: RFC 3339 as the log writes it, or the
// culture-formatted stamps of an Export-Csv (taken in loc).
func parseTime(s string, loc *time.Location) (time.Time, bool) {
	if s == "" {
		return time.Time{}, false
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t.UTC(), true
	}
	for _, layout := range [...]string{
		"2006-01-02T15:04:05.999999999", "2006-01-02 15:04:05.999999999", "2006-01-02 15:04:05Z07:00",
		"1/2/2006 3:04:05 PM", "1/2/2006 15:04:05", "02.01.2006 15:04:05", "02/01/2006 15:04:05",
	} {
		if t, err := time.ParseInLocation(layout, s, loc); err == nil {
			return t.UTC(), true
		}
	}
	return time.Time{}, false
}

// splitList splits a ";"-separated address list, dropping empty items.
// PowerShell writes an unjoined list as "System.String[]": no addresses.
func splitList(s string) []string {
	if s == "" || s == "System.String[]" {
		return nil
	}
	var out []string
	for s != "" {
		item, rest, _ := strings.Cut(s, ";")
		if item = strings.TrimSpace(item); item != "" {
			out = append(out, trimAngle(item))
		}
		s = rest
	}
	return out
}

// splitStatuses splits recipient-status into the statuses of the row's
// recipients. The separator is ";", which also occurs inside one status
// ("550 5.1.10 RESOLVER.ADR.RecipientNotFound; not found", and the
// "[{LRT=};{LED=...}]" of deferrals), so a ";" only separates when an SMTP
// reply code or a "[{" follows it.
func splitStatuses(s string) []string {
	if s == "" || s == "System.String[]" {
		return nil
	}
	var out []string
	start := 0
	for i := 0; i < len(s); i++ {
		if s[i] != ';' {
			continue
		}
		next := strings.TrimLeft(s[i+1:], " ")
		if startsWithCode(next) || strings.HasPrefix(next, "[{") {
			out = append(out, strings.TrimSpace(s[start:i]))
			start = i + 1
		}
	}
	return append(out, strings.TrimSpace(s[start:]))
}

// startsWithCode reports whether s starts with a three-digit reply code and
// a space or dash.
func startsWithCode(s string) bool {
	return len(s) >= 4 && isDigit(s[0]) && isDigit(s[1]) && isDigit(s[2]) && (s[3] == ' ' || s[3] == '-')
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// splitStatus splits one recipient status into its code ("550 5.1.1") and
// text. A deferral's "[{LRT=...};{LED=451 4.4.0 DNS query failed};...]"
// gives the last error, LED.
func splitStatus(s string) (code, text string) {
	if strings.HasPrefix(s, "[{") {
		i := strings.Index(s, "{LED=")
		if i < 0 {
			return "", s
		}
		led := s[i+len("{LED="):]
		if j := strings.IndexByte(led, '}'); j >= 0 {
			led = led[:j]
		}
		s = led
	}
	if !startsWithCode(s) {
		return "", s
	}
	code, rest := s[:3], strings.TrimLeft(s[4:], " ")
	// An enhanced status code: class.subject.detail.
	if sp := strings.IndexByte(rest, ' '); sp > 0 || (len(rest) > 0 && isEnhanced(rest)) {
		dsn := rest
		if sp > 0 {
			dsn = rest[:sp]
		}
		if isEnhanced(dsn) {
			code += " " + dsn
			rest = strings.TrimLeft(rest[len(dsn):], " ")
		}
	}
	return code, rest
}

// isEnhanced reports whether s is an enhanced status code like 5.7.1.
func isEnhanced(s string) bool {
	if len(s) < 5 || (s[0] != '2' && s[0] != '4' && s[0] != '5') || s[1] != '.' {
		return false
	}
	dots := 0
	for i := 2; i < len(s); i++ {
		switch {
		case s[i] == '.':
			dots++
		case !isDigit(s[i]):
			return false
		}
	}
	return dots == 1 && s[len(s)-1] != '.'
}

// direction maps directionality (see the package comment).
func direction(dir, id, sender, rcpt string) string {
	switch strings.ToLower(dir) {
	case "":
		return ""
	case "incoming":
		return schema.DirectionInbound
	case "originating":
		if id == "DELIVER" {
			return schema.DirectionInternal
		}
		if sd, rd := schema.DomainOf(sender), schema.DomainOf(rcpt); sd != "" && sd == rd {
			return schema.DirectionInternal
		}
		return schema.DirectionOutbound
	}
	return schema.DirectionUnknown
}

// trimAngle drops the <> around a message id or address.
func trimAngle(s string) string {
	if len(s) >= 2 && s[0] == '<' && s[len(s)-1] == '>' {
		return s[1 : len(s)-1]
	}
	return s
}

// hostIP joins a host name and address as "name[ip]", or either alone.
func hostIP(host, ip string) string {
	switch {
	case host == "":
		return ip
	case ip == "":
		return host
	}
	return host + "[" + ip + "]"
}

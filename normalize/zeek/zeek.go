// Package zeek normalizes Zeek's smtp.log into schema events, with the
// attachments of each message taken from files.log. It registers the
// format "zeek".
//
// Both of Zeek's log writers are read: TSV (the #separator, #fields and
// #types header; "-" for unset fields and "(empty)" for empty sets; \xHH
// escapes) and JSON lines (one object per record, with ts as epoch seconds
// or, from the json-streaming-logs package, an ISO 8601 string). Records of
// other Zeek logs that share a directory (conn.log, dns.log, ...) are
// ignored and counted.
//
// One smtp.log record is one SMTP transaction as the sensor saw it; it
// becomes one event per recipient of its rcptto set:
//
//   - event_type delivery, action delivered when the server's last reply
//     was 2xx (the message was accepted);
//   - event_type reject, action rejected when it was 4xx or 5xx (the
//     server refused it during the dialogue), with the reply code in
//     status_code and its text in reason;
//   - event_type receive, action received when Zeek saw no final reply
//     (one-sided captures, cut connections): the message was seen in
//     transit, its fate was not.
//
// A record without recipients is a reject event when the last reply was
// 4xx or 5xx (a scanner refused at MAIL or AUTH) and is otherwise ignored
// and counted (banner-only sessions: no_transaction). The event's src_ip
// is the client (id.orig_h), relay the server (id.resp_h), queue_id the
// Zeek connection uid (which links conn.log and files.log), and sender,
// helo, message_id and subject come from the record.
//
// Attachments come from files.log through the record's fuids: file name,
// extension, MIME type, size (total_bytes, else seen_bytes) and sha256.
// Message bodies (unnamed text/plain and text/html parts) are not
// attachments. files.log is read when it sits next to smtp.log (the
// parser opens files.log, files.json, or a zeek-cut extract files.log.cut,
// .gz or .bz2 compressed or not, from the directory of each smtp file it is
// given through normalize.FileAware), and its records are also used when
// it is part of the input itself, read before smtp.log (as a directory
// walk does).
package zeek

import (
	"sort"
	"strings"
	"time"

	"github.com/detect-dev/detect/normalize"
	"github.com/detect-dev/detect/schema"
)

func init() {
	normalize.Register("zeek", func(o normalize.Options) normalize.Parser { return New(o) })
}

// MaxFiles bounds the files.log records kept for the attachment join; the
// oldest half is dropped when it is reached (counted as files_dropped).
const MaxFiles = 1 << 20

// maxFiles is MaxFiles, lowered by tests.
var maxFiles = MaxFiles

// Ignored-line categories; Stats reports them as "ignored_<name>".
const (
	catHeader        = iota // #separator, #fields, #types, #open, #close ... and btest banners
	catNoTransaction        // smtp records with neither recipients nor a refusal (banner-only sessions)
	catFilesOther           // files.log records of other protocols (HTTP, FTP ...)
	catFilesNoID            // files.log records without a fuid (zeek-cut extracts without that column): nothing to join on
	catOtherLog             // records of other Zeek logs (conn, dns, ssl ...)
	catBlank                // empty and whitespace-only lines
	numCategories
)

var categoryNames = [numCategories]string{
	catHeader:        "header",
	catNoTransaction: "no_transaction",
	catFilesOther:    "files_other",
	catFilesNoID:     "files_no_fuid",
	catOtherLog:      "other_log",
	catBlank:         "blank",
}

// Stats keys besides the ignored_<category> counters.
const (
	StatFilesLoaded  = "files_loaded"  // files.log records read from a sibling file of smtp.log
	StatFilesDropped = "files_dropped" // files.log records forgotten to stay under MaxFiles
	StatFilesMissing = "fuids_missing" // fuids of smtp records with no files.log record
	StatNoTime       = "no_time"       // records whose ts could not be read (masked in test baselines)
	StatSiblingError = "files_errors"  // sibling files.log that could not be read
)

// Parser parses one Zeek log stream. Use New or normalize.New("zeek").
type Parser struct {
	h       header
	files   map[string]*file // fuid -> files.log record
	fileSeq []string         // fuids in arrival order, for dropping the oldest

	ignored      [numCategories]int
	filesLoaded  int
	filesDropped int
	fuidsMissing int
	noTime       int
	siblingErrs  int
}

var _ normalize.Parser = (*Parser)(nil)
var _ normalize.FileAware = (*Parser)(nil)

// New returns a parser for one stream.
func New(normalize.Options) *Parser {
	return &Parser{h: defaultHeader(), files: map[string]*file{}}
}

// file is what files.log says about one file.
type file struct {
	name, mimeType, sha256 string
	size                   int64
}

// attachment reports whether the file is an attachment rather than a
// message body: it has a name, or a type other than text/plain and
// text/html.
func (f *file) attachment() bool {
	if f.name != "" {
		return true
	}
	switch f.mimeType {
	case "", "text/plain", "text/html":
		return false
	}
	return true
}

// BeginFile resets the TSV header for the next file and, for an smtp file,
// loads the files.log that sits next to it.
func (p *Parser) BeginFile(path string, _ time.Time) {
	p.h = defaultHeader()
	p.loadSibling(path)
}

// Flush ends the stream. Events are emitted per record, so nothing is
// pending.
func (p *Parser) Flush(normalize.Emit) {}

// Stats reports the ignored lines per category and the join counters.
func (p *Parser) Stats() map[string]int {
	m := map[string]int{
		StatFilesLoaded:  p.filesLoaded,
		StatFilesDropped: p.filesDropped,
		StatFilesMissing: p.fuidsMissing,
		StatNoTime:       p.noTime,
		StatSiblingError: p.siblingErrs,
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
	keys := []string{StatFilesLoaded, StatFilesDropped, StatFilesMissing, StatNoTime, StatSiblingError}
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

// Parse handles one line. It never panics: anything it cannot place is
// NotUnderstood, for the caller to count and sample.
func (p *Parser) Parse(src schema.Line, emit normalize.Emit) normalize.Result {
	text := src.Text
	if n := len(text); n > 0 && text[n-1] == '\r' {
		text = text[:n-1]
	}
	if normalize.IsBlank(text) {
		return p.ignore(catBlank)
	}
	switch text[0] {
	case '#':
		if p.h.directive(text) {
			return p.ignore(catHeader)
		}
		return normalize.NotUnderstood
	case '{':
		if bannerOnlyJSON(text) {
			return p.ignore(catNoTransaction)
		}
		r, ok := decodeJSON(text)
		if !ok {
			return normalize.NotUnderstood
		}
		return p.record(&r, src, emit)
	}
	if p.h.fields == nil && p.h.cutHeader(text) {
		// zeek-cut -c and btest's *.cut files: a header row of field
		// names without the '#fields' directive.
		return p.ignore(catHeader)
	}
	r, ok := p.h.decodeTSV(text)
	if !ok {
		return normalize.NotUnderstood
	}
	return p.record(&r, src, emit)
}

// bannerOnlyJSON recognizes, without decoding, the JSON smtp records that
// hold no transaction: no recipients, and a last reply that is not a
// refusal (usually the 220 banner). Scanners make most of the records of
// an exposed server's smtp.log, and JSON decoding is the parser's slowest
// step. Records of another shape take the decoding path.
func bannerOnlyJSON(s string) bool {
	if !strings.HasPrefix(s, `{"_path":"smtp",`) || strings.Contains(s, `"rcptto"`) {
		return false
	}
	i := strings.Index(s, `"last_reply":"`)
	if i < 0 {
		return false
	}
	c := byte(0)
	if j := i + len(`"last_reply":"`); j < len(s) {
		c = s[j]
	}
	return c == '2' || c == '3'
}

// record dispatches one decoded record by its log.
func (p *Parser) record(r *record, src schema.Line, emit normalize.Emit) normalize.Result {
	switch r.path {
	case "smtp":
		return p.smtp(r, src, emit)
	case "files":
		return p.file(r)
	case "":
		return normalize.NotUnderstood
	}
	return p.ignore(catOtherLog)
}

// file stores a files.log record for the attachment join.
func (p *Parser) file(r *record) normalize.Result {
	if r.fuid == "" {
		return p.ignore(catFilesNoID)
	}
	if r.source != "" && !strings.EqualFold(r.source, "SMTP") {
		return p.ignore(catFilesOther)
	}
	p.addFile(r)
	return normalize.Understood
}

func (p *Parser) addFile(r *record) {
	f := &file{
		name:     strings.Clone(r.filename),
		mimeType: strings.Clone(r.mimeType),
		sha256:   strings.Clone(r.sha256),
		size:     r.totalBytes,
	}
	if f.size <= 0 {
		f.size = r.seenBytes
	}
	if old := p.files[r.fuid]; old != nil {
		*old = *f
		return
	}
	if len(p.files) >= maxFiles {
		half := len(p.fileSeq) / 2
		for _, id := range p.fileSeq[:half] {
			delete(p.files, id)
		}
		p.filesDropped += half
		p.fileSeq = append(p.fileSeq[:0], p.fileSeq[half:]...)
	}
	id := strings.Clone(r.fuid)
	p.fileSeq = append(p.fileSeq, id)
	p.files[id] = f
}

// smtp turns one smtp.log record into events.
func (p *Parser) smtp(r *record, src schema.Line, emit normalize.Emit) normalize.Result {
	code, text := splitReply(r.lastReply)
	refused := code != "" && (code[0] == '4' || code[0] == '5')
	if len(r.rcptTo) == 0 && !refused {
		return p.ignore(catNoTransaction)
	}
	if r.ts.IsZero() {
		p.noTime++
	}
	ev := &schema.Event{
		Time:       r.ts,
		Product:    "zeek",
		Process:    "zeek/smtp",
		QueueID:    r.uid,
		MessageID:  trimAngles(r.msgID),
		SrcIP:      r.origH,
		Helo:       r.helo,
		Relay:      r.respH,
		Subject:    decodeWords(r.subject),
		Protocol:   "smtp",
		StatusCode: code,
		Reason:     text,
		SourceFile: src.File,
		SourceLine: src.Number,
	}
	if r.hasMailFrom {
		ev.SetSender(trimAngles(r.mailFrom))
	}
	ev.RecipientCount = len(r.rcptTo)
	switch {
	case refused:
		ev.EventType, ev.Action, ev.Status = schema.TypeReject, schema.ActionRejected, "reject"
	case code != "" && code[0] == '2':
		ev.EventType, ev.Action, ev.Status = schema.TypeDelivery, schema.ActionDelivered, "accepted"
	default:
		ev.EventType, ev.Action, ev.Status = schema.TypeReceive, schema.ActionReceived, "no reply"
	}
	for _, id := range r.fuids {
		f := p.files[id]
		if f == nil {
			p.fuidsMissing++
			continue
		}
		if !f.attachment() {
			continue
		}
		ev.Attachments = append(ev.Attachments, schema.Attachment{
			Name: f.name, Ext: schema.ExtOf(f.name), Type: f.mimeType, Size: f.size, SHA256: f.sha256,
		})
	}
	if len(r.rcptTo) == 0 {
		ev.Complete()
		emit(ev)
		return normalize.Understood
	}
	for i, rcpt := range r.rcptTo {
		e := ev
		if i < len(r.rcptTo)-1 {
			c := *ev
			c.Attachments = append([]schema.Attachment(nil), ev.Attachments...)
			e = &c
		}
		e.Recipient = trimAngles(rcpt)
		e.Complete()
		emit(e)
	}
	return normalize.Understood
}

// splitReply splits "250 2.0.0 Ok: queued" into the code "250 2.0.0" and
// the text "Ok: queued".
func splitReply(s string) (code, text string) {
	if len(s) < 3 || !isDigit(s[0]) || !isDigit(s[1]) || !isDigit(s[2]) || len(s) > 3 && s[3] != ' ' && s[3] != '-' {
		return "", s
	}
	n := 3
	if len(s) > 4 {
		if e := enhancedLen(s[4:]); e > 0 {
			n = 4 + e
		}
	}
	code, text = s[:n], strings.TrimLeft(s[n:], " ")
	if n > 3 && s[3] == '-' {
		code = s[:3] + " " + s[4:n]
	}
	return code, text
}

// enhancedLen returns the length of an RFC 3463 code ("5.7.1") at the start
// of s when it is followed by a space or the end, else 0.
func enhancedLen(s string) int {
	if len(s) < 5 || (s[0] != '2' && s[0] != '4' && s[0] != '5') || s[1] != '.' {
		return 0
	}
	i := 2
	n := digits(s[i:])
	if n == 0 || n > 3 {
		return 0
	}
	i += n
	if i >= len(s) || s[i] != '.' {
		return 0
	}
	i++
	n = digits(s[i:])
	if n == 0 || n > 3 {
		return 0
	}
	i += n
	if i < len(s) && s[i] != ' ' {
		return 0
	}
	return i
}

func digits(s string) int {
	n := 0
	for n < len(s) && isDigit(s[n]) {
		n++
	}
	return n
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// trimAngles drops the <> around an address or Message-ID.
func trimAngles(s string) string {
	s = strings.TrimSpace(s)
	if len(s) >= 2 && s[0] == '<' && s[len(s)-1] == '>' {
		return s[1 : len(s)-1]
	}
	return s
}

// Package exim normalizes Exim main logs into schema events. It registers
// the format "exim".
//
// Both framings of the main log are read, line by line, in any mix:
//
//	2026-11-27 08:00:01 1vA2bC-000123-AB <= a@b.example H=mx (helo) [192.0.2.1]:25 P=esmtp S=1234   (mainlog)
//	2026-11-27 08:00:01.345 +0100 [1234] 1vA2bC-000123-AB => ...          (log_selector millisec, tod zone, pid)
//	Nov 27 08:00:01 mx exim[1234]: 1vA2bC-000123-AB <= ...                (syslog, RFC 3164 or RFC 3339)
//	Nov 27 08:00:01 mx exim[1234]: 2026-11-27 08:00:01 1vA2bC-...          (syslog with syslog_timestamp)
//	2026-11-27 08:00:01 mx exim[1234]: ...                                 (syslog-ng with an ISO date)
//	mx exim[1234]: 2026-11-27 08:00:01 ...                                 (journal export)
//
// Exim logs one message across lines that share its message id: `<=` when
// it arrives (sender, size S=, client H=name (helo) [ip], A= authenticator
// and user, id= Message-ID, T= subject, P= protocol), then one line per
// recipient outcome (`=>` delivered, `->` delivered as another address of
// the same delivery, `>>` delivered by cutthrough, `**` failed and bounced,
// `==` deferred), and `Completed` when it leaves the queue. The parser
// keeps a small state per message id and emits
//
//   - a receive event (action received) per `<=` line, and an auth event
//     (action succeeded) when the message was submitted with SMTP AUTH;
//   - a delivery event per `=>`, `->`, `>>`, `**` and `==` line, joined with
//     the facts of the message's `<=` line;
//   - a reject event per `rejected RCPT`, `rejected after DATA`, `rejected
//     MAIL`, `rejected EHLO|HELO`, `rejected connection`, `rejected by
//     local_scan()` line (action rejected; `discarded by RCPT ACL` gives
//     action discarded);
//   - an auth event (action failed) per `authenticator failed` line, with
//     the client and the user name of set_id=;
//   - a connect event per SMTP protocol violation of a client (status
//     sync_error: synchronization errors, input before the greeting;
//     protocol_error: `SMTP protocol error in ...`, calls dropped for too
//     many bad commands), with the client and Exim's complaint as reason;
//   - a filter event per SpamAssassin (sa-exim) `SA: Action:` verdict.
//
// State is bounded: a message is forgotten at `Completed` (or when removed
// from the queue), and one not seen for Options.MaxQueueAge of event time is
// dropped and counted (flushed_incomplete), as the Postfix parser does.
//
// The rest of a main log (connection chatter, SMTP syntax errors, TLS errors, queue runners, daemon starts, DNS
// warnings, verification callouts, delivery-attempt errors that the `==` or
// `**` line repeats, freezing and thawing, DKIM and ACL log lines, the
// continuation lines of multi-line entries) is recognized and counted per
// category as ignored. Lines that are not Exim log lines at all, or Exim
// lines of an unknown form (custom `logwrite` text, for example), are
// NotUnderstood.
//
// Addresses are kept as logged, which includes SMTPUTF8 (internationalized)
// addresses in UTF-8; the protocol then reads utf8esmtp and friends.
//
// The parser is hand-written (slicing, no regular expressions) and
// allocates little beyond the events it emits and the state it keeps.
package exim

import (
	"sort"
	"strings"
	"time"

	"github.com/detect-dev/detect/normalize"
	"github.com/detect-dev/detect/normalize/syslog"
	"github.com/detect-dev/detect/schema"
)

func init() {
	normalize.Register("exim", func(o normalize.Options) normalize.Parser { return New(o) })
}

// DefaultMaxQueueAge is how long a message's state is kept after its last
// line when Options.MaxQueueAge is 0. Exim retries a deferred message at
// least every few hours with the default retry rules, and every attempt logs
// a line about it, which keeps the state fresh.
const DefaultMaxQueueAge = 24 * time.Hour

// Ignored-line categories; Stats reports them as "ignored_<name>".
const (
	catConnection   = iota // SMTP connection from/lost/closed, no MAIL in SMTP connection, Connections=
	catProtocol            // SMTP protocol and syntax errors, SMTP call ... dropped, command timeouts
	catSyncError           // SMTP protocol synchronization error (pipelining abuse, pre-greeting traffic)
	catTLS                 // TLS errors and certificate chatter
	catQueueRun            // Start queue run / End queue run
	catDaemon              // daemon started, SIGHUP, re-exec, configuration notices
	catDNS                 // no host name found for IP address, no IP address found for host
	catWarning             // Warning: lines (ACL warn logwrite, configuration warnings)
	catVerify              // sender/recipient verify fail|defer (the reject line follows)
	catDeliveryInfo        // delivery-attempt errors (H=host [ip] Connection refused, SMTP error from remote ...)
	catQueue               // frozen, unfrozen, no immediate delivery, removed, cancelled, spool notices
	catDKIM                // DKIM verification and signing results, ARC, DMARC and SPF notes
	catError               // configuration, expansion and process errors (failed to expand, exec failed, ...)
	catSuppressed          // `*>` deliveries suppressed by -N (test runs)
	catContinuation        // continuation lines of multi-line entries (they start with white space)
	catOtherProgram        // syslog lines of other programs sharing the log
	catSyslogRepeat        // syslogd's "last message repeated N times"
	catBlank               // empty and whitespace-only lines
	numCategories
)

var categoryNames = [numCategories]string{
	catConnection:   "connection",
	catProtocol:     "protocol",
	catSyncError:    "sync_error",
	catTLS:          "tls",
	catQueueRun:     "queue_run",
	catDaemon:       "daemon",
	catDNS:          "dns",
	catWarning:      "warning",
	catVerify:       "verify",
	catDeliveryInfo: "delivery_info",
	catQueue:        "queue",
	catDKIM:         "dkim",
	catError:        "error",
	catSuppressed:   "suppressed",
	catContinuation: "continuation",
	catOtherProgram: "other_program",
	catSyslogRepeat: "syslog_repeat",
	catBlank:        "blank",
}

// Stats keys besides the ignored_<category> counters.
const (
	StatFlushedIncomplete = "flushed_incomplete" // state dropped after MaxQueueAge without Completed
	StatPendingAtEnd      = "pending_at_end"     // state still held when Flush ran
	StatOrphanDeliveries  = "orphan_deliveries"  // delivery lines for a message whose <= line we never saw
	StatQueuePeak         = "queue_peak"         // most messages held at once
	StatQueueLen          = "queue_len"          // messages held now
	StatBounceMessages    = "bounce_messages"    // <= <> R=parent lines: Exim's own bounce (DSN) messages
)

// Parser parses one Exim log stream. Use New or normalize.New("exim").
type Parser struct {
	sys        *syslog.Parser
	loc        *time.Location
	maxAge     time.Duration
	sweepEvery time.Duration
	queue      map[string]*message
	now        time.Time // newest event time seen
	lastSweep  time.Time

	// The previous bare timestamp and its result: logs write many lines
	// per second, and reusing the result skips time.Date.
	lastStamp string
	lastTime  time.Time

	ignored           [numCategories]int
	flushedIncomplete int
	pendingAtEnd      int
	orphans           int
	bounces           int
	peak              int
}

var _ normalize.Parser = (*Parser)(nil)
var _ normalize.FileAware = (*Parser)(nil)

// New returns a parser for one stream.
func New(o normalize.Options) *Parser {
	maxAge := o.MaxQueueAge
	if maxAge <= 0 {
		maxAge = DefaultMaxQueueAge
	}
	every := maxAge / 8
	if every < time.Second {
		every = time.Second
	}
	loc := o.Location
	if loc == nil {
		loc = time.UTC
	}
	return &Parser{
		sys: syslog.New(syslog.Options{
			Year:     o.Year,
			ModTime:  o.ModTime,
			Now:      o.Now,
			Location: o.Location,
		}),
		loc:        loc,
		maxAge:     maxAge,
		sweepEvery: every,
		queue:      make(map[string]*message),
	}
}

// BeginFile tells the parser that the next lines come from another file (a
// rotated log). Message state carries over; syslog stamps without a year
// take it from this file's modification time when it is known.
func (p *Parser) BeginFile(_ string, modTime time.Time) {
	p.sys.SetModTime(modTime)
}

// Flush ends the stream. Deliveries were emitted as their lines arrived, so
// nothing is left to emit: the messages still held are counted
// (pending_at_end) and forgotten.
func (p *Parser) Flush(normalize.Emit) {
	p.pendingAtEnd += len(p.queue)
	clear(p.queue)
}

// Stats reports the ignored lines per category and the queue counters.
func (p *Parser) Stats() map[string]int {
	m := map[string]int{
		StatFlushedIncomplete: p.flushedIncomplete,
		StatPendingAtEnd:      p.pendingAtEnd,
		StatOrphanDeliveries:  p.orphans,
		StatQueuePeak:         p.peak,
		StatQueueLen:          len(p.queue),
		StatBounceMessages:    p.bounces,
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
	keys := []string{StatFlushedIncomplete, StatPendingAtEnd, StatOrphanDeliveries,
		StatQueuePeak, StatQueueLen, StatBounceMessages}
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

// line is the per-line context handed to the handlers.
type line struct {
	time    time.Time
	host    string // syslog host, "" for a bare main log
	process string
	file    string
	number  int
	emit    normalize.Emit
}

// event starts an event stamped with the line's origin.
func (l *line) event(typ, action string) *schema.Event {
	return &schema.Event{
		Time:       l.time,
		Host:       l.host,
		Product:    "exim",
		Process:    l.process,
		EventType:  typ,
		Action:     action,
		SourceFile: l.file,
		SourceLine: l.number,
	}
}

func (l *line) send(ev *schema.Event) {
	ev.Complete()
	l.emit(ev)
}

// Parse handles one line. It never panics: anything it cannot place is
// NotUnderstood, for the caller to count and sample.
func (p *Parser) Parse(src schema.Line, emit normalize.Emit) normalize.Result {
	text := src.Text
	if n := len(text); n > 0 && text[n-1] == '\r' { // CRLF files
		text = text[:n-1]
	}
	if normalize.IsBlank(text) {
		return p.ignore(catBlank)
	}
	if text[0] == ' ' || text[0] == '\t' {
		// Exim indents the further lines of a multi-line entry
		// ("  Suggested action: ..." after a configuration warning).
		return p.ignore(catContinuation)
	}
	l := line{file: src.File, number: src.Number, emit: emit, process: "exim"}
	var body string
	if t, rest, ok := p.bareStamp(text); ok {
		l.time = t
		body = rest
		// syslog-ng and some relays write "host exim[pid]: " after an
		// ISO date instead of the syslog stamp.
		// Only an Exim tag counts: "1VxPit-000MMd-U4 SA: Action: ..."
		// has the same shape.
		if host, prog, msg, ok := splitHostTag(body); ok && isEximProgram(prog) {
			l.host, l.process, body = host, prog, msg
		}
	} else {
		rec, err := p.sys.Parse(text)
		switch {
		case err == nil:
			if !isEximProgram(rec.Program) {
				return p.ignore(catOtherProgram)
			}
			l.time, l.host, l.process, body = rec.Time, rec.Host, rec.Program, rec.Message
		case err == syslog.ErrTag && isRepeatNotice(rec.Message):
			return p.ignore(catSyslogRepeat)
		default:
			// journald exports drop the stamp: "host exim[pid]: 2021-07-17 23:20:49 ..."
			host, prog, msg, ok := splitHostTag(text)
			if !ok || !isEximProgram(prog) {
				return normalize.NotUnderstood
			}
			t, rest, ok := p.bareStamp(msg)
			if !ok {
				return normalize.NotUnderstood
			}
			l.time, l.host, l.process, body = t, host, prog, rest
		}
		if isRepeatNotice(body) {
			return p.ignore(catSyslogRepeat)
		}
		// With syslog_timestamp (the default) Exim's own stamp follows
		// the syslog one; it carries the year and the sub-second part.
		if t, rest, ok := p.bareStamp(body); ok {
			l.time, body = t, rest
		}
	}
	p.tick(l.time)
	body = skipPID(body)
	if body == "" {
		return normalize.NotUnderstood
	}
	if id, rest, ok := cutMessageID(body); ok {
		return p.withID(&l, id, rest)
	}
	return p.noID(&l, body)
}

// isEximProgram accepts the names Exim logs under: exim, exim4, exim3 and
// packaged variants such as exim4-daemon-heavy.
func isEximProgram(prog string) bool {
	return strings.HasPrefix(prog, "exim")
}

// isRepeatNotice recognizes the syslog daemon's repeat notices ("last
// message repeated 3 times", rsyslog's "message repeated 3 times: [...]").
func isRepeatNotice(msg string) bool {
	msg = strings.TrimPrefix(msg, "--- ")
	msg = strings.TrimPrefix(msg, "last ")
	rest, ok := strings.CutPrefix(msg, "message repeated ")
	if !ok {
		return false
	}
	n := digits(rest)
	return n > 0 && strings.HasPrefix(rest[n:], " time")
}

// withID dispatches the lines that carry a message id.
func (p *Parser) withID(l *line, id, s string) normalize.Result {
	if len(s) >= 3 && s[2] == ' ' {
		switch s[:2] {
		case "<=":
			return p.arrival(l, id, s[3:], "")
		case "(=":
			return p.arrival(l, id, s[3:], "fakereject")
		case "=>", "->":
			return p.delivery(l, id, s[3:], schema.ActionDelivered, "delivered")
		case ">>":
			return p.delivery(l, id, s[3:], schema.ActionDelivered, "cutthrough")
		case "**":
			return p.delivery(l, id, s[3:], schema.ActionBounced, "failed")
		case "==":
			return p.delivery(l, id, s[3:], schema.ActionDeferred, "deferred")
		case "*>":
			return p.ignore(catSuppressed)
		}
	}
	if s == "Completed" || strings.HasPrefix(s, "Completed ") {
		// "Completed QT=1s" with log_selector +queue_time_overall.
		if p.queue[id] == nil {
			return normalize.Understood
		}
		delete(p.queue, id)
		return normalize.Understood
	}
	if rest, ok := strings.CutPrefix(s, "SA: Action: "); ok {
		return p.spamAssassin(l, id, rest)
	}
	if startsWithField(s) {
		return p.fieldLine(l, id, s)
	}
	if cat, ok := matchNoise(s, idNoise); ok {
		switch cat {
		case catQueue:
			// A message removed or cancelled by an administrator leaves
			// the queue without Completed.
			if strings.HasPrefix(s, "removed") || strings.HasPrefix(s, "cancelled") {
				delete(p.queue, id)
			}
		}
		return p.ignore(cat)
	}
	// "b@x.example: error ignored", "<a@b>: address_pipe transport output: ..."
	if isAddressNote(s) || strings.HasSuffix(s, ": error ignored") {
		return p.ignore(catDeliveryInfo)
	}
	// "r1 router: skipped error: ...", "appendfile transport process
	// returned non-zero status 0x0100: exit code 1"
	if w, r, ok := strings.Cut(s, " "); ok && strings.IndexByte(w, ':') < 0 &&
		(strings.HasPrefix(r, "router: ") || strings.HasPrefix(r, "transport process ") ||
			strings.HasPrefix(r, "transport: ")) {
		return p.ignore(catDeliveryInfo)
	}
	// "[192.0.2.1] SSL verify error: ..." and "[192.0.2.1] TLS error ..."
	if len(s) > 0 && s[0] == '[' {
		if k := strings.Index(s, "] "); k > 0 {
			r := s[k+2:]
			if strings.HasPrefix(r, "SSL ") || strings.HasPrefix(r, "TLS ") {
				return p.ignore(catTLS)
			}
		}
	}
	// Client-side AUTH failures (Exim authenticating to a remote server):
	// "plain authenticator failed H=mx [192.0.2.2] 535 ..." is a
	// delivery attempt, not an attack on this server.
	if i := strings.Index(s, " authenticator failed H="); i > 0 && strings.IndexByte(s[:i], ' ') < 0 {
		return p.ignore(catDeliveryInfo)
	}
	// PRDR per-recipient verdicts after DATA.
	if r, ok := strings.CutPrefix(s, "PRDR R=<"); ok {
		if k := strings.Index(r, "> "); k >= 0 {
			verdict := r[k+2:]
			if strings.HasSuffix(verdict, "refusal") {
				ev := l.event(schema.TypeReject, schema.ActionRejected)
				ev.Status = "PRDR " + verdict
				ev.QueueID = id
				ev.Recipient = r[:k]
				if m := p.lookup(id); m != nil {
					m.join(ev)
				}
				l.send(ev)
				return normalize.Understood
			}
			return p.ignore(catQueue) // "acceptance"
		}
	}
	// "rejected from <a@b> U=u: message too big: read=501 max=500"
	if r, ok := strings.CutPrefix(s, "rejected from "); ok {
		return p.rejectSender(l, id, "rejected", r)
	}
	return p.noID(l, s)
}

// noID dispatches lines without a message id (or whose id part gave no
// match above).
func (p *Parser) noID(l *line, s string) normalize.Result {
	if startsWithField(s) {
		return p.fieldLine(l, "", s)
	}
	if i := strings.Index(s, " authenticator failed for "); i > 0 && strings.IndexByte(s[:i], ' ') < 0 {
		return p.authFailed(l, s[i+len(" authenticator failed for "):])
	}
	if r, ok := strings.CutPrefix(s, "rejected from "); ok {
		return p.rejectSender(l, "", "rejected", r)
	}
	if r, ok := strings.CutPrefix(s, "rejected MAIL FROM:"); ok {
		// "rejected MAIL FROM:<a@b> U=u: message too big: size=1000 max=100"
		return p.rejectSender(l, "", "rejected", r)
	}
	if rest, ok := strings.CutPrefix(s, "rejected "); ok {
		// "rejected EHLO from [1.2.3.4]: syntactically invalid argument(s): ..."
		// "rejected HELO from host [1.2.3.4]: ..." and "rejected MAIL from [ip]: no HELO/EHLO given"
		return p.rejectFrom(l, "", "rejected", rest)
	}
	if rest, ok := strings.CutPrefix(s, "temporarily rejected "); ok {
		return p.rejectFrom(l, "", "temporarily rejected", rest)
	}
	if r, ok := p.protocolViolation(l, s); ok {
		return r
	}
	if cat, ok := matchNoise(s, noise); ok {
		return p.ignore(cat)
	}
	return normalize.NotUnderstood
}

// noisePrefix maps the start of a line to an ignored category.
type noisePrefix struct {
	prefix string
	cat    int
}

// noise lists the lines without a message id that carry no event.
var noise = []noisePrefix{
	{"SMTP connection from ", catConnection},
	{"SMTP connection lost", catConnection},
	{"no MAIL in SMTP connection from ", catConnection},
	{"Connections=", catConnection},
	{"SMTP command timeout", catConnection},
	{"SMTP data timeout", catConnection},
	{"SMTP incoming data timeout", catConnection},
	{"unexpected disconnection while reading SMTP command", catConnection},
	{"Connection from ", catConnection},
	{"refused connection from ", catConnection},
	{"Connection refused", catConnection},
	{"SMTP protocol synchronization error", catSyncError},
	{"SMTP protocol error", catProtocol},
	{"SMTP syntax error", catProtocol},
	{"SMTP call from ", catProtocol},
	{"too many recipients", catProtocol},
	{"too many syntax or protocol errors", catProtocol},
	{"TLS error", catTLS},
	{"TLS client", catTLS},
	{"TLS session", catTLS},
	{"TLS recv error", catTLS},
	{"TLS send error", catTLS},
	{"SSL verify error", catTLS},
	{"STARTTLS ", catTLS},
	{"Our cert SN:", catTLS},
	{"Peer did not present a cert", catTLS},
	{"Start queue run", catQueueRun},
	{"End queue run", catQueueRun},
	{"Start ODMR", catQueueRun},
	{"exim ", catDaemon},
	{"daemon started", catDaemon},
	{"pid ", catDaemon},
	{"SIGHUP received", catDaemon},
	{"Exim configuration error", catDaemon},
	{"Exim is not running", catDaemon},
	{"cwd=", catDaemon},
	{"configuration file is ", catDaemon},
	{"Failed to get user name", catDaemon},
	{"Tainted ", catDaemon},
	{"no host name found for IP address ", catDNS},
	{"no IP address found for host ", catDNS},
	{"host name alias list truncated", catDNS},
	{"Warning: ", catWarning},
	{"WARNING: ", catWarning},
	{"LOG: ", catWarning},
	{"ignoring AUTH=", catWarning},
	{"sender verify ", catVerify},
	{"recipient verify ", catVerify},
	{"VRFY ", catVerify},
	{"EXPN ", catVerify},
	{"DKIM: ", catDKIM},
	{"DKIM ", catDKIM},
	{"ARC: ", catDKIM},
	{"DMARC ", catDKIM},
	{"SPF ", catDKIM},
	{"spool file ", catQueue},
	{"Spool file ", catQueue},
	{"message ", catQueue},
	{"Message ", catQueue},
	{"Queue run ", catQueueRun},
	{"timed out while reading local message", catConnection},
	{"ETRN ", catProtocol},
	{"ATRN ", catProtocol},
	{"ridiculously long message header", catProtocol},
	{"overlong message header", catProtocol},
	{"spool directory space check failed", catQueue},
	{"ACL \"", catWarning},
	{"configured error code starts with incorrect digit", catWarning},
	{"listen backlog", catDaemon},
	{"failed to expand ", catError},
	{"Failed to expand ", catError},
	{"exec of ", catError},
	{"bind of ", catError},
	{"invalid ", catError},
	{"DANE ", catTLS},
}

// idNoise lists the lines with a message id that carry no event of their
// own: queue management, delivery-attempt notes that the outcome line
// repeats, content-scanning and DKIM notes.
var idNoise = []noisePrefix{
	{"Frozen", catQueue},
	{"frozen", catQueue},
	{"Unfrozen", catQueue},
	{"unfrozen", catQueue},
	{"no immediate delivery", catQueue},
	{"removed by ", catQueue},
	{"removed", catQueue},
	{"cancelled by ", catQueue},
	{"Message is frozen", catQueue},
	{"Spool file is locked", catQueue},
	{"spool file ", catQueue},
	{"Spool read error", catQueue},
	{"moved from ", catQueue},
	{"original recipients ignored", catQueue},
	{"retry time not reached", catQueue},
	{"Message ", catQueue},
	{"message ", catQueue},
	{"Delivery ", catQueue},
	{"delivery deferred", catQueue},
	{"Sender identification", catQueue},
	{"Warning: ", catWarning},
	{"SMTP connection from ", catConnection},
	{"SMTP data timeout", catConnection},
	{"SMTP syntax error", catProtocol},
	{"SMTP protocol error", catProtocol},
	{"SMTP error from remote mail server", catDeliveryInfo},
	{"Remote host ", catDeliveryInfo},
	{"Connection refused", catDeliveryInfo},
	{"Connection timed out", catDeliveryInfo},
	{"Network Error", catDeliveryInfo},
	{"lowest numbered MX record points to local host", catDeliveryInfo},
	{"all hosts ", catDeliveryInfo},
	{"TLS error", catTLS},
	{"TLS session", catTLS},
	{"SSL verify error", catTLS},
	{"DKIM: ", catDKIM},
	{"DKIM ", catDKIM},
	{"ARC: ", catDKIM},
	{"DMARC ", catDKIM},
	{"SPF ", catDKIM},
	{"Authentication-Results:", catDKIM},
	{"qualify/rewrite: ", catWarning},
	{"no recipients found in headers", catWarning},
	{"local_scan() function timed out", catWarning},
	{"remote host address is the local host", catDeliveryInfo},
	{"unable to set gid", catDeliveryInfo},
	{"unable to set uid", catDeliveryInfo},
	{"failed to read delivery status", catDeliveryInfo},
	{"DANE ", catTLS},
	{"Failed to expand ", catError},
	{"failed to expand ", catError},
	{"Error while reading message", catError},
	{"re-exec of exim", catError},
	{"home directory ", catError},
	{"current directory ", catError},
}

func matchNoise(s string, table []noisePrefix) (int, bool) {
	for _, n := range table {
		if strings.HasPrefix(s, n.prefix) {
			return n.cat, true
		}
	}
	return 0, false
}

// isAddressNote recognizes "addr: text" and "<addr>: text" notes about one
// address of a message (error ignored, transport output).
func isAddressNote(s string) bool {
	i := strings.Index(s, ": ")
	if i <= 0 {
		return false
	}
	a := s[:i]
	if strings.IndexByte(a, ' ') >= 0 {
		return false
	}
	return strings.IndexByte(a, '@') >= 0 || a[0] == '<'
}

// skipPID drops the "[1234] " of log_selector +pid (and the munged "[p1234]"
// of Exim's test suite).
func skipPID(s string) string {
	if len(s) < 3 || s[0] != '[' {
		return s
	}
	for i := 1; i < len(s) && i < 24; i++ {
		c := s[i]
		if c == ']' {
			if i > 1 && i+1 < len(s) && s[i+1] == ' ' {
				return s[i+2:]
			}
			return s
		}
		if !isAlnum(c) {
			return s
		}
	}
	return s
}

// splitHostTag splits "host prog[pid]: msg" or "host prog: msg".
func splitHostTag(s string) (host, prog, msg string, ok bool) {
	sp := strings.IndexByte(s, ' ')
	if sp <= 0 {
		return "", "", "", false
	}
	host, rest := s[:sp], s[sp+1:]
	i := 0
	for i < len(rest) && rest[i] != '[' && rest[i] != ':' && rest[i] != ' ' {
		i++
	}
	if i == 0 || i == len(rest) || rest[i] == ' ' {
		return "", "", "", false
	}
	prog = rest[:i]
	if rest[i] == '[' {
		j := i + 1
		for j < len(rest) && isDigit(rest[j]) {
			j++
		}
		if j >= len(rest) || rest[j] != ']' {
			return "", "", "", false
		}
		i = j + 1
		if i >= len(rest) || rest[i] != ':' {
			return "", "", "", false
		}
	}
	msg = rest[i+1:]
	if len(msg) > 0 && msg[0] == ' ' {
		msg = msg[1:]
	}
	return host, prog, msg, true
}

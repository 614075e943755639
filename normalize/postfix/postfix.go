// Package postfix normalizes Postfix mail logs (and the amavis lines that
// share them) into schema events. It registers the format "postfix".
//
// Postfix logs one message across many lines and processes, tied together
// by the queue id: smtpd's client=, cleanup's message-id=, qmgr's from=,
// size= and nrcpt=, then one to= line per recipient from smtp, lmtp, local,
// virtual, pipe and friends. The parser keeps a small state per queue id and
// emits one delivery event per to= line, joined with what it knows about the
// message. Rejects, SASL results, amavis verdicts (with the path to the
// banned part of a BANNED one) and clients' SMTP protocol violations
// (connect events: improper pipelining, non-SMTP commands, postscreen's
// after-greeting tests) become events of their own; the rest of the log (connects, TLS chatter, postscreen, anvil, ...,
// and the lines of other programs that share mail.log, syslogd's repeat
// notices and blank lines) is recognized and counted per category as
// ignored, so that the scan summary can account for every line. Only lines
// that are not syslog lines at all, or Postfix lines of an unknown form, are
// NotUnderstood.
//
// The parser is hand-written: strings.Index and slicing, no regular
// expressions, no fmt, and no allocation per line beyond the events it
// emits and the state it keeps.
package postfix

import (
	"sort"
	"strings"
	"time"

	"github.com/detect-dev/detect/normalize"
	"github.com/detect-dev/detect/normalize/syslog"
	"github.com/detect-dev/detect/schema"
)

func init() {
	normalize.Register("postfix", func(o normalize.Options) normalize.Parser { return New(o) })
}

// DefaultMaxQueueAge is how long a message's state is kept after its last
// line when Options.MaxQueueAge is 0. A deferred message can stay queued for
// days (maximal_queue_lifetime), but qmgr logs its from= line again at every
// retry, at most ~70 minutes apart with the default backoff, which keeps the
// state fresh; a message silent for a day was removed in lines we never saw.
const DefaultMaxQueueAge = 24 * time.Hour

// DefaultMaxPending caps how many messages' state the parser holds at once
// (normalize.Options has no setting for it yet). A busy MX has a few
// thousand messages in flight; a log that lacks the "removed" lines (a
// filtered or partial log, another instance's qmgr) would otherwise grow the
// state until MaxQueueAge catches up, a day of event time later. At some
// hundreds of bytes a message, the cap bounds the state to about 100 MB.
// When a new message would exceed it, the least recently active tenth of
// the cap is flushed at once and counted in flushed_incomplete.
const DefaultMaxPending = 200_000

// Ignored-line categories; Stats reports them as "ignored_<name>".
const (
	catConnection     = iota // connect/disconnect, lost connection, timeouts
	catTLS                   // TLS handshakes and certificate chatter
	catPostscreen            // postscreen tests and verdicts (its rejects are events)
	catDNSBlog               // dnsblog lookups
	catAnvil                 // anvil statistics
	catTLSProxy              // tlsproxy
	catScache                // scache statistics
	catMaster                // master daemon start/stop/reload
	catWarning               // warning: lines without an event of their own
	catError                 // fatal:, panic:, error: lines
	catProtocol              // pipelining, bare LF: client protocol noise
	catSMTPDInfo             // filter:, redirect:, proxy-accept:, EHLO keyword lines
	catHeaderChecks          // header_checks lines that carry nothing we keep
	catBodyChecks            // body_checks warn/info lines
	catDeliveryInfo          // smtp "host said", "lost connection with" ...
	catQueue                 // qmgr lines without data (skipped, ...)
	catPostsuper             // postsuper removed/requeued/held, summaries
	catAddressVerify         // address verification probes (status=deliverable ...)
	catAdmin                 // postfix-script, postmap, postdrop, sendmail, tlsmgr, verify ...
	catTrivialRewrite        // trivial-rewrite warnings
	catCleanupInfo           // cleanup lines such as resent-message-id=
	catAmavis                // amavis lines other than verdicts (continuations, startup)
	catOtherProgram          // syslog lines of other programs sharing mail.log (dovecot, opendkim, spamd, ...)
	catSyslogRepeat          // syslogd's "last message repeated N times", rsyslog's "message repeated N times: [...]"
	catBlank                 // empty and whitespace-only lines
	numCategories
)

var categoryNames = [numCategories]string{
	catConnection:     "connection",
	catTLS:            "tls",
	catPostscreen:     "postscreen",
	catDNSBlog:        "dnsblog",
	catAnvil:          "anvil",
	catTLSProxy:       "tlsproxy",
	catScache:         "scache",
	catMaster:         "master",
	catWarning:        "warning",
	catError:          "error",
	catProtocol:       "protocol",
	catSMTPDInfo:      "smtpd_info",
	catHeaderChecks:   "header_checks",
	catBodyChecks:     "body_checks",
	catDeliveryInfo:   "delivery_info",
	catQueue:          "queue",
	catPostsuper:      "postsuper",
	catAddressVerify:  "address_verify",
	catAdmin:          "admin",
	catTrivialRewrite: "trivial_rewrite",
	catCleanupInfo:    "cleanup_info",
	catAmavis:         "amavis",
	catOtherProgram:   "other_program",
	catSyslogRepeat:   "syslog_repeat",
	catBlank:          "blank",
}

// Stats keys besides the ignored_<category> counters.
const (
	StatFlushedIncomplete = "flushed_incomplete" // state dropped without "removed": after MaxQueueAge, or over DefaultMaxPending
	StatPendingAtEnd      = "pending_at_end"     // state still held when Flush ran
	StatExpired           = "expired"            // qmgr "status=expired, returned to sender"
	StatNotifications     = "notifications"      // bounce/defer notices (the notice is a new message)
	StatOrphanDeliveries  = "orphan_deliveries"  // to= lines for a queue id we had no state for
	StatQueuePeak         = "queue_peak"         // most messages held at once
	StatQueueLen          = "queue_len"          // messages held now
)

// Parser parses one Postfix log stream. Use New or normalize.New("postfix").
type Parser struct {
	sys        *syslog.Parser
	maxAge     time.Duration
	maxPending int // DefaultMaxPending; tests lower it
	sweepEvery time.Duration
	queue      map[string]*message
	now        time.Time // newest event time seen
	lastSweep  time.Time
	gone       [recentGone]goneID // recently removed queue ids, a ring
	goneNext   int
	evictBuf   []time.Time // reused by evictOldest

	ignored           [numCategories]int
	flushedIncomplete int
	pendingAtEnd      int
	expired           int
	notifications     int
	orphans           int
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
	return &Parser{
		sys: syslog.New(syslog.Options{
			Year:     o.Year,
			ModTime:  o.ModTime,
			Now:      o.Now,
			Location: o.Location,
		}),
		maxAge:     maxAge,
		maxPending: DefaultMaxPending,
		sweepEvery: every,
		queue:      make(map[string]*message),
	}
}

// BeginFile tells the parser that the next lines come from another file (a
// rotated log). Queue state carries over; the year of RFC 3164 stamps is
// inferred from this file's modification time when it is known.
func (p *Parser) BeginFile(_ string, modTime time.Time) {
	p.sys.SetModTime(modTime)
}

// Flush ends the stream. Deliveries were emitted as their to= lines arrived,
// so nothing is left to emit: the messages still held are only counted
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
		StatExpired:           p.expired,
		StatNotifications:     p.notifications,
		StatOrphanDeliveries:  p.orphans,
		StatQueuePeak:         p.peak,
		StatQueueLen:          len(p.queue),
	}
	for i, n := range p.ignored {
		if n > 0 {
			m["ignored_"+categoryNames[i]] = n
		}
	}
	return m
}

// StatsKeys lists every key Stats may return, sorted, for documentation and
// for callers that print a fixed table.
func StatsKeys() []string {
	keys := []string{StatFlushedIncomplete, StatPendingAtEnd, StatExpired, StatNotifications,
		StatOrphanDeliveries, StatQueuePeak, StatQueueLen}
	for _, n := range categoryNames {
		keys = append(keys, "ignored_"+n)
	}
	sort.Strings(keys)
	return keys
}

// line is the per-line context handed to the daemon handlers.
type line struct {
	rec syslog.Record
	// The origin is copied rather than pointed to: a pointer to the
	// caller's schema.Line would make it escape, one allocation per line.
	file   string
	number int
	emit   normalize.Emit
}

// event starts an event stamped with the line's origin.
func (l *line) event(typ, action string) *schema.Event {
	return &schema.Event{
		Time:       l.rec.Time,
		Host:       l.rec.Host,
		Product:    "postfix",
		Process:    l.rec.Program,
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

func (p *Parser) ignore(cat int) normalize.Result {
	p.ignored[cat]++
	return normalize.Ignored
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
	rec, err := p.sys.Parse(text)
	if err != nil {
		if err == syslog.ErrTag && isRepeatNotice(rec.Message) {
			return p.ignore(catSyslogRepeat)
		}
		return normalize.NotUnderstood
	}
	p.tick(rec.Time)
	msg := rec.Message
	if isRepeatNotice(msg) {
		return p.ignore(catSyslogRepeat)
	}
	l := line{rec: rec, file: src.File, number: src.Number, emit: emit}
	prog := rec.Program
	if isAmavis(prog) {
		return p.amavis(&l)
	}
	if !strings.HasPrefix(prog, "postfix") && strings.IndexByte(prog, '/') < 0 {
		// dovecot, opendkim, spamd, postgrey, policyd-spf, rsyslogd, ...:
		// a mail.log is shared, and these lines are not ours to read.
		return p.ignore(catOtherProgram)
	}
	// Multi-instance and per-service names (postfix-out/smtp,
	// postfix/10025/smtpd, postfix/amavis/smtp) end in the daemon name.
	daemon := prog[strings.LastIndexByte(prog, '/')+1:]
	switch daemon {
	case "smtpd":
		return p.smtpd(&l, msg)
	case "postscreen":
		return p.postscreen(&l, msg)
	case "cleanup":
		return p.cleanup(&l, msg)
	case "qmgr", "nqmgr", "oqmgr":
		return p.qmgr(&l, msg)
	case "pickup":
		return p.pickup(&l, msg)
	case "smtp", "lmtp", "local", "virtual", "pipe", "error", "retry", "discard":
		return p.deliveryAgent(&l, msg)
	case "bounce", "defer", "trace":
		return p.bounce(msg)
	case "postsuper":
		return p.postsuper(msg)
	case "dnsblog":
		return p.ignore(catDNSBlog)
	case "anvil":
		return p.ignore(catAnvil)
	case "tlsproxy":
		return p.ignore(catTLSProxy)
	case "scache":
		return p.ignore(catScache)
	case "master":
		return p.ignore(catMaster)
	case "trivial-rewrite":
		return p.ignore(catTrivialRewrite)
	case "postfix-script", "postfix", "postmap", "postalias", "postdrop", "postqueue", "postlog",
		"postmulti", "postconf", "postcat", "postkick", "postlock", "sendmail", "tlsmgr",
		"verify", "proxymap", "showq", "flush", "spawn", "qmqpd", "oqmqpd":
		// Their warnings and fatal errors (a failed sendmail submission)
		// are worth a category of their own.
		if r, ok := p.common(msg); ok {
			return r
		}
		return p.ignore(catAdmin)
	}
	return normalize.NotUnderstood
}

// isRepeatNotice recognizes the syslog daemon's own repeat notices: the
// untagged "last message repeated 3 times" of sysklogd (also framed as
// "--- last message repeated 3 times ---" by BSD syslogd) and rsyslog's
// "message repeated 3 times: [ text]", which keeps the original tag. The
// repeated text was an earlier line's and is counted, not parsed again.
func isRepeatNotice(msg string) bool {
	// It runs on every line: one byte rules out nearly all of them.
	if len(msg) == 0 || (msg[0] != '-' && msg[0] != 'l' && msg[0] != 'm') {
		return false
	}
	msg = strings.TrimPrefix(msg, "--- ")
	msg = strings.TrimPrefix(msg, "last ")
	rest, ok := strings.CutPrefix(msg, "message repeated ")
	if !ok {
		return false
	}
	n := digits(rest)
	return n > 0 && strings.HasPrefix(rest[n:], " time")
}

// common handles the message kinds every daemon may write. It returns ok
// false when the message is none of them.
func (p *Parser) common(msg string) (normalize.Result, bool) {
	switch {
	case strings.HasPrefix(msg, "warning: "):
		return p.ignore(catWarning), true
	case strings.HasPrefix(msg, "fatal: "), strings.HasPrefix(msg, "panic: "),
		strings.HasPrefix(msg, "error: "):
		return p.ignore(catError), true
	}
	return normalize.NotUnderstood, false
}

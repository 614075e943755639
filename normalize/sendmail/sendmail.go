// Package sendmail normalizes Sendmail syslog lines into schema events. It
// registers the format "sendmail".
//
// Sendmail logs a message under its queue id: one from= line when the
// message is accepted (sender, size, nrcpts, msgid, proto, relay = the
// client), then one to= line per delivery attempt, each naming one or more
// comma-joined recipients with the outcome (stat=, dsn=, relay=, delay=):
//
//	Apr  2 00:15:25 mta001 sendmail[32300]: u31FFPtp032300: from=<a@b.example>, size=5938, class=0, nrcpts=7, msgid=<m@b.example>, proto=ESMTP, daemon=MTA, relay=[64.233.187.27]
//	Apr  2 00:15:25 mta001 sendmail[32302]: u31FFPtp032300: to=<c@d.example>,<e@d.example>, delay=00:00:00, xdelay=00:00:00, mailer=esmtp, pri=245938, relay=[93.184.216.34] [93.184.216.34], dsn=2.0.0, stat=Sent (ok)
//
// The parser keeps a small state per queue id and emits one delivery event
// per recipient of every to= line, joined with the message's from= facts:
// action delivered (stat=Sent), deferred (stat=Deferred, stat=queued, or a
// 4.x.x dsn) or bounced (any other stat, such as User unknown). Delays such
// as "1+00:00:15" (days+hh:mm:ss) become seconds.
//
// Besides deliveries it emits
//
//   - reject events (action rejected) for `ruleset=check_* ... reject=`
//     lines (the recipient of check_rcpt, the sender of check_mail, the
//     client of check_relay), Milter rejects, `<addr>... User unknown`
//     refusals, `possible SMTP attack` (too many AUTH or other commands),
//     pre-greeting traffic, refused EXPN/VRFY and over-size messages;
//   - auth events: `AUTH failure (MECH): ... user=u, relay=host [ip]` is
//     action failed (the last relay= is the client: earlier ones can be
//     injected through the user name), `AUTH=server, relay=..., authid=u`
//     is action succeeded.
//
// State is bounded: a message is forgotten shortly after all of its nrcpts
// recipients had a final outcome (sent or bounced) or Sendmail logged
// "done", and otherwise when it was not seen for Options.MaxQueueAge of
// event time (DefaultMaxQueueAge when 0: Sendmail retries deferred mail for
// five days without logging its from= line again), and counted
// (flushed_incomplete).
//
// The rest (daemon starts and load-average throttling, connection losses and
// timeouts, TLS handshakes, Milter chatter, delivery-status notifications
// created for a message, done lines) is recognized and counted per
// category as ignored. Lines that are not syslog lines, and Sendmail lines of
// an unknown form, are NotUnderstood.
package sendmail

import (
	"sort"
	"strings"
	"time"

	"github.com/detect-dev/detect/normalize"
	"github.com/detect-dev/detect/normalize/syslog"
	"github.com/detect-dev/detect/schema"
)

func init() {
	normalize.Register("sendmail", func(o normalize.Options) normalize.Parser { return New(o) })
}

// DefaultMaxQueueAge is how long a message's state is kept after its last
// line when Options.MaxQueueAge is 0: Sendmail's default queue lifetime
// (Timeout.queuereturn), as a deferred message's later to= lines are not
// preceded by its from= line again.
const DefaultMaxQueueAge = 5 * 24 * time.Hour

// doneGrace is how long a finished message's state is kept for lines that
// arrive late (parallel delivery processes log out of order).
const doneGrace = 10 * time.Minute

// Ignored-line categories; Stats reports them as "ignored_<name>".
const (
	catConnection   = iota // lost input channel, timeouts, did not issue MAIL, connect notes
	catProtocol            // syntax errors, ETRN, bad commands
	catTLS                 // STARTTLS handshakes and errors
	catMilter              // Milter chatter other than rejects
	catDaemon              // daemon starts, throttling, alias rebuilds, startup warnings
	catQueue               // done, grew WorkList, queue-run notes
	catNotification        // DSNs created for a message (DSN:, postmaster notify:, return to sender:, clone:)
	catDeliveryInfo        // delivery-attempt notes that the to= line repeats
	catWarning             // warnings (Authentication-Warning, Fixed MIME header, ...)
	catError               // SYSERR and other errors
	catOtherProgram        // syslog lines of other programs sharing the log
	catSyslogRepeat        // syslogd's "last message repeated N times"
	catBlank               // empty and whitespace-only lines
	numCategories
)

var categoryNames = [numCategories]string{
	catConnection:   "connection",
	catProtocol:     "protocol",
	catTLS:          "tls",
	catMilter:       "milter",
	catDaemon:       "daemon",
	catQueue:        "queue",
	catNotification: "notification",
	catDeliveryInfo: "delivery_info",
	catWarning:      "warning",
	catError:        "error",
	catOtherProgram: "other_program",
	catSyslogRepeat: "syslog_repeat",
	catBlank:        "blank",
}

// Stats keys besides the ignored_<category> counters.
const (
	StatFlushedIncomplete = "flushed_incomplete" // state dropped after MaxQueueAge before its recipients were done
	StatPendingAtEnd      = "pending_at_end"     // unfinished state still held when Flush ran
	StatOrphanDeliveries  = "orphan_deliveries"  // to= lines for a queue id we had no from= for
	StatQueuePeak         = "queue_peak"         // most messages held at once
	StatQueueLen          = "queue_len"          // messages held now
)

// Parser parses one Sendmail log stream. Use New or
// normalize.New("sendmail").
type Parser struct {
	sys        *syslog.Parser
	maxAge     time.Duration
	sweepEvery time.Duration
	queue      map[string]*message
	now        time.Time
	lastSweep  time.Time

	ignored           [numCategories]int
	flushedIncomplete int
	pendingAtEnd      int
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
	every := min(maxAge/8, doneGrace)
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

// Flush ends the stream: deliveries were emitted as they came, so the
// messages still held are only counted (unfinished ones as pending_at_end)
// and forgotten.
func (p *Parser) Flush(normalize.Emit) {
	for _, m := range p.queue {
		if !m.done {
			p.pendingAtEnd++
		}
	}
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
	keys := []string{StatFlushedIncomplete, StatPendingAtEnd, StatOrphanDeliveries, StatQueuePeak, StatQueueLen}
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
	rec    syslog.Record
	file   string
	number int
	emit   normalize.Emit
}

func (l *line) event(typ, action string) *schema.Event {
	return &schema.Event{
		Time:       l.rec.Time,
		Host:       l.rec.Host,
		Product:    "sendmail",
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

// isSendmailProgram accepts the names Sendmail logs under: sendmail, and
// the sm-mta, sm-msp-queue, sm-acceptingconnections ... of Debian and the
// BSDs (the process title is the daemon's state).
func isSendmailProgram(prog string) bool {
	return strings.HasPrefix(prog, "sendmail") || strings.HasPrefix(prog, "sm-")
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
	if err == syslog.ErrTag && len(rec.Host) > 2 && rec.Host[0] == '<' && rec.Host[len(rec.Host)-1] == '>' {
		// BSD syslogd -v writes the facility and level after the stamp:
		// "Jun 17 14:37:39 <mail.notice> robin sm-mta[2794]: ..."
		if host, prog, pid, msg, ok := splitHostTag(rec.Message); ok {
			rec.Host, rec.Program, rec.PID, rec.Message, err = host, prog, pid, msg, nil
		}
	}
	if err != nil {
		if err == syslog.ErrTag && isRepeatNotice(rec.Message) {
			return p.ignore(catSyslogRepeat)
		}
		return normalize.NotUnderstood
	}
	if isRepeatNotice(rec.Message) {
		return p.ignore(catSyslogRepeat)
	}
	if !isSendmailProgram(rec.Program) {
		return p.ignore(catOtherProgram)
	}
	p.tick(rec.Time)
	l := line{rec: rec, file: src.File, number: src.Number, emit: emit}
	msg := rec.Message
	if msg == "" {
		return normalize.NotUnderstood
	}
	if r, ok := strings.CutPrefix(msg, "NOQUEUE: "); ok {
		return p.noQueue(&l, "", r)
	}
	if id, rest, ok := splitQueueID(msg); ok {
		// "QID: QID2: DSN: ..." (a notification created for QID) and
		// "QID: QID2: clone: owner=..." (a message split by envelope).
		if _, _, ok := splitQueueID(rest); ok {
			return p.ignore(catNotification)
		}
		return p.withQueueID(&l, id, rest)
	}
	return p.noQueue(&l, "", msg)
}

// isRepeatNotice recognizes the syslog daemon's repeat notices.
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

// withQueueID dispatches the lines about one message.
func (p *Parser) withQueueID(l *line, id, s string) normalize.Result {
	switch {
	case strings.HasPrefix(s, "from="):
		return p.from(l, id, s)
	case strings.HasPrefix(s, "to="):
		return p.to(l, id, s)
	case strings.HasPrefix(s, "ruleset="):
		return p.ruleset(l, id, s)
	case strings.HasPrefix(s, "Milter"):
		return p.milter(l, id, s)
	case strings.HasPrefix(s, "AUTH failure"):
		return p.authFailure(l, id, s)
	case strings.HasPrefix(s, "AUTH="):
		return p.authSuccess(l, id, s)
	case strings.HasPrefix(s, "done"):
		if m := p.queue[id]; m != nil {
			m.finish(p.now)
		}
		return p.ignore(catQueue)
	case strings.HasPrefix(s, "<"):
		return p.addressNote(l, id, s)
	}
	return p.noQueue(l, id, s)
}

// noQueue dispatches lines without a queue id, and the queue-id lines the
// switch above left.
func (p *Parser) noQueue(l *line, id, s string) normalize.Result {
	switch {
	case strings.HasPrefix(s, "ruleset="):
		return p.ruleset(l, id, s)
	case strings.HasPrefix(s, "AUTH failure"):
		return p.authFailure(l, id, s)
	case strings.HasPrefix(s, "AUTH="):
		return p.authSuccess(l, id, s)
	case strings.HasPrefix(s, "rejecting commands from "):
		return p.pregreet(l, id, s)
	case strings.HasPrefix(s, "message size ("):
		// "message size (12382169) exceeds maximum (10000000)"
		ev := p.rejectEvent(l, id, "reject")
		ev.Reason = s
		l.send(ev)
		return normalize.Understood
	}
	if i := strings.Index(s, ": possible SMTP attack: "); i > 0 {
		return p.attack(l, id, s[:i], s[i+len(": possible SMTP attack: "):])
	}
	if r, ok := client(s); ok {
		// "host [ip]: EXPN root [rejected]", "host [ip]: ETRN x",
		// "host [ip] did not issue MAIL/EXPN/VRFY/ETRN ..."
		return p.clientNote(l, id, s, r)
	}
	for _, n := range noise {
		if strings.HasPrefix(s, n.prefix) {
			return p.ignore(n.cat)
		}
	}
	// "mx.example.: SMTP DATA-2 protocol error: 571 refused" and other
	// notes about a delivery attempt to a host.
	if i := strings.Index(s, ": "); i > 0 && strings.IndexByte(s[:i], ' ') < 0 && strings.IndexByte(s[:i], '.') > 0 {
		return p.ignore(catDeliveryInfo)
	}
	return normalize.NotUnderstood
}

type noisePrefix struct {
	prefix string
	cat    int
}

var noise = []noisePrefix{
	{"lost input channel from ", catConnection},
	{"timeout waiting for input from ", catConnection},
	{"collect: ", catConnection},
	{"SMTP outgoing connect on ", catConnection},
	{"did not issue ", catConnection},
	{"Syntax error in mailbox address", catProtocol},
	{"STARTTLS", catTLS},
	{"TLS:", catTLS},
	{"starting daemon ", catDaemon},
	{"File descriptors missing on startup", catDaemon},
	{"rejecting connections on daemon ", catDaemon},
	{"accepting connections again for daemon ", catDaemon},
	{"alias database ", catDaemon},
	{"/etc/mail/", catDaemon},
	{"restarting ", catDaemon},
	{"stopping daemon", catDaemon},
	{"runqueue", catQueue},
	{"grew WorkList for ", catQueue},
	{"discarded", catQueue},
	{"DSN: ", catNotification},
	{"postmaster notify: ", catNotification},
	{"sender notify: ", catNotification},
	{"return to sender: ", catNotification},
	{"clone: ", catNotification},
	{"Authentication-Warning: ", catWarning},
	{"Fixed MIME ", catWarning},
	{"SYSERR", catError},
	{"Losing ", catError},
	{"savemail panic", catError},
}

// client recognizes a line that starts with the SMTP client, "host [ip]"
// or "[ip]", optionally followed by " (may be forged)", and returns the
// text after it.
func client(s string) (string, bool) {
	host, ip, rest := parseRelay(s)
	if ip == "" && host == "" {
		return "", false
	}
	if ip == "" {
		return "", false
	}
	return rest, true
}

// clientNote handles "host [ip]: EXPN root [rejected]" (a reject), and the
// connection notes that start with the client.
func (p *Parser) clientNote(l *line, id, s, rest string) normalize.Result {
	switch {
	case strings.HasPrefix(rest, ": ") && strings.HasSuffix(rest, " [rejected]"):
		host, ip, _ := parseRelay(s)
		ev := p.rejectEvent(l, id, "reject")
		ev.SrcIP, ev.SrcHost = ip, host
		ev.Reason = strings.TrimSuffix(rest[2:], " [rejected]") + " rejected"
		l.send(ev)
		return normalize.Understood
	case strings.HasPrefix(rest, ": ETRN"), strings.HasPrefix(rest, ": VRFY"), strings.HasPrefix(rest, ": EXPN"):
		return p.ignore(catProtocol)
	case strings.HasPrefix(rest, " did not issue "), strings.HasPrefix(rest, ": "):
		return p.ignore(catConnection)
	}
	return normalize.NotUnderstood
}

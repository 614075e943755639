// Package amavis normalizes the verdicts of mail content filters, amavis
// (amavisd-new) and MailScanner, from their syslog lines into schema
// events. It registers the format "amavis".
//
// Inside a Postfix log the Postfix parser already reads amavis lines; this
// format is for logs that content filters write on their own (a separate
// amavis.log, a MailScanner host), and for a mail log whose first lines
// happen to come from amavis: lines of postfix/* programs are handed to a
// Postfix parser (when the build registers one), so such a log loses
// nothing. Lines of other programs are ignored and counted.
//
// # amavis
//
// One line per message and verdict (amavisd-new's default log template):
//
//	(4051607-09) Blocked INFECTED (Eicar-Signature) {DiscardedInbound,Quarantined}, [192.0.2.1]:1434
//	[198.51.100.7] <a@x.example> -> <b@y.example>,<c@y.example>, quarantine: virus-26W2, Queue-ID:
//	83B741009CD35, Message-ID: <m@x>, mail_id: 26W2, Hits: -, size: 28646, queued_as: 4Fx, Subject:
//	"Invoice", 104 ms
//
// becomes one filter event per recipient, product amavis, with status the
// verdict ("Blocked INFECTED", "Passed CLEAN", "Blocked BANNED", "Blocked
// SPAM", "Passed SPAMMY", "Blocked BAD-HEADER-0" ...), and action
//
//	Passed ...                          delivered
//	Blocked ... {...,Quarantined}       quarantined
//	Blocked ... {Discarded...}          discarded
//	Blocked ... {Rejected...}           rejected
//	Blocked ... {Bounced...}            bounced
//	Blocked ... {TempFailed...}         deferred
//	Blocked ... (no disposition tags)   quarantined, as amavis' defaults and the Postfix parser have it
//	Not-Delivered ... (amavisd-new 2.5) discarded
//
// The parenthesized detail is the reason: the virus name of INFECTED, the
// banned part of BANNED, whose file names become attachments
// ("(multipart/mixed | application/zip,.zip,a.zip | .exe,.exe-ms,a.exe)"
// gives a.zip and a.exe with their types). src_ip is the last bracketed
// address before the sender (the original client that amavis learns from
// XFORWARD), queue_id the Postfix Queue-ID (the message before the filter,
// which links the event to the Postfix log), and message_id, size,
// subject (doubled quotes undone) and helo come from the named fields;
// Hits go to the reason of SPAM and SPAMMY verdicts. The direction comes
// from the disposition tag: ...Inbound inbound, ...Outbound and
// ...OpenRelay outbound, ...Internal internal.
//
// Other amavis lines (daemon messages, per-message details of higher log
// levels, "(!)" warnings, the "..."-continuations of split long lines) are
// ignored and counted.
//
// # MailScanner
//
//	Message 4bsM5k4xJmz4rT6 from 192.0.2.50 (a@x.example) to corp.example is spam, SpamAssassin (score=7.2, ...)
//	Message 4bsM5k4xJmz4rT6 from 192.0.2.50 (a@x.example) to corp.example is not spam, SpamAssassin (...)
//	Infected message 4bsM5k4xJmz4rT6 came from 192.0.2.50
//	Filename Checks: Windows/DOS Executable (4bsM5k4xJmz4rT6 invoice.exe)
//	Filetype Checks: No executables (4bsM5k4xJmz4rT6 invoice.pdf.exe)
//
// become filter events, product mailscanner, queue_id the MTA's queue id
// MailScanner names the message by. MailScanner logs the verdict, not what
// its configured Spam Actions did with the message (deliver with a header,
// store, delete are site settings): a spam verdict is action warned
// (flagged), "is not spam" delivered. Its recipients are domains ("to
// corp.example, other.example"): one event per domain, with
// recipient_domain and no recipient. An infected message and a file name
// or type check that fired are action quarantined (MailScanner quarantines
// them by default), with the file name as an attachment. The rest of
// MailScanner's chatter (batch, scanning, delivery and requeue notes, the
// update.* maintenance scripts) is ignored and counted.
package amavis

import (
	"sort"
	"strings"
	"time"

	"github.com/detect-dev/detect/normalize"
	"github.com/detect-dev/detect/normalize/syslog"
	"github.com/detect-dev/detect/schema"
)

func init() {
	normalize.Register("amavis", func(o normalize.Options) normalize.Parser { return New(o) })
}

// Ignored-line categories; Stats reports them as "ignored_<name>".
const (
	catAmavisDetail  = iota // per-message amavis lines other than the verdict (log level 2+)
	catAmavisDaemon         // amavis startup, child process and module notes (no "(pid-n)" prefix)
	catAmavisWarning        // "(!)" and "(!!)" warnings
	catContinuation         // "..." continuations of long lines that amavis split
	catMailScanner          // MailScanner batch, scanning, delivery and requeue notes
	catMaintenance          // update.virus.scanners, update.bad.phishing.sites and the like
	catOtherProgram         // syslog lines of programs that are no content filter
	catSyslogRepeat         // "last message repeated N times"
	catBlank                // empty lines
	numCategories
)

var categoryNames = [numCategories]string{
	catAmavisDetail:  "amavis_detail",
	catAmavisDaemon:  "amavis_daemon",
	catAmavisWarning: "amavis_warning",
	catContinuation:  "continuation",
	catMailScanner:   "mailscanner",
	catMaintenance:   "maintenance",
	catOtherProgram:  "other_program",
	catSyslogRepeat:  "syslog_repeat",
	catBlank:         "blank",
}

// Stats keys besides ignored_<category>.
const (
	StatPostfixLines = "postfix_lines" // lines handed to the Postfix parser
)

// Parser parses one content-filter log stream. Use New or
// normalize.New("amavis").
type Parser struct {
	opts    normalize.Options
	sys     *syslog.Parser
	postfix normalize.Parser // created at the first postfix/* line
	pfLines int
	ignored [numCategories]int
}

var _ normalize.Parser = (*Parser)(nil)
var _ normalize.FileAware = (*Parser)(nil)

// New returns a parser for one stream.
func New(o normalize.Options) *Parser {
	return &Parser{opts: o, sys: syslog.New(syslog.Options{
		Year: o.Year, ModTime: o.ModTime, Now: o.Now, Location: o.Location,
	})}
}

// BeginFile takes the next file's modification time for year inference,
// and tells the Postfix parser, if any.
func (p *Parser) BeginFile(path string, modTime time.Time) {
	p.sys.SetModTime(modTime)
	if fa, ok := p.postfix.(normalize.FileAware); ok {
		fa.BeginFile(path, modTime)
	}
}

// Flush flushes the Postfix parser, if any; verdicts are emitted as their
// lines arrive.
func (p *Parser) Flush(emit normalize.Emit) {
	if p.postfix != nil {
		p.postfix.Flush(emit)
	}
}

// Stats reports the ignored lines per category, the lines handed to the
// Postfix parser and, prefixed "postfix_", that parser's own stats.
func (p *Parser) Stats() map[string]int {
	m := map[string]int{StatPostfixLines: p.pfLines}
	for i, n := range p.ignored {
		if n > 0 {
			m["ignored_"+categoryNames[i]] = n
		}
	}
	if p.postfix != nil {
		for k, v := range p.postfix.Stats() {
			m["postfix_"+k] = v
		}
	}
	return m
}

// StatsKeys lists every key Stats may return apart from the Postfix
// parser's, sorted.
func StatsKeys() []string {
	keys := []string{StatPostfixLines}
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

// line is the per-line context of the handlers.
type line struct {
	time    time.Time
	host    string
	process string
	src     schema.Line
	emit    normalize.Emit
}

func (l *line) event(product, typ, action string) *schema.Event {
	return &schema.Event{
		Time: l.time, Host: l.host, Product: product, Process: l.process,
		EventType: typ, Action: action, SourceFile: l.src.File, SourceLine: l.src.Number,
	}
}

// Parse handles one line. It never panics: anything it cannot place is
// NotUnderstood, for the caller to count and sample.
func (p *Parser) Parse(src schema.Line, emit normalize.Emit) normalize.Result {
	text := strings.TrimSuffix(src.Text, "\r")
	if strings.TrimSpace(text) == "" {
		return p.ignore(catBlank)
	}
	rec, err := p.sys.Parse(text)
	if err != nil {
		if err == syslog.ErrTag && isRepeatNotice(rec.Message) {
			return p.ignore(catSyslogRepeat)
		}
		return normalize.NotUnderstood
	}
	prog := rec.Program
	if i := strings.LastIndexByte(prog, '/'); i >= 0 && strings.HasPrefix(prog, "/") {
		prog = prog[i+1:] // /usr/sbin/amavisd
	}
	l := line{time: rec.Time, host: rec.Host, process: prog, src: src, emit: emit}
	switch {
	case prog == "amavis" || prog == "amavisd" || prog == "amavisd-new":
		return p.amavis(&l, rec.Message)
	case prog == "MailScanner" || prog == "mailscanner":
		return p.mailScanner(&l, rec.Message)
	case strings.HasPrefix(prog, "update.") || strings.HasPrefix(prog, "MailScanner-") ||
		prog == "clean.quarantine" || prog == "check_mailscanner":
		return p.ignore(catMaintenance)
	case strings.HasPrefix(prog, "postfix/") || strings.HasPrefix(prog, "postfix-"):
		if p.postfix == nil {
			pf, err := normalize.New("postfix", p.opts)
			if err != nil {
				return p.ignore(catOtherProgram)
			}
			p.postfix = pf
		}
		p.pfLines++
		return p.postfix.Parse(src, emit)
	}
	return p.ignore(catOtherProgram)
}

func isRepeatNotice(msg string) bool {
	msg = strings.TrimPrefix(msg, "--- ")
	msg = strings.TrimPrefix(msg, "last ")
	rest, ok := strings.CutPrefix(msg, "message repeated ")
	return ok && strings.Contains(rest, " time")
}

package exchange

import (
	"sort"
	"strings"
	"time"

	"github.com/detect-dev/detect/normalize"
	"github.com/detect-dev/detect/normalize/csvevents"
	"github.com/detect-dev/detect/schema"
)

// The SMTP receive protocol log (format "exchange-smtp") records every SMTP
// session of a Receive connector, one CSV row per protocol step:
//
//	#Fields: date-time,connector-id,session-id,sequence-number,local-endpoint,remote-endpoint,event,data,context
//	2026-11-27T08:00:01.270Z,EX1\Default Frontend EX1,08DA4F7C11473A60,9,192.0.2.25:25,198.51.100.7:53722,>,535 5.7.3 Authentication unsuccessful,
//
// event is "+" (connect), "-" (disconnect), "<" (a client command), ">" (a
// server reply) or "*" (information). The parser follows each session by
// session-id (client address, EHLO name, MAIL FROM, the last RCPT TO, the
// last command, the authenticated user) and emits
//
//   - an auth event per "235" reply (action succeeded) and per "535" reply
//     (action failed: 535 5.7.3 Authentication unsuccessful, the password
//     spraying that fail2ban and CrowdSec watch for);
//   - a reject event (action rejected) per 4xx or 5xx reply to MAIL FROM,
//     RCPT TO, DATA or BDAT, with the sender and, for RCPT, the recipient.
//
// The events carry product exchange, process smtp-receive, host the server
// named in connector-id ("EX1\Default Frontend EX1" is server EX1), src_ip
// the remote endpoint's address, helo, sender, the authenticated user when
// a "*" row named it, and queue_id the session-id (which is what links the
// rows of one session, as Zeek's uid does). Every other row is ignored and
// counted by kind: connect, disconnect, command, reply, info, and header
// lines; rows of an SMTP Send protocol log (#Log-type says so) are ignored
// as send_log. Rows that are not protocol rows are NotUnderstood.

// Protocol log columns.
const (
	pcolDateTime = iota
	pcolConnector
	pcolSession
	pcolSequence
	pcolLocal
	pcolRemote
	pcolEvent
	pcolData
	pcolContext
	numPCols
)

var protocolColumnNames = map[string]int{
	"datetime":       pcolDateTime,
	"connectorid":    pcolConnector,
	"sessionid":      pcolSession,
	"sequencenumber": pcolSequence,
	"localendpoint":  pcolLocal,
	"remoteendpoint": pcolRemote,
	"event":          pcolEvent,
	"data":           pcolData,
	"context":        pcolContext,
}

// Ignored-row categories of the protocol log; Stats reports them as
// "ignored_<name>".
const (
	pcatHeader = iota
	pcatBlank
	pcatConnect
	pcatDisconnect
	pcatCommand
	pcatReply
	pcatInfo
	pcatSendLog
	numPCats
)

var protocolCategoryNames = [numPCats]string{
	pcatHeader:     "header",
	pcatBlank:      "blank",
	pcatConnect:    "connect",
	pcatDisconnect: "disconnect",
	pcatCommand:    "command",
	pcatReply:      "reply",
	pcatInfo:       "info",
	pcatSendLog:    "send_log",
}

// MaxSessions bounds the sessions followed at once; when it is reached the
// state of all of them is dropped (counted as sessions_dropped). Sessions
// end at their "-" row, so only a log cut mid-session leaves state behind.
const MaxSessions = 1 << 16

// Stats keys of the protocol log besides ignored_<category>.
const (
	StatSessionsDropped = "sessions_dropped"
	StatSessionsOpen    = "sessions_open_at_end"
)

type session struct {
	ip, helo, sender, rcpt, lastCmd, user, protocol string
}

// SMTPParser parses one SMTP receive protocol log stream. Use NewSMTP or
// normalize.New("exchange-smtp").
type SMTPParser struct {
	loc      *time.Location
	cols     [numPCols]int
	fields   []string
	sendLog  bool
	sessions map[string]*session
	ignored  [numPCats]int
	dropped  int
	openEnd  int
}

var _ normalize.Parser = (*SMTPParser)(nil)
var _ normalize.FileAware = (*SMTPParser)(nil)

// NewSMTP returns a protocol log parser for one stream.
func NewSMTP(o normalize.Options) *SMTPParser {
	p := &SMTPParser{loc: o.Location, sessions: map[string]*session{}}
	if p.loc == nil {
		p.loc = time.UTC
	}
	p.defaultColumns()
	return p
}

func (p *SMTPParser) defaultColumns() {
	for i := range p.cols {
		p.cols[i] = i
	}
	p.sendLog = false
}

// BeginFile resets the columns and the log type for the next file. Sessions
// carry over: a rotated log may cut one.
func (p *SMTPParser) BeginFile(string, time.Time) { p.defaultColumns() }

// Flush counts and forgets the sessions still open.
func (p *SMTPParser) Flush(normalize.Emit) {
	p.openEnd += len(p.sessions)
	clear(p.sessions)
}

// Stats reports the ignored rows per kind and the session counters.
func (p *SMTPParser) Stats() map[string]int {
	m := map[string]int{StatSessionsDropped: p.dropped, StatSessionsOpen: p.openEnd}
	for i, n := range p.ignored {
		if n > 0 {
			m["ignored_"+protocolCategoryNames[i]] = n
		}
	}
	return m
}

// SMTPStatsKeys lists every key SMTPParser.Stats may return, sorted.
func SMTPStatsKeys() []string {
	keys := []string{StatSessionsDropped, StatSessionsOpen}
	for _, n := range protocolCategoryNames {
		keys = append(keys, "ignored_"+n)
	}
	sort.Strings(keys)
	return keys
}

func (p *SMTPParser) ignore(cat int) normalize.Result {
	p.ignored[cat]++
	return normalize.Ignored
}

// Parse handles one line. It never panics: anything it cannot place is
// NotUnderstood, for the caller to count and sample.
func (p *SMTPParser) Parse(src schema.Line, emit normalize.Emit) normalize.Result {
	text := strings.TrimSuffix(src.Text, "\r")
	text = strings.TrimPrefix(text, "\ufeff")
	if strings.TrimSpace(text) == "" {
		return p.ignore(pcatBlank)
	}
	if text[0] == '#' {
		switch {
		case strings.HasPrefix(text, "#Fields:"):
			fields, err := csvevents.SplitRow(strings.TrimSpace(text[len("#Fields:"):]), p.fields)
			p.fields = fields
			if err != nil {
				return normalize.NotUnderstood
			}
			for i := range p.cols {
				p.cols[i] = -1
			}
			for i, f := range fields {
				if c, ok := protocolColumnNames[canonical(f)]; ok && p.cols[c] < 0 {
					p.cols[c] = i
				}
			}
		case strings.HasPrefix(text, "#Log-type:"):
			p.sendLog = strings.Contains(strings.ToLower(text), "send")
		}
		return p.ignore(pcatHeader)
	}
	fields, err := csvevents.SplitRow(text, p.fields)
	p.fields = fields
	if err != nil {
		return normalize.NotUnderstood
	}
	get := func(c int) string {
		if i := p.cols[c]; i >= 0 && i < len(fields) {
			return fields[i]
		}
		return ""
	}
	ev := get(pcolEvent)
	if len(ev) != 1 || !strings.Contains("+-<>*", ev) {
		return normalize.NotUnderstood
	}
	t, ok := parseTime(get(pcolDateTime), p.loc)
	if !ok {
		return normalize.NotUnderstood
	}
	if p.sendLog {
		return p.ignore(pcatSendLog)
	}
	id := get(pcolSession)
	data := get(pcolData)
	s := p.sessions[id]
	if s == nil && ev != "-" {
		if len(p.sessions) >= MaxSessions {
			p.dropped += len(p.sessions)
			clear(p.sessions)
		}
		s = &session{ip: endpointIP(get(pcolRemote))}
		p.sessions[id] = s
	}
	switch ev {
	case "+":
		return p.ignore(pcatConnect)
	case "-":
		delete(p.sessions, id)
		return p.ignore(pcatDisconnect)
	case "*":
		// "*,CONTOSO\user,authenticated" names the user of a session.
		if strings.EqualFold(strings.TrimSpace(get(pcolContext)), "authenticated") && data != "" {
			s.user = data
		}
		return p.ignore(pcatInfo)
	case "<":
		s.command(data)
		return p.ignore(pcatCommand)
	}
	// A server reply.
	code, reason := splitStatus(strings.TrimSpace(data))
	if code == "" {
		return p.ignore(pcatReply)
	}
	var typ, action string
	switch {
	case strings.HasPrefix(code, "535"):
		typ, action = schema.TypeAuth, schema.ActionFailed
	case strings.HasPrefix(code, "235"):
		typ, action = schema.TypeAuth, schema.ActionSucceeded
	case (code[0] == '4' || code[0] == '5') &&
		(s.lastCmd == "MAIL" || s.lastCmd == "RCPT" || s.lastCmd == "DATA" || s.lastCmd == "BDAT"):
		typ, action = schema.TypeReject, schema.ActionRejected
	default:
		return p.ignore(pcatReply)
	}
	e := &schema.Event{
		Time:       t,
		Host:       connectorHost(get(pcolConnector)),
		Product:    "exchange",
		Process:    "smtp-receive",
		EventType:  typ,
		Action:     action,
		StatusCode: code,
		Reason:     reason,
		QueueID:    id,
		SrcIP:      s.ip,
		Helo:       s.helo,
		AuthUser:   s.user,
		Protocol:   s.protocol,
		SourceFile: src.File,
		SourceLine: src.Number,
	}
	if typ == schema.TypeReject {
		if s.lastCmd != "MAIL" || s.sender != "" {
			e.SetSender(s.sender)
		}
		if s.lastCmd == "RCPT" {
			e.Recipient = s.rcpt
		}
	}
	e.Complete()
	emit(e)
	return normalize.Understood
}

// command records what a client command tells about its session.
func (s *session) command(data string) {
	verb, arg, _ := strings.Cut(strings.TrimSpace(data), " ")
	verb = strings.ToUpper(verb)
	switch verb {
	case "EHLO", "HELO":
		s.helo = strings.TrimSpace(arg)
		s.protocol = "esmtp"
		if verb == "HELO" {
			s.protocol = "smtp"
		}
	case "MAIL":
		s.sender = pathArg(arg, "FROM:")
		s.rcpt = ""
	case "RCPT":
		s.rcpt = pathArg(arg, "TO:")
	case "AUTH", "DATA", "BDAT", "RSET", "QUIT", "STARTTLS", "X-ANONYMOUSTLS":
		if verb == "RSET" {
			s.sender, s.rcpt = "", ""
		}
	default:
		// The arguments of AUTH LOGIN and other continuation lines
		// ("<Binary Data>"), and unknown verbs: keep the last command.
		if verb != "" && verb[0] != '<' && s.lastCmd != "AUTH" {
			s.lastCmd = verb
		}
		return
	}
	s.lastCmd = verb
}

// pathArg reads "FROM:<a@b> SIZE=1" as "a@b".
func pathArg(arg, key string) string {
	arg = strings.TrimSpace(arg)
	if len(arg) >= len(key) && strings.EqualFold(arg[:len(key)], key) {
		arg = strings.TrimSpace(arg[len(key):])
	}
	if strings.HasPrefix(arg, "<") {
		if i := strings.IndexByte(arg, '>'); i > 0 {
			return arg[1:i]
		}
	}
	if i := strings.IndexByte(arg, ' '); i >= 0 {
		arg = arg[:i]
	}
	return arg
}

// endpointIP takes the address out of "192.0.2.1:25" or "[2001:db8::1]:25".
func endpointIP(s string) string {
	s = strings.TrimSpace(s)
	if strings.HasPrefix(s, "[") {
		if i := strings.IndexByte(s, ']'); i > 0 {
			return s[1:i]
		}
		return s
	}
	if strings.Count(s, ":") == 1 {
		s, _, _ = strings.Cut(s, ":")
	}
	return s
}

// connectorHost takes the server out of a connector id "EX1\Default
// Frontend EX1"; an id without a backslash names no server.
func connectorHost(s string) string {
	if i := strings.IndexByte(s, '\\'); i > 0 {
		return s[:i]
	}
	return ""
}

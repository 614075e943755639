package postfix

import (
	"strings"
	"unicode/utf8"

	"github.com/detect-dev/detect/normalize"
	"github.com/detect-dev/detect/schema"
)

// Statuses of the connect events for SMTP protocol violations. The Exim
// parser uses the same words (and sync_error, protocol_error), so one rule
// reads both logs.
const (
	statusPipelining  = "pipelining"   // commands sent ahead without PIPELINING
	statusNonSMTP     = "non_smtp"     // HTTP or binary junk where SMTP commands belong
	statusBareNewline = "bare_newline" // a line ended by LF alone
)

// maxProtocolText bounds the client's bytes kept in a protocol event's
// reason: postscreen logs a TLS handshake sent in clear as a few hundred
// octal escapes, of which the start tells enough.
const maxProtocolText = 100

// smtpdViolation turns smtpd's complaints about a client's dialogue into
// connect events:
//
//	improper command pipelining after DATA from unknown[192.0.2.1]: .\r\nQUIT\r\n
//	warning: non-SMTP command from unknown[192.0.2.2]: GET / HTTP/1.1
//
// ("warning: " is there since Postfix 3.x; older releases log the second
// without it). ok is false for other lines.
func (p *Parser) smtpdViolation(l *line, msg string) (normalize.Result, bool) {
	msg = strings.TrimPrefix(msg, "warning: ")
	var status, head, rest string
	switch {
	case strings.HasPrefix(msg, "improper command pipelining after "):
		f := strings.Index(msg, " from ")
		if f < 0 {
			return normalize.NotUnderstood, false
		}
		status, head, rest = statusPipelining, msg[:f], msg[f+len(" from "):]
	case strings.HasPrefix(msg, "non-SMTP command from "):
		status, head, rest = statusNonSMTP, "non-SMTP command", msg[len("non-SMTP command from "):]
	default:
		return normalize.NotUnderstood, false
	}
	host, ip, after, ok := parseClient(rest)
	if !ok {
		return normalize.NotUnderstood, false
	}
	p.protocolEvent(l, status, head, host, ip, strings.TrimPrefix(after, ":"))
	return normalize.Understood, true
}

// postscreenViolation does the same for postscreen's after-greeting tests:
//
//	COMMAND PIPELINING from [192.0.2.3]:51286 after EHLO: QUIT\r\n
//	NON-SMTP COMMAND from [192.0.2.4]:41126 after CONNECT: GET / HTTP/1.1
//	BARE NEWLINE from [192.0.2.5]:51286 after \026\003\003
//
// PREGREET (talking before the banner) stays ignored: postscreen's
// pre-greeting test exists to drop the many bots that do it, and on a
// public MX it fires thousands of times a day.
func (p *Parser) postscreenViolation(l *line, msg string) (normalize.Result, bool) {
	var status, word string
	switch {
	case strings.HasPrefix(msg, "COMMAND PIPELINING from "):
		status, word = statusPipelining, "COMMAND PIPELINING"
	case strings.HasPrefix(msg, "NON-SMTP COMMAND from "):
		status, word = statusNonSMTP, "NON-SMTP COMMAND"
	case strings.HasPrefix(msg, "BARE NEWLINE from "):
		status, word = statusBareNewline, "BARE NEWLINE"
	default:
		return normalize.NotUnderstood, false
	}
	host, ip, after, ok := parseClient(msg[len(word)+len(" from "):])
	if !ok {
		return normalize.NotUnderstood, false
	}
	head := word
	text := after
	if cmd, ok := strings.CutPrefix(after, " after "); ok {
		// "after EHLO: text" names the command; after a CONNECT the
		// junk itself follows "after ".
		if c, t, found := strings.Cut(cmd, ": "); found && strings.IndexByte(c, ' ') < 0 && isUpperWord(c) {
			head, text = word+" after "+c, t
		} else {
			text = cmd
		}
	}
	p.protocolEvent(l, status, head, host, ip, text)
	return normalize.Understood, true
}

// protocolEvent emits one connect event for a protocol violation; the
// reason is the MTA's phrase, then what the client sent (bounded).
func (p *Parser) protocolEvent(l *line, status, head, host, ip, text string) {
	text = strings.TrimSpace(text)
	if len(text) > maxProtocolText {
		n := maxProtocolText
		for n > 0 && !utf8.RuneStart(text[n]) {
			n--
		}
		text = text[:n] + "..."
	}
	reason := head
	if text != "" {
		reason += ": " + text
	}
	// A non-SMTP command ends the session (smtpd hangs up, postscreen's
	// default action drops the client); the others are noted and the
	// dialogue goes on, unless the site configured an enforcement.
	action := schema.ActionWarned
	if status == statusNonSMTP {
		action = schema.ActionRejected
	}
	ev := l.event(schema.TypeConnect, action)
	ev.Status = status
	ev.Reason = reason
	ev.SrcIP, ev.SrcHost = ip, host
	l.send(ev)
}

// isUpperWord reports whether s is an SMTP command name as Postfix logs it
// (EHLO, DATA, CONNECT, UNKNOWN).
func isUpperWord(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 'A' || c > 'Z' {
			return false
		}
	}
	return true
}

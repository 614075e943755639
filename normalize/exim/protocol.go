package exim

import (
	"strings"

	"github.com/detect-dev/detect/normalize"
	"github.com/detect-dev/detect/schema"
)

// Statuses of the connect events for SMTP protocol violations. The Postfix
// parser uses the same words, so one rule reads both logs.
const (
	statusSyncError     = "sync_error"     // input sent before the greeting or without PIPELINING
	statusProtocolError = "protocol_error" // commands out of place, or too many bad ones
)

// protocolViolation turns the lines where Exim complains about the client's
// SMTP dialogue into connect events (client, status, reason):
//
//	SMTP protocol synchronization error (input sent without waiting for greeting): rejected connection from H=[192.0.2.1]:25936 I=[10.0.0.1]:25 input="GET / HTTP/1.1\r\n"
//	SMTP protocol synchronization error (next input sent too soon: pipelining was not advertised): rejected "RSET" H=mx.example [192.0.2.2]:58302 I=[10.0.0.1]:25 next input="QUIT\r\n"
//	SMTP call from host.example [192.0.2.3]:3767 I=[10.0.0.1]:25 dropped: too many nonmail commands (last was "RSET")
//	SMTP protocol error in "AUTH LOGIN" H=(ylmf-pc) [192.0.2.4]:60723 I=[10.0.0.1]:587 AUTH command used when not advertised
//
// These are what spam bots and scanners do (talking before the banner,
// HTTP requests, AUTH where it was not offered); one alone can be a broken
// client, which is why rules count them per client. ok is false for other
// lines, and for these when the client cannot be found in them.
func (p *Parser) protocolViolation(l *line, s string) (normalize.Result, bool) {
	var status, action, reason, spec string
	switch {
	case strings.HasPrefix(s, "SMTP protocol synchronization error ("):
		// The client's own bytes are quoted unescaped before H= (the
		// rejected command) and after it (next input=): take the last
		// H= before the input, so that a command holding " H=" cannot
		// name another client.
		end := strings.IndexByte(s, ')')
		h := strings.Index(s, " from H=")
		if h >= 0 {
			h += len(" from")
		} else {
			before := s
			if k := strings.LastIndex(s, " next input="); k >= 0 {
				before = s[:k]
			}
			h = strings.LastIndex(before, " H=")
		}
		if end < 0 || h < end {
			return normalize.NotUnderstood, false
		}
		status, action, reason = statusSyncError, schema.ActionRejected, s[:end+1]
		spec = s[h+len(" H="):]
	case strings.HasPrefix(s, "SMTP call from "):
		d := strings.Index(s, " dropped: too many ")
		if d < 0 {
			return normalize.NotUnderstood, false
		}
		status, action, reason = statusProtocolError, schema.ActionRejected, s[d+len(" dropped: "):]
		spec = s[len("SMTP call from "):d]
	case strings.HasPrefix(s, "SMTP protocol error in "):
		// The quoted command is the client's, unescaped: the real H= is
		// the last one.
		h := strings.LastIndex(s, " H=")
		if h < 0 {
			return normalize.NotUnderstood, false
		}
		status, reason = statusProtocolError, s[:h]
		spec = s[h+len(" H="):]
	default:
		return normalize.NotUnderstood, false
	}
	var f fields
	var rest string
	f.host, f.helo, f.ip, rest = parseHostSpec(spec)
	if f.ip == "" {
		return normalize.NotUnderstood, false
	}
	if action == "" {
		// Exim answered the command with an error and went on.
		action = schema.ActionWarned
		// `... H=(helo) [ip]:port I=[ip]:port AUTH command used when not
		// advertised`: the complaint follows the attributes.
		if text := strings.TrimSpace(scanFields(rest, &f)); text != "" {
			reason += ": " + text
		}
	}
	ev := l.event(schema.TypeConnect, action)
	ev.Status = status
	ev.Reason = reason
	ev.SrcIP, ev.SrcHost, ev.Helo = f.ip, f.host, f.helo
	l.send(ev)
	return normalize.Understood, true
}

package postfix

import (
	"strings"

	"github.com/detect-dev/detect/normalize"
	"github.com/detect-dev/detect/schema"
)

// smtpd handles the SMTP server: client= lines feed the message state;
// access-control actions (reject, reject_warning, milter-reject, discard,
// hold), SASL failures and clients' protocol violations (improper
// pipelining, non-SMTP commands) become events; the connection chatter is
// ignored.
func (p *Parser) smtpd(l *line, msg string) normalize.Result {
	if id, rest, ok := splitQueueID(msg); ok {
		if strings.HasPrefix(rest, "client=") {
			return p.client(l, id, rest)
		}
		if r, ok := p.action(l, id, rest); ok {
			return r
		}
		if isConnectionNoise(rest) {
			return p.ignore(catConnection)
		}
		if r, ok := p.common(rest); ok {
			return r
		}
		return normalize.NotUnderstood
	}
	if rest, ok := strings.CutPrefix(msg, "NOQUEUE: "); ok {
		if r, ok := p.action(l, "", rest); ok {
			return r
		}
		if isConnectionNoise(rest) {
			return p.ignore(catConnection)
		}
		return normalize.NotUnderstood
	}
	switch {
	case isConnectionNoise(msg):
		return p.ignore(catConnection)
	case isTLSNoise(msg):
		return p.ignore(catTLS)
	case strings.HasPrefix(msg, "improper command pipelining"),
		strings.HasPrefix(msg, "non-SMTP command"),
		strings.HasPrefix(msg, "warning: non-SMTP command"):
		if r, ok := p.smtpdViolation(l, msg); ok {
			return r
		}
		return p.ignore(catProtocol)
	case strings.HasPrefix(msg, "bare <LF>"):
		return p.ignore(catProtocol)
	case strings.HasPrefix(msg, "discarding EHLO keywords"),
		strings.HasPrefix(msg, "proxy-accept: "):
		return p.ignore(catSMTPDInfo)
	case strings.HasPrefix(msg, "proxy-reject: "):
		if r, ok := p.action(l, "", msg); ok {
			return r
		}
		return normalize.NotUnderstood
	case strings.HasPrefix(msg, "warning: "):
		if r, ok := p.saslFailure(l, msg[len("warning: "):]); ok {
			return r
		}
	}
	if r, ok := p.common(msg); ok {
		return r
	}
	return normalize.NotUnderstood
}

// isConnectionNoise recognizes the per-connection lines of smtpd.
func isConnectionNoise(s string) bool {
	for _, pre := range [...]string{
		"connect from ", "disconnect from ", "lost connection after ", "timeout after ",
		"too many errors after ", "Connection concurrency limit", "Connection rate limit",
	} {
		if strings.HasPrefix(s, pre) {
			return true
		}
	}
	return false
}

func isTLSNoise(s string) bool {
	for _, pre := range [...]string{
		"Anonymous TLS connection", "Trusted TLS connection", "Untrusted TLS connection",
		"Verified TLS connection", "SSL_accept error", "SSL_connect error", "TLS SNI",
		"certificate verification failed", "server certificate verification failed",
		"Server certificate not", "setting up TLS connection", "TLS library problem",
	} {
		if strings.HasPrefix(s, pre) {
			return true
		}
	}
	return false
}

// client handles `QUEUEID: client=host[ip]` with its optional
// `, sasl_method=PLAIN, sasl_username=u` (and, behind a content filter,
// orig_client=). A SASL login is also an auth success event: it is the one
// place Postfix logs successful authentication.
func (p *Parser) client(l *line, id, s string) normalize.Result {
	var host, ip, user, origHost, origIP string
	rest := s
	for {
		k, v, r, ok := nextKV(rest)
		if !ok {
			break
		}
		rest = r
		switch k {
		case "client":
			// client= values are host[ip] (with :port under
			// smtpd_client_port_logging), which nextKV stops at ','.
			if h, i, _, ok := parseClient(v); ok {
				host, ip = h, i
			}
		case "orig_client":
			if h, i, _, ok := parseClient(v); ok {
				origHost, origIP = h, i
			}
		case "sasl_username":
			user = v
		}
	}
	if ip == "" && host == "" {
		return normalize.NotUnderstood
	}
	m := p.begin(id)
	if origIP != "" {
		m.setClient(origHost, origIP)
	}
	m.setClient(host, ip)
	if user != "" {
		m.setIfEmpty(&m.authUser, user)
		ev := l.event(schema.TypeAuth, schema.ActionSucceeded)
		ev.QueueID = id
		ev.SrcIP, ev.SrcHost, ev.AuthUser = ip, host, user
		l.send(ev)
	}
	return normalize.Understood
}

// actionKind maps the access-control words Postfix logs to schema actions.
// ok is false for words that are not actions; event is false for actions
// that refuse nothing (filter, redirect, warn, proxy-accept).
func actionKind(word string) (action string, event, ok bool) {
	switch word {
	case "reject", "milter-reject", "proxy-reject":
		return schema.ActionRejected, true, true
	case "reject_warning":
		return schema.ActionWarned, true, true
	case "discard", "milter-discard":
		return schema.ActionDiscarded, true, true
	case "hold", "milter-hold":
		return schema.ActionQuarantined, true, true
	case "filter", "redirect", "warn", "proxy-accept", "milter-header-redirect",
		"prepend", "replace", "milter-redirect":
		return "", false, true
	}
	return "", false, false
}

// action parses an smtpd-style access line, the part after the queue id:
//
//	reject: RCPT from host[ip]: 554 5.7.1 <x>: Relay access denied; from=<a> to=<b> proto=ESMTP helo=<h>
//	milter-reject: END-OF-MESSAGE from host[ip]: 5.7.1 Blocked; from=<a> to=<b> ...
//	reject: CONNECT from [ip]:port: too many connections          (postscreen)
//	proxy-reject: END-OF-MESSAGE: 554 5.7.0 Reject; from=<> to=<b> proto=SMTP helo=<h>
//
// ok is false when s is not such a line.
func (p *Parser) action(l *line, id, s string) (normalize.Result, bool) {
	colon := strings.Index(s, ": ")
	if colon <= 0 {
		return normalize.NotUnderstood, false
	}
	word := s[:colon]
	action, isEvent, ok := actionKind(word)
	if !ok {
		return normalize.NotUnderstood, false
	}
	rest := s[colon+2:]
	// STAGE, then " from CLIENT: " except for proxy-* lines.
	sp := strings.IndexAny(rest, " :")
	if sp <= 0 {
		return normalize.NotUnderstood, true
	}
	stage := rest[:sp]
	rest = rest[sp:]
	var host, ip string
	if strings.HasPrefix(rest, " from ") {
		h, i, r, ok := parseClient(rest[len(" from "):])
		if !ok {
			return normalize.NotUnderstood, true
		}
		host, ip, rest = h, i, r
	}
	rest, ok = strings.CutPrefix(rest, ": ")
	if !ok {
		if rest != ":" && rest != "" {
			return normalize.NotUnderstood, true
		}
		rest = ""
	}
	if !isEvent {
		return p.ignore(catSMTPDInfo), true
	}
	reply := rest
	var env envelope
	if i := kvTail(rest); i >= 0 {
		reply = rest[:i]
		env, _ = parseEnvelope(rest[i+2:])
	}
	code, text := parseReply(reply)

	ev := l.event(schema.TypeReject, action)
	ev.Status = word
	ev.StatusCode = code
	ev.Reason = text
	ev.QueueID = id
	ev.SrcIP, ev.SrcHost = ip, host
	if env.hasFrom {
		ev.SetSender(env.from)
	}
	ev.Recipient = env.to
	ev.Helo = env.helo
	ev.Protocol = lowerProto(env.proto)
	if id != "" {
		m := p.msg(id, false)
		m.join(ev)
		// A refusal at or after DATA ends the message: no qmgr "removed"
		// will follow, so its state goes now rather than by age.
		if m != nil && action != schema.ActionWarned && action != schema.ActionQuarantined &&
			(stage == "DATA" || stage == "END-OF-MESSAGE" || stage == "BDAT") {
			p.drop(id)
		}
	}
	l.send(ev)
	return normalize.Understood, true
}

// saslFailure parses the part after "warning: " of
//
//	warning: host[ip]: SASL LOGIN authentication failed: reason[, sasl_username=u]
//
// (the client may carry a :port).
func (p *Parser) saslFailure(l *line, s string) (normalize.Result, bool) {
	host, ip, rest, ok := parseClient(s)
	if !ok {
		return normalize.NotUnderstood, false
	}
	rest, ok = strings.CutPrefix(rest, ": SASL ")
	if !ok {
		return normalize.NotUnderstood, false
	}
	i := strings.Index(rest, " authentication failed")
	if i < 0 {
		return normalize.NotUnderstood, false
	}
	reason := rest[i+len(" authentication failed"):]
	reason = strings.TrimPrefix(reason, ":")
	reason = strings.TrimLeft(reason, " ")
	var user string
	if j := strings.LastIndex(reason, "sasl_username="); j >= 0 {
		user = reason[j+len("sasl_username="):]
		reason = strings.TrimRight(reason[:j], ", ")
	}
	ev := l.event(schema.TypeAuth, schema.ActionFailed)
	ev.SrcIP, ev.SrcHost = ip, host
	ev.AuthUser = user
	ev.Reason = reason
	l.send(ev)
	return normalize.Understood, true
}

// postscreen lines are noise apart from its rejects, which have the smtpd
// form (with `, `-separated attributes), and the protocol violations of
// its after-greeting tests.
func (p *Parser) postscreen(l *line, msg string) normalize.Result {
	if rest, ok := strings.CutPrefix(msg, "NOQUEUE: "); ok {
		if r, ok := p.action(l, "", rest); ok {
			return r
		}
	}
	if r, ok := p.postscreenViolation(l, msg); ok {
		return r
	}
	return p.ignore(catPostscreen)
}

package sendmail

import (
	"strings"

	"github.com/detect-dev/detect/normalize"
	"github.com/detect-dev/detect/schema"
)

// from records a message's from= line:
//
//	from=<a@b>, size=5938, class=0, nrcpts=7, msgid=<m@b>, proto=ESMTP, daemon=MTA, relay=host [192.0.2.1]
//
// It emits nothing: the deliveries carry what it says.
func (p *Parser) from(l *line, id, s string) normalize.Result {
	var a attrs
	scanAttrs(s, &a)
	if !a.hasFrom {
		return normalize.NotUnderstood
	}
	m := p.lookup(id, true)
	m.sender, m.hasSender = strings.Clone(trimAngles(a.from)), true
	if n, ok := atoi64(a.size); ok {
		m.size = n
	}
	if n, ok := atoi64(a.nrcpts); ok && n < 1<<31 {
		m.nrcpt = int(n)
	}
	m.messageID = strings.Clone(trimAngles(a.msgid))
	m.protocol = strings.ToLower(a.proto)
	if a.relay != "" {
		host, ip, _ := parseRelay(a.relay)
		if strings.IndexByte(host, '@') < 0 { // not the user@localhost of a local submission
			m.srcHost = strings.Clone(host)
		}
		m.srcIP = strings.Clone(ip)
	}
	return normalize.Understood
}

// to parses a to= line into one delivery event per recipient:
//
//	to=<a@b>,<c@d>, ctladdr=u (1/1), delay=1+00:00:15, xdelay=00:00:15, mailer=esmtp, pri=34527,
//	   relay=mx.b. [192.0.2.2], dsn=4.3.5, stat=Deferred: 451 4.3.5 Server configuration problem
func (p *Parser) to(l *line, id, s string) normalize.Result {
	var a attrs
	scanAttrs(s, &a)
	rcpts := splitRecipients(a.to)
	if len(rcpts) == 0 || a.stat == "" {
		return normalize.NotUnderstood
	}
	action, status, reason := statAction(a.stat, a.dsn)
	ev := l.event(schema.TypeDelivery, action)
	ev.Status = status
	ev.Reason = reason
	ev.QueueID = id
	ev.StatusCode = statusCode(reason, a.dsn)
	if d, ok := parseDelay(a.delay); ok {
		ev.SetDelay(d)
	}
	if a.relay != "" {
		host, ip, _ := parseRelay(a.relay)
		switch {
		case host != "" && ip != "":
			ev.Relay = host + "[" + ip + "]"
		case ip != "":
			ev.Relay = "[" + ip + "]"
		default:
			ev.Relay = host
		}
	}
	if ev.Relay == "" {
		ev.Relay = a.mailer // local, prog, ...
	}
	m := p.lookup(id, false)
	if m != nil {
		m.join(ev)
	} else {
		p.orphans++
	}
	for i, r := range rcpts {
		e := ev
		if i < len(rcpts)-1 {
			c := *ev
			e = &c
		}
		e.Recipient = r
		l.send(e)
	}
	if m != nil && action != schema.ActionDeferred {
		m.finals += len(rcpts)
		if m.nrcpt > 0 && m.finals >= m.nrcpt {
			m.finish(p.now)
		}
	}
	return normalize.Understood
}

// statAction maps a stat= text to the action, Sendmail's word and the
// reason: "Sent (text)" is delivered with reason text, "Deferred: text" and
// "queued" are deferred, and any other text (User unknown, Service
// unavailable, ...) is a failure: deferred for a 4.x.x dsn, else bounced.
func statAction(stat, dsn string) (action, status, reason string) {
	switch {
	case strings.HasPrefix(stat, "Sent"):
		r := strings.TrimSpace(stat[len("Sent"):])
		if len(r) >= 2 && r[0] == '(' && r[len(r)-1] == ')' {
			r = strings.TrimSpace(r[1 : len(r)-1])
		}
		return schema.ActionDelivered, "sent", r
	case strings.HasPrefix(stat, "Deferred"):
		r := strings.TrimPrefix(stat[len("Deferred"):], ":")
		return schema.ActionDeferred, "deferred", strings.TrimSpace(r)
	case strings.HasPrefix(stat, "queued"):
		return schema.ActionDeferred, "queued", ""
	case strings.HasPrefix(dsn, "4."):
		return schema.ActionDeferred, "deferred", stat
	}
	return schema.ActionBounced, "bounced", stat
}

// statusCode combines the reply code at the start of the reason with the
// dsn= value: "451 4.3.5", or the DSN alone when the reason has no code.
func statusCode(reason, dsn string) string {
	code, _ := replyCode(reason)
	switch {
	case code == "":
		return dsn
	case len(code) == 3 && dsn != "":
		return code + " " + dsn
	}
	return code
}

// rejectEvent starts a reject event joined with the message's state.
func (p *Parser) rejectEvent(l *line, id, status string) *schema.Event {
	ev := l.event(schema.TypeReject, schema.ActionRejected)
	ev.Status = status
	ev.QueueID = id
	if id != "" {
		p.lookup(id, false).join(ev)
	}
	return ev
}

// setReject reads a reject= value, "550 5.7.1 <a@b>... Relaying denied", into
// status_code and reason.
func setReject(ev *schema.Event, v string) {
	code, n := replyCode(v)
	ev.StatusCode = code
	r := strings.TrimLeft(v[n:], " ")
	if strings.HasPrefix(r, "<") {
		if k := strings.Index(r, ">... "); k >= 0 {
			r = r[k+len(">... "):]
		}
	}
	ev.Reason = r
}

// setClient fills the client from a relay= value.
func setClient(ev *schema.Event, relay string) {
	if relay == "" {
		return
	}
	host, ip, _ := parseRelay(relay)
	ev.SrcHost, ev.SrcIP = host, ip
}

// ruleset parses the access-control rejects:
//
//	ruleset=check_rcpt, arg1=<c@d>, relay=host [192.0.2.1], reject=550 5.7.1 <c@d>... Relaying denied
//	ruleset=check_relay, arg1=host, arg2=192.0.2.1, relay=host [192.0.2.1], reject=421 4.3.2 Connection rate limit exceeded.
func (p *Parser) ruleset(l *line, id, s string) normalize.Result {
	var a attrs
	rest := scanAttrs(s, &a)
	var ev *schema.Event
	switch {
	case a.reject != "":
		ev = p.rejectEvent(l, id, "reject")
		setReject(ev, a.reject)
	case strings.HasPrefix(strings.TrimSpace(rest), "discard"):
		ev = p.rejectEvent(l, id, "discard")
		ev.Action = schema.ActionDiscarded
	case a.quarantine != "":
		ev = p.rejectEvent(l, id, "quarantine")
		ev.Action = schema.ActionQuarantined
		ev.Reason = a.quarantine
	default:
		return normalize.NotUnderstood
	}
	ev.Process = l.rec.Program
	switch a.ruleset {
	case "check_rcpt":
		ev.Recipient = trimAngles(a.arg1)
	case "check_mail":
		ev.SetSender(trimAngles(a.arg1))
	case "check_relay":
		if ev.SrcHost == "" && !strings.HasPrefix(a.arg1, "[") {
			ev.SrcHost = a.arg1
		}
		ev.SrcIP = a.arg2
	}
	setClient(ev, a.relay)
	if ev.Reason == "" && a.ruleset != "" {
		ev.Reason = a.ruleset
	}
	l.send(ev)
	return normalize.Understood
}

// milter handles the Milter lines: rejects become events, the rest
// ("Milter: no active filter", "Milter add: header: ...") is noise.
//
//	Milter: from=<a@b>, reject=550 5.7.1 Blocked by policy
//	Milter: to=<c@d>, reject=550 5.1.1 unknown
//	Milter: data, reject=554 5.7.1 virus found
func (p *Parser) milter(l *line, id, s string) normalize.Result {
	r, ok := strings.CutPrefix(s, "Milter: ")
	if !ok || !strings.Contains(r, "reject=") {
		return p.ignore(catMilter)
	}
	var a attrs
	scanAttrs(strings.TrimPrefix(r, "data, "), &a)
	if a.reject == "" {
		return p.ignore(catMilter)
	}
	ev := p.rejectEvent(l, id, "milter-reject")
	setReject(ev, a.reject)
	if a.hasFrom {
		ev.SetSender(trimAngles(a.from))
	}
	if a.to != "" {
		ev.Recipient = trimAngles(a.to)
	}
	l.send(ev)
	return normalize.Understood
}

// authFailure parses
//
//	AUTH failure (LOGIN): authentication failure (-13) SASL(-13): authentication failure: checkpass failed, user=u@x, relay=host [192.0.2.3] (may be forged)
//
// into an auth event (action failed; the reason starts with the mechanism).
// The user name is everything between "user=" and the last ", relay=": a
// client can put ", relay=[...]" into its user name, and the real client is
// the last relay=.
func (p *Parser) authFailure(l *line, id, s string) normalize.Result {
	rest := s[len("AUTH failure"):]
	mech := ""
	if r, ok := strings.CutPrefix(rest, " ("); ok {
		if k := strings.IndexByte(r, ')'); k >= 0 {
			mech, rest = r[:k], r[k+1:]
		}
	}
	rest, ok := strings.CutPrefix(rest, ": ")
	if !ok {
		return normalize.NotUnderstood
	}
	ev := l.event(schema.TypeAuth, schema.ActionFailed)
	ev.Status = "AUTH failure"
	ev.QueueID = id
	text := rest
	if relayAt := strings.LastIndex(rest, ", relay="); relayAt >= 0 {
		setClient(ev, rest[relayAt+len(", relay="):])
		text = rest[:relayAt]
	} else if r, ok := strings.CutPrefix(rest, "relay="); ok {
		setClient(ev, r)
		text = ""
	}
	if u := strings.Index(text, ", user="); u >= 0 {
		ev.AuthUser = text[u+len(", user="):]
		text = text[:u]
	}
	text = strings.TrimSpace(text)
	if mech != "" {
		text = mech + ": " + text
	}
	ev.Reason = text
	l.send(ev)
	return normalize.Understood
}

// authSuccess parses "AUTH=server, relay=host [ip], authid=u, mech=PLAIN,
// bits=0" into an auth event (action succeeded) and remembers the user for
// the message. "AUTH=client" lines (Sendmail authenticating to a relay)
// are delivery details.
func (p *Parser) authSuccess(l *line, id, s string) normalize.Result {
	var a attrs
	scanAttrs(s, &a)
	if !strings.HasPrefix(s, "AUTH=server") {
		return p.ignore(catDeliveryInfo)
	}
	ev := l.event(schema.TypeAuth, schema.ActionSucceeded)
	ev.Status = "AUTH=server"
	ev.QueueID = id
	ev.AuthUser = a.authid
	setClient(ev, a.relay)
	if a.mech != "" {
		ev.Reason = "mech=" + a.mech
	}
	if id != "" && a.authid != "" {
		m := p.lookup(id, true)
		m.authUser = strings.Clone(a.authid)
	}
	l.send(ev)
	return normalize.Understood
}

// attack parses "[192.0.2.1]: possible SMTP attack: command=AUTH, count=5"
// (Sendmail dropping a client that repeats a command) into a reject event.
func (p *Parser) attack(l *line, id, client, what string) normalize.Result {
	ev := p.rejectEvent(l, id, "possible SMTP attack")
	setClient(ev, client)
	ev.Reason = what
	l.send(ev)
	return normalize.Understood
}

// pregreet parses "rejecting commands from host [192.0.2.1] due to
// pre-greeting traffic after 0 seconds".
func (p *Parser) pregreet(l *line, id, s string) normalize.Result {
	r := s[len("rejecting commands from "):]
	host, ip, rest := parseRelay(strings.TrimLeft(r, " "))
	ev := p.rejectEvent(l, id, "rejecting commands")
	ev.SrcHost, ev.SrcIP = host, ip
	ev.Reason = strings.TrimPrefix(strings.TrimSpace(rest), "due to ")
	l.send(ev)
	return normalize.Understood
}

// addressNote parses the refusals Sendmail logs as "<addr>... text":
//
//	<nobody@example.edu>... User unknown
//	<badguy@.com>... Invalid host name
//
// into a reject event. The address is the recipient when the text is
// about a recipient (user unknown, relaying denied), the sender when it
// is about a sender, and stays in the reason otherwise.
func (p *Parser) addressNote(l *line, id, s string) normalize.Result {
	k := strings.Index(s, ">... ")
	if k < 0 {
		return normalize.NotUnderstood
	}
	addr, text := s[1:k], s[k+len(">... "):]
	ev := p.rejectEvent(l, id, "reject")
	ev.Reason = text
	lower := strings.ToLower(text)
	switch {
	case strings.Contains(lower, "sender"):
		ev.SetSender(addr)
	case strings.Contains(lower, "user unknown"), strings.Contains(lower, "no such user"),
		strings.Contains(lower, "relaying denied"), strings.Contains(lower, "recipient"),
		strings.Contains(lower, "mailbox"):
		ev.Recipient = addr
	default:
		ev.Reason = "<" + addr + ">... " + text
	}
	l.send(ev)
	return normalize.Understood
}

package exim

import (
	"strings"

	"github.com/detect-dev/detect/normalize"
	"github.com/detect-dev/detect/schema"
)

// arrival parses the `<=` line
//
//	<= a@b.example H=mx.example (helo) [192.0.2.1]:4321 I=[10.0.0.1]:25 P=esmtps X=TLS1.3:... CV=no
//	   A=dovecot_plain:user S=1234 id=abc@b.example T="Subject" for c@d.example e@f.example
//
// into a receive event, remembers the message for its deliveries, and emits
// an auth success event when the client authenticated.
func (p *Parser) arrival(l *line, id, s, status string) normalize.Result {
	sender, rest, ok := scanAddress(s)
	if !ok {
		return normalize.NotUnderstood
	}
	var f fields
	rest = scanFields(rest, &f)
	var rcpts []string
	if r, ok := strings.CutPrefix(rest, "for "); ok {
		rcpts = strings.Fields(r)
	} else if rest != "" {
		// Something after the attributes we do not know: keep the
		// event, the attributes were read.
		rest = ""
	}
	if status == "" {
		status = "received"
	}
	ev := l.event(schema.TypeReceive, schema.ActionReceived)
	ev.Status = status
	ev.QueueID = id
	ev.SetSender(trimAngles(sender))
	ev.Size = f.size
	ev.RecipientCount = len(rcpts)
	ev.MessageID = f.msgID
	ev.SrcIP, ev.SrcHost, ev.Helo = f.ip, f.host, f.helo
	ev.AuthUser = authUser(f.auth)
	ev.Subject = decodeWords(f.subject)
	ev.Protocol = f.proto
	if ev.Sender == "" && f.router != "" {
		p.bounces++
	}

	m := p.begin(id)
	m.sender, m.hasSender = strings.Clone(ev.Sender), true
	m.size, m.nrcpt = ev.Size, ev.RecipientCount
	m.messageID = strings.Clone(ev.MessageID)
	m.srcIP, m.srcHost, m.helo = strings.Clone(ev.SrcIP), strings.Clone(ev.SrcHost), strings.Clone(ev.Helo)
	m.authUser = strings.Clone(ev.AuthUser)
	if ev.Subject == f.subject {
		m.subject = strings.Clone(ev.Subject)
	} else {
		m.subject = ev.Subject // decoded: already a copy
	}
	m.protocol = strings.Clone(ev.Protocol)
	m.arrival = l.time

	if ev.AuthUser != "" {
		a := l.event(schema.TypeAuth, schema.ActionSucceeded)
		a.QueueID = id
		a.SrcIP, a.SrcHost, a.Helo, a.AuthUser = ev.SrcIP, ev.SrcHost, ev.Helo, ev.AuthUser
		a.Protocol = ev.Protocol
		l.send(a)
	}
	l.send(ev)
	return normalize.Understood
}

// scanAddress reads the address that starts s: a word, which may be <>
// (the null sender) or hold a quoted local part with spaces
// ("a b"@example). A trailing ':' (as in "** a@b: retry timeout
// exceeded") is not part of it.
func scanAddress(s string) (addr, rest string, ok bool) {
	if s == "" {
		return "", "", false
	}
	j := 0
	if s[0] == '"' {
		if k := strings.IndexByte(s[1:], '"'); k >= 0 {
			j = k + 2
		}
	} else if s[0] == '<' {
		// "<>" and "<a b@c>"
		if k := strings.IndexByte(s, '>'); k >= 0 {
			return s[:k+1], s[k+1:], true
		}
	}
	for j < len(s) && s[j] != ' ' {
		j++
	}
	addr, rest = s[:j], s[j:]
	if n := len(addr); n > 1 && addr[n-1] == ':' && addr[0] != ':' { // but :blackhole: and :fail:
		addr, rest = addr[:n-1], s[n-1:]
	}
	return addr, rest, true
}

// delivery parses the recipient outcome lines
//
//	=> a@b.example <orig@c.example> R=dnslookup T=remote_smtp H=mx.b.example [192.0.2.2]:25 X=... C="250 OK" QT=2s
//	-> d@b.example R=... (another address of the same delivery)
//	** a@b.example R=r T=t H=mx [192.0.2.2]: SMTP error from remote mail server after RCPT TO:<a@b.example>: 550 5.1.1 unknown
//	** a@b.example: retry timeout exceeded
//	== a@b.example R=r T=t defer (-44): SMTP error from ...: 451 try later
//
// into one delivery event joined with the message's `<=` facts.
func (p *Parser) delivery(l *line, id, s, action, status string) normalize.Result {
	addr, rest, ok := scanAddress(s)
	if !ok || addr == "" {
		return normalize.NotUnderstood
	}
	ev := l.event(schema.TypeDelivery, action)
	ev.Status = status
	ev.QueueID = id
	var orig, parent string
	// <original> addresses (all_parents gives several: the last one is
	// where the message was sent) and the (parent) of a pipe or file.
	for {
		rest = strings.TrimLeft(rest, " ")
		if len(rest) > 1 && rest[0] == '<' {
			v, r := scanValue(rest)
			if !strings.HasSuffix(v, ">") {
				break
			}
			orig, rest = trimAngles(v), r
			continue
		}
		if len(rest) > 1 && rest[0] == '(' {
			k := strings.IndexByte(rest, ')')
			if k < 0 {
				break
			}
			parent, rest = rest[1:k], rest[k+1:]
			continue
		}
		break
	}
	var f fields
	rest = scanFields(rest, &f)
	// "defer (-44): text", "routing defer (-56): text", and the
	// "defer (-44) H=host [ip]: text" of newer versions.
	for _, w := range [...]string{"routing defer (", "transport defer (", "defer ("} {
		if r, ok := strings.CutPrefix(rest, w); ok {
			if k := strings.IndexByte(r, ')'); k >= 0 {
				rest = scanFields(r[k+1:], &f)
			}
			break
		}
	}
	if r, ok := reasonAfterColon(rest); ok {
		ev.Reason = r
	}

	// The recipient is the address delivered to when it is a mail
	// address; a local part, pipe or file stands for the address that
	// was redirected to it.
	switch {
	case strings.IndexByte(addr, '@') > 0 && addr[0] != '|' && addr[0] != '/':
		ev.Recipient = addr
		if orig != "" && orig != addr {
			ev.OrigRecipient = orig
		}
	case parent != "" && strings.IndexByte(parent, '@') > 0:
		ev.Recipient = parent
		if orig != "" && orig != parent {
			ev.OrigRecipient = orig
		}
	case orig != "":
		ev.Recipient = orig
	default:
		ev.Recipient = addr
	}
	if f.hasSender {
		ev.SetSender(f.sender)
	}
	switch {
	case f.hasHost && f.ip != "" && f.host != "":
		ev.Relay = f.host + "[" + f.ip + "]"
	case f.hasHost && f.ip != "":
		ev.Relay = "[" + f.ip + "]"
	case f.hasHost:
		ev.Relay = f.host
	case f.transport != "":
		ev.Relay = f.transport
	case ev.Recipient != addr:
		ev.Relay = addr // a pipe, file or :blackhole:
	}
	if f.confirm != "" {
		ev.StatusCode, _ = replyCode(f.confirm)
		if ev.Reason == "" {
			ev.Reason = f.confirm
		}
	} else if ev.Reason != "" {
		ev.StatusCode = replyIn(ev.Reason)
	}
	m := p.lookup(id)
	if f.hasQueueTime {
		ev.SetDelay(f.queueTime)
	} else if m != nil && !m.arrival.IsZero() && !l.time.Before(m.arrival) {
		ev.SetDelay(l.time.Sub(m.arrival).Seconds())
	}
	if m != nil {
		m.join(ev)
	} else {
		p.orphans++
	}
	l.send(ev)
	return normalize.Understood
}

// fieldLine handles the lines that start with attributes: rejects,
// verification notes and delivery-attempt errors.
//
//	H=(helo) [192.0.2.9]:4321 I=[10.0.0.1]:25 F=<a@b> rejected RCPT <c@d>: relay not permitted
//	1vA2bC-000123-AB H=mx [192.0.2.9] F=<a@b> rejected after DATA: This message contains a virus
//	H=[192.0.2.9] rejected connection in "connect" ACL: 550 go away
func (p *Parser) fieldLine(l *line, id, s string) normalize.Result {
	var f fields
	rest := scanFields(s, &f)
	switch {
	case strings.HasPrefix(rest, "rejected "):
		return p.reject(l, id, &f, "rejected", rest[len("rejected "):])
	case strings.HasPrefix(rest, "temporarily rejected "):
		return p.reject(l, id, &f, "temporarily rejected", rest[len("temporarily rejected "):])
	case strings.HasPrefix(rest, "RCPT ") && strings.Contains(rest, ": discarded by "):
		// "RCPT <c@d>: discarded by RCPT ACL"
		ev := p.rejectEvent(l, id, &f, schema.ActionDiscarded, "discarded")
		rcpt, r, _ := scanAddress(rest[len("RCPT "):])
		ev.Recipient = trimAngles(rcpt)
		if reason, ok := reasonAfterColon(r); ok {
			ev.Reason = reason
		}
		l.send(ev)
		return normalize.Understood
	case strings.HasPrefix(rest, "dropped by "):
		// "H=[192.0.2.101]:62839 dropped by 'connect' ACL: Country is banned"
		ev := p.rejectEvent(l, id, &f, schema.ActionRejected, "dropped")
		setReason(ev, afterFirstColon(rest))
		l.send(ev)
		return normalize.Understood
	case strings.HasPrefix(rest, "sender verify "), strings.HasPrefix(rest, "recipient verify "),
		strings.HasPrefix(rest, "VRFY "), strings.HasPrefix(rest, "EXPN "):
		return p.ignore(catVerify)
	case strings.HasPrefix(rest, "Warning: "), strings.HasPrefix(rest, "Warning:"):
		return p.ignore(catWarning)
	}
	if id != "" {
		// "H=mx [192.0.2.2] Connection refused", "H=mx [192.0.2.2]: SMTP
		// error from remote mail server after RCPT TO:<a@b>: 451 ...",
		// "H=mx [192.0.2.2]: DANE error ...": a delivery attempt; the
		// `==` or `**` line that follows carries the outcome.
		if f.hasHost && (strings.HasPrefix(rest, ":") || startsWithNoise(rest, idNoise)) {
			return p.ignore(catDeliveryInfo)
		}
	}
	if cat, ok := matchNoise(rest, noise); ok {
		return p.ignore(cat)
	}
	return normalize.NotUnderstood
}

func startsWithNoise(s string, table []noisePrefix) bool {
	_, ok := matchNoise(s, table)
	return ok
}

// rejectEvent starts a reject event with the client and sender of f.
func (p *Parser) rejectEvent(l *line, id string, f *fields, action, status string) *schema.Event {
	ev := l.event(schema.TypeReject, action)
	ev.Status = status
	ev.QueueID = id
	ev.SrcIP, ev.SrcHost, ev.Helo = f.ip, f.host, f.helo
	if f.hasSender {
		ev.SetSender(f.sender)
	}
	ev.AuthUser = authUser(f.auth)
	ev.Protocol = f.proto
	if id != "" {
		if m := p.lookup(id); m != nil {
			m.join(ev)
		}
	}
	return ev
}

// reject handles "rejected WHAT ..." after the attributes:
//
//	RCPT <c@d>: reason          MAIL <a@b>: reason        after DATA: reason
//	connection in "connect" ACL: reason                  EHLO or HELO name: reason
//	by local_scan(): reason     by non-SMTP ACL: reason
func (p *Parser) reject(l *line, id string, f *fields, status, s string) normalize.Result {
	ev := p.rejectEvent(l, id, f, schema.ActionRejected, status)
	switch {
	case strings.HasPrefix(s, "RCPT "):
		rcpt, r, _ := scanAddress(s[len("RCPT "):])
		ev.Recipient = trimAngles(rcpt)
		if reason, ok := reasonAfterColon(r); ok {
			setReason(ev, reason)
		}
	case strings.HasPrefix(s, "MAIL "):
		addr, r, _ := scanAddress(s[len("MAIL "):])
		if !ev.HasSender && strings.HasPrefix(addr, "<") {
			ev.SetSender(trimAngles(addr))
		}
		if reason, ok := reasonAfterColon(r); ok {
			setReason(ev, reason)
		}
	default:
		setReason(ev, afterFirstColon(s))
	}
	l.send(ev)
	return normalize.Understood
}

// rejectFrom handles the rejects that name the client after "from":
//
//	rejected EHLO from [192.0.2.1]: syntactically invalid argument(s): ...
//	rejected HELO from host [192.0.2.1]: ...
//	rejected MAIL from [192.0.2.1]: no HELO/EHLO given
func (p *Parser) rejectFrom(l *line, id, status, s string) normalize.Result {
	sp := strings.Index(s, " from ")
	if sp <= 0 || strings.IndexByte(s[:sp], ' ') >= 0 {
		// "rejected MAIL command U=u: too many messages in one connection"
		if w, r, ok := strings.Cut(s, " "); ok && isUpperWord(w) {
			var f fields
			for !startsWithField(r) && r != "" && r[0] != ':' {
				_, r, _ = strings.Cut(r, " ")
			}
			r = scanFields(r, &f)
			ev := p.rejectEvent(l, id, &f, schema.ActionRejected, status)
			if reason, ok := reasonAfterColon(r); ok {
				setReason(ev, reason)
			}
			l.send(ev)
			return normalize.Understood
		}
		return normalize.NotUnderstood
	}
	spec := strings.TrimPrefix(s[sp+len(" from "):], "H=")
	var f fields
	var rest string
	f.host, f.helo, f.ip, rest = parseHostSpec(spec)
	rest = scanFields(rest, &f)
	ev := p.rejectEvent(l, id, &f, schema.ActionRejected, status)
	if reason, ok := reasonAfterColon(rest); ok {
		setReason(ev, reason)
	}
	l.send(ev)
	return normalize.Understood
}

// afterFirstColon returns the text after the first ": " of s, or "".
func afterFirstColon(s string) string {
	if i := strings.Index(s, ": "); i >= 0 {
		return s[i+2:]
	}
	return ""
}

// setReason stores a reject reason, taking a leading SMTP reply code (an ACL
// message may start with one) into status_code and dropping the quotes Exim
// puts around ACL messages that hold spaces.
func setReason(ev *schema.Event, reason string) {
	reason = strings.TrimSpace(reason)
	if n := len(reason); n >= 2 && reason[0] == '"' && reason[n-1] == '"' {
		reason = reason[1 : n-1]
	}
	if code, n := replyCode(reason); n > 0 {
		ev.StatusCode = code
		reason = strings.TrimLeft(reason[n:], " -")
	}
	ev.Reason = reason
}

// authFailed parses what follows "NAME authenticator failed for ":
//
//	(helo) [192.0.2.1]:55379 I=[10.0.0.1]:587 Ci=1234: 535 Incorrect authentication data (set_id=user)
//	host.example [192.0.2.1]: 535 Incorrect authentication data: 1 Time(s)
func (p *Parser) authFailed(l *line, s string) normalize.Result {
	var f fields
	var rest string
	f.host, f.helo, f.ip, rest = parseHostSpec(strings.TrimPrefix(s, "H="))
	rest = scanFields(rest, &f)
	reason, ok := reasonAfterColon(rest)
	if !ok && f.ip == "" {
		return normalize.NotUnderstood
	}
	ev := l.event(schema.TypeAuth, schema.ActionFailed)
	ev.Status = "authenticator failed"
	ev.SrcIP, ev.SrcHost, ev.Helo = f.ip, f.host, f.helo
	if i := strings.Index(reason, "(set_id="); i >= 0 {
		if k := strings.IndexByte(reason[i:], ')'); k >= 0 {
			ev.AuthUser = reason[i+len("(set_id=") : i+k]
			reason = strings.TrimRight(reason[:i], " ") + reason[i+k+1:]
		}
	}
	if ev.AuthUser == "" {
		ev.AuthUser = f.user
	}
	if code, n := replyCode(reason); n > 0 {
		ev.StatusCode = code
		reason = strings.TrimLeft(reason[n:], " ")
	}
	ev.Reason = reason
	l.send(ev)
	return normalize.Understood
}

// spamAssassin parses the verdicts of sa-exim:
//
//	SA: Action: flagged as Spam but accepted: score=8.2 required=5.0 (scanned in 6/6 secs |
//	    Message-Id: abc@x). From <a@b> (host=name [192.0.2.1]) for c@d
//
// into one filter event per recipient.
func (p *Parser) spamAssassin(l *line, id, s string) normalize.Result {
	colon := strings.Index(s, ": ")
	if colon <= 0 {
		return normalize.NotUnderstood
	}
	verdict, rest := s[:colon], s[colon+2:]
	var action string
	switch {
	case strings.HasPrefix(verdict, "flagged as Spam but accepted"),
		strings.HasPrefix(verdict, "scanned but message isn't spam"):
		action = schema.ActionDelivered
	case strings.HasPrefix(verdict, "silently tossed"), strings.HasPrefix(verdict, "teergrubed"):
		action = schema.ActionDiscarded
	case strings.HasPrefix(verdict, "permanently rejected"), strings.HasPrefix(verdict, "temporarily rejected"):
		action = schema.ActionRejected
	case strings.HasPrefix(verdict, "message saved"), strings.HasPrefix(verdict, "saved message"):
		action = schema.ActionQuarantined
	default:
		return normalize.NotUnderstood
	}
	ev := l.event(schema.TypeFilter, action)
	ev.Status = verdict
	ev.QueueID = id
	ev.Process = "sa-exim"
	if i := strings.Index(rest, " ("); i >= 0 {
		ev.Reason = rest[:i]
	}
	if i := strings.Index(rest, "Message-Id: "); i >= 0 {
		v := rest[i+len("Message-Id: "):]
		if k := strings.IndexByte(v, ')'); k >= 0 {
			ev.MessageID = trimAngles(v[:k])
		}
	}
	var rcpts string
	if i := strings.Index(rest, ". From "); i >= 0 {
		from := rest[i+len(". From "):]
		addr, r, _ := scanAddress(from)
		ev.SetSender(trimAngles(addr))
		r = strings.TrimLeft(r, " ")
		if h, ok := strings.CutPrefix(r, "(host="); ok {
			if k := strings.Index(h, ") for "); k >= 0 {
				host, _, ip, _ := parseHostSpec(h[:k])
				if host != "NULL" {
					ev.SrcHost = host
				}
				ev.SrcIP = ip
				rcpts = h[k+len(") for "):]
			}
		} else if f, ok := strings.CutPrefix(r, "for "); ok {
			rcpts = f
		}
	}
	if m := p.lookup(id); m != nil {
		m.join(ev)
	}
	list := strings.FieldsFunc(rcpts, func(r rune) bool { return r == ',' || r == ' ' })
	if len(list) == 0 {
		l.send(ev)
		return normalize.Understood
	}
	for i, r := range list {
		e := ev
		if i < len(list)-1 {
			c := *ev
			e = &c
		}
		e.Recipient = trimAngles(r)
		l.send(e)
	}
	return normalize.Understood
}

// rejectSender handles the rejects that name the sender first:
//
//	<a@b> U=user: message too big: read=501 max=500
//	<a@b> H=(helo) [192.0.2.1]: Non-CRLF-terminated header, under CHUNKING: message abandoned
func (p *Parser) rejectSender(l *line, id, status, s string) normalize.Result {
	addr, rest, ok := scanAddress(s)
	if !ok {
		return normalize.NotUnderstood
	}
	var f fields
	rest = scanFields(rest, &f)
	ev := p.rejectEvent(l, id, &f, schema.ActionRejected, status)
	if !ev.HasSender {
		ev.SetSender(trimAngles(addr))
	}
	if reason, ok := reasonAfterColon(rest); ok {
		setReason(ev, reason)
	}
	l.send(ev)
	return normalize.Understood
}

// isUpperWord reports whether w is an SMTP command word such as MAIL or EHLO.
func isUpperWord(w string) bool {
	if len(w) < 3 || len(w) > 8 {
		return false
	}
	for i := 0; i < len(w); i++ {
		if w[i] < 'A' || w[i] > 'Z' {
			return false
		}
	}
	return true
}

package postfix

import (
	"strconv"
	"strings"

	"github.com/detect-dev/detect/normalize"
	"github.com/detect-dev/detect/schema"
)

// deliveryAgent handles smtp, lmtp, local, virtual, pipe, error, retry and
// discard: their to= lines are the delivery events; their other queue-id
// lines ("host x said: ...", "lost connection with ...") repeat what the
// to= line will say and are counted as ignored.
func (p *Parser) deliveryAgent(l *line, msg string) normalize.Result {
	if id, rest, ok := splitQueueID(msg); ok {
		if strings.HasPrefix(rest, "to=") {
			return p.delivery(l, id, rest)
		}
		return p.ignore(catDeliveryInfo)
	}
	switch {
	case strings.HasPrefix(msg, "connect to "):
		return p.ignore(catConnection)
	case isTLSNoise(msg):
		return p.ignore(catTLS)
	}
	if r, ok := p.common(msg); ok {
		return r
	}
	return normalize.NotUnderstood
}

// deliveryAction maps status= words to schema actions. ok is false for the
// address-verification results, which are probes rather than deliveries.
func deliveryAction(status string) (action string, ok, known bool) {
	switch status {
	case "sent":
		return schema.ActionDelivered, true, true
	case "deferred", "SOFTBOUNCE":
		return schema.ActionDeferred, true, true
	case "bounced", "expired":
		return schema.ActionBounced, true, true
	case "deliverable", "undeliverable", "undeliverable-but-not-cached":
		return "", false, true
	}
	return "", false, false
}

// delivery parses
//
//	to=<r>, orig_to=<o>, relay=host[ip]:25, delay=1.2, delays=a/b/c/d, dsn=2.0.0, status=sent (250 ok)
//
// (old Postfix versions lack delays= and dsn=; local may log to= without
// the angle brackets) into one delivery event joined with its message.
func (p *Parser) delivery(l *line, id, s string) normalize.Result {
	ev := l.event(schema.TypeDelivery, "")
	var haveTo bool
	rest := s
	for {
		k, v, r, ok := nextKV(rest)
		if !ok {
			rest = r
			break
		}
		rest = r
		switch k {
		case "to":
			ev.Recipient, haveTo = v, true
		case "orig_to":
			ev.OrigRecipient = v
		case "relay":
			ev.Relay = v
		case "delay":
			if d, err := strconv.ParseFloat(v, 64); err == nil {
				ev.SetDelay(d)
			}
		case "dsn":
			ev.StatusCode = v
		case "status":
			ev.Status = v
		}
		if k == "status" {
			break
		}
	}
	action, isDelivery, known := deliveryAction(ev.Status)
	if !haveTo || !known {
		return normalize.NotUnderstood
	}
	if !isDelivery {
		return p.ignore(catAddressVerify)
	}
	if action == schema.ActionDelivered && strings.HasSuffix(l.rec.Program, "/discard") {
		// The discard transport "delivers" by throwing the mail away.
		action = schema.ActionDiscarded
	}
	ev.Action = action
	ev.Reason = parenthesized(rest)
	if ev.StatusCode != "" {
		ev.StatusCode = replyCode(ev.Reason, ev.StatusCode)
	}
	ev.QueueID = id
	if m := p.msg(id, false); m != nil {
		m.join(ev)
		if ev.Status == "sent" && isLoopbackRelay(ev.Relay) {
			// A content filter on this host (amavis, a milter-less
			// after-queue filter) took the message and queued it again.
			if newID := queuedAs(ev.Reason); newID != "" && newID != id {
				p.link(m, newID)
			}
		}
	} else {
		p.orphans++
	}
	l.send(ev)
	return normalize.Understood
}

// isLoopbackRelay reports whether a relay= value (host[ip]:port) is this
// host: 127.0.0.0/8, ::1 or localhost.
func isLoopbackRelay(relay string) bool {
	host, ip, _, ok := parseClient(relay)
	if !ok {
		host, _, _ = strings.Cut(relay, ":")
	}
	return isLoopback(ip) || strings.EqualFold(host, "localhost")
}

// queuedAs returns the queue id in a "... queued as NEWID" reply, or "".
// The last one counts: a filter's reply quotes the one it got from Postfix.
func queuedAs(text string) string {
	i := strings.LastIndex(text, "queued as ")
	if i < 0 {
		return ""
	}
	s := text[i+len("queued as "):]
	n := 0
	for n < len(s) && isAlnum(s[n]) {
		n++
	}
	if !isQueueID(s[:n]) {
		return ""
	}
	return s[:n]
}

// replyCode returns the status code of a delivery: "NNN D.D.D", the form
// rejects have, when the text carries an SMTP reply whose enhanced code is
// the dsn= value (our server's "250 2.0.0 Ok: queued as X" at the start, a
// remote's reply after "host x said: " or "refused to talk to me: "), else
// the DSN alone. A multi-line reply's "421-4.7.0" becomes "421 4.7.0".
func replyCode(text, dsn string) string {
	if c := matchReply(text, dsn); c != "" {
		return c
	}
	for _, marker := range [...]string{" said: ", " refused to talk to me: "} {
		if i := strings.Index(text, marker); i >= 0 {
			if c := matchReply(text[i+len(marker):], dsn); c != "" {
				return c
			}
		}
	}
	return dsn
}

// matchReply returns "NNN dsn" when s starts with an SMTP reply code of the
// DSN's class followed by the DSN, else "".
func matchReply(s, dsn string) string {
	n := 4 + len(dsn)
	if len(s) < n || !isDigit(s[0]) || !isDigit(s[1]) || !isDigit(s[2]) || s[0] != dsn[0] ||
		(s[3] != ' ' && s[3] != '-') || s[4:n] != dsn || (len(s) > n && s[n] != ' ') {
		return ""
	}
	if s[3] == ' ' {
		return s[:n] // a substring: no allocation
	}
	return s[:3] + " " + dsn
}

// parenthesized returns the text of " (text)" after a status word: from the
// first '(' to the last ')', so that nested parentheses such as "(in reply
// to RCPT TO command)" stay inside.
func parenthesized(s string) string {
	s = strings.TrimSpace(s)
	if len(s) == 0 || s[0] != '(' {
		return s
	}
	s = s[1:]
	if n := len(s); n > 0 && s[n-1] == ')' {
		s = s[:n-1]
	}
	return s
}

// qmgr handles from=/size=/nrcpt= (the message entering the active queue),
// removed (the message left: its state goes), expiries, and the to= lines
// qmgr writes itself for recipients it defers or bounces without a delivery
// agent ("delivery temporarily suspended").
func (p *Parser) qmgr(l *line, msg string) normalize.Result {
	id, rest, ok := splitQueueID(msg)
	if !ok {
		if r, ok := p.common(msg); ok {
			return r
		}
		return normalize.NotUnderstood
	}
	switch {
	case rest == "removed":
		p.drop(id)
		return normalize.Understood
	case strings.HasPrefix(rest, "to="):
		return p.delivery(l, id, rest)
	case strings.HasPrefix(rest, "from="):
		return p.qmgrFrom(id, rest)
	case strings.HasPrefix(rest, "skipped"):
		return p.ignore(catQueue)
	}
	if r, ok := p.common(rest); ok {
		return r
	}
	return normalize.NotUnderstood
}

func (p *Parser) qmgrFrom(id, s string) normalize.Result {
	var from, status string
	var hasFrom bool
	var size, nrcpt int64
	var haveSize, haveNrcpt bool
	rest := s
	for {
		k, v, r, ok := nextKV(rest)
		if !ok {
			break
		}
		rest = r
		switch k {
		case "from":
			from, hasFrom = v, true
		case "size":
			size, haveSize = atoi(v)
		case "nrcpt":
			nrcpt, haveNrcpt = atoi(v)
		case "status":
			status = v
		}
	}
	if !hasFrom {
		return normalize.NotUnderstood
	}
	if status == "expired" {
		// The message gave up; its bounce is a new message with its own
		// deliveries, so this line is only counted.
		p.expired++
		if m := p.msg(id, false); m != nil {
			m.setSender(from, true)
		}
		return normalize.Understood
	}
	m := p.msg(id, true)
	m.setSender(from, true)
	if haveSize {
		m.size = size
	}
	if haveNrcpt && nrcpt < 1<<31 {
		m.nrcpt = int(nrcpt)
	}
	return normalize.Understood
}

// pickup: `QUEUEID: uid=0 from=<root>` gives the sender of locally submitted
// mail, a fallback until qmgr logs the rewritten address.
func (p *Parser) pickup(_ *line, msg string) normalize.Result {
	id, rest, ok := splitQueueID(msg)
	if !ok {
		if r, ok := p.common(msg); ok {
			return r
		}
		return normalize.NotUnderstood
	}
	for {
		k, v, r, ok := nextKV(rest)
		if !ok {
			break
		}
		rest = r
		if k == "from" {
			p.begin(id).setSender(v, false)
			return normalize.Understood
		}
	}
	return normalize.NotUnderstood
}

// bounce (and defer, trace) log the notification they queue as a new
// message: `QUEUEID: sender non-delivery notification: NEWID`. The new
// message's own lines make its events, so this is only counted.
func (p *Parser) bounce(msg string) normalize.Result {
	if _, rest, ok := splitQueueID(msg); ok && strings.Contains(rest, " notification: ") {
		p.notifications++
		return normalize.Understood
	}
	if r, ok := p.common(msg); ok {
		return r
	}
	return normalize.NotUnderstood
}

// postsuper: an administrator removing a message ends its state; the rest
// (requeue, hold, summaries) is counted.
func (p *Parser) postsuper(msg string) normalize.Result {
	if id, rest, ok := splitQueueID(msg); ok && rest == "removed" {
		p.drop(id)
	}
	return p.ignore(catPostsuper)
}

package postfix

import (
	"strings"

	"github.com/detect-dev/detect/normalize"
	"github.com/detect-dev/detect/normalize/internal/amavisparts"
	"github.com/detect-dev/detect/schema"
)

// isAmavis recognizes amavisd-new's syslog names (amavis, amavisd,
// amavisd-new). postfix/amavis/smtp, the Postfix client that feeds amavis,
// has a slash and is a delivery agent instead.
func isAmavis(prog string) bool {
	return strings.HasPrefix(prog, "amavis") && strings.IndexByte(prog, '/') < 0
}

// amavis turns amavisd-new's per-message verdict line
//
//	(237978-11) Passed CLEAN {RelayedInbound}, [185.31.160.120]:41695 [45.141.85.146] ESMTP/ESMTP
//	<from@x> -> <to@y>,<to2@z>, (...), Queue-ID: 4PbC4x469Jz3tBr, Message-ID: <m@x>, mail_id: ...,
//	Hits: 2.9, size: 175061, queued_as: 4PbC4z6W5Qz3tG3, Subject: "s", From: <...>, helo=h, ...
//
// into one filter event per recipient. Amavis sits between two Postfix
// queue ids (the message before the filter, Queue-ID, and the re-injected
// one, queued_as); this line links them (as the hop's "queued as" delivery
// line does for any filter, see link), so the subject, attachments and the
// real client are copied onto both, and the final deliveries of the
// re-injected message carry them instead of the filter's 127.0.0.1.
func (p *Parser) amavis(l *line) normalize.Result {
	msg := l.rec.Message
	if len(msg) > 0 && msg[0] == '(' {
		if i := strings.IndexByte(msg, ')'); i > 0 {
			msg = strings.TrimLeft(msg[i+1:], " ")
		}
	}
	var action string
	switch {
	case strings.HasPrefix(msg, "Passed "):
		action = schema.ActionDelivered
	case strings.HasPrefix(msg, "Blocked "):
		action = schema.ActionQuarantined
	default:
		// Continuations of long lines ("...fer.de, dkim_sd=..."), startup
		// and per-message debug lines.
		return p.ignore(catAmavis)
	}
	j := strings.IndexByte(msg, ' ') + 1
	for j < len(msg) && msg[j] != ' ' && msg[j] != ',' && msg[j] != '{' {
		j++
	}
	status := msg[:j]
	rest := msg[j:]
	var reason string
	if strings.HasPrefix(rest, " (") { // Blocked INFECTED (Eicar-Test-Signature)
		if k := strings.IndexByte(rest, ')'); k > 0 {
			reason = rest[2:k]
			rest = rest[k+1:]
		}
	}
	arrow := strings.Index(rest, " -> ")
	if arrow < 0 {
		return normalize.NotUnderstood
	}
	before, after := rest[:arrow], rest[arrow+len(" -> "):]
	lt := strings.LastIndexByte(before, '<')
	if lt < 0 || !strings.HasSuffix(before, ">") {
		return normalize.NotUnderstood
	}
	sender := before[lt+1 : len(before)-1]
	var ip string
	if a := strings.IndexByte(before[:lt], '['); a >= 0 {
		if b := strings.IndexByte(before[a:], ']'); b > 0 {
			ip = before[a+1 : a+b]
		}
	}
	// Recipients: <a>,<b>,... then ", " and the named fields.
	var rcpts [8]string
	recipients := rcpts[:0]
	for len(after) > 0 && after[0] == '<' {
		k := strings.IndexByte(after, '>')
		if k < 0 {
			break
		}
		recipients = append(recipients, after[1:k])
		after = after[k+1:]
		if !strings.HasPrefix(after, ",<") {
			break
		}
		after = after[1:]
	}
	if len(recipients) == 0 {
		return normalize.NotUnderstood
	}

	// The named fields come in a fixed order, and each search starts after
	// the previous find, so text inside the subject cannot be taken for a
	// field that precedes it.
	f := after
	queueID, f := field(f, ", Queue-ID: ")
	messageID, f := field(f, ", Message-ID: ")
	if len(messageID) >= 2 && messageID[0] == '<' && messageID[len(messageID)-1] == '>' {
		messageID = messageID[1 : len(messageID)-1]
	}
	sizeText, f := field(f, ", size: ")
	size, _ := atoi(sizeText)
	queuedAs, f := field(f, ", queued_as: ")
	subject, f := amavisSubject(f)
	helo, _ := field(f, ", helo=")
	var atts []schema.Attachment
	if strings.HasSuffix(status, " BANNED") {
		// The path to the banned part: containers, then the file.
		atts = amavisparts.Banned(reason, after)
	}

	var x *message
	if queueID != "" {
		x = p.msg(queueID, false)
	}
	if x != nil {
		x.setIfEmpty(&x.subject, subject)
		x.setIfEmpty(&x.messageID, messageID)
		x.setIfEmpty(&x.helo, helo)
	}
	if queuedAs != "" && queuedAs != queueID && isQueueID(queuedAs) {
		if y := p.link(x, queuedAs); y != nil {
			y.setIfEmpty(&y.subject, subject)
			y.setIfEmpty(&y.messageID, messageID)
			// Amavis names the client and HELO itself, for when the
			// state of the message before it is gone or lacks them.
			y.inheritClient("", ip, helo)
		}
	}

	for _, rcpt := range recipients {
		ev := l.event(schema.TypeFilter, action)
		ev.Product = "amavis"
		ev.Status = status
		ev.Reason = reason
		ev.SetSender(sender)
		ev.Recipient = rcpt
		ev.SrcIP = ip
		ev.MessageID = messageID
		ev.Subject = subject
		ev.QueueID = queueID
		ev.Size = size
		ev.Helo = helo
		if len(atts) > 0 {
			ev.Attachments = append([]schema.Attachment(nil), atts...)
		}
		x.join(ev)
		l.send(ev)
	}
	return normalize.Understood
}

// field finds key in s and returns the value up to the next ", " and the
// rest of s from there; when key is missing, s is returned unchanged.
func field(s, key string) (val, rest string) {
	i := strings.Index(s, key)
	if i < 0 {
		return "", s
	}
	v := s[i+len(key):]
	end := strings.Index(v, ", ")
	if end < 0 {
		end = len(v)
	}
	return v[:end], v[end:]
}

// amavisSubject reads `, Subject: "text"` where a quote inside the text is
// doubled. Amavis logs the decoded subject followed by " (raw: =?...?=)"
// when it was encoded; only the decoded part is kept.
func amavisSubject(s string) (subject, rest string) {
	i := strings.Index(s, `, Subject: "`)
	if i < 0 {
		return "", s
	}
	v := s[i+len(`, Subject: "`):]
	end, doubled := len(v), false
	for k := 0; k < len(v); k++ {
		if v[k] != '"' {
			continue
		}
		if k+1 < len(v) && v[k+1] == '"' {
			doubled = true
			k++
			continue
		}
		end = k
		break
	}
	subject, rest = v[:end], v[min(end+1, len(v)):]
	if k := strings.Index(subject, " (raw: "); k >= 0 {
		subject = subject[:k]
	} else if strings.Contains(subject, "=?") {
		subject = decodeWords(subject)
	}
	if doubled {
		subject = strings.ReplaceAll(subject, `""`, `"`)
	}
	return subject, rest
}

package postfix

import (
	"mime"
	"net/url"
	"strings"

	"github.com/detect-dev/detect/normalize"
	"github.com/detect-dev/detect/schema"
)

// cleanup handles message-id= and the header/body checks. Checks with the
// actions warn/info/prepend/... log a header of the message, which is how
// subjects and attachment names reach the log at all; reject, discard and
// hold are events.
func (p *Parser) cleanup(l *line, msg string) normalize.Result {
	id, rest, ok := splitQueueID(msg)
	if !ok {
		if r, ok := p.common(msg); ok {
			return r
		}
		return normalize.NotUnderstood
	}
	if v, ok := strings.CutPrefix(rest, "message-id="); ok {
		v = strings.TrimSpace(v)
		if len(v) >= 2 && v[0] == '<' && v[len(v)-1] == '>' {
			v = v[1 : len(v)-1]
		}
		m := p.msg(id, v != "")
		if m != nil {
			m.setIfEmpty(&m.messageID, v)
		}
		return normalize.Understood
	}
	if strings.HasPrefix(rest, "resent-message-id=") {
		return p.ignore(catCleanupInfo)
	}
	if colon := strings.Index(rest, ": "); colon > 0 {
		word := rest[:colon]
		action, isEvent, ok := actionKind(word)
		// header_checks WARN and INFO log as "warning:" and "info:".
		ok = ok || word == "warning" || word == "info"
		if ok {
			body := rest[colon+2:]
			switch {
			case strings.HasPrefix(body, "header "):
				return p.contentCheck(l, id, word, action, isEvent, true, body[len("header "):])
			case strings.HasPrefix(body, "body "):
				return p.contentCheck(l, id, word, action, isEvent, false, body[len("body "):])
			case isEvent:
				// milter-reject: END-OF-MESSAGE from host[ip]: ... has the smtpd form.
				if r, ok := p.action(l, id, rest); ok {
					return r
				}
				return normalize.NotUnderstood
			}
		}
	}
	if r, ok := p.common(rest); ok {
		return r
	}
	return normalize.NotUnderstood
}

// contentCheck parses the part after "header " or "body " of
//
//	QUEUEID: ACTION: header NAME: VALUE from host[ip]; from=<a> to=<b> proto=ESMTP helo=<h>[: TEXT]
//
// where the client may also be "local" (sendmail/pickup submissions).
func (p *Parser) contentCheck(l *line, id, word, action string, isEvent, header bool, s string) normalize.Result {
	head, after := s, ""
	var env envelope
	if i := kvTail(s); i >= 0 {
		head = s[:i]
		env, after = parseEnvelope(s[i+2:])
	}
	content := head
	var host, ip string
	if f := strings.LastIndex(head, " from "); f >= 0 {
		content = head[:f]
		if h, i, _, ok := parseClient(head[f+len(" from "):]); ok {
			host, ip = h, i
		}
	}
	var subject, attName, attType string
	if header {
		subject, attName, attType = p.headerData(content)
	}
	stores := subject != "" || attName != ""
	m := p.msg(id, stores || isEvent)
	if m != nil {
		m.setIfEmpty(&m.subject, subject)
		if attName != "" {
			m.addAttachment(strings.Clone(attName), strings.Clone(attType))
		}
		m.setClient(host, ip)
		m.setIfEmpty(&m.helo, env.helo)
		if env.hasFrom {
			m.setSender(env.from, false)
		}
	}
	if !isEvent {
		if stores {
			return normalize.Understood
		}
		if header {
			return p.ignore(catHeaderChecks)
		}
		return p.ignore(catBodyChecks)
	}
	text := strings.TrimPrefix(after, ":")
	code, reason := parseReply(text)
	ev := l.event(schema.TypeReject, action)
	ev.Status = word
	ev.StatusCode = code
	ev.Reason = reason
	ev.QueueID = id
	ev.SrcIP, ev.SrcHost = ip, host
	if env.hasFrom {
		ev.SetSender(env.from)
	}
	ev.Recipient = env.to
	ev.Helo = env.helo
	ev.Protocol = lowerProto(env.proto)
	m.join(ev)
	if action == schema.ActionRejected || action == schema.ActionDiscarded {
		// The message never reaches the queue manager, so no "removed".
		p.drop(id)
	}
	l.send(ev)
	return normalize.Understood
}

// headerData extracts what we keep from a logged header "Name: value": the
// decoded Subject, or a file name (and media type) from Content-Type and
// Content-Disposition.
func (p *Parser) headerData(h string) (subject, attName, attType string) {
	colon := strings.IndexByte(h, ':')
	if colon <= 0 {
		return "", "", ""
	}
	name, value := h[:colon], strings.TrimLeft(h[colon+1:], " \t")
	switch {
	case strings.EqualFold(name, "Subject"):
		return decodeWords(value), "", ""
	case strings.EqualFold(name, "Content-Type"):
		mt := value
		if i := strings.IndexByte(mt, ';'); i >= 0 {
			mt = mt[:i]
		}
		mt = strings.TrimSpace(mt)
		if fn := paramValue(value, "name"); fn != "" {
			return "", fn, strings.ToLower(mt)
		}
	case strings.EqualFold(name, "Content-Disposition"):
		if fn := paramValue(value, "filename"); fn != "" {
			return "", fn, ""
		}
	}
	return "", "", ""
}

// foldFix undoes what Postfix's logging does to folded headers: the CR/LF/TAB
// of a fold become '?', which would keep the encoded words apart.
var foldFix = strings.NewReplacer("?=? ", "?= ", "?=??", "?= ")

var wordDecoder = &mime.WordDecoder{}

// decodeWords decodes RFC 2047 encoded words; on failure (an unsupported
// charset) the raw text is kept, which is still searchable.
func decodeWords(s string) string {
	s = strings.TrimSpace(s)
	if !strings.Contains(s, "=?") {
		return s
	}
	if d, err := wordDecoder.DecodeHeader(foldFix.Replace(s)); err == nil {
		return d
	}
	return s
}

// paramValue finds a MIME parameter (name=, filename=, also the RFC 2231
// forms name*= and name*0=) in a header value and returns it unquoted and
// decoded. Logged headers are often truncated, so an unterminated quoted
// value is taken as far as it goes.
func paramValue(v, param string) string {
	for off := 0; off < len(v); {
		i := indexFold(v[off:], param)
		if i < 0 {
			return ""
		}
		i += off
		off = i + len(param)
		// "name" must not be the tail of "filename" or "xname".
		if i > 0 {
			if c := v[i-1]; c != ';' && c != ' ' && c != '\t' && c != '?' && c != '"' {
				continue
			}
		}
		j := i + len(param)
		extended := false
		if j < len(v) && v[j] == '*' {
			extended = true
			j++
			for j < len(v) && (isDigit(v[j]) || v[j] == '*') {
				j++
			}
		}
		if j >= len(v) || v[j] != '=' {
			continue
		}
		val := v[j+1:]
		if len(val) > 0 && val[0] == '"' {
			val = val[1:]
			if k := strings.IndexByte(val, '"'); k >= 0 {
				val = val[:k]
			}
		} else if k := strings.IndexAny(val, "; \t"); k >= 0 {
			val = val[:k]
		}
		if extended {
			// charset'language'percent-encoded
			if k := strings.LastIndexByte(val, '\''); k >= 0 {
				val = val[k+1:]
			}
			if u, err := url.PathUnescape(val); err == nil {
				val = u
			}
			return strings.TrimSpace(val)
		}
		return decodeWords(val)
	}
	return ""
}

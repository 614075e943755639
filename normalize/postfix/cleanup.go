package postfix

import (
	"mime"
	"strings"
	"unicode/utf8"

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

// maxParamSegments bounds the RFC 2231 continuations (name*0, name*1, ...)
// of one parameter that paramValue joins; real mailers split long names in
// a handful.
const maxParamSegments = 32

// paramValue finds a MIME parameter (name=, filename=) in a header value and
// returns it unquoted and decoded. The RFC 2231 forms are understood: the
// extended name*=charset'lang'percent-encoded, and the continuations
// name*0=, name*1=, ... (each of them optionally encoded, name*0*=), which
// are joined in index order up to the first missing one. As RFC 2231 asks,
// an extended or continued value wins over a plain name= (the fallback for
// old clients). Logged headers are often truncated, so an unterminated
// quoted value is taken as far as it goes. Trailing dots and spaces are kept:
// they are part of the name as sent (and a trick, see schema.ExtOf).
func paramValue(v, param string) string {
	var (
		plain, ext         string
		havePlain, haveExt bool
		segs               [maxParamSegments]string
		segSet, segEnc     [maxParamSegments]bool
	)
	for off := 0; off < len(v); {
		i := indexFold(v[off:], param)
		if i < 0 {
			break
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
		seg, enc := -1, false
		if j < len(v) && v[j] == '*' {
			j++
			if k := digits(v[j:]); k > 0 {
				seg = maxParamSegments
				if n, ok := atoi(v[j : j+k]); ok && n < maxParamSegments {
					seg = int(n)
				}
				j += k
				if j < len(v) && v[j] == '*' {
					enc = true
					j++
				}
			} else {
				enc = true // name*=
			}
		}
		if j >= len(v) || v[j] != '=' {
			continue
		}
		val, n := paramToken(v[j+1:])
		off = j + 1 + n
		switch {
		case seg >= maxParamSegments:
		case seg >= 0:
			if !segSet[seg] {
				segs[seg], segSet[seg], segEnc[seg] = val, true, enc
			}
		case enc:
			if !haveExt {
				ext, haveExt = val, true
			}
		default:
			if !havePlain {
				plain, havePlain = val, true
			}
		}
	}
	if haveExt {
		var b nameBuilder
		b.addEncoded(ext, true)
		if d := b.String(); d != "" {
			return d
		}
	}
	if segSet[0] {
		var b nameBuilder
		for k := 0; k < maxParamSegments && segSet[k]; k++ {
			if segEnc[k] {
				b.addEncoded(segs[k], k == 0)
			} else {
				b.buf = append(b.buf, segs[k]...)
				b.raw = append(b.raw, segs[k]...)
			}
		}
		// Unencoded parts may carry RFC 2047 words, which some mailers
		// split over continuations.
		if d := decodeNameWords(b.String()); d != "" {
			return d
		}
	}
	if havePlain {
		return decodeNameWords(plain)
	}
	return ""
}

// paramToken reads a parameter value at the start of s: a quoted string
// (backslash escapes removed; unterminated, it runs to the end) or a token
// up to ';' or white space. n is how much of s it used.
func paramToken(s string) (val string, n int) {
	if len(s) == 0 || s[0] != '"' {
		k := strings.IndexAny(s, "; \t")
		if k < 0 {
			k = len(s)
		}
		return s[:k], k
	}
	escaped := false
	for k := 1; k < len(s); k++ {
		switch s[k] {
		case '\\':
			escaped = true
			k++
		case '"':
			if escaped {
				return unescapeQuoted(s[1:k]), k + 1
			}
			return s[1:k], k + 1
		}
	}
	if escaped {
		return unescapeQuoted(s[1:]), len(s)
	}
	return s[1:], len(s)
}

// unescapeQuoted removes the backslashes of a quoted-string's quoted pairs.
func unescapeQuoted(s string) string {
	b := make([]byte, 0, len(s))
	for k := 0; k < len(s); k++ {
		if s[k] == '\\' && k+1 < len(s) {
			k++
		}
		b = append(b, s[k])
	}
	return string(b)
}

// nameBuilder collects the decoded bytes of an RFC 2231 value and the
// charset named by its first part.
type nameBuilder struct {
	buf     []byte
	charset string
	raw     []byte // the value as written, for charsets we cannot decode
}

// String returns the decoded name. Names in a charset other than UTF-8,
// US-ASCII and ISO-8859-1 are returned as written (still percent-encoded)
// unless their bytes happen to be valid UTF-8: mangled bytes would tell an
// analyst less than the encoding does.
func (b *nameBuilder) String() string {
	if !utf8.Valid(b.buf) && !charsetDecodes(b.charset) {
		return string(b.raw)
	}
	return string(b.buf)
}

// addEncoded appends one percent-encoded RFC 2231 value. With first set the
// value starts with charset'language'. Invalid escapes are kept as they are.
func (b *nameBuilder) addEncoded(s string, first bool) {
	if first {
		if q := strings.IndexByte(s, '\''); q >= 0 {
			if r := strings.IndexByte(s[q+1:], '\''); r >= 0 {
				b.charset = s[:q]
				s = s[q+1+r+1:]
			}
		}
	}
	b.raw = append(b.raw, s...)
	latin1 := isLatin1(b.charset)
	for k := 0; k < len(s); k++ {
		c := s[k]
		if c == '%' && k+2 < len(s) && isHex(s[k+1]) && isHex(s[k+2]) {
			c = unhex(s[k+1])<<4 | unhex(s[k+2])
			k += 2
		}
		if latin1 && c >= 0x80 {
			b.buf = utf8.AppendRune(b.buf, rune(c))
		} else {
			b.buf = append(b.buf, c)
		}
	}
}

func charsetDecodes(cs string) bool {
	return cs == "" || strings.EqualFold(cs, "utf-8") || strings.EqualFold(cs, "utf8") ||
		strings.EqualFold(cs, "us-ascii") || isLatin1(cs)
}

func isLatin1(cs string) bool {
	return strings.EqualFold(cs, "iso-8859-1") || strings.EqualFold(cs, "latin1")
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c <= '9':
		return c - '0'
	case c >= 'a':
		return c - 'a' + 10
	}
	return c - 'A' + 10
}

// decodeNameWords decodes the RFC 2047 words some mailers put in file names
// (against the RFC, but common). Unlike decodeWords it keeps surrounding
// white space, which belongs to the name.
func decodeNameWords(s string) string {
	if !strings.Contains(s, "=?") {
		return s
	}
	if d, err := wordDecoder.DecodeHeader(foldFix.Replace(s)); err == nil {
		return d
	}
	return s
}

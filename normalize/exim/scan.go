package exim

import (
	"mime"
	"strconv"
	"strings"
	"time"
)

// This file holds the small scanners the parser is built from. They slice
// the input rather than copy it.

// bareStamp parses the main log's "YYYY-MM-DD HH:MM:SS" stamp, with the
// optional ".mmm" of log_selector +millisec and the optional " +hhmm" zone
// of log_timezone, and returns the rest of the line after the following
// space. Stamps without a zone are in the parser's location.
func (p *Parser) bareStamp(s string) (time.Time, string, bool) {
	if len(s) < 20 || s[4] != '-' || s[7] != '-' || s[10] != ' ' || s[13] != ':' || s[16] != ':' {
		return time.Time{}, s, false
	}
	i := 19
	if i < len(s) && s[i] == '.' {
		n := digits(s[i+1:])
		if n == 0 || n > 9 {
			return time.Time{}, s, false
		}
		i += 1 + n
	}
	end := i
	// " +0100" / " -0500"
	if i+6 <= len(s) && s[i] == ' ' && (s[i+1] == '+' || s[i+1] == '-') && digits(s[i+2:]) == 4 &&
		(i+6 == len(s) || s[i+6] == ' ') {
		end = i + 6
	}
	if end < len(s) && s[end] != ' ' {
		return time.Time{}, s, false
	}
	raw := s[:end]
	rest := ""
	if end < len(s) {
		rest = s[end+1:]
	}
	if raw == p.lastStamp && raw != "" {
		return p.lastTime, rest, true
	}
	year, ok0 := atoiFixed(s[0:4])
	mon, ok1 := atoiFixed(s[5:7])
	day, ok2 := atoiFixed(s[8:10])
	hour, ok3 := atoiFixed(s[11:13])
	minute, ok4 := atoiFixed(s[14:16])
	sec, ok5 := atoiFixed(s[17:19])
	if !ok0 || !ok1 || !ok2 || !ok3 || !ok4 || !ok5 ||
		mon < 1 || mon > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || sec > 60 {
		return time.Time{}, s, false
	}
	nsec := 0
	if s[19] == '.' && i > 20 {
		scale := int(time.Second)
		for _, c := range []byte(s[20:i]) {
			scale /= 10
			nsec += int(c-'0') * scale
		}
	}
	var t time.Time
	if end > i {
		z := s[i+1 : end]
		h, _ := atoiFixed(z[1:3])
		m, _ := atoiFixed(z[3:5])
		off := (h*60 + m) * 60
		if z[0] == '-' {
			off = -off
		}
		t = time.Date(year, time.Month(mon), day, hour, minute, sec, nsec, time.UTC).Add(-time.Duration(off) * time.Second)
	} else {
		t = time.Date(year, time.Month(mon), day, hour, minute, sec, nsec, p.loc).UTC()
	}
	p.lastStamp, p.lastTime = raw, t
	return t, rest, true
}

// atoiFixed parses s, which must be all digits.
func atoiFixed(s string) (int, bool) {
	if s == "" {
		return 0, false
	}
	n := 0
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return 0, false
		}
		n = n*10 + int(s[i]-'0')
	}
	return n, true
}

// cutMessageID splits "ID rest" when the line starts with an Exim message
// id: the classic 16-character form "1PLKOW-00046U-EW" (6-6-2 base-62
// digits) or the 23-character form of Exim 4.97+ "1vA2bC-00000000123-ABCD"
// (6-11-4).
func cutMessageID(s string) (id, rest string, ok bool) {
	for _, n := range [...]int{16, 23} {
		if len(s) > n && s[n] == ' ' && isMessageID(s[:n]) {
			return s[:n], s[n+1:], true
		}
	}
	if len(s) == 16 && isMessageID(s) || len(s) == 23 && isMessageID(s) {
		return s, "", true
	}
	return "", s, false
}

func isMessageID(s string) bool {
	var a, b int
	switch len(s) {
	case 16:
		a, b = 6, 13
	case 23:
		a, b = 6, 18
	default:
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if i == a || i == b {
			if c != '-' {
				return false
			}
			continue
		}
		if !isAlnum(c) {
			return false
		}
	}
	return true
}

func isAlnum(c byte) bool {
	return '0' <= c && c <= '9' || 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z'
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

func digits(s string) int {
	n := 0
	for n < len(s) && isDigit(s[n]) {
		n++
	}
	return n
}

// fields are the KEY=value attributes of an Exim log line. Strings are
// substrings of the line (quoted values are unescaped, which copies only
// when they hold an escape).
type fields struct {
	host, helo, ip string // H=name (helo) [ip]:port
	hasHost        bool
	user           string // U=
	sender         string // F=
	hasSender      bool
	auth           string // A=authenticator:user
	proto          string // P=
	size           int64  // S=
	msgID          string // id=
	subject        string // T="..." on arrivals
	transport      string // T=name on deliveries
	router         string // R=
	confirm        string // C="..."
	queueTime      float64
	hasQueueTime   bool
}

// isFieldKey reports whether s starts with an attribute key and '=': an
// upper-case letter or two (H=, CV=, DN=, QT=, M8S=, Ci=, SNI=) or one of
// the lower-case keys Exim writes (id=).
func fieldKeyLen(s string) int {
	i := 0
	for i < len(s) && i < 6 && (isAlnum(s[i]) || s[i] == '_') {
		i++
	}
	if i == 0 || i >= len(s) || s[i] != '=' {
		return 0
	}
	if s[0] < 'A' || s[0] > 'Z' {
		if s[:i] != "id" {
			return 0
		}
	}
	return i
}

// startsWithField reports whether a line starts with an attribute, as the
// reject lines do ("H=host [ip] F=<a@b> rejected RCPT <c@d>: ...").
func startsWithField(s string) bool {
	return fieldKeyLen(s) > 0
}

// scanFields reads attributes from s until a word that is not one and
// returns the rest (which starts at that word, or at ": " for a reason).
// Flag words that some log selectors add (K, L, PRDR, CHUNKING) are skipped.
func scanFields(s string, f *fields) string {
	for {
		s = strings.TrimLeft(s, " ")
		switch {
		case s == "":
			return s
		case hasWord(s, "K"), hasWord(s, "L"):
			s = s[1:]
			continue
		case hasWord(s, "PRDR"):
			s = s[4:]
			continue
		case hasWord(s, "CHUNKING"):
			s = s[8:]
			continue
		}
		k := fieldKeyLen(s)
		if k == 0 {
			return s
		}
		key, v := s[:k], s[k+1:]
		var val string
		if key == "H" {
			f.host, f.helo, f.ip, s = parseHostSpec(v)
			f.hasHost = true
			continue
		}
		quoted := len(v) > 0 && v[0] == '"'
		val, s = scanValue(v)
		switch key {
		case "U":
			f.user = val
		case "F":
			f.sender, f.hasSender = trimAngles(val), true
		case "A":
			f.auth = val
		case "P":
			f.proto = val
		case "S":
			if n, ok := atoi64(val); ok {
				f.size = n
			}
		case "id":
			f.msgID = trimAngles(val)
		case "T":
			if quoted {
				f.subject = val
			} else {
				f.transport = val
			}
		case "R":
			f.router = val
		case "C":
			f.confirm = val
		case "QT":
			if d, ok := parseDuration(val); ok {
				f.queueTime, f.hasQueueTime = d, true
			}
		}
	}
}

// hasWord reports whether s starts with the word w followed by a space or
// the end.
func hasWord(s, w string) bool {
	return strings.HasPrefix(s, w) && (len(s) == len(w) || s[len(w)] == ' ')
}

// scanValue reads one attribute value: "quoted" (with backslash escapes),
// <bracketed>, or a word that ends at a space or at ": ".
func scanValue(v string) (val, rest string) {
	if len(v) > 0 && v[0] == '"' {
		esc := false
		for j := 1; j < len(v); j++ {
			switch v[j] {
			case '\\':
				esc = true
				j++
			case '"':
				val = v[1:j]
				if esc {
					val = unescape(val)
				}
				return val, v[j+1:]
			}
		}
		val = v[1:] // truncated line: keep what there is
		if esc {
			val = unescape(val)
		}
		return val, ""
	}
	if len(v) > 0 && v[0] == '<' {
		for j := 1; j < len(v); j++ {
			if v[j] == '>' && (j+1 == len(v) || v[j+1] == ' ' || v[j+1] == ':') {
				return v[:j+1], v[j+1:]
			}
		}
	}
	j := 0
	for j < len(v) && v[j] != ' ' {
		if v[j] == ':' && (j+1 == len(v) || v[j+1] == ' ') {
			break
		}
		j++
	}
	return v[:j], v[j:]
}

// unescape undoes Exim's string_printing(): \" \\ \n \r \t and \ooo octal.
func unescape(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '\\' || i+1 == len(s) {
			b.WriteByte(c)
			continue
		}
		i++
		switch d := s[i]; d {
		case 'n':
			b.WriteByte('\n')
		case 'r':
			b.WriteByte('\r')
		case 't':
			b.WriteByte('\t')
		case '0', '1', '2', '3':
			if i+2 < len(s) && isOctal(s[i+1]) && isOctal(s[i+2]) {
				b.WriteByte((d-'0')<<6 | (s[i+1]-'0')<<3 | (s[i+2] - '0'))
				i += 2
			} else {
				b.WriteByte(d)
			}
		default:
			b.WriteByte(d)
		}
	}
	return b.String()
}

func isOctal(c byte) bool { return '0' <= c && c <= '7' }

// trimAngles drops the <> around an address; "<>" gives "".
func trimAngles(s string) string {
	if len(s) >= 2 && s[0] == '<' && s[len(s)-1] == '>' {
		return s[1 : len(s)-1]
	}
	return s
}

// parseHostSpec parses what follows H= (and "authenticator failed for"):
//
//	name (helo) [ip]:port   name [ip]   (helo) [ip]:port   [ip]   name
//
// The port is dropped. Exim puts the HELO name in parentheses when it
// differs from the verified host name; "(may be forged)" is not Exim's.
func parseHostSpec(s string) (host, helo, ip, rest string) {
	rest = s
	if len(rest) > 0 && rest[0] != '(' && rest[0] != '[' {
		j := 0
		for j < len(rest) && rest[j] != ' ' {
			j++
		}
		host, rest = rest[:j], rest[j:]
		if n := len(host); n > 0 && host[n-1] == ':' {
			host, rest = host[:n-1], s[n-1:]
		}
		if len(rest) > 1 && rest[0] == ' ' && (rest[1] == '(' || rest[1] == '[') {
			rest = rest[1:]
		} else {
			return host, "", "", rest
		}
	}
	if len(rest) > 0 && rest[0] == '(' {
		// The HELO argument as given; it may hold spaces and parentheses,
		// so it ends at the last ") " before the "[ip]" that follows.
		end := strings.Index(rest, ") [")
		if end < 0 {
			end = strings.IndexByte(rest, ')')
			if end < 0 {
				return host, "", "", rest
			}
		}
		helo, rest = rest[1:end], rest[end+1:]
		if len(rest) > 1 && rest[0] == ' ' && rest[1] == '[' {
			rest = rest[1:]
		} else {
			return host, helo, "", rest
		}
	}
	if len(rest) > 0 && rest[0] == '[' {
		end := strings.IndexByte(rest, ']')
		if end < 0 {
			return host, helo, "", rest
		}
		ip, rest = rest[1:end], rest[end+1:]
		if len(rest) > 1 && rest[0] == ':' && rest[1] != ' ' {
			j := 1
			for j < len(rest) && (isAlnum(rest[j]) || rest[j] == '_') {
				j++
			}
			rest = rest[j:]
		}
	}
	return host, helo, ip, rest
}

// reason returns the text after a ": " (or " : ") that starts s, or "".
func reasonAfterColon(s string) (string, bool) {
	s = strings.TrimLeft(s, " ")
	if r, ok := strings.CutPrefix(s, ":"); ok {
		return strings.TrimLeft(r, " "), true
	}
	return "", false
}

// replyCode returns the SMTP reply code at the start of s, with the
// RFC 3463 enhanced code when one follows ("550 5.1.1"), and the length it
// takes; 0 when s does not start with a 2xx-5xx code.
func replyCode(s string) (code string, n int) {
	if len(s) < 3 || s[0] < '2' || s[0] > '5' || !isDigit(s[1]) || !isDigit(s[2]) ||
		len(s) > 3 && s[3] != ' ' && s[3] != '-' {
		return "", 0
	}
	n = 3
	if len(s) > 4 {
		if e := enhancedLen(s[4:]); e > 0 {
			n = 4 + e
		}
	}
	if n > 3 && s[3] == '-' {
		// The first line of a multi-line reply: "550-5.1.1 ..."
		return s[:3] + " " + s[4:n], n
	}
	return s[:n], n
}

// enhancedLen returns the length of an RFC 3463 code ("5.7.1") at the start
// of s when it is followed by a space or the end, else 0.
func enhancedLen(s string) int {
	if len(s) < 5 || (s[0] != '2' && s[0] != '4' && s[0] != '5') || s[1] != '.' {
		return 0
	}
	i := 2
	n := digits(s[i:])
	if n == 0 || n > 3 {
		return 0
	}
	i += n
	if i >= len(s) || s[i] != '.' {
		return 0
	}
	i++
	n = digits(s[i:])
	if n == 0 || n > 3 {
		return 0
	}
	i += n
	if i < len(s) && s[i] != ' ' {
		return 0
	}
	return i
}

// replyIn finds the remote server's reply in an error text such as
// "SMTP error from remote mail server after RCPT TO:<a@b>: 550 5.1.1 unknown"
// or "host mx [1.2.3.4]: 451 try later": the last code that starts the text
// or follows ": ".
func replyIn(s string) string {
	best, _ := replyCode(s)
	for i := 0; i+2 < len(s); i++ {
		if s[i] == ':' && s[i+1] == ' ' {
			if code, _ := replyCode(s[i+2:]); code != "" {
				best = code
			}
		}
	}
	return best
}

// parseDuration reads Exim's time intervals: "3s", "2m42s", "1h2m", "1d3h",
// "1w", and the sub-second "0.349s" of log_selector +millisec.
func parseDuration(s string) (float64, bool) {
	if s == "" {
		return 0, false
	}
	total := 0.0
	for s != "" {
		j := 0
		for j < len(s) && (isDigit(s[j]) || s[j] == '.') {
			j++
		}
		if j == 0 || j == len(s) {
			return 0, false
		}
		n, err := strconv.ParseFloat(s[:j], 64)
		if err != nil {
			return 0, false
		}
		switch s[j] {
		case 's':
		case 'm':
			n *= 60
		case 'h':
			n *= 3600
		case 'd':
			n *= 86400
		case 'w':
			n *= 7 * 86400
		default:
			return 0, false
		}
		total += n
		s = s[j+1:]
	}
	return total, true
}

// atoi64 parses a non-negative decimal that fits in an int64.
func atoi64(s string) (int64, bool) {
	if s == "" || len(s) > 18 {
		return 0, false
	}
	var n int64
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return 0, false
		}
		n = n*10 + int64(s[i]-'0')
	}
	return n, true
}

var wordDecoder = &mime.WordDecoder{}

// decodeWords decodes RFC 2047 encoded words in a subject; on failure (an
// unsupported charset) the raw text is kept, which is still searchable.
func decodeWords(s string) string {
	if !strings.Contains(s, "=?") {
		return s
	}
	if d, err := wordDecoder.DecodeHeader(s); err == nil {
		return d
	}
	return s
}

// authUser returns the user of an A= value "authenticator:id" or
// "authenticator:id:authenticated_sender" ("" when Exim logged only the
// authenticator).
func authUser(a string) string {
	i := strings.IndexByte(a, ':')
	if i < 0 {
		return ""
	}
	a = a[i+1:]
	if j := strings.IndexByte(a, ':'); j >= 0 {
		a = a[:j]
	}
	return a
}

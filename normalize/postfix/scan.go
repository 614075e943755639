package postfix

import "strings"

// This file holds the small scanners the parser is built from. They slice
// the input instead of copying it and never allocate, because they run on
// every line of logs that reach tens of millions of lines a day.

// splitQueueID splits "QUEUEID: rest".
func splitQueueID(s string) (id, rest string, ok bool) {
	n := 0
	for n < len(s) && n < 40 && isAlnum(s[n]) {
		n++
	}
	if n+1 >= len(s) || s[n] != ':' || s[n+1] != ' ' || !isQueueID(s[:n]) {
		return "", s, false
	}
	return s[:n], s[n+2:], true
}

// isQueueID reports whether s looks like a Postfix queue id. Postfix writes
// two kinds: upper-case hex (enable_long_queue_ids=no, 5 to ~20 digits) and
// long ids of 10+ characters from an alphabet without vowels, which is what
// tells them from words such as "warning" or "statistics".
func isQueueID(s string) bool {
	hex, long := true, true
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case '0' <= c && c <= '9':
		case 'A' <= c && c <= 'F':
			if c == 'A' || c == 'E' {
				long = false
			}
		case 'G' <= c && c <= 'Z', 'a' <= c && c <= 'z':
			hex = false
			if isVowel(c) {
				long = false
			}
		default:
			return false
		}
	}
	return hex && len(s) >= 5 && len(s) <= 40 || long && len(s) >= 10 && len(s) <= 40
}

func isAlnum(c byte) bool {
	return '0' <= c && c <= '9' || 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z'
}

func isVowel(c byte) bool {
	switch c {
	case 'A', 'E', 'I', 'O', 'U', 'a', 'e', 'i', 'o', 'u':
		return true
	}
	return false
}

// nextKV scans one key=value pair from a Postfix attribute list such as
// `to=<a@b>, relay=x[1.2.3.4]:25, delay=1.2, status=sent (250 ok)` or the
// space-separated `from=<a> to=<b> proto=ESMTP helo=<h>`. Values in <> are
// returned without the brackets and may be empty (the null sender <>).
// ok is false when s does not start with a key=; rest is then s with the
// leading separators removed, which is where trailing text such as a
// status's "(250 ok)" begins.
func nextKV(s string) (key, val, rest string, ok bool) {
	i := 0
	for i < len(s) && (s[i] == ' ' || s[i] == ',') {
		i++
	}
	s = s[i:]
	eq := -1
	for j := 0; j < len(s); j++ {
		c := s[j]
		if c == '=' {
			eq = j
			break
		}
		if !isKeyChar(c) {
			return "", "", s, false
		}
	}
	if eq <= 0 {
		return "", "", s, false
	}
	key, v := s[:eq], s[eq+1:]
	if len(v) > 0 && v[0] == '<' {
		// The closing '>' is the first one followed by a separator, so
		// that odd local parts like <"a>b"@c> survive.
		for j := 1; j < len(v); j++ {
			if v[j] == '>' && (j+1 == len(v) || isValueEnd(v[j+1])) {
				return key, v[1:j], v[j+1:], true
			}
		}
		return key, v[1:], "", true // truncated line: keep what there is
	}
	j := 0
	for j < len(v) && v[j] != ' ' && v[j] != ',' {
		// ": " ends a value: `helo=x: 550 text` in cleanup lines.
		if v[j] == ':' && (j+1 == len(v) || v[j+1] == ' ') {
			break
		}
		j++
	}
	return key, v[:j], v[j:], true
}

func isKeyChar(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '-'
}

func isValueEnd(c byte) bool { return c == ',' || c == ' ' || c == ':' || c == ';' }

// envelope is the `from=<> to=<> proto=ESMTP helo=<>` tail of reject and
// header_checks lines.
type envelope struct {
	from, to, proto, helo string
	hasFrom               bool
}

// parseEnvelope reads the attribute tail and returns whatever follows it
// (for cleanup lines: ": 550 5.7.1 text").
func parseEnvelope(s string) (env envelope, rest string) {
	rest = s
	for {
		k, v, r, ok := nextKV(rest)
		if !ok {
			return env, r
		}
		rest = r
		switch k {
		case "from":
			env.from, env.hasFrom = v, true
		case "to":
			env.to = v
		case "proto":
			env.proto = v
		case "helo":
			env.helo = v
		}
	}
}

// kvTail finds where the envelope attributes start in a reject line: the
// "; " before from=, or before to=/proto=/helo= when from= is absent (VRFY,
// EHLO, CONNECT rejects). Postfix always writes them last and in this order,
// and the reply text before them may itself contain "; ", hence LastIndex.
func kvTail(s string) int {
	for _, k := range [...]string{"; from=", "; to=", "; proto=", "; helo="} {
		if i := strings.LastIndex(s, k); i >= 0 {
			return i
		}
	}
	return -1
}

// parseClient parses "host[ip]", "[ip]" or "host[ip]:port" at the start of
// s and returns what follows. "unknown" host names (no reverse DNS) are
// dropped, and so is the "IPv6:" tag some sites log inside the brackets.
func parseClient(s string) (host, ip, rest string, ok bool) {
	lb := strings.IndexByte(s, '[')
	if lb < 0 {
		return "", "", s, false
	}
	host = s[:lb]
	if strings.IndexByte(host, ' ') >= 0 {
		return "", "", s, false
	}
	rb := strings.IndexByte(s[lb:], ']')
	if rb < 0 {
		return "", "", s, false
	}
	rb += lb
	ip = s[lb+1 : rb]
	rest = s[rb+1:]
	if len(rest) > 1 && rest[0] == ':' && isDigit(rest[1]) {
		j := 1
		for j < len(rest) && isDigit(rest[j]) {
			j++
		}
		rest = rest[j:]
	}
	if len(ip) > 5 && (ip[:5] == "IPv6:" || ip[:5] == "ipv6:") {
		ip = ip[5:]
	}
	if host == "unknown" {
		host = ""
	}
	if ip == "unknown" {
		ip = ""
	}
	return host, ip, rest, true
}

// parseReply splits an SMTP reply such as `554 5.7.1 <x@y>: Relay access
// denied` into its code ("554 5.7.1", a substring of s) and the text after
// the `<x>: ` part. Replies may have only a basic code, only an enhanced
// one (milters), or none (postscreen's "too many connections").
func parseReply(s string) (code, text string) {
	s = strings.TrimLeft(s, " ")
	end := 0
	if len(s) >= 3 && isDigit(s[0]) && isDigit(s[1]) && isDigit(s[2]) &&
		(len(s) == 3 || s[3] == ' ' || s[3] == '-') {
		end = 3
		if len(s) > 4 {
			if n := enhancedLen(s[4:]); n > 0 {
				end = 4 + n
			}
		}
	} else if n := enhancedLen(s); n > 0 {
		end = n
	}
	code, text = s[:end], strings.TrimLeft(s[end:], " ")
	switch {
	case strings.HasPrefix(text, "<"):
		if i := strings.Index(text, ">: "); i >= 0 {
			text = text[i+3:]
		}
	case strings.HasPrefix(text, ": "): // the <x> part was empty
		text = text[2:]
	}
	return code, text
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

func digits(s string) int {
	n := 0
	for n < len(s) && isDigit(s[n]) {
		n++
	}
	return n
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// atoi parses a non-negative decimal; ok is false for anything else.
func atoi(s string) (int64, bool) {
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

// indexFold is strings.Index for an ASCII lower-case needle, ignoring the
// case of s, without lower-casing (and so copying) s.
func indexFold(s, lowerSub string) int {
	n := len(lowerSub)
	for i := 0; i+n <= len(s); i++ {
		j := 0
		for j < n && lowerASCII(s[i+j]) == lowerSub[j] {
			j++
		}
		if j == n {
			return i
		}
	}
	return -1
}

func hasPrefixFold(s, lowerPrefix string) bool {
	return len(s) >= len(lowerPrefix) && indexFold(s[:len(lowerPrefix)], lowerPrefix) == 0
}

func lowerASCII(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// lowerProto lower-cases a proto= value; the common ones are constants so
// that no string is allocated.
func lowerProto(s string) string {
	switch s {
	case "":
		return ""
	case "ESMTP":
		return "esmtp"
	case "SMTP":
		return "smtp"
	case "LMTP":
		return "lmtp"
	case "QMQP":
		return "qmqp"
	}
	return strings.ToLower(s)
}

// isLoopback reports whether ip is a loopback address (127.0.0.0/8, ::1,
// also IPv4-mapped), i.e. the re-injection hop of a content filter rather
// than a real client.
func isLoopback(ip string) bool {
	return strings.HasPrefix(ip, "127.") || ip == "::1" || ip == "0:0:0:0:0:0:0:1" ||
		hasPrefixFold(ip, "::ffff:127.")
}

package sendmail

import "strings"

// This file holds the small scanners the parser is built from. They slice
// the input rather than copy it.

// splitQueueID splits "QUEUEID: rest". Sendmail queue ids are 14
// characters (YMDhmmss + sequence + 6-digit pid) and longer with 7-digit
// pids; a bracketed suffix ("j4KDbUaV007215[2]") marks a split envelope.
func splitQueueID(s string) (id, rest string, ok bool) {
	n := 0
	for n < len(s) && n < 24 && isAlnum(s[n]) {
		n++
	}
	if n < 12 || n > 20 {
		return "", s, false
	}
	end := n
	if end < len(s) && s[end] == '[' {
		k := strings.IndexByte(s[end:], ']')
		if k < 0 || k > 6 {
			return "", s, false
		}
		end += k + 1
	}
	if end+1 >= len(s) || s[end] != ':' || s[end+1] != ' ' || !hasDigitAndLetter(s[:n]) {
		return "", s, false
	}
	return s[:n], s[end+2:], true
}

func hasDigitAndLetter(s string) bool {
	var d, a bool
	for i := 0; i < len(s); i++ {
		if isDigit(s[i]) {
			d = true
		} else {
			a = true
		}
	}
	return d && a
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

// keyLen returns the length of a "key=" at the start of s (0 when there is
// none). Keys are words such as from, nrcpts, ctladdr, arg1.
func keyLen(s string) int {
	i := 0
	for i < len(s) && i < 16 && (isAlnum(s[i]) || s[i] == '_' || s[i] == '-') {
		i++
	}
	if i == 0 || i >= len(s) || s[i] != '=' {
		return 0
	}
	return i
}

// nextKV scans one "key=value" of Sendmail's ", "-separated attribute
// lists. A value runs to the next ", key=", so that values may hold spaces
// and commas (relay=host [ip] (may be forged), ctladdr=root (0/0),
// to=<a>,<b>); stat= and reject= take the rest of the line, as their text
// is free. ok is false when s does not start with a key.
func nextKV(s string) (key, val, rest string, ok bool) {
	s = strings.TrimLeft(s, " ,")
	k := keyLen(s)
	if k == 0 {
		return "", "", s, false
	}
	key, v := s[:k], s[k+1:]
	if key == "stat" || key == "reject" {
		return key, v, "", true
	}
	for i := 0; i+1 < len(v); i++ {
		if v[i] == ',' && v[i+1] == ' ' && keyLen(v[i+2:]) > 0 {
			return key, v[:i], v[i+2:], true
		}
	}
	return key, v, "", true
}

// attrs is the attribute list of a from=, to=, ruleset= or AUTH line.
type attrs struct {
	from, to, size, nrcpts, msgid, proto, relay string
	delay, mailer, dsn, stat, reject            string
	ruleset, arg1, arg2, authid, mech, user     string
	hasFrom                                     bool
	quarantine                                  string
	relays                                      int
}

// scanAttrs reads every key=value of s into a, and returns the text that
// follows the last one it understood (for the bare "discard" of some
// ruleset lines).
func scanAttrs(s string, a *attrs) string {
	for {
		k, v, rest, ok := nextKV(s)
		if !ok {
			return rest
		}
		s = rest
		switch k {
		case "from":
			a.from, a.hasFrom = v, true
		case "to":
			a.to = v
		case "size":
			a.size = v
		case "nrcpts":
			a.nrcpts = v
		case "msgid":
			a.msgid = v
		case "proto":
			a.proto = v
		case "relay":
			// The last relay= wins: an earlier one may be text injected
			// through a user name (AUTH failure ..., user=x, relay=[y]).
			a.relay = v
			a.relays++
		case "delay":
			a.delay = v
		case "mailer":
			a.mailer = v
		case "dsn":
			a.dsn = v
		case "stat":
			a.stat = v
		case "reject":
			a.reject = v
		case "ruleset":
			a.ruleset = v
		case "arg1":
			a.arg1 = v
		case "arg2":
			a.arg2 = v
		case "authid":
			a.authid = v
		case "mech":
			a.mech = v
		case "user":
			a.user = v
		case "quarantine":
			a.quarantine = v
		}
	}
}

// trimAngles drops the <> around an address; "<>" gives "".
func trimAngles(s string) string {
	s = strings.TrimSpace(s)
	if len(s) >= 2 && s[0] == '<' && s[len(s)-1] == '>' {
		return s[1 : len(s)-1]
	}
	return s
}

// splitRecipients splits a to= value, "<a@b>,<c@d>" or "a@b,c@d", at the
// commas outside <> and quotes.
func splitRecipients(s string) []string {
	var out []string
	depth, quoted, start := 0, false, 0
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '"':
			quoted = !quoted
		case quoted:
		case c == '<':
			depth++
		case c == '>' && depth > 0:
			depth--
		case c == ',' && depth == 0:
			if r := trimAngles(s[start:i]); r != "" {
				out = append(out, r)
			}
			start = i + 1
		}
	}
	if r := trimAngles(s[start:]); r != "" {
		out = append(out, r)
	}
	return out
}

// parseRelay splits a relay= value or a client prefix:
//
//	host.example. [192.0.2.1] (may be forged)   [192.0.2.1]   localhost
//	[93.184.216.34] [93.184.216.34]            host [IPv6:2001:db8::1]
//
// The host loses its trailing dot; an address literal as the host is
// dropped; rest is what follows (after " (may be forged)").
func parseRelay(s string) (host, ip, rest string) {
	rest = s
	if len(rest) > 0 && rest[0] != '[' {
		j := 0
		for j < len(rest) && rest[j] != ' ' && rest[j] != ',' && rest[j] != ':' {
			j++
		}
		host, rest = rest[:j], rest[j:]
		if len(rest) > 1 && rest[0] == ' ' && rest[1] == '[' {
			rest = rest[1:]
		}
	}
	if len(rest) > 0 && rest[0] == '[' {
		k := strings.IndexByte(rest, ']')
		if k < 0 {
			return "", "", s
		}
		lit := rest[1:k]
		rest = rest[k+1:]
		// "[ip] [ip]": the first literal is where the host name would be.
		if host == "" && len(rest) > 1 && rest[0] == ' ' && rest[1] == '[' {
			if k2 := strings.IndexByte(rest[1:], ']'); k2 > 0 {
				lit = rest[2 : 1+k2]
				rest = rest[2+k2:]
			}
		}
		ip = strings.TrimPrefix(strings.TrimPrefix(lit, "IPv6:"), "ipv6:")
	}
	rest = strings.TrimPrefix(rest, " (may be forged)")
	host = strings.TrimSuffix(host, ".")
	return host, ip, rest
}

// parseDelay reads Sendmail's "hh:mm:ss" and "d+hh:mm:ss" delays.
func parseDelay(s string) (float64, bool) {
	days := 0
	if i := strings.IndexByte(s, '+'); i >= 0 {
		n := digits(s[:i])
		if n == 0 || n != i || n > 5 {
			return 0, false
		}
		days = atoiSmall(s[:i])
		s = s[i+1:]
	}
	if len(s) < 8 || s[2] != ':' || s[5] != ':' || digits(s[0:2]) != 2 || digits(s[3:5]) != 2 || digits(s[6:8]) != 2 {
		return 0, false
	}
	sec := float64(days*86400 + atoiSmall(s[0:2])*3600 + atoiSmall(s[3:5])*60 + atoiSmall(s[6:8]))
	if len(s) > 8 {
		// A fraction (rare): ".123".
		if s[8] != '.' || digits(s[9:]) != len(s)-9 || len(s) == 9 {
			return 0, false
		}
		frac, scale := 0.0, 0.1
		for _, c := range []byte(s[9:]) {
			frac += float64(c-'0') * scale
			scale /= 10
		}
		sec += frac
	}
	return sec, true
}

func atoiSmall(s string) int {
	n := 0
	for i := 0; i < len(s) && i < 9; i++ {
		n = n*10 + int(s[i]-'0')
	}
	return n
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

// replyCode returns the SMTP reply code at the start of s, with the
// RFC 3463 enhanced code when one follows ("550 5.1.1"), and its length.
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

// splitHostTag splits "host prog[pid]: msg" or "host prog: msg".
func splitHostTag(s string) (host, prog string, pid int, msg string, ok bool) {
	sp := strings.IndexByte(s, ' ')
	if sp <= 0 {
		return "", "", 0, "", false
	}
	host, rest := s[:sp], s[sp+1:]
	i := 0
	for i < len(rest) && rest[i] != '[' && rest[i] != ':' && rest[i] != ' ' {
		i++
	}
	if i == 0 || i == len(rest) || rest[i] == ' ' {
		return "", "", 0, "", false
	}
	prog = rest[:i]
	if rest[i] == '[' {
		j := i + 1
		for j < len(rest) && isDigit(rest[j]) {
			if pid < 1<<30 {
				pid = pid*10 + int(rest[j]-'0')
			}
			j++
		}
		if j >= len(rest) || rest[j] != ']' {
			return "", "", 0, "", false
		}
		i = j + 1
		if i >= len(rest) || rest[i] != ':' {
			return "", "", 0, "", false
		}
	}
	msg = rest[i+1:]
	if len(msg) > 0 && msg[0] == ' ' {
		msg = msg[1:]
	}
	return host, prog, pid, msg, true
}

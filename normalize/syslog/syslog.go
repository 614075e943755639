// Package syslog splits the prefix that syslog daemons put in front of every
// line of a mail log:
//
//	Feb 20 04:05:39 host prog[pid]: message                    (RFC 3164)
//	2023-03-14T00:00:31.185246+01:00 host prog[pid]: message   (RFC 3339, rsyslog high precision)
//
// into time, host, program, pid and message. It is hand-written rather than
// regexp-based because it runs once per input line and must not allocate.
//
// RFC 3164 stamps carry no year. A Parser infers it (see Options) and keeps
// the state needed to notice the December -> January roll of a live stream,
// so use one Parser per input stream. All times are returned in UTC.
package syslog

import (
	"errors"
	"strings"
	"time"
)

// Errors returned by Parse. They are sentinel values so that the hot path
// never allocates; callers test them with errors.Is.
var (
	// ErrTimestamp means the line does not start with a recognizable
	// RFC 3164 or RFC 3339 timestamp.
	ErrTimestamp = errors.New("syslog: no RFC 3164 or RFC 3339 timestamp")
	// ErrHost means the timestamp is not followed by a host name.
	ErrHost = errors.New("syslog: no host after the timestamp")
	// ErrTag means the host is not followed by a `program[pid]:` tag. The
	// Record returned with it still has Time, Host and, as Message, the
	// text after the host (syslogd's "last message repeated 2 times").
	ErrTag = errors.New("syslog: no program tag after the host")
)

// Record is one split line. Host, Program and Message are substrings of the
// line passed to Parse.
type Record struct {
	Time    time.Time // UTC
	Host    string
	Program string // e.g. postfix/smtpd, postfix-out/smtp, amavis
	PID     int    // 0 when the tag has none
	Message string // everything after "prog[pid]: "
}

// Options say how to find the year of RFC 3164 stamps. The zero value infers
// it from the clock.
type Options struct {
	// Year, when not 0, is the year of the first stamp; later stamps move to
	// the next year when the stream rolls over from December to January.
	Year int
	// ModTime of the file, when known: stamps are assumed to be no later
	// than it (one day of slack for clock skew and time zones), which places
	// the December lines of a January archive in the previous year.
	ModTime time.Time
	// Now is the clock used when neither Year nor ModTime nor an RFC 3339
	// stamp is available (default time.Now).
	Now func() time.Time
	// Location of RFC 3164 stamps, which carry no zone (default UTC).
	Location *time.Location
}

// rollBack is how far a stamp must jump back from its predecessor before we
// conclude that the year advanced: far more than any out-of-order delivery
// or clock step, far less than a year.
const rollBack = 300 * 24 * time.Hour

// slack is how much later than the reference time (ModTime, newest RFC 3339
// stamp, now) a stamp may be before it is put in the previous year.
const slack = 24 * time.Hour

// Parser splits lines and infers years. It is not safe for concurrent use.
type Parser struct {
	opts Options
	loc  *time.Location

	year       int       // current year in explicit-Year mode
	prev       time.Time // previous stamp of any kind, for roll detection
	newest3339 time.Time // newest RFC 3339 stamp seen

	// The previous RFC 3164 stamp and its result: mail logs write many
	// lines per second, and reusing the result skips the year inference.
	lastStamp string
	lastTime  time.Time
}

// New returns a Parser for one input stream.
func New(opts Options) *Parser {
	loc := opts.Location
	if loc == nil {
		loc = time.UTC
	}
	return &Parser{opts: opts, loc: loc}
}

// Parse splits one line (without its newline). An optional leading <PRI>
// (as received from the network) is skipped.
func (p *Parser) Parse(line string) (Record, error) {
	var r Record
	s := skipPRI(line)
	if len(s) > 2 && s[0] == '1' && s[1] == ' ' && (isDigit(s[2]) || s[2] == '-') {
		return p.parse5424(s[2:])
	}
	var rest string
	var ok bool
	if len(s) > 0 && isDigit(s[0]) {
		var t time.Time
		t, rest, ok = parse3339(s, p.loc)
		if !ok {
			return r, ErrTimestamp
		}
		r.Time = t
		if t.After(p.newest3339) {
			p.newest3339 = t
		}
		p.prev = t
	} else {
		var st stamp3164
		st, rest, ok = parse3164(s)
		if !ok {
			return r, ErrTimestamp
		}
		raw := s[:len(s)-len(rest)]
		if raw == p.lastStamp && p.lastStamp != "" {
			r.Time = p.lastTime
			p.prev = r.Time
		} else {
			r.Time = p.infer(st)
			p.lastStamp, p.lastTime = raw, r.Time
		}
	}
	rest = trimLeftSpace(rest)
	host, rest, ok := cutToken(rest)
	if !ok {
		return r, ErrHost
	}
	r.Host = host
	rest = trimLeftSpace(rest)
	prog, pid, msg, ok := splitTag(rest)
	if !ok {
		// Untagged lines such as sysklogd's "last message repeated 3
		// times" keep their text for the caller to recognize.
		r.Message = rest
		return r, ErrTag
	}
	r.Program, r.PID, r.Message = prog, pid, msg
	return r, nil
}

// parse5424 reads the rest of an RFC 5424 line after "<PRI>1 ":
// TIMESTAMP HOSTNAME APP-NAME PROCID MSGID STRUCTURED-DATA [MSG], where "-"
// stands for a missing value. Structured data is skipped (mail logs carry
// their facts in MSG); the program is APP-NAME and the PID PROCID when it is
// a number.
func (p *Parser) parse5424(s string) (Record, error) {
	var r Record
	if s[0] == '-' {
		return r, ErrTimestamp // an event without a time cannot be windowed or ordered
	}
	t, rest, ok := parse3339(s, p.loc)
	if !ok {
		return r, ErrTimestamp
	}
	r.Time = t
	if t.After(p.newest3339) {
		p.newest3339 = t
	}
	p.prev = t
	var fields [4]string
	rest = trimLeftSpace(rest)
	for i := range fields {
		tok, after, ok := cutToken(rest)
		if !ok {
			return r, ErrHost
		}
		if tok != "-" {
			fields[i] = tok
		}
		rest = after
	}
	r.Host, r.Program = fields[0], fields[1]
	if r.Host == "" {
		return r, ErrHost
	}
	for i := 0; i < len(fields[2]) && isDigit(fields[2][i]); i++ {
		if r.PID < 1<<30 {
			r.PID = r.PID*10 + int(fields[2][i]-'0')
		}
	}
	msg, ok := skipStructuredData(rest)
	if !ok {
		return r, ErrTag
	}
	r.Message = strings.TrimPrefix(msg, "\ufeff")
	if r.Program == "" {
		return r, ErrTag
	}
	return r, nil
}

// skipStructuredData drops "-" or one or more [id param="value" ...]
// elements (values may hold escaped \" \] \\) and the space after them.
func skipStructuredData(s string) (string, bool) {
	if strings.HasPrefix(s, "-") {
		return trimLeftSpace(s[1:]), true
	}
	for len(s) > 0 && s[0] == '[' {
		inQuote := false
		i := 1
		for ; i < len(s); i++ {
			c := s[i]
			if c == '\\' && inQuote {
				i++
				continue
			}
			if c == '"' {
				inQuote = !inQuote
			} else if c == ']' && !inQuote {
				break
			}
		}
		if i >= len(s) {
			return "", false
		}
		s = s[i+1:]
	}
	return trimLeftSpace(s), true
}

// skipPRI drops a leading "<digits>" priority.
func skipPRI(s string) string {
	if len(s) < 3 || s[0] != '<' {
		return s
	}
	for i := 1; i < len(s) && i <= 4; i++ {
		if s[i] == '>' && i > 1 {
			return s[i+1:]
		}
		if !isDigit(s[i]) {
			return s
		}
	}
	return s
}

// cutToken returns the text up to the next space and what follows it.
func cutToken(s string) (tok, rest string, ok bool) {
	for i := 0; i < len(s); i++ {
		if s[i] == ' ' {
			if i == 0 {
				return "", s, false
			}
			return s[:i], s[i+1:], true
		}
	}
	return "", s, false
}

func trimLeftSpace(s string) string {
	for len(s) > 0 && s[0] == ' ' {
		s = s[1:]
	}
	return s
}

// splitTag splits "prog[pid]: msg" or "prog: msg". The program may contain
// slashes and dashes (postfix-out/smtp, postfix/10025/smtpd) but no spaces.
func splitTag(s string) (prog string, pid int, msg string, ok bool) {
	i := 0
	for i < len(s) && s[i] != '[' && s[i] != ':' && s[i] != ' ' {
		i++
	}
	if i == 0 || i == len(s) || s[i] == ' ' {
		return "", 0, "", false
	}
	prog = s[:i]
	if s[i] == '[' {
		j := i + 1
		for j < len(s) && isDigit(s[j]) {
			if pid < 1<<30 {
				pid = pid*10 + int(s[j]-'0')
			}
			j++
		}
		if j >= len(s) || s[j] != ']' {
			return "", 0, "", false
		}
		i = j + 1
		if i >= len(s) || s[i] != ':' {
			return "", 0, "", false
		}
	}
	msg = s[i+1:]
	if len(msg) > 0 && msg[0] == ' ' {
		msg = msg[1:]
	}
	return prog, pid, msg, true
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// SetModTime changes the reference for year inference when the stream moves
// on to another file (log rotation): each file's modification time anchors
// its own lines. A zero time falls back to the other sources.
func (p *Parser) SetModTime(t time.Time) {
	p.opts.ModTime = t
	p.lastStamp, p.lastTime = "", time.Time{}
}

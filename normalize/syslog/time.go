package syslog

import "time"

// stamp3164 is the broken-down "Mmm dd hh:mm:ss[.frac]" stamp.
type stamp3164 struct {
	month                  time.Month
	day, hour, minute, sec int
	nsec                   int
}

// months maps the three-letter English abbreviations; RFC 3164 allows no
// other spelling, and syslog daemons use the C locale.
var months = [...]string{"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"}

// parse3164 parses "Mmm dd hh:mm:ss" with an optional fraction. The day may
// be space-padded ("Feb  5") or, as some tools write it, unpadded ("Feb 5").
func parse3164(s string) (st stamp3164, rest string, ok bool) {
	if len(s) < 14 || s[3] != ' ' {
		return st, s, false
	}
	for i, m := range months {
		if s[0] == m[0] && s[1] == m[1] && s[2] == m[2] {
			st.month = time.Month(i + 1)
			break
		}
	}
	if st.month == 0 {
		return st, s, false
	}
	i := 4
	if s[i] == ' ' { // space-padded day
		i++
	}
	d, n := atoiN(s[i:], 2)
	if n == 0 {
		return st, s, false
	}
	st.day = d
	i += n
	if i >= len(s) || s[i] != ' ' {
		return st, s, false
	}
	i++
	if len(s) < i+8 || s[i+2] != ':' || s[i+5] != ':' {
		return st, s, false
	}
	var ok1, ok2, ok3 bool
	st.hour, ok1 = atoi2(s[i:])
	st.minute, ok2 = atoi2(s[i+3:])
	st.sec, ok3 = atoi2(s[i+6:])
	if !ok1 || !ok2 || !ok3 {
		return st, s, false
	}
	i += 8
	if i < len(s) && s[i] == '.' {
		var n int
		st.nsec, n = fraction(s[i+1:])
		if n == 0 {
			return st, s, false
		}
		i += 1 + n
	}
	if i < len(s) && s[i] != ' ' {
		return st, s, false
	}
	if st.day < 1 || st.day > 31 || st.hour > 23 || st.minute > 59 || st.sec > 60 {
		return st, s, false
	}
	return st, s[i:], true
}

// parse3339 parses "YYYY-MM-DDTHH:MM:SS[.frac](Z|±HH:MM|±HHMM)". A stamp
// without a zone (rare: rsyslog and journald always write one) is taken to
// be in loc, like an RFC 3164 stamp.
func parse3339(s string, loc *time.Location) (t time.Time, rest string, ok bool) {
	if len(s) < 19 || s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != 't') ||
		s[13] != ':' || s[16] != ':' {
		return t, s, false
	}
	year, n := atoiN(s, 4)
	if n != 4 {
		return t, s, false
	}
	mon, ok1 := atoi2(s[5:])
	day, ok2 := atoi2(s[8:])
	hour, ok3 := atoi2(s[11:])
	minute, ok4 := atoi2(s[14:])
	sec, ok5 := atoi2(s[17:])
	if !ok1 || !ok2 || !ok3 || !ok4 || !ok5 ||
		mon < 1 || mon > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || sec > 60 {
		return t, s, false
	}
	i := 19
	nsec := 0
	if i < len(s) && s[i] == '.' {
		nsec, n = fraction(s[i+1:])
		if n == 0 {
			return t, s, false
		}
		i += 1 + n
	}
	offset := 0
	zoned := false
	if i < len(s) {
		switch c := s[i]; c {
		case 'Z', 'z':
			i++
			zoned = true
		case '+', '-':
			h, okh := atoi2(s[i+1:])
			if !okh {
				return t, s, false
			}
			j := i + 3
			if j < len(s) && s[j] == ':' {
				j++
			}
			m, okm := atoi2(s[j:])
			if !okm || h > 23 || m > 59 {
				return t, s, false
			}
			offset = (h*60 + m) * 60
			if c == '-' {
				offset = -offset
			}
			i = j + 2
			zoned = true
		}
	}
	if i < len(s) && s[i] != ' ' {
		return t, s, false
	}
	if !zoned {
		return time.Date(year, time.Month(mon), day, hour, minute, sec, nsec, loc).UTC(), s[i:], true
	}
	t = time.Date(year, time.Month(mon), day, hour, minute, sec, nsec, time.UTC)
	t = t.Add(-time.Duration(offset) * time.Second)
	return t, s[i:], true
}

// infer gives an RFC 3164 stamp its year; see Options for the order of the
// sources. The result goes through the roll check, a stamp more than
// rollBack before its predecessor belongs to a later year, whenever the year
// does not come from the file's ModTime: always with an explicit Year (which
// wins over ModTime, and only the roll can advance it; the CLI passes the
// file's mtime together with --year), and otherwise unless ModTime is set,
// since ModTime anchors every line on its own. That catches the new year of
// a live stream whose reference (explicit year, a stale clock, the last
// RFC 3339 stamp) has not moved yet.
func (p *Parser) infer(st stamp3164) time.Time {
	var y int
	if p.opts.Year > 0 {
		if p.year == 0 {
			p.year = p.opts.Year
		}
		y = p.year
	} else {
		ref := p.reference()
		y = ref.Year()
		if p.date(y, st).After(ref.Add(slack)) {
			y--
		}
	}
	t := p.date(y, st)
	if !p.prev.IsZero() && (p.opts.Year > 0 || p.opts.ModTime.IsZero()) {
		// Two steps at most: a single roll is what real streams do, the
		// bound keeps garbage input from looping.
		for i := 0; i < 2 && t.Before(p.prev.Add(-rollBack)); i++ {
			y++
			t = p.date(y, st)
		}
	}
	if p.opts.Year > 0 {
		p.year = y
	}
	p.prev = t
	return t
}

// reference is the time stamps are assumed not to be later than.
func (p *Parser) reference() time.Time {
	switch {
	case !p.opts.ModTime.IsZero():
		return p.opts.ModTime
	case !p.newest3339.IsZero():
		return p.newest3339
	case p.opts.Now != nil:
		return p.opts.Now()
	}
	return time.Now()
}

// date builds the UTC time of st in year y. February 29 moves to the
// nearest earlier leap year instead of silently becoming March 1.
func (p *Parser) date(y int, st stamp3164) time.Time {
	if st.month == time.February && st.day == 29 {
		for i := 0; i < 3 && !isLeap(y); i++ {
			y--
		}
	}
	return time.Date(y, st.month, st.day, st.hour, st.minute, st.sec, st.nsec, p.loc).UTC()
}

func isLeap(y int) bool { return y%4 == 0 && (y%100 != 0 || y%400 == 0) }

// atoi2 parses exactly two digits.
func atoi2(s string) (int, bool) {
	if len(s) < 2 || !isDigit(s[0]) || !isDigit(s[1]) {
		return 0, false
	}
	return int(s[0]-'0')*10 + int(s[1]-'0'), true
}

// atoiN parses up to max leading digits and says how many it used.
func atoiN(s string, max int) (v, n int) {
	for n < len(s) && n < max && isDigit(s[n]) {
		v = v*10 + int(s[n]-'0')
		n++
	}
	return v, n
}

// fraction parses the digits of a fractional second into nanoseconds,
// ignoring digits beyond nanosecond precision.
func fraction(s string) (nsec, n int) {
	scale := int(time.Second)
	for n < len(s) && isDigit(s[n]) {
		if scale > 1 {
			scale /= 10
			nsec += int(s[n]-'0') * scale
		}
		n++
	}
	return nsec, n
}

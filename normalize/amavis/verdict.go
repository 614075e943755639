package amavis

import (
	"strconv"
	"strings"

	"github.com/detect-dev/detect/normalize"
	"github.com/detect-dev/detect/normalize/internal/amavisparts"
	"github.com/detect-dev/detect/schema"
)

// amavis handles one amavis syslog message.
func (p *Parser) amavis(l *line, msg string) normalize.Result {
	if !strings.HasPrefix(msg, "(") {
		return p.ignore(catAmavisDaemon)
	}
	if strings.HasPrefix(msg, "(!") {
		return p.ignore(catAmavisWarning)
	}
	end := strings.IndexByte(msg, ')')
	if end < 0 {
		return normalize.NotUnderstood
	}
	body := strings.TrimLeft(msg[end+1:], " ")
	if strings.HasPrefix(body, "...") {
		return p.ignore(catContinuation)
	}
	if strings.HasPrefix(body, "(!") {
		return p.ignore(catAmavisWarning)
	}
	var verb string
	switch {
	case strings.HasPrefix(body, "Passed "):
		verb = "Passed"
	case strings.HasPrefix(body, "Blocked "):
		verb = "Blocked"
	case strings.HasPrefix(body, "Not-Delivered "):
		verb = "Not-Delivered"
	default:
		return p.ignore(catAmavisDetail)
	}
	v, ok := parseVerdict(body[len(verb)+1:])
	if !ok {
		return normalize.NotUnderstood
	}
	action := schema.ActionDelivered
	switch verb {
	case "Blocked":
		action = blockedAction(v.tags)
	case "Not-Delivered":
		action = schema.ActionDiscarded
	}
	status := verb
	if v.category != "" {
		status += " " + v.category
	}
	reason := v.detail
	if (v.category == "SPAM" || v.category == "SPAMMY") && v.hits != "" && v.hits != "-" {
		if reason != "" {
			reason += ", "
		}
		reason += "Hits: " + v.hits
	}
	var atts []schema.Attachment
	if v.category == "BANNED" {
		atts = amavisparts.Banned(v.detail, v.named)
	}
	for _, rcpt := range v.recipients {
		ev := l.event("amavis", schema.TypeFilter, action)
		ev.Status = status
		ev.Reason = reason
		ev.SetSender(v.sender)
		ev.Recipient = rcpt
		ev.SrcIP = v.ip
		ev.QueueID = v.queueID
		ev.MessageID = v.messageID
		ev.Size = v.size
		ev.Subject = v.subject
		ev.Helo = v.helo
		ev.Direction = v.direction
		if len(atts) > 0 {
			ev.Attachments = append([]schema.Attachment(nil), atts...)
		}
		ev.Complete()
		l.emit(ev)
	}
	return normalize.Understood
}

// verdict is what an amavis verdict line says after Passed/Blocked.
type verdict struct {
	category, detail, tags      string
	ip, sender                  string
	recipients                  []string
	queueID, messageID, subject string
	helo, hits, direction       string
	size                        int64
	named                       string // the named fields after the recipients
}

// parseVerdict reads "CATEGORY (detail) {Tags}, [ip]:port [ip] <s> ->
// <r>,<r>, Name: value, ...". Detail and tags are optional, and so is
// everything after the recipients.
func parseVerdict(s string) (v verdict, ok bool) {
	// The category ends at a space, comma or brace.
	i := 0
	for i < len(s) && s[i] != ' ' && s[i] != ',' && s[i] != '{' {
		i++
	}
	v.category, s = s[:i], strings.TrimLeft(s[i:], " ")
	if strings.HasPrefix(s, "(") {
		// The detail may hold parentheses of its own ("(Foo (bar))").
		depth, k := 0, 0
		for ; k < len(s); k++ {
			if s[k] == '(' {
				depth++
			} else if s[k] == ')' {
				if depth--; depth == 0 {
					break
				}
			}
		}
		if k == len(s) {
			return v, false
		}
		v.detail, s = s[1:k], strings.TrimLeft(s[k+1:], " ")
	}
	if strings.HasPrefix(s, "{") {
		k := strings.IndexByte(s, '}')
		if k < 0 {
			return v, false
		}
		v.tags, s = s[1:k], s[k+1:]
		v.direction = tagDirection(v.tags)
	}
	s = strings.TrimLeft(strings.TrimPrefix(s, ","), " ")

	arrow := strings.Index(s, " -> ")
	if arrow < 0 {
		return v, false
	}
	before, after := s[:arrow], s[arrow+len(" -> "):]
	lt := strings.LastIndexByte(before, '<')
	if lt < 0 || !strings.HasSuffix(before, ">") {
		return v, false
	}
	v.sender = before[lt+1 : len(before)-1]
	if k := strings.LastIndexByte(before[:lt], '['); k >= 0 {
		if m := strings.IndexByte(before[k:], ']'); m > 0 {
			v.ip = before[k+1 : k+m]
		}
	}
	for strings.HasPrefix(after, "<") {
		k := strings.IndexByte(after, '>')
		if k < 0 {
			return v, false
		}
		v.recipients = append(v.recipients, after[1:k])
		after = after[k+1:]
		if !strings.HasPrefix(after, ",<") {
			break
		}
		after = after[1:]
	}
	if len(v.recipients) == 0 {
		return v, false
	}

	// Named fields, in amavis' order; each search starts after the
	// previous find, so subject text cannot pose as an earlier field.
	f := after
	v.named = after
	v.queueID, f = named(f, ", Queue-ID: ")
	v.messageID, f = named(f, ", Message-ID: ")
	v.messageID = strings.TrimSuffix(strings.TrimPrefix(v.messageID, "<"), ">")
	v.hits, f = named(f, ", Hits: ")
	var size string
	size, f = named(f, ", size: ")
	if n, err := strconv.ParseInt(size, 10, 64); err == nil && n >= 0 {
		v.size = n
	}
	v.subject, f = subject(f)
	v.helo, _ = named(f, ", helo=")
	return v, true
}

// named finds key in s and returns its value, up to the next ", ", and the
// rest of s from there; without key, s comes back unchanged.
func named(s, key string) (val, rest string) {
	i := strings.Index(s, key)
	if i < 0 {
		return "", s
	}
	s = s[i+len(key):]
	end := strings.Index(s, ", ")
	if end < 0 {
		end = len(s)
	}
	return s[:end], s[end:]
}

// subject reads `, Subject: "text"`, where quotes inside are doubled. A
// " (raw: ...)" suffix that amavis adds for encoded subjects is dropped.
func subject(s string) (subj, rest string) {
	const key = `, Subject: "`
	i := strings.Index(s, key)
	if i < 0 {
		return "", s
	}
	s = s[i+len(key):]
	var b strings.Builder
	k := 0
	for k < len(s) {
		c := s[k]
		if c == '"' {
			if k+1 < len(s) && s[k+1] == '"' {
				b.WriteByte('"')
				k += 2
				continue
			}
			break
		}
		b.WriteByte(c)
		k++
	}
	subj = b.String()
	if j := strings.Index(subj, " (raw: "); j >= 0 {
		subj = subj[:j]
	}
	if k < len(s) {
		k++
	}
	return subj, s[k:]
}

// blockedAction reads the disposition tags of a Blocked verdict.
func blockedAction(tags string) string {
	switch {
	case tags == "":
		return schema.ActionQuarantined
	case strings.Contains(tags, "Quarantined"):
		return schema.ActionQuarantined
	case strings.HasPrefix(tags, "Discarded"):
		return schema.ActionDiscarded
	case strings.HasPrefix(tags, "Rejected"):
		return schema.ActionRejected
	case strings.HasPrefix(tags, "Bounced"):
		return schema.ActionBounced
	case strings.HasPrefix(tags, "TempFailed"):
		return schema.ActionDeferred
	}
	return schema.ActionQuarantined
}

// tagDirection reads the direction of "{RelayedInbound}" and friends.
func tagDirection(tags string) string {
	first, _, _ := strings.Cut(tags, ",")
	switch {
	case strings.HasSuffix(first, "Inbound"):
		return schema.DirectionInbound
	case strings.HasSuffix(first, "Outbound"), strings.HasSuffix(first, "OpenRelay"):
		return schema.DirectionOutbound
	case strings.HasSuffix(first, "Internal"):
		return schema.DirectionInternal
	}
	return ""
}

// mailScanner handles one MailScanner syslog message.
func (p *Parser) mailScanner(l *line, msg string) normalize.Result {
	switch {
	case strings.HasPrefix(msg, "Message "):
		return p.msSpam(l, msg[len("Message "):])
	case strings.HasPrefix(msg, "Infected message "):
		// Infected message 4bsM5k4xJmz4rT6 came from 192.0.2.50
		rest := msg[len("Infected message "):]
		id, rest, _ := strings.Cut(rest, " ")
		if id == "" {
			return normalize.NotUnderstood
		}
		ev := l.event("mailscanner", schema.TypeFilter, schema.ActionQuarantined)
		ev.Status = "infected"
		ev.QueueID = id
		if ip, ok := strings.CutPrefix(rest, "came from "); ok {
			ev.SrcIP = strings.TrimSpace(ip)
		}
		ev.Complete()
		l.emit(ev)
		return normalize.Understood
	case strings.HasPrefix(msg, "Filename Checks: "), strings.HasPrefix(msg, "Filetype Checks: "):
		// Filename Checks: Windows/DOS Executable (4bsM5k4xJmz4rT6 invoice.exe)
		what, rest, _ := strings.Cut(msg, ": ")
		open := strings.LastIndexByte(rest, '(')
		if open < 0 || !strings.HasSuffix(rest, ")") {
			return p.ignore(catMailScanner) // "Filename Checks: Allowing ..." and summaries
		}
		id, name, ok := strings.Cut(rest[open+1:len(rest)-1], " ")
		if !ok || id == "" || name == "" {
			return normalize.NotUnderstood
		}
		ev := l.event("mailscanner", schema.TypeFilter, schema.ActionQuarantined)
		ev.Status = "banned"
		ev.Reason = what + ": " + strings.TrimSpace(rest[:open])
		ev.QueueID = id
		ev.Attachments = []schema.Attachment{{Name: name, Ext: schema.ExtOf(name)}}
		ev.Complete()
		l.emit(ev)
		return normalize.Understood
	}
	return p.ignore(catMailScanner)
}

// msSpam reads "<id> from <ip> (<sender>) to <domains> is [not] spam...".
func (p *Parser) msSpam(l *line, s string) normalize.Result {
	id, s, ok := strings.Cut(s, " from ")
	if !ok || id == "" || strings.IndexByte(id, ' ') >= 0 {
		return p.ignore(catMailScanner)
	}
	ip, s, _ := strings.Cut(s, " ")
	var sender string
	if strings.HasPrefix(s, "(") {
		k := strings.IndexByte(s, ')')
		if k < 0 {
			return normalize.NotUnderstood
		}
		sender, s = s[1:k], strings.TrimLeft(s[k+1:], " ")
	}
	domains, verdict, ok := strings.Cut(strings.TrimPrefix(s, "to "), " is ")
	if !ok || !strings.HasPrefix(s, "to ") {
		return normalize.NotUnderstood
	}
	var action, status string
	switch {
	case strings.HasPrefix(verdict, "not spam"):
		action, status, verdict = schema.ActionDelivered, "not spam", verdict[len("not spam"):]
	case strings.HasPrefix(verdict, "spam"):
		action, status, verdict = schema.ActionWarned, "spam", verdict[len("spam"):]
	default:
		return normalize.NotUnderstood
	}
	reason := strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(verdict), ","))
	for _, d := range strings.Split(domains, ",") {
		d = strings.TrimSpace(d)
		if d == "" {
			continue
		}
		ev := l.event("mailscanner", schema.TypeFilter, action)
		ev.Status = status
		ev.Reason = reason
		ev.QueueID = id
		ev.SrcIP = ip
		if sender != "" {
			ev.SetSender(sender)
		}
		if strings.IndexByte(d, '@') >= 0 {
			ev.Recipient = d
		} else {
			ev.RecipientDomain = strings.ToLower(d)
		}
		ev.Complete()
		l.emit(ev)
	}
	return normalize.Understood
}

package postfix

import (
	"slices"
	"strings"
	"time"

	"github.com/detect-dev/detect/schema"
)

// message is what the parser knows about one queued message, gathered from
// the lines that precede its deliveries: smtpd client=, pickup, cleanup
// message-id= and header_checks, qmgr from=/size=/nrcpt=, amavis.
//
// Strings are cloned out of the log line before they are stored: state can
// live for hours, and it should not pin whole lines (or a reader's buffer)
// in memory.
type message struct {
	sender      string
	hasSender   bool
	senderFinal bool // from qmgr, which beats pickup's local user name
	size        int64
	nrcpt       int
	messageID   string
	srcIP       string
	srcHost     string
	helo        string
	authUser    string
	subject     string
	attachments []schema.Attachment
	last        time.Time // event time of the last line about it
}

// msg returns the state of queue id, creating it when create is set (only
// lines that carry something worth keeping create state).
func (p *Parser) msg(id string, create bool) *message {
	if m := p.queue[id]; m != nil {
		m.last = p.now
		return m
	}
	if !create {
		return nil
	}
	m := &message{last: p.now}
	p.queue[strings.Clone(id)] = m
	if n := len(p.queue); n > p.peak {
		p.peak = n
	}
	return m
}

// begin returns fresh state for a message whose first line this is
// (smtpd's client=, pickup's uid=). Short hex queue ids are reused once a
// message is gone; if its "removed" line was missed, the stale state must
// not leak into the new message.
func (p *Parser) begin(id string) *message {
	if m := p.queue[id]; m != nil {
		*m = message{last: p.now}
		return m
	}
	return p.msg(id, true)
}

// drop forgets a message that left the queue.
func (p *Parser) drop(id string) {
	delete(p.queue, id)
}

func (m *message) setSender(s string, final bool) {
	if m.senderFinal && !final {
		return
	}
	if !m.hasSender || m.sender != s {
		m.sender = strings.Clone(s)
	}
	m.hasSender = true
	m.senderFinal = m.senderFinal || final
}

// setClient records the SMTP client unless a better one is known: a
// loopback client is the content filter re-injecting the message, and is
// replaced by the real client when amavis tells us who that was.
func (m *message) setClient(host, ip string) {
	if ip == "" && host == "" {
		return
	}
	if m.srcIP != "" && !isLoopback(m.srcIP) {
		return
	}
	m.srcIP, m.srcHost = strings.Clone(ip), strings.Clone(host)
}

func (m *message) setIfEmpty(dst *string, v string) {
	if *dst == "" && v != "" {
		*dst = strings.Clone(v)
	}
}

// addAttachment adds a file name seen in a Content-Type or
// Content-Disposition header; the same part usually shows up in both, so
// names are deduplicated and the media type is filled in when it arrives.
func (m *message) addAttachment(name, mediaType string) {
	for i := range m.attachments {
		if m.attachments[i].Name == name {
			if m.attachments[i].Type == "" && mediaType != "" {
				m.attachments[i].Type = mediaType
			}
			return
		}
	}
	m.attachments = append(m.attachments, schema.Attachment{
		Name: name,
		Ext:  schema.ExtOf(name),
		Type: mediaType,
	})
}

// join copies the message's fields into an event where the line itself did
// not provide them: the line is the more specific source (a reject names
// its own from=/to=).
func (m *message) join(ev *schema.Event) {
	if m == nil {
		return
	}
	if !ev.HasSender && m.hasSender {
		ev.SetSender(m.sender)
	}
	if ev.Size == 0 {
		ev.Size = m.size
	}
	if ev.RecipientCount == 0 {
		ev.RecipientCount = m.nrcpt
	}
	fill(&ev.MessageID, m.messageID)
	fill(&ev.SrcIP, m.srcIP)
	fill(&ev.SrcHost, m.srcHost)
	fill(&ev.Helo, m.helo)
	fill(&ev.AuthUser, m.authUser)
	fill(&ev.Subject, m.subject)
	if len(ev.Attachments) == 0 && len(m.attachments) > 0 {
		// A copy: the event is owned by the receiver, and the state may
		// still change (a later Content-Type fills in a type).
		ev.Attachments = slices.Clone(m.attachments)
	}
}

func fill(dst *string, v string) {
	if *dst == "" {
		*dst = v
	}
}

// tick advances the parser's notion of now (the newest event time seen) and
// sweeps messages older than MaxQueueAge. Event time, not wall time, so that
// reading a year-old archive behaves like following the live log did. The
// sweep runs every maxAge/8 of event time, which keeps the per-line cost at
// one comparison.
func (p *Parser) tick(t time.Time) {
	if t.After(p.now) {
		p.now = t
	}
	if p.lastSweep.IsZero() {
		p.lastSweep = p.now
		return
	}
	if p.now.Sub(p.lastSweep) < p.sweepEvery {
		return
	}
	p.lastSweep = p.now
	cutoff := p.now.Add(-p.maxAge)
	for id, m := range p.queue {
		if m.last.Before(cutoff) {
			delete(p.queue, id)
			p.flushedIncomplete++
		}
	}
}

package exim

import (
	"strings"
	"time"

	"github.com/detect-dev/detect/schema"
)

// message is what the parser knows about one queued message from its `<=`
// line. Strings are cloned out of the log line: state can live for hours,
// and it should not pin whole lines in memory.
type message struct {
	sender    string
	hasSender bool
	size      int64
	nrcpt     int
	messageID string
	srcIP     string
	srcHost   string
	helo      string
	authUser  string
	subject   string
	protocol  string
	arrival   time.Time
	last      time.Time // event time of the last line about it
}

// begin returns fresh state for a message whose `<=` line this is.
func (p *Parser) begin(id string) *message {
	if m := p.queue[id]; m != nil {
		*m = message{last: p.now}
		return m
	}
	m := &message{last: p.now}
	p.queue[strings.Clone(id)] = m
	if n := len(p.queue); n > p.peak {
		p.peak = n
	}
	return m
}

// lookup returns the state of a message, or nil.
func (p *Parser) lookup(id string) *message {
	m := p.queue[id]
	if m != nil {
		m.last = p.now
	}
	return m
}

// join copies the message's fields into an event where the line itself did
// not provide them.
func (m *message) join(ev *schema.Event) {
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
	fill(&ev.Protocol, m.protocol)
}

func fill(dst *string, v string) {
	if *dst == "" {
		*dst = v
	}
}

// tick advances the parser's notion of now (the newest event time seen) and
// sweeps messages older than MaxQueueAge, every maxAge/8 of event time.
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

package sendmail

import (
	"strings"
	"time"

	"github.com/detect-dev/detect/schema"
)

// message is what the parser knows about one queued message from its from=
// line (and an AUTH=server line before it). Strings are cloned out of the
// log line.
type message struct {
	sender    string
	hasSender bool
	size      int64
	nrcpt     int
	messageID string
	protocol  string
	srcIP     string
	srcHost   string
	authUser  string
	finals    int       // recipients with a final outcome (sent or bounced)
	done      bool      // all recipients final, or "done" logged
	last      time.Time // event time of the last line about it
}

// lookup returns the state of a message, creating it when create is set.
func (p *Parser) lookup(id string, create bool) *message {
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

// finish marks a message as done: its state stays for doneGrace, for lines
// that arrive late, and is then dropped without being counted as
// incomplete.
func (m *message) finish(now time.Time) {
	m.done = true
	m.last = now
}

// join copies the message's fields into an event where the line itself did
// not provide them.
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
	fill(&ev.Protocol, m.protocol)
	fill(&ev.SrcIP, m.srcIP)
	fill(&ev.SrcHost, m.srcHost)
	fill(&ev.AuthUser, m.authUser)
}

func fill(dst *string, v string) {
	if *dst == "" {
		*dst = v
	}
}

// tick advances the parser's notion of now (the newest event time seen) and
// sweeps finished messages after doneGrace and unfinished ones after
// MaxQueueAge.
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
	doneCutoff := p.now.Add(-doneGrace)
	cutoff := p.now.Add(-p.maxAge)
	for id, m := range p.queue {
		switch {
		case m.done && m.last.Before(doneCutoff):
			delete(p.queue, id)
		case !m.done && m.last.Before(cutoff):
			delete(p.queue, id)
			p.flushedIncomplete++
		}
	}
}

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
	id          string // the queue id, the map key (cloned once)
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
	// begun is set by the message's first line (smtpd client=, pickup);
	// inherited when a content filter's hop linked the state to the
	// message it came from before that line arrived (see begin).
	begun, inherited bool
}

// linkWindow is how long state made by a content-filter link waits for the
// re-injected message's own first line. That line and the hop's delivery
// line are written within one SMTP transaction, in either order; a queue id
// that turns up later than this is a new message.
const linkWindow = 10 * time.Minute

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
	if p.maxPending > 0 && len(p.queue) >= p.maxPending {
		p.evictOldest()
	}
	key := strings.Clone(id)
	m := &message{id: key, last: p.now}
	p.queue[key] = m
	if n := len(p.queue); n > p.peak {
		p.peak = n
	}
	return m
}

// begin returns fresh state for a message whose first line this is
// (smtpd's client=, pickup's uid=). Short hex queue ids are reused once a
// message is gone; if its "removed" line was missed, the stale state must
// not leak into the new message. State that a content filter's hop has just
// linked (the hop's line came first) is this message's, and is kept.
func (p *Parser) begin(id string) *message {
	if m := p.queue[id]; m != nil {
		if !m.inherited || m.begun || p.now.Sub(m.last) > linkWindow {
			*m = message{id: m.id}
		}
		m.last, m.begun, m.inherited = p.now, true, false
		return m
	}
	m := p.msg(id, true)
	m.begun = true
	return m
}

// link carries what the message before a content filter (x, possibly
// unknown) knew about its sender over to the message the filter re-injected
// as newID, and returns the latter's state. The re-injected message keeps
// what it has of its own, except that the filter's loopback client (and the
// HELO that came with it) gives way to the real one: so the result is the
// same whichever of its lines and the linking line comes first. It returns
// nil when the re-injected message has already come and gone: its
// deliveries are out, and new state would only wait to be swept.
func (p *Parser) link(x *message, newID string) *message {
	y := p.msg(newID, false)
	if y == nil {
		if p.goneRecently(newID) {
			return nil
		}
		y = p.msg(newID, true)
	}
	if !y.begun {
		y.inherited = true
	}
	if x == nil || x == y {
		return y
	}
	y.inheritClient(x.srcHost, x.srcIP, x.helo)
	y.setIfEmpty(&y.authUser, x.authUser)
	y.setIfEmpty(&y.subject, x.subject)
	y.setIfEmpty(&y.messageID, x.messageID)
	for _, a := range x.attachments {
		y.addAttachment(a.Name, a.Type)
	}
	return y
}

// inheritClient takes the client of the message before a content filter: a
// real (non-loopback) client replaces an absent or loopback one, together
// with its HELO; otherwise only what is missing is filled in.
func (m *message) inheritClient(host, ip, helo string) {
	if ip != "" && !isLoopback(ip) && (m.srcIP == "" || isLoopback(m.srcIP)) {
		m.srcIP, m.srcHost = strings.Clone(ip), strings.Clone(host)
		if helo != "" {
			m.helo = strings.Clone(helo)
		}
		return
	}
	if m.srcIP == "" && ip != "" {
		m.srcIP, m.srcHost = strings.Clone(ip), strings.Clone(host)
	}
	m.setIfEmpty(&m.helo, helo)
}

// drop forgets a message that left the queue, and remembers for a while
// that it did (see link).
func (p *Parser) drop(id string) {
	m := p.queue[id]
	if m == nil {
		return
	}
	p.gone[p.goneNext] = goneID{id: m.id, at: p.now}
	p.goneNext = (p.goneNext + 1) % len(p.gone)
	delete(p.queue, id)
}

// recentGone is how many removed queue ids the parser remembers. A filter
// hop's line can come after the re-injected message was already delivered
// and removed (a fast local delivery); only a few other messages leave the
// queue in between.
const recentGone = 64

type goneID struct {
	id string
	at time.Time
}

// goneRecently reports whether id left the queue within linkWindow.
func (p *Parser) goneRecently(id string) bool {
	for i := range p.gone {
		if g := &p.gone[i]; g.id == id && p.now.Sub(g.at) <= linkWindow {
			return true
		}
	}
	return false
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
// replaced by the real client when the filter hop links the message to the
// one it came from (see link); it never replaces a real client.
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

// evictOldest makes room under maxPending for a new message: it flushes the
// least recently active messages, a tenth of the cap more than needed, so
// that the sort it costs is paid once per that many new messages.
func (p *Parser) evictOldest() {
	n := len(p.queue) - p.maxPending + 1 + p.maxPending/10
	if n <= 0 {
		return
	}
	if n >= len(p.queue) {
		p.flushedIncomplete += len(p.queue)
		clear(p.queue)
		return
	}
	times := p.evictBuf[:0]
	for _, m := range p.queue {
		times = append(times, m.last)
	}
	slices.SortFunc(times, time.Time.Compare)
	cutoff := times[n-1]
	p.evictBuf = times[:0]
	removed := 0
	for id, m := range p.queue {
		if m.last.Before(cutoff) {
			delete(p.queue, id)
			removed++
		}
	}
	// Ties at the cutoff: as many as still needed, in map order.
	for id, m := range p.queue {
		if removed >= n {
			break
		}
		if m.last.Equal(cutoff) {
			delete(p.queue, id)
			removed++
		}
	}
	p.flushedIncomplete += removed
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

// Package postfixgen writes synthetic Postfix logs for benchmarks and tests:
// seeded (the same Config gives the same bytes), in time order, with the
// true counts of what it wrote.
//
// The log is what the syslog of a small mail site looks like: several
// hosts writing to one file; many messages in flight at once, so the lines
// of different queue ids interleave; postscreen, TLS, anvil and connection
// noise; inbound mail through a content filter (amavis) and local
// submissions; outbound mail from SASL-authenticated users with deferrals
// retried on Postfix's back-off schedule, bounces and their non-delivery
// notifications; NOQUEUE rejects (relay attempts, unknown users, DNSBL,
// reverse DNS, HELO); background SASL password guessing; and header_checks
// WARN lines with subjects and attachment names. Senders and recipients
// follow Zipf laws, so a few bulk senders and busy mailboxes dominate, as
// they do in real traffic, and traffic follows the time of day.
//
// Addresses and names use reserved domains (.example) and non-routable
// address blocks (documentation ranges, 198.18.0.0/15 benchmarking, 10/8).
//
// A Plant adds attacks the stateful rules should catch: one compromised
// account sending a burst of messages, and a SASL brute force.
package postfixgen

import (
	"bufio"
	"fmt"
	"io"
	"math/rand/v2"
	"time"
)

// Config describes a log to generate.
type Config struct {
	// Lines is about how many lines to write: no session starts once it is
	// reached, and the sessions in flight finish.
	Lines int
	// Seed of the random source.
	Seed uint64
	// Start is the time of the first session.
	Start time.Time
	// Span is about how long the log covers (traffic is spread over it).
	Span time.Duration
	// Hosts is how many mail servers write to the log (mx1, mx2, ...);
	// 0 means 3.
	Hosts int
	// Plant, when not zero, adds attacks at Plant.At.
	Plant Plant
}

// Plant describes planted attacks.
type Plant struct {
	// SenderBurst is how many messages the compromised account
	// PlantSender sends within BurstWindow, each to two outside
	// recipients. 0 plants none.
	SenderBurst int
	// SASLFailures is how many failed logins PlantSASLClient makes within
	// SASLWindow, cycling through user names. 0 plants none.
	SASLFailures int
	// At is when both start; zero means the middle of the span.
	At time.Time
}

// The planted attacks' identities and windows, for tests that look for them.
const (
	PlantSender     = "j.miller@corp.example"
	PlantSenderIP   = "198.18.250.7"
	PlantSASLClient = "198.18.251.9"
	BurstWindow     = 5 * time.Minute
	SASLWindow      = 90 * time.Second
)

// DefaultPlant is what `detect gen --plant-burst` plants: far above the
// thresholds of the shipped sender burst (100 in 10 minutes) and SASL brute
// force (10 in 2 minutes) rules.
var DefaultPlant = Plant{SenderBurst: 150, SASLFailures: 40}

// Counts are the true counts of a generated log.
type Counts struct {
	Lines int
	// Messages accepted into a queue: from smtpd (Inbound from other
	// servers, Outbound from authenticated users) and pickup (local
	// submissions), not counting Notifications, Postfix's bounce messages,
	// nor the copies a content filter re-injects (FilterReinjected).
	Inbound, Outbound, Pickup int
	Notifications             int
	FilterHandoffs            int // recipient hand-offs to the content filter (status=sent to 127.0.0.1:10024)
	FilterReinjected          int // messages the content filter queued again
	FilterVerdicts            int // amavis verdict lines (one per message filtered)
	FilterBlocked             int // of which Blocked (spam, banned attachments)
	Delivered                 int // status=sent lines, hand-offs to the filter included
	Deferrals                 int // status=deferred lines
	DeferredMessages          int // messages with at least one deferral
	Bounced                   int // status=bounced lines (notifications not counted)
	Rejected                  int // NOQUEUE rejects, smtpd and postscreen
	AuthFailures              int // SASL authentication failed lines
	AuthSuccesses             int // client= lines with sasl_username
	Subjects                  int // header_checks Subject lines
	Attachments               int // header_checks lines naming an attachment
	PlantedBurst              int // messages of the planted sender burst (in Outbound)
	PlantedFailures           int // failed logins of the planted brute force (in AuthFailures)
}

// Received is the number of messages accepted from outside the mail system.
func (c Counts) Received() int { return c.Inbound + c.Outbound + c.Pickup }

// WriteTo prints the counts as `detect gen` does on stderr, one figure a
// line.
func (c Counts) WriteTo(w io.Writer) (int64, error) {
	n, err := fmt.Fprintf(w, `lines %d
received %d (smtpd %d: %d inbound, %d outbound; pickup %d; plus %d bounce notifications)
delivered %d (of which %d to the content filter, which queued %d messages again)
filter verdicts %d (%d blocked)
deferred %d messages (%d deferrals)
bounced %d
rejected %d
auth failures %d, successes %d
header_checks: %d subjects, %d attachments
planted: sender burst %d messages, SASL brute force %d failures
`, c.Lines, c.Received(), c.Inbound+c.Outbound, c.Inbound, c.Outbound, c.Pickup, c.Notifications,
		c.Delivered, c.FilterHandoffs, c.FilterReinjected, c.FilterVerdicts, c.FilterBlocked,
		c.DeferredMessages, c.Deferrals, c.Bounced, c.Rejected, c.AuthFailures, c.AuthSuccesses,
		c.Subjects, c.Attachments, c.PlantedBurst, c.PlantedFailures)
	return int64(n), err
}

// linesPerSession is the mean number of lines a session writes with the
// mix of session kinds below (measured); it turns Lines and Span into an
// arrival rate.
const linesPerSession = 6.1

// Generate writes the log described by cfg to w and returns its counts.
func Generate(w io.Writer, cfg Config) (Counts, error) {
	if cfg.Lines <= 0 {
		return Counts{}, fmt.Errorf("postfixgen: Lines must be positive, not %d", cfg.Lines)
	}
	if cfg.Span <= 0 {
		cfg.Span = 7 * 24 * time.Hour
	}
	if cfg.Hosts <= 0 {
		cfg.Hosts = 3
	}
	if cfg.Start.IsZero() {
		cfg.Start = time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC)
	}
	bw := bufio.NewWriterSize(w, 1<<20)
	g := newGen(bw, cfg)
	// Sessions arrive as a Poisson process whose rate follows the time
	// of day; meanStep is the mean gap at the average rate.
	meanStep := float64(cfg.Span) / (float64(cfg.Lines) / linesPerSession)
	plantAt := cfg.Plant.At
	if plantAt.IsZero() {
		plantAt = cfg.Start.Add(cfg.Span / 2)
	}
	planted := cfg.Plant == (Plant{})
	now := cfg.Start
	for g.counts.Lines+g.queue.Len() < cfg.Lines {
		gap := g.rng.ExpFloat64() * meanStep / diurnal(now)
		now = now.Add(time.Duration(gap) + 1)
		if !planted && !now.Before(plantAt) {
			g.plant(plantAt, cfg.Plant)
			planted = true
		}
		g.flushUntil(now)
		g.session(now)
	}
	if !planted {
		g.plant(plantAt, cfg.Plant)
	}
	g.flushUntil(time.Time{})
	if g.err != nil {
		return g.counts, g.err
	}
	return g.counts, bw.Flush()
}

// diurnal is the relative traffic rate at t (mean about 1 over a day):
// quiet at night, busiest in office hours.
func diurnal(t time.Time) float64 {
	h := float64(t.Hour()) + float64(t.Minute())/60
	switch {
	case h < 6:
		return 0.35
	case h < 8:
		return 0.35 + (h-6)*0.55
	case h < 18:
		return 1.45
	case h < 22:
		return 1.45 - (h-18)*0.25
	}
	return 0.45
}

// gen is the state of one generation.
type gen struct {
	w     *bufio.Writer
	err   error
	rng   *rand.Rand
	cfg   Config
	hosts []*host
	queue lineQueue
	// written is the time of the last line written (Unix nanoseconds).
	written int64
	counts  Counts
	buf     []byte // the line being written

	remoteSender, localUser, remoteRecipient *rand.Zipf
}

func newGen(w *bufio.Writer, cfg Config) *gen {
	rng := rand.New(rand.NewPCG(cfg.Seed, 0x706f7374666978))
	g := &gen{w: w, rng: rng, cfg: cfg, buf: make([]byte, 0, 1024)}
	for i := range cfg.Hosts {
		g.hosts = append(g.hosts, newHost(i, rng))
	}
	g.remoteSender = rand.NewZipf(rng, 1.1, 2, numRemoteSenders-1)
	g.localUser = rand.NewZipf(rng, 1.05, 5, numLocalUsers-1)
	g.remoteRecipient = rand.NewZipf(rng, 1.1, 3, numRemoteSenders-1)
	return g
}

// emit schedules a line of h's at time t: "prog[pid]: text". A line
// scheduled before what was already written is written now instead: the
// log stays in time order whatever the sessions ask for.
func (g *gen) emit(h *host, t time.Time, prog string, pid int, text string) {
	at := max(t.UnixNano(), g.written)
	g.queue.push(pending{at: at, host: h.index, prog: prog, pid: pid, text: text})
}

// flushUntil writes the scheduled lines up to t in time order (all of them
// when t is zero).
func (g *gen) flushUntil(t time.Time) {
	limit := t.UnixNano()
	for g.queue.Len() > 0 {
		if !t.IsZero() && g.queue.peek().at > limit {
			return
		}
		g.write(g.queue.pop())
	}
}

// write formats one line as rsyslog does with high-precision stamps.
func (g *gen) write(p pending) {
	g.written = p.at
	b := time.Unix(0, p.at).UTC().AppendFormat(g.buf[:0], "2006-01-02T15:04:05.000000-07:00")
	b = append(b, ' ')
	b = append(b, g.hosts[p.host].name...)
	b = append(b, ' ')
	b = append(b, p.prog...)
	if p.pid > 0 {
		b = append(b, '[')
		b = appendInt(b, p.pid)
		b = append(b, ']')
	}
	b = append(b, ": "...)
	b = append(b, p.text...)
	b = append(b, '\n')
	g.buf = b
	if g.err == nil {
		_, g.err = g.w.Write(b)
	}
	g.counts.Lines++
}

func appendInt(b []byte, n int) []byte {
	if n >= 10 {
		b = appendInt(b, n/10)
	}
	return append(b, byte('0'+n%10))
}

// pending is a scheduled line.
type pending struct {
	at   int64 // Unix nanoseconds
	seq  uint64
	host int
	prog string
	pid  int
	text string
}

// lineQueue is a min-heap of scheduled lines by time, then by scheduling
// order, so that lines of the same instant keep the order they were made
// in and the output does not depend on the heap's shape.
type lineQueue struct {
	items []pending
	seq   uint64
}

func (q *lineQueue) Len() int       { return len(q.items) }
func (q *lineQueue) peek() *pending { return &q.items[0] }

func (q *lineQueue) less(i, j int) bool {
	a, b := &q.items[i], &q.items[j]
	return a.at < b.at || a.at == b.at && a.seq < b.seq
}

func (q *lineQueue) push(p pending) {
	q.seq++
	p.seq = q.seq
	q.items = append(q.items, p)
	for i := len(q.items) - 1; i > 0; {
		parent := (i - 1) / 2
		if !q.less(i, parent) {
			break
		}
		q.items[i], q.items[parent] = q.items[parent], q.items[i]
		i = parent
	}
}

func (q *lineQueue) pop() pending {
	top := q.items[0]
	n := len(q.items) - 1
	q.items[0] = q.items[n]
	q.items[n] = pending{}
	q.items = q.items[:n]
	for i := 0; ; {
		l, r, m := 2*i+1, 2*i+2, i
		if l < n && q.less(l, m) {
			m = l
		}
		if r < n && q.less(r, m) {
			m = r
		}
		if m == i {
			return top
		}
		q.items[i], q.items[m] = q.items[m], q.items[i]
		i = m
	}
}

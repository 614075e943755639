// Command genpostfix writes a synthetic Postfix log of about -lines lines to
// stdout (RFC 3339 timestamps, as rsyslog writes them) and its true counts
// to stderr, for benchmarks and for comparing detect report with pflogsumm.
//
// The log mixes what a busy mail relay logs: postscreen and TLS noise,
// messages received by smtpd (some submitted with SASL, some rejected
// before queueing), local submissions by pickup, several recipients per
// message, deferrals later delivered, bounces with their non-delivery
// notifications, hand-offs to a content filter on 127.0.0.1:10024 that
// re-injects through a 10025 smtpd, and SASL failures. It is seeded, so the
// same flags give the same log.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"time"
)

type truth struct {
	lines                       int
	received, receivedSMTPD     int // messages accepted from outside (smtpd client= and pickup)
	receivedPickup              int
	notifications               int // bounce notifications (postfix-generated messages)
	deliveries, filterHandoffs  int // recipient deliveries; deliveries to the content filter
	deferrals, deferredMessages int
	bounces, rejects, authFails int
}

type gen struct {
	w     *bufio.Writer
	rng   *rand.Rand
	t     time.Time
	host  string
	qid   int
	pid   int
	truth truth
}

func (g *gen) line(proc string, format string, args ...any) {
	g.w.WriteString(g.t.Format("2006-01-02T15:04:05.000000-07:00"))
	g.w.WriteString(" " + g.host + " postfix/" + proc + ": ")
	fmt.Fprintf(g.w, format, args...)
	g.w.WriteByte('\n')
	g.truth.lines++
}

func (g *gen) tick(max time.Duration) { g.t = g.t.Add(time.Duration(g.rng.Int64N(int64(max)) + 1)) }

func (g *gen) newQID() string {
	g.qid++
	return fmt.Sprintf("%010X", 0x3A00000000+g.qid)
}

func (g *gen) newPID() int {
	g.pid++
	return 10000 + g.pid%50000
}

var (
	localDomains  = []string{"corp.example", "corp-mail.example"}
	remoteDomains = []string{"example.org", "example.net", "partner.example", "vendor.example", "mail.example.com", "shop.example", "news.example", "bank.example"}
	clients       = 2000
)

func (g *gen) addr(local bool) string {
	if local {
		return fmt.Sprintf("user%d@%s", g.rng.IntN(3000), localDomains[g.rng.IntN(len(localDomains))])
	}
	return fmt.Sprintf("u%d@%s", g.rng.IntN(20000), remoteDomains[g.rng.IntN(len(remoteDomains))])
}

func (g *gen) client() (string, string) {
	n := g.rng.IntN(clients)
	return fmt.Sprintf("mail%d.example.net", n), fmt.Sprintf("198.51.%d.%d", n/250, n%250+1)
}

func (g *gen) noise() {
	_, ip := g.client()
	switch g.rng.IntN(4) {
	case 0:
		g.line("postscreen[811]", "CONNECT from [%s]:%d to [192.0.2.10]:25", ip, 30000+g.rng.IntN(30000))
		g.line("postscreen[811]", "PASS OLD [%s]:%d", ip, 30000+g.rng.IntN(30000))
	case 1:
		g.line(fmt.Sprintf("smtpd[%d]", g.newPID()), "Anonymous TLS connection established from unknown[%s]: TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits)", ip)
	case 2:
		g.line(fmt.Sprintf("anvil[%d]", 900), "statistics: max connection rate 3/60s for (smtp:%s) at %s", ip, g.t.Format("Jan _2 15:04:05"))
	case 3:
		g.line(fmt.Sprintf("smtpd[%d]", g.newPID()), "lost connection after CONNECT from unknown[%s]", ip)
	}
}

// deliver logs the delivery of one recipient and returns its outcome.
func (g *gen) deliver(qid, rcpt string, local bool) string {
	proc, relay := "smtp", "mx.remote.example[203.0.113.25]:25"
	if local {
		proc, relay = "lmtp", "mailstore.corp.example[private/dovecot-lmtp]"
	}
	pid := g.newPID()
	r := g.rng.IntN(100)
	switch {
	case r < 4 && !local: // deferred, then delivered later
		g.tick(2 * time.Second)
		g.line(fmt.Sprintf("%s[%d]", proc, pid), "%s: to=<%s>, relay=none, delay=30, delays=0.1/0/30/0, dsn=4.4.1, status=deferred (connect to mx.remote.example[203.0.113.25]:25: Connection timed out)", qid, rcpt)
		g.truth.deferrals++
		g.tick(5 * time.Second)
		g.line(fmt.Sprintf("%s[%d]", proc, pid), "%s: to=<%s>, relay=%s, delay=330, delays=300/0.1/0.3/0.2, dsn=2.0.0, status=sent (250 2.0.0 Ok: queued as ABC)", qid, rcpt, relay)
		g.truth.deliveries++
		return "deferred"
	case r < 6 && !local:
		g.tick(2 * time.Second)
		g.line(fmt.Sprintf("%s[%d]", proc, pid), "%s: to=<%s>, relay=%s, delay=1.2, delays=0.1/0/0.5/0.6, dsn=5.1.1, status=bounced (host mx.remote.example[203.0.113.25] said: 550 5.1.1 <%s>: Recipient address rejected: User unknown (in reply to RCPT TO command))", qid, rcpt, relay, rcpt)
		g.truth.bounces++
		return "bounced"
	}
	g.tick(2 * time.Second)
	g.line(fmt.Sprintf("%s[%d]", proc, pid), "%s: to=<%s>, relay=%s, delay=0.4, delays=0.1/0/0.1/0.2, dsn=2.0.0, status=sent (250 2.0.0 Ok)", qid, rcpt, relay)
	g.truth.deliveries++
	return "sent"
}

// message logs one queued message from receipt to removal.
func (g *gen) message() {
	qid := g.newQID()
	sender := g.addr(false)
	outbound := g.rng.IntN(4) == 0
	pickup := g.rng.IntN(20) == 0
	smtpdPID := g.newPID()
	name, ip := g.client()
	switch {
	case pickup:
		sender = fmt.Sprintf("cron%d@%s", g.rng.IntN(5), localDomains[0])
		g.line(fmt.Sprintf("pickup[%d]", g.newPID()), "%s: uid=0 from=<%s>", qid, sender[:len("cronX")])
		g.truth.receivedPickup++
	default:
		if outbound {
			sender = g.addr(true)
			name, ip = fmt.Sprintf("ws%d.corp.example", g.rng.IntN(200)), fmt.Sprintf("10.0.%d.%d", g.rng.IntN(4), g.rng.IntN(250)+1)
		}
		g.line(fmt.Sprintf("smtpd[%d]", smtpdPID), "connect from %s[%s]", name, ip)
		g.tick(300 * time.Millisecond)
		if outbound {
			g.line(fmt.Sprintf("smtpd[%d]", smtpdPID), "%s: client=%s[%s], sasl_method=PLAIN, sasl_username=%s", qid, name, ip, sender)
		} else {
			g.line(fmt.Sprintf("smtpd[%d]", smtpdPID), "%s: client=%s[%s]", qid, name, ip)
		}
		g.truth.receivedSMTPD++
	}
	g.truth.received++
	nrcpt := 1 + g.rng.IntN(3)
	size := 1000 + g.rng.IntN(200000)
	cleanupPID := g.newPID()
	g.tick(100 * time.Millisecond)
	g.line(fmt.Sprintf("cleanup[%d]", cleanupPID), "%s: message-id=<%s.%d@%s>", qid, qid, g.qid, "mail.example")
	g.line("qmgr[900]", "%s: from=<%s>, size=%d, nrcpt=%d (queue active)", qid, sender, size, nrcpt)
	if !pickup {
		g.line(fmt.Sprintf("smtpd[%d]", smtpdPID), "disconnect from %s[%s] ehlo=1 mail=1 rcpt=%d data=1 quit=1 commands=%d", name, ip, nrcpt, 4+nrcpt)
	}
	rcpts := make([]string, nrcpt)
	for i := range rcpts {
		rcpts[i] = g.addr(!outbound)
	}
	// A fifth of inbound mail goes through the content filter first.
	if !outbound && !pickup && g.rng.IntN(5) == 0 {
		fq := g.newQID()
		g.tick(time.Second)
		for _, r := range rcpts {
			g.line(fmt.Sprintf("smtp[%d]", g.newPID()), "%s: to=<%s>, relay=127.0.0.1[127.0.0.1]:10024, delay=0.9, delays=0.1/0/0/0.8, dsn=2.0.0, status=sent (250 2.0.0 from MTA(smtp:[127.0.0.1]:10025): 250 2.0.0 Ok: queued as %s)", qid, r, fq)
			g.truth.deliveries++
			g.truth.filterHandoffs++
		}
		g.line("qmgr[900]", "%s: removed", qid)
		p := g.newPID()
		g.line(fmt.Sprintf("10025/smtpd[%d]", p), "connect from localhost[127.0.0.1]")
		g.line(fmt.Sprintf("10025/smtpd[%d]", p), "%s: client=localhost[127.0.0.1]", fq)
		g.line(fmt.Sprintf("cleanup[%d]", cleanupPID), "%s: message-id=<%s.%d@%s>", fq, qid, g.qid, "mail.example")
		g.line("qmgr[900]", "%s: from=<%s>, size=%d, nrcpt=%d (queue active)", fq, sender, size+900, nrcpt)
		g.line(fmt.Sprintf("10025/smtpd[%d]", p), "disconnect from localhost[127.0.0.1] ehlo=1 mail=1 rcpt=%d data=1 quit=1 commands=%d", nrcpt, 4+nrcpt)
		qid = fq
	}
	deferred, bounced := false, false
	for _, r := range rcpts {
		switch g.deliver(qid, r, !outbound) {
		case "deferred":
			deferred = true
		case "bounced":
			bounced = true
		}
	}
	if deferred {
		g.truth.deferredMessages++
	}
	if bounced && sender != "" {
		nq := g.newQID()
		g.line(fmt.Sprintf("cleanup[%d]", cleanupPID), "%s: message-id=<%s@mail.corp.example>", nq, nq)
		g.line(fmt.Sprintf("bounce[%d]", g.newPID()), "%s: sender non-delivery notification: %s", qid, nq)
		g.line("qmgr[900]", "%s: from=<>, size=%d, nrcpt=1 (queue active)", nq, 3000+g.rng.IntN(2000))
		g.truth.notifications++
		local := false
		for _, d := range localDomains {
			if len(sender) > len(d) && sender[len(sender)-len(d):] == d {
				local = true
			}
		}
		g.tick(time.Second)
		relay, proc := "mx.remote.example[203.0.113.25]:25", "smtp"
		if local {
			relay, proc = "mailstore.corp.example[private/dovecot-lmtp]", "lmtp"
		}
		g.line(fmt.Sprintf("%s[%d]", proc, g.newPID()), "%s: to=<%s>, relay=%s, delay=0.2, delays=0/0/0.1/0.1, dsn=2.0.0, status=sent (250 2.0.0 Ok)", nq, sender, relay)
		g.truth.deliveries++
		g.line("qmgr[900]", "%s: removed", nq)
	}
	g.line("qmgr[900]", "%s: removed", qid)
}

func (g *gen) reject() {
	name, ip := g.client()
	pid := g.newPID()
	g.line(fmt.Sprintf("smtpd[%d]", pid), "connect from unknown[%s]", ip)
	if g.rng.IntN(2) == 0 {
		g.line(fmt.Sprintf("smtpd[%d]", pid), "NOQUEUE: reject: RCPT from unknown[%s]: 554 5.7.1 <%s>: Relay access denied; from=<%s> to=<%s> proto=ESMTP helo=<%s>", ip, g.addr(false), g.addr(false), g.addr(false), name)
	} else {
		g.line(fmt.Sprintf("smtpd[%d]", pid), "NOQUEUE: reject: RCPT from unknown[%s]: 450 4.7.1 Client host rejected: cannot find your reverse hostname, [%s]; from=<%s> to=<%s> proto=ESMTP helo=<%s>", ip, ip, g.addr(false), g.addr(true), name)
	}
	g.truth.rejects++
	g.line(fmt.Sprintf("smtpd[%d]", pid), "disconnect from unknown[%s] ehlo=1 mail=1 rcpt=0/1 quit=1 commands=3/4", ip)
}

func (g *gen) authFailure() {
	_, ip := g.client()
	pid := g.newPID()
	g.line(fmt.Sprintf("submission/smtpd[%d]", pid), "warning: unknown[%s]: SASL LOGIN authentication failed: UGFzc3dvcmQ6, sasl_username=admin@%s", ip, localDomains[0])
	g.truth.authFails++
}

func main() {
	lines := flag.Int("lines", 2_000_000, "about how many lines to write")
	seed := flag.Uint64("seed", 1, "random seed")
	start := flag.String("start", "2026-11-23T00:00:00Z", "time of the first line (RFC 3339)")
	days := flag.Float64("days", 7, "days the log spans")
	flag.Parse()
	t0, err := time.Parse(time.RFC3339, *start)
	if err != nil {
		fmt.Fprintln(os.Stderr, "genpostfix: -start:", err)
		os.Exit(2)
	}
	w := bufio.NewWriterSize(os.Stdout, 1<<20)
	g := &gen{w: w, rng: rand.New(rand.NewPCG(*seed, 7)), t: t0, host: "mx1"}
	// A step writes about 7 lines on average: this spreads the log over
	// the days asked for.
	step := time.Duration(*days * float64(24*time.Hour) / float64(*lines) * 7.2 * 2)
	for g.truth.lines < *lines {
		g.t = g.t.Add(time.Duration(g.rng.Int64N(int64(step) + 1)))
		if g.rng.IntN(10) == 0 {
			g.host = "mx2"
		} else {
			g.host = "mx1"
		}
		switch r := g.rng.IntN(100); {
		case r < 45:
			g.noise()
		case r < 80:
			g.message()
		case r < 97:
			g.reject()
		default:
			g.authFailure()
		}
	}
	if err := w.Flush(); err != nil {
		fmt.Fprintln(os.Stderr, "genpostfix:", err)
		os.Exit(1)
	}
	tr := g.truth
	fmt.Fprintf(os.Stderr, "lines %d\nreceived %d (smtpd %d, pickup %d; plus %d bounce notifications)\ndelivered %d (of which %d to the content filter)\ndeferred %d messages (%d deferrals)\nbounced %d\nrejected %d\nauth failures %d\n",
		tr.lines, tr.received, tr.receivedSMTPD, tr.receivedPickup, tr.notifications, tr.deliveries, tr.filterHandoffs, tr.deferredMessages, tr.deferrals, tr.bounces, tr.rejects, tr.authFails)
}

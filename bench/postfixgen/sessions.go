package postfixgen

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// session starts one client session (or a local submission) at t on a
// host picked by its share of the traffic. The shares of the kinds give
// a log where about one line in seven is an event, as in the logs of a
// small site behind postscreen.
func (g *gen) session(t time.Time) {
	h := g.pickHost()
	g.statistics(h, t)
	switch r := g.rng.IntN(1000); {
	case r < 300:
		g.postscreenOnly(h, t)
	case r < 540:
		g.inbound(h, t)
	case r < 610:
		g.outbound(h, t)
	case r < 625:
		g.pickup(h, t)
	case r < 680:
		g.rejected(h, t)
	case r < 720:
		g.saslGuess(h, t, botIP(g.rng), g.guessUser(), false)
	default:
		g.connectionNoise(h, t)
	}
}

// tlsEstablished is smtpd's line for a STARTTLS handshake, in the forms
// of older and newer Postfix versions.
func (g *gen) tlsEstablished(client string) string {
	if g.rng.IntN(2) == 0 {
		return "Anonymous TLS connection established from " + client + ": TLSv1.2 with cipher ECDHE-RSA-AES256-GCM-SHA384 (256/256 bits)"
	}
	return "Anonymous TLS connection established from " + client + ": TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits) key-exchange X25519 server-signature RSA-PSS (2048 bits) server-digest SHA256"
}

// pickHost picks mx1 most often, the others less and less.
func (g *gen) pickHost() *host {
	total := 0.0
	for i := range g.hosts {
		total += 1 / float64(i+1)
	}
	x := g.rng.Float64() * total
	for i, h := range g.hosts {
		x -= 1 / float64(i+1)
		if x < 0 {
			return h
		}
	}
	return g.hosts[0]
}

// ms returns a random duration below n milliseconds.
func (g *gen) ms(n int) time.Duration {
	return time.Duration(g.rng.IntN(n*1000)+1) * time.Microsecond
}

func (g *gen) port() int { return 1024 + g.rng.IntN(64000) }

// size draws a message size from a log-normal law (median ~13 kB).
func (g *gen) size() int {
	s := math.Exp(9.5 + 1.3*g.rng.NormFloat64())
	return int(min(max(s, 600), 40e6))
}

// delays formats the delay= and delays= attributes of a delivery that took
// about total seconds.
func (g *gen) delays(total float64) string {
	a := total * g.rng.Float64() * 0.5
	c := (total - a) * g.rng.Float64() * 0.5
	d := total - a - c
	return fmt.Sprintf("delay=%.2g, delays=%.2g/%.2g/%.2g/%.2g", total, a, 0.01, c, d)
}

func (g *gen) messageID(domain string) string {
	return fmt.Sprintf("%08x.%04x@%s", g.rng.Uint32(), g.rng.IntN(1<<16), domain)
}

// recipients returns n distinct recipients drawn by pick.
func recipients(n int, pick func() string) []string {
	out := make([]string, 0, n)
	for len(out) < n {
		r := pick()
		dup := false
		for _, x := range out {
			dup = dup || x == r
		}
		if !dup {
			out = append(out, r)
		}
	}
	return out
}

// rcptCount is 1 mostly, sometimes a few.
func (g *gen) rcptCount() int {
	switch r := g.rng.IntN(100); {
	case r < 72:
		return 1
	case r < 90:
		return 2
	}
	return 3 + g.rng.IntN(4)
}

func (g *gen) localRcpt() string { return localAddress(int(g.localUser.Uint64())) }
func (g *gen) remoteRcpt() string {
	return remoteAddress(len(bulkSenders) + int(g.remoteRecipient.Uint64()))
}

// headerChecks logs the Subject and attachment headers that the site's
// header_checks WARN on, as cleanup writes them.
func (g *gen) headerChecks(h *host, t time.Time, qid, client, sender, rcpt, helo string, attachmentShare int) {
	pid := h.cleanup(g.rng)
	tail := fmt.Sprintf(" from %s; from=<%s> to=<%s> proto=ESMTP helo=<%s>", client, sender, rcpt, helo)
	if g.rng.IntN(100) < 45 {
		g.emit(h, t, "postfix/cleanup", pid, qid+": warning: header Subject: "+subjects[g.rng.IntN(len(subjects))]+tail)
		g.counts.Subjects++
	}
	if g.rng.IntN(100) < attachmentShare {
		name := commonAttachments[g.rng.IntN(len(commonAttachments))]
		if g.rng.IntN(1000) == 0 {
			name = riskyAttachments[g.rng.IntN(len(riskyAttachments))]
		}
		header := "Content-Disposition: attachment; filename=\"" + name + "\""
		if g.rng.IntN(2) == 0 {
			header = "Content-Type: application/octet-stream; name=\"" + name + "\""
		}
		g.emit(h, t.Add(g.ms(2)), "postfix/cleanup", pid, qid+": warning: header "+header+tail)
		g.counts.Attachments++
	}
}

// accept logs what every queued message shares: cleanup's message-id,
// the header checks and qmgr's from= line. It returns the time of the
// qmgr line.
func (g *gen) accept(h *host, t time.Time, qid, client, sender string, rcpts []string, helo, idDomain string, size, attachmentShare int) time.Time {
	t = t.Add(g.ms(80))
	g.emit(h, t, "postfix/cleanup", h.cleanup(g.rng), qid+": message-id=<"+g.messageID(idDomain)+">")
	if client != "" {
		g.headerChecks(h, t, qid, client, sender, rcpts[0], helo, attachmentShare)
	}
	t = t.Add(g.ms(30))
	g.emit(h, t, "postfix/qmgr", h.qmgr, fmt.Sprintf("%s: from=<%s>, size=%d, nrcpt=%d (queue active)", qid, sender, size, len(rcpts)))
	return t
}

// inbound is a message from an outside server to local mailboxes, passing
// postscreen, smtpd and, for a share of it, the content filter.
func (g *gen) inbound(h *host, t time.Time) {
	sender := remoteAddress(int(g.remoteSender.Uint64()))
	name, ip := mailServer(domainOf(sender), g.rng)
	client := name + "[" + ip + "]"
	port := g.port()
	g.emit(h, t, "postfix/postscreen", h.postscreen, fmt.Sprintf("CONNECT from [%s]:%d to [%s]:25", ip, port, h.ip))
	g.emit(h, t.Add(g.ms(3)), "postfix/postscreen", h.postscreen, fmt.Sprintf("PASS OLD [%s]:%d", ip, port))
	pid := h.pid()
	t = t.Add(g.ms(20))
	g.emit(h, t, "postfix/smtpd", pid, "connect from "+client)
	starttls := g.rng.IntN(100) < 85
	if starttls {
		t = t.Add(g.ms(60))
		g.emit(h, t, "postfix/smtpd", pid, g.tlsEstablished(client))
	}
	t = t.Add(g.ms(400))
	qid := h.queueID(t)
	g.emit(h, t, "postfix/smtpd", pid, qid+": client="+client)
	rcpts := recipients(g.rcptCount(), g.localRcpt)
	size := g.size()
	t = g.accept(h, t, qid, client, sender, rcpts, name, domainOf(sender), size, 15)
	cmds := "ehlo=1 mail=1 rcpt=" + strconv.Itoa(len(rcpts)) + " data=1 quit=1 commands=" + strconv.Itoa(4+len(rcpts))
	if starttls {
		cmds = "ehlo=2 starttls=1 mail=1 rcpt=" + strconv.Itoa(len(rcpts)) + " data=1 quit=1 commands=" + strconv.Itoa(6+len(rcpts))
	}
	g.emit(h, t.Add(g.ms(50)), "postfix/smtpd", pid, "disconnect from "+client+" "+cmds)
	g.counts.Inbound++
	if g.rng.IntN(100) < 25 {
		g.contentFilter(h, t, qid, sender, ip, port, rcpts, size)
		return
	}
	g.finish(h, t, qid, sender, rcpts, true)
}

// contentFilter hands an inbound message to amavis on 127.0.0.1:10024,
// which re-injects it through the smtpd on 10025 (or blocks it), and then
// delivers the re-injected copy.
func (g *gen) contentFilter(h *host, t time.Time, qid, sender, ip string, port int, rcpts []string, size int) {
	t = t.Add(g.ms(200))
	h.amavisSeq++
	amavisID := fmt.Sprintf("(%d-%02d)", h.amavis, h.amavisSeq%100)
	rcptList := "<" + strings.Join(rcpts, ">,<") + ">"
	mailID := fmt.Sprintf("%012x", g.rng.Uint64()>>16)
	g.counts.FilterVerdicts++
	if g.rng.IntN(100) < 4 {
		t = t.Add(g.ms(1500))
		g.emit(h, t, "amavis", h.amavis, fmt.Sprintf("%s Blocked SPAM {DiscardedInbound,Quarantined}, [%s]:%d [%s] <%s> -> %s, quarantine: spam-%s, Queue-ID: %s, mail_id: %s, Hits: %.3f, size: %d, %d ms",
			amavisID, ip, port, ip, sender, rcptList, mailID, qid, mailID, 8+g.rng.Float64()*20, size, 500+g.rng.IntN(2000)))
		g.counts.FilterBlocked++
		pid := h.pid()
		for _, r := range rcpts {
			g.emit(h, t.Add(g.ms(5)), "postfix/smtp", pid, fmt.Sprintf("%s: to=<%s>, relay=127.0.0.1[127.0.0.1]:10024, %s, dsn=2.7.0, status=sent (250 2.7.0 Ok, discarded, id=%s - spam)",
				qid, r, g.delays(1.5), strings.Trim(amavisID, "()")))
			g.counts.Delivered++
			g.counts.FilterHandoffs++
		}
		g.emit(h, t.Add(10*time.Millisecond), "postfix/qmgr", h.qmgr, qid+": removed")
		return
	}
	// The re-injection happens while amavis still holds the hop's
	// transaction: its lines come before the verdict and the hop's reply.
	nqid := h.queueID(t)
	p := h.pid()
	t = t.Add(g.ms(600))
	g.emit(h, t, "postfix/10025/smtpd", p, "connect from localhost[127.0.0.1]")
	g.emit(h, t.Add(g.ms(2)), "postfix/10025/smtpd", p, nqid+": client=localhost[127.0.0.1]")
	t = g.accept(h, t.Add(2*time.Millisecond), nqid, "", sender, rcpts, "", domainOf(sender), size+1200, 0)
	g.emit(h, t.Add(g.ms(5)), "postfix/10025/smtpd", p, fmt.Sprintf("disconnect from localhost[127.0.0.1] ehlo=1 mail=1 rcpt=%d data=1 quit=1 commands=%d", len(rcpts), 4+len(rcpts)))
	g.counts.FilterReinjected++
	t = t.Add(g.ms(20))
	g.emit(h, t, "amavis", h.amavis, fmt.Sprintf("%s Passed CLEAN {RelayedInbound}, [%s]:%d [%s] <%s> -> %s, Queue-ID: %s, mail_id: %s, Hits: %.3f, size: %d, queued_as: %s, %d ms",
		amavisID, ip, port, ip, sender, rcptList, qid, mailID, g.rng.Float64()*4-2, size, nqid, 300+g.rng.IntN(1500)))
	pid := h.pid()
	t = t.Add(g.ms(5))
	for _, r := range rcpts {
		g.emit(h, t, "postfix/smtp", pid, fmt.Sprintf("%s: to=<%s>, relay=127.0.0.1[127.0.0.1]:10024, %s, dsn=2.0.0, status=sent (250 2.0.0 from MTA(smtp:[127.0.0.1]:10025): 250 2.0.0 Ok: queued as %s)",
			qid, r, g.delays(0.9), nqid))
		g.counts.Delivered++
		g.counts.FilterHandoffs++
	}
	g.emit(h, t.Add(g.ms(3)), "postfix/qmgr", h.qmgr, qid+": removed")
	g.finish(h, t, nqid, sender, rcpts, true)
}

// outbound is a message submitted by a local user (SASL on the submission
// port) to outside recipients, and now and then a colleague.
func (g *gen) outbound(h *host, t time.Time) {
	sender := g.localRcpt()
	name, ip := workstation(g.rng)
	g.submit(h, t, sender, name, ip, "PLAIN", g.rcptCount(), g.size(), false)
}

// submit logs one authenticated submission and its deliveries.
func (g *gen) submit(h *host, t time.Time, sender, name, ip, mech string, nrcpt, size int, planted bool) {
	client := name + "[" + ip + "]"
	pid := h.pid()
	g.emit(h, t, "postfix/submission/smtpd", pid, "connect from "+client)
	t = t.Add(g.ms(80))
	g.emit(h, t, "postfix/submission/smtpd", pid, g.tlsEstablished(client))
	t = t.Add(g.ms(300))
	qid := h.queueID(t)
	g.emit(h, t, "postfix/submission/smtpd", pid, fmt.Sprintf("%s: client=%s, sasl_method=%s, sasl_username=%s", qid, client, mech, sender))
	g.counts.AuthSuccesses++
	var rcpts []string
	if planted {
		// Every message of the burst goes to fresh addresses.
		for range nrcpt {
			rcpts = append(rcpts, fmt.Sprintf("%s.%d@%s", firstNames[g.rng.IntN(len(firstNames))], g.rng.IntN(1e6), remoteDomains[10+g.rng.IntN(3)]))
		}
	} else {
		rcpts = recipients(nrcpt, func() string {
			if g.rng.IntN(5) == 0 {
				return g.localRcpt()
			}
			return g.remoteRcpt()
		})
	}
	attachments := 25
	if planted {
		attachments = 0
	}
	t = g.accept(h, t, qid, client, sender, rcpts, name, localDomains[0], size, attachments)
	g.emit(h, t.Add(g.ms(40)), "postfix/submission/smtpd", pid, fmt.Sprintf("disconnect from %s ehlo=2 starttls=1 auth=1 mail=1 rcpt=%d data=1 quit=1 commands=%d", client, len(rcpts), 7+len(rcpts)))
	g.counts.Outbound++
	g.finish(h, t, qid, sender, rcpts, false)
}

// pickup is a local submission (cron, a web application) with sendmail.
func (g *gen) pickup(h *host, t time.Time) {
	user, uid := "root", 0
	if g.rng.IntN(3) == 0 {
		user, uid = "www-data", 33
	}
	qid := h.queueID(t)
	g.emit(h, t, "postfix/pickup", h.pid(), fmt.Sprintf("%s: uid=%d from=<%s>", qid, uid, user))
	sender := user + "@" + h.name + "." + localDomains[0]
	rcpts := []string{"sysadmin@" + localDomains[0]}
	if uid != 0 {
		rcpts = []string{g.remoteRcpt()}
	}
	t = g.accept(h, t, qid, "", sender, rcpts, "", h.name+"."+localDomains[0], 800+g.rng.IntN(4000), 0)
	g.counts.Pickup++
	g.finish(h, t, qid, sender, rcpts, false)
}

// finish delivers each recipient of a queued message, with deferrals
// retried on Postfix's back-off schedule and bounces with their
// notifications, and logs "removed" after the last outcome.
func (g *gen) finish(h *host, t time.Time, qid, sender string, rcpts []string, inbound bool) {
	last := t
	deferred := false
	bounceAt := time.Time{}
	for _, r := range rcpts {
		local := inbound || isLocal(r)
		at := t.Add(g.ms(400))
		// Per mille deferred, then bounced: local mailboxes rarely defer
		// (a full mailbox) and hardly bounce.
		deferShare, bounceShare := 50, 20
		if local {
			deferShare, bounceShare = 10, 3
		}
		outcome := g.rng.IntN(1000)
		switch {
		case outcome < deferShare: // deferred, retried
			deferred = true
			backoff := 300 * time.Second
			tries := 1 + g.rng.IntN(4)
			reason := g.deferReason(r)
			for i := range tries {
				if i > 0 {
					g.emit(h, at.Add(-g.ms(50)), "postfix/qmgr", h.qmgr, fmt.Sprintf("%s: from=<%s>, size=%d, nrcpt=%d (queue active)", qid, sender, 1000+g.rng.IntN(50000), len(rcpts)))
				}
				g.delivery(h, at, qid, r, local, "deferred", reason)
				g.counts.Deferrals++
				at = at.Add(backoff + g.ms(60_000))
				backoff = min(backoff*2, 4000*time.Second)
			}
			g.emit(h, at.Add(-g.ms(50)), "postfix/qmgr", h.qmgr, fmt.Sprintf("%s: from=<%s>, size=%d, nrcpt=%d (queue active)", qid, sender, 1000+g.rng.IntN(50000), len(rcpts)))
			if g.rng.IntN(100) < 85 {
				g.delivery(h, at, qid, r, local, "sent", "")
			} else {
				g.delivery(h, at, qid, r, local, "bounced", "host said: 550 5.4.1 Recipient address rejected: Access denied (in reply to RCPT TO command)")
				bounceAt = at
			}
		case outcome < deferShare+bounceShare: // bounced at once
			g.delivery(h, at, qid, r, local, "bounced", "")
			bounceAt = at
		default:
			g.delivery(h, at, qid, r, local, "sent", "")
		}
		if at.After(last) {
			last = at
		}
	}
	if deferred {
		g.counts.DeferredMessages++
	}
	if !bounceAt.IsZero() && sender != "" {
		g.notify(h, bounceAt.Add(g.ms(100)), qid, sender)
	}
	g.emit(h, last.Add(g.ms(20)), "postfix/qmgr", h.qmgr, qid+": removed")
}

func isLocal(addr string) bool {
	d := domainOf(addr)
	for _, l := range localDomains {
		if d == l {
			return true
		}
	}
	return false
}

func (g *gen) deferReason(rcpt string) string {
	d := domainOf(rcpt)
	switch g.rng.IntN(3) {
	case 0:
		return "connect to mx." + d + "[203.0.113.25]:25: Connection timed out"
	case 1:
		return "host mx." + d + "[203.0.113.25] said: 451 4.7.1 Greylisted, please try again later (in reply to RCPT TO command)"
	}
	return "conversation with mx." + d + "[203.0.113.25] timed out while receiving the initial server greeting"
}

// delivery logs one delivery attempt with the given outcome: sent,
// deferred (reason given) or bounced (reason optional).
func (g *gen) delivery(h *host, t time.Time, qid, rcpt string, local bool, status, reason string) {
	proc, relay := "postfix/smtp", "mx."+domainOf(rcpt)+"[203.0.113.25]:25"
	if local {
		proc, relay = "postfix/lmtp", "mailstore.corp.example[10.20.9.5]:24"
	}
	var dsn, text string
	switch status {
	case "sent":
		dsn, text = "2.0.0", "250 2.0.0 Ok: queued as "+fmt.Sprintf("%X", g.rng.Uint32())
		if local {
			text = "250 2.0.0 <" + rcpt + "> Saved"
		}
		g.counts.Delivered++
	case "deferred":
		dsn, text = "4.4.1", reason
		if local {
			dsn, text = "4.2.2", "host mailstore.corp.example[10.20.9.5] said: 452 4.2.2 Mailbox is full (in reply to end of DATA command)"
		}
	default:
		dsn, text = "5.1.1", "host "+strings.TrimSuffix(relay, ":25")+" said: 550 5.1.1 <"+rcpt+">: Recipient address rejected: User unknown (in reply to RCPT TO command)"
		if reason != "" {
			dsn, text = "5.4.1", strings.Replace(reason, "host said", "host "+strings.TrimSuffix(relay, ":25")+" said", 1)
		}
		g.counts.Bounced++
	}
	total := 0.3 + g.rng.Float64()
	if status == "deferred" {
		total = 30 + g.rng.Float64()*30
	}
	g.emit(h, t, proc, h.pid(), fmt.Sprintf("%s: to=<%s>, relay=%s, %s, dsn=%s, status=%s (%s)", qid, rcpt, relay, g.delays(total), dsn, status, text))
}

// notify logs the non-delivery notification of a bounce, a message of its
// own from the null sender back to the (local) sender.
func (g *gen) notify(h *host, t time.Time, qid, sender string) {
	nqid := h.queueID(t)
	g.emit(h, t, "postfix/cleanup", h.cleanup(g.rng), nqid+": message-id=<"+nqid+"@"+h.name+"."+localDomains[0]+">")
	g.emit(h, t, "postfix/bounce", h.pid(), qid+": sender non-delivery notification: "+nqid)
	t = t.Add(g.ms(10))
	g.emit(h, t, "postfix/qmgr", h.qmgr, fmt.Sprintf("%s: from=<>, size=%d, nrcpt=1 (queue active)", nqid, 3000+g.rng.IntN(5000)))
	g.counts.Notifications++
	t = t.Add(g.ms(300))
	g.delivery(h, t, nqid, sender, isLocal(sender), "sent", "")
	g.emit(h, t.Add(g.ms(5)), "postfix/qmgr", h.qmgr, nqid+": removed")
}

// postscreenOnly is a bot that does not get past postscreen.
func (g *gen) postscreenOnly(h *host, t time.Time) {
	ip, port := botIP(g.rng), g.port()
	ps := func(at time.Time, text string) { g.emit(h, at, "postfix/postscreen", h.postscreen, text) }
	ps(t, fmt.Sprintf("CONNECT from [%s]:%d to [%s]:25", ip, port, h.ip))
	switch r := g.rng.IntN(10); {
	case r < 5:
		t = t.Add(g.ms(100))
		ps(t, fmt.Sprintf("PREGREET 11 after 0.%02d from [%s]:%d: EHLO user\\r\\n", g.rng.IntN(100), ip, port))
	case r < 7:
		t = t.Add(g.ms(300))
		g.emit(h, t, "postfix/dnsblog", h.pid(), "addr "+ip+" listed by domain zen.spamhaus.org as 127.0.0."+strconv.Itoa(2+g.rng.IntN(10)))
		ps(t.Add(g.ms(5)), fmt.Sprintf("DNSBL rank %d for [%s]:%d", 3+g.rng.IntN(3), ip, port))
		t = t.Add(g.ms(2000))
		ps(t, fmt.Sprintf("NOQUEUE: reject: RCPT from [%s]:%d: 550 5.7.1 Service unavailable; client [%s] blocked using zen.spamhaus.org; from=<%s>, to=<%s>, proto=ESMTP, helo=<%s>",
			ip, port, ip, g.spamSender(), g.localRcpt(), g.spamHelo()))
		g.counts.Rejected++
	default:
		t = t.Add(g.ms(3000))
		ps(t, fmt.Sprintf("HANGUP after %.1f from [%s]:%d in tests before SMTP handshake", g.rng.Float64()*5, ip, port))
	}
	ps(t.Add(g.ms(5)), fmt.Sprintf("DISCONNECT [%s]:%d", ip, port))
}

func (g *gen) spamSender() string {
	return firstNames[g.rng.IntN(len(firstNames))] + strconv.Itoa(g.rng.IntN(1000)) + "@" + remoteDomains[g.rng.IntN(len(remoteDomains))]
}

func (g *gen) spamHelo() string {
	if g.rng.IntN(2) == 0 {
		return "localhost"
	}
	return "host" + strconv.Itoa(g.rng.IntN(10000)) + ".dyn.example"
}

// guessUser is a login a password guesser tries.
func (g *gen) guessUser() string {
	common := []string{"admin", "info", "test", "sales", "office", "support", "contact", "webmaster"}
	if g.rng.IntN(3) == 0 {
		return localAddress(g.rng.IntN(numLocalUsers))
	}
	return common[g.rng.IntN(len(common))] + "@" + localDomains[0]
}

// rejected is a client that passes postscreen and is refused at RCPT time
// for one to three recipients.
func (g *gen) rejected(h *host, t time.Time) {
	ip, port := botIP(g.rng), g.port()
	client := "unknown[" + ip + "]"
	g.emit(h, t, "postfix/postscreen", h.postscreen, fmt.Sprintf("CONNECT from [%s]:%d to [%s]:25", ip, port, h.ip))
	g.emit(h, t.Add(g.ms(3)), "postfix/postscreen", h.postscreen, fmt.Sprintf("PASS NEW [%s]:%d", ip, port))
	pid := h.pid()
	t = t.Add(g.ms(30))
	g.emit(h, t, "postfix/smtpd", pid, "connect from "+client)
	from, helo := g.spamSender(), g.spamHelo()
	n := 1 + g.rng.IntN(3)
	kind := g.rng.IntN(100)
	for range n {
		t = t.Add(g.ms(400))
		var rcpt, reply string
		switch {
		case kind < 25:
			rcpt = g.remoteRcpt()
			reply = "554 5.7.1 <" + rcpt + ">: Relay access denied"
		case kind < 55:
			rcpt = g.guessUser()
			reply = "550 5.1.1 <" + rcpt + ">: Recipient address rejected: User unknown in virtual mailbox table"
		case kind < 75:
			rcpt = g.localRcpt()
			reply = "554 5.7.1 Service unavailable; Client host [" + ip + "] blocked using bl.spamcop.example; Blocked - see https://www.spamcop.example/bl.shtml?" + ip
		case kind < 90:
			rcpt = g.localRcpt()
			reply = "450 4.7.25 Client host rejected: cannot find your hostname, [" + ip + "]"
		default:
			rcpt = g.localRcpt()
			reply = "504 5.5.2 <" + helo + ">: Helo command rejected: need fully-qualified hostname"
		}
		g.emit(h, t, "postfix/smtpd", pid, fmt.Sprintf("NOQUEUE: reject: RCPT from %s: %s; from=<%s> to=<%s> proto=ESMTP helo=<%s>", client, reply, from, rcpt, helo))
		g.counts.Rejected++
	}
	t = t.Add(g.ms(200))
	if g.rng.IntN(2) == 0 {
		g.emit(h, t, "postfix/smtpd", pid, "lost connection after RCPT from "+client)
		g.emit(h, t, "postfix/smtpd", pid, fmt.Sprintf("disconnect from %s ehlo=1 mail=1 rcpt=0/%d commands=2/%d", client, n, n+2))
		return
	}
	g.emit(h, t, "postfix/smtpd", pid, fmt.Sprintf("disconnect from %s ehlo=1 mail=1 rcpt=0/%d quit=1 commands=3/%d", client, n, n+3))
}

// saslGuess is a password guesser trying one or two logins in a session
// (one, when planted: the brute force opens a session per attempt).
func (g *gen) saslGuess(h *host, t time.Time, ip, user string, planted bool) {
	client := "unknown[" + ip + "]"
	pid := h.pid()
	g.emit(h, t, "postfix/submission/smtpd", pid, "connect from "+client)
	n := 1
	if !planted {
		n += g.rng.IntN(2)
	}
	for i := range n {
		t = t.Add(g.ms(1500))
		if i > 0 {
			user = g.guessUser()
		}
		text := "warning: " + client + ": SASL LOGIN authentication failed: UGFzc3dvcmQ6, sasl_username=" + user
		if !planted && g.rng.IntN(4) == 0 {
			text = "warning: " + client + ": SASL PLAIN authentication failed: authentication failure, sasl_username=" + user
		}
		g.emit(h, t, "postfix/submission/smtpd", pid, text)
		g.counts.AuthFailures++
		if planted {
			g.counts.PlantedFailures++
		}
	}
	t = t.Add(g.ms(100))
	g.emit(h, t, "postfix/submission/smtpd", pid, "lost connection after AUTH from "+client)
	g.emit(h, t, "postfix/submission/smtpd", pid, fmt.Sprintf("disconnect from %s ehlo=1 auth=0/%d commands=1/%d", client, n, n+1))
}

// connectionNoise is a session that ends before any mail: scanners, TLS
// failures, clients that time out.
func (g *gen) connectionNoise(h *host, t time.Time) {
	ip := botIP(g.rng)
	client := "unknown[" + ip + "]"
	pid := h.pid()
	g.emit(h, t, "postfix/smtpd", pid, "connect from "+client)
	lookup := t.Add(g.ms(300))
	t = lookup.Add(g.ms(2000))
	switch g.rng.IntN(4) {
	case 0:
		g.emit(h, t, "postfix/smtpd", pid, "lost connection after CONNECT from "+client)
	case 1:
		g.emit(h, t, "postfix/smtpd", pid, "SSL_accept error from "+client+": lost connection")
		g.emit(h, t, "postfix/smtpd", pid, "lost connection after STARTTLS from "+client)
	case 2:
		g.emit(h, lookup, "postfix/smtpd", pid, "warning: hostname host-"+strings.ReplaceAll(ip, ".", "-")+".dyn.example does not resolve to address "+ip+": Name or service not known")
		if g.rng.IntN(8) == 0 {
			g.emit(h, t, "postfix/smtpd", pid, "improper command pipelining after CONNECT from "+client+": QUIT\\r\\n")
		} else {
			g.emit(h, t, "postfix/smtpd", pid, "lost connection after EHLO from "+client)
		}
	default:
		t = t.Add(300 * time.Second)
		g.emit(h, t, "postfix/smtpd", pid, "timeout after EHLO from "+client)
	}
	g.emit(h, t.Add(g.ms(3)), "postfix/smtpd", pid, "disconnect from "+client+" ehlo=1 commands=1")
}

// statistics logs anvil's (and, on outbound relays, scache's) periodic
// statistics, every ten minutes of a host's traffic.
func (g *gen) statistics(h *host, t time.Time) {
	if t.Before(h.nextStats) {
		return
	}
	if !h.nextStats.IsZero() {
		stamp := t.Add(-g.ms(500_000)).Format("Jan _2 15:04:05")
		ip := botIP(g.rng)
		g.emit(h, t, "postfix/anvil", h.anvil, fmt.Sprintf("statistics: max connection rate %d/60s for (smtp:%s) at %s", 1+g.rng.IntN(5), ip, stamp))
		g.emit(h, t, "postfix/anvil", h.anvil, fmt.Sprintf("statistics: max connection count %d for (smtp:%s) at %s", 1+g.rng.IntN(3), ip, stamp))
		g.emit(h, t, "postfix/anvil", h.anvil, fmt.Sprintf("statistics: max cache size %d at %s", 2+g.rng.IntN(20), stamp))
	}
	h.nextStats = t.Add(10 * time.Minute)
}

// plant logs the planted attacks from at on.
func (g *gen) plant(at time.Time, p Plant) {
	h := g.hosts[0]
	for i := range p.SenderBurst {
		t := at.Add(BurstWindow * time.Duration(i) / time.Duration(p.SenderBurst))
		g.submit(h, t, PlantSender, "unknown", PlantSenderIP, "LOGIN", 2, 2000+g.rng.IntN(3000), true)
		g.counts.PlantedBurst++
	}
	for i := range p.SASLFailures {
		t := at.Add(SASLWindow * time.Duration(i) / time.Duration(p.SASLFailures))
		user := []string{"admin", "info", "office", "j.miller", "hr", "finance", "ceo"}[i%7] + "@" + localDomains[0]
		g.saslGuess(h, t, PlantSASLClient, user, true)
	}
}

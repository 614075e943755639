package rego

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/detect-dev/detect/schema"
)

// trafficEvents is a stream of n events shaped like a mid-size site's mail
// log, as the Postfix parser normalizes it: most events are deliveries of
// inbound mail from a long tail of sender domains (popularity Zipf
// distributed, big senders with many addresses and client IPs), each
// message delivered to one or more local recipients; then outbound mail from
// authenticated users to a long tail of recipient domains, rejects from
// spam sources with random senders and addresses, failed logins, bounces,
// attachments with names and sizes of their own, and a few lookalike and
// spoofed senders. Values repeat the way they do in real traffic: a
// message's deliveries share their sender and client, popular domains recur,
// the tail does not. The stream is fixed by seed.
func trafficEvents(n int, seed uint64) []*schema.Event {
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	g := &trafficGen{rng: rng, t: time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC)}
	g.domains = rand.NewZipf(rng, 1.1, 4, 29_999)
	g.users = rand.NewZipf(rng, 1.2, 2, 799)
	g.out = rand.NewZipf(rng, 1.05, 2, 9_999)
	var out []*schema.Event
	for len(out) < n {
		out = append(out, g.message()...)
	}
	return out[:n]
}

type trafficGen struct {
	rng                 *rand.Rand
	domains, users, out *rand.Zipf
	t                   time.Time
	queue               int
}

// brands are sender domains of real traffic that the lookalike rule
// protects: their genuine mail must stay quiet.
var brands = []string{"email.microsoft.com", "paypal.com", "linkedin.com", "amazon.com", "google.com", "dropbox.com"}

// lookalikes are sender domains one or two edits from a protected one.
var lookalikes = []string{"paypa1.com", "rnicrosoft.com", "arnazon.com", "goog1e.com", "c0rp.example", "login.paypa1.com", "dropb0x.com"}

var words = []string{"mail", "news", "shop", "cloud", "data", "media", "north", "green", "blue", "alpha", "tech", "health",
	"travel", "bank", "energy", "retail", "partner", "supply", "logistics", "studio", "labs", "group", "systems", "digital"}
var tlds = []string{"com", "net", "org", "de", "co.uk", "example", "io", "fr"}

// domain is the name of external domain number i: stable, of varied length.
func domain(i int) string {
	if i < len(brands) {
		return brands[i]
	}
	w1, w2 := words[i%len(words)], words[(i/len(words))%len(words)]
	return fmt.Sprintf("%s-%s%d.%s", w1, w2, i/(len(words)*len(words)), tlds[(i/7)%len(tlds)])
}

// ip is the address of client number i of domain d.
func ip(d, i int) string {
	h := uint32(d*7919 + i*104729 + 12345)
	return fmt.Sprintf("%d.%d.%d.%d", 11+h%200, (h>>8)%256, (h>>16)%256, 1+i%250)
}

func (g *trafficGen) next() time.Time {
	g.t = g.t.Add(time.Duration(g.rng.IntN(400)) * time.Millisecond)
	return g.t
}

func (g *trafficGen) base(typ string) *schema.Event {
	g.queue++
	return &schema.Event{Time: g.next(), Host: "mx1", Product: "postfix", EventType: typ,
		QueueID: fmt.Sprintf("%010X", g.queue), SourceFile: "mail.log", SourceLine: g.queue}
}

func (g *trafficGen) localUser() string { return fmt.Sprintf("user%d@corp.example", g.users.Uint64()) }

// message returns the events of one message or SMTP session.
func (g *trafficGen) message() []*schema.Event {
	switch p := g.rng.IntN(1000); {
	case p < 600:
		return g.inbound()
	case p < 760:
		return g.outbound()
	case p < 900:
		return []*schema.Event{g.reject()}
	case p < 950:
		return []*schema.Event{g.auth()}
	default:
		return g.bounce()
	}
}

func (g *trafficGen) inbound() []*schema.Event {
	d := int(g.domains.Uint64())
	dom := domain(d)
	// Big senders have many addresses and clients.
	nusers := 1 + 2000/(d+1)
	nips := 1 + 200/(d+1)
	local := []string{"noreply", "news", "info", "billing", "support", "hello"}[g.rng.IntN(6)]
	if nusers > 1 && g.rng.IntN(3) == 0 {
		local = fmt.Sprintf("u%d", g.rng.IntN(nusers))
	}
	sender := local + "@" + dom
	client := ip(d, g.rng.IntN(nips))
	switch r := g.rng.IntN(1000); {
	case r < 2: // a lookalike
		dom = lookalikes[g.rng.IntN(len(lookalikes))]
		sender = "security@" + dom
		client = ip(90000+g.rng.IntN(50), 0)
	case r < 3: // a spoofed local sender
		sender = g.localUser()
		client = ip(91000+g.rng.IntN(500), 0)
	}
	var attach []schema.Attachment
	if g.rng.IntN(100) < 12 {
		exts := []string{"pdf", "docx", "xlsx", "zip", "jpg", "png"}
		for range 1 + g.rng.IntN(2) {
			ext := exts[g.rng.IntN(len(exts))]
			size := int64(g.rng.ExpFloat64() * 1_500_000)
			attach = append(attach, schema.Attachment{Name: fmt.Sprintf("doc-%d.%s", g.rng.IntN(100000), ext), Ext: ext, Size: size})
		}
	}
	msgID := fmt.Sprintf("%d.%d@%s", g.queue, g.rng.IntN(1<<30), dom)
	size := int64(2000 + g.rng.IntN(200_000))
	nrcpt := 1
	if g.rng.IntN(4) == 0 {
		nrcpt += g.rng.IntN(6)
	}
	first := g.base(schema.TypeDelivery)
	var out []*schema.Event
	for i := range nrcpt {
		e := *first
		e.Time = g.next()
		e.SourceLine += i
		e.Process, e.Action, e.Status, e.StatusCode = "postfix/lmtp", schema.ActionDelivered, "sent", "250 2.0.0"
		e.Recipient = g.localUser()
		e.Reason = "250 2.0.0 <" + e.Recipient + "> Saved"
		e.MessageID, e.Size, e.RecipientCount = msgID, size, nrcpt
		e.SrcIP, e.SrcHost, e.Helo = client, "mail."+dom, "mail."+dom
		e.Relay = "mailstore.corp.example[private/dovecot-lmtp]"
		e.Delay = float64(g.rng.IntN(300)) / 100
		e.Attachments = attach
		e.SetSender(sender)
		e.Complete()
		out = append(out, &e)
	}
	return out
}

func (g *trafficGen) outbound() []*schema.Event {
	u := int(g.users.Uint64())
	user := fmt.Sprintf("user%d@corp.example", u)
	sender := user
	if g.rng.IntN(200) == 0 {
		sender = fmt.Sprintf("ceo@%s", domain(int(g.domains.Uint64()))) // a mismatch
	}
	client := fmt.Sprintf("10.1.%d.%d", u/250, 1+u%250)
	if g.rng.IntN(5) == 0 {
		client = ip(80000+u, g.rng.IntN(3)) // from home
	}
	var out []*schema.Event
	nrcpt := 1 + g.rng.IntN(2)
	first := g.base(schema.TypeDelivery)
	for i := range nrcpt {
		d := int(g.out.Uint64()) + 100
		dom := domain(d)
		e := *first
		e.Time = g.next()
		e.SourceLine += i
		e.Process, e.Action, e.Status, e.StatusCode = "postfix/smtp", schema.ActionDelivered, "sent", "250 2.0.0"
		e.Recipient = fmt.Sprintf("r%d@%s", g.rng.IntN(50), dom)
		e.Reason = "250 2.0.0 Ok: queued as " + fmt.Sprintf("%X", g.rng.Uint32())
		e.MessageID = fmt.Sprintf("%d@corp.example", g.queue)
		e.Size, e.RecipientCount = int64(1000+g.rng.IntN(5_000_000)), nrcpt
		e.SrcIP, e.AuthUser = client, user
		e.Relay = fmt.Sprintf("mx.%s[%s]:25", dom, ip(d, 0))
		if g.rng.IntN(10) == 0 {
			e.Relay = "127.0.0.1[127.0.0.1]:10024" // the content filter hop
		}
		if g.rng.IntN(30) == 0 {
			e.Attachments = []schema.Attachment{{Name: "photos.zip", Ext: "zip", Size: int64(g.rng.IntN(40_000_000))}}
		}
		e.SetSender(sender)
		e.Complete()
		out = append(out, &e)
	}
	return out
}

func (g *trafficGen) reject() *schema.Event {
	e := g.base(schema.TypeReject)
	e.Process, e.Action, e.Status, e.StatusCode = "postfix/smtpd", schema.ActionRejected, "reject", "554 5.7.1"
	e.Reason = "Relay access denied"
	e.SrcIP = ip(50000+g.rng.IntN(100000), 0)
	e.Helo = "localhost"
	e.Protocol = "esmtp"
	e.Recipient = g.localUser()
	if g.rng.IntN(2) == 0 {
		e.SetSender(fmt.Sprintf("%x@%s", g.rng.Uint32(), domain(1000+g.rng.IntN(29000))))
	} else {
		e.SetSender(fmt.Sprintf("spam%d@bulk%d.example", g.rng.IntN(100), g.rng.IntN(20)))
	}
	e.Complete()
	return e
}

func (g *trafficGen) auth() *schema.Event {
	e := g.base(schema.TypeAuth)
	e.QueueID = ""
	e.Process = "postfix/submission/smtpd"
	if g.rng.IntN(3) == 0 {
		u := int(g.users.Uint64())
		e.Action, e.AuthUser = schema.ActionSucceeded, fmt.Sprintf("user%d@corp.example", u)
		e.SrcIP = fmt.Sprintf("10.1.%d.%d", u/250, 1+u%250)
	} else {
		e.Action, e.Reason = schema.ActionFailed, "authentication failure"
		e.SrcIP = ip(70000+g.rng.IntN(300), 0)
		e.AuthUser = []string{"admin", "info", "test", "user", "sales"}[g.rng.IntN(5)] + "@corp.example"
	}
	e.Complete()
	return e
}

func (g *trafficGen) bounce() []*schema.Event {
	e := g.base(schema.TypeDelivery)
	e.Process, e.Action, e.Status, e.StatusCode = "postfix/lmtp", schema.ActionDelivered, "sent", "250 2.0.0"
	e.Recipient = g.localUser()
	e.Reason = "250 2.0.0 <" + e.Recipient + "> Saved"
	e.Relay = "mailstore.corp.example[private/dovecot-lmtp]"
	e.SetSender("")
	e.Size, e.RecipientCount = int64(3000+g.rng.IntN(3000)), 1
	e.Complete()
	return []*schema.Event{e}
}

// describeTraffic sums up a stream for logs: events by type.
func describeTraffic(events []*schema.Event) string {
	by := map[string]int{}
	for _, e := range events {
		by[e.EventType]++
	}
	var parts []string
	for _, t := range []string{schema.TypeDelivery, schema.TypeReject, schema.TypeAuth} {
		parts = append(parts, fmt.Sprintf("%s=%d", t, by[t]))
	}
	return strings.Join(parts, " ")
}

package sigma

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/detect-dev/detect/schema"
)

// pick returns a random element of list.
func pick[T any](r *rand.Rand, list []T) T { return list[r.IntN(len(list))] }

var (
	genSenders = []string{
		"alice@corp.example", "Bob.Smith@Corp.Example", "billing@invoices-hosting.example",
		"noreply@promo.top", "ceo@c0rp-example.xyz", "news@mailer.click", "partner@partner.example",
		"root@localhost", "HR@Corp.example",
	}
	genRecipients = []string{
		"ap@corp.example", "it@corp.example", "Carol@Corp.Example", "friend@gmail.com",
		"boss@outlook.com", "sales@partner.example",
	}
	genSubjects = []string{
		"Invoice overdue 88213", "URGENT: verify your account", "Your password expires today",
		"Weekly report", "Re: lunch", "Wire transfer request", "Updated bank details", "RE: bank details",
		"Test message", "Fwd: Meeting notes", "Été 2026 — réunion", "password protected archive",
	}
	genIPs = []string{
		"203.0.113.17", "10.1.2.3", "192.168.1.50", "198.51.100.9", "2001:db8::25",
		"::ffff:10.0.0.7", "45.155.205.233", "172.20.4.4", "fd12:3456::1", "127.0.0.1", "unknown",
	}
	genHelos = []string{
		"localhost", "vps-17.hosting.example", "[203.0.113.17]", "mail.partner.example",
		"WIN-ABC123", "DESKTOP-7Q2X", "mx.google.com", "Localhost.localdomain",
	}
	genRelays = []string{
		"mailstore.corp.example[private/dovecot-lmtp]", "gmail-smtp-in.l.google.com[142.250.1.27]:25",
		"local", "none", "virtual", "smtp.partner.example[192.0.2.10]:25",
	}
	genAttachments = []schema.Attachment{
		{Name: "Invoice_88213.pdf.exe", Ext: "exe", Type: "application/octet-stream", Size: 412930},
		{Name: "report.docm", Ext: "docm", Type: "application/vnd.ms-word.document.macroEnabled.12", Size: 88000},
		{Name: "scan.html", Ext: "html", Type: "text/html", Size: 12000},
		{Name: "photo.jpg", Ext: "jpg", Type: "image/jpeg", Size: 2300000},
		{Name: "archive.zip", Ext: "zip", Type: "application/zip", Size: 7000000},
		{Name: "contract.pdf", Ext: "pdf", Type: "application/pdf", Size: 150000},
		{Name: "payload.iso", Ext: "iso", Type: "application/x-iso9660-image", Size: 31000000},
		{Name: "SCAN_0042.DOCX .js", Ext: "js", Type: "text/javascript", Size: 3000},
		{Name: "budget.xlsm", Ext: "xlsm", Type: "application/vnd.ms-excel.sheet.macroEnabled.12", Size: 54000},
	}
	genReasons = map[string][]string{
		schema.TypeReject: {
			"Relay access denied",
			"Client host [45.155.205.233] blocked using zen.spamhaus.org",
			"Recipient address rejected: User unknown in local recipient table",
			"Sender address rejected: Domain not found",
			"SPF fail - not authorized",
			"Service unavailable; client blocked using b.barracudacentral.org",
		},
		schema.TypeDelivery: {
			"250 2.0.0 Ok: queued", "connect to mx.example.net[192.0.2.1]:25: Connection timed out",
			"host said: 550 5.1.1 user unknown", "421 4.7.0 Try again later",
		},
		schema.TypeAuth: {"authentication failure", "UGFzc3dvcmQ6 failed", ""},
	}
)

// genEvent builds one plausible, varied event. The pools overlap the
// benchmark rules often enough that every rule fires on some events.
func genEvent(r *rand.Rand, i int) *schema.Event {
	e := &schema.Event{
		Time:       time.Date(2026, 11, 27, 8, 0, 0, 0, time.UTC).Add(time.Duration(i) * time.Second),
		Host:       pick(r, []string{"mx1", "mx2", "MX1"}),
		Product:    pick(r, []string{"postfix", "postfix", "postfix", "exim", "Sendmail"}),
		QueueID:    fmt.Sprintf("4NxKFN%05X", r.IntN(1<<20)),
		SourceFile: "mail.log",
		SourceLine: i + 1,
	}
	switch r.IntN(10) {
	case 0, 1, 2, 3, 4:
		e.EventType = schema.TypeDelivery
		e.Process = "postfix/smtp"
		switch r.IntN(5) {
		case 0:
			e.Action, e.Status, e.StatusCode = schema.ActionDeferred, "deferred", pick(r, []string{"4.7.1", "4.4.1", "4.7.0"})
		case 1:
			e.Action, e.Status, e.StatusCode = schema.ActionBounced, "bounced", pick(r, []string{"5.1.1", "5.7.1", "5.1.10"})
		default:
			e.Action, e.Status, e.StatusCode = schema.ActionDelivered, "sent", "2.0.0"
		}
		e.Relay = pick(r, genRelays)
		e.Reason = pick(r, genReasons[schema.TypeDelivery])
	case 5, 6:
		e.EventType = schema.TypeReject
		e.Process = "postfix/smtpd"
		e.Action = pick(r, []string{schema.ActionRejected, schema.ActionRejected, schema.ActionWarned})
		e.Status = "reject"
		e.StatusCode = pick(r, []string{"554 5.7.1", "450 4.7.1", "550 5.1.1", "550"})
		e.Reason = pick(r, genReasons[schema.TypeReject])
	case 7:
		e.EventType = schema.TypeAuth
		e.Process = "postfix/smtpd"
		e.Action = pick(r, []string{schema.ActionFailed, schema.ActionSucceeded})
		e.AuthUser = pick(r, []string{"alice@corp.example", "bob", "admin@corp.example", "test"})
		e.Reason = pick(r, genReasons[schema.TypeAuth])
	case 8:
		e.EventType = schema.TypeReceive
		e.Process = "postfix/qmgr"
		e.Action = schema.ActionReceived
		if r.IntN(2) == 0 {
			e.AuthUser = pick(r, []string{"alice@corp.example", "bob@corp.example"})
		}
	default:
		e.EventType = schema.TypeConnect
		e.Process = "postfix/smtpd"
	}
	if e.EventType != schema.TypeConnect && e.EventType != schema.TypeAuth {
		if r.IntN(8) == 0 {
			e.SetSender("") // the null sender of bounces
		} else {
			e.SetSender(pick(r, genSenders))
		}
		e.Recipient = pick(r, genRecipients)
		e.RecipientCount = 1 + r.IntN(3)
		if r.IntN(10) == 0 {
			e.RecipientCount = 40 + r.IntN(100)
		}
		e.Size = int64(500 + r.IntN(200000))
		if r.IntN(10) == 0 {
			e.Size = int64(20000000 + r.IntN(20000000))
		}
		e.SetDelay(float64(r.IntN(1000)) / 10)
		if r.IntN(15) == 0 {
			e.SetDelay(3000 + float64(r.IntN(5000)))
		}
		e.MessageID = fmt.Sprintf("%08x@%s", r.Uint32(), schema.DomainOf(pick(r, genSenders)))
		if r.IntN(4) != 0 {
			e.Subject = pick(r, genSubjects)
		}
		e.Direction = pick(r, []string{schema.DirectionInbound, schema.DirectionInbound, schema.DirectionOutbound, schema.DirectionInternal})
		for n := r.IntN(4) - 1; n > 0; n-- {
			e.Attachments = append(e.Attachments, pick(r, genAttachments))
		}
	}
	e.SrcIP = pick(r, genIPs)
	if r.IntN(3) != 0 {
		e.SrcHost = pick(r, []string{"vps-17.hosting.example", "unknown", "mail.partner.example"})
	}
	e.Helo = pick(r, genHelos)
	e.Protocol = pick(r, []string{"esmtp", "smtp", "ESMTP"})
	e.Complete()
	return e
}

// genEvents returns n events from a fixed seed, so runs are comparable.
func genEvents(n int) []*schema.Event {
	r := rand.New(rand.NewPCG(1, 2))
	out := make([]*schema.Event, n)
	for i := range out {
		out[i] = genEvent(r, i)
	}
	return out
}

// loadRules parses testdata/rules/<name>.
func loadRules(tb testing.TB, name string) []*Rule {
	tb.Helper()
	path := filepath.Join("testdata", "rules", name)
	data, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	rules, err := ParseFile(path, data)
	if err != nil {
		tb.Fatalf("ParseFile(%s): %v", path, err)
	}
	return rules
}

func readFile(tb testing.TB, path string) []byte {
	tb.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	return data
}

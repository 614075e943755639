package postfix

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/detect-dev/detect/internal/corpustest"
	"github.com/detect-dev/detect/normalize"
	"github.com/detect-dev/detect/schema"
)

// feed runs lines through p and returns the events and per-line results.
func feed(t *testing.T, p *Parser, lines ...string) ([]*schema.Event, []normalize.Result) {
	t.Helper()
	var events []*schema.Event
	var results []normalize.Result
	for i, l := range lines {
		r := p.Parse(schema.Line{Text: l, File: "test.log", Number: i + 1}, func(ev *schema.Event) {
			events = append(events, ev)
		})
		results = append(results, r)
	}
	return events, results
}

func newTestParser() *Parser {
	return New(normalize.Options{Year: 2024})
}

// only returns the single event of the given type, failing otherwise.
func only(t *testing.T, events []*schema.Event, typ string) *schema.Event {
	t.Helper()
	var found []*schema.Event
	for _, ev := range events {
		if ev.EventType == typ {
			found = append(found, ev)
		}
	}
	if len(found) != 1 {
		t.Fatalf("want one %s event, got %d: %s", typ, len(found), dump(events))
	}
	return found[0]
}

func dump(events []*schema.Event) string {
	var b []byte
	for _, ev := range events {
		b = ev.AppendJSON(b)
		b = append(b, '\n')
	}
	return string(b)
}

func wantResults(t *testing.T, got []normalize.Result, want ...normalize.Result) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Errorf("results = %v, want %v", got, want)
	}
}

const (
	U = normalize.Understood
	I = normalize.Ignored
	N = normalize.NotUnderstood
)

func TestRegistered(t *testing.T) {
	p, err := normalize.New("postfix", normalize.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := p.(*Parser); !ok {
		t.Fatalf("normalize.New(postfix) = %T", p)
	}
	if _, ok := p.(normalize.FileAware); !ok {
		t.Errorf("parser is not FileAware")
	}
}

func TestDeliveryJoinsMessage(t *testing.T) {
	p := newTestParser()
	events, res := feed(t, p,
		"Mar 14 08:01:10 mx postfix/smtpd[1]: 4PbPZG2YSjz3tBr: client=mout.gmx.net[212.227.15.46], sasl_method=PLAIN, sasl_username=alice@example.org",
		"Mar 14 08:01:10 mx postfix/cleanup[2]: 4PbPZG2YSjz3tBr: message-id=<abc@gmx.net>",
		"Mar 14 08:01:10 mx postfix/qmgr[3]: 4PbPZG2YSjz3tBr: from=<alice@Example.org>, size=2048, nrcpt=2 (queue active)",
		"Mar 14 08:01:11 mx postfix/smtp[4]: 4PbPZG2YSjz3tBr: to=<bob@example.net>, orig_to=<bobby@example.net>, relay=mx.example.net[192.0.2.7]:25, delay=1.5, delays=0.1/0/0.4/1, dsn=2.0.0, status=sent (250 2.0.0 Ok: queued as 123)",
		"Mar 14 08:01:12 mx postfix/smtp[4]: 4PbPZG2YSjz3tBr: to=<carol@example.com>, relay=none, delay=2, delays=0.1/0/1.9/0, dsn=4.4.1, status=deferred (connect to example.com[192.0.2.8]:25: Connection refused)",
		"Mar 14 08:01:12 mx postfix/qmgr[3]: 4PbPZG2YSjz3tBr: removed",
	)
	wantResults(t, res, U, U, U, U, U, U)
	auth := only(t, events, schema.TypeAuth)
	if auth.Action != schema.ActionSucceeded || auth.AuthUser != "alice@example.org" || auth.SrcIP != "212.227.15.46" {
		t.Errorf("auth event: %s", dump([]*schema.Event{auth}))
	}
	var deliveries []*schema.Event
	for _, ev := range events {
		if ev.EventType == schema.TypeDelivery {
			deliveries = append(deliveries, ev)
		}
	}
	if len(deliveries) != 2 {
		t.Fatalf("want 2 deliveries: %s", dump(events))
	}
	d := deliveries[0]
	want := schema.Event{
		Time: time.Date(2024, 3, 14, 8, 1, 11, 0, time.UTC), Host: "mx", Product: "postfix", Process: "postfix/smtp",
		EventType: schema.TypeDelivery, Action: schema.ActionDelivered, Status: "sent", StatusCode: "250 2.0.0",
		Reason: "250 2.0.0 Ok: queued as 123", QueueID: "4PbPZG2YSjz3tBr", MessageID: "abc@gmx.net",
		Sender: "alice@Example.org", HasSender: true, SenderDomain: "example.org",
		Recipient: "bob@example.net", RecipientDomain: "example.net", OrigRecipient: "bobby@example.net",
		RecipientCount: 2, Size: 2048, SrcIP: "212.227.15.46", SrcHost: "mout.gmx.net", AuthUser: "alice@example.org",
		Relay: "mx.example.net[192.0.2.7]:25", Delay: 1.5, HasDelay: true,
		SourceFile: "test.log", SourceLine: 4,
	}
	if !reflect.DeepEqual(*d, want) {
		t.Errorf("delivery:\n got %s\nwant %s", dump([]*schema.Event{d}), dump([]*schema.Event{&want}))
	}
	if e := deliveries[1]; e.Action != schema.ActionDeferred || e.StatusCode != "4.4.1" ||
		e.Reason != "connect to example.com[192.0.2.8]:25: Connection refused" || e.Size != 2048 {
		t.Errorf("deferred delivery: %s", dump([]*schema.Event{e}))
	}
	if len(p.queue) != 0 {
		t.Errorf("removed message still held")
	}
}

func TestNullSender(t *testing.T) {
	p := newTestParser()
	events, _ := feed(t, p,
		"Mar 16 02:27:29 mx postfix/cleanup[1]: 4PcV4K5tFpz3tG5: message-id=<4PcV4K5tFpz3tG5@mx.example>",
		"Mar 16 02:27:29 mx postfix/bounce[2]: 4PcV4K5FPLz3tBr: sender non-delivery notification: 4PcV4K5tFpz3tG5",
		"Mar 16 02:27:29 mx postfix/qmgr[3]: 4PcV4K5tFpz3tG5: from=<>, size=6002, nrcpt=1 (queue active)",
		"Mar 16 02:27:31 mx postfix/smtp[4]: 4PcV4K5tFpz3tG5: to=<bounce-no-reply@nebenan.de>, relay=aspmx.l.google.com[2a00:1450:400c:c00::1a]:25, delay=1.5, delays=0.01/0.01/0.52/0.94, dsn=2.0.0, status=sent (250 2.0.0 OK)",
	)
	d := only(t, events, schema.TypeDelivery)
	if !d.HasSender || d.Sender != "" || d.SenderDomain != "" {
		t.Errorf("null sender lost: %s", dump(events))
	}
	if !strings.Contains(dump(events), `"sender":""`) {
		t.Errorf("JSON must keep the null sender: %s", dump(events))
	}
	if d.Relay != "aspmx.l.google.com[2a00:1450:400c:c00::1a]:25" {
		t.Errorf("relay = %q", d.Relay)
	}
	if p.Stats()[StatNotifications] != 1 {
		t.Errorf("notifications = %d", p.Stats()[StatNotifications])
	}
}

func TestRejects(t *testing.T) {
	tests := []struct {
		name, line string
		want       schema.Event
	}{
		{
			name: "noqueue relay denied",
			line: "Mar 14 01:00:00 mx postfix/smtpd[1]: NOQUEUE: reject: RCPT from host.example[192.0.2.1]: 554 5.7.1 <x@y.example>: Relay access denied; from=<a@b.example> to=<x@y.example> proto=ESMTP helo=<h.example>",
			want: schema.Event{Action: schema.ActionRejected, Status: "reject", StatusCode: "554 5.7.1", Reason: "Relay access denied",
				Sender: "a@b.example", HasSender: true, Recipient: "x@y.example", Helo: "h.example", Protocol: "esmtp",
				SrcIP: "192.0.2.1", SrcHost: "host.example"},
		},
		{
			name: "reject_warning",
			line: "Mar 14 01:00:00 mx postfix/smtpd[1]: NOQUEUE: reject_warning: RCPT from example.com[93.184.216.34]: 553 5.7.1 <sender@example.com>: Sender address rejected: not owned by user ph123; from=<sender@example.com> to=<recipient@example.com> proto=ESMTP helo=<example.com>",
			want: schema.Event{Action: schema.ActionWarned, Status: "reject_warning", StatusCode: "553 5.7.1",
				Reason: "Sender address rejected: not owned by user ph123", Sender: "sender@example.com", HasSender: true,
				Recipient: "recipient@example.com", Helo: "example.com", Protocol: "esmtp", SrcIP: "93.184.216.34", SrcHost: "example.com"},
		},
		{
			name: "milter-reject",
			line: "Mar 14 01:00:00 mx postfix/smtpd[1]: NOQUEUE: milter-reject: RCPT from relay.example[8.8.8.8]: 451 4.7.1 Greylisting in action, please come back later; from=<support@example.com> to=<u@example.org> proto=ESMTP helo=<relay.example>",
			want: schema.Event{Action: schema.ActionRejected, Status: "milter-reject", StatusCode: "451 4.7.1",
				Reason: "Greylisting in action, please come back later", Sender: "support@example.com", HasSender: true,
				Recipient: "u@example.org", Helo: "relay.example", Protocol: "esmtp", SrcIP: "8.8.8.8", SrcHost: "relay.example"},
		},
		{
			name: "postscreen comma attributes, null sender, IPv6",
			line: "May  8 08:26:55 mx postfix/postscreen[2]: NOQUEUE: reject: RCPT from [2a01:4f8::1]:47407: 550 5.7.1 Service unavailable; client [2a01:4f8::1] blocked using bl.spamcop.net; from=<>, to=<z@vip.example>, proto=ESMTP, helo=<XL-2016>",
			want: schema.Event{Action: schema.ActionRejected, Status: "reject", StatusCode: "550 5.7.1",
				Reason: "Service unavailable; client [2a01:4f8::1] blocked using bl.spamcop.net", Sender: "", HasSender: true,
				Recipient: "z@vip.example", Helo: "XL-2016", Protocol: "esmtp", SrcIP: "2a01:4f8::1"},
		},
		{
			name: "VRFY without from, IPv6 tag",
			line: "Mar 14 01:00:00 mx postfix/smtpd[1]: NOQUEUE: reject: VRFY from unknown[IPv6:2001:db8::5]: 454 4.7.1 <aap@henk.com>: Relay access denied; to=<aap@henk.com> proto=SMTP helo=<me>",
			want: schema.Event{Action: schema.ActionRejected, Status: "reject", StatusCode: "454 4.7.1", Reason: "Relay access denied",
				Recipient: "aap@henk.com", Helo: "me", Protocol: "smtp", SrcIP: "2001:db8::5"},
		},
		{
			name: "CONNECT without any attributes",
			line: "Mar 14 01:00:00 mx postfix/postscreen[1]: NOQUEUE: reject: CONNECT from [1.2.3.4]:1337: too many connections",
			want: schema.Event{Action: schema.ActionRejected, Status: "reject", Reason: "too many connections", SrcIP: "1.2.3.4"},
		},
		{
			name: "reply without the <x> part",
			line: "Feb 21 09:21:54 mx postfix/smtpd[1]: NOQUEUE: reject: RCPT from example.com[192.0.43.10]: 450 4.7.1 : Helo command rejected: Host not found; from=<> to=<> proto=ESMTP helo=",
			want: schema.Event{Action: schema.ActionRejected, Status: "reject", StatusCode: "450 4.7.1", Reason: "Helo command rejected: Host not found",
				HasSender: true, Protocol: "esmtp", SrcIP: "192.0.43.10", SrcHost: "example.com"},
		},
		{
			name: "discard",
			line: "Mar 14 01:00:00 mx postfix/smtpd[1]: NOQUEUE: discard: MAIL from ccm.example[208.75.123.231]: <b@in.example>: Sender address SPAM; from=<b@in.example> proto=ESMTP helo=<ccm.example>",
			want: schema.Event{Action: schema.ActionDiscarded, Status: "discard", Reason: "Sender address SPAM",
				Sender: "b@in.example", HasSender: true, Helo: "ccm.example", Protocol: "esmtp", SrcIP: "208.75.123.231", SrcHost: "ccm.example"},
		},
		{
			name: "proxy-reject",
			line: "Mar 14 01:00:00 mx postfix/smtpd[1]: proxy-reject: END-OF-MESSAGE: 554 5.7.0 Reject, id=31619-02 - spam; from=<> to=<u@example2.com> proto=SMTP helo=<17.33.12.53>",
			want: schema.Event{Action: schema.ActionRejected, Status: "proxy-reject", StatusCode: "554 5.7.0", Reason: "Reject, id=31619-02 - spam",
				HasSender: true, Recipient: "u@example2.com", Helo: "17.33.12.53", Protocol: "smtp"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := newTestParser()
			events, res := feed(t, p, tc.line)
			wantResults(t, res, U)
			ev := only(t, events, schema.TypeReject)
			got := *ev
			// Compare what the case is about; time, origin and derived
			// fields are covered elsewhere.
			got.Time, got.Host, got.Product, got.Process, got.EventType = time.Time{}, "", "", "", ""
			got.SourceFile, got.SourceLine, got.SenderDomain, got.RecipientDomain = "", 0, "", ""
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("\n got %s\nwant %s", dump([]*schema.Event{&got}), dump([]*schema.Event{&tc.want}))
			}
		})
	}
}

// A refusal at DATA ends the message, so its state goes with it; a
// recipient-level reject with a queue id joins the message.
func TestRejectWithQueueID(t *testing.T) {
	p := newTestParser()
	events, _ := feed(t, p,
		"Mar  7 02:09:30 mx postfix/smtpd[1]: 1D8CC1CA0A7F: client=fb.example[192.0.2.151], sasl_method=LOGIN, sasl_username=bob",
		"Mar  7 02:09:31 mx postfix/smtpd[1]: 1D8CC1CA0A7F: reject: RCPT from fb.example[192.0.2.151]: 550 5.1.1 <x@example.com>: Recipient address rejected: User unknown; from=<s@mail.example.com> to=<x@example.com> proto=ESMTP helo=<fb>",
		"Mar  7 02:09:33 mx postfix/smtpd[1]: 1D8CC1CA0A7F: milter-reject: END-OF-MESSAGE from fb.example[192.0.2.151]: 5.7.1 Command rejected; from=<s@mail.example.com> to=<h@example.com> proto=ESMTP helo=<fb>",
	)
	var rejects []*schema.Event
	for _, ev := range events {
		if ev.EventType == schema.TypeReject {
			rejects = append(rejects, ev)
		}
	}
	if len(rejects) != 2 {
		t.Fatalf("want 2 rejects: %s", dump(events))
	}
	if rejects[0].AuthUser != "bob" || rejects[0].QueueID != "1D8CC1CA0A7F" {
		t.Errorf("reject not joined with its message: %s", dump(rejects[:1]))
	}
	if rejects[1].StatusCode != "5.7.1" || rejects[1].Reason != "Command rejected" {
		t.Errorf("milter reject: %s", dump(rejects[1:]))
	}
	if len(p.queue) != 0 {
		t.Errorf("message rejected at END-OF-MESSAGE still held")
	}
}

func TestSASLFailures(t *testing.T) {
	tests := []struct {
		line                   string
		ip, host, user, reason string
	}{
		{"Mar 10 13:33:30 mx postfix/smtpd[1]: warning: HOSTNAME[1.1.1.1]: SASL LOGIN authentication failed: authentication failure",
			"1.1.1.1", "HOSTNAME", "", "authentication failure"},
		{"Nov  4 09:11:01 mx postfix/smtpd[1]: warning: unknown[192.0.2.152]: SASL LOGIN authentication failed: (reason unavailable), sasl_username=admin",
			"192.0.2.152", "", "admin", "(reason unavailable)"},
		{"Aug  4 16:47:52 mx postfix/smtpd[1]: warning: unknown[192.0.2.237]:55729: SASL LOGIN authentication failed: authentication failure",
			"192.0.2.237", "", "", "authentication failure"},
		{"Aug  3 15:30:49 mx postfix/smtpd[1]: warning: mail.example[98.191.84.74]: SASL Plain authentication failed:",
			"98.191.84.74", "mail.example", "", ""},
		{"Sep  6 00:44:57 mx postfix/submission/smtpd[1]: warning: unknown[82.221.106.233]: SASL login authentication failed: UGFzc3dvcmQ6",
			"82.221.106.233", "", "", "UGFzc3dvcmQ6"},
		{"May  6 09:25:41 mx postfix/smtps/smtpd[1]: warning: unknown[2001:db8::7]: SASL CRAM-MD5 authentication failed: Invalid authentication mechanism, sasl_username=postmaster@example.org",
			"2001:db8::7", "", "postmaster@example.org", "Invalid authentication mechanism"},
	}
	for _, tc := range tests {
		p := newTestParser()
		events, res := feed(t, p, tc.line)
		wantResults(t, res, U)
		ev := only(t, events, schema.TypeAuth)
		if ev.Action != schema.ActionFailed || ev.SrcIP != tc.ip || ev.SrcHost != tc.host || ev.AuthUser != tc.user || ev.Reason != tc.reason {
			t.Errorf("%s\n got %s", tc.line, dump(events))
		}
	}
	// Other warnings are counted, not events.
	p := newTestParser()
	events, res := feed(t, p, "Aug 14 10:00:01 mx postfix/smtpd[1]: warning: hostname bad.example.com does not resolve to address 192.0.2.44: Name or service not known")
	wantResults(t, res, I)
	if len(events) != 0 || p.Stats()["ignored_warning"] != 1 {
		t.Errorf("warning: events %d, stats %v", len(events), p.Stats())
	}
}

func TestHeaderChecks(t *testing.T) {
	p := newTestParser()
	const q = "Mar 14 10:00:00 mx postfix/cleanup[2]: 4Pc3ZX1jFxz3tBr: "
	const tail = " from mout.example[212.227.15.19]; from=<a@example.de> to=<b@example.net> proto=ESMTP helo=<mout.example>"
	events, res := feed(t, p,
		"Mar 14 10:00:00 mx postfix/smtpd[1]: 4Pc3ZX1jFxz3tBr: client=mout.example[212.227.15.19]",
		q+"warning: header Subject: =?utf-8?Q?Gr=C3=BC=C3=9Fe?= =?utf-8?Q?_aus_K=C3=B6ln?="+tail,
		q+"warning: header Content-Type: application/pdf; name=\"Invoice 2024.PDF\""+tail,
		q+"warning: header Content-Disposition: attachment; filename=\"Invoice 2024.PDF\""+tail,
		q+"info: header Content-Disposition: attachment;? filename=\"=?UTF-8?B?c2V0dXAuZXhl?=\""+tail,
		q+"warning: header Content-Disposition: attachment; filename*=UTF-8''r%C3%A9sum%C3%A9.docx"+tail,
		q+"warning: header X-Mailer: Foo 1.0"+tail,
		q+"warning: body Click here to win"+tail,
		"Mar 14 10:00:01 mx postfix/qmgr[3]: 4Pc3ZX1jFxz3tBr: from=<a@example.de>, size=99, nrcpt=1 (queue active)",
		"Mar 14 10:00:02 mx postfix/local[4]: 4Pc3ZX1jFxz3tBr: to=<b@example.net>, relay=local, delay=0.1, delays=0/0/0/0.1, dsn=2.0.0, status=sent (delivered to mailbox)",
	)
	wantResults(t, res, U, U, U, U, U, U, I, I, U, U)
	d := only(t, events, schema.TypeDelivery)
	if d.Subject != "Grüße aus Köln" {
		t.Errorf("subject = %q", d.Subject)
	}
	want := []schema.Attachment{
		{Name: "Invoice 2024.PDF", Ext: "pdf", Type: "application/pdf"},
		{Name: "setup.exe", Ext: "exe"},
		{Name: "résumé.docx", Ext: "docx"},
	}
	if !reflect.DeepEqual(d.Attachments, want) {
		t.Errorf("attachments = %+v, want %+v", d.Attachments, want)
	}
	if !slices.Equal(d.AttachmentExt, []string{"pdf", "exe", "docx"}) {
		t.Errorf("attachment_ext = %v", d.AttachmentExt)
	}
	st := p.Stats()
	if st["ignored_header_checks"] != 1 || st["ignored_body_checks"] != 1 {
		t.Errorf("stats = %v", st)
	}
}

// TestAttachmentNames covers the forms a file name takes in a logged
// Content-Type or Content-Disposition header: RFC 2231 continuations
// (plain and percent-encoded), charsets, RFC 2047 words, and the trailing
// dots and spaces that Windows drops.
func TestAttachmentNames(t *testing.T) {
	tests := []struct {
		name, header string
		want         schema.Attachment
	}{
		{"plain", `Content-Disposition: attachment; filename="Invoice 2024.PDF"`,
			schema.Attachment{Name: "Invoice 2024.PDF", Ext: "pdf"}},
		{"continuations", `Content-Disposition: attachment; filename*0="Invoice.pdf"; filename*1=".exe"`,
			schema.Attachment{Name: "Invoice.pdf.exe", Ext: "exe"}},
		{"continuations out of order", `Content-Disposition: attachment; filename*1=".exe"; filename*0="Invoice.pdf"`,
			schema.Attachment{Name: "Invoice.pdf.exe", Ext: "exe"}},
		{"continuations across a fold", `Content-Type: application/octet-stream;? name*0="Rechnung_2024_";? name*1="Maerz.js"`,
			schema.Attachment{Name: "Rechnung_2024_Maerz.js", Ext: "js", Type: "application/octet-stream"}},
		{"encoded continuations", `Content-Disposition: attachment;? filename*0*=utf-8''%E2%82%AC%20Rechnung;? filename*1*=%20M%C3%A4rz.pdf;? filename*2*=.exe`,
			schema.Attachment{Name: "€ Rechnung März.pdf.exe", Ext: "exe"}},
		{"encoded and plain continuations", `Content-Disposition: attachment; filename*0*=UTF-8''r%C3%A9sum%C3%A9; filename*1=".docx"`,
			schema.Attachment{Name: "résumé.docx", Ext: "docx"}},
		{"gap ends the continuations", `Content-Disposition: attachment; filename*0="a.pdf"; filename*2=".exe"`,
			schema.Attachment{Name: "a.pdf", Ext: "pdf"}},
		{"truncated continuation", `Content-Disposition: attachment; filename*0="Invoice.pdf"; filename*1=".ex`,
			schema.Attachment{Name: "Invoice.pdf.ex", Ext: "ex"}},
		{"percent-encoded", `Content-Disposition: attachment; filename*=utf-8''%E2%82%AC%E2%80%AE.exe`,
			schema.Attachment{Name: "€\u202e.exe", Ext: "exe"}},
		{"language tag", `Content-Disposition: attachment; filename*=UTF-8'de'Datei.zip`,
			schema.Attachment{Name: "Datei.zip", Ext: "zip"}},
		{"quoted extended value", `Content-Disposition: attachment; filename*="UTF-8''a%20b.zip"`,
			schema.Attachment{Name: "a b.zip", Ext: "zip"}},
		{"latin-1", `Content-Disposition: attachment; filename*=iso-8859-1'en'%E9t%E9.txt`,
			schema.Attachment{Name: "été.txt", Ext: "txt"}},
		{"charset we cannot decode stays encoded", `Content-Disposition: attachment; filename*=windows-1251''%C4%EE%EA.doc`,
			schema.Attachment{Name: "%C4%EE%EA.doc", Ext: "doc"}},
		{"ascii in any charset", `Content-Disposition: attachment; filename*=windows-1251''report.doc`,
			schema.Attachment{Name: "report.doc", Ext: "doc"}},
		{"invalid escape kept", `Content-Disposition: attachment; filename*=UTF-8''a%ZZ.exe`,
			schema.Attachment{Name: "a%ZZ.exe", Ext: "exe"}},
		{"extended beats the fallback", `Content-Disposition: attachment; filename="fallback.pdf"; filename*=UTF-8''real.exe`,
			schema.Attachment{Name: "real.exe", Ext: "exe"}},
		{"fallback when the extended value is empty", `Content-Disposition: attachment; filename="fallback.pdf"; filename*=UTF-8''`,
			schema.Attachment{Name: "fallback.pdf", Ext: "pdf"}},
		{"rfc 2047 split over continuations", `Content-Disposition: attachment; filename*0="=?UTF-8?B?c2V0"; filename*1="dXAuZXhl?="`,
			schema.Attachment{Name: "setup.exe", Ext: "exe"}},
		{"rfc 2047 in a plain value", `Content-Disposition: attachment;? filename="=?UTF-8?B?c2V0dXAuZXhl?="`,
			schema.Attachment{Name: "setup.exe", Ext: "exe"}},
		{"trailing dot", `Content-Disposition: attachment; filename="x.exe."`,
			schema.Attachment{Name: "x.exe.", Ext: "exe"}},
		{"trailing space", `Content-Disposition: attachment; filename="x.exe "`,
			schema.Attachment{Name: "x.exe ", Ext: "exe"}},
		{"escaped quote", `Content-Disposition: attachment; filename="a\"b.exe"`,
			schema.Attachment{Name: `a"b.exe`, Ext: "exe"}},
		{"unquoted", `Content-Type: application/zip; name=a.zip; charset=x`,
			schema.Attachment{Name: "a.zip", Ext: "zip", Type: "application/zip"}},
		{"name is not the tail of another parameter", `Content-Type: text/plain; xname="a.exe"`,
			schema.Attachment{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := newTestParser()
			_, name, typ := p.headerData(tc.header)
			var got schema.Attachment
			if name != "" {
				got = schema.Attachment{Name: name, Ext: schema.ExtOf(name), Type: typ}
			}
			if got != tc.want {
				t.Errorf("%s\n-want +got\n-%q %q %q\n+%q %q %q", tc.header,
					tc.want.Name, tc.want.Ext, tc.want.Type, got.Name, got.Ext, got.Type)
			}
		})
	}
}

func TestCleanupReject(t *testing.T) {
	p := New(normalize.Options{Year: 2007})
	events, res := feed(t, p,
		"Aug 13 16:06:58 DalekGate postfix/cleanup[17395]: 8B7EF2BB7: reject: header Date: Mon, 18 Jan 2038 19:07:11 +0800 from unknown[192.168.7.245]; from=<bc@easterndalek.com> to=<service@exterminate.com> proto=ESMTP helo=<realmail.example>: Message content rejected",
		"Aug 13 16:07:00 mx postfix/cleanup[1]: 8B7EF2BB8: discard: header Subject: You won from mail.example[192.0.2.9]; from=<s@example.org> to=<r@example.com> proto=ESMTP helo=<mail.example>: 550 5.7.1 Spam",
		"Aug 13 16:07:01 mx postfix/cleanup[1]: 8B7EF2BB9: hold: body suspicious text from local; from=<root@example.com> to=<r@example.com>",
	)
	wantResults(t, res, U, U, U)
	if len(events) != 3 {
		t.Fatalf("want 3 events: %s", dump(events))
	}
	r := events[0]
	if r.EventType != schema.TypeReject || r.Action != schema.ActionRejected || r.Reason != "Message content rejected" ||
		r.SrcIP != "192.168.7.245" || r.Sender != "bc@easterndalek.com" || r.Recipient != "service@exterminate.com" ||
		r.Helo != "realmail.example" || r.QueueID != "8B7EF2BB7" {
		t.Errorf("header reject: %s", dump(events[:1]))
	}
	if d := events[1]; d.Action != schema.ActionDiscarded || d.StatusCode != "550 5.7.1" || d.Reason != "Spam" || d.Subject != "You won" {
		t.Errorf("discard: %s", dump(events[1:2]))
	}
	if h := events[2]; h.Action != schema.ActionQuarantined || h.SrcIP != "" || h.Sender != "root@example.com" {
		t.Errorf("hold: %s", dump(events[2:]))
	}
	// Rejected and discarded messages are gone; a held one stays queued.
	if len(p.queue) != 1 || p.queue["8B7EF2BB9"] == nil {
		t.Errorf("queue after cleanup actions: %v", p.queue)
	}
}

func TestOldPostfixAndOrigTo(t *testing.T) {
	p := New(normalize.Options{Year: 2005})
	events, res := feed(t, p,
		"Feb 20 04:05:39 fangorn postfix/pickup[15241]: 0D7037A4: uid=0 from=<root>",
		"Feb 20 04:05:39 fangorn postfix/cleanup[22877]: 0D7037A4: message-id=<20050220030539.0D7037A4@fangorn>",
		"Feb 20 04:05:39 fangorn postfix/local[22879]: 0D7037A4: to=<postfix@fangorn>, orig_to=<root>, relay=local, delay=0, status=sent (delivered to mailbox)",
		"Feb 20 04:05:40 fangorn postfix/local[22879]: 0D7037A5: to=user@host.example, orig_to=root@localhost, relay=local, delay=0.07, delays=0.04/0/0/0.03, dsn=2.0.0, status=sent (delivered to command: procmail -a \"$EXTENSION\")",
	)
	wantResults(t, res, U, U, U, U)
	if len(events) != 2 {
		t.Fatalf("events: %s", dump(events))
	}
	d := events[0]
	// pickup's sender stands in until qmgr logs the rewritten address.
	if d.Sender != "root" || d.OrigRecipient != "root" || d.Recipient != "postfix@fangorn" ||
		!d.HasDelay || d.Delay != 0 || d.StatusCode != "" || d.MessageID != "20050220030539.0D7037A4@fangorn" {
		t.Errorf("old-style delivery: %s", dump(events[:1]))
	}
	if e := events[1]; e.Recipient != "user@host.example" || e.OrigRecipient != "root@localhost" ||
		e.Reason != `delivered to command: procmail -a "$EXTENSION"` {
		t.Errorf("bracketless to=: %s", dump(events[1:]))
	}
	if p.Stats()[StatOrphanDeliveries] != 1 {
		t.Errorf("orphans = %d", p.Stats()[StatOrphanDeliveries])
	}
}

func TestMultiInstanceNames(t *testing.T) {
	for _, prog := range []string{"postfix-out/smtp", "postfix/amavis/smtp", "postfix-smo/submission/smtp",
		"postfix/10025/smtp", "postfix/lmtp", "postfix/virtual", "postfix/pipe", "postfix/error", "postfix/discard"} {
		p := newTestParser()
		events, res := feed(t, p,
			"Mar 14 01:00:00 mx "+prog+"[9]: 4PbC4x469Jz3tBr: to=<u@example.net>, relay=127.0.0.1[127.0.0.1]:10024, delay=2.4, delays=0.29/0.02/0.01/2.1, dsn=2.0.0, status=sent (250 2.0.0 Ok)")
		wantResults(t, res, U)
		if d := only(t, events, schema.TypeDelivery); d.Process != prog || d.Product != "postfix" {
			t.Errorf("%s: %s", prog, dump(events))
		}
	}
	p := newTestParser()
	_, res := feed(t, p,
		"Mar 14 01:00:00 mx postfix/10025/smtpd[9]: 4PbC4z6W5Qz3tG3: client=localhost[127.0.0.1]",
		"Mar 14 01:00:00 mx postfix-incoming/smtpd[9]: connect from x[192.0.2.1]",
		"Mar 14 01:00:00 mx postfix/submission/smtpd[9]: disconnect from x[192.0.2.1] ehlo=1 quit=1 commands=2",
		"Mar 14 01:00:00 mx dovecot[9]: imap-login: Login: user=<u>",
		"Mar 14 01:00:00 mx postfix/unheardof[9]: something",
	)
	wantResults(t, res, U, I, I, I, N)
}

func TestStatusMapping(t *testing.T) {
	tests := []struct {
		status, action string
		res            normalize.Result
	}{
		{"sent", schema.ActionDelivered, U},
		{"deferred", schema.ActionDeferred, U},
		{"bounced", schema.ActionBounced, U},
		{"expired", schema.ActionBounced, U},
		{"deliverable", "", I},
		{"undeliverable-but-not-cached", "", I},
		{"weird", "", N},
	}
	for _, tc := range tests {
		p := newTestParser()
		events, res := feed(t, p,
			"Mar 14 01:00:00 mx postfix/error[1]: 3E29030F8637E: to=<u@example.com>, relay=none, delay=0.01, delays=0.01/0/0/0, dsn=5.1.1, status="+tc.status+" (text)")
		wantResults(t, res, tc.res)
		if tc.action == "" {
			if len(events) != 0 {
				t.Errorf("%s: unexpected events %s", tc.status, dump(events))
			}
			continue
		}
		if d := only(t, events, schema.TypeDelivery); d.Action != tc.action || d.Status != tc.status {
			t.Errorf("%s: %s", tc.status, dump(events))
		}
	}
}

// A delivery's status_code is the SMTP reply and the DSN ("250 2.0.0"),
// like a reject's, when the reply in its text carries the DSN of its dsn=;
// otherwise it is the DSN alone.
func TestDeliveryStatusCode(t *testing.T) {
	tests := []struct {
		name, prog, dsn, status, text string
		wantCode, wantAction          string
	}{
		{"queued", "postfix/smtp", "2.0.0", "sent", "250 2.0.0 Ok: queued as 4PbC4z6W5Qz3tG3", "250 2.0.0", schema.ActionDelivered},
		{"lmtp", "postfix/lmtp", "2.0.0", "sent", "250 2.0.0 <u@example.net> Saved", "250 2.0.0", schema.ActionDelivered},
		{"amavis reply", "postfix/amavis/smtp", "2.0.0", "sent",
			"250 2.0.0 from MTA(smtp:[127.0.0.1]:10025): 250 2.0.0 Ok: queued as 4PbC4z6W5Qz3tG3", "250 2.0.0", schema.ActionDelivered},
		{"remote said", "postfix/smtp", "5.1.1", "bounced",
			"host mx.example.net[192.0.2.7] said: 550 5.1.1 <x@example.net>: Recipient address rejected: User unknown (in reply to RCPT TO command)",
			"550 5.1.1", schema.ActionBounced},
		{"greylisted", "postfix/smtp", "4.7.1", "deferred",
			"host mx.example.net[192.0.2.7] said: 450 4.7.1 greylisted, try again (in reply to RCPT TO command)", "450 4.7.1", schema.ActionDeferred},
		{"multi-line reply", "postfix/smtp", "4.7.0", "deferred",
			"host mx.example.net[192.0.2.7] said: 421-4.7.0 try again later (in reply to end of DATA command)", "421 4.7.0", schema.ActionDeferred},
		{"refused to talk", "postfix/smtp", "5.7.1", "bounced",
			"host mx.example.net[192.0.2.7] refused to talk to me: 554 5.7.1 go away", "554 5.7.1", schema.ActionBounced},
		{"reply with another dsn", "postfix/smtp", "5.0.0", "bounced",
			"host mx.example.net[192.0.2.7] said: 550 5.1.1 no such user (in reply to RCPT TO command)", "5.0.0", schema.ActionBounced},
		{"reply without enhanced code", "postfix/smtp", "5.0.0", "bounced",
			"host mx.example.net[192.0.2.7] said: 550 No such user here (in reply to RCPT TO command)", "5.0.0", schema.ActionBounced},
		{"reply of another class", "postfix/smtp", "4.0.0", "deferred", "550 4.0.0 odd", "4.0.0", schema.ActionDeferred},
		{"dsn continues", "postfix/smtp", "2.0.0", "sent", "250 2.0.00 odd", "2.0.0", schema.ActionDelivered},
		{"no reply", "postfix/pipe", "2.0.0", "sent", "delivered via dovecot service", "2.0.0", schema.ActionDelivered},
		{"local", "postfix/local", "2.0.0", "sent", "delivered to mailbox", "2.0.0", schema.ActionDelivered},
		{"connect failure", "postfix/smtp", "4.4.1", "deferred", "connect to example.com[192.0.2.8]:25: Connection refused", "4.4.1", schema.ActionDeferred},
		{"no dsn", "postfix/smtp", "", "sent", "250 Ok", "", schema.ActionDelivered},
		{"discard", "postfix/discard", "2.0.0", "sent", "example.com", "2.0.0", schema.ActionDiscarded},
		{"discard of an instance", "postfix-out/discard", "2.0.0", "sent", "discarded by policy", "2.0.0", schema.ActionDiscarded},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dsn := ""
			if tc.dsn != "" {
				dsn = "dsn=" + tc.dsn + ", "
			}
			p := newTestParser()
			events, res := feed(t, p, "Mar 14 01:00:00 mx "+tc.prog+"[1]: 3E29030F8637E: to=<u@example.net>, relay=mx.example.net[192.0.2.7]:25, delay=1, delays=0.1/0/0.4/0.5, "+
				dsn+"status="+tc.status+" ("+tc.text+")")
			wantResults(t, res, U)
			d := only(t, events, schema.TypeDelivery)
			if d.StatusCode != tc.wantCode || d.Action != tc.wantAction || d.Status != tc.status || d.Reason != tc.text {
				t.Errorf("status_code, action, status, reason -want +got\n-%q %q %q %q\n+%q %q %q %q",
					tc.wantCode, tc.wantAction, tc.status, tc.text, d.StatusCode, d.Action, d.Status, d.Reason)
			}
		})
	}
}

func TestQmgrLines(t *testing.T) {
	p := newTestParser()
	events, res := feed(t, p,
		"Mar 14 01:00:00 mx postfix/qmgr[1]: 585BC3F: from=<a@example.com>, size=10, nrcpt=1 (queue active)",
		"Mar 14 01:00:00 mx postfix/qmgr[1]: 585BC3F: from=<a@example.com>, status=expired, returned to sender",
		"Mar 14 01:00:00 mx postfix/qmgr[1]: ED06590130AA1C9D6D862: skipped, still being delivered",
		"Mar 14 01:00:00 mx postfix/qmgr[1]: 585BC3F: to=<x@example.org>, relay=none, delay=36000, delays=36000/0/0/0, dsn=4.4.1, status=deferred (delivery temporarily suspended: connect to example.org[192.0.2.3]:25: Connection timed out)",
		"Mar 14 01:00:00 mx postfix/qmgr[1]: warning: bounce_queue_lifetime is larger than maximal_queue_lifetime",
		"Mar 14 01:00:00 mx postfix/postsuper[1]: 585BC3F: removed",
		"Mar 14 01:00:00 mx postfix/postsuper[1]: Deleted: 1 message",
	)
	wantResults(t, res, U, U, I, U, I, I, I)
	if d := only(t, events, schema.TypeDelivery); d.Action != schema.ActionDeferred || d.Size != 10 {
		t.Errorf("qmgr deferral: %s", dump(events))
	}
	st := p.Stats()
	if st[StatExpired] != 1 || st["ignored_postsuper"] != 2 || st["ignored_queue"] != 1 || len(p.queue) != 0 {
		t.Errorf("stats %v, queue %d", st, len(p.queue))
	}
}

func TestAmavis(t *testing.T) {
	p := newTestParser()
	events, res := feed(t, p,
		"Mar 14 00:08:33 mx postfix/smtpd[1]: 4PbC4x469Jz3tBr: client=mail.sender.example[185.31.160.120]",
		"Mar 14 00:08:33 mx postfix/cleanup[2]: 4PbC4x469Jz3tBr: message-id=<m1@sender.example>",
		"Mar 14 00:08:33 mx postfix/qmgr[3]: 4PbC4x469Jz3tBr: from=<a@sender.example>, size=175061, nrcpt=2 (queue active)",
		"Mar 14 00:08:35 mx postfix/10025/smtpd[4]: 4PbC4z6W5Qz3tG3: client=localhost[127.0.0.1]",
		"Mar 14 00:08:35 mx postfix/qmgr[3]: 4PbC4z6W5Qz3tG3: from=<a@sender.example>, size=175919, nrcpt=2 (queue active)",
		`Mar 14 00:08:35 mx amavis[5]: (237978-11) Passed CLEAN {RelayedInbound}, [185.31.160.120]:41695 [45.141.85.146] ESMTP/ESMTP <a@sender.example> -> <u1@example.net>,<u2@example.net>, (ESMTP://[185.31.160.120]:41695), Queue-ID: 4PbC4x469Jz3tBr, Message-ID: <m1@sender.example>, mail_id: VQp, b: _dA, Hits: 2.9, size: 175061, queued_as: 4PbC4z6W5Qz3tG3, Subject: "Say ""hi"", queued_as: fake (raw: =?utf-8?B?U2F5?=)", From: <a@sender.example>, helo=mail.sender.example, Tests: [BAYES_20=-0.001], autolearn=no autolearn_force=no, autolearnscore=3.881, dkim_i=@x...`,
		"Mar 14 00:08:35 mx amavis[5]: (237978-11) ...fer.de, dkim_sd=default:x.de, 2368 ms",
		"Mar 14 00:08:36 mx postfix/pipe[6]: 4PbC4z6W5Qz3tG3: to=<u1@example.net>, relay=dovecot, delay=0.12, delays=0.01/0.01/0/0.1, dsn=2.0.0, status=sent (delivered via dovecot service)",
		`Mar 14 00:09:00 mx amavis[5]: (237978-12) Blocked INFECTED (Eicar-Signature) {DiscardedInbound,Quarantined}, [2a01:4f8::1]:4 [2a01:4f8::1] <> -> <u1@example.net>, Queue-ID: 4PbC4x469Jz3tBs, Message-ID: <m2@x>, mail_id: a, Hits: -, size: 10, Subject: "virus", From: <>, helo=h, Tests: []`,
	)
	wantResults(t, res, U, U, U, U, U, U, I, U, U)
	var filters []*schema.Event
	for _, ev := range events {
		if ev.EventType == schema.TypeFilter {
			filters = append(filters, ev)
		}
	}
	if len(filters) != 3 {
		t.Fatalf("want 3 filter events: %s", dump(events))
	}
	f := filters[0]
	if f.Product != "amavis" || f.Action != schema.ActionDelivered || f.Status != "Passed CLEAN" || f.Sender != "a@sender.example" ||
		f.Recipient != "u1@example.net" || filters[1].Recipient != "u2@example.net" || f.SrcIP != "185.31.160.120" ||
		f.MessageID != "m1@sender.example" || f.Subject != `Say "hi", queued_as: fake` || f.QueueID != "4PbC4x469Jz3tBr" ||
		f.Size != 175061 || f.Helo != "mail.sender.example" {
		t.Errorf("amavis passed: %s", dump(filters[:1]))
	}
	b := filters[2]
	if b.Action != schema.ActionQuarantined || b.Status != "Blocked INFECTED" || b.Reason != "Eicar-Signature" ||
		!b.HasSender || b.Sender != "" || b.SrcIP != "2a01:4f8::1" {
		t.Errorf("amavis blocked: %s", dump(filters[2:]))
	}
	// The re-injected message's delivery carries the subject and the real
	// client instead of the filter's 127.0.0.1.
	d := only(t, events, schema.TypeDelivery)
	if d.Subject != `Say "hi", queued_as: fake` || d.SrcIP != "185.31.160.120" || d.SrcHost != "mail.sender.example" ||
		d.MessageID != "m1@sender.example" || d.Size != 175919 {
		t.Errorf("delivery after amavis: %s", dump([]*schema.Event{d}))
	}
}

// A BANNED verdict names the path to the banned part; the line of the
// production log in the shared corpus (pixelpark, 2023-03-15T09:33:43) is
// a disk image holding a screensaver executable, named in b.parts.
func TestAmavisBannedParts(t *testing.T) {
	p := newTestParser()
	events, res := feed(t, p,
		`2023-03-15T09:33:43.248715+01:00 helga amavis[351462]: (351462-17) Blocked BANNED (.exe,.exe-ms,Purchase Order-20230315-pdf.scr) {DiscardedInbound,Quarantined}, [212.227.15.19]:46759 [35.188.35.122] ESMTP/ESMTP <user01.test@gmx.de> -> <user01.test@uhu-banane.net>, (ESMTPS://[212.227.15.19]:46759 < ESMTPS://67.220.184.242 < esmtpsa___tls_TLS_AES_256_GCM_SHA384://35.188.35.122), quarantine: t3d7qJkAoigg, Queue-ID: 4Pc3ZX1jFxz3tBr, Message-ID: <20230315083320.C472106BAA31721C@howunited.com>, mail_id: t3d7qJkAoigg, b: yBZPxzWx2, Hits: -, size: 3233426, Subject: "Re: New Order", From: <bassam.elmasri@howunited.com>, helo=mout.gmx.net, b.key=(?^:^\\.(exe-ms|dll)$), b.com=(?^:^\\.(exe-ms|dll)$), b.rhs=1, b.parts=P=p003,L=1,M=multipart/mixed | P=p002,L=1/2,M=application/x-iso9660-image,T=iso,N=Purchase Order-20230315 & Leaflets.IMG | P=p004,L=1/2/1,T=exe,T=exe-ms,N=Purchase Order-20230315-pdf.scr, dkim_i=@oisltdng.com, dkim_sd=default:oisltdng.com, 2680 ms`,
		// Without b.parts, the verdict's own path.
		`Mar 14 00:09:00 mx amavis[5]: (237978-12) Blocked BANNED (multipart/mixed | application/zip,.zip,invoice.zip | .exe,.exe-ms,invoice.exe) {DiscardedInbound,Quarantined}, [192.0.2.9]:4 [192.0.2.9] <a@x.example> -> <u1@example.net>, Queue-ID: 4PbC4x469Jz3tBs, size: 10, Subject: "inv"`,
	)
	wantResults(t, res, U, U)
	if len(events) != 2 {
		t.Fatalf("want 2 events: %s", dump(events))
	}
	if got := events[0].AttachmentExt; !reflect.DeepEqual(got, []string{"img", "scr"}) || events[0].Status != "Blocked BANNED" {
		t.Errorf("b.parts: %s", dump(events[:1]))
	}
	if got := events[1].AttachmentName; !reflect.DeepEqual(got, []string{"invoice.zip", "invoice.exe"}) {
		t.Errorf("detail: %s", dump(events[1:]))
	}
}

// Clients' protocol violations are connect events (lines of fail2ban's
// Postfix test log and the production log in ../shared/corpus/postfix).
func TestProtocolViolations(t *testing.T) {
	p := newTestParser()
	events, res := feed(t, p,
		"Jun 12 08:58:35 xxx postfix/smtpd[13533]: improper command pipelining after AUTH from unknown[1.2.3.4]: QUIT",
		"Jan 12 11:07:49 emf1pt2-2-35-70 postfix/smtpd[13767]: improper command pipelining after DATA from unknown[181.21.131.88]:",
		"2023-03-14T04:52:51.090178+01:00 helga postfix/submission/smtpd[320809]: warning: non-SMTP command from unknown[198.235.24.129]: GET / HTTP/1.1",
		`2023-03-14T14:03:11.332827+01:00 helga postfix/postscreen[3163107]: COMMAND PIPELINING from [167.248.133.35]:51286 after ??????: \300$\300\255`,
		`Mar 14 00:00:00 mx postfix/postscreen[1]: NON-SMTP COMMAND from [192.0.2.4]:41126 after EHLO: GET / HTTP/1.1`,
		`2023-03-14T14:03:11.330967+01:00 helga postfix/postscreen[3163107]: BARE NEWLINE from [167.248.133.35]:51286 after \026\003\003\001`,
		// PREGREET stays noise.
		"Mar 14 01:00:00 mx postfix/postscreen[1]: PREGREET 11 after 0.23 from [180.214.239.18]:59187: EHLO User\\r\\n",
	)
	wantResults(t, res, U, U, U, U, U, U, I)
	type got struct{ status, action, ip, reason string }
	want := []got{
		{"pipelining", "warned", "1.2.3.4", "improper command pipelining after AUTH: QUIT"},
		{"pipelining", "warned", "181.21.131.88", "improper command pipelining after DATA"},
		{"non_smtp", "rejected", "198.235.24.129", "non-SMTP command: GET / HTTP/1.1"},
		{"pipelining", "warned", "167.248.133.35", `COMMAND PIPELINING: ??????: \300$\300\255`},
		{"non_smtp", "rejected", "192.0.2.4", "NON-SMTP COMMAND after EHLO: GET / HTTP/1.1"},
		{"bare_newline", "warned", "167.248.133.35", `BARE NEWLINE: \026\003\003\001`},
	}
	if len(events) != len(want) {
		t.Fatalf("%d events, want %d: %s", len(events), len(want), dump(events))
	}
	for i, e := range events {
		if g := (got{e.Status, e.Action, e.SrcIP, e.Reason}); e.EventType != schema.TypeConnect || g != want[i] {
			t.Errorf("event %d: %s\n got %+v\nwant %+v", i, e.EventType, g, want[i])
		}
	}
	// What the client sent is kept short.
	long := "Mar 14 00:00:00 mx postfix/postscreen[1]: BARE NEWLINE from [192.0.2.5]:1 after " + strings.Repeat("\\300", 100)
	events, _ = feed(t, newTestParser(), long)
	if len(events) != 1 || len(events[0].Reason) > len("BARE NEWLINE: ")+maxProtocolText+3 {
		t.Errorf("long junk: %s", dump(events))
	}
}

// Attachment names logged for the message before amavis reach the
// deliveries of the message amavis re-injects, merged with the names logged
// for that one (header checks may run on both hops).
func TestAmavisCarriesAttachments(t *testing.T) {
	const from = " from mail.sender.example[185.31.160.120]; from=<a@sender.example> to=<u1@example.net> proto=ESMTP helo=<mail.sender.example>"
	p := newTestParser()
	events, res := feed(t, p,
		"Mar 14 00:08:33 mx postfix/smtpd[1]: 4PbC4x469Jz3tBr: client=mail.sender.example[185.31.160.120]",
		"Mar 14 00:08:33 mx postfix/cleanup[2]: 4PbC4x469Jz3tBr: warning: header Content-Type: application/x-msdownload; name=\"a.exe\""+from,
		"Mar 14 00:08:33 mx postfix/cleanup[2]: 4PbC4x469Jz3tBr: warning: header Content-Disposition: attachment; filename=\"a.exe\""+from,
		"Mar 14 00:08:33 mx postfix/cleanup[2]: 4PbC4x469Jz3tBr: warning: header Content-Disposition: attachment; filename=\"c.zip\""+from,
		"Mar 14 00:08:35 mx postfix/10025/smtpd[4]: 4PbC4z6W5Qz3tG3: client=localhost[127.0.0.1]",
		"Mar 14 00:08:35 mx postfix/cleanup[2]: 4PbC4z6W5Qz3tG3: warning: header Content-Disposition: attachment; filename=\"a.exe\" from localhost[127.0.0.1]; from=<a@sender.example> to=<u1@example.net> proto=ESMTP helo=<localhost>",
		`Mar 14 00:08:35 mx amavis[5]: (237978-11) Passed CLEAN {RelayedInbound}, [185.31.160.120]:41695 [45.141.85.146] ESMTP/ESMTP <a@sender.example> -> <u1@example.net>, Queue-ID: 4PbC4x469Jz3tBr, Message-ID: <m1@sender.example>, mail_id: VQp, Hits: 2.9, size: 175061, queued_as: 4PbC4z6W5Qz3tG3, Subject: "s", From: <a@sender.example>, helo=mail.sender.example, Tests: []`,
		"Mar 14 00:08:36 mx postfix/pipe[6]: 4PbC4z6W5Qz3tG3: to=<u1@example.net>, relay=dovecot, delay=0.12, delays=0.01/0.01/0/0.1, dsn=2.0.0, status=sent (delivered via dovecot service)",
	)
	wantResults(t, res, U, U, U, U, U, U, U, U)
	d := only(t, events, schema.TypeDelivery)
	want := []schema.Attachment{
		{Name: "a.exe", Ext: "exe", Type: "application/x-msdownload"},
		{Name: "c.zip", Ext: "zip"},
	}
	if !reflect.DeepEqual(d.Attachments, want) || d.SrcIP != "185.31.160.120" || d.Helo != "mail.sender.example" {
		t.Errorf("delivery after amavis -want +got\n-%+v 185.31.160.120 mail.sender.example\n+%+v %s %s",
			want, d.Attachments, d.SrcIP, d.Helo)
	}
}

// Without an amavis line (other content filters), the filter hop's
// delivery "status=sent (250 2.0.0 Ok: queued as NEWID)" to a loopback relay
// links the two queue ids: the re-injected message inherits what it lacks of
// the original's sender side. Its own client= line (the filter, on
// localhost) may come before or after that delivery line; a loopback client
// never replaces a real one, so the order does not matter.
func TestContentFilterLink(t *testing.T) {
	const (
		hdr   = " from mail.sender.example[192.0.2.10]; from=<a@sender.example> to=<u@example.net> proto=ESMTP helo=<mail.sender.example>"
		x     = "Mar 14 00:08:3"
		y     = "Mar 14 00:08:3"
		relay = "127.0.0.1[127.0.0.1]:10025"
	)
	orig := []string{
		x + "0 mx postfix/submission/smtpd[1]: 4PbC4x469Jz3tBr: client=mail.sender.example[192.0.2.10], sasl_method=PLAIN, sasl_username=alice",
		x + "0 mx postfix/cleanup[2]: 4PbC4x469Jz3tBr: message-id=<m1@sender.example>",
		x + "0 mx postfix/cleanup[2]: 4PbC4x469Jz3tBr: warning: header Subject: Hello" + hdr,
		x + "0 mx postfix/cleanup[2]: 4PbC4x469Jz3tBr: warning: header Content-Disposition: attachment; filename=\"a.exe\"" + hdr,
		x + "1 mx postfix/qmgr[3]: 4PbC4x469Jz3tBr: from=<a@sender.example>, size=1000, nrcpt=1 (queue active)",
	}
	client := y + "2 mx postfix/10026/smtpd[4]: 4PbC4z6W5Qz3tG3: client=localhost[127.0.0.1]"
	ownHeader := y + "2 mx postfix/cleanup[2]: 4PbC4z6W5Qz3tG3: warning: header X-Filtered: yes from localhost[127.0.0.1]; from=<a@sender.example> to=<u@example.net> proto=ESMTP helo=<localhost>"
	qmgr := y + "2 mx postfix/qmgr[3]: 4PbC4z6W5Qz3tG3: from=<a@sender.example>, size=1200, nrcpt=1 (queue active)"
	hop := func(relay string) string {
		return x + "3 mx postfix/smtp[5]: 4PbC4x469Jz3tBr: to=<u@example.net>, relay=" + relay + ", delay=3, delays=1/0/0/2, dsn=2.0.0, status=sent (250 2.0.0 Ok: queued as 4PbC4z6W5Qz3tG3)"
	}
	removed := x + "3 mx postfix/qmgr[3]: 4PbC4x469Jz3tBr: removed"
	final := y + "4 mx postfix/lmtp[6]: 4PbC4z6W5Qz3tG3: to=<u@example.net>, relay=store[private/lmtp], delay=1, delays=0/0/0/1, dsn=2.0.0, status=sent (250 2.0.0 Saved)"

	linked := schema.Event{SrcIP: "192.0.2.10", SrcHost: "mail.sender.example", Helo: "mail.sender.example", AuthUser: "alice",
		Subject: "Hello", MessageID: "m1@sender.example", Size: 1200,
		Attachments: []schema.Attachment{{Name: "a.exe", Ext: "exe"}}}
	unlinked := schema.Event{SrcIP: "127.0.0.1", SrcHost: "localhost", Size: 1200}
	tests := []struct {
		name  string
		lines []string
		want  schema.Event
	}{
		{"client line first", append(slices.Clone(orig), client, qmgr, hop(relay), removed, final), linked},
		{"hop line first", append(slices.Clone(orig), hop(relay), removed, client, qmgr, final), linked},
		{"hop line between", append(slices.Clone(orig), client, hop(relay), qmgr, removed, final), linked},
		{"own header line first", append(slices.Clone(orig), client, ownHeader, qmgr, hop(relay), removed, final), linked},
		{"own header line last", append(slices.Clone(orig), hop(relay), client, ownHeader, qmgr, removed, final), linked},
		{"ipv6 loopback", append(slices.Clone(orig), client, qmgr, hop("localhost[::1]:10025"), removed, final), linked},
		{"loopback network", append(slices.Clone(orig), client, qmgr, hop("[127.0.0.2]:10025"), removed, final), linked},
		{"remote relay is no filter", append(slices.Clone(orig), client, qmgr, hop("mx.example.net[192.0.2.7]:25"), removed, final), unlinked},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := newTestParser()
			events, res := feed(t, p, tc.lines...)
			for i, r := range res {
				if r == N {
					t.Errorf("line %d: %v", i+1, r)
				}
			}
			var d *schema.Event
			for _, ev := range events {
				if ev.EventType == schema.TypeDelivery && ev.QueueID == "4PbC4z6W5Qz3tG3" {
					d = ev
				}
			}
			if d == nil {
				t.Fatalf("no final delivery: %s", dump(events))
			}
			got := schema.Event{SrcIP: d.SrcIP, SrcHost: d.SrcHost, Helo: d.Helo, AuthUser: d.AuthUser, Subject: d.Subject,
				MessageID: d.MessageID, Size: d.Size, Attachments: d.Attachments}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("final delivery -want +got\n-%s+%s", dump([]*schema.Event{&tc.want}), dump([]*schema.Event{&got}))
			}
		})
	}
}

// State made by a link waits for the re-injected message's first line only
// briefly: a queue id that shows up again much later is another message.
func TestContentFilterLinkIsNotKeptForever(t *testing.T) {
	p := newTestParser()
	events, _ := feed(t, p,
		"Mar 14 00:08:30 mx postfix/smtpd[1]: 4PbC4x469Jz3tBr: client=mail.sender.example[192.0.2.10]",
		"Mar 14 00:08:33 mx postfix/smtp[5]: 4PbC4x469Jz3tBr: to=<u@example.net>, relay=127.0.0.1[127.0.0.1]:10025, delay=3, delays=1/0/0/2, dsn=2.0.0, status=sent (250 2.0.0 Ok: queued as 4PbC4z6W5Qz3tG3)",
		"Mar 14 03:00:00 mx postfix/smtpd[1]: 4PbC4z6W5Qz3tG3: client=other.example[192.0.2.99]",
		"Mar 14 03:00:01 mx postfix/local[6]: 4PbC4z6W5Qz3tG3: to=<u@example.net>, relay=local, delay=1, delays=0/0/0/1, dsn=2.0.0, status=sent (delivered to mailbox)",
	)
	if d := events[len(events)-1]; d.SrcIP != "192.0.2.99" || d.SrcHost != "other.example" {
		t.Errorf("src -want +got\n-192.0.2.99 other.example\n+%s %s", d.SrcIP, d.SrcHost)
	}
}

// The hop's line may come after the re-injected message was delivered and
// removed; the link must not bring its state back to wait for a sweep.
func TestContentFilterLinkAfterRemoved(t *testing.T) {
	p := newTestParser()
	_, res := feed(t, p,
		"Mar 14 00:08:30 mx postfix/smtpd[1]: 4PbC4x469Jz3tBr: client=mail.sender.example[192.0.2.10]",
		"Mar 14 00:08:31 mx postfix/10025/smtpd[4]: 4PbC4z6W5Qz3tG3: client=localhost[127.0.0.1]",
		"Mar 14 00:08:31 mx postfix/local[6]: 4PbC4z6W5Qz3tG3: to=<u@example.net>, relay=local, delay=1, delays=0/0/0/1, dsn=2.0.0, status=sent (delivered to mailbox)",
		"Mar 14 00:08:31 mx postfix/qmgr[3]: 4PbC4z6W5Qz3tG3: removed",
		"Mar 14 00:08:32 mx postfix/smtp[5]: 4PbC4x469Jz3tBr: to=<u@example.net>, relay=127.0.0.1[127.0.0.1]:10025, delay=3, delays=1/0/0/2, dsn=2.0.0, status=sent (250 2.0.0 Ok: queued as 4PbC4z6W5Qz3tG3)",
		"Mar 14 00:08:32 mx postfix/qmgr[3]: 4PbC4x469Jz3tBr: removed",
	)
	wantResults(t, res, U, U, U, U, U, U)
	if got := p.Stats()[StatQueueLen]; got != 0 {
		t.Errorf("queue_len -want +got\n-0\n+%d (%v)", got, p.queue)
	}
}

func TestQueueFlushByAge(t *testing.T) {
	p := New(normalize.Options{Year: 2024, MaxQueueAge: time.Hour})
	_, _ = feed(t, p,
		"Mar 14 01:00:00 mx postfix/qmgr[1]: AAAAA1: from=<a@example.com>, size=1, nrcpt=1 (queue active)",
		"Mar 14 01:30:00 mx postfix/qmgr[1]: BBBBB2: from=<b@example.com>, size=1, nrcpt=1 (queue active)",
	)
	if len(p.queue) != 2 {
		t.Fatalf("queue = %d, want 2", len(p.queue))
	}
	// At 02:20 the first message has been silent for 1h20 and goes; the
	// second is refreshed by its line and stays, as does a new one.
	_, _ = feed(t, p,
		"Mar 14 02:20:00 mx postfix/qmgr[1]: BBBBB2: from=<b@example.com>, size=1, nrcpt=1 (queue active)",
		"Mar 14 03:00:00 mx postfix/qmgr[1]: CCCCC3: from=<c@example.com>, size=1, nrcpt=1 (queue active)",
	)
	if p.queue["AAAAA1"] != nil || p.queue["BBBBB2"] == nil || p.queue["CCCCC3"] == nil {
		t.Errorf("after sweep: %v", p.queue)
	}
	if got := p.Stats()[StatFlushedIncomplete]; got != 1 {
		t.Errorf("flushed_incomplete = %d, want 1", got)
	}
	// A delivery for the flushed message still makes its event, without
	// the message fields, and is counted.
	events, _ := feed(t, p, "Mar 14 03:00:01 mx postfix/smtp[1]: AAAAA1: to=<x@example.org>, relay=none, delay=7200, dsn=4.4.1, status=deferred (timeout)")
	if d := only(t, events, schema.TypeDelivery); d.HasSender || d.QueueID != "AAAAA1" {
		t.Errorf("delivery of a flushed message: %s", dump(events))
	}
	p.Flush(func(*schema.Event) { t.Errorf("Flush emitted an event") })
	st := p.Stats()
	if st[StatPendingAtEnd] != 2 || st[StatQueueLen] != 0 || st[StatOrphanDeliveries] != 1 || st[StatQueuePeak] != 2 {
		t.Errorf("stats after Flush: %v", st)
	}
}

// The number of messages held is capped too: a log without its "removed"
// lines would otherwise grow the state until the age sweep. Over the cap,
// the least recently active messages go in bulk (a tenth of the cap, so
// that the cost is paid rarely) and are counted as flushed_incomplete.
func TestQueueFlushByCount(t *testing.T) {
	if DefaultMaxPending != 200000 || newTestParser().maxPending != DefaultMaxPending {
		t.Fatalf("default cap = %d, parser cap %d", DefaultMaxPending, newTestParser().maxPending)
	}
	p := newTestParser()
	p.maxPending = 10
	var lines []string
	for i := 0; i < 10; i++ {
		lines = append(lines, "Mar 14 01:0"+strconv.Itoa(i)+":00 mx postfix/qmgr[1]: AAAAA"+strconv.Itoa(i)+": from=<a@example.com>, size=1, nrcpt=1 (queue active)")
	}
	// AAAAA0 is the oldest but active again; AAAAA1 and AAAAA2 are now the
	// least recently active.
	lines = append(lines,
		"Mar 14 01:10:00 mx postfix/smtp[1]: AAAAA0: to=<x@example.org>, relay=none, delay=1, dsn=4.4.1, status=deferred (timeout)",
		"Mar 14 01:11:00 mx postfix/qmgr[1]: BBBBB0: from=<b@example.com>, size=1, nrcpt=1 (queue active)",
	)
	_, _ = feed(t, p, lines...)
	var held []string
	for id := range p.queue {
		held = append(held, id)
	}
	slices.Sort(held)
	want := []string{"AAAAA0", "AAAAA3", "AAAAA4", "AAAAA5", "AAAAA6", "AAAAA7", "AAAAA8", "AAAAA9", "BBBBB0"}
	if !slices.Equal(held, want) {
		t.Errorf("held -want +got\n-%v\n+%v", want, held)
	}
	st := p.Stats()
	if st[StatFlushedIncomplete] != 2 || st[StatQueuePeak] != 10 || st[StatQueueLen] != 9 {
		t.Errorf("flushed_incomplete, queue_peak, queue_len -want +got\n-2 10 9\n+%d %d %d",
			st[StatFlushedIncomplete], st[StatQueuePeak], st[StatQueueLen])
	}
	// Messages held before the cap was hit are unaffected below it.
	_, _ = feed(t, p, "Mar 14 01:12:00 mx postfix/qmgr[1]: BBBBB1: from=<b@example.com>, size=1, nrcpt=1 (queue active)")
	if got := p.Stats()[StatFlushedIncomplete]; got != 2 || len(p.queue) != 10 {
		t.Errorf("below the cap: flushed %d, held %d", got, len(p.queue))
	}
}

// A short queue id comes back once its message is gone; when the "removed"
// line was missed, the old message's fields must not stick to the new one.
func TestQueueIDReuse(t *testing.T) {
	p := newTestParser()
	events, res := feed(t, p,
		"Mar 14 01:00:00 mx postfix/smtpd[1]: 1234ABCD: client=a.example[192.0.2.1]",
		"Mar 14 01:00:00 mx postfix/cleanup[2]: 1234ABCD: message-id=<old@a.example>",
		"Mar 14 01:00:00 mx postfix/cleanup[2]: 1234ABCD: warning: header Subject: old from a.example[192.0.2.1]; from=<a@a.example> to=<x@example.com> proto=ESMTP helo=<a>",
		"Mar 14 02:00:00 mx postfix/pickup[3]: 1234ABCD: uid=1000 from=<bob>\r",
		"Mar 14 02:00:00 mx postfix/cleanup[2]: 1234ABCD: message-id=<new@b.example>",
		"Mar 14 02:00:01 mx postfix/local[4]: 1234ABCD: to=<x@example.com>, relay=local, delay=1, delays=1/0/0/0, dsn=2.0.0, status=sent (delivered to mailbox)\r",
	)
	wantResults(t, res, U, U, U, U, U, U)
	d := only(t, events, schema.TypeDelivery)
	if d.MessageID != "new@b.example" || d.Subject != "" || d.SrcIP != "" || d.Sender != "bob" || d.Reason != "delivered to mailbox" {
		t.Errorf("reused queue id: %s", dump(events))
	}
}

// The December lines of a January archive belong to the previous year; the
// parser takes the year from the file's modification time via BeginFile.
func TestYearRollFromModTime(t *testing.T) {
	p := New(normalize.Options{Now: func() time.Time { return time.Date(2030, 6, 1, 0, 0, 0, 0, time.UTC) }})
	p.BeginFile("mail.log.1", time.Date(2024, 1, 1, 6, 25, 0, 0, time.UTC))
	events, _ := feed(t, p,
		"Dec 31 23:59:59 mx postfix/smtpd[1]: NOQUEUE: reject: RCPT from x[192.0.2.1]: 554 5.7.1 <a@b>: Relay access denied; from=<c@d> to=<a@b> proto=SMTP helo=<x>",
		"Jan  1 00:00:01 mx postfix/smtpd[1]: NOQUEUE: reject: RCPT from x[192.0.2.1]: 554 5.7.1 <a@b>: Relay access denied; from=<c@d> to=<a@b> proto=SMTP helo=<x>",
	)
	if len(events) != 2 || events[0].Time.Year() != 2023 || events[1].Time.Year() != 2024 {
		t.Fatalf("years: %s", dump(events))
	}
	// A live stream without ModTime rolls over on its own.
	p = New(normalize.Options{Year: 2023})
	events, _ = feed(t, p,
		"Dec 31 23:59:59 mx postfix/smtpd[1]: NOQUEUE: reject: RCPT from x[192.0.2.1]: 554 5.7.1 <a@b>: Relay access denied; from=<c@d> to=<a@b> proto=SMTP helo=<x>",
		"Jan  1 00:00:01 mx postfix/smtpd[1]: NOQUEUE: reject: RCPT from x[192.0.2.1]: 554 5.7.1 <a@b>: Relay access denied; from=<c@d> to=<a@b> proto=SMTP helo=<x>",
	)
	if events[0].Time.Year() != 2023 || events[1].Time.Year() != 2024 {
		t.Errorf("live roll: %s", dump(events))
	}
	// --year with a file: the CLI passes the file's mtime too, and the
	// explicit year must still roll over.
	p = New(normalize.Options{Year: 2025})
	p.BeginFile("mail.log", time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC))
	events, _ = feed(t, p,
		"Dec 31 23:59:58 mx postfix/smtpd[1]: NOQUEUE: reject: RCPT from x[192.0.2.1]: 554 5.7.1 <a@b>: Relay access denied; from=<c@d> to=<a@b> proto=SMTP helo=<x>",
		"Jan  1 00:00:01 mx postfix/smtpd[1]: NOQUEUE: reject: RCPT from x[192.0.2.1]: 554 5.7.1 <a@b>: Relay access denied; from=<c@d> to=<a@b> proto=SMTP helo=<x>",
	)
	want := []time.Time{time.Date(2025, 12, 31, 23, 59, 58, 0, time.UTC), time.Date(2026, 1, 1, 0, 0, 1, 0, time.UTC)}
	if len(events) != 2 || !events[0].Time.Equal(want[0]) || !events[1].Time.Equal(want[1]) {
		t.Errorf("--year with mtime -want +got\n-%v\n+%s", want, dump(events))
	}
}

func TestNoiseIsCounted(t *testing.T) {
	lines := map[string]string{
		"connection":    "postfix/smtpd[1]: lost connection after AUTH from unknown[192.0.2.23]",
		"tls":           "postfix/smtpd[1]: Anonymous TLS connection established from x[192.0.2.1]: TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits)",
		"postscreen":    "postfix/postscreen[1]: PREGREET 11 after 0.23 from [180.214.239.18]:59187: EHLO User\\r\\n",
		"dnsblog":       "postfix/dnsblog[1]: addr 180.214.239.18 listed by domain zen.spamhaus.org as 127.0.0.4",
		"anvil":         "postfix/anvil[1]: statistics: max connection rate 1/60s for (smtpd:61.238.241.86) at Oct 26 18:13:50",
		"tlsproxy":      "postfix/tlsproxy[1]: CONNECT from [82.118.17.142]:51637",
		"scache":        "postfix/scache[1]: statistics: domain lookup hits=0 miss=1 success=0%",
		"master":        "postfix/master[1]: daemon started -- version 3.7.2, configuration /etc/postfix",
		"protocol":      "postfix/smtpd[1]: bare <LF> received after DATA from unknown[192.0.2.1]",
		"smtpd_info":    "postfix/smtpd[1]: NOQUEUE: filter: RCPT from unknown[85.25.255.255]: <m@s.com>: Sender address triggers FILTER smtp-amavis:[127.0.0.1]:10024; from=<m@s.com> to=<u@d.com> proto=ESMTP helo=<p>",
		"delivery_info": "postfix/smtp[1]: ED59C3D: host mail2.example.com[1.74.253.23] said: 450 4.7.1 greylisted (in reply to RCPT TO command)",
		"error":         "postfix/sendmail[1]: fatal: root(0): message file too big",
		"admin":         "postfix/postfix-script[1]: starting the Postfix mail system",
		"amavis":        "amavis[1]: (12-1) ...no autolearn_force=no, 2131 ms",
		"cleanup_info":  "postfix/cleanup[1]: ADD2F8052: resent-message-id=<x@y>",
	}
	for cat, l := range lines {
		p := newTestParser()
		events, res := feed(t, p, "Mar 14 01:00:00 mx "+l)
		wantResults(t, res, I)
		if len(events) != 0 || p.Stats()["ignored_"+cat] != 1 {
			t.Errorf("%s: events %d, stats %v", cat, len(events), p.Stats())
		}
	}
}

// A real /var/log/mail.log holds other programs' lines too: they are
// syslog lines, recognized and counted, not parse failures. So are syslogd's
// repeat notices and blank lines.
func TestOtherLinesIgnored(t *testing.T) {
	tests := []struct {
		line, cat string
	}{
		{"Mar 14 01:00:00 mx opendkim[812]: 4PbC4x469Jz3tBr: DKIM-Signature field added (s=mail, d=example.com)", "other_program"},
		{"Mar 14 01:00:00 mx dovecot: imap-login: Login: user=<u@example.com>, method=PLAIN, rip=192.0.2.1, lip=192.0.2.2, mpid=1, TLS", "other_program"},
		{"Mar 14 01:00:00 mx dovecot[9]: lmtp(u@example.com)<1><x>: msgid=<m@x>: saved mail to INBOX", "other_program"},
		{"Mar 14 01:00:00 mx spamd[3]: spamd: result: . 0 - BAYES_00 scantime=0.3,size=2048,user=u,uid=1,required_score=5.0,rhost=localhost,raddr=127.0.0.1,rport=1,mid=<m@x>,bayes=0,autolearn=ham", "other_program"},
		{"Mar 14 01:00:00 mx postgrey[4]: action=greylist, reason=new, client_name=x.example, client_address=192.0.2.1, sender=a@b.example, recipient=c@d.example", "other_program"},
		{"Mar 14 01:00:00 mx policyd-spf[5]: prepend Received-SPF: Pass (mailfrom) identity=mailfrom; client-ip=192.0.2.1; helo=x; envelope-from=a@b; receiver=<UNKNOWN>", "other_program"},
		{"Mar 14 01:00:00 mx rsyslogd: [origin software=\"rsyslogd\" swVersion=\"8.2102.0\" x-pid=\"1\"] rsyslogd was HUPed", "other_program"},
		{"2024-03-14T01:00:00.123456+00:00 mx kernel: [1.0] eth0: link up", "other_program"},
		{"Mar 14 01:00:00 mx last message repeated 3 times", "syslog_repeat"},
		{"Mar 14 01:00:00 mx --- last message repeated 2 times ---", "syslog_repeat"},
		{"Mar 14 01:00:00 mx postfix/smtpd[1]: message repeated 5 times: [ lost connection after AUTH from unknown[192.0.2.23]]", "syslog_repeat"},
		{"Mar 14 01:00:00 mx dovecot[2]: message repeated 2 times: [ imap-login: Disconnected]", "syslog_repeat"},
		{"", "blank"},
		{" ", "blank"},
		{"\t  \t", "blank"},
		{"\r", "blank"},
		{" \f\v\r", "blank"},
	}
	for _, tc := range tests {
		p := newTestParser()
		events, res := feed(t, p, tc.line)
		wantResults(t, res, I)
		got := p.Stats()
		for k := range got {
			if !strings.HasPrefix(k, "ignored_") || got[k] == 0 {
				delete(got, k)
			}
		}
		want := map[string]int{"ignored_" + tc.cat: 1}
		if len(events) != 0 || !reflect.DeepEqual(got, want) {
			t.Errorf("%q: %d events; ignored counters -want +got\n-%v\n+%v", tc.line, len(events), want, got)
		}
	}
}

func TestNotUnderstood(t *testing.T) {
	for _, l := range []string{
		"garbage",
		"  garbage after blanks",
		"Mar 14 01:00:00",
		"Mar 14 01:00:00 mx untagged text",
		"Mar 14 01:00:00 mx",
		"Mar 14 01:00:00 mx postfix/smtpd[1]: something new",
		"Mar 14 01:00:00 mx postfix/smtpd[1]: NOQUEUE: reject: RCPT",
		"Mar 14 01:00:00 mx postfix/qmgr[1]: 585BC3F: something",
		"Mar 14 01:00:00 mx postfix/smtp[1]: 585BC3F: to=<x@y>, relay=none",
		"Mar 14 01:00:00 mx amavis[1]: (1-1) Passed CLEAN no arrow",
		"Mar 14 01:00:00 mx postfix/bounce[1]: something",
	} {
		p := newTestParser()
		events, res := feed(t, p, l)
		wantResults(t, res, N)
		if len(events) != 0 {
			t.Errorf("%q: events %s", l, dump(events))
		}
	}
}

func TestStatsKeys(t *testing.T) {
	keys := StatsKeys()
	p := newTestParser()
	for k := range p.Stats() {
		if !slices.Contains(keys, k) {
			t.Errorf("Stats key %q missing from StatsKeys", k)
		}
	}
	for _, k := range []string{StatFlushedIncomplete, StatPendingAtEnd, "ignored_postscreen", "ignored_warning"} {
		if !slices.Contains(keys, k) {
			t.Errorf("StatsKeys lacks %q", k)
		}
	}
}

func TestScanHelpers(t *testing.T) {
	for _, tc := range []struct {
		in      string
		id      string
		isQueue bool
	}{
		{"4PbC4x469Jz3tBr: x", "4PbC4x469Jz3tBr", true},
		{"0D7037A4: x", "0D7037A4", true},
		{"ED06590130AA1C9D6D862: x", "ED06590130AA1C9D6D862", true},
		{"warning: x", "", false},
		{"statistics: x", "", false},
		{"NOQUEUE: x", "", false},
		{"ABCD: x", "", false}, // too short
		{"4PbC4x469Jz3tBr:x", "", false},
	} {
		id, _, ok := splitQueueID(tc.in)
		if ok != tc.isQueue || id != tc.id {
			t.Errorf("splitQueueID(%q) = %q, %v", tc.in, id, ok)
		}
	}
	for _, tc := range []struct{ in, code, text string }{
		{"554 5.7.1 <x@y>: Relay access denied", "554 5.7.1", "Relay access denied"},
		{"5.7.1 Blocked by SpamAssassin", "5.7.1", "Blocked by SpamAssassin"},
		{"450 4.7.1 : Helo command rejected", "450 4.7.1", "Helo command rejected"},
		{"421-4.7.0 try later", "421-4.7.0", "try later"},
		{"too many connections", "", "too many connections"},
		{"550 5.12.345 <u>: x", "550 5.12.345", "x"},
		{"", "", ""},
	} {
		code, text := parseReply(tc.in)
		if code != tc.code || text != tc.text {
			t.Errorf("parseReply(%q) = %q, %q", tc.in, code, text)
		}
	}
}

// FuzzParse feeds arbitrary lines, alone and after a primed message state,
// and checks that the parser never panics and only emits valid events.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"Mar 14 00:08:33 mx postfix/smtpd[1]: 4PbC4x469Jz3tBr: client=mail.example[185.31.160.120], sasl_method=PLAIN, sasl_username=u",
		"2023-03-14T00:08:35.948047+01:00 helga postfix/amavis/smtp[2]: 4PbC4x469Jz3tBr: to=<u@example.net>, orig_to=<o@example.de>, relay=127.0.0.1[127.0.0.1]:10024, delay=2.4, delays=0.29/0.02/0.01/2.1, dsn=2.0.0, status=sent (250 2.0.0 Ok: queued as 4PbC4z6W5Qz3tG3)",
		"May  8 08:26:55 mail postfix/postscreen[3]: NOQUEUE: reject: RCPT from [157.122.148.242]:47407: 550 5.7.1 Service unavailable; client [157.122.148.242] blocked using bl.spamcop.net; from=<k@m.example>, to=<z@v.example>, proto=ESMTP, helo=<XL>",
		"Aug 13 16:06:58 mx postfix/cleanup[4]: 8B7EF2BB7: reject: header Subject: =?utf-8?Q?x?= from unknown[192.168.7.245]; from=<a@b> to=<c@d> proto=ESMTP helo=<h>: 550 5.7.1 no",
		"Mar 14 00:00:00 mx postfix/cleanup[5]: 4PbC4x469Jz3tBr: warning: header Content-Disposition: attachment; filename*=UTF-8''a%ZZ.exe from x[1.2.3.4]; from=<a@b> to=<c@d>",
		`Mar 14 00:08:35 mx amavis[6]: (1-1) Passed CLEAN {RelayedInbound}, [1.2.3.4]:1 [5.6.7.8] ESMTP/ESMTP <a@b> -> <c@d>,<e@f>, Queue-ID: 4PbC4x469Jz3tBr, Message-ID: <m>, size: 1, queued_as: 4PbC4z6W5Qz3tG3, Subject: "a""b`,
		"Mar 14 00:00:00 mx postfix/smtpd[7]: warning: unknown[1.2.3.4]:5: SASL LOGIN authentication failed: x, sasl_username=",
		"Mar 14 00:00:00 mx postfix/qmgr[8]: 4PbC4x469Jz3tBr: from=<>, size=99999999999999999999, nrcpt=-1 (queue active)",
		"Mar 14 00:00:00 mx postfix/smtpd[9]: NOQUEUE: reject: RCPT from [: 5",
		"Mar 14 00:00:00 mx postfix/local[10]: 4PbC4x469Jz3tBr: to=<a@b, status=sent (",
		"Mar 14 00:00:00 mx postfix/smtpd[11]: improper command pipelining after  from [",
		"Mar 14 00:00:00 mx postfix/postscreen[12]: COMMAND PIPELINING from [1.2.3.4]:5 after : \\300",
		`Mar 14 00:00:00 mx amavis[13]: (1-1) Blocked BANNED (x) {}, [1.2.3.4]:1 [1.2.3.4] <a@b> -> <c@d>, b.parts=N= | N=,P=p1,M=a/b | L=1,N=x.zip,`,
	} {
		f.Add(s)
	}
	// Real lines too, when the corpus is there: every line of the small
	// files and a sample of the production log.
	if dir, err := filepath.Abs(filepath.Join(corpustest.Root(), "postfix")); err == nil {
		if _, err := os.Stat(dir); err == nil {
			for _, cf := range corpusFiles(f, dir) {
				rc, err := openCorpus(filepath.Join(dir, cf.path))
				if err != nil {
					continue
				}
				sc := bufio.NewScanner(rc)
				sc.Buffer(make([]byte, 0, 64<<10), 4<<20)
				for n := 0; sc.Scan(); n++ {
					if text, ok := cf.extract(sc.Text()); ok && (!strings.HasSuffix(cf.path, ".gz") || n%500 == 0) {
						f.Add(text)
					}
				}
				rc.Close()
			}
		}
	}
	f.Fuzz(func(t *testing.T, text string) {
		p := New(normalize.Options{Year: 2024, MaxQueueAge: time.Minute})
		check := func(ev *schema.Event) {
			if ev.EventType == "" || ev.Action == "" {
				t.Errorf("event without type or action: %+v", ev)
			}
			b := ev.AppendJSON(nil)
			if !json.Valid(b) {
				t.Errorf("invalid JSON: %s", b)
			}
		}
		prime := "Mar 14 00:00:00 mx postfix/qmgr[1]: 4PbC4x469Jz3tBr: from=<a@b>, size=1, nrcpt=1 (queue active)"
		p.Parse(schema.Line{Text: prime, File: "f", Number: 1}, check)
		for i, l := range strings.Split(text, "\n") {
			r := p.Parse(schema.Line{Text: l, File: "f", Number: i + 2}, check)
			if r > normalize.NotUnderstood {
				t.Errorf("result %v", r)
			}
		}
		p.Flush(check)
		_ = p.Stats()
	})
}

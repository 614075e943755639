package exim

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/detect-dev/detect/internal/corpustest"
	"github.com/detect-dev/detect/normalize"
	"github.com/detect-dev/detect/schema"
)

const (
	U = normalize.Understood
	I = normalize.Ignored
	N = normalize.NotUnderstood
)

// feed runs lines through p and returns the events and per-line results.
func feed(t *testing.T, p *Parser, lines ...string) ([]*schema.Event, []normalize.Result) {
	t.Helper()
	var events []*schema.Event
	var results []normalize.Result
	for i, l := range lines {
		r := p.Parse(schema.Line{Text: l, File: "mainlog", Number: i + 1}, func(ev *schema.Event) {
			events = append(events, ev)
		})
		results = append(results, r)
	}
	return events, results
}

func newTestParser() *Parser {
	return New(normalize.Options{Year: 2026})
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
		t.Fatalf("want one %s event, got %d:\n%s", typ, len(found), dump(events))
	}
	return found[0]
}

// wantJSON compares an event's JSON encoding without the source fields.
func wantJSON(t *testing.T, ev *schema.Event, want string) {
	t.Helper()
	c := *ev
	c.SourceFile, c.SourceLine = "", 0
	if got := string(c.AppendJSON(nil)); got != want {
		t.Errorf("event\n got: %s\nwant: %s", got, want)
	}
}

func TestRegistered(t *testing.T) {
	p, err := normalize.New("exim", normalize.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := p.(*Parser); !ok {
		t.Fatalf("normalize.New(exim) = %T", p)
	}
}

func TestSniff(t *testing.T) {
	for _, line := range []string{
		"2026-11-27 08:00:01 1vA2bC-000123-AB <= a@b.example H=mx [192.0.2.1] S=1234",
		"2026-11-27 08:00:01.123 +0100 [1234] 1vA2bC-00000000123-ABCD => c@d.example R=r T=t",
		"2022-06-29 16:04:05 dovecot_login authenticator failed for ([1.2.3.5]) [1.2.3.4]:55379: 535 Incorrect authentication data (set_id=info@test.com)",
		"Jun 29 16:04:19 server exim[1234]: H=test.com [1.2.3.4]:53343 F=<info@test.com> rejected RCPT <toto@toto.com>: x",
		"2023-03-14T00:00:31+01:00 mx exim4[99]: Start queue run: pid=1",
	} {
		if got := normalize.Sniff(line); got != "exim" {
			t.Errorf("Sniff(%q) = %q, want exim", line, got)
		}
	}
	for _, line := range []string{
		"Feb 20 04:05:39 fangorn postfix/pickup[15241]: 0D7037A4: uid=0 from=<root>",
		`{"sender":"a@b"}`,
		"2026-11-27 08:00:01 something else entirely",
	} {
		if got := normalize.Sniff(line); got == "exim" {
			t.Errorf("Sniff(%q) = exim", line)
		}
	}
}

// TestMessageFlow follows one message from arrival to Completed: the
// receive event, the auth success, a delivery per recipient joined with the
// arrival's facts, and the state dropped at the end.
func TestMessageFlow(t *testing.T) {
	p := newTestParser()
	events, results := feed(t, p,
		`2026-11-27 08:00:01 1vA2bC-000123-AB <= billing@invoices.example H=mail.invoices.example (helo.invoices.example) [203.0.113.17]:40112 I=[192.0.2.25]:587 P=esmtpsa X=TLS1.3:TLS_AES_256_GCM_SHA384:256 CV=no A=dovecot_plain:billing S=48211 id=20261127.abc@invoices.example T="Invoice \"88213\" =?utf-8?q?f=C3=BCr?= you" for ap@corp.example cfo@corp.example`,
		`2026-11-27 08:00:03 1vA2bC-000123-AB => ap@corp.example <accounts@corp.example> R=dnslookup T=remote_smtp H=mx1.corp.example [198.51.100.7]:25 X=TLS1.3:TLS_AES_256_GCM_SHA384:256 CV=yes C="250 2.0.0 OK id=1vA2bD" QT=2s DT=1s`,
		`2026-11-27 08:00:03 1vA2bC-000123-AB -> cfo@corp.example R=dnslookup T=remote_smtp H=mx1.corp.example [198.51.100.7]:25 C="250 2.0.0 OK id=1vA2bD"`,
		`2026-11-27 08:00:03 1vA2bC-000123-AB Completed`,
	)
	wantResults(t, results, U, U, U, U)
	if len(events) != 4 {
		t.Fatalf("want 4 events, got:\n%s", dump(events))
	}
	wantJSON(t, events[0], `{"time":"2026-11-27T08:00:01Z","product":"exim","process":"exim","event_type":"auth","action":"succeeded","queue_id":"1vA2bC-000123-AB","src_ip":"203.0.113.17","src_host":"mail.invoices.example","helo":"helo.invoices.example","auth_user":"billing","protocol":"esmtpsa"}`)
	wantJSON(t, events[1], `{"time":"2026-11-27T08:00:01Z","product":"exim","process":"exim","event_type":"receive","action":"received","status":"received","queue_id":"1vA2bC-000123-AB","message_id":"20261127.abc@invoices.example","sender":"billing@invoices.example","sender_domain":"invoices.example","recipient_count":2,"size":48211,"subject":"Invoice \"88213\" für you","src_ip":"203.0.113.17","src_host":"mail.invoices.example","helo":"helo.invoices.example","auth_user":"billing","protocol":"esmtpsa"}`)
	wantJSON(t, events[2], `{"time":"2026-11-27T08:00:03Z","product":"exim","process":"exim","event_type":"delivery","action":"delivered","status":"delivered","status_code":"250 2.0.0","reason":"250 2.0.0 OK id=1vA2bD","queue_id":"1vA2bC-000123-AB","message_id":"20261127.abc@invoices.example","sender":"billing@invoices.example","sender_domain":"invoices.example","recipient":"ap@corp.example","recipient_domain":"corp.example","orig_recipient":"accounts@corp.example","recipient_count":2,"size":48211,"subject":"Invoice \"88213\" für you","src_ip":"203.0.113.17","src_host":"mail.invoices.example","helo":"helo.invoices.example","auth_user":"billing","relay":"mx1.corp.example[198.51.100.7]","delay":2,"protocol":"esmtpsa"}`)
	// No QT=: the delay is the time since the arrival line.
	if d := events[3]; d.Recipient != "cfo@corp.example" || d.Delay != 2 || !d.HasDelay || d.Sender != "billing@invoices.example" {
		t.Errorf("second delivery: %s", dump(events[3:]))
	}
	if n := p.Stats()[StatQueueLen]; n != 0 {
		t.Errorf("queue_len = %d after Completed", n)
	}
}

func TestBounceAndDefer(t *testing.T) {
	p := newTestParser()
	events, results := feed(t, p,
		`2026-11-27 09:00:00 1vA2bE-000124-CD <= <> R=1vA2bC-000123-AB U=Debian-exim P=local S=2210`,
		`2026-11-27 09:00:01 1vA2bE-000124-CD ** nobody@corp.example R=dnslookup T=remote_smtp H=mx1.corp.example [198.51.100.7]: SMTP error from remote mail server after RCPT TO:<nobody@corp.example>: 550 5.1.1 <nobody@corp.example>: Recipient address rejected: User unknown`,
		`2026-11-27 09:00:01 1vA2bE-000124-CD == slow@far.example R=dnslookup T=remote_smtp defer (-44) H=mx.far.example [192.0.2.99]: SMTP error from remote mail server after RCPT TO:<slow@far.example>: 451 4.7.1 Greylisted, try again later`,
		`2026-11-27 09:00:02 1vA2bE-000124-CD ** gone@old.example: retry timeout exceeded`,
		`2026-11-27 09:00:02 1vA2bE-000124-CD ** x@y.example R=fail_remote_domains : unrouteable mail domain "y.example"`,
		`2026-11-27 09:00:02 1vA2bE-000124-CD == pipe@corp.example <pipe@corp.example> routing defer (-56): domain is in queue_domains`,
	)
	wantResults(t, results, U, U, U, U, U, U)
	if p.Stats()[StatBounceMessages] != 1 {
		t.Errorf("bounce_messages = %d", p.Stats()[StatBounceMessages])
	}
	want := []struct{ action, rcpt, code, reason string }{
		{schema.ActionBounced, "nobody@corp.example", "550 5.1.1", "SMTP error from remote mail server after RCPT TO:<nobody@corp.example>: 550 5.1.1 <nobody@corp.example>: Recipient address rejected: User unknown"},
		{schema.ActionDeferred, "slow@far.example", "451 4.7.1", "SMTP error from remote mail server after RCPT TO:<slow@far.example>: 451 4.7.1 Greylisted, try again later"},
		{schema.ActionBounced, "gone@old.example", "", "retry timeout exceeded"},
		{schema.ActionBounced, "x@y.example", "", `unrouteable mail domain "y.example"`},
		{schema.ActionDeferred, "pipe@corp.example", "", "domain is in queue_domains"},
	}
	deliveries := events[1:]
	if len(deliveries) != len(want) {
		t.Fatalf("events:\n%s", dump(events))
	}
	for i, w := range want {
		ev := deliveries[i]
		if ev.Action != w.action || ev.Recipient != w.rcpt || ev.StatusCode != w.code || ev.Reason != w.reason ||
			!ev.HasSender || ev.Sender != "" || ev.Size != 2210 {
			t.Errorf("delivery %d:\n got: %s\nwant: %+v", i, dump([]*schema.Event{ev}), w)
		}
	}
	if deliveries[1].Relay != "mx.far.example[192.0.2.99]" {
		t.Errorf("relay after defer (-44) = %q", deliveries[1].Relay)
	}
}

// TestLocalDeliveries covers the address forms of local deliveries: a
// local part, a pipe, a file, :blackhole:, with their original addresses.
func TestLocalDeliveries(t *testing.T) {
	p := newTestParser()
	events, results := feed(t, p,
		`2026-11-27 10:00:00 1vA2bF-000125-EF <= a@b.example U=alice P=local S=100`,
		`2026-11-27 10:00:00 1vA2bF-000125-EF => alice <alice@corp.example> R=local_user T=mail_spool`,
		`2026-11-27 10:00:00 1vA2bF-000125-EF => |/usr/bin/procmail (bob@corp.example) <list@corp.example> R=aliases T=address_pipe`,
		`2026-11-27 10:00:00 1vA2bF-000125-EF => /var/mail/archive <archive@corp.example> R=aliases T=address_file`,
		`2026-11-27 10:00:00 1vA2bF-000125-EF => :blackhole: <devnull@corp.example> R=aliases`,
		`2026-11-27 10:00:00 1vA2bF-000125-EF => "odd local"@corp.example R=r T=t`,
		`2026-11-27 10:00:00 1vA2bF-000125-EF *> suppressed@corp.example R=r T=t`,
	)
	wantResults(t, results, U, U, U, U, U, U, I)
	want := []struct{ rcpt, orig, relay string }{
		{"alice@corp.example", "", "mail_spool"},
		{"bob@corp.example", "list@corp.example", "address_pipe"},
		{"archive@corp.example", "", "address_file"},
		{"devnull@corp.example", "", ":blackhole:"},
		{`"odd local"@corp.example`, "", "t"},
	}
	got := events[1:]
	if len(got) != len(want) {
		t.Fatalf("events:\n%s", dump(events))
	}
	for i, w := range want {
		if got[i].Recipient != w.rcpt || got[i].OrigRecipient != w.orig || got[i].Relay != w.relay {
			t.Errorf("delivery %d: got %q %q %q, want %+v", i, got[i].Recipient, got[i].OrigRecipient, got[i].Relay, w)
		}
	}
}

func TestFramings(t *testing.T) {
	for name, tc := range map[string]struct {
		line       string
		time, host string
		process    string
	}{
		"bare":               {"2026-11-27 08:00:01 H=(x) [192.0.2.1] F=<a@b> rejected RCPT <c@d>: no", "2026-11-27T08:00:01Z", "", "exim"},
		"millisec and zone":  {"2026-11-27 08:00:01.250 +0100 H=(x) [192.0.2.1] F=<a@b> rejected RCPT <c@d>: no", "2026-11-27T07:00:01.25Z", "", "exim"},
		"pid":                {"2026-11-27 08:00:01 [4711] H=(x) [192.0.2.1] F=<a@b> rejected RCPT <c@d>: no", "2026-11-27T08:00:01Z", "", "exim"},
		"syslog 3164":        {"Nov 27 08:00:01 mx exim[4711]: H=(x) [192.0.2.1] F=<a@b> rejected RCPT <c@d>: no", "2026-11-27T08:00:01Z", "mx", "exim"},
		"syslog exim stamp":  {"Nov 27 08:00:02 mx exim4[4711]: 2026-11-27 08:00:01 H=(x) [192.0.2.1] F=<a@b> rejected RCPT <c@d>: no", "2026-11-27T08:00:01Z", "mx", "exim4"},
		"syslog 3339":        {"2026-11-27T08:00:01.5+00:00 mx exim[1]: H=(x) [192.0.2.1] F=<a@b> rejected RCPT <c@d>: no", "2026-11-27T08:00:01.5Z", "mx", "exim"},
		"syslog-ng iso date": {"2026-11-27 08:00:01 mx exim[29786]: H=(x) [192.0.2.1] F=<a@b> rejected RCPT <c@d>: no", "2026-11-27T08:00:01Z", "mx", "exim"},
		"journal export":     {"mx exim[3751842]: 2026-11-27 08:00:01 H=(x) [192.0.2.1] F=<a@b> rejected RCPT <c@d>: no", "2026-11-27T08:00:01Z", "mx", "exim"},
		"crlf":               {"2026-11-27 08:00:01 H=(x) [192.0.2.1] F=<a@b> rejected RCPT <c@d>: no\r", "2026-11-27T08:00:01Z", "", "exim"},
	} {
		t.Run(name, func(t *testing.T) {
			events, results := feed(t, newTestParser(), tc.line)
			wantResults(t, results, U)
			ev := only(t, events, schema.TypeReject)
			if got := ev.Time.Format(time.RFC3339Nano); got != tc.time || ev.Host != tc.host || ev.Process != tc.process {
				t.Errorf("time %s host %q process %q", got, ev.Host, ev.Process)
			}
			if ev.SrcIP != "192.0.2.1" || ev.Helo != "x" || ev.Sender != "a@b" || ev.Recipient != "c@d" || ev.Reason != "no" {
				t.Errorf("fields: %s", dump(events))
			}
		})
	}
}

func TestMessageIDForms(t *testing.T) {
	for _, id := range []string{"1PLKOW-00046U-EW", "1vA2bC-00000000123-ABCD"} {
		events, _ := feed(t, newTestParser(), "2026-11-27 08:00:01 "+id+" <= a@b.example P=local S=1")
		if ev := only(t, events, schema.TypeReceive); ev.QueueID != id {
			t.Errorf("queue_id = %q, want %q", ev.QueueID, id)
		}
	}
}

func TestSMTPUTF8(t *testing.T) {
	p := newTestParser()
	events, results := feed(t, p,
		`2026-11-27 08:00:01 1vA2bG-000126-GH <= 他们为什么不说中文@hebrew.example H=(client) [127.0.0.1] P=utf8esmtp S=300 for user.γλυκύρριζα@test.example`,
		`2026-11-27 08:00:01 1vA2bG-000126-GH => user.γλυκύρριζα@test.example R=local T=lmtp`,
		`2026-11-27 08:00:01 U=CALLER F=<CALLER@vietnamese.TạisaohọkhôngthểchỉnóitiếngViệt.local> rejected RCPT <userT@test.ex>: 127.0.0.1 [127.0.0.1] : response to "EHLO" did not include SMTPUTF8`,
	)
	wantResults(t, results, U, U, U)
	d := only(t, events, schema.TypeDelivery)
	if d.Sender != "他们为什么不说中文@hebrew.example" || d.Recipient != "user.γλυκύρριζα@test.example" || d.Protocol != "utf8esmtp" {
		t.Errorf("delivery: %s", dump(events))
	}
	r := only(t, events, schema.TypeReject)
	if r.SenderDomain != "vietnamese.tạisaohọkhôngthểchỉnóitiếngviệt.local" && r.SenderDomain != "vietnamese.TạisaohọkhôngthểchỉnóitiếngViệt.local" {
		t.Errorf("sender domain %q", r.SenderDomain)
	}
}

func TestRejects(t *testing.T) {
	for name, tc := range map[string]struct {
		line   string
		want   string
		result normalize.Result
	}{
		"rcpt with tls attributes": {
			line: `2022-06-29 14:34:58 H=imfo.test.biz [1.2.3.4]:35328 X=TLS1.2:ECDHE-RSA-AES256-GCM-SHA384:256 CV=no F=<jack@test.biz> rejected RCPT <sales@toto.com.au>: No Such User Here`,
			want: `{"time":"2022-06-29T14:34:58Z","product":"exim","process":"exim","event_type":"reject","action":"rejected","status":"rejected","reason":"No Such User Here","sender":"jack@test.biz","sender_domain":"test.biz","recipient":"sales@toto.com.au","recipient_domain":"toto.com.au","src_ip":"1.2.3.4","src_host":"imfo.test.biz"}`,
		},
		"quoted acl message": {
			line: `2022-06-29 15:33:46 H=test.com [1.2.3.4]:53343 F=<info@test.com> rejected RCPT <toto@toto.com>: "JunkMail rejected - test.com [1.2.3.4]:53343 is in an RBL"`,
			want: `{"time":"2022-06-29T15:33:46Z","product":"exim","process":"exim","event_type":"reject","action":"rejected","status":"rejected","reason":"JunkMail rejected - test.com [1.2.3.4]:53343 is in an RBL","sender":"info@test.com","sender_domain":"test.com","recipient":"toto@toto.com","recipient_domain":"toto.com","src_ip":"1.2.3.4","src_host":"test.com"}`,
		},
		"temporarily, with reply code": {
			line: `2026-11-27 08:00:01 H=(test) [192.0.2.5] F=<a@b.example> temporarily rejected RCPT <c@d.example>: 451 4.7.1 Greylisted`,
			want: `{"time":"2026-11-27T08:00:01Z","product":"exim","process":"exim","event_type":"reject","action":"rejected","status":"temporarily rejected","status_code":"451 4.7.1","reason":"Greylisted","sender":"a@b.example","sender_domain":"b.example","recipient":"c@d.example","recipient_domain":"d.example","src_ip":"192.0.2.5","helo":"test"}`,
		},
		"after data with message id": {
			line: `2013-06-15 11:20:36 [2516] 1Unmew-0000ea-SE H=egeftech.static.otenet.gr [83.235.177.148]:32706 I=[1.2.3.4]:25 F=auguriesvbd40@google.com rejected after DATA: This message contains a virus (Sanesecurity.Junk.39934.UNOFFICIAL).`,
			want: `{"time":"2013-06-15T11:20:36Z","product":"exim","process":"exim","event_type":"reject","action":"rejected","status":"rejected","reason":"This message contains a virus (Sanesecurity.Junk.39934.UNOFFICIAL).","queue_id":"1Unmew-0000ea-SE","sender":"auguriesvbd40@google.com","sender_domain":"google.com","src_ip":"83.235.177.148","src_host":"egeftech.static.otenet.gr"}`,
		},
		"ehlo syntax": {
			line: `2026-11-27 08:00:01 rejected EHLO from [192.0.2.7]: syntactically invalid argument(s): !@#`,
			want: `{"time":"2026-11-27T08:00:01Z","product":"exim","process":"exim","event_type":"reject","action":"rejected","status":"rejected","reason":"syntactically invalid argument(s): !@#","src_ip":"192.0.2.7"}`,
		},
		"ehlo acl": {
			line: `2026-11-27 08:00:01 H=(x.y.z) [10.9.8.10] U=CALLER rejected EHLO or HELO x.y.z: bad helo`,
			want: `{"time":"2026-11-27T08:00:01Z","product":"exim","process":"exim","event_type":"reject","action":"rejected","status":"rejected","reason":"bad helo","src_ip":"10.9.8.10","helo":"x.y.z"}`,
		},
		"connect acl": {
			line: `2026-11-27 08:00:01 H=[127.0.0.1] rejected connection in "connect" ACL: 550 client disliked`,
			want: `{"time":"2026-11-27T08:00:01Z","product":"exim","process":"exim","event_type":"reject","action":"rejected","status":"rejected","status_code":"550","reason":"client disliked","src_ip":"127.0.0.1"}`,
		},
		"mail": {
			line: `2026-11-27 08:00:01 H=[10.9.8.8] U=CALLER rejected MAIL <bad@test1>: sender blocked`,
			want: `{"time":"2026-11-27T08:00:01Z","product":"exim","process":"exim","event_type":"reject","action":"rejected","status":"rejected","reason":"sender blocked","sender":"bad@test1","sender_domain":"test1","src_ip":"10.9.8.8"}`,
		},
		"local_scan": {
			line: `2004-01-18 07:15:35 1Ai79e-0000Dq-8i F=uzw@melissacam.biz H=lsanca1.example [4.47.28.40] P=smtp rejected by local_scan(): Rejected: hits=7.5 required=5.0`,
			want: `{"time":"2004-01-18T07:15:35Z","product":"exim","process":"exim","event_type":"reject","action":"rejected","status":"rejected","reason":"Rejected: hits=7.5 required=5.0","queue_id":"1Ai79e-0000Dq-8i","sender":"uzw@melissacam.biz","sender_domain":"melissacam.biz","src_ip":"4.47.28.40","src_host":"lsanca1.example","protocol":"smtp"}`,
		},
		"discarded": {
			line: `2026-11-27 08:00:01 H=(test) [1.2.3.4] F=<a@b> RCPT <c@d>: discarded by RCPT ACL`,
			want: `{"time":"2026-11-27T08:00:01Z","product":"exim","process":"exim","event_type":"reject","action":"discarded","status":"discarded","reason":"discarded by RCPT ACL","sender":"a@b","sender_domain":"b","recipient":"c@d","recipient_domain":"d","src_ip":"1.2.3.4","helo":"test"}`,
		},
		"size": {
			line: `2026-11-27 08:00:01 rejected MAIL FROM:<userx@test.ex> U=CALLER: message too big: size=1000000000 max=100`,
			want: `{"time":"2026-11-27T08:00:01Z","product":"exim","process":"exim","event_type":"reject","action":"rejected","status":"rejected","reason":"message too big: size=1000000000 max=100","sender":"userx@test.ex","sender_domain":"test.ex"}`,
		},
	} {
		t.Run(name, func(t *testing.T) {
			events, results := feed(t, newTestParser(), tc.line)
			wantResults(t, results, U)
			wantJSON(t, only(t, events, schema.TypeReject), tc.want)
		})
	}
}

func TestAuthFailures(t *testing.T) {
	for _, tc := range []struct {
		line, ip, host, helo, user, reason string
	}{
		{`2022-06-29 16:04:08 dovecot_login authenticator failed for ppp-1-2-3-4.test.test.co.th ([1.2.3.5]) [1.2.3.4]:51451: 535 Incorrect authentication data (set_id=info1@test.com)`,
			"1.2.3.4", "ppp-1-2-3-4.test.test.co.th", "[1.2.3.5]", "info1@test.com", "Incorrect authentication data"},
		{`2013-06-12 03:57:58 login authenticator failed for (ylmf-pc) [120.196.140.45]: 535 Incorrect authentication data: 1 Time(s)`,
			"120.196.140.45", "", "ylmf-pc", "", "Incorrect authentication data: 1 Time(s)"},
		{`2024-03-21 19:26:06 dovecot_login authenticator failed for (User) [194.169.175.1]:21298 I=[22.33.44.55]:465 Ci=30416: 535 Incorrect authentication data (set_id=uaf589@example.com)`,
			"194.169.175.1", "", "User", "uaf589@example.com", "Incorrect authentication data"},
		{`2017-01-24 05:22:29 dovecot_plain authenticator failed for (test) [::1]:39454: 535 Incorrect authentication data (set_id=test)`,
			"::1", "", "test", "test", "Incorrect authentication data"},
		{`2023-05-30 06:10:14 login authenticator failed for no-port.example.org [192.0.2.13]: 535 Incorrect authentication data (set_id=user)`,
			"192.0.2.13", "no-port.example.org", "", "user", "Incorrect authentication data"},
	} {
		events, results := feed(t, newTestParser(), tc.line)
		wantResults(t, results, U)
		ev := only(t, events, schema.TypeAuth)
		if ev.Action != schema.ActionFailed || ev.SrcIP != tc.ip || ev.SrcHost != tc.host || ev.Helo != tc.helo ||
			ev.AuthUser != tc.user || ev.Reason != tc.reason || ev.StatusCode != "535" {
			t.Errorf("%s\n got: %s", tc.line, dump(events))
		}
	}
}

func TestSpamAssassin(t *testing.T) {
	events, results := feed(t, newTestParser(),
		`2013-12-30 00:24:50 1VxPit-000MMd-U4 SA: Action: flagged as Spam but accepted: score=8.2 required=5.0 (scanned in 6/6 secs | Message-Id: abc@xxx.xx). From <spammer@xxx.xx> (host=ip-4.example [178.123.108.196]) for trap@example.com, other@example.com`)
	wantResults(t, results, U)
	if len(events) != 2 {
		t.Fatalf("events:\n%s", dump(events))
	}
	for i, rcpt := range []string{"trap@example.com", "other@example.com"} {
		ev := events[i]
		if ev.EventType != schema.TypeFilter || ev.Action != schema.ActionDelivered || ev.Recipient != rcpt ||
			ev.Sender != "spammer@xxx.xx" || ev.SrcIP != "178.123.108.196" || ev.MessageID != "abc@xxx.xx" ||
			ev.Reason != "score=8.2 required=5.0" {
			t.Errorf("event %d: %s", i, dump(events[i:i+1]))
		}
	}
}

func TestNoiseIsCounted(t *testing.T) {
	p := newTestParser()
	_, results := feed(t, p,
		"",
		"   ",
		"  Suggested action: either install a certificate or change tls_advertise_hosts option",
		// Protocol violations without a client to blame stay noise.
		"2013-06-02 06:54:20 [13314] SMTP protocol synchronization error (input sent without waiting for greeting)",
		"2013-06-02 09:22:06 SMTP syntax error in \"EHLO \" H=[192.0.2.109] empty argument",
		"2017-01-24 03:09:46 SMTP connection from [10.101.1.10]:55010 (TCP/IP connection count = 1)",
		"2016-03-21 06:57:36 [5908] no MAIL in SMTP connection from [122.165.71.116]:2056 I=[172.89.0.6]:25 D=0s",
		"2026-11-27 08:00:00 Start queue run: pid=1234",
		"2026-11-27 08:00:00 exim 4.97 daemon started: pid=1, -q30m, listening for SMTP on port 25",
		"2017-12-03 08:32:00 no host name found for IP address 192.0.2.8",
		"2013-06-10 10:10:59 H=ufficioestampa.it (srv.ufficioestampa.it) [193.169.56.211] sender verify fail for <user@example.com>: Unrouteable address",
		"2026-11-27 08:00:00 1vA2bC-000123-AB H=mx.example [192.0.2.2] Connection refused",
		"2026-11-27 08:00:00 1vA2bC-000123-AB Frozen (delivery error message)",
		"2026-11-27 08:00:00 TLS error on connection from (x) [192.0.2.3] (SSL_accept): error:0A000076:SSL routines::no suitable signature algorithm",
		"2026-11-27 08:00:00 1vA2bC-000123-AB DKIM: d=example.com s=sel c=relaxed/relaxed a=rsa-sha256 b=2048 [verification succeeded]",
		"Nov 27 08:00:00 mx dovecot[1]: imap-login: Login: user=<a>",
		"Nov 27 08:00:00 mx exim[1]: last message repeated 3 times",
	)
	wantResults(t, results, I, I, I, I, I, I, I, I, I, I, I, I, I, I, I, I, I)
	st := p.Stats()
	for k, want := range map[string]int{
		"ignored_blank": 2, "ignored_continuation": 1, "ignored_sync_error": 1, "ignored_protocol": 1,
		"ignored_connection": 2, "ignored_queue_run": 1, "ignored_daemon": 1, "ignored_dns": 1,
		"ignored_verify": 1, "ignored_delivery_info": 1, "ignored_queue": 1, "ignored_tls": 1,
		"ignored_dkim": 1, "ignored_other_program": 1, "ignored_syslog_repeat": 1,
	} {
		if st[k] != want {
			t.Errorf("%s = %d, want %d", k, st[k], want)
		}
	}
}

// TestProtocolViolations: the clients' SMTP protocol violations are connect
// events, with lines of fail2ban's Exim test log (../shared/corpus/exim/fail2ban).
func TestProtocolViolations(t *testing.T) {
	p := newTestParser()
	events, results := feed(t, p,
		`2013-06-02 06:54:20 [13314] SMTP protocol synchronization error (input sent without waiting for greeting): rejected connection from H=[211.148.195.192]:25936 I=[1.2.3.4]:25 input="GET / HTTP/1.1\r\n\r\n"`,
		`2013-06-02 09:05:48 [18505] SMTP protocol synchronization error (next input sent too soon: pipelining was not advertised): rejected "RSET" H=ba77.mx83.fr [82.96.160.77]:58302 I=[1.2.3.4]:25 next input="QUIT\r\n"`,
		`2013-06-02 09:22:05 [19591] SMTP call from pc012-6201.spo.scu.edu.tw [163.14.21.161]:3767 I=[1.2.3.4]:25 dropped: too many nonmail commands (last was "RSET")`,
		`2016-03-18 00:34:06 [7513] SMTP protocol error in "AUTH LOGIN" H=(ylmf-pc) [45.32.34.167]:60723 I=[172.89.0.6]:587 AUTH command used when not advertised`,
		// The client's command holds a fake H=: the real client is the last.
		`2017-11-28 14:14:32 SMTP protocol error in "aUtH lOgIn" H=(test) [8.8.8.8]" H=(roxzgj) [192.0.2.6] AUTH command used when not advertised`,
		// A call dropped for another reason is not a violation.
		`2013-06-02 09:22:09 SMTP call from [192.0.2.110] dropped: connection limit`,
	)
	wantResults(t, results, U, U, U, U, U, I)
	type got struct{ status, action, ip, host, helo, reason string }
	want := []got{
		{"sync_error", "rejected", "211.148.195.192", "", "", "SMTP protocol synchronization error (input sent without waiting for greeting)"},
		{"sync_error", "rejected", "82.96.160.77", "ba77.mx83.fr", "", "SMTP protocol synchronization error (next input sent too soon: pipelining was not advertised)"},
		{"protocol_error", "rejected", "163.14.21.161", "pc012-6201.spo.scu.edu.tw", "", `too many nonmail commands (last was "RSET")`},
		{"protocol_error", "warned", "45.32.34.167", "", "ylmf-pc", `SMTP protocol error in "AUTH LOGIN": AUTH command used when not advertised`},
		{"protocol_error", "warned", "192.0.2.6", "", "roxzgj", `SMTP protocol error in "aUtH lOgIn" H=(test) [8.8.8.8]": AUTH command used when not advertised`},
	}
	if len(events) != len(want) {
		t.Fatalf("%d events, want %d:\n%s", len(events), len(want), dump(events))
	}
	for i, e := range events {
		if e.EventType != schema.TypeConnect {
			t.Errorf("event %d: type %q", i, e.EventType)
		}
		if g := (got{e.Status, e.Action, e.SrcIP, e.SrcHost, e.Helo, e.Reason}); g != want[i] {
			t.Errorf("event %d:\n got %+v\nwant %+v", i, g, want[i])
		}
	}
}

func TestNotUnderstood(t *testing.T) {
	_, results := feed(t, newTestParser(),
		"garbage",
		"\x00\x01\x02",
		"2026-11-27 08:00:00 some custom logwrite text",
		"2026-11-27 08:00:00 1vA2bC-000123-AB <=",
		"2026-13-45 99:00:00 1vA2bC-000123-AB <= a@b",
		"Nov 27 08:00:00 mx exim[1]: ",
	)
	wantResults(t, results, N, N, N, N, N, N)
}

// TestQueueBounded checks that messages without Completed are dropped after
// MaxQueueAge of event time and counted, and that a delivery without its
// arrival is still an event (an orphan).
func TestQueueBounded(t *testing.T) {
	p := New(normalize.Options{MaxQueueAge: time.Hour})
	feed(t, p,
		"2026-11-27 08:00:00 1vA2bC-000123-AB <= a@b.example P=local S=1",
		"2026-11-27 08:00:00 1vA2bD-000123-AB <= a@b.example P=local S=1",
		"2026-11-27 08:00:00 1vA2bD-000123-AB removed by root",
	)
	if n := p.Stats()[StatQueueLen]; n != 1 {
		t.Fatalf("queue_len = %d, want 1", n)
	}
	events, _ := feed(t, p,
		"2026-11-27 10:00:00 H=[192.0.2.1] rejected connection in \"connect\" ACL",
		"2026-11-27 10:00:01 1vA2bC-000123-AB => c@d.example R=r T=t",
	)
	st := p.Stats()
	if st[StatQueueLen] != 0 || st[StatFlushedIncomplete] != 1 || st[StatOrphanDeliveries] != 1 {
		t.Errorf("stats %v", st)
	}
	if d := only(t, events, schema.TypeDelivery); d.Recipient != "c@d.example" || d.HasSender {
		t.Errorf("orphan delivery: %s", dump(events))
	}
	feed(t, p, "2026-11-27 10:00:02 1vA2bE-000123-AB <= a@b.example P=local S=1")
	p.Flush(func(*schema.Event) {})
	if st := p.Stats(); st[StatPendingAtEnd] != 1 || st[StatQueueLen] != 0 {
		t.Errorf("after flush: %v", st)
	}
}

func TestScanHelpers(t *testing.T) {
	for s, want := range map[string]float64{"3s": 3, "2m42s": 162, "1h2m": 3720, "1d3h": 97200, "1w": 604800, "0.349s": 0.349} {
		if got, ok := parseDuration(s); !ok || got != want {
			t.Errorf("parseDuration(%q) = %v, %v", s, got, ok)
		}
	}
	for _, s := range []string{"", "s", "3", "3x", "q.qqqs"} {
		if _, ok := parseDuration(s); ok {
			t.Errorf("parseDuration(%q) ok", s)
		}
	}
	for _, tc := range []struct{ spec, host, helo, ip, rest string }{
		{"mx.example (helo) [192.0.2.1]:25 X=1", "mx.example", "helo", "192.0.2.1", " X=1"},
		{"(helo with space) [192.0.2.1]", "", "helo with space", "192.0.2.1", ""},
		{"[2001:db8::1]:587: 535 x", "", "", "2001:db8::1", ": 535 x"},
		{"host: text", "host", "", "", ": text"},
		{"host [192.0.2.1]: text", "host", "", "192.0.2.1", ": text"},
		{"(unterminated", "", "", "", "(unterminated"},
	} {
		h, e, ip, rest := parseHostSpec(tc.spec)
		if h != tc.host || e != tc.helo || ip != tc.ip || rest != tc.rest {
			t.Errorf("parseHostSpec(%q) = %q %q %q %q", tc.spec, h, e, ip, rest)
		}
	}
	for s, want := range map[string]string{
		`a\"b`: `a"b`, `tab\there`: "tab\there", `\303\244`: "ä", `end\`: `end\`, `\q`: "q",
	} {
		if got := unescape(s); got != want {
			t.Errorf("unescape(%q) = %q, want %q", s, got, want)
		}
	}
	for s, want := range map[string]string{
		"dovecot_plain:user": "user", "authname:authid:authsender": "authid", "plain": "",
	} {
		if got := authUser(s); got != want {
			t.Errorf("authUser(%q) = %q", s, got)
		}
	}
	if got := replyIn("SMTP error from remote mail server after RCPT TO:<a@b>: host x [1.2.3.4]: 550-5.1.1 first line"); got != "550 5.1.1" {
		t.Errorf("replyIn = %q", got)
	}
}

func TestStatsKeys(t *testing.T) {
	keys := StatsKeys()
	if !slices.IsSorted(keys) {
		t.Error("StatsKeys not sorted")
	}
	p := newTestParser()
	feed(t, p, "", "2026-11-27 08:00:00 Start queue run: pid=1")
	for k := range p.Stats() {
		if !slices.Contains(keys, k) {
			t.Errorf("Stats key %q missing from StatsKeys", k)
		}
	}
}

// FuzzParse feeds arbitrary lines, alone and after a primed message state,
// and checks that the parser never panics and only emits valid events.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		`2026-11-27 08:00:01 1vA2bC-000123-AB <= a@b H=h (e) [1.2.3.4]:5 A=x:y S=1 id=m T="s\"\303" for c@d`,
		`2026-11-27 08:00:01.1 +0100 [1] 1vA2bC-000123-AB => c@d <e@f> (g@h) R=r T=t H=h [1.2.3.4] C="250 ok" QT=1d2h3m4s`,
		`2026-11-27 08:00:01 1vA2bC-000123-AB ** c@d: x`,
		`2026-11-27 08:00:01 1vA2bC-000123-AB == c@d R=r defer (-1) H=h [1: 451`,
		`2026-11-27 08:00:01 H=( [ F=< rejected RCPT <: "`,
		`2026-11-27 08:00:01 a authenticator failed for ([: 535 x (set_id=`,
		`2026-11-27 08:00:01 1VxPit-000MMd-U4 SA: Action: silently tossed message: x. From <> (host=NULL [1.2.3.4]) for a`,
		`Nov 27 08:00:01 mx exim[1]: 2026-11-27 08:00:01 1vA2bC-000123-AB Completed`,
		`mx exim[1]: 2026-11-27 08:00:01 rejected EHLO from`,
		`2026-11-27 08:00:01 1vA2bC-000123-AB PRDR R=<a@b> refusal`,
		`2026-11-27 08:00:01 rejected MAIL command`,
		`2026-11-27 08:00:01 SMTP protocol synchronization error (x): rejected "H=" H=`,
		`2026-11-27 08:00:01 SMTP call from [ dropped: too many `,
		`2026-11-27 08:00:01 SMTP protocol error in " H=(a) [1.2.3.4]`,
	} {
		f.Add(s)
	}
	if dir, err := filepath.Abs(filepath.Join(corpustest.Root(), "exim")); err == nil {
		if _, err := os.Stat(dir); err == nil {
			for _, cf := range corpusFiles() {
				addLines(f, filepath.Join(dir, cf.path), cf.extract, 1)
			}
			files, _ := filepath.Glob(filepath.Join(dir, "exim-testsuite", "test", "log", "0*"))
			for i, path := range files {
				if i%20 == 0 {
					addLines(f, path, testsuiteLines, 3)
				}
			}
		}
	}
	f.Fuzz(func(t *testing.T, text string) {
		p := New(normalize.Options{Year: 2026, MaxQueueAge: time.Minute})
		check := func(ev *schema.Event) {
			if ev.EventType == "" || ev.Action == "" {
				t.Errorf("event without type or action: %+v", ev)
			}
			if b := ev.AppendJSON(nil); !json.Valid(b) {
				t.Errorf("invalid JSON: %s", b)
			}
		}
		prime := "2026-11-27 08:00:00 1vA2bC-000123-AB <= a@b P=local S=1"
		p.Parse(schema.Line{Text: prime, File: "f", Number: 1}, check)
		for i, l := range strings.Split(text, "\n") {
			if r := p.Parse(schema.Line{Text: l, File: "f", Number: i + 2}, check); r > normalize.NotUnderstood {
				t.Errorf("result %v", r)
			}
		}
		p.Flush(check)
		_ = p.Stats()
	})
}

// addLines adds every step-th line of a corpus file to the fuzz seeds.
func addLines(f *testing.F, path string, extract func(string) (string, bool), step int) {
	fh, err := os.Open(path)
	if err != nil {
		return
	}
	defer fh.Close()
	sc := bufio.NewScanner(fh)
	for n := 0; sc.Scan(); n++ {
		if text, ok := extract(sc.Text()); ok && n%step == 0 {
			f.Add(text)
		}
	}
}

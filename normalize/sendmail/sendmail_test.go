package sendmail

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strconv"
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

func feed(t *testing.T, p *Parser, lines ...string) ([]*schema.Event, []normalize.Result) {
	t.Helper()
	var events []*schema.Event
	var results []normalize.Result
	for i, l := range lines {
		r := p.Parse(schema.Line{Text: l, File: "maillog", Number: i + 1}, func(ev *schema.Event) {
			events = append(events, ev)
		})
		results = append(results, r)
	}
	return events, results
}

func newTestParser() *Parser { return New(normalize.Options{Year: 2026}) }

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

func wantJSON(t *testing.T, ev *schema.Event, want string) {
	t.Helper()
	c := *ev
	c.SourceFile, c.SourceLine = "", 0
	if got := string(c.AppendJSON(nil)); got != want {
		t.Errorf("event\n got: %s\nwant: %s", got, want)
	}
}

func TestRegistered(t *testing.T) {
	p, err := normalize.New("sendmail", normalize.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := p.(*Parser); !ok {
		t.Fatalf("normalize.New(sendmail) = %T", p)
	}
}

func TestSniff(t *testing.T) {
	for _, line := range []string{
		"Apr  2 00:15:25 mta001 sendmail[32300]: u31FFPtp032300: Milter: no active filter",
		"Feb 16 23:33:20 smtp1 sm-mta[5133]: s1GNXHYB005133: [190.5.230.178]: possible SMTP attack: command=AUTH, count=5",
		"Feb 24 12:10:15 kismet sm-acceptingconnections[32053]: x",
		"2026-11-27T08:00:00+00:00 mx sm-msp-queue[1]: starting daemon (8.17.1): queueing@00:30:00",
	} {
		if got := normalize.Sniff(line); got != "sendmail" {
			t.Errorf("Sniff(%q) = %q, want sendmail", line, got)
		}
	}
	// Postfix's sendmail command is Postfix.
	if got := normalize.Sniff("Mar 14 00:00:00 mx postfix/sendmail[1]: fatal: x"); got != "postfix" {
		t.Errorf("postfix/sendmail sniffed as %q", got)
	}
}

// TestMessageFlow follows a message with three recipients: the from= line
// feeds the state, each to= line gives one event per recipient, and the
// state is dropped once every recipient had a final outcome.
func TestMessageFlow(t *testing.T) {
	p := newTestParser()
	events, results := feed(t, p,
		"Nov 27 08:00:00 mx sm-mta[100]: 5ARGK0ab000100: AUTH=server, relay=client.example [203.0.113.9], authid=billing, mech=PLAIN, bits=0",
		"Nov 27 08:00:01 mx sm-mta[100]: 5ARGK0ab000100: from=<billing@invoices.example>, size=48211, class=0, nrcpts=3, msgid=<abc@invoices.example>, bodytype=8BITMIME, proto=ESMTPSA, daemon=MTA, relay=client.example [203.0.113.9]",
		"Nov 27 08:00:03 mx sm-mta[101]: 5ARGK0ab000100: to=<ap@corp.example>,<cfo@corp.example>, delay=00:00:02, xdelay=00:00:01, mailer=esmtp, pri=168211, relay=mx1.corp.example. [198.51.100.7], dsn=2.0.0, stat=Sent (250 2.0.0 OK queued as 4Pb)",
		"Nov 27 08:00:04 mx sm-mta[101]: 5ARGK0ab000100: to=<gone@corp.example>, delay=1+00:00:15, xdelay=00:00:01, mailer=esmtp, pri=168211, relay=mx1.corp.example. [198.51.100.7], dsn=5.1.1, stat=User unknown",
	)
	wantResults(t, results, U, U, U, U)
	if len(events) != 4 {
		t.Fatalf("events:\n%s", dump(events))
	}
	wantJSON(t, events[0], `{"time":"2026-11-27T08:00:00Z","host":"mx","product":"sendmail","process":"sm-mta","event_type":"auth","action":"succeeded","status":"AUTH=server","reason":"mech=PLAIN","queue_id":"5ARGK0ab000100","src_ip":"203.0.113.9","src_host":"client.example","auth_user":"billing"}`)
	wantJSON(t, events[1], `{"time":"2026-11-27T08:00:03Z","host":"mx","product":"sendmail","process":"sm-mta","event_type":"delivery","action":"delivered","status":"sent","status_code":"250 2.0.0","reason":"250 2.0.0 OK queued as 4Pb","queue_id":"5ARGK0ab000100","message_id":"abc@invoices.example","sender":"billing@invoices.example","sender_domain":"invoices.example","recipient":"ap@corp.example","recipient_domain":"corp.example","recipient_count":3,"size":48211,"src_ip":"203.0.113.9","src_host":"client.example","auth_user":"billing","relay":"mx1.corp.example[198.51.100.7]","delay":2,"protocol":"esmtpsa"}`)
	if events[2].Recipient != "cfo@corp.example" || events[2].Sender != "billing@invoices.example" {
		t.Errorf("second recipient: %s", dump(events[2:3]))
	}
	wantJSON(t, events[3], `{"time":"2026-11-27T08:00:04Z","host":"mx","product":"sendmail","process":"sm-mta","event_type":"delivery","action":"bounced","status":"bounced","status_code":"5.1.1","reason":"User unknown","queue_id":"5ARGK0ab000100","message_id":"abc@invoices.example","sender":"billing@invoices.example","sender_domain":"invoices.example","recipient":"gone@corp.example","recipient_domain":"corp.example","recipient_count":3,"size":48211,"src_ip":"203.0.113.9","src_host":"client.example","auth_user":"billing","relay":"mx1.corp.example[198.51.100.7]","delay":86415,"protocol":"esmtpsa"}`)
	// All three recipients are final: the state is marked done and
	// dropped after the grace period, without counting as incomplete.
	feed(t, p, "Nov 27 09:00:00 mx sm-mta[1]: starting daemon (8.17.1): SMTP+queueing@00:30:00")
	if st := p.Stats(); st[StatQueueLen] != 0 || st[StatFlushedIncomplete] != 0 {
		t.Errorf("stats after the grace period: %v", st)
	}
}

func TestStatMapping(t *testing.T) {
	for _, tc := range []struct {
		stat, dsn, action, status, reason, code string
	}{
		{"Sent (ok:  Message 1 accepted)", "2.0.0", schema.ActionDelivered, "sent", "ok:  Message 1 accepted", "2.0.0"},
		{"Sent", "2.0.0", schema.ActionDelivered, "sent", "", "2.0.0"},
		{"Deferred: 451 4.3.5 Server configuration problem", "4.3.5", schema.ActionDeferred, "deferred", "451 4.3.5 Server configuration problem", "451 4.3.5"},
		{"Deferred: Connection refused by mx.example.", "4.0.0", schema.ActionDeferred, "deferred", "Connection refused by mx.example.", "4.0.0"},
		{"Deferred", "4.0.0", schema.ActionDeferred, "deferred", "", "4.0.0"},
		{"queued", "", schema.ActionDeferred, "queued", "", ""},
		{"User unknown", "5.1.1", schema.ActionBounced, "bounced", "User unknown", "5.1.1"},
		{"Service unavailable", "5.0.0", schema.ActionBounced, "bounced", "Service unavailable", "5.0.0"},
		{"Host unknown (Name server: x: host not found)", "", schema.ActionBounced, "bounced", "Host unknown (Name server: x: host not found)", ""},
		{"Operating system error", "4.0.0", schema.ActionDeferred, "deferred", "Operating system error", "4.0.0"},
		{"Deferred: 421-4.7.0 try later", "", schema.ActionDeferred, "deferred", "421-4.7.0 try later", "421 4.7.0"},
	} {
		action, status, reason := statAction(tc.stat, tc.dsn)
		code := statusCode(reason, tc.dsn)
		if action != tc.action || status != tc.status || reason != tc.reason || code != tc.code {
			t.Errorf("stat=%q dsn=%q: got %q %q %q %q", tc.stat, tc.dsn, action, status, reason, code)
		}
	}
}

func TestRejects(t *testing.T) {
	for name, tc := range map[string]struct{ line, want string }{
		"check_rcpt": {
			"Feb 23 21:36:14 petermurray sm-mta[22248]: s1NLaDQT022248: ruleset=check_rcpt, arg1=<dautareuk2@hotmail.it>, relay=int0.client.access.azadnet.net [80.253.155.119] (may be forged), reject=550 5.7.1 <dautareuk2@hotmail.it>... Relaying denied. IP name possibly forged [80.253.155.119]",
			`{"time":"2026-02-23T21:36:14Z","host":"petermurray","product":"sendmail","process":"sm-mta","event_type":"reject","action":"rejected","status":"reject","status_code":"550 5.7.1","reason":"Relaying denied. IP name possibly forged [80.253.155.119]","queue_id":"s1NLaDQT022248","recipient":"dautareuk2@hotmail.it","recipient_domain":"hotmail.it","src_ip":"80.253.155.119","src_host":"int0.client.access.azadnet.net"}`,
		},
		"check_relay without queue id": {
			"Feb 24 01:46:44 petermurray sm-mta[24422]: ruleset=check_relay, arg1=leased-line-54-82.telecom.by, arg2=217.21.54.82, relay=leased-line-54-82.telecom.by [217.21.54.82], reject=421 4.3.2 Connection rate limit exceeded.",
			`{"time":"2026-02-24T01:46:44Z","host":"petermurray","product":"sendmail","process":"sm-mta","event_type":"reject","action":"rejected","status":"reject","status_code":"421 4.3.2","reason":"Connection rate limit exceeded.","src_ip":"217.21.54.82","src_host":"leased-line-54-82.telecom.by"}`,
		},
		"check_mail": {
			"Nov 27 08:00:00 mx sm-mta[1]: 5ARGK0ab000101: ruleset=check_mail, arg1=<spam@bad.example>, relay=[192.0.2.66], reject=553 5.1.8 <spam@bad.example>... Domain of sender address spam@bad.example does not exist",
			`{"time":"2026-11-27T08:00:00Z","host":"mx","product":"sendmail","process":"sm-mta","event_type":"reject","action":"rejected","status":"reject","status_code":"553 5.1.8","reason":"Domain of sender address spam@bad.example does not exist","queue_id":"5ARGK0ab000101","sender":"spam@bad.example","sender_domain":"bad.example","src_ip":"192.0.2.66"}`,
		},
		"milter": {
			"Nov 27 08:00:00 mx sm-mta[1]: 5ARGK0ab000102: Milter: to=<c@d.example>, reject=550 5.7.1 Command rejected",
			`{"time":"2026-11-27T08:00:00Z","host":"mx","product":"sendmail","process":"sm-mta","event_type":"reject","action":"rejected","status":"milter-reject","status_code":"550 5.7.1","reason":"Command rejected","queue_id":"5ARGK0ab000102","recipient":"c@d.example","recipient_domain":"d.example"}`,
		},
		"attack": {
			"Feb 24 13:00:17 kismet sm-acceptingconnections[1499]: s1OHxxSn001499: 192.241.70.95.dsl.static.turk.net [95.70.241.192] (may be forged): possible SMTP attack: command=AUTH, count=6",
			`{"time":"2026-02-24T13:00:17Z","host":"kismet","product":"sendmail","process":"sm-acceptingconnections","event_type":"reject","action":"rejected","status":"possible SMTP attack","reason":"command=AUTH, count=6","queue_id":"s1OHxxSn001499","src_ip":"95.70.241.192","src_host":"192.241.70.95.dsl.static.turk.net"}`,
		},
		"user unknown": {
			"Jun 17 14:37:39 <mail.notice> robin sm-mta[2794]: 55HIbcGI002794: <baduser@yourhost.com>... User unknown",
			`{"time":"2026-06-17T14:37:39Z","host":"robin","product":"sendmail","process":"sm-mta","event_type":"reject","action":"rejected","status":"reject","reason":"User unknown","queue_id":"55HIbcGI002794","recipient":"baduser@yourhost.com","recipient_domain":"yourhost.com"}`,
		},
		"expn": {
			"Feb 22 14:02:44 batman sm-mta[4030]: s1MD2hsd004030: rrcs-24-73-201-194.se.biz.rr.com [24.73.201.194]: EXPN root [rejected]",
			`{"time":"2026-02-22T14:02:44Z","host":"batman","product":"sendmail","process":"sm-mta","event_type":"reject","action":"rejected","status":"reject","reason":"EXPN root rejected","queue_id":"s1MD2hsd004030","src_ip":"24.73.201.194","src_host":"rrcs-24-73-201-194.se.biz.rr.com"}`,
		},
	} {
		t.Run(name, func(t *testing.T) {
			events, results := feed(t, newTestParser(), tc.line)
			wantResults(t, results, U)
			if len(events) != 1 {
				t.Fatalf("events:\n%s", dump(events))
			}
			wantJSON(t, events[0], tc.want)
		})
	}
}

func TestAuthFailureInjection(t *testing.T) {
	events, _ := feed(t, newTestParser(),
		"Feb 25 04:02:28 relay1 sendmail[16665]: 06I02CNi016765: AUTH failure (LOGIN): authentication failure (-13) SASL(-13): authentication failure: checkpass failed, user=criminal, relay=[192.0.2.100], relay=[192.0.2.4] (may be forged)",
		"May 29 23:14:05 server sendmail[25411]: 26H8MRrS025411: AUTH failure (LOGIN): authentication failure (-13) SASL(-13): authentication failure: checkpass failed, relay=[192.0.2.9]",
	)
	if len(events) != 2 {
		t.Fatalf("events:\n%s", dump(events))
	}
	if ev := events[0]; ev.SrcIP != "192.0.2.4" || ev.AuthUser != "criminal, relay=[192.0.2.100]" || ev.Action != schema.ActionFailed {
		t.Errorf("injected relay: %s", dump(events[:1]))
	}
	if ev := events[1]; ev.SrcIP != "192.0.2.9" || ev.AuthUser != "" ||
		ev.Reason != "LOGIN: authentication failure (-13) SASL(-13): authentication failure: checkpass failed" {
		t.Errorf("no user: %s", dump(events[1:]))
	}
}

func TestNoiseIsCounted(t *testing.T) {
	p := newTestParser()
	_, results := feed(t, p,
		"",
		"Apr  2 00:15:25 mta001 sendmail[32300]: u31FFPtp032300: Milter: no active filter",
		"Apr  2 00:15:25 mta001 sendmail[32302]: u31FFPtp032300: SMTP outgoing connect on [192.168.198.81]",
		"Apr  2 00:15:25 mta001 sendmail[32302]: u31FFPtp032300: done; delay=00:00:00, ntries=2",
		"Jan  4 20:47:07 Jupiter sendmail[415]: starting daemon (8.12.9): SMTP+queueing@01:00:00",
		"May 20 04:03:08 mailhost sendmail[12524]: j4K488I4001736: j4K6MJcE012524: sender notify: Warning: could not send message for past 4 hours\r",
		"May 20 04:08:34 mailhost sendmail[29739]: j4K98Yl7029739: lost input channel from somehost.example.edu [129.107.1.2] to MTA after rcpt",
		"Mar  6 16:55:28 s192-168-0-1 sm-mta[20949]: v26LtRA0020949: some-host-24.example.org [192.0.2.194] did not issue MAIL/EXPN/VRFY/ETRN during connection to MTA",
		"May 20 05:43:27 mailhost sendmail[6190]: j4KAfETR005770: somehost.example.com.: SMTP DATA-2 protocol error: 571 Message Refused",
		"Nov 27 08:00:00 mx sm-mta[1]: STARTTLS=server, relay=[192.0.2.1], version=TLSv1.3, verify=NO, cipher=TLS_AES_256_GCM_SHA384, bits=256/256",
		"Nov 27 08:00:00 mx postfix/smtpd[1]: connect from x[192.0.2.1]",
		"Nov 27 08:00:00 mx sm-mta[1]: last message repeated 2 times",
	)
	wantResults(t, results, I, I, I, I, I, I, I, I, I, I, I, I)
	st := p.Stats()
	for k, want := range map[string]int{
		"ignored_blank": 1, "ignored_milter": 1, "ignored_connection": 3, "ignored_queue": 1, "ignored_daemon": 1,
		"ignored_notification": 1, "ignored_delivery_info": 1, "ignored_tls": 1, "ignored_other_program": 1,
		"ignored_syslog_repeat": 1,
	} {
		if st[k] != want {
			t.Errorf("%s = %d, want %d", k, st[k], want)
		}
	}
}

func TestNotUnderstood(t *testing.T) {
	_, results := feed(t, newTestParser(),
		"garbage",
		"Nov 27 08:00:00 mx sendmail[1]: ",
		"Nov 27 08:00:00 mx sendmail[1]: u31FFPtp032300: to=<a@b>, delay=00:00:00",
		"Nov 27 08:00:00 mx sendmail[1]: u31FFPtp032300: something we never saw",
		"May 20 08:37:32 mailhost sendmail[7215]: j4KDbUaV007215[2]: \263\273\270\276 clknwtmpxu dn",
		"Nov 27 08:00:00 mx sendmail[1]: u31FFPtp032300: ruleset=check_rcpt, arg1=<a@b>",
	)
	wantResults(t, results, N, N, N, N, N, N)
}

func TestQueueBounded(t *testing.T) {
	p := New(normalize.Options{Year: 2026, MaxQueueAge: time.Hour})
	feed(t, p,
		"Nov 27 08:00:00 mx sm-mta[1]: 5ARGK0ab000100: from=<a@b.example>, size=1, class=0, nrcpts=2, msgid=<m@b>, proto=ESMTP, daemon=MTA, relay=[192.0.2.1]",
		"Nov 27 08:00:01 mx sm-mta[1]: 5ARGK0ab000100: to=<c@d.example>, delay=00:00:01, xdelay=00:00:01, mailer=esmtp, pri=1, relay=[192.0.2.2], dsn=4.0.0, stat=Deferred: Connection refused",
	)
	events, _ := feed(t, p,
		"Nov 27 10:00:00 mx sm-mta[1]: starting daemon (8.17.1): SMTP+queueing@00:30:00",
		"Nov 27 10:00:01 mx sm-mta[2]: 5ARGK0ab000100: to=<c@d.example>, delay=02:00:01, xdelay=00:00:01, mailer=esmtp, pri=1, relay=[192.0.2.2], dsn=2.0.0, stat=Sent (ok)",
	)
	st := p.Stats()
	if st[StatFlushedIncomplete] != 1 || st[StatOrphanDeliveries] != 1 || st[StatQueueLen] != 0 {
		t.Errorf("stats %v", st)
	}
	if len(events) != 1 || events[0].HasSender || events[0].Delay != 7201 {
		t.Errorf("orphan delivery: %s", dump(events))
	}
	feed(t, p, "Nov 27 10:00:02 mx sm-mta[1]: 5ARGK0ab000103: from=<a@b.example>, size=1, class=0, nrcpts=1, msgid=<m@b>, proto=ESMTP, daemon=MTA, relay=[192.0.2.1]")
	p.Flush(func(*schema.Event) {})
	if st := p.Stats(); st[StatPendingAtEnd] != 1 {
		t.Errorf("after flush: %v", st)
	}
}

func TestScanHelpers(t *testing.T) {
	for s, want := range map[string]float64{"00:00:00": 0, "00:00:15": 15, "1+00:00:15": 86415, "12:34:56": 45296, "00:00:01.5": 1.5} {
		if got, ok := parseDelay(s); !ok || got != want {
			t.Errorf("parseDelay(%q) = %v, %v", s, got, ok)
		}
	}
	for _, s := range []string{"", "1+", "+00:00:00", "0:00:00", "00:00:0x", "00:00:00.", "x+00:00:00"} {
		if _, ok := parseDelay(s); ok {
			t.Errorf("parseDelay(%q) ok", s)
		}
	}
	if got := splitRecipients(`<a@b>,<"c,d"@e>,f@g, <h@i>`); !slices.Equal(got, []string{"a@b", `"c,d"@e`, "f@g", "h@i"}) {
		t.Errorf("splitRecipients = %q", got)
	}
	for _, tc := range []struct{ s, host, ip, rest string }{
		{"mx.example. [192.0.2.1]", "mx.example", "192.0.2.1", ""},
		{"[93.184.216.34] [93.184.216.34]", "", "93.184.216.34", ""},
		{"h [192.0.2.1] (may be forged): x", "h", "192.0.2.1", ": x"},
		{"example.com [IPv6:2001:DB8::1] did not", "example.com", "2001:DB8::1", " did not"},
		{"localhost", "localhost", "", ""},
		{"[unterminated", "", "", "[unterminated"},
	} {
		h, ip, rest := parseRelay(tc.s)
		if h != tc.host || ip != tc.ip || rest != tc.rest {
			t.Errorf("parseRelay(%q) = %q %q %q", tc.s, h, ip, rest)
		}
	}
	for s, ok := range map[string]bool{
		"u31FFPtp032300: x": true, "xA32R2PQ3529566: x": true, "j4KDbUaV007215[2]: x": true,
		"starting daemon": false, "STARTTLS=server, x": false, "abcdefghijklmnop: x": false,
	} {
		if _, _, got := splitQueueID(s); got != ok {
			t.Errorf("splitQueueID(%q) = %v", s, got)
		}
	}
}

func TestStatsKeys(t *testing.T) {
	keys := StatsKeys()
	if !slices.IsSorted(keys) {
		t.Error("StatsKeys not sorted")
	}
	p := newTestParser()
	feed(t, p, "", "Nov 27 08:00:00 mx sm-mta[1]: starting daemon (8.17.1): x")
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
		"Apr  2 00:15:25 mta001 sendmail[32302]: u31FFPtp032300: to=<a@b>,<c@d>, delay=1+00:00:15, xdelay=00:00:15, mailer=esmtp, pri=1, relay=[1.2.3.4] [1.2.3.4], dsn=4.3.5, stat=Deferred: 451 4.3.5 x",
		"Apr  2 00:15:25 mta001 sendmail[32300]: u31FFPtp032300: from=<>, size=99999999999999999999, class=0, nrcpts=-1, msgid=<, proto=ESMTP, daemon=MTA, relay=[",
		"Feb 25 04:02:28 relay1 sendmail[16665]: 06I02CNi016765: AUTH failure (LOGIN: x, user=, relay=",
		"Feb 24 01:46:44 p sm-mta[1]: ruleset=check_relay, arg1=, arg2=, relay=[, reject=5",
		"Jun 17 14:37:39 <mail.notice> robin sm-mta[2794]: 55HIbcGI002794: <x>... User unknown",
		"Jun 17 14:37:39 <mail.notice>",
		"Nov 27 08:00:00 mx sm-mta[1]: 5ARGK0ab000102: Milter: from=<a, reject=",
		"Nov 27 08:00:00 mx sm-mta[1]: rejecting commands from [ due to",
		"Nov 27 08:00:00 mx sm-mta[1]: x [1.2.3.4]: possible SMTP attack: ",
	} {
		f.Add(s)
	}
	if dir, err := filepath.Abs(filepath.Join(corpustest.Root(), "sendmail")); err == nil {
		if _, err := os.Stat(dir); err == nil {
			for _, cf := range corpusFiles() {
				fh, err := os.Open(filepath.Join(dir, cf.path))
				if err != nil {
					continue
				}
				sc := bufio.NewScanner(fh)
				for sc.Scan() {
					if text, ok := cf.extract(sc.Text()); ok {
						f.Add(text)
					}
				}
				fh.Close()
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
		prime := "Apr  2 00:15:25 mta001 sendmail[1]: u31FFPtp032300: from=<a@b>, size=1, class=0, nrcpts=2, msgid=<m@b>, proto=ESMTP, daemon=MTA, relay=[1.2.3.4]"
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

// BenchmarkParse measures the parser alone over the real 2005 log and over
// a synthetic busy relay log. It reports lines/s besides MB/s.
func BenchmarkParse(b *testing.B) {
	b.Run("gitpan-plain", func(b *testing.B) {
		dir := corpusDir(b)
		data, err := os.ReadFile(filepath.Join(dir, "gitpan-parse-syslog-mail", "t", "logs", "sendmail-plain.log"))
		if err != nil {
			b.Fatal(err)
		}
		benchLines(b, strings.Split(strings.TrimRight(string(data), "\n"), "\n"))
	})
	b.Run("synthetic", func(b *testing.B) { benchLines(b, syntheticLog(2000)) })
}

func benchLines(b *testing.B, lines []string) {
	size := 0
	for _, l := range lines {
		size += len(l) + 1
	}
	b.SetBytes(int64(size))
	b.ReportAllocs()
	events := 0
	emit := func(*schema.Event) { events++ }
	start := time.Now()
	iters := 0
	for b.Loop() {
		p := New(normalize.Options{Year: 2026})
		for i, l := range lines {
			p.Parse(schema.Line{Text: l, File: "bench", Number: i + 1}, emit)
		}
		p.Flush(emit)
		iters++
	}
	if el := time.Since(start).Seconds(); el > 0 {
		b.ReportMetric(float64(iters*len(lines))/el, "lines/s")
	}
	b.ReportMetric(float64(events)/float64(iters), "events/op")
}

// syntheticLog builds n messages of a busy relay: TLS, from=, two to=
// lines (one with two recipients), and a reject now and then.
func syntheticLog(n int) []string {
	var out []string
	for i := 0; i < n; i++ {
		id := "5AR" + strconv.FormatInt(int64(100000+i), 36) + "ab" + strconv.Itoa(100000+i)
		ip := "192.0." + strconv.Itoa(i%250) + "." + strconv.Itoa(1+i%200)
		ts := "Nov 27 08:" + two(i/60%60) + ":" + two(i%60) + " mx sm-mta[" + strconv.Itoa(1000+i) + "]: "
		out = append(out,
			ts+"STARTTLS=server, relay=client.example ["+ip+"], version=TLSv1.3, verify=NO, cipher=TLS_AES_256_GCM_SHA384, bits=256/256",
			ts+id+": from=<sender"+strconv.Itoa(i)+"@example.net>, size=48211, class=0, nrcpts=3, msgid=<m"+strconv.Itoa(i)+"@example.net>, bodytype=8BITMIME, proto=ESMTPS, daemon=MTA, relay=client.example ["+ip+"]",
			ts+id+": to=<a@corp.example>,<b@corp.example>, delay=00:00:02, xdelay=00:00:01, mailer=esmtp, pri=168211, relay=mx1.corp.example. [198.51.100.7], dsn=2.0.0, stat=Sent (250 2.0.0 OK)",
			ts+id+": to=<c@corp.example>, delay=00:00:02, xdelay=00:00:01, mailer=local, pri=168211, dsn=2.0.0, stat=Sent",
		)
		if i%5 == 0 {
			out = append(out,
				ts+id+": ruleset=check_rcpt, arg1=<x@elsewhere.example>, relay=client.example ["+ip+"], reject=550 5.7.1 <x@elsewhere.example>... Relaying denied",
				ts+id+": AUTH failure (LOGIN): authentication failure (-13) SASL(-13): authentication failure: checkpass failed, user=admin, relay=["+ip+"]",
			)
		}
	}
	return out
}

func two(n int) string {
	if n < 10 {
		return "0" + strconv.Itoa(n)
	}
	return strconv.Itoa(n)
}

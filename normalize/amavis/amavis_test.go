package amavis

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/detect-dev/detect/normalize"
	"github.com/detect-dev/detect/schema"
)

func parseOne(t *testing.T, msg string) ([]*schema.Event, normalize.Result) {
	t.Helper()
	p := New(normalize.Options{Year: 2026})
	var evs []*schema.Event
	r := p.Parse(schema.Line{Text: "Nov 27 08:00:00 mx amavis[1]: " + msg, File: "t", Number: 1},
		func(e *schema.Event) { evs = append(evs, e) })
	return evs, r
}

func TestVerdicts(t *testing.T) {
	const tail = `, [192.0.2.1]:1 [198.51.100.2] <a@x.example> -> <b@y.example>, Queue-ID: Q1, size: 10, 5 ms`
	cases := []struct {
		msg, status, action, reason string
	}{
		{"(1-01) Passed CLEAN {RelayedInbound}" + tail, "Passed CLEAN", "delivered", ""},
		{"(1-01) Passed CLEAN" + tail, "Passed CLEAN", "delivered", ""},
		{"(1-01) Blocked SPAM {DiscardedInbound,Quarantined}" + tail, "Blocked SPAM", "quarantined", ""},
		{"(1-01) Blocked SPAM {DiscardedInbound}" + tail, "Blocked SPAM", "discarded", ""},
		{"(1-01) Blocked SPAM {BouncedInbound}" + tail, "Blocked SPAM", "bounced", ""},
		{"(1-01) Blocked SPAM {RejectedInbound}" + tail, "Blocked SPAM", "rejected", ""},
		{"(1-01) Blocked SPAM {TempFailedInbound}" + tail, "Blocked SPAM", "deferred", ""},
		{"(1-01) Blocked INFECTED (Heuristics.Phishing (nested)) {DiscardedInbound,Quarantined}" + tail, "Blocked INFECTED", "quarantined", "Heuristics.Phishing (nested)"},
		{"(1-01) Not-Delivered INFECTED (x)" + tail, "Not-Delivered INFECTED", "discarded", "x"},
	}
	for _, c := range cases {
		evs, r := parseOne(t, c.msg)
		if r != normalize.Understood || len(evs) != 1 {
			t.Errorf("%s: %v, %d events", c.msg, r, len(evs))
			continue
		}
		e := evs[0]
		if e.Status != c.status || e.Action != c.action || e.Reason != c.reason || e.SrcIP != "198.51.100.2" ||
			e.QueueID != "Q1" || e.Size != 10 || e.Sender != "a@x.example" || e.Recipient != "b@y.example" {
			t.Errorf("%s:\n%+v", c.msg, e)
		}
	}
}

func TestSubject(t *testing.T) {
	for in, want := range map[string]string{
		`, Subject: "a, ""b"", c", From: <x>`:     `a, "b", c`,
		`, Subject: "=?x?= (raw: =?UTF-8?Q?x?=)"`: `=?x?=`,
		`, Subject: "cut`:                         `cut`,
		`, Subject: "" , 3 ms`:                    ``,
		`, Subject: "ends with quote"""`:          `ends with quote"`,
	} {
		if got, _ := subject(in); got != want {
			t.Errorf("%q: %q want %q", in, got, want)
		}
	}
}

func TestNotUnderstood(t *testing.T) {
	for _, msg := range []string{
		"(1-01) Blocked SPAM {DiscardedInbound}, <a@x> no arrow",
		"(1-01) Blocked INFECTED (unclosed {DiscardedInbound}, <a@x> -> <b@y>",
		"(1-01) Passed CLEAN, [192.0.2.1] a@x -> <b@y>",
		"(1-01) Passed CLEAN, [192.0.2.1] <a@x> -> b@y",
		"(1-01 Passed",
	} {
		if evs, r := parseOne(t, msg); r != normalize.NotUnderstood || len(evs) != 0 {
			t.Errorf("%s: %v %d", msg, r, len(evs))
		}
	}
}

func TestMailScanner(t *testing.T) {
	p := New(normalize.Options{Year: 2026})
	var evs []*schema.Event
	emit := func(e *schema.Event) { evs = append(evs, e) }
	pre := "Nov 27 08:00:00 efa MailScanner[1]: "
	rs := []normalize.Result{
		p.Parse(schema.Line{Text: pre + "Message Q1 from 192.0.2.1 (a@x.example) to u@corp.example is spam, SpamAssassin (score=9)"}, emit),
		p.Parse(schema.Line{Text: pre + "Message Q2 from 192.0.2.1 to corp.example is maybe"}, emit),
		p.Parse(schema.Line{Text: pre + "Message processing took 2 seconds"}, emit),
		p.Parse(schema.Line{Text: pre + "Filename Checks: Allowing invoice.pdf"}, emit),
		p.Parse(schema.Line{Text: pre + "Filetype Checks: No executables (Q3 run.exe)"}, emit),
	}
	want := []normalize.Result{normalize.Understood, normalize.NotUnderstood, normalize.Ignored, normalize.Ignored, normalize.Understood}
	for i := range want {
		if rs[i] != want[i] {
			t.Errorf("line %d: %v want %v", i, rs[i], want[i])
		}
	}
	if len(evs) != 2 || evs[0].Recipient != "u@corp.example" || evs[0].RecipientDomain != "corp.example" ||
		evs[1].AttachmentExt[0] != "exe" || evs[1].Action != "quarantined" {
		t.Errorf("%+v", evs)
	}
}

func TestStatsKeys(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("testdata", "amavis-sample.log"))
	if err != nil {
		t.Fatal(err)
	}
	p := New(normalize.Options{Year: 2026})
	for i, l := range strings.Split(string(data), "\n") {
		p.Parse(schema.Line{Text: l, Number: i + 1}, func(*schema.Event) {})
	}
	keys := map[string]bool{}
	for _, k := range StatsKeys() {
		keys[k] = true
	}
	for k := range p.Stats() {
		if !keys[k] && !strings.HasPrefix(k, "postfix_") {
			t.Errorf("Stats key %q not in StatsKeys", k)
		}
	}
}

// FuzzParse checks that the parser never panics and emits only complete,
// valid events, whatever follows an amavis or MailScanner tag.
func FuzzParse(f *testing.F) {
	data, err := os.ReadFile(filepath.Join("testdata", "amavis-sample.log"))
	if err != nil {
		f.Fatal(err)
	}
	for _, l := range strings.Split(string(data), "\n") {
		f.Add(l)
		if _, msg, ok := strings.Cut(l, "]: "); ok {
			f.Add(msg)
		}
	}
	f.Add("(1-1) Blocked BANNED ( | ,,. | .) {} -> <")
	f.Fuzz(func(t *testing.T, text string) {
		check := func(ev *schema.Event) {
			if ev.EventType == "" || ev.Action == "" {
				t.Errorf("event without type or action: %+v", ev)
			}
			if b := ev.AppendJSON(nil); !json.Valid(b) {
				t.Errorf("invalid JSON: %s", b)
			}
		}
		p := New(normalize.Options{Year: 2026})
		for i, l := range []string{text, "Nov 27 08:00:00 mx amavis[1]: " + text, "Nov 27 08:00:00 mx MailScanner[1]: " + text} {
			if r := p.Parse(schema.Line{Text: l, File: "f", Number: i + 1}, check); r > normalize.NotUnderstood {
				t.Errorf("result %v", r)
			}
		}
		p.Flush(check)
		_ = p.Stats()
	})
}

func TestSniff(t *testing.T) {
	for line, want := range map[string]string{
		"Feb 23 04:55:57 mrelmx42 amavis[4051607]: (4051607-09) Blocked INFECTED (x)": "amavis",
		"Jul 30 08:01:07 efa MailScanner[1803828]: Message 4bsM5k4xJmz4rT6 from":      "amavis",
		"Nov 27 08:00:00 mx amavisd-new[12]: starting":                                "amavis",
		"Nov 27 08:00:00 mx postfix/smtpd[1]: connect from x[192.0.2.1]":              "postfix",
	} {
		if got := normalize.Sniff(line); got != want {
			t.Errorf("Sniff(%q) = %q, want %q", line, got, want)
		}
	}
}

package m365

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/detect-dev/detect/normalize"
	"github.com/detect-dev/detect/schema"
)

func feed(p normalize.Parser, lines ...string) ([]*schema.Event, []normalize.Result) {
	var evs []*schema.Event
	var rs []normalize.Result
	emit := func(e *schema.Event) { evs = append(evs, e) }
	for i, l := range lines {
		rs = append(rs, p.Parse(schema.Line{Text: l, File: "t", Number: i + 1}, emit))
	}
	p.Flush(emit)
	return evs, rs
}

const header = "Received,SenderAddress,RecipientAddress,Subject,Status,ToIP,FromIP,Size,MessageId,MessageTraceId"

// TestStatusMap pins the action of every documented Status, in the
// spellings of the cmdlets, the admin center and Graph.
func TestStatusMap(t *testing.T) {
	want := map[string]string{
		"Delivered": "delivery/delivered", "Expanded": "delivery/delivered", "Resolved": "delivery/delivered",
		"Pending": "delivery/deferred", "GettingStatus": "delivery/deferred", "Getting status": "delivery/deferred",
		"Failed": "delivery/failed", "None": "delivery/rejected", "Quarantined": "filter/quarantined",
		"FilteredAsSpam": "filter/rejected", "Filtered as spam": "filter/rejected", "filteredAsSpam": "filter/rejected",
		"DELIVERED": "delivery/delivered",
	}
	for st, w := range want {
		p := New(normalize.Options{})
		evs, rs := feed(p, header, `2026-11-27T08:00:00Z,s@x.example,r@corp.example,subj,"`+st+`",,,1,<m@x>,id1`)
		if rs[1] != normalize.Understood || len(evs) != 1 {
			t.Errorf("%q: %v, %d events", st, rs, len(evs))
			continue
		}
		if got := evs[0].EventType + "/" + evs[0].Action; got != w || evs[0].Status != st {
			t.Errorf("%q: %s (status %q), want %s", st, got, evs[0].Status, w)
		}
	}
	for _, odd := range []string{"", "Archived", "Spam", "Undelivered"} {
		p := New(normalize.Options{})
		evs, rs := feed(p, header, `2026-11-27T08:00:00Z,s@x.example,r@corp.example,subj,"`+odd+`",,,1,<m@x>,id1`)
		if rs[1] != normalize.NotUnderstood || len(evs) != 0 || p.Stats()[StatUnknownStatus] != 1 {
			t.Errorf("odd status %q: %v %d %v", odd, rs, len(evs), p.Stats())
		}
	}
}

func TestRows(t *testing.T) {
	cases := []struct {
		name, row string
		want      normalize.Result
		check     func(*testing.T, []*schema.Event)
	}{
		{"quoted commas", `2026-11-27T08:00:00Z,s@x.example,r@corp.example,"a, ""b"", c",Delivered,,192.0.2.1,10,<m@x>,id1`, normalize.Understood,
			func(t *testing.T, e []*schema.Event) {
				if e[0].Subject != `a, "b", c` || e[0].SrcIP != "192.0.2.1" || e[0].MessageID != "m@x" || e[0].QueueID != "id1" {
					t.Errorf("%+v", e[0])
				}
			}},
		{"empty fields", `2026-11-27T08:00:00Z,,,,Delivered,,,,,`, normalize.Understood,
			func(t *testing.T, e []*schema.Event) {
				if e[0].HasSender || e[0].Recipient != "" || e[0].Size != 0 {
					t.Errorf("%+v", e[0])
				}
			}},
		{"zone offset", `2026-11-27T09:00:00+01:00,s@x,r@y,,Delivered,,,,,`, normalize.Understood,
			func(t *testing.T, e []*schema.Event) {
				if !e[0].Time.Equal(time.Date(2026, 11, 27, 8, 0, 0, 0, time.UTC)) {
					t.Errorf("%v", e[0].Time)
				}
			}},
		{"US culture stamp, afternoon", `11/27/2026 1:02:03 PM,s@x,r@y,,Delivered,,,,,`, normalize.Understood,
			func(t *testing.T, e []*schema.Event) {
				if !e[0].Time.Equal(time.Date(2026, 11, 27, 13, 2, 3, 0, time.UTC)) {
					t.Errorf("%v", e[0].Time)
				}
			}},
		{"German culture stamp", `27.11.2026 13:02:03,s@x,r@y,,Delivered,,,,,`, normalize.Understood, nil},
		{"two recipients", `2026-11-27T08:00:00Z,s@x,a@y;b@y,,Delivered,,,,,`, normalize.Understood,
			func(t *testing.T, e []*schema.Event) {
				if len(e) != 2 || e[1].Recipient != "b@y" {
					t.Errorf("%+v", e)
				}
			}},
		{"null sender", `2026-11-27T08:00:00Z,<>,r@y,,Failed,,,,,`, normalize.Understood,
			func(t *testing.T, e []*schema.Event) {
				if !e[0].HasSender || e[0].Sender != "" {
					t.Errorf("%+v", e[0])
				}
			}},
		{"bad time", `never,s@x,r@y,,Delivered,,,,,`, normalize.NotUnderstood, nil},
		{"unterminated quote", `2026-11-27T08:00:00Z,s@x,r@y,"open,Delivered`, normalize.NotUnderstood, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			evs, rs := feed(New(normalize.Options{}), header, c.row)
			if rs[0] != normalize.Ignored || rs[1] != c.want {
				t.Fatalf("%v, want [ignored %v]", rs, c.want)
			}
			if c.check != nil {
				if len(evs) == 0 {
					t.Fatal("no event")
				}
				c.check(t, evs)
			}
		})
	}
}

func TestRowBeforeHeader(t *testing.T) {
	p := New(normalize.Options{})
	_, rs := feed(p, `2026-11-27T08:00:00Z,s@x,r@y,,Delivered,,,,,`)
	if rs[0] != normalize.NotUnderstood || p.Stats()[StatBadRecord] != 1 {
		t.Errorf("%v %v", rs, p.Stats())
	}
}

func TestJSONForms(t *testing.T) {
	cases := []struct {
		name   string
		lines  []string
		events int
	}{
		{"graph one line", []string{`{"value":[{"receivedDateTime":"2026-11-27T08:00:00Z","status":"delivered","recipientAddress":"a@b"},{"receivedDateTime":"2026-11-27T08:00:00Z","status":"failed"}]}`}, 2},
		{"array", []string{`[`, `{"Received":"2026-11-27T08:00:00","Status":"Pending"}`, `]`}, 1},
		{"odata v2 dates", []string{`{"d":{"results":[{"Received":"/Date(1795766400000)/","Status":"Delivered"}]}}`}, 1},
		{"odata v2 date with offset", []string{`{"Received":"/Date(1795766400000+0100)/","Status":"Delivered"}`}, 1},
		{"brace in string", []string{`{"Received":"2026-11-27T08:00:00Z","Subject":"}{][\"}","Status":"Delivered"}`}, 1},
		{"empty collection", []string{`{"value":[]}`}, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			evs, rs := feed(New(normalize.Options{}), c.lines...)
			if len(evs) != c.events {
				t.Errorf("%d events, want %d (%v)", len(evs), c.events, rs)
			}
			for _, r := range rs {
				if r == normalize.NotUnderstood {
					t.Errorf("results %v", rs)
				}
			}
		})
	}
	evs, _ := feed(New(normalize.Options{}), `{"Received":"/Date(1795766400000)/","Status":"Delivered","Size":12.0}`)
	if len(evs) != 1 || !evs[0].Time.Equal(time.UnixMilli(1795766400000)) || evs[0].Size != 12 {
		t.Errorf("%+v", evs)
	}
	p := New(normalize.Options{})
	_, rs := feed(p, `{"Received": 1} trailing`, `{"a": ]`)
	if rs[0] != normalize.NotUnderstood || rs[1] != normalize.NotUnderstood || p.Stats()[StatJSONErrors] != 2 {
		t.Errorf("%v %v", rs, p.Stats())
	}
}

func TestStatsKeys(t *testing.T) {
	p := New(normalize.Options{})
	feed(p, "", "#TYPE x", header, `x,y`, `{"a":`)
	keys := map[string]bool{}
	for _, k := range StatsKeys() {
		keys[k] = true
	}
	for k := range p.Stats() {
		if !keys[k] {
			t.Errorf("Stats key %q not in StatsKeys", k)
		}
	}
}

// FuzzParse feeds arbitrary text after a CSV header and checks that the
// parser never panics and emits only complete, valid events.
func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "messagetrace-*"))
	for _, name := range files {
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(string(data))
		for _, l := range strings.Split(string(data), "\n") {
			f.Add(l)
		}
	}
	f.Add(`{"d":{"results":{"Received":"/Date(-99999999999999999)/"}}}`)
	f.Add(`[[[[`)
	f.Fuzz(func(t *testing.T, text string) {
		check := func(ev *schema.Event) {
			if ev.EventType == "" || ev.Action == "" {
				t.Errorf("event without type or action: %+v", ev)
			}
			if b := ev.AppendJSON(nil); !json.Valid(b) {
				t.Errorf("invalid JSON: %s", b)
			}
		}
		p := New(normalize.Options{})
		p.Parse(schema.Line{Text: header}, check)
		for i, l := range strings.Split(text, "\n") {
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
		"#TYPE Deserialized.Microsoft.Exchange.Management.FfoReporting.MessageTrace":                     "m365",
		`"PSComputerName","RunspaceId","Received","SenderAddress","RecipientAddress","Subject","Status"`: "m365",
		header: "m365",
		`  "@odata.context": "https://graph.microsoft.com/beta/$metadata#admin/exchange/tracing/messageTraces",`: "m365",
		"{": "",
		"[": "",
		`{"d":{"results":[{"MessageTraceId":"x"}]}}`:                                       "m365",
		"origin_timestamp_utc,sender_address,recipient_status,message_subject,total_bytes": "m365",
		`{"sender":"a@b"}`: "json",
	} {
		if got := normalize.Sniff(line); got != want {
			t.Errorf("Sniff(%q) = %q, want %q", line, got, want)
		}
	}
}

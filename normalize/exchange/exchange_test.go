package exchange

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

// feed parses lines and returns the events and results.
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

const fieldsLine = "#Fields: date-time,client-ip,client-hostname,server-ip,server-hostname,source,event-id," +
	"internal-message-id,message-id,recipient-address,recipient-status,total-bytes,recipient-count," +
	"message-subject,sender-address,directionality,original-client-ip"

func TestTrackingRows(t *testing.T) {
	cases := []struct {
		name   string
		row    string
		want   normalize.Result
		events int
		check  func(t *testing.T, evs []*schema.Event)
	}{
		{
			name: "quoted commas and doubled quotes",
			row:  `2026-11-27T08:00:01Z,198.51.100.1,mx.example,,EX01,SMTP,RECEIVE,1,<m@x>,a@corp.example,,10,1,"Re: a, b and ""c""",s@x.example,Incoming,`,
			want: normalize.Understood, events: 1,
			check: func(t *testing.T, evs []*schema.Event) {
				e := evs[0]
				if e.Subject != `Re: a, b and "c"` || e.MessageID != "m@x" || e.SrcIP != "198.51.100.1" || e.Direction != "inbound" {
					t.Errorf("%+v", e)
				}
			},
		},
		{
			name: "empty fields",
			row:  `2026-11-27T08:00:01Z,,,,,,DELIVER,,,,,,,,,,`,
			want: normalize.Understood, events: 1,
			check: func(t *testing.T, evs []*schema.Event) {
				e := evs[0]
				if e.HasSender || e.Recipient != "" || e.Size != 0 || e.Direction != "" || e.Action != "delivered" {
					t.Errorf("%+v", e)
				}
			},
		},
		{
			name: "time zone offset",
			row:  `2026-11-27T09:00:01.5+01:00,,,,EX01,SMTP,SEND,1,,a@partner.example,250 2.0.0 OK,10,1,,s@corp.example,Originating,`,
			want: normalize.Understood, events: 1,
			check: func(t *testing.T, evs []*schema.Event) {
				if !evs[0].Time.Equal(time.Date(2026, 11, 27, 8, 0, 1, 5e8, time.UTC)) || evs[0].Direction != "outbound" {
					t.Errorf("%v %s", evs[0].Time, evs[0].Direction)
				}
			},
		},
		{
			name: "recipient statuses in order, with ; inside one",
			row:  `2026-11-27T08:00:01Z,,,,EX01,ROUTING,FAIL,1,,a@x.example;b@x.example,"550 5.1.10 RESOLVER.ADR.RecipientNotFound; not found;554 5.4.14 Hop count exceeded",10,2,,s@corp.example,Originating,`,
			want: normalize.Understood, events: 2,
			check: func(t *testing.T, evs []*schema.Event) {
				if evs[0].StatusCode != "550 5.1.10" || evs[0].Reason != "RESOLVER.ADR.RecipientNotFound; not found" ||
					evs[1].StatusCode != "554 5.4.14" || evs[1].Recipient != "b@x.example" || evs[0].Action != "bounced" {
					t.Errorf("%+v\n%+v", evs[0], evs[1])
				}
			},
		},
		{
			name: "null sender",
			row:  `2026-11-27T08:00:01Z,,,,EX01,SMTP,RECEIVE,1,,a@corp.example,,10,1,,<>,Incoming,`,
			want: normalize.Understood, events: 1,
			check: func(t *testing.T, evs []*schema.Event) {
				if !evs[0].HasSender || evs[0].Sender != "" {
					t.Errorf("%+v", evs[0])
				}
			},
		},
		{name: "lower-case event id", row: `2026-11-27T08:00:01Z,,,,EX01,ROUTING,expand,1,,a@x,,1,1,,,,`, want: normalize.Ignored},
		{name: "unknown event id", row: `2026-11-27T08:00:01Z,,,,EX01,SMTP,NEWTHING,1,,a@x,,1,1,,,,`, want: normalize.NotUnderstood},
		{name: "bad time", row: `yesterday,,,,EX01,SMTP,RECEIVE,1,,a@x,,1,1,,,,`, want: normalize.NotUnderstood},
		{name: "unterminated quote", row: `2026-11-27T08:00:01Z,,,,EX01,SMTP,RECEIVE,1,,a@x,,1,1,"open`, want: normalize.NotUnderstood},
		{name: "too few columns", row: `2026-11-27T08:00:01Z,x`, want: normalize.NotUnderstood},
		{name: "blank", row: "  \r", want: normalize.Ignored},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := New(normalize.Options{})
			evs, rs := feed(p, fieldsLine, c.row)
			if rs[0] != normalize.Ignored || rs[1] != c.want {
				t.Fatalf("results %v, want [ignored %v]", rs, c.want)
			}
			if len(evs) != c.events {
				t.Fatalf("%d events, want %d", len(evs), c.events)
			}
			if c.check != nil {
				c.check(t, evs)
			}
		})
	}
}

func TestStatsKeys(t *testing.T) {
	p := New(normalize.Options{})
	feed(p, "#Software: x", "", fieldsLine,
		`2026-11-27T08:00:01Z,,,,EX01,ROUTING,EXPAND,1,,a@x,,1,1,,,,`,
		`2026-11-27T08:00:01Z,,,,EX01,SMTP,NEWTHING,1,,a@x,,1,1,,,,`,
		`garbage`)
	keys := map[string]bool{}
	for _, k := range StatsKeys() {
		keys[k] = true
	}
	for k := range p.Stats() {
		if !keys[k] {
			t.Errorf("Stats key %q not in StatsKeys", k)
		}
	}
	st := p.Stats()
	if st["ignored_expand"] != 1 || st["ignored_header"] != 2 || st["ignored_blank"] != 1 ||
		st[StatUnknownEventID] != 1 || st[StatBadRow] != 1 {
		t.Errorf("stats %v", st)
	}
}

func TestFieldsHeaderOrder(t *testing.T) {
	// Columns follow #Fields:, whatever their order, and reset per file.
	p := New(normalize.Options{})
	evs, _ := feed(p, "#Fields: event-id,recipient-address,date-time,sender-address",
		"DELIVER,a@corp.example,2026-11-27T08:00:01Z,s@x.example")
	if len(evs) != 1 || evs[0].Sender != "s@x.example" || evs[0].Recipient != "a@corp.example" {
		t.Fatalf("%+v", evs)
	}
	p.BeginFile("next", time.Time{})
	_, rs := feed(p, "DELIVER,a@corp.example,2026-11-27T08:00:01Z,s@x.example")
	if rs[0] != normalize.NotUnderstood {
		t.Errorf("default columns after BeginFile: %v", rs[0])
	}
}

func TestSMTPRows(t *testing.T) {
	p := NewSMTP(normalize.Options{})
	pre := "2026-11-27T08:00:00Z,EX1\\Default EX1,S1,"
	evs, rs := feed(p,
		pre+"0,192.0.2.1:25,198.51.100.9:1234,+,,",
		pre+"1,192.0.2.1:25,198.51.100.9:1234,<,EHLO x,",
		pre+"2,192.0.2.1:25,198.51.100.9:1234,<,MAIL FROM:<> SIZE=10,",
		pre+"3,192.0.2.1:25,198.51.100.9:1234,>,250 2.1.0 Sender OK,",
		pre+"4,192.0.2.1:25,198.51.100.9:1234,<,RCPT TO:<u@corp.example>,",
		pre+"5,192.0.2.1:25,198.51.100.9:1234,>,\"550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not found, really\",",
		pre+"6,192.0.2.1:25,198.51.100.9:1234,<,DATA,",
		pre+"7,192.0.2.1:25,198.51.100.9:1234,>,554 5.5.1 Error: no valid recipients,",
		pre+"8,192.0.2.1:25,198.51.100.9:1234,>,421 4.4.2 Connection dropped,",
		pre+"9,192.0.2.1:25,198.51.100.9:1234,?,x,",
		pre+"10,192.0.2.1:25,198.51.100.9:1234,-,,Local",
	)
	want := []normalize.Result{normalize.Ignored, normalize.Ignored, normalize.Ignored, normalize.Ignored,
		normalize.Ignored, normalize.Understood, normalize.Ignored, normalize.Understood, normalize.Understood,
		normalize.NotUnderstood, normalize.Ignored}
	for i := range want {
		if rs[i] != want[i] {
			t.Errorf("row %d: %v, want %v", i, rs[i], want[i])
		}
	}
	if len(evs) != 3 {
		t.Fatalf("%d events", len(evs))
	}
	if e := evs[0]; e.Recipient != "u@corp.example" || !e.HasSender || e.Sender != "" || e.StatusCode != "550 5.1.10" ||
		e.Reason != "RESOLVER.ADR.RecipientNotFound; Recipient not found, really" || e.SrcIP != "198.51.100.9" || e.Host != "EX1" {
		t.Errorf("%+v", e)
	}
	if e := evs[1]; e.Recipient != "" || e.StatusCode != "554 5.5.1" {
		t.Errorf("%+v", e)
	}
	if p.Stats()[StatSessionsOpen] != 0 {
		t.Errorf("stats %v", p.Stats())
	}
}

func TestSMTPSendLogIgnored(t *testing.T) {
	p := NewSMTP(normalize.Options{})
	evs, rs := feed(p, "#Log-type: SMTP Send Protocol Log",
		"2026-11-27T08:00:00Z,Outbound,S1,5,192.0.2.1:1234,198.51.100.9:25,<,535 5.7.3 Authentication unsuccessful,")
	if len(evs) != 0 || rs[1] != normalize.Ignored || p.Stats()["ignored_send_log"] != 1 {
		t.Errorf("%v %v %v", evs, rs, p.Stats())
	}
}

func TestSMTPSessionBound(t *testing.T) {
	p := NewSMTP(normalize.Options{})
	for i := 0; i <= MaxSessions; i++ {
		p.Parse(schema.Line{Text: "2026-11-27T08:00:00Z,C,S" + itoa(i) + ",0,a:25,192.0.2.1:1,+,,"}, func(*schema.Event) {})
	}
	if len(p.sessions) > MaxSessions || p.Stats()[StatSessionsDropped] != MaxSessions {
		t.Errorf("sessions %d, stats %v", len(p.sessions), p.Stats())
	}
}

func itoa(i int) string { b, _ := json.Marshal(i); return string(b) }

func TestEndpointIP(t *testing.T) {
	for in, want := range map[string]string{"192.0.2.1:25": "192.0.2.1", "[2001:db8::1]:25": "2001:db8::1",
		"2001:db8::1": "2001:db8::1", "": "", "[broken": "[broken"} {
		if got := endpointIP(in); got != want {
			t.Errorf("%q: %q want %q", in, got, want)
		}
	}
}

// FuzzParse feeds arbitrary lines to both parsers after their headers and
// checks that they never panic and emit only complete, valid events.
func FuzzParse(f *testing.F) {
	for _, name := range []string{"msgtrk-sample.log", "msgtrk-export.csv", "recv-sample.log"} {
		data, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			f.Fatal(err)
		}
		for _, l := range strings.Split(string(data), "\n") {
			f.Add(l)
		}
	}
	f.Add(`"`)
	f.Add(`a,"b""c",d`)
	f.Add(`2026-11-27T08:00:01Z,,,,,,FAIL,,,;;;,;550 ;[{LED=}`)
	f.Fuzz(func(t *testing.T, text string) {
		check := func(ev *schema.Event) {
			if ev.EventType == "" || ev.Action == "" {
				t.Errorf("event without type or action: %+v", ev)
			}
			if b := ev.AppendJSON(nil); !json.Valid(b) {
				t.Errorf("invalid JSON: %s", b)
			}
		}
		for _, p := range []normalize.Parser{New(normalize.Options{}), NewSMTP(normalize.Options{})} {
			for i, l := range strings.Split(text, "\n") {
				if r := p.Parse(schema.Line{Text: l, File: "f", Number: i + 1}, check); r > normalize.NotUnderstood {
					t.Errorf("result %v", r)
				}
			}
			p.Flush(check)
			_ = p.Stats()
		}
	})
}

func TestSniff(t *testing.T) {
	for line, want := range map[string]string{
		"#Log-type: Message Tracking Log":                                                  "exchange",
		"#Fields: date-time,client-ip,client-hostname,server-ip":                           "exchange",
		`#TYPE Microsoft.Exchange.Management.TransportLogSearchTasks.MessageTrackingEvent`: "exchange",
		`"Timestamp","ClientIp","EventId","Sender"`:                                        "exchange",
		"#Log-type: SMTP Receive Protocol Log":                                             "exchange-smtp",
		"#Fields: date-time,connector-id,session-id,sequence-number":                       "exchange-smtp",
		`2022-07-20T21:12:06.270Z,EXCHANGE-1\Default Frontend EXCHANGE-1,08DA4F7C11473A60,9,192.168.9.241:25,192.168.9.212:53722,>,535 5.7.3 Authentication unsuccessful,`: "exchange-smtp",
		"#Software: Microsoft Exchange Server": "",
		"#Version: 15.02.1118.007":             "",
	} {
		if got := normalize.Sniff(line); got != want {
			t.Errorf("Sniff(%q) = %q, want %q", line, got, want)
		}
	}
}

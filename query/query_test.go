package query

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/detect-dev/detect/schema"
)

// loadEvents reads hand-written normalized events (one JSON object a line).
func loadEvents(t testing.TB, path string) []*schema.Event {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []*schema.Event
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if strings.TrimSpace(sc.Text()) == "" {
			continue
		}
		e := new(schema.Event)
		if err := json.Unmarshal(sc.Bytes(), e); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		out = append(out, e)
	}
	return out
}

func runQuery(t testing.TB, q string, events []*schema.Event) *Result {
	t.Helper()
	parsed, err := Parse(q)
	if err != nil {
		t.Fatalf("Parse(%q):\n%v", q, err)
	}
	run := parsed.Start()
	for _, e := range events {
		if !run.Add(e) {
			break
		}
	}
	return run.Result()
}

// rowsText renders a result as "col|col" lines under a header line, as the
// expectations below are written.
func rowsText(res *Result) string {
	var b strings.Builder
	b.WriteString(strings.Join(res.Columns, "|"))
	for _, row := range res.Rows {
		b.WriteByte('\n')
		for i, v := range row {
			if i > 0 {
				b.WriteByte('|')
			}
			b.WriteString(v.Text(","))
		}
	}
	return b.String()
}

func lines(s ...string) string { return strings.Join(s, "\n") }

func check(t *testing.T, q string, events []*schema.Event, want string) *Result {
	t.Helper()
	res := runQuery(t, q, events)
	if got := rowsText(res); got != want {
		t.Errorf("%s\n-want\n%s\n+got\n%s", q, want, got)
	}
	return res
}

// The seven searches of issue 7, unchanged, over testdata/smtp.jsonl. The
// expected rows were worked out by hand from the twelve events (J1..J12 in
// file order):
//
//	J1  11-27 08:10 mx1 delivered a@x -> r1  tool.exe application/x-msdownload 50000
//	J2  11-27 08:20 mx1 delivered a@x -> r2  photos.zip application/zip 3000000
//	J3  11-27 08:30 mx2 delivered b@y -> r1  a.pdf 20000, b.pdf 1500000
//	J4  11-27 09:05 mx2 rejected  c@z -> r3
//	J5  11-27 09:40 mx3 delivered a@x -> r3  doc.pdf 1000000 (not > 1000000)
//	J6  11-27 10:15 mx1 deferred  b@y -> r4@partner
//	J7  11-27 11:00 mx1 auth failed (no sender, no recipient)
//	J8  11-28 09:00 mx2 delivered <>  -> a@x
//	J9  11-28 09:30 mx3 bounced   a@x -> gone@partner
//	J10 11-28 10:00 mx1 delivered d@w -> r1  x.exe APPLICATION/X-MSDOWNLOAD 900
//	J11 11-29 00:30 mx4 delivered e@v -> r2
//	J12 11-29 01:00 (no host) delivered e@v -> r2
func TestSevenSearches(t *testing.T) {
	events := loadEvents(t, "testdata/smtp.jsonl")
	const prefix = "index=mail sourcetype=smtp | "

	t.Run("top sender", func(t *testing.T) {
		// 11 events have a sender (J7 has none): a 4, b 2, e 2, <> 1, c 1, d 1.
		check(t, prefix+"top limit=10 sender", events, lines(
			"sender|count|percent",
			"a@x.example|4|36.363636",
			"b@y.example|2|18.181818",
			"e@v.example|2|18.181818",
			"|1|9.090909",
			"c@z.example|1|9.090909",
			"d@w.example|1|9.090909",
		))
	})
	t.Run("top recipient", func(t *testing.T) {
		check(t, prefix+"top limit=10 recipient", events, lines(
			"recipient|count|percent",
			"r1@corp.example|3|27.272727",
			"r2@corp.example|3|27.272727",
			"r3@corp.example|2|18.181818",
			"a@x.example|1|9.090909",
			"gone@partner.example|1|9.090909",
			"r4@partner.example|1|9.090909",
		))
	})
	t.Run("stats by four fields", func(t *testing.T) {
		// J7 (no sender, no recipient) and J12 (no host) are left out.
		check(t, prefix+"stats count by action,host,sender,recipient", events, lines(
			"action|host|sender|recipient|count",
			"bounced|mx3|a@x.example|gone@partner.example|1",
			"deferred|mx1|b@y.example|r4@partner.example|1",
			"delivered|mx1|a@x.example|r1@corp.example|1",
			"delivered|mx1|a@x.example|r2@corp.example|1",
			"delivered|mx1|d@w.example|r1@corp.example|1",
			"delivered|mx2||a@x.example|1",
			"delivered|mx2|b@y.example|r1@corp.example|1",
			"delivered|mx3|a@x.example|r3@corp.example|1",
			"delivered|mx4|e@v.example|r2@corp.example|1",
			"rejected|mx2|c@z.example|r3@corp.example|1",
		))
	})
	t.Run("timechart 1h", func(t *testing.T) {
		res := runQuery(t, prefix+"timechart span=1h count", events)
		// 11-27 08:00 .. 11-29 01:00 is 16 + 24 + 2 hourly buckets.
		if len(res.Rows) != 42 {
			t.Fatalf("%d rows, want 42\n%s", len(res.Rows), rowsText(res))
		}
		want := map[string]int{
			"2026-11-27T08:00:00Z": 3, "2026-11-27T09:00:00Z": 2, "2026-11-27T10:00:00Z": 1,
			"2026-11-27T11:00:00Z": 1, "2026-11-28T09:00:00Z": 2, "2026-11-28T10:00:00Z": 1,
			"2026-11-29T00:00:00Z": 1, "2026-11-29T01:00:00Z": 1,
		}
		start := time.Date(2026, 11, 27, 8, 0, 0, 0, time.UTC)
		for i, row := range res.Rows {
			ts := start.Add(time.Duration(i) * time.Hour).Format(time.RFC3339)
			if got := row[0].Text(""); got != ts {
				t.Errorf("row %d: _time %s, want %s", i, got, ts)
			}
			if got := row[1].Text(""); got != itoa(want[ts]) {
				t.Errorf("%s: count %s, want %d", ts, got, want[ts])
			}
		}
		if strings.Join(res.Columns, ",") != "_time,count" {
			t.Errorf("columns %v", res.Columns)
		}
	})
	t.Run("attachments", func(t *testing.T) {
		// J1 and J10 by type (case-insensitive), J2 and J3 by one large
		// attachment; J5's is exactly 1000000.
		check(t, prefix+`search attachment_type="application/x-msdownload" OR attachment_size > 1000000`+" | table _time sender attachment_name", events, lines(
			"_time|sender|attachment_name",
			"2026-11-27T08:10:00Z|a@x.example|tool.exe",
			"2026-11-27T08:20:00Z|a@x.example|photos.zip",
			"2026-11-27T08:30:00Z|b@y.example|a.pdf,b.pdf",
			"2026-11-28T10:00:00Z|d@w.example|x.exe",
		))
		res := runQuery(t, prefix+`search attachment_type="application/x-msdownload" OR attachment_size > 1000000`, events)
		if len(res.Events) != 4 || !res.Raw {
			t.Errorf("unchanged search: %d events (raw %v), want 4 raw", len(res.Events), res.Raw)
		}
	})
	t.Run("stats by action host", func(t *testing.T) {
		check(t, prefix+"stats count by action,host", events, lines(
			"action|host|count",
			"bounced|mx3|1",
			"deferred|mx1|1",
			"delivered|mx1|3",
			"delivered|mx2|2",
			"delivered|mx3|1",
			"delivered|mx4|1",
			"failed|mx1|1",
			"rejected|mx2|1",
		))
	})
	t.Run("timechart 1d by host", func(t *testing.T) {
		// J12 has no host: the NULL series.
		check(t, prefix+"timechart span=1d count by host", events, lines(
			"_time|mx1|mx2|mx3|mx4|NULL",
			"2026-11-27T00:00:00Z|4|2|1|0|0",
			"2026-11-28T00:00:00Z|1|1|1|0|0",
			"2026-11-29T00:00:00Z|0|0|0|1|1",
		))
	})
}

func itoa(n int) string { return formatNumber(float64(n), false) }

func TestIgnoredTerms(t *testing.T) {
	q, err := Parse(`index=mail sourcetype="*smtp*" action=rejected | stats count`)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(q.Ignored(), " "); got != `index=mail sourcetype="*smtp*"` {
		t.Errorf("Ignored() = %q", got)
	}
	events := loadEvents(t, "testdata/smtp.jsonl")
	check(t, q.String(), events, "count\n1")
	// Only as leading AND-ed terms.
	if _, err := Parse("action=x OR index=mail"); err == nil || !strings.Contains(err.Error(), "leading term") {
		t.Errorf("index= inside OR: %v", err)
	}
}

func TestJSONShape(t *testing.T) {
	events := loadEvents(t, "testdata/smtp.jsonl")
	tests := []struct{ q, want string }{
		{"top limit=2 sender", `[
{"sender":"a@x.example","count":4,"percent":36.363636},
{"sender":"b@y.example","count":2,"percent":18.181818}
]
`},
		{"timechart span=1d count by host limit=2", `[
{"_time":"2026-11-27T00:00:00Z","mx1":4,"mx2":2,"NULL":0,"OTHER":1},
{"_time":"2026-11-28T00:00:00Z","mx1":1,"mx2":1,"NULL":0,"OTHER":1},
{"_time":"2026-11-29T00:00:00Z","mx1":0,"mx2":0,"NULL":1,"OTHER":1}
]
`},
		{"stats dc(recipient), values(host) as hosts by sender | head 2", `[
{"sender":"","dc(recipient)":1,"hosts":"mx2"},
{"sender":"a@x.example","dc(recipient)":4,"hosts":["mx1","mx3"]}
]
`},
		{"action=nothing | stats count by host", "[]\n"},
		{"action=nothing", "[]\n"},
	}
	for _, tc := range tests {
		var b bytes.Buffer
		if err := runQuery(t, tc.q, events).WriteJSON(&b); err != nil {
			t.Fatal(err)
		}
		if b.String() != tc.want {
			t.Errorf("%s\n-want\n%s+got\n%s", tc.q, tc.want, b.String())
		}
		var v []map[string]any
		if err := json.Unmarshal(b.Bytes(), &v); err != nil {
			t.Errorf("%s: not a JSON array of objects: %v", tc.q, err)
		}
	}
	// Plain events come out as detect normalize writes them.
	var b bytes.Buffer
	if err := runQuery(t, "sender=d@w.example", events).WriteJSON(&b); err != nil {
		t.Fatal(err)
	}
	var v []map[string]any
	if err := json.Unmarshal(b.Bytes(), &v); err != nil || len(v) != 1 || v[0]["time"] != "2026-11-28T10:00:00Z" || v[0]["attachments"] == nil {
		t.Errorf("event JSON %v:\n%s", err, b.String())
	}
}

func TestCSV(t *testing.T) {
	events := loadEvents(t, "testdata/smtp.jsonl")
	var b bytes.Buffer
	res := runQuery(t, `sender=b@y.example | table sender attachment_name reason`, events)
	if err := res.WriteCSV(&b); err != nil {
		t.Fatal(err)
	}
	want := "sender,attachment_name,reason\nb@y.example,\"a.pdf\nb.pdf\",\nb@y.example,,Connection timed out\n"
	if b.String() != want {
		t.Errorf("-want\n%s+got\n%s", want, b.String())
	}
	b.Reset()
	ev := &schema.Event{Time: time.Unix(0, 0), Host: "h", Subject: "=HYPERLINK(\"x\")"}
	if err := runQuery(t, "table subject", []*schema.Event{ev}).WriteCSV(&b); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), `'=HYPERLINK`) {
		t.Errorf("formula not defused:\n%s", b.String())
	}
}

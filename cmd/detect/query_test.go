package main

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"
)

// smtpLog is a hand-written Postfix log: 19 messages and rejects on two
// hosts over two days, normalized into these 20 events (E3b is a second
// alice -> bob message, so one stats group counts 2):
//
//	day 1 (2026-11-27)                        day 2 (2026-11-28)
//	E1  08:05 mx1 delivered alice -> bob       E12 07:00 mx1 delivered frank -> bob
//	E2  08:05 mx1 delivered alice -> carol     E13 07:30 mx1 delivered grace -> bob
//	E3  08:20 mx1 delivered alice -> dave      E14 08:00 mx1 delivered heidi -> carol
//	E3b 08:25 mx1 delivered alice -> bob       E15 08:15 mx1 delivered ivan -> dave
//	E4  08:40 mx1 rejected  spam1 -> bob       E16 09:00 mx1 rejected  judy -> erin
//	E5  09:10 mx1 delivered bob -> ext1        E17 10:00 mx2 delivered mallory -> bob (x-msdownload)
//	E6  09:15 mx1 deferred  bob -> ext2        E18 10:05 mx2 delivered bob -> alice@example.org
//	E7  09:50 mx1 delivered news -> carol      E19 12:00 mx2 auth failed (no sender, no recipient)
//	          (application/x-msdownload)
//	E8  10:05 mx2 delivered alice -> erin
//	E9  10:30 mx2 bounced   reports -> gone
//	E10 10:30 mx2 delivered <> -> reports (the bounce notification)
//	E11 11:00 mx2 rejected  spam2 -> bob
const smtpLog = "testdata/smtp.log"

// queryJSON runs detect query --json and decodes the rows.
func queryJSON(t *testing.T, search string, paths ...string) []map[string]any {
	t.Helper()
	code, out, errOut := detect(t, "", append([]string{"query", "--json", "-q", search}, paths...)...)
	if code != 0 {
		t.Fatalf("%s: exit %d\n%s", search, code, errOut)
	}
	var rows []map[string]any
	if err := json.Unmarshal([]byte(out), &rows); err != nil {
		t.Fatalf("%s: output is not a JSON array: %v\n%s", search, err, out)
	}
	return rows
}

// row builds an expected JSON row from alternating keys and values.
func row(kv ...any) map[string]any {
	m := map[string]any{}
	for i := 0; i < len(kv); i += 2 {
		v := kv[i+1]
		if n, ok := v.(int); ok {
			v = float64(n)
		}
		m[kv[i].(string)] = v
	}
	return m
}

func checkRows(t *testing.T, search string, got, want []map[string]any) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		var b strings.Builder
		for i := 0; i < max(len(got), len(want)); i++ {
			var g, w any
			if i < len(got) {
				g = got[i]
			}
			if i < len(want) {
				w = want[i]
			}
			mark := " "
			if !reflect.DeepEqual(g, w) {
				mark = "!"
			}
			fmt.Fprintf(&b, "%s %d\n  -%v\n  +%v\n", mark, i, w, g)
		}
		t.Errorf("%s: rows differ (-want +got):\n%s", search, b.String())
	}
}

// TestQuerySevenSearches runs the seven searches of issue 7, as written,
// over the hand-written Postfix log; every count below is worked out by
// hand from the event list above.
func TestQuerySevenSearches(t *testing.T) {
	const p = "index=mail sourcetype=smtp | "

	t.Run("1 top sender", func(t *testing.T) {
		// 19 events have a sender: alice 5, bob 3, and eleven with 1;
		// ties in value order ("" is the null sender of E10).
		q := p + "top limit=10 sender"
		one := 5.263158
		checkRows(t, q, queryJSON(t, q, smtpLog), []map[string]any{
			row("sender", "alice@example.org", "count", 5, "percent", 26.315789),
			row("sender", "bob@corp.example", "count", 3, "percent", 15.789474),
			row("sender", "", "count", 1, "percent", one),
			row("sender", "frank@vendor.example", "count", 1, "percent", one),
			row("sender", "grace@vendor.example", "count", 1, "percent", one),
			row("sender", "heidi@vendor.example", "count", 1, "percent", one),
			row("sender", "ivan@vendor.example", "count", 1, "percent", one),
			row("sender", "judy@spam.example", "count", 1, "percent", one),
			row("sender", "mallory@evil.example", "count", 1, "percent", one),
			row("sender", "news@promo.example", "count", 1, "percent", one),
		})
	})
	t.Run("2 top recipient", func(t *testing.T) {
		q := p + "top limit=10 recipient"
		one := 5.263158
		checkRows(t, q, queryJSON(t, q, smtpLog), []map[string]any{
			row("recipient", "bob@corp.example", "count", 7, "percent", 36.842105),
			row("recipient", "carol@corp.example", "count", 3, "percent", 15.789474),
			row("recipient", "dave@corp.example", "count", 2, "percent", 10.526316),
			row("recipient", "erin@corp.example", "count", 2, "percent", 10.526316),
			row("recipient", "alice@example.org", "count", 1, "percent", one),
			row("recipient", "ext1@partner.example", "count", 1, "percent", one),
			row("recipient", "ext2@partner.example", "count", 1, "percent", one),
			row("recipient", "gone@partner.example", "count", 1, "percent", one),
			row("recipient", "reports@corp.example", "count", 1, "percent", one),
		})
	})
	t.Run("3 stats by action host sender recipient", func(t *testing.T) {
		// E19 lacks sender and recipient; E1 and E3b share a group.
		q := p + "stats count by action,host,sender,recipient"
		r := func(a, h, s, rc string, n int) map[string]any {
			return row("action", a, "host", h, "sender", s, "recipient", rc, "count", n)
		}
		checkRows(t, q, queryJSON(t, q, smtpLog), []map[string]any{
			r("bounced", "mx2", "reports@corp.example", "gone@partner.example", 1),
			r("deferred", "mx1", "bob@corp.example", "ext2@partner.example", 1),
			r("delivered", "mx1", "alice@example.org", "bob@corp.example", 2),
			r("delivered", "mx1", "alice@example.org", "carol@corp.example", 1),
			r("delivered", "mx1", "alice@example.org", "dave@corp.example", 1),
			r("delivered", "mx1", "bob@corp.example", "ext1@partner.example", 1),
			r("delivered", "mx1", "frank@vendor.example", "bob@corp.example", 1),
			r("delivered", "mx1", "grace@vendor.example", "bob@corp.example", 1),
			r("delivered", "mx1", "heidi@vendor.example", "carol@corp.example", 1),
			r("delivered", "mx1", "ivan@vendor.example", "dave@corp.example", 1),
			r("delivered", "mx1", "news@promo.example", "carol@corp.example", 1),
			r("delivered", "mx2", "", "reports@corp.example", 1),
			r("delivered", "mx2", "alice@example.org", "erin@corp.example", 1),
			r("delivered", "mx2", "bob@corp.example", "alice@example.org", 1),
			r("delivered", "mx2", "mallory@evil.example", "bob@corp.example", 1),
			r("rejected", "mx1", "judy@spam.example", "erin@corp.example", 1),
			r("rejected", "mx1", "spam1@bulk.example", "bob@corp.example", 1),
			r("rejected", "mx2", "spam2@bulk.example", "bob@corp.example", 1),
		})
	})
	t.Run("4 timechart 1h", func(t *testing.T) {
		// 08:00 on day 1 to 12:00 on day 2: 16 + 13 hourly buckets.
		q := p + "timechart span=1h count"
		nonzero := map[string]int{
			"2026-11-27T08:00:00Z": 5, "2026-11-27T09:00:00Z": 3, "2026-11-27T10:00:00Z": 3,
			"2026-11-27T11:00:00Z": 1, "2026-11-28T07:00:00Z": 2, "2026-11-28T08:00:00Z": 2,
			"2026-11-28T09:00:00Z": 1, "2026-11-28T10:00:00Z": 2, "2026-11-28T12:00:00Z": 1,
		}
		var want []map[string]any
		for d, hours := range [][2]int{{8, 23}, {0, 12}} {
			for h := hours[0]; h <= hours[1]; h++ {
				ts := fmt.Sprintf("2026-11-%dT%02d:00:00Z", 27+d, h)
				want = append(want, row("_time", ts, "count", nonzero[ts]))
			}
		}
		if len(want) != 29 {
			t.Fatalf("expectation has %d rows", len(want))
		}
		checkRows(t, q, queryJSON(t, q, smtpLog), want)
	})
	t.Run("5 attachments", func(t *testing.T) {
		// E7 and E17 carry application/x-msdownload; Postfix logs no
		// attachment sizes, so only the type matches here (the query
		// package's tests cover attachment_size over JSON events).
		q := p + `search attachment_type="application/x-msdownload" OR attachment_size > 1000000`
		rows := queryJSON(t, q, smtpLog)
		if len(rows) != 2 || rows[0]["sender"] != "news@promo.example" || rows[1]["sender"] != "mallory@evil.example" {
			t.Errorf("%s: %v", q, rows)
		}
		if rows[0]["attachment_type"].([]any)[0] != "application/x-msdownload" || rows[0]["time"] != "2026-11-27T09:50:01Z" {
			t.Errorf("event shape: %v", rows[0])
		}
	})
	t.Run("6 stats by action host", func(t *testing.T) {
		q := p + "stats count by action,host"
		checkRows(t, q, queryJSON(t, q, smtpLog), []map[string]any{
			row("action", "bounced", "host", "mx2", "count", 1),
			row("action", "deferred", "host", "mx1", "count", 1),
			row("action", "delivered", "host", "mx1", "count", 10),
			row("action", "delivered", "host", "mx2", "count", 4),
			row("action", "failed", "host", "mx2", "count", 1),
			row("action", "rejected", "host", "mx1", "count", 2),
			row("action", "rejected", "host", "mx2", "count", 1),
		})
	})
	t.Run("7 timechart 1d by host", func(t *testing.T) {
		q := p + "timechart span=1d count by host"
		checkRows(t, q, queryJSON(t, q, smtpLog), []map[string]any{
			row("_time", "2026-11-27T00:00:00Z", "mx1", 8, "mx2", 4),
			row("_time", "2026-11-28T00:00:00Z", "mx1", 5, "mx2", 3),
		})
	})
}

// TestQueryFormatsAndNote: the index note, table, CSV and chart outputs.
func TestQueryFormatsAndNote(t *testing.T) {
	code, out, errOut := detect(t, "", "query", "index=mail sourcetype=smtp | stats count by action,host", smtpLog)
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, errOut)
	}
	note := "detect: note: index=mail sourcetype=smtp ignored: there is no index, the PATHs are the data\n"
	if !strings.HasPrefix(errOut, note) || strings.Count(errOut, "note:") != 1 {
		t.Errorf("stderr lacks the one-line note:\n%s", errOut)
	}
	if !strings.Contains(errOut, "events: 20") {
		t.Errorf("no summary on stderr:\n%s", errOut)
	}
	wantTable := "action     host  count\n" +
		"bounced    mx2   1\n" +
		"deferred   mx1   1\n" +
		"delivered  mx1   10\n" +
		"delivered  mx2   4\n" +
		"failed     mx2   1\n" +
		"rejected   mx1   2\n" +
		"rejected   mx2   1\n"
	if out != wantTable {
		t.Errorf("table:\n%s\nwant:\n%s", out, wantTable)
	}

	_, out, _ = detect(t, "", "query", "--csv", "-q", "| top limit=2 recipient", smtpLog)
	if want := "recipient,count,percent\nbob@corp.example,7,36.842105\ncarol@corp.example,3,15.789474\n"; out != want {
		t.Errorf("csv:\n%s\nwant:\n%s", out, want)
	}

	_, out, _ = detect(t, "", "query", "--chart", "-q", "timechart span=1d count by host", smtpLog)
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	if len(lines) != 3 || !strings.HasPrefix(lines[0], "█ mx1   ▓ mx2") ||
		!strings.HasPrefix(lines[1], "2026-11-27 █") || !strings.HasSuffix(lines[1], " 12") ||
		!strings.HasSuffix(lines[2], " 8") {
		t.Errorf("chart:\n%s", out)
	}

	// No rows: [] for --json.
	_, out, _ = detect(t, "", "query", "--json", "-q", "action=quarantined | stats count by host", smtpLog)
	if out != "[]\n" {
		t.Errorf("no rows: %q", out)
	}
	// Events on a table: a readable subset of the fields.
	_, out, _ = detect(t, "", "query", "-q", "sender=mallory*", smtpLog)
	if !strings.HasPrefix(out, "time ") || !strings.Contains(out, "mallory@evil.example") || strings.Contains(out, "queue_id") {
		t.Errorf("event table:\n%s", out)
	}
}

func TestQueryUsageErrors(t *testing.T) {
	tests := []struct {
		name string
		args []string
		msg  string
	}{
		{"no search", []string{"query"}, "query needs a SEARCH"},
		{"no path", []string{"query", "| top sender"}, "at least one PATH"},
		{"bad search", []string{"query", "index=mail | stat count", smtpLog},
			"detect: query: column 14: unknown command \"stat\" (did you mean \"stats\"?)\n  index=mail | stat count\n               ^^^^\n"},
		{"two formats", []string{"query", "--json", "--csv", "| top sender", smtpLog}, "exclude each other"},
		{"bad format", []string{"query", "--format", "nope", "| top sender", smtpLog}, "unknown --format"},
		{"missing file", []string{"query", "| top sender", "nope.log"}, "nope.log"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errOut := detect(t, "", tc.args...)
			if code != 2 || !strings.Contains(errOut, tc.msg) || out != "" {
				t.Errorf("exit %d, stdout %q, stderr:\n%s", code, out, errOut)
			}
		})
	}
}

// TestQueryHeadStopsReading: once head has its rows, reading stops (the
// pipeline notices within a few batches), and the exit is clean.
func TestQueryHeadStopsReading(t *testing.T) {
	var b strings.Builder
	const n = 200_000
	for i := range n {
		fmt.Fprintf(&b, "2026-11-27T08:00:00.000000+00:00 mx1 postfix/smtpd[1]: NOQUEUE: reject: RCPT from unknown[192.0.2.1]: 554 5.7.1 <u%d@x.example>: Relay access denied; from=<s@y.example> to=<u%d@x.example> proto=ESMTP helo=<h>\n", i, i)
	}
	code, out, errOut := detect(t, b.String(), "query", "--json", "head 2 | table recipient", "-")
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, errOut)
	}
	if out != "[\n{\"recipient\":\"u0@x.example\"},\n{\"recipient\":\"u1@x.example\"}\n]\n" {
		t.Errorf("rows:\n%s", out)
	}
	var read int
	if _, err := fmt.Sscanf(errOut[strings.Index(errOut, "1 file, ")+len("1 file, "):], "%d lines", &read); err != nil || read >= n {
		t.Errorf("read %d of %d lines (%v):\n%s", read, n, err, errOut)
	}
}

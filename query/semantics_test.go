package query

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/detect-dev/detect/schema"
)

// The expectations below are counted by hand over testdata/smtp.jsonl (see
// the table of J1..J12 above TestSevenSearches).

func TestSearchTerms(t *testing.T) {
	events := loadEvents(t, "testdata/smtp.jsonl")
	tests := []struct {
		q    string
		want int
	}{
		{"", 12},
		{"*", 12},
		{"sender=a@x.example", 4},
		{"sender=A@X.EXAMPLE", 4},        // values ignore case
		{"sender=a*", 4},                 // wildcard
		{"sender=*example", 10},          // J7 has none, J8's is ""
		{"sender=*", 11},                 // present
		{`sender=""`, 1},                 // the null sender J8
		{"sender!=a@x.example", 7},       // present and different
		{"NOT sender=a@x.example", 8},    // includes J7
		{"src_user=a@x.example", 4},      // CIM alias
		{"user=admin@corp.example", 1},   // CIM alias of auth_user
		{"auth_user=admin*", 1},          // wildcard
		{"action=delivered host=mx1", 3}, // implicit AND
		{"action=delivered AND host=mx1", 3},
		{"action=delivered host=mx1 OR host=mx2", 5},   // OR binds tighter: delivered AND (mx1 OR mx2)
		{"(action=delivered host=mx1) OR host=mx2", 6}, // J1 J2 J10 + J3 J4 J8
		{"NOT action=delivered OR host=mx1", 7},        // (NOT delivered) OR mx1: J4 J6 J7 J9 + J1 J2 J10
		{"host IN (mx3, mx4)", 3},
		{`host IN (mx3 "mx4")`, 3},
		{"size>1000000", 3}, // J2 J3 J5
		{"size > 1000000", 3},
		{"size>=1100000", 3},
		{"size<2001", 3}, // J10 J11 J12; J4 and J7 have no size
		{"size<=1000", 2},
		{"size=1000", 2},
		{"size!=1000", 8},
		{"attachment_size>1000000", 2}, // any element: J2, J3's second
		{"attachment_size>=1000000", 3},
		{"attachment_ext=exe", 2},
		{"attachment_type=application/*", 5},
		{"attachment_type!=application/pdf", 3}, // J1 J2 J10 (J3, J5 have only pdf)
		{"file.mime_type=application/zip", 1},   // ECS alias
		{"host>mx2", 3},                         // text order: mx3 mx3 mx4
		{"timed", 1},                            // bare word in reason (J6)
		{`"user unknown"`, 1},                   // quoted phrase (J9)
		{"GONE", 1},                             // recipient gone@partner (J9)
		{"tool", 1},                             // attachment name (J1)
		{"x-msdownload", 2},                     // attachment type, both cases (J1 J10)
		{"3100000", 1},                          // the size (J2)
		{"r1 OR r2", 6},
		{"search sender=a@x.example", 4}, // optional leading search keyword
		{"index=mail", 12},
		{"| search host=mx1", 5},
		{"host=mx1 | search action=delivered", 3},
		{"_time=2026-11-28*", 3},
	}
	for _, tc := range tests {
		t.Run(tc.q, func(t *testing.T) {
			res := runQuery(t, tc.q, events)
			if len(res.Events) != tc.want {
				t.Errorf("%q: %d events, want %d", tc.q, len(res.Events), tc.want)
			}
		})
	}
}

func TestWhere(t *testing.T) {
	events := loadEvents(t, "testdata/smtp.jsonl")
	tests := []struct {
		q    string
		want int
	}{
		{"| where size > 1000000", 3},
		{"| where size >= 1100000 AND size <= 1600000", 2},
		{`| where like(sender, "a@%")`, 4},
		{`| where sender LIKE "%@y.example"`, 2},
		{`| where sender like "_@x.example"`, 4},
		{`| where like(sender, "A@%")`, 0}, // case-sensitive, as in Splunk
		{"| where isnull(sender)", 1},
		{`| where isnotnull(host) AND action="delivered"`, 7},
		{`| where action="delivered" OR action="bounced"`, 9},
		{`| where action=="delivered"`, 8},
		{`| where NOT action="delivered"`, 4},
		{`| where action!="delivered"`, 4},
		{`| where match(recipient, "^r[12]@")`, 6},
		{`| where cidrmatch("203.0.113.0/24", src_ip)`, 2},
		{`| where in(host, "mx3", "mx4")`, 3},
		{`| where _time >= "2026-11-28"`, 5},
		{`| where _time < "2026-11-27T09:00:00Z"`, 3},
		{"| where len(sender) = 0", 1},
		{`| where lower(attachment_type) = "application/x-msdownload"`, 2},
		{`| where upper(host) = "MX4"`, 1},
		{"| where attachment_size > 1000000", 2},
		{`| where coalesce(host, "none") = "none"`, 1},
		{`| where if(isnull(host), 1, 0) = 1`, 1},
		{`| where tonumber("12") = 12`, 12},
		{`| where (size > 1000000 OR isnull(size)) AND NOT host="mx3"`, 4}, // J2 J3 J4 J7
		{`| where host = sender`, 0},                                       // two fields
	}
	for _, tc := range tests {
		t.Run(tc.q, func(t *testing.T) {
			res := runQuery(t, tc.q, events)
			if len(res.Events) != tc.want {
				t.Errorf("%q: %d events, want %d", tc.q, len(res.Events), tc.want)
			}
		})
	}
	check(t, "| stats count by host | where count > 1", events, lines(
		"host|count", "mx1|5", "mx2|3", "mx3|2"))
	check(t, "| stats dc(recipient) by host | where 'dc(recipient)' >= 2", events, lines(
		"host|dc(recipient)", "mx1|3", "mx2|3", "mx3|2"))
}

func TestTopRare(t *testing.T) {
	events := loadEvents(t, "testdata/smtp.jsonl")
	// delivered: mx1 3, mx2 2, mx3 1, mx4 1 (J12 has no host): 7 in all.
	check(t, "top limit=2 host by action", events, lines(
		"action|host|count|percent",
		"bounced|mx3|1|100.000000",
		"deferred|mx1|1|100.000000",
		"delivered|mx1|3|42.857143",
		"delivered|mx2|2|28.571429",
		"failed|mx1|1|100.000000",
		"rejected|mx2|1|100.000000",
	))
	check(t, "top 1 sender useother=t showperc=f", events, lines(
		"sender|count", "a@x.example|4", "other|7"))
	check(t, "top limit=1 countfield=n percentfield=pct otherstr=rest useother=true host", events, lines(
		"host|n|pct", "mx1|5|45.454545", "rest|6|54.545455"))
	check(t, "top showcount=false limit=0 action", events, lines(
		"action|percent",
		"delivered|66.666667",
		"bounced|8.333333", "deferred|8.333333", "failed|8.333333", "rejected|8.333333"))
	check(t, "rare limit=3 host", events, lines(
		"host|count|percent", "mx4|1|9.090909", "mx3|2|18.181818", "mx2|3|27.272727"))
	// A list counts once per distinct value in an event (J3 has two pdfs).
	check(t, "top attachment_ext", events, lines(
		"attachment_ext|count|percent", "exe|2|40.000000", "pdf|2|40.000000", "zip|1|20.000000"))
	// Two fields: their combinations.
	check(t, "top limit=2 action host", events, lines(
		"action|host|count|percent", "delivered|mx1|3|27.272727", "delivered|mx2|2|18.181818"))
}

func TestStats(t *testing.T) {
	events := loadEvents(t, "testdata/smtp.jsonl")
	check(t, "stats count, count(size) as sized, dc(host), sum(size), avg(size), min(size), max(size), values(action), latest(sender), earliest(recipient)", events, lines(
		"count|sized|dc(host)|sum(size)|avg(size)|min(size)|max(size)|values(action)|latest(sender)|earliest(recipient)",
		"12|10|4|5876000|587600|1000|3100000|bounced,deferred,delivered,failed,rejected|e@v.example|r1@corp.example",
	))
	check(t, "stats c, distinct_count(host) as hosts, mean(size) as m, first(host), last(host)", events, lines(
		"c|hosts|m|first(host)|last(host)", "12|4|587600|mx1|mx4"))
	check(t, "stats min(host) max(host) min(_time) max(_time) latest(_time) as last", events, lines(
		"min(host)|max(host)|min(_time)|max(_time)|last",
		"mx1|mx4|2026-11-27T08:10:00Z|2026-11-29T01:00:00Z|2026-11-29T01:00:00Z"))
	check(t, "action=nothing | stats count", events, "count\n0")
	check(t, "action=nothing | stats count by host", events, "host|count")
	// Grouping is case-sensitive; a list groups once per distinct value.
	check(t, "stats count by attachment_type", events, lines(
		"attachment_type|count",
		"APPLICATION/X-MSDOWNLOAD|1",
		"application/pdf|2",
		"application/x-msdownload|1",
		"application/zip|1"))
	check(t, "stats sum(attachment_size) by sender", events, lines(
		"sender|sum(attachment_size)",
		"|",
		"a@x.example|4050000",
		"b@y.example|1520000",
		"c@z.example|",
		"d@w.example|900",
		"e@v.example|"))
	// Stats over stats.
	check(t, "stats count by host | stats sum(count) as events, count as hosts", events, lines(
		"events|hosts", "11|4"))
}

func TestTimechart(t *testing.T) {
	events := loadEvents(t, "testdata/smtp.jsonl")
	// No span: 08:10 on the 27th to 01:00 on the 29th is 40h50m, 83
	// buckets of 30m (10m would make 245).
	res := runQuery(t, "timechart count", events)
	if len(res.Rows) != 83 || res.Rows[0][0].Text("") != "2026-11-27T08:00:00Z" {
		t.Errorf("auto span: %d rows from %v", len(res.Rows), res.Rows[0][0])
	}
	// Three events over 20 minutes: 30s buckets (10s would make 121).
	res = runQuery(t, "head 3 | timechart count", events)
	if len(res.Rows) != 41 || res.Rows[0][1].Num != 1 || res.Rows[20][1].Num != 1 || res.Rows[40][1].Num != 1 ||
		res.Rows[1][0].Text("") != "2026-11-27T08:10:30Z" {
		t.Errorf("auto span over 20 minutes:\n%s", rowsText(res))
	}
	check(t, "timechart span=1d usenull=f count by host", events, lines(
		"_time|mx1|mx2|mx3|mx4",
		"2026-11-27T00:00:00Z|4|2|1|0",
		"2026-11-28T00:00:00Z|1|1|1|0",
		"2026-11-29T00:00:00Z|0|0|0|1"))
	check(t, "timechart span=1d useother=f limit=2 count by host", events, lines(
		"_time|mx1|mx2|NULL",
		"2026-11-27T00:00:00Z|4|2|0",
		"2026-11-28T00:00:00Z|1|1|0",
		"2026-11-29T00:00:00Z|0|0|1"))
	check(t, "timechart span=1d limit=top1 otherstr=rest nullstr=none count by host", events, lines(
		"_time|mx1|none|rest",
		"2026-11-27T00:00:00Z|4|0|3",
		"2026-11-28T00:00:00Z|1|0|2",
		"2026-11-29T00:00:00Z|0|1|1"))
	check(t, "timechart span=1d avg(size), count", events, lines(
		"_time|avg(size)|count",
		"2026-11-27T00:00:00Z|1173000|7",
		"2026-11-28T00:00:00Z|3000|3",
		"2026-11-29T00:00:00Z|1000|2"))
	// Empty buckets: 0 for counting functions, absent for the others.
	check(t, "host=mx2 | timechart span=1d count, dc(sender), max(size)", events, lines(
		"_time|count|dc(sender)|max(size)",
		"2026-11-27T00:00:00Z|2|2|1600000",
		"2026-11-28T00:00:00Z|1|1|3000"))
	check(t, "host=mx3 | timechart span=1d max(size) by action", events, lines(
		"_time|bounced|delivered",
		"2026-11-27T00:00:00Z||1100000",
		"2026-11-28T00:00:00Z|4000|"))
	res = runQuery(t, "timechart span=1h cont=f count", events)
	if len(res.Rows) != 8 {
		t.Errorf("cont=f: %d rows, want the 8 non-empty hours\n%s", len(res.Rows), rowsText(res))
	}
	check(t, "timechart span=1mon count", events, "_time|count\n2026-11-01T00:00:00Z|12")
	// 2026-11-27 is a Friday: the week starts on Monday the 23rd.
	check(t, "timechart span=1w count", events, "_time|count\n2026-11-23T00:00:00Z|12")
	check(t, "timechart span=12h dc(sender) by action limit=1", events, lines(
		"_time|delivered|OTHER",
		"2026-11-27T00:00:00Z|2|2", // OTHER: dc of b (deferred) and c (rejected)
		"2026-11-27T12:00:00Z|0|0",
		"2026-11-28T00:00:00Z|2|1",
		"2026-11-28T12:00:00Z|0|0",
		"2026-11-29T00:00:00Z|1|0"))
	check(t, "action=nothing | timechart span=1h count", events, "_time|count")
	// Spans in other units.
	for span, n := range map[string]int{"2h": 21, "90m": 28, "3600s": 42, "1day": 3} {
		if res := runQuery(t, "timechart span="+span+" count", events); len(res.Rows) != n {
			t.Errorf("span=%s: %d rows, want %d", span, len(res.Rows), n)
		}
	}
}

func TestSortHeadTailDedup(t *testing.T) {
	events := loadEvents(t, "testdata/smtp.jsonl")
	check(t, "stats count by host | sort -count", events, lines(
		"host|count", "mx1|5", "mx2|3", "mx3|2", "mx4|1"))
	check(t, "stats count by host | sort - count | head 2", events, lines(
		"host|count", "mx1|5", "mx2|3"))
	check(t, "stats count by host | sort count, -host", events, lines(
		"host|count", "mx4|1", "mx3|2", "mx2|3", "mx1|5"))
	check(t, "stats count by host | sort host desc", events, lines(
		"host|count", "mx4|1", "mx3|2", "mx2|3", "mx1|5"))
	check(t, "sort -size | head 3 | table sender size", events, lines(
		"sender|size", "a@x.example|3100000", "b@y.example|1600000", "a@x.example|1100000"))
	check(t, "sort size | head 3 | table recipient size", events, lines(
		"recipient|size", "r2@corp.example|1000", "r2@corp.example|1000", "r1@corp.example|2000"))
	check(t, "sort num(size) desc | head 1 | table size", events, "size\n3100000")
	check(t, "sort str(size) | head 1 | table size", events, "size\n1000") // "1000" < "1100000" < ...
	check(t, "sort ip(src_ip) | head 2 | table src_ip", events, "src_ip\n203.0.113.5\n203.0.113.9")
	check(t, "sort 2 host | table host", events, "host\nmx1\nmx1")
	check(t, "sort limit=1 -host | table host", events, "host\nmx4")
	check(t, "tail 2 | table host sender", events, "host|sender\n|e@v.example\nmx4|e@v.example")
	check(t, "head 2 | table _time", events, "_time\n2026-11-27T08:10:00Z\n2026-11-27T08:20:00Z")
	check(t, "head limit=1 | table host", events, "host\nmx1")
	check(t, "head 0 | stats count", events, "count\n0")
	check(t, "dedup host | table host", events, "host\nmx1\nmx2\nmx3\nmx4")
	check(t, "dedup 2 sender | table sender", events, "sender\na@x.example\na@x.example\nb@y.example\nc@z.example\nb@y.example\n\nd@w.example\ne@v.example\ne@v.example")
	check(t, "dedup sender keepempty=true | stats count", events, "count\n7") // a b c J7 <> d e, J7 kept
	check(t, "dedup host consecutive=true | table host", events, "host\nmx1\nmx2\nmx3\nmx1\nmx2\nmx3\nmx1\nmx4")
	check(t, "stats count by action, host | dedup action | table action host", events, lines(
		"action|host", "bounced|mx3", "deferred|mx1", "delivered|mx1", "failed|mx1", "rejected|mx2"))
	check(t, "stats count by host | tail 1", events, "host|count\nmx4|1")
}

func TestReshape(t *testing.T) {
	events := loadEvents(t, "testdata/smtp.jsonl")
	check(t, "rename sender as from | stats count by from | sort -count | head 1", events, "from|count\na@x.example|4")
	check(t, "rename sender as from, host as server | head 1 | table server from", events, "server|from\nmx1|a@x.example")
	check(t, "stats count by host | rename count as n, host as server | head 1", events, "server|n\nmx1|5")
	check(t, "stats count by host | fields - count | head 1", events, "host\nmx1")
	check(t, "stats count, dc(sender) by host | table host dc* | head 1", events, "host|dc(sender)\nmx1|3")
	check(t, "stats count, dc(sender) by host | fields + count host | head 1", events, "count|host\n5|mx1")
	check(t, "fields host sender | head 1", events, "host|sender\nmx1|a@x.example")
	check(t, "head 1 | table h*", events, "host|helo\nmx1|")
	check(t, "head 1 | fields - attachment* | table host sender", events, "host|sender\nmx1|a@x.example")
	// Renamed events keep the new name in output; JSON is no longer raw.
	res := runQuery(t, "host=mx4 | rename host as server", events)
	if res.Raw || res.Column("server") < 0 || res.Column("host") >= 0 {
		t.Errorf("renamed events: raw=%v columns %v", res.Raw, res.Columns)
	}
}

func TestHeadStopsReading(t *testing.T) {
	q, err := Parse("action=delivered | head 2")
	if err != nil {
		t.Fatal(err)
	}
	run := q.Start()
	added := 0
	for _, e := range loadEvents(t, "testdata/smtp.jsonl") {
		added++
		if !run.Add(e) {
			break
		}
	}
	// J1 and J2 are delivered: the second one satisfies head.
	if added != 2 || len(run.Result().Events) != 2 {
		t.Errorf("read %d events, kept %d", added, len(run.Result().Events))
	}
	// An aggregation before head reads everything.
	q, _ = Parse("stats count by host | head 1")
	run = q.Start()
	for _, e := range loadEvents(t, "testdata/smtp.jsonl") {
		if !run.Add(e) {
			t.Fatal("stats | head stopped reading")
		}
	}
}

func TestResultTableAndChart(t *testing.T) {
	events := loadEvents(t, "testdata/smtp.jsonl")
	h, rows := runQuery(t, "host=mx2", events).Table()
	if h[0] != "time" || len(rows) != 3 || rows[2][4] != `""` {
		t.Errorf("event table %v %v", h, rows)
	}
	var b []byte
	buf := &bytesWriter{&b}
	if err := runQuery(t, "timechart span=1d count by host limit=2", events).WriteChart(buf, 60); err != nil {
		t.Fatal(err)
	}
	// 46 columns of bar: mx1 4/7 of the peak is 26, mx1+mx2 6/7 is 39.
	want := "█ mx1   ▓ mx2   ▒ NULL   ░ OTHER\n" +
		"2026-11-27 " + strings.Repeat("█", 26) + strings.Repeat("▓", 13) + strings.Repeat("░", 7) + " 7\n" +
		"2026-11-28 " + strings.Repeat("█", 7) + strings.Repeat("▓", 6) + strings.Repeat("░", 7) + strings.Repeat(" ", 26) + " 3\n" +
		"2026-11-29 " + strings.Repeat("▒", 7) + strings.Repeat("░", 6) + strings.Repeat(" ", 33) + " 2\n"
	if string(b) != want {
		t.Errorf("chart:\n%s\nwant:\n%s", b, want)
	}
	b = b[:0]
	if err := runQuery(t, "top limit=2 host", events).WriteChart(buf, 40); err != nil {
		t.Fatal(err)
	}
	// 33 columns of bar; 3/5 of it is 19.8.
	if want := "mx1 " + strings.Repeat("█", 33) + " 5\nmx2 " + strings.Repeat("█", 20) + strings.Repeat(" ", 13) + " 3\n"; string(b) != want {
		t.Errorf("top chart:\n%s\nwant:\n%s", b, want)
	}
	ev := &schema.Event{Time: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), Host: "h"}
	if err := runQuery(t, "table host", []*schema.Event{ev}).WriteChart(buf, 40); err == nil {
		t.Error("chart of text only: no error")
	}
}

type bytesWriter struct{ b *[]byte }

func (w *bytesWriter) Write(p []byte) (int, error) { *w.b = append(*w.b, p...); return len(p), nil }

func TestApplyAndMatches(t *testing.T) {
	events := loadEvents(t, "testdata/smtp.jsonl")
	base := runQuery(t, "stats count by host", events)
	q, err := ParseRows("sort -count | head 2", base.Columns)
	if err != nil {
		t.Fatal(err)
	}
	if got := rowsText(q.Apply(base)); got != "host|count\nmx1|5\nmx2|3" {
		t.Errorf("Apply:\n%s", got)
	}
	if _, err := ParseRows("sort -cnt", base.Columns); err == nil || !strings.Contains(err.Error(), `unknown column "cnt"`) {
		t.Errorf("ParseRows checks columns: %v", err)
	}
	m := MustParse(`action=delivered NOT host=mx1 | where size > 1000`)
	n := 0
	for _, e := range events {
		if m.Matches(e) {
			n++
		}
	}
	if n != 3 { // J3 J5 J8; J11 and J12 (no host) have size 1000, not > 1000
		t.Errorf("Matches: %d, want 3", n)
	}
	if MustParse("stats count").Matches(events[0]) || MustParse("head 1").Matches(events[0]) {
		t.Error("Matches is true for a query that is not a filter")
	}
}

func TestSortHeadFusion(t *testing.T) {
	q := MustParse("sort -size | head 2 | table size")
	if st := q.Start().head.(*sortStage); st.limit != 2 {
		t.Errorf("sort | head 2: sort limit %d", st.limit)
	}
	q = MustParse("sort 0 size | head 5")
	if st := q.Start().head.(*sortStage); st.limit != 5 {
		t.Errorf("sort 0 | head 5: sort limit %d", st.limit)
	}
	q = MustParse("sort 3 size | head 5")
	if st := q.Start().head.(*sortStage); st.limit != 3 {
		t.Errorf("sort 3 | head 5: sort limit %d", st.limit)
	}
	q = MustParse("sort size | where size > 1 | head 5")
	if st := q.Start().head.(*sortStage); st.limit != 10000 {
		t.Errorf("sort | where | head: sort limit %d", st.limit)
	}
	// The heap keeps the same rows as a full sort, ties in input order.
	events := loadEvents(t, "testdata/smtp.jsonl")
	for _, n := range []int{1, 2, 3, 5, 12} {
		full := runQuery(t, "sort 0 size, host | table size host _time", events)
		top := runQuery(t, fmt.Sprintf("sort %d size, host | table size host _time", n), events)
		want := &Result{Columns: full.Columns, Rows: full.Rows[:n]}
		if rowsText(top) != rowsText(want) {
			t.Errorf("sort %d:\n%s\nwant\n%s", n, rowsText(top), rowsText(want))
		}
	}
}

package report

import (
	"bufio"
	"bytes"
	"encoding/json"
	"encoding/xml"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/detect-dev/detect/query"
	"github.com/detect-dev/detect/schema"
)

// The events of testdata/events.jsonl, R1..R20 in file order (mx1 on
// 2026-11-27 unless said):
//
//	R1  08:00 Q1 a -> u1 to 127.0.0.1:10024 "queued as Q2"  (hand-off)
//	R2  08:00 Q1 amavis verdict Passed (a filter event, not a delivery)
//	R3  08:01 Q2 a -> u1 delivered 1200 from 198.51.100.1
//	R4  08:05 Q3 b -> u2 delivered 2000 from 198.51.100.2
//	R5  08:05 Q3 b -> u3 delivered 2000 (same message)
//	R6  08:10 Q4 root -> root "forwarded as Q5"             (hand-off)
//	R7  08:10 Q5 root -> u1 delivered 600
//	R8  09:00 Q6 c -> x@remote deferred 3000 from 10.0.0.5
//	R9  10:00 Q6 deferred again
//	R10 11:00 Q6 bounced by mx.remote.example
//	R11 09:30 rejected s@spam -> v@victim, Relay access denied, 203.0.113.50
//	R12 09:31 rejected s@spam -> w@victim, same
//	R13 09:40 warned (reject_warning) from 203.0.113.60
//	R14-R16 12:00 auth failed: .70 admin, .70 info, .71 admin
//	R17 13:00 Q7 quarantined by amavis
//	R18 13:05 Q8 d -> u2 delivered 30000000 (oversized), big.zip 29000000
//	R19 13:10 Q9 e -> u3 delivered 50000, invoice.pdf.exe
//	R20 11-28 08:00 mx2 Q1 a -> u4 delivered 700 (another host's Q1)
func loadEvents(t *testing.T) []*schema.Event {
	t.Helper()
	f, err := os.Open("testdata/events.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []*schema.Event
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		e := new(schema.Event)
		if err := json.Unmarshal(sc.Bytes(), e); err != nil {
			t.Fatal(err)
		}
		out = append(out, e)
	}
	return out
}

func build(t *testing.T, opts Options, events []*schema.Event) *Report {
	t.Helper()
	b := New(opts)
	for _, e := range events {
		b.Add(e)
	}
	return b.Report()
}

func TestTotals(t *testing.T) {
	rep := build(t, Options{}, loadEvents(t))
	want := Totals{
		Events:           20,
		Received:         7, // Q2 Q3 Q5 Q6 Q8 Q9 and mx2's Q1
		Delivered:        7, // R3 R4 R5 R7 R18 R19 R20
		Handoffs:         2, // R1 R6
		Deferred:         2,
		DeferredMessages: 1,
		Bounced:          1,
		Rejected:         2,
		Warned:           1,
		Quarantined:      1,
		AuthFailed:       3,
		// 13 outcomes: 7 delivered, 2 deferred, 1 bounced, 2 rejected, 1 quarantined.
		Percent:          map[string]float64{"delivered": 53.8, "deferred": 15.4, "bounced": 7.7, "rejected": 15.4, "quarantined": 7.7, "discarded": 0},
		BytesReceived:    1200 + 2000 + 600 + 3000 + 30000000 + 50000 + 700,
		BytesDelivered:   1200 + 2000 + 2000 + 600 + 30000000 + 50000 + 700,
		Senders:          6, // a b root c d e
		SenderDomains:    2, // ext.example corp.example
		ClientIPs:        5, // .1 .2 10.0.0.5 .3 .4
		Recipients:       4, // u1 u2 u3 u4
		RecipientDomains: 1,
	}
	if !reflect.DeepEqual(rep.Totals, want) {
		t.Errorf("totals\n-want %+v\n+got  %+v", want, rep.Totals)
	}
	if rep.Period.First != time.Date(2026, 11, 27, 8, 0, 0, 0, time.UTC) || rep.Period.Last != time.Date(2026, 11, 28, 8, 0, 0, 0, time.UTC) {
		t.Errorf("period %+v", rep.Period)
	}
}

func table(rep *Report, id string) *Table {
	for _, s := range rep.Sections {
		for _, t := range s.Tables {
			if t.ID == id {
				return t
			}
		}
	}
	return nil
}

func rowsOf(t *Table) string {
	var b strings.Builder
	b.WriteString(strings.Join(t.Result.Columns, "|"))
	for _, row := range t.Result.Rows {
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

func TestTables(t *testing.T) {
	rep := build(t, Options{Top: 3}, loadEvents(t))
	tests := map[string]string{
		"daily_by_action": "_time|bounced|deferred|delivered|quarantined|rejected|warned\n" +
			"2026-11-27T00:00:00Z|1|2|6|1|2|1\n" +
			"2026-11-28T00:00:00Z|0|0|1|0|0|0",
		"daily_by_host": "_time|mx1|mx2\n2026-11-27T00:00:00Z|13|0\n2026-11-28T00:00:00Z|0|1",
		// a has two messages (Q2 and mx2's Q1); the ties keep sender order.
		"senders_by_messages":        "sender|messages|bytes\na@ext.example|2|1900\nb@ext.example|1|2000\nc@corp.example|1|3000",
		"senders_by_bytes":           "sender|messages|bytes\nd@ext.example|1|30000000\ne@ext.example|1|50000\nc@corp.example|1|3000",
		"sender_domains_by_messages": "sender_domain|messages|bytes\next.example|5|30053900\ncorp.example|2|3600",
		"recipients_by_deliveries":   "recipient|deliveries|bytes\nu1@corp.example|2|1800\nu2@corp.example|2|30002000\nu3@corp.example|2|52000",
		"clients_by_messages":        "src_ip|messages|bytes\n198.51.100.1|2|1900\n10.0.0.5|1|3000\n198.51.100.2|1|2000",
		"clients_by_rejects":         "src_ip|count|percent\n203.0.113.50|2|100.000000",
		"reject_reasons":             "reason|count|percent\nRelay access denied|2|100.000000",
		"deferrals_by_domain":        "recipient_domain|count|percent\nremote.example|2|100.000000",
		"bounces_by_relay":           "relay|count|percent\nmx.remote.example[192.0.2.9]:25|1|100.000000",
		"warnings":                   "reason|count|percent\nClient host rejected: cannot find your hostname|1|100.000000",
		"auth_failures_by_ip":        "src_ip|count|percent\n203.0.113.70|2|66.666667\n203.0.113.71|1|33.333333",
		"auth_failures_by_user":      "auth_user|count|percent\nadmin@corp.example|2|66.666667\ninfo@corp.example|1|33.333333",
		"relay_attempts":             "src_ip|attempts|domains|senders\n203.0.113.50|2|1|1",
		"attachment_types":           "attachment_ext|count|percent\nexe|1|50.000000\nzip|1|50.000000",
		"dangerous_attachments":      "sender|messages|names|latest\ne@ext.example|1|1|invoice.pdf.exe",
		"oversized":                  "_time|host|sender|recipient_count|size|attachment_name|attachment_size\n2026-11-27T13:05:00Z|mx1|d@ext.example||30000000|big.zip|29000000",
	}
	for id, want := range tests {
		tb := table(rep, id)
		if tb == nil {
			t.Errorf("no table %s", id)
			continue
		}
		if got := rowsOf(tb); got != want {
			t.Errorf("%s\n-want\n%s\n+got\n%s", id, want, got)
		}
	}
}

// TestTablesAreQueries: every table's query, run by package query over the
// same events, gives the same rows: the report can be reproduced with
// `detect query`, and the builder's message dedup matches the query's.
func TestTablesAreQueries(t *testing.T) {
	events := loadEvents(t)
	rep := build(t, Options{Top: 2}, events)
	n := 0
	for _, sec := range rep.Sections {
		for _, tb := range sec.Tables {
			if tb.ID == "alerts_by_rule" {
				continue
			}
			q, err := query.Parse(tb.Query)
			if err != nil {
				t.Errorf("%s: %v", tb.ID, err)
				continue
			}
			run := q.Start()
			for _, e := range events {
				run.Add(e)
			}
			res := run.Result()
			if !reflect.DeepEqual(res.Columns, tb.Result.Columns) || !reflect.DeepEqual(rowsOf(&Table{Result: res}), rowsOf(tb)) {
				t.Errorf("%s: query gives\n%s\nreport has\n%s", tb.ID, rowsOf(&Table{Result: res}), rowsOf(tb))
			}
			n++
		}
	}
	if n != 27 {
		t.Errorf("%d tables checked, want 27", n)
	}
}

func TestSinceUntil(t *testing.T) {
	day2 := time.Date(2026, 11, 28, 0, 0, 0, 0, time.UTC)
	rep := build(t, Options{Since: day2}, loadEvents(t))
	if rep.Totals.Events != 1 || rep.Skipped != 19 || rep.Totals.Received != 1 || rep.Totals.Delivered != 1 {
		t.Errorf("since: %+v skipped %d", rep.Totals, rep.Skipped)
	}
	rep = build(t, Options{Until: day2, Since: time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)}, loadEvents(t))
	// 09:00 .. midnight: R8-R19 without R18? no: R8 R9 R10 R11 R12 R13 R14 R15 R16 R17 R18 R19.
	if rep.Totals.Events != 12 || rep.Totals.Delivered != 2 || rep.Totals.Deferred != 2 || rep.Totals.Rejected != 2 {
		t.Errorf("since..until: %+v", rep.Totals)
	}
	b := New(Options{Since: day2})
	b.AddAlert(&schema.Alert{RuleID: "x", Time: day2.Add(-time.Hour)})
	b.AddAlert(&schema.Alert{RuleID: "x", Time: day2.Add(time.Hour)})
	if rep := b.Report(); rep.Totals.Alerts != 1 {
		t.Errorf("alerts in range: %d", rep.Totals.Alerts)
	}
}

func TestJSON(t *testing.T) {
	rep := build(t, Options{Top: 2}, loadEvents(t))
	var b bytes.Buffer
	if err := rep.WriteJSON(&b); err != nil {
		t.Fatal(err)
	}
	var v struct {
		Totals   map[string]any `json:"totals"`
		Sections []struct {
			ID     string `json:"id"`
			Tables []struct {
				ID      string           `json:"id"`
				Query   string           `json:"query"`
				Columns []string         `json:"columns"`
				Rows    []map[string]any `json:"rows"`
			} `json:"tables"`
		} `json:"sections"`
	}
	if err := json.Unmarshal(b.Bytes(), &v); err != nil {
		t.Fatalf("%v\n%s", err, b.String())
	}
	if v.Totals["received"] != 7.0 || v.Totals["handoffs"] != 2.0 {
		t.Errorf("totals %v", v.Totals)
	}
	var ids []string
	for _, s := range v.Sections {
		ids = append(ids, s.ID)
		for _, tb := range s.Tables {
			if tb.ID == "auth_failures_by_ip" {
				if len(tb.Rows) != 2 || tb.Rows[0]["src_ip"] != "203.0.113.70" || tb.Rows[0]["count"] != 2.0 {
					t.Errorf("rows %v", tb.Rows)
				}
			}
			if tb.Query == "" || tb.Columns == nil {
				t.Errorf("table %s lacks query or columns", tb.ID)
			}
		}
	}
	if strings.Join(ids, ",") != "traffic,top,problems,security" {
		t.Errorf("sections %v", ids)
	}
}

func TestText(t *testing.T) {
	rep := build(t, Options{Top: 2}, loadEvents(t))
	var b bytes.Buffer
	if err := rep.WriteText(&b); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, s := range []string{
		"Mail report: 2026-11-27 08:00:00 .. 2026-11-28 08:00:00 UTC (20 events)",
		"  received                7  messages\n",
		"  delivered               7  53.8%  (+2 hand-offs: content filter, forwards)\n",
		"  deferred                2  15.4%  (1 message)\n",
		"  bytes received   28.7 MiB  30057500\n",
		"\nPer day by action\n  time        bounced  deferred  delivered  quarantined  rejected  warned\n  2026-11-27        1         2          6            1         2       1\n",
		"\nAuthentication failures by client IP\n  src_ip        count  percent\n  203.0.113.70      2    66.7%\n",
		"d@ext.example         1  28.6 MiB",
		"  alerts                  -  rule pack not run\n",
	} {
		if !strings.Contains(out, s) {
			t.Errorf("text lacks %q:\n%s", s, out)
		}
	}
}

// TestHTML: one self-contained page (no scripts, nothing fetched) whose
// SVG charts are well-formed XML.
func TestHTML(t *testing.T) {
	rep := build(t, Options{}, loadEvents(t))
	rep.Generated = time.Date(2026, 11, 28, 9, 0, 0, 0, time.UTC)
	var b bytes.Buffer
	if err := rep.WriteHTML(&b); err != nil {
		t.Fatal(err)
	}
	page := b.String()
	if !strings.HasPrefix(page, "<!DOCTYPE html>") || !strings.HasSuffix(page, "</html>\n") {
		t.Error("not a whole page")
	}
	for _, bad := range []string{"<script", "<link", "src=", "@import", "url("} {
		if strings.Contains(page, bad) {
			t.Errorf("page contains %q", bad)
		}
	}
	if urls := regexp.MustCompile(`https?://[^"' ]+`).FindAllString(page, -1); len(urls) != 4 {
		// The only URLs are the four SVG namespaces.
		t.Errorf("URLs: %v", urls)
	}
	svgs := regexp.MustCompile(`(?s)<svg.*?</svg>`).FindAllString(page, -1)
	if len(svgs) != 4 {
		t.Fatalf("%d charts, want 4 (daily and hourly, by action and by host)", len(svgs))
	}
	for _, s := range svgs {
		d := xml.NewDecoder(strings.NewReader(s))
		rects := 0
		for {
			tok, err := d.Token()
			if err != nil {
				if err.Error() != "EOF" {
					t.Fatalf("SVG is not well-formed: %v\n%s", err, s)
				}
				break
			}
			if se, ok := tok.(xml.StartElement); ok && se.Name.Local == "rect" {
				rects++
			}
		}
		if rects == 0 {
			t.Errorf("chart without bars:\n%s", s)
		}
	}
	for _, s := range []string{`id="totals"`, `id="security"`, `<div class="v">7</div>`, "Relay access denied", "2026-11-28T09:00:00Z", `detect query '`} {
		if !strings.Contains(page, s) {
			t.Errorf("page lacks %q", s)
		}
	}
}

// TestHTMLInChromium renders the page in headless Chromium and writes a
// screenshot, when Chromium is installed.
func TestHTMLInChromium(t *testing.T) {
	const chromium = "/usr/bin/chromium"
	if _, err := os.Stat(chromium); err != nil {
		t.Skipf("%s not installed (Debian package chromium): the page is checked structurally only (TestHTML)", chromium)
	}
	dir := t.TempDir()
	page := filepath.Join(dir, "report.html")
	f, err := os.Create(page)
	if err != nil {
		t.Fatal(err)
	}
	if err := build(t, Options{}, loadEvents(t)).WriteHTML(f); err != nil {
		t.Fatal(err)
	}
	f.Close()
	shot := filepath.Join(dir, "report.png")
	args := []string{"--headless", "--disable-gpu", "--no-sandbox", "--hide-scrollbars", "--window-size=1100,3000", "--screenshot=" + shot, "file://" + page}
	if out, err := exec.Command(chromium, args...).CombinedOutput(); err != nil {
		t.Fatalf("chromium: %v\n%s", err, out)
	}
	if st, err := os.Stat(shot); err != nil || st.Size() < 10000 {
		t.Fatalf("screenshot %v (%v)", st, err)
	}
	dom, err := exec.Command(chromium, "--headless", "--disable-gpu", "--no-sandbox", "--dump-dom", "file://"+page).Output()
	if err != nil || !bytes.Contains(dom, []byte("<rect")) || !bytes.Contains(dom, []byte("Mail report")) {
		t.Fatalf("rendered DOM (%v): %.300s", err, dom)
	}
	t.Logf("screenshot: %s", shot)
}

// TestWorkersAgree: sharing the feeds between goroutines changes nothing.
func TestWorkersAgree(t *testing.T) {
	var events []*schema.Event
	for range 300 { // more than one batch
		events = append(events, loadEvents(t)...)
	}
	var out [2]bytes.Buffer
	for i, n := range []int{1, 3} {
		b := New(Options{Workers: n})
		for _, e := range events {
			b.Add(e)
		}
		if err := b.Report().WriteJSON(&out[i]); err != nil {
			t.Fatal(err)
		}
	}
	if out[0].String() != out[1].String() {
		t.Error("1 and 3 workers give different reports")
	}
	if !strings.Contains(out[0].String(), `"events": 6000`) {
		t.Errorf("events: %.300s", out[0].String())
	}
}

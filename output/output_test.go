package output

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/detect-dev/detect/schema"
)

func sampleAlerts() []*schema.Alert {
	ev := &schema.Event{Time: time.Date(2026, 11, 28, 5, 57, 2, 0, time.UTC), Recipient: "bob@example.org",
		SrcIP: "192.0.2.7", SourceFile: "mail.log", SourceLine: 12, AttachmentExt: []string{"exe"}}
	ev.SetSender("")
	return []*schema.Alert{
		{Time: ev.Time, RuleID: "0b1f2a3c-0000-4000-8000-000000000001", RuleTitle: "Dangerous attachment <exe>",
			RuleFile: "rules/sigma/x.yml", Engine: "sigma", Level: "high", Tags: []string{"attack.t1566.001"}, Event: ev},
		{Time: ev.Time, RuleID: "0b1f2a3c-0000-4000-8000-000000000002", RuleTitle: "Burst", Engine: "sigma",
			Group: map[string]string{"sender": "x@y", "a": "b"}, Count: 120, Start: ev.Time.Add(-time.Minute), End: ev.Time,
			Events: []*schema.Event{ev}},
	}
}

func TestJSONLFollowsContract(t *testing.T) {
	var buf bytes.Buffer
	w, err := NewAlertWriter(&buf, JSONL)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range sampleAlerts() {
		if err := w.Write(a); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
	if len(lines) != 2 {
		t.Fatalf("want 2 lines, got %d:\n%s", len(lines), buf.String())
	}
	want0 := `{"time":"2026-11-28T05:57:02Z","rule_id":"0b1f2a3c-0000-4000-8000-000000000001","rule_title":"Dangerous attachment <exe>","rule_file":"rules/sigma/x.yml","engine":"sigma","level":"high","tags":["attack.t1566.001"],"event":{"time":"2026-11-28T05:57:02Z","sender":"","recipient":"bob@example.org","src_ip":"192.0.2.7","attachment_ext":["exe"],"source_file":"mail.log","source_line":12}}`
	if lines[0] != want0 {
		t.Errorf("-want +got\n-%s\n+%s", want0, lines[0])
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(lines[1]), &m); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"group", "count", "start", "end", "events"} {
		if _, ok := m[k]; !ok {
			t.Errorf("window alert lacks %q: %s", k, lines[1])
		}
	}
	if _, ok := m["event"]; ok {
		t.Errorf("window alert has event: %s", lines[1])
	}
	// The hand-written encoder must agree with encoding/json on the struct.
	std, _ := json.Marshal(sampleAlerts()[1])
	var a, b any
	_ = json.Unmarshal(std, &a)
	_ = json.Unmarshal([]byte(lines[1]), &b)
	if sa, sb := mustString(t, a), mustString(t, b); sa != sb {
		t.Errorf("hand encoder differs from encoding/json:\n-%s\n+%s", sa, sb)
	}
}

func mustString(t *testing.T, v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestCSVAndTable(t *testing.T) {
	for _, f := range []Format{CSV, Table} {
		var buf bytes.Buffer
		w, _ := NewAlertWriter(&buf, f)
		for _, a := range sampleAlerts() {
			_ = w.Write(a)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		out := buf.String()
		if !strings.Contains(out, "<>") || !strings.Contains(out, "mail.log:12") || !strings.Contains(out, "count=120") {
			t.Errorf("%s output lacks sender/source/count:\n%s", f, out)
		}
		if f == CSV {
			recs, err := csv.NewReader(strings.NewReader(out)).ReadAll()
			if err != nil || len(recs) != 3 || len(recs[0]) != len(alertColumns) {
				t.Errorf("csv: %v %v", recs, err)
			}
		}
	}
	var buf bytes.Buffer
	w, _ := NewAlertWriter(&buf, Table)
	_ = w.Close()
	if buf.String() != "no alerts\n" {
		t.Errorf("empty table: %q", buf.String())
	}
}

func TestParseFormat(t *testing.T) {
	for in, want := range map[string]Format{"jsonl": JSONL, "JSON": JSONL, "table": Table, "csv": CSV} {
		if got, err := ParseFormat(in); err != nil || got != want {
			t.Errorf("ParseFormat(%q) = %v, %v", in, got, err)
		}
	}
	if _, err := ParseFormat("xml"); err == nil {
		t.Error("xml accepted")
	}
}

func TestWriteTableTruncatesLongCells(t *testing.T) {
	var buf bytes.Buffer
	_ = WriteTable(&buf, []string{"A", "B"}, [][]string{{strings.Repeat("x", 100), "y\nz"}})
	if strings.Contains(buf.String(), strings.Repeat("x", 61)) || !strings.Contains(buf.String(), "…") || strings.Contains(buf.String(), "y\nz") {
		t.Errorf("cells not capped/sanitised:\n%s", buf.String())
	}
}

func TestCSVDefusesFormulas(t *testing.T) {
	a := sampleAlerts()[0]
	a.Event.AttachmentName = []string{"=HYPERLINK(\"http://x\")"}
	var buf bytes.Buffer
	w, _ := NewAlertWriter(&buf, CSV)
	_ = w.Write(a)
	_ = w.Close()
	recs, err := csv.NewReader(strings.NewReader(buf.String())).ReadAll()
	if err != nil || len(recs) != 2 || recs[1][6] != "'=HYPERLINK(\"http://x\")" {
		t.Fatalf("%v %v", recs, err)
	}
}

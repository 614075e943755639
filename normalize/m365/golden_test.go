package m365

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/detect-dev/detect/internal/goldentest"
	"github.com/detect-dev/detect/normalize"
	"github.com/detect-dev/detect/schema"
)

// goldenFile is one input and how many of its lines the parser cannot
// place, each explained where the file is listed.
type goldenFile struct {
	name          string // golden file stem
	path          string // relative to testdata
	notUnderstood int
}

func goldenFiles() []goldenFile {
	return []goldenFile{
		// Get-MessageTrace | Export-Csv (see NOTICE.md): the #TYPE line,
		// the header row and the note line ignored; one record for every
		// documented Status, and two not understood on purpose: the
		// undocumented Status "Archived" and the unreadable time
		// "sometime".
		{name: "messagetrace-export", path: "messagetrace-export.csv", notUnderstood: 2},
		// A pretty-printed Graph exchangeMessageTrace collection over 48
		// lines: the lines of the document are understood as they are
		// gathered; its last record's status "unknownFutureValue" (the
		// Graph enum's placeholder) is counted as unknown_status, and the
		// document's last line is still understood for the three others.
		{name: "messagetrace-graph", path: "messagetrace-graph.json"},
		// One record alone on a line, a Reporting Web Service OData answer
		// on one line (two records, /Date(ms)/ stamps), and a document
		// left open at the end of the file (json_unterminated 1).
		{name: "messagetrace-reporting", path: "messagetrace-reporting.json"},
		// The historical search summary report: recipient_status lists
		// each recipient's events; 6 events from 4 rows, all placed.
		{name: "messagetrace-summary", path: "messagetrace-summary.csv"},
	}
}

type run struct {
	Lines              int            `json:"lines"`
	Understood         int            `json:"understood"`
	Ignored            int            `json:"ignored"`
	NotUnderstood      int            `json:"not_understood"`
	Events             int            `json:"events"`
	EventsByTypeAction map[string]int `json:"events_by_type_action"`
	Stats              map[string]int `json:"stats"`

	notSamples []string
	jsonl      []byte
	events     []*schema.Event
}

// parseFile runs one file through a fresh parser of the format.
func parseFile(tb testing.TB, format, path, rel string) *run {
	tb.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	p, err := normalize.New(format, normalize.Options{})
	if err != nil {
		tb.Fatal(err)
	}
	r := &run{EventsByTypeAction: map[string]int{}}
	emit := func(ev *schema.Event) {
		if ev.EventType == "" || ev.Action == "" {
			tb.Errorf("%s:%d: event without type or action", rel, ev.SourceLine)
		}
		start := len(r.jsonl)
		r.jsonl = ev.AppendJSON(r.jsonl)
		if !json.Valid(r.jsonl[start:]) {
			tb.Errorf("%s:%d: invalid JSON", rel, ev.SourceLine)
		}
		r.jsonl = append(r.jsonl, '\n')
		r.events = append(r.events, ev)
		r.EventsByTypeAction[ev.EventType+"/"+ev.Action]++
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for n := 1; sc.Scan(); n++ {
		r.Lines++
		switch p.Parse(schema.Line{Text: sc.Text(), File: rel, Number: n}, emit) {
		case normalize.Understood:
			r.Understood++
		case normalize.Ignored:
			r.Ignored++
		default:
			r.NotUnderstood++
			r.notSamples = append(r.notSamples, fmt.Sprintf("%s:%d: %s", rel, n, sc.Text()))
		}
	}
	p.Flush(emit)
	r.Stats = p.Stats()
	r.Events = len(r.events)
	return r
}

func TestGolden(t *testing.T) {
	for _, gf := range goldenFiles() {
		t.Run(gf.name, func(t *testing.T) {
			r := parseFile(t, "m365", filepath.Join("testdata", gf.path), gf.path)
			if r.NotUnderstood != gf.notUnderstood {
				t.Errorf("%d lines not understood, want %d:\n%s", r.NotUnderstood, gf.notUnderstood, strings.Join(r.notSamples, "\n"))
			}
			ignored := 0
			for k, v := range r.Stats {
				if strings.HasPrefix(k, "ignored_") {
					ignored += v
				}
			}
			if ignored != r.Ignored {
				t.Errorf("ignored_* stats sum to %d, ignored lines %d", ignored, r.Ignored)
			}
			counts, _ := json.MarshalIndent(r, "", "  ")
			goldentest.Compare(t, filepath.Join("testdata", "golden", gf.name+".jsonl"), r.jsonl)
			goldentest.Compare(t, filepath.Join("testdata", "golden", gf.name+".counts.json"), append(counts, '\n'))
		})
	}
}

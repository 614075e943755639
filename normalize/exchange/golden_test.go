package exchange

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/detect-dev/detect/internal/corpustest"
	"github.com/detect-dev/detect/internal/goldentest"
	"github.com/detect-dev/detect/normalize"
	"github.com/detect-dev/detect/schema"
)

// goldenFile is one input and how many of its lines the parser cannot
// place, each explained where the file is listed.
type goldenFile struct {
	name          string // golden file stem
	format        string
	corpus        bool   // path is relative to the shared corpus, else to testdata
	path          string //
	notUnderstood int
}

func goldenFiles() []goldenFile {
	return []goldenFile{
		// Our tracking log sample (see NOTICE.md): 5 header lines and the
		// note line ignored, 11 event rows (16 events), 11 rows of ignored
		// ids (AGENTINFO, RESOLVE, DSN, EXPAND, REDIRECT, TRANSFER, HA*,
		// SUBMIT, NOTIFYMAPI) and 2 rows not understood on purpose: the
		// unknown event id FUTUREEVENT and a row cut inside a quoted
		// subject.
		{name: "msgtrk-sample", format: "exchange", path: "msgtrk-sample.log", notUnderstood: 2},
		// The same messages as a Get-MessageTrackingLog | Export-Csv export:
		// the FAIL row's unjoined "System.String[]" lists give one event
		// without recipient; every line is placed.
		{name: "msgtrk-export", format: "exchange", path: "msgtrk-export.csv"},
		// Our protocol log sample: three sessions (a failed AUTH LOGIN, a
		// successful submission over IPv6, a refused relay attempt) and one
		// garbage line, not understood on purpose.
		{name: "recv-sample", format: "exchange-smtp", path: "recv-sample.log", notUnderstood: 1},
		// CrowdSec's samples: 9 and 1 rows of "535 5.7.3 Authentication
		// unsuccessful" replies without a header, all auth failures.
		{name: "crowdsec-exchange-smtp-bf", format: "exchange-smtp", corpus: true,
			path: "crowdsec-hub/exchange-smtp-bf/exchange-smtp-bf.log"},
		{name: "crowdsec-exchange-smtp-logs", format: "exchange-smtp", corpus: true,
			path: "crowdsec-hub/exchange-smtp-logs/exchange-smtp-logs.log"},
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
			path := filepath.Join("testdata", gf.path)
			if gf.corpus {
				path = filepath.Join(corpustest.Dir(t, "exchange-smtp-protocol"), gf.path)
			}
			r := parseFile(t, gf.format, path, gf.path)
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

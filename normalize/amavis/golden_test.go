package amavis

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/detect-dev/detect/internal/corpustest"
	"github.com/detect-dev/detect/internal/goldentest"
	"github.com/detect-dev/detect/normalize"
	_ "github.com/detect-dev/detect/normalize/postfix" // Postfix lines in an amavis log
	"github.com/detect-dev/detect/schema"
)

// goldenNow pins the clock so that syslog stamps without a year come out
// the same on every run.
var goldenNow = func() time.Time { return time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC) }

type goldenFile struct {
	name          string // golden file stem
	corpus        bool   // path relative to the content-filter corpus, else to testdata
	path          string
	year          int
	extract       func(string) (string, bool)
	notUnderstood int
}

func plainLines(s string) (string, bool) { return s, true }

// ossecLines takes "log 1 pass = <line>" (and "fail", OSSEC's expectation
// that no rule fires).
func ossecLines(s string) (string, bool) {
	if !strings.HasPrefix(s, "log ") {
		return "", false
	}
	_, v, ok := strings.Cut(s, " = ")
	return v, ok
}

func goldenFiles() []goldenFile {
	return []goldenFile{
		// Our sample (see NOTICE.md), 29 lines: 9 amavis verdicts (10
		// events), 4 MailScanner verdicts (5 events), 2 Postfix lines
		// handed to the Postfix parser (a connect it ignores and a reject
		// event), and the noise, ignored by category: the note line and a
		// dovecot line (other_program), amavis daemon, detail, warning and
		// continuation lines, MailScanner batch, quarantine and requeue
		// notes, an update script, a repeat notice. Not understood on
		// purpose: a verdict line cut before its "->" and a line without
		// syslog framing.
		{name: "amavis-sample", path: "amavis-sample.log", year: 2026, extract: plainLines, notUnderstood: 2},
		// CrowdSec: one "Blocked INFECTED ... {DiscardedInbound,Quarantined}"
		// line, quarantined; its Message-ID dates it to 2024.
		{name: "crowdsec-amavis", corpus: true, path: "crowdsec-hub/amavis-logs/amavis.log", year: 2024, extract: plainLines},
		// CrowdSec: two MailScanner spam verdicts (warned) and a blank line.
		{name: "crowdsec-mailscanner", corpus: true, path: "crowdsec-hub/mailscanner-logs/mailscanner-logs.log", extract: plainLines},
		// OSSEC: the one sample line is MailScanner's phishing list update
		// script (maintenance, ignored).
		{name: "ossec-mailscanner", corpus: true, path: "ossec-hids/mailscanner.ini", extract: ossecLines},
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

func parseFile(tb testing.TB, gf goldenFile, path string) *run {
	tb.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	p := New(normalize.Options{Year: gf.year, Now: goldenNow})
	r := &run{EventsByTypeAction: map[string]int{}}
	emit := func(ev *schema.Event) {
		if ev.EventType == "" || ev.Action == "" {
			tb.Errorf("%s:%d: event without type or action", gf.path, ev.SourceLine)
		}
		start := len(r.jsonl)
		r.jsonl = ev.AppendJSON(r.jsonl)
		if !json.Valid(r.jsonl[start:]) {
			tb.Errorf("%s:%d: invalid JSON", gf.path, ev.SourceLine)
		}
		r.jsonl = append(r.jsonl, '\n')
		r.events = append(r.events, ev)
		r.EventsByTypeAction[ev.EventType+"/"+ev.Action]++
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for n := 1; sc.Scan(); n++ {
		text, ok := gf.extract(sc.Text())
		if !ok {
			continue
		}
		r.Lines++
		switch p.Parse(schema.Line{Text: text, File: gf.path, Number: n}, emit) {
		case normalize.Understood:
			r.Understood++
		case normalize.Ignored:
			r.Ignored++
		default:
			r.NotUnderstood++
			r.notSamples = append(r.notSamples, fmt.Sprintf("%s:%d: %s", gf.path, n, text))
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
				path = filepath.Join(corpustest.Dir(t, "content-filter"), gf.path)
			}
			r := parseFile(t, gf, path)
			if r.NotUnderstood != gf.notUnderstood {
				t.Errorf("%d lines not understood, want %d:\n%s", r.NotUnderstood, gf.notUnderstood, strings.Join(r.notSamples, "\n"))
			}
			// Every ignored line is in one category, ours or (for the
			// lines handed over) the Postfix parser's.
			ignored := 0
			for k, v := range r.Stats {
				if strings.HasPrefix(k, "ignored_") || strings.HasPrefix(k, "postfix_ignored_") {
					ignored += v
				}
			}
			if ignored != r.Ignored {
				t.Errorf("ignored stats sum to %d, ignored lines %d", ignored, r.Ignored)
			}
			counts, _ := json.MarshalIndent(r, "", "  ")
			goldentest.Compare(t, filepath.Join("testdata", "golden", gf.name+".jsonl"), r.jsonl)
			goldentest.Compare(t, filepath.Join("testdata", "golden", gf.name+".counts.json"), append(counts, '\n'))
		})
	}
}

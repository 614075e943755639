package csvevents

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

type goldenFile struct {
	name, format, path string
	notUnderstood      int
}

func goldenFiles() []goldenFile {
	return []goldenFile{
		// Schema names: the note and header ignored; a row with two
		// attachments (joined into attachments), a bounce with the null
		// sender "<>", a reject to two recipients (two events), and two
		// rows not understood on purpose: a size that is no number and a
		// row with a field missing.
		{"events", "csv", "events.csv", 2},
		// Splunk CIM names: _time in RFC 3339 and as epoch seconds, a
		// multivalue recipient (two events), file_name/file_size/file_hash
		// lists joined into attachments; orig_dest resolves to nothing
		// (unknown_columns 1).
		{"cim", "csv", "cim.csv", 0},
		// The seed's names; the second row's lists differ in length and
		// stay flat lists.
		{"seed", "csv", "seed.csv", 0},
		// ECS dotted names, with the attachment fields; labels.site is
		// unknown.
		{"ecs-csv", "csv", "ecs.csv", 0},
		// json-export: a nested ECS document (two recipients), a dotted one
		// with the null sender, a CIM one, and two lines not understood on
		// purpose: a size that is no number, and an array.
		// The note key is counted in unknown_columns.
		{"ecs-json", "json-export", "ecs.jsonl", 2},
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

func parseFile(tb testing.TB, gf goldenFile) *run {
	tb.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", gf.path))
	if err != nil {
		tb.Fatal(err)
	}
	p, err := normalize.New(gf.format, normalize.Options{})
	if err != nil {
		tb.Fatal(err)
	}
	r := &run{EventsByTypeAction: map[string]int{}}
	emit := func(ev *schema.Event) {
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
		r.Lines++
		switch p.Parse(schema.Line{Text: sc.Text(), File: gf.path, Number: n}, emit) {
		case normalize.Understood:
			r.Understood++
		case normalize.Ignored:
			r.Ignored++
		default:
			r.NotUnderstood++
			r.notSamples = append(r.notSamples, fmt.Sprintf("%s:%d: %s", gf.path, n, sc.Text()))
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
			r := parseFile(t, gf)
			if r.NotUnderstood != gf.notUnderstood {
				t.Errorf("%d lines not understood, want %d:\n%s", r.NotUnderstood, gf.notUnderstood, strings.Join(r.notSamples, "\n"))
			}
			if ig := r.Stats[StatIgnoredHeader] + r.Stats[StatIgnoredComment] + r.Stats[StatIgnoredBlank]; ig != r.Ignored {
				t.Errorf("ignored stats sum to %d, ignored lines %d", ig, r.Ignored)
			}
			counts, _ := json.MarshalIndent(r, "", "  ")
			goldentest.Compare(t, filepath.Join("testdata", "golden", gf.name+".jsonl"), r.jsonl)
			goldentest.Compare(t, filepath.Join("testdata", "golden", gf.name+".counts.json"), append(counts, '\n'))
		})
	}
}

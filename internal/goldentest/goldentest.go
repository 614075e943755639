// Package goldentest is the golden-file harness shared by the format
// parsers' corpus tests: it feeds a file through a parser the way the scan
// pipeline feeds one stream, accounts for every line, and compares the
// events (JSON lines) and counts with testdata/golden, rewriting them under
// `go test -update`.
package goldentest

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/detect-dev/detect/normalize"
	"github.com/detect-dev/detect/schema"
)

// update is registered once here for every package that uses the harness.
var update = flag.Bool("update", false, "rewrite testdata/golden from the corpus")

// Run is the outcome of parsing one or more corpus files. Its exported
// fields are the counts file.
type Run struct {
	Lines              int            `json:"lines"`
	Understood         int            `json:"understood"`
	Ignored            int            `json:"ignored"`
	IgnoredByCategory  map[string]int `json:"ignored_by_category"`
	NotUnderstood      int            `json:"not_understood"`
	Events             int            `json:"events"`
	EventsByTypeAction map[string]int `json:"events_by_type_action"`
	Stats              map[string]int `json:"stats"`

	events     []*schema.Event
	notSamples []string
	jsonl      []byte
}

// NewRun returns an empty run.
func NewRun() *Run {
	return &Run{IgnoredByCategory: map[string]int{}, EventsByTypeAction: map[string]int{}, Stats: map[string]int{}}
}

// Parsed returns the events of every file parsed so far.
func (r *Run) Parsed() []*schema.Event { return r.events }

// Samples returns up to 40 not-understood lines as "file:line: text".
func (r *Run) Samples() []string { return r.notSamples }

// Parse runs the file at path through p (a fresh parser for this file),
// keeping the lines extract accepts (it may also strip a harness's framing),
// and adds the outcome to r. Stats named in peaks are combined by maximum
// rather than summed. It returns the file's not-understood count.
func (r *Run) Parse(tb testing.TB, p normalize.Parser, path, rel string, extract func(string) (string, bool), peaks ...string) int {
	tb.Helper()
	f, err := os.Open(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	emit := func(ev *schema.Event) {
		if ev.EventType == "" || ev.Action == "" {
			tb.Errorf("%s:%d: event without type or action", rel, ev.SourceLine)
		}
		r.events = append(r.events, ev)
		start := len(r.jsonl)
		r.jsonl = ev.AppendJSON(r.jsonl)
		if !json.Valid(r.jsonl[start:]) {
			tb.Errorf("%s:%d: invalid JSON: %s", rel, ev.SourceLine, r.jsonl[start:])
		}
		r.jsonl = append(r.jsonl, '\n')
		r.EventsByTypeAction[ev.EventType+"/"+ev.Action]++
	}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 64<<10), 4<<20)
	n, notUnderstood := 0, 0
	for sc.Scan() {
		n++
		text, ok := extract(sc.Text())
		if !ok {
			continue
		}
		r.Lines++
		switch p.Parse(schema.Line{Text: text, File: rel, Number: n}, emit) {
		case normalize.Understood:
			r.Understood++
		case normalize.Ignored:
			r.Ignored++
		case normalize.NotUnderstood:
			r.NotUnderstood++
			notUnderstood++
			if len(r.notSamples) < 40 {
				r.notSamples = append(r.notSamples, fmt.Sprintf("%s:%d: %s", rel, n, text))
			}
		}
	}
	if err := sc.Err(); err != nil {
		tb.Fatalf("read %s: %v", rel, err)
	}
	p.Flush(emit)
	for k, v := range p.Stats() {
		if isPeak(k, peaks) {
			r.Stats[k] = max(r.Stats[k], v)
			continue
		}
		r.Stats[k] += v
		if name, ok := strings.CutPrefix(k, "ignored_"); ok {
			r.IgnoredByCategory[name] += v
		}
	}
	r.Events = len(r.events)
	return notUnderstood
}

func isPeak(k string, peaks []string) bool {
	for _, p := range peaks {
		if k == p {
			return true
		}
	}
	return false
}

// Check asserts that every line got exactly one result and that the ignored
// categories add up to the ignored lines.
func (r *Run) Check(t *testing.T) {
	t.Helper()
	if sum := r.Understood + r.Ignored + r.NotUnderstood; sum != r.Lines {
		t.Errorf("results %d != lines %d", sum, r.Lines)
	}
	ignoredSum := 0
	for _, v := range r.IgnoredByCategory {
		ignoredSum += v
	}
	if ignoredSum != r.Ignored {
		t.Errorf("ignored by category sums to %d, ignored lines %d", ignoredSum, r.Ignored)
	}
}

// Golden compares the events with testdata/golden/<stem>.jsonl and the
// counts (plus extra keys) with testdata/golden/<stem>.counts.json.
func (r *Run) Golden(t *testing.T, stem string, extra map[string]any) {
	r.GoldenAs(t, stem, stem+".jsonl", extra)
}

// GoldenAs is Golden with another events file name (".gz" is stored
// gzipped).
func (r *Run) GoldenAs(t *testing.T, stem, eventsFile string, extra map[string]any) {
	t.Helper()
	var v any = r
	if extra != nil {
		m := map[string]any{}
		b, _ := json.Marshal(r)
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatal(err)
		}
		for k, x := range extra {
			m[k] = x
		}
		v = m
	}
	counts, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	counts = append(counts, '\n')
	Compare(t, filepath.Join("testdata", "golden", eventsFile), r.jsonl)
	Compare(t, filepath.Join("testdata", "golden", stem+".counts.json"), counts)
}

// Compare checks got against the golden file at path (gunzipping a ".gz"
// file), or rewrites it under -update. A difference is reported at its
// first differing line.
func Compare(t *testing.T, path string, got []byte) {
	t.Helper()
	gz := strings.HasSuffix(path, ".gz")
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		data := got
		if gz {
			var b bytes.Buffer
			w, _ := gzip.NewWriterLevel(&b, gzip.BestCompression)
			w.Write(got)
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			data = b.Bytes()
		}
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if gz {
		zr, err := gzip.NewReader(bytes.NewReader(want))
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		if want, err = io.ReadAll(zr); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
	}
	if bytes.Equal(got, want) {
		return
	}
	gl, wl := strings.Split(string(got), "\n"), strings.Split(string(want), "\n")
	for i := 0; i < len(gl) || i < len(wl); i++ {
		var g, w string
		if i < len(gl) {
			g = gl[i]
		}
		if i < len(wl) {
			w = wl[i]
		}
		if g != w {
			t.Errorf("%s differs at line %d (rerun with -update if intended):\n got: %s\nwant: %s", path, i+1, g, w)
			return
		}
	}
}

package zeek

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
	"time"

	"github.com/detect-dev/detect/internal/corpustest"
	"github.com/detect-dev/detect/normalize"
	"github.com/detect-dev/detect/schema"
)

var update = flag.Bool("update", false, "rewrite testdata/golden from the corpus")

// corpusDir returns the Zeek corpus or skips the test without it.
func corpusDir(tb testing.TB) string {
	tb.Helper()
	return corpustest.Dir(tb, "zeek")
}

// corpusFile is one corpus log and how to read it.
type corpusFile struct {
	name string // golden file stem
	path string // relative to the zeek corpus
	// extract returns the log line inside a raw file line (test-harness
	// files wrap them), or false to skip the line.
	extract func(string) (string, bool)
	// notUnderstood is the exact number of lines the parser cannot
	// place, each explained where the file is listed.
	notUnderstood int
}

func plainLines(s string) (string, bool) { return s, s != "" }

// corpusFiles lists every Zeek log of the corpus: the brimdata sample in
// both writers' formats, and every smtp.log, files.log and files.log.cut
// of Zeek's test baselines. Each smtp.log is read the way `detect` reads
// it, so its sibling files.log (or files.log.cut) is joined. No line of
// them is not understood: the btest banners are comments, the masked
// timestamps (XXXXXXXXXX.XXXXXX) leave events without a time (counted
// as no_time), and the .cut extract without a fuid column is ignored as
// files_no_fuid.
func corpusFiles(tb testing.TB, dir string) []corpusFile {
	files := []corpusFile{
		{name: "brimdata-smtp.log", path: "brimdata-zed-sample-data/zeek-default/smtp.log", extract: plainLines},
		{name: "brimdata-smtp.json", path: "brimdata-zed-sample-data/zeek-json/smtp.json", extract: plainLines},
	}
	base := filepath.Join(dir, "zeek-btest-baseline", "testing", "btest", "Baseline")
	entries, err := os.ReadDir(base)
	if err != nil {
		tb.Fatal(err)
	}
	for _, e := range entries {
		test := strings.TrimPrefix(strings.TrimPrefix(e.Name(), "scripts.base.protocols."), "scripts.")
		for _, log := range []string{"smtp.log", "files.log", "files.log.cut"} {
			if _, err := os.Stat(filepath.Join(base, e.Name(), log)); err != nil {
				continue
			}
			files = append(files, corpusFile{
				name:    "btest-" + test + "-" + strings.ReplaceAll(log, ".", "-"),
				path:    "zeek-btest-baseline/testing/btest/Baseline/" + e.Name() + "/" + log,
				extract: plainLines,
			})
		}
	}
	if len(files) < 10 {
		tb.Errorf("only %d zeek logs under %s", len(files), dir)
	}
	return files
}

// run is the outcome of parsing one corpus file.
type run struct {
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

func newRun() *run {
	return &run{IgnoredByCategory: map[string]int{}, EventsByTypeAction: map[string]int{}, Stats: map[string]int{}}
}

// parseFile runs one file through a fresh parser, the way the scan
// pipeline runs one stream, adding to r.
func parseFile(tb testing.TB, path, rel string, extract func(string) (string, bool), r *run) int {
	tb.Helper()
	f, err := os.Open(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	p := New(normalize.Options{})
	p.BeginFile(path, time.Time{})
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
		r.Stats[k] += v
		if name, ok := strings.CutPrefix(k, "ignored_"); ok {
			r.IgnoredByCategory[name] += v
		}
	}
	r.Events = len(r.events)
	return notUnderstood
}

func (r *run) check(t *testing.T) {
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

func (r *run) golden(t *testing.T, stem string, extra map[string]any) {
	r.goldenAs(t, stem, stem+".jsonl", extra)
}

func (r *run) goldenAs(t *testing.T, stem, eventsFile string, extra map[string]any) {
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
	checkGolden(t, filepath.Join("testdata", "golden", eventsFile), r.jsonl)
	checkGolden(t, filepath.Join("testdata", "golden", stem+".counts.json"), counts)
}

func TestGolden(t *testing.T) {
	dir := corpusDir(t)
	for _, cf := range corpusFiles(t, dir) {
		t.Run(cf.name, func(t *testing.T) {
			r := newRun()
			parseFile(t, filepath.Join(dir, cf.path), cf.path, cf.extract, r)
			t.Logf("%s: %d lines, %d understood, %d ignored, %d not understood, %d events",
				cf.path, r.Lines, r.Understood, r.Ignored, r.NotUnderstood, r.Events)
			if r.NotUnderstood != cf.notUnderstood {
				t.Errorf("%d lines not understood, want %d; first ones:\n%s",
					r.NotUnderstood, cf.notUnderstood, strings.Join(r.notSamples, "\n"))
			}
			r.check(t)
			r.golden(t, cf.name, nil)
		})
	}
}

// checkGolden compares got with the golden file, or rewrites it with -update.
// A path ending in .gz holds the content gzipped; the comparison is on the
// decompressed text, so a different compressor version changes nothing.
func checkGolden(t *testing.T, path string, got []byte) {
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

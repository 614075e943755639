package sendmail

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

// corpusDir returns the Sendmail corpus or skips the test without it.
func corpusDir(tb testing.TB) string {
	tb.Helper()
	return corpustest.Dir(tb, "sendmail")
}

// goldenNow pins the clock so that syslog stamps without a known year come
// out the same on every run.
var goldenNow = func() time.Time { return time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC) }

// corpusFile is one corpus log and how to read it.
type corpusFile struct {
	name string // golden file stem
	path string // relative to the sendmail corpus
	year int    // explicit year for syslog stamps when the provenance tells it
	loc  *time.Location
	// extract returns the log line inside a raw file line (test-harness
	// files wrap them), or false to skip the line.
	extract func(string) (string, bool)
	// notUnderstood is the exact number of lines the parser cannot
	// place, each explained where the file is listed.
	notUnderstood int
}

func plainLines(s string) (string, bool) { return s, s != "" }

// fail2banLines skips the "# failJSON: ..." annotations and blank lines.
func fail2banLines(s string) (string, bool) {
	if s == "" || strings.HasPrefix(s, "#") {
		return "", false
	}
	return s, true
}

// jst is the zone of the fluent-plugin-sendmail sample: its expected
// epoch times put "Apr  2 00:15:25" at 2016-04-01T15:15:25Z.
var jst = time.FixedZone("JST", 9*3600)

// corpusFiles lists the corpus files, each with its not-understood count
// explained.
func corpusFiles() []corpusFile {
	return []corpusFile{
		// 270 lines of a 2005 Sendmail 8.12 log: 58 messages relayed through
		// the local MSP (from= and to= lines, 116 deliveries) and 38 daemon
		// lines (starts, load-average throttling; ignored). Nothing left.
		{name: "gitpan-sendmail-plain", path: "gitpan-parse-syslog-mail/t/logs/sendmail-plain.log", year: 2005, extract: plainLines},
		// 37 lines (CRLF): notifications created for messages (DSN:,
		// postmaster notify:, ...), User unknown and route refusals, lost
		// connections and timeouts, ETRN. One line is not understood: the
		// "j4KDbUaV007215[2]: \263\273..." line is binary junk after a
		// split-envelope queue id, no Sendmail message at all.
		{name: "gitpan-sendmail-custom-dsn", path: "gitpan-parse-syslog-mail/t/logs/sendmail-custom-dsn.log", year: 2005, extract: plainLines, notUnderstood: 1},
		// 3 check_rcpt rejects.
		{name: "gitpan-sendmail-ruleset", path: "gitpan-parse-syslog-mail/t/logs/sendmail-ruleset.log", year: 2005, extract: plainLines},
		// One "clone: owner=Postmaster" line of a split envelope (ignored
		// as a notification).
		{name: "gitpan-technoids", path: "gitpan-parse-syslog-mail/t/logs/technoids.log", year: 2003, extract: plainLines},
		// One message, several to= lines with comma-joined recipients,
		// a 1+00:00:15 delay; Milter, outgoing connect and done lines are
		// ignored. TestFluentExpected checks the events against the
		// plugin's expected output.
		{name: "fluent-sendmail", path: "fluent-plugin-sendmail/test/data/data", year: 2016, loc: jst, extract: plainLines},
		// 13 lines: AUTH failures (one with a relay= injected through the
		// user name) and "possible SMTP attack" drops, all events.
		{name: "fail2ban-sendmail-auth", path: "fail2ban/sendmail-auth", year: 2005, extract: fail2banLines},
		// 45 lines: check_rcpt/check_relay rejects, User unknown, EXPN and
		// VRFY refusals, pre-greeting traffic (events), from= lines of
		// rejected transactions, and "did not issue MAIL" or "lost input
		// channel" connection notes (ignored); three lines carry a BSD
		// "<mail.notice>" priority before the host.
		{name: "fail2ban-sendmail-reject", path: "fail2ban/sendmail-reject", year: 2005, extract: fail2banLines},
	}
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
func parseFile(tb testing.TB, path, rel string, year int, loc *time.Location, extract func(string) (string, bool), r *run) int {
	tb.Helper()
	f, err := os.Open(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	p := New(normalize.Options{Year: year, Now: goldenNow, Location: loc})
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
		if k == StatQueuePeak {
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
	for _, cf := range corpusFiles() {
		t.Run(cf.name, func(t *testing.T) {
			r := newRun()
			parseFile(t, filepath.Join(dir, cf.path), cf.path, cf.year, cf.loc, cf.extract, r)
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

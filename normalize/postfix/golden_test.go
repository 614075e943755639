package postfix

import (
	"bufio"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/detect-dev/detect/internal/corpustest"
	"github.com/detect-dev/detect/internal/goldentest"
	"github.com/detect-dev/detect/normalize"
	"github.com/detect-dev/detect/schema"
)

// corpusDir returns the Postfix corpus or skips the test without it.
func corpusDir(tb testing.TB) string {
	tb.Helper()
	return corpustest.Dir(tb, "postfix")
}

// goldenNow pins the clock so that RFC 3164 stamps without a known year
// come out the same on every run.
var goldenNow = func() time.Time { return time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC) }

// corpusFile is one corpus log and how to read it.
type corpusFile struct {
	name string // golden file stem
	path string // relative to the postfix corpus
	year int    // explicit year when the provenance tells it
	// extract returns the log line inside a raw file line (test-harness
	// files wrap them), or false to skip the line.
	extract func(string) (string, bool)
	// maxNotUnderstood is the ceiling for lines the parser cannot place;
	// lower it when coverage grows, never raise it.
	maxNotUnderstood int
}

func plainLines(s string) (string, bool) { return s, s != "" }

// fail2banLines skips the "# failJSON: ..." annotations and blank lines.
func fail2banLines(s string) (string, bool) {
	if s == "" || strings.HasPrefix(s, "#") {
		return "", false
	}
	return s, true
}

// ossecLines takes "log 1 pass = <line>".
func ossecLines(s string) (string, bool) {
	if !strings.HasPrefix(s, "log ") {
		return "", false
	}
	_, v, ok := strings.Cut(s, " = ")
	return v, ok
}

func corpusFiles(tb testing.TB, dir string) []corpusFile {
	files := []corpusFile{
		{name: "pixelpark-mail.log", path: "pixelpark-postfix-logsums/test/mail.log.gz", extract: plainLines, maxNotUnderstood: 0},
		{name: "gitpan-postfix-plain", path: "gitpan-parse-syslog-mail/t/logs/postfix-plain.log", year: 2005, extract: plainLines, maxNotUnderstood: 0},
		{name: "gitpan-cpan-rt-28807", path: "gitpan-parse-syslog-mail/t/cpan-rt-28807.log", year: 2007, extract: plainLines, maxNotUnderstood: 0},
		{name: "fail2ban-postfix", path: "fail2ban/postfix", year: 2005, extract: fail2banLines, maxNotUnderstood: 0},
		{name: "ossec-postfix", path: "ossec-hids/postfix.ini", extract: ossecLines, maxNotUnderstood: 0},
	}
	crowd, err := filepath.Glob(filepath.Join(dir, "crowdsec-hub", "*", "*.log"))
	if err != nil {
		tb.Fatal(err)
	}
	sort.Strings(crowd)
	for _, c := range crowd {
		rel, _ := filepath.Rel(dir, c)
		stem := strings.TrimSuffix(filepath.Base(c), ".log")
		files = append(files, corpusFile{
			name:    "crowdsec-" + filepath.Base(filepath.Dir(c)) + "-" + stem,
			path:    filepath.ToSlash(rel),
			extract: plainLines,
		})
	}
	if len(crowd) == 0 {
		tb.Errorf("no crowdsec-hub logs under %s", dir)
	}
	return files
}

// openCorpus opens a corpus file, decompressing .gz.
func openCorpus(path string) (io.ReadCloser, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open corpus: %w", err)
	}
	if !strings.HasSuffix(path, ".gz") {
		return f, nil
	}
	z, err := gzip.NewReader(f)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("gunzip %s: %w", path, err)
	}
	return struct {
		io.Reader
		io.Closer
	}{z, f}, nil
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
	raw        []string // the log lines, for invariants that grep the input
	notSamples []string
	jsonl      []byte
}

// parseCorpus runs one corpus file through a fresh parser, the way the scan
// pipeline runs one stream.
func parseCorpus(tb testing.TB, dir string, cf corpusFile) *run {
	tb.Helper()
	rc, err := openCorpus(filepath.Join(dir, cf.path))
	if err != nil {
		tb.Fatal(err)
	}
	defer rc.Close()
	p := New(normalize.Options{Year: cf.year, Now: goldenNow})
	r := &run{IgnoredByCategory: map[string]int{}, EventsByTypeAction: map[string]int{}}
	emit := func(ev *schema.Event) {
		r.events = append(r.events, ev)
		start := len(r.jsonl)
		r.jsonl = ev.AppendJSON(r.jsonl)
		if !json.Valid(r.jsonl[start:]) {
			tb.Errorf("%s:%d: invalid JSON: %s", cf.path, ev.SourceLine, r.jsonl[start:])
		}
		r.jsonl = append(r.jsonl, '\n')
		r.EventsByTypeAction[ev.EventType+"/"+ev.Action]++
	}
	sc := bufio.NewScanner(rc)
	sc.Buffer(make([]byte, 0, 64<<10), 4<<20)
	n := 0
	for sc.Scan() {
		n++
		text, ok := cf.extract(sc.Text())
		if !ok {
			continue
		}
		r.Lines++
		r.raw = append(r.raw, text)
		switch p.Parse(schema.Line{Text: text, File: cf.path, Number: n}, emit) {
		case normalize.Understood:
			r.Understood++
		case normalize.Ignored:
			r.Ignored++
		case normalize.NotUnderstood:
			r.NotUnderstood++
			if len(r.notSamples) < 25 {
				r.notSamples = append(r.notSamples, fmt.Sprintf("%d: %s", n, text))
			}
		}
	}
	if err := sc.Err(); err != nil {
		tb.Fatalf("read %s: %v", cf.path, err)
	}
	p.Flush(emit)
	r.Stats = p.Stats()
	r.Events = len(r.events)
	for k, v := range r.Stats {
		if name, ok := strings.CutPrefix(k, "ignored_"); ok {
			r.IgnoredByCategory[name] = v
		}
	}
	return r
}

func TestGolden(t *testing.T) {
	dir := corpusDir(t)
	for _, cf := range corpusFiles(t, dir) {
		t.Run(cf.name, func(t *testing.T) {
			r := parseCorpus(t, dir, cf)
			t.Logf("%s: %d lines, %d understood, %d ignored, %d not understood, %d events",
				cf.path, r.Lines, r.Understood, r.Ignored, r.NotUnderstood, r.Events)
			if r.NotUnderstood > cf.maxNotUnderstood {
				t.Errorf("%d lines not understood, at most %d allowed; first ones:\n%s",
					r.NotUnderstood, cf.maxNotUnderstood, strings.Join(r.notSamples, "\n"))
			}
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
			counts, err := json.MarshalIndent(r, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			counts = append(counts, '\n')
			goldentest.Compare(t, filepath.Join("testdata", "golden", cf.name+".jsonl"), r.jsonl)
			goldentest.Compare(t, filepath.Join("testdata", "golden", cf.name+".counts.json"), counts)
		})
	}
}

// TestPixelparkInvariants checks the production log against counts taken
// from the input text itself, so that the golden file cannot quietly
// encode a parser bug.
func TestPixelparkInvariants(t *testing.T) {
	dir := corpusDir(t)
	cf := corpusFiles(t, dir)[0]
	r := parseCorpus(t, dir, cf)

	const (
		wantLines   = 69861
		wantSent    = 364
		wantBounced = 1
		wantNoqueue = 116
	)
	var grepSent, grepBounced, grepNoqueue int
	// Queue ids whose message had no Message-ID header at all (cleanup logs
	// message-id=<>): their deliveries cannot carry one.
	noMessageID := map[string]bool{}
	for _, l := range r.raw {
		if i := strings.Index(l, ": message-id=<>"); i >= 0 {
			if j := strings.LastIndexByte(l[:i], ' '); j >= 0 {
				noMessageID[l[j+1:i]] = true
			}
		}
		if strings.Contains(l, "status=sent") {
			grepSent++
		}
		if strings.Contains(l, "status=bounced") {
			grepBounced++
		}
		if strings.Contains(l, "NOQUEUE: reject:") {
			grepNoqueue++
		}
	}
	if len(noMessageID) != 1 {
		t.Errorf("%d messages without Message-ID in the input, the log has 1", len(noMessageID))
	}
	if r.Lines != wantLines || grepSent != wantSent || grepBounced != wantBounced || grepNoqueue != wantNoqueue {
		t.Fatalf("corpus changed: %d lines, %d sent, %d bounced, %d NOQUEUE rejects", r.Lines, grepSent, grepBounced, grepNoqueue)
	}
	var sent, bounced, noqueue int
	for _, ev := range r.events {
		switch {
		case ev.EventType == schema.TypeDelivery:
			switch ev.Status {
			case "sent":
				sent++
			case "bounced":
				bounced++
			}
			if !ev.HasSender {
				t.Errorf("line %d: delivery without sender", ev.SourceLine)
			}
			if ev.MessageID == "" && !noMessageID[ev.QueueID] {
				t.Errorf("line %d: delivery without message_id", ev.SourceLine)
			}
			if ev.Size == 0 {
				t.Errorf("line %d: delivery without size", ev.SourceLine)
			}
			if ev.QueueID == "" || ev.Recipient == "" || ev.StatusCode == "" || !ev.HasDelay {
				t.Errorf("line %d: delivery missing queue_id/recipient/status_code/delay: %+v", ev.SourceLine, ev)
			}
		case ev.EventType == schema.TypeReject && ev.QueueID == "":
			noqueue++
			if ev.SrcIP == "" || ev.StatusCode == "" || ev.Reason == "" || !ev.HasSender || ev.Recipient == "" {
				t.Errorf("line %d: NOQUEUE reject missing fields: %+v", ev.SourceLine, ev)
			}
		}
	}
	if sent != wantSent || bounced != wantBounced || noqueue != wantNoqueue {
		t.Errorf("events: %d sent, %d bounced, %d NOQUEUE rejects; want %d, %d, %d",
			sent, bounced, noqueue, wantSent, wantBounced, wantNoqueue)
	}
	// Every message that entered the queue was removed within the log.
	if n := r.Stats[StatFlushedIncomplete]; n != 0 {
		t.Errorf("flushed_incomplete = %d, want 0", n)
	}
}

package exim

import (
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/detect-dev/detect/internal/corpustest"
	"github.com/detect-dev/detect/internal/goldentest"
	"github.com/detect-dev/detect/normalize"
)

// corpusDir returns the Exim corpus or skips the test without it.
func corpusDir(tb testing.TB) string {
	tb.Helper()
	return corpustest.Dir(tb, "exim")
}

// goldenNow pins the clock so that syslog stamps without a known year come
// out the same on every run.
var goldenNow = func() time.Time { return time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC) }

// corpusFile is one corpus log and how to read it.
type corpusFile struct {
	name string // golden file stem
	path string // relative to the exim corpus
	year int    // explicit year for syslog stamps when the provenance tells it
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

// ossecLines takes "log 1 pass = <line>".
func ossecLines(s string) (string, bool) {
	if !strings.HasPrefix(s, "log ") {
		return "", false
	}
	_, v, ok := strings.Cut(s, " = ")
	return v, ok
}

// testsuiteLines skips the framing the Exim test harness writes between the
// logs of a test's client and server: blank lines and "******** SERVER
// ********".
func testsuiteLines(s string) (string, bool) {
	if s == "" || strings.HasPrefix(s, "******** ") {
		return "", false
	}
	return s, true
}

// corpusFiles lists the small corpus files. Every line of them is placed
// (notUnderstood 0 throughout); what each holds:
func corpusFiles() []corpusFile {
	return []corpusFile{
		// 6 lines: authenticator failures (535, set_id=) and one RCPT
		// reject, all events.
		{name: "crowdsec-exim-bf", path: "crowdsec-hub/exim-bf/exim-bf.log", extract: plainLines},
		// 12 lines: RCPT rejects, auth failures, the "temporarily rejected
		// connection" of a ratelimit ACL (events), and one "sender verify
		// fail" note that the following reject repeats (ignored).
		{name: "crowdsec-exim-logs", path: "crowdsec-hub/exim-logs/exim-logs.log", extract: plainLines},
		// 8 lines (the blank one is skipped): the same kinds, with three
		// verify notes (ignored).
		{name: "crowdsec-exim-spam", path: "crowdsec-hub/exim-spam/exim-spam.log", extract: plainLines},
		// The events of exim-logs, syslog-wrapped ("Jun 29 16:04:19 server
		// exim[1234]: ..."); the bare version tells the year.
		{name: "crowdsec-exim-syslog-logs", path: "crowdsec-hub/exim-syslog-logs/exim-logs.log", year: 2022, extract: plainLines},
		// 51 lines: auth failures (also with a "host exim[pid]:" syslog-ng
		// prefix and a journal export), rejects, and the noise fail2ban
		// matches in its aggressive mode: SMTP protocol and
		// synchronization errors, dropped calls, no MAIL, DNS warnings,
		// verify notes (ignored, each in its category).
		{name: "fail2ban-exim", path: "fail2ban/exim", extract: fail2banLines},
		// 8 lines: local_scan and after-DATA rejects, and three sa-exim
		// verdicts (filter events).
		{name: "fail2ban-exim-spam", path: "fail2ban/exim-spam", extract: fail2banLines},
		// 5 lines: two auth failures (events), SMTP connection and lost
		// connection, a dropped call (ignored).
		{name: "ossec-exim", path: "ossec-hids/exim.ini", extract: ossecLines},
	}
}

// run is the harness's account of parsing corpus files.
type run = goldentest.Run

func newRun() *run { return goldentest.NewRun() }

// parseFile runs one file through a fresh parser, the way the scan
// pipeline runs one stream, adding to r.
func parseFile(tb testing.TB, path, rel string, year int, extract func(string) (string, bool), r *run) int {
	tb.Helper()
	return r.Parse(tb, New(normalize.Options{Year: year, Now: goldenNow}), path, rel, extract, StatQueuePeak)
}

func TestGolden(t *testing.T) {
	dir := corpusDir(t)
	for _, cf := range corpusFiles() {
		t.Run(cf.name, func(t *testing.T) {
			r := newRun()
			parseFile(t, filepath.Join(dir, cf.path), cf.path, cf.year, cf.extract, r)
			t.Logf("%s: %d lines, %d understood, %d ignored, %d not understood, %d events",
				cf.path, r.Lines, r.Understood, r.Ignored, r.NotUnderstood, r.Events)
			if r.NotUnderstood != cf.notUnderstood {
				t.Errorf("%d lines not understood, want %d; first ones:\n%s",
					r.NotUnderstood, cf.notUnderstood, strings.Join(r.Samples(), "\n"))
			}
			r.Check(t)
			r.Golden(t, cf.name, nil)
		})
	}
}

// TestGoldenTestsuite runs every expected main log of Exim's own test suite
// (831 files, each through a fresh parser: a file holds the logs of one
// test) and pins the events of all of them in one golden file, with the
// not-understood count of every file in the counts file.
func TestGoldenTestsuite(t *testing.T) {
	dir := corpusDir(t)
	files, err := filepath.Glob(filepath.Join(dir, "exim-testsuite", "test", "log", "*"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatalf("no exim-testsuite logs under %s", dir)
	}
	sort.Strings(files)
	r := newRun()
	byFile := map[string]int{}
	for _, path := range files {
		rel, _ := filepath.Rel(dir, path)
		rel = filepath.ToSlash(rel)
		if n := parseFile(t, path, rel, 0, testsuiteLines, r); n > 0 {
			byFile[filepath.Base(path)] = n
		}
	}
	t.Logf("%d files: %d lines, %d understood, %d ignored, %d not understood, %d events",
		len(files), r.Lines, r.Understood, r.Ignored, r.NotUnderstood, r.Events)
	for _, s := range r.Samples() {
		t.Log(s)
	}
	if r.NotUnderstood != testsuiteNotUnderstood {
		t.Errorf("%d lines not understood, want %d", r.NotUnderstood, testsuiteNotUnderstood)
	}
	r.Check(t)
	// The events of the whole suite are ~3 MB of JSON; stored gzipped.
	r.GoldenAs(t, "exim-testsuite", "exim-testsuite.jsonl.gz",
		map[string]any{"files": len(files), "not_understood_by_file": byFile})
}

// testsuiteNotUnderstood is the number of lines of the test suite's logs
// (16,357 after the harness framing) the parser does not place; per file in
// testdata/golden/exim-testsuite.counts.json. They are not Exim's own log
// messages but what the tests make it write:
//
//   - 336 lines without a timestamp: SMTP and LMTP transcripts of the
//     harness's fake servers ("<<< RCPT TO:<...>", "250 OK") and the value
//     dumps of multi-line logwrite statements;
//   - about 1,980 logwrite dumps of TLS, OCSP, DANE, DKIM, ARC, SPF and
//     DMARC variables ("peer cert subject ...", "cipher ...", "arc_state:
//     <pass>", "signer: test.ex bits: 1024");
//   - about 160 lines of the event_action tests ("event msg:complete");
//   - the rest, some 860, other test-configuration logwrite text: ACL
//     macro and variable dumps ("rcpt for x@y", "$h_from: ...", "at RCPT:
//     >LOOKEDUPDATA<"), expansion and router probes, and a few deliberately
//     broken messages (a crashing local_scan, custom authenticator texts).
const testsuiteNotUnderstood = 3335

// checkGolden compares got with the golden file, or rewrites it with -update.
// A path ending in .gz holds the content gzipped; the comparison is on the
// decompressed text, so a different compressor version changes nothing.

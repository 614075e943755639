package sendmail

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/detect-dev/detect/internal/corpustest"
	"github.com/detect-dev/detect/internal/goldentest"
	"github.com/detect-dev/detect/normalize"
)

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

// run is the harness's account of parsing corpus files.
type run = goldentest.Run

func newRun() *run { return goldentest.NewRun() }

// parseFile runs one file through a fresh parser, the way the scan
// pipeline runs one stream, adding to r.
func parseFile(tb testing.TB, path, rel string, year int, loc *time.Location, extract func(string) (string, bool), r *run) int {
	tb.Helper()
	return r.Parse(tb, New(normalize.Options{Year: year, Now: goldenNow, Location: loc}), path, rel, extract, StatQueuePeak)
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
					r.NotUnderstood, cf.notUnderstood, strings.Join(r.Samples(), "\n"))
			}
			r.Check(t)
			r.Golden(t, cf.name, nil)
		})
	}
}

// checkGolden compares got with the golden file, or rewrites it with -update.
// A path ending in .gz holds the content gzipped; the comparison is on the
// decompressed text, so a different compressor version changes nothing.

package zeek

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/detect-dev/detect/internal/corpustest"
	"github.com/detect-dev/detect/internal/goldentest"
	"github.com/detect-dev/detect/normalize"
)

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

// run is the harness's account of parsing corpus files.
type run = goldentest.Run

func newRun() *run { return goldentest.NewRun() }

// parseFile runs one file through a fresh parser (told the file's path, so
// it finds files.log beside smtp.log), adding to r.
func parseFile(tb testing.TB, path, rel string, extract func(string) (string, bool), r *run) int {
	tb.Helper()
	p := New(normalize.Options{})
	p.BeginFile(path, time.Time{})
	return r.Parse(tb, p, path, rel, extract)
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

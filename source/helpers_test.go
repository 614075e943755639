package source

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
)

func gzipBytes(t testing.TB, text string) []byte {
	t.Helper()
	var b bytes.Buffer
	w := gzip.NewWriter(&b)
	if _, err := io.WriteString(w, text); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func zstdBytes(t testing.TB, text string) []byte {
	t.Helper()
	w, err := zstd.NewWriter(nil)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	return w.EncodeAll([]byte(text), nil)
}

// fixture returns a file committed under testdata. The bzip2 ones were made
// with the bzip2 command, as the standard library has no bzip2 writer:
//
//	printf '...line 1\n...line 2\n' | bzip2 -9 > mail.log.3.bz2
//	(printf 'first stream\n' | bzip2; printf 'second stream\n' | bzip2) > concat.bz2
//	printf 'xz text\n' | xz > sample.xz
func fixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatalf("fixture: %v", err)
	}
	return b
}

func writeFile(t testing.TB, path string, data []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// scanAll reads every line of r through a Scanner.
func scanAll(t testing.TB, r io.Reader, file string) ([]string, *Scanner) {
	t.Helper()
	sc := NewScanner(r, file)
	var lines []string
	for sc.Scan() {
		l := sc.Line()
		if l.File != file || l.Number != len(lines)+1 {
			t.Fatalf("line %d has origin %s:%d", len(lines)+1, l.File, l.Number)
		}
		lines = append(lines, l.Text)
	}
	return lines, sc
}

// readInput opens and scans in, failing the test on any error.
func readInput(t testing.TB, o *Opener, in Input) []string {
	t.Helper()
	rc, err := o.Open(in)
	if err != nil {
		t.Fatalf("Open(%s): %v", in.Path, err)
	}
	defer rc.Close()
	lines, sc := scanAll(t, rc, in.Path)
	if err := sc.Err(); err != nil {
		t.Fatalf("scan %s: %v", in.Path, err)
	}
	return lines
}

package source

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"testing/iotest"
	"unicode/utf8"
)

func TestScannerLineEndings(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []string
	}{
		{"empty input", "", nil},
		{"one empty line", "\n", []string{""}},
		{"LF", "a\nb\n", []string{"a", "b"}},
		{"CRLF", "a\r\nb\r\n", []string{"a", "b"}},
		{"mixed", "a\r\nb\nc\r\n", []string{"a", "b", "c"}},
		{"last line without newline", "a\nb", []string{"a", "b"}},
		{"last CRLF line without newline keeps no CR", "a\r\nb\r", []string{"a", "b"}},
		{"empty lines kept", "a\n\n\r\nb\n", []string{"a", "", "", "b"}},
		{"CR inside a line is text", "a\rb\r\n", []string{"a\rb"}},
		{"only one CR is the ending", "a\r\r\n", []string{"a\r"}},
		{"lone CR", "\r", []string{""}},
		{"BOM dropped", "\xef\xbb\xbfa\nb\n", []string{"a", "b"}},
		{"BOM only on the first line", "a\n\xef\xbb\xbfb\n", []string{"a", "\xef\xbb\xbfb"}},
		{"BOM alone", "\xef\xbb\xbf", nil},
		{"BOM with CRLF", "\xef\xbb\xbf\r\n", []string{""}},
		{"NUL bytes are text", "a\x00b\n", []string{"a\x00b"}},
	}
	readers := map[string]func(io.Reader) io.Reader{
		"whole":    func(r io.Reader) io.Reader { return r },
		"one byte": iotest.OneByteReader,
		"half":     iotest.HalfReader,
		"data+EOF": iotest.DataErrReader,
	}
	for _, tt := range tests {
		for rname, wrap := range readers {
			t.Run(tt.name+"/"+rname, func(t *testing.T) {
				got, sc := scanAll(t, wrap(strings.NewReader(tt.in)), "f.log")
				if sc.Err() != nil {
					t.Fatal(sc.Err())
				}
				if !slices.Equal(got, tt.want) {
					t.Fatalf("got %q, want %q", got, tt.want)
				}
				if sc.Truncated() != 0 {
					t.Errorf("Truncated() = %d", sc.Truncated())
				}
				if sc.Bytes() != int64(len(tt.in)) || sc.TextBytes() != int64(len(tt.in)) {
					t.Errorf("Bytes() = %d, TextBytes() = %d, want %d", sc.Bytes(), sc.TextBytes(), len(tt.in))
				}
				if sc.Scan() {
					t.Error("Scan returned true after the end")
				}
			})
		}
	}
}

func TestScannerTruncation(t *testing.T) {
	tests := []struct {
		name      string
		max       int
		in        string
		want      []string
		truncated int
	}{
		{"exactly max", 3, "abc\n", []string{"abc"}, 0},
		{"exactly max with CRLF", 3, "abc\r\nd\n", []string{"abc", "d"}, 0},
		{"one over", 3, "abcd\n", []string{"abc"}, 1},
		{"one over with CRLF", 3, "abcd\r\n", []string{"abc"}, 1},
		{"long last line without newline", 3, "abcdefgh", []string{"abc"}, 1},
		{"next lines intact", 4, "0123456789\nok\n0123456789\r\nok", []string{"0123", "ok", "0123", "ok"}, 2},
		{"BOM does not count", 3, "\xef\xbb\xbfabc\n", []string{"abc"}, 0},
		{"BOM line truncated", 3, "\xef\xbb\xbfabcd\n", []string{"abc"}, 1},
		// "é" is 2 bytes, "世" 3: cutting inside them would leave invalid UTF-8.
		{"no split of 2-byte rune", 4, "abcé\n", []string{"abc"}, 1},
		{"no split of 3-byte rune", 5, "ab世界\n", []string{"ab世"}, 1},
		{"rune ending at max kept", 5, "ab世x\n", []string{"ab世"}, 1},
		{"invalid UTF-8 cut at max", 3, "a\xff\xfe\xfd\n", []string{"a\xff\xfe"}, 1},
		{"max 1 with multibyte", 1, "é\n", []string{""}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sc := NewScanner(strings.NewReader(tt.in), "f")
			sc.SetMaxLine(tt.max)
			var got []string
			for sc.Scan() {
				got = append(got, sc.Line().Text)
			}
			if sc.Err() != nil {
				t.Fatal(sc.Err())
			}
			if !slices.Equal(got, tt.want) || sc.Truncated() != tt.truncated {
				t.Fatalf("got %q truncated %d, want %q truncated %d", got, sc.Truncated(), tt.want, tt.truncated)
			}
		})
	}
}

func TestScannerLongLines(t *testing.T) {
	// Lines far longer than bufio's buffer, with the default maximum.
	huge := strings.Repeat("x", 3*DefaultMaxLine+17)
	justFits := strings.Repeat("y", DefaultMaxLine)
	in := "first\n" + huge + "\r\n" + justFits + "\r\n" + strings.Repeat("z", 200_000) + "\nlast"
	got, sc := scanAll(t, strings.NewReader(in), "big.log")
	if sc.Err() != nil {
		t.Fatal(sc.Err())
	}
	want := []string{"first", huge[:DefaultMaxLine], justFits, strings.Repeat("z", 200_000), "last"}
	if len(got) != len(want) {
		t.Fatalf("got %d lines, want %d", len(got), len(want))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("line %d: got %d bytes, want %d", i+1, len(got[i]), len(want[i]))
		}
	}
	if sc.Truncated() != 1 {
		t.Errorf("Truncated() = %d, want 1", sc.Truncated())
	}
	if sc.TextBytes() != int64(len(in)) {
		t.Errorf("TextBytes() = %d, want %d", sc.TextBytes(), len(in))
	}
}

func TestScannerSetMaxLineDefault(t *testing.T) {
	sc := NewScanner(strings.NewReader(""), "f")
	sc.SetMaxLine(0)
	if sc.max != DefaultMaxLine {
		t.Fatalf("max = %d", sc.max)
	}
}

var errDisk = errors.New("disk on fire")

func TestScannerReadErrorNamesFileAndLine(t *testing.T) {
	r := io.MultiReader(strings.NewReader("a\nb\npartial"), iotest.ErrReader(errDisk))
	got, sc := scanAll(t, r, "/var/log/mail.log")
	if !slices.Equal(got, []string{"a", "b"}) {
		t.Fatalf("got %q", got)
	}
	err := sc.Err()
	if !errors.Is(err, errDisk) {
		t.Fatalf("Err() = %v", err)
	}
	if want := "/var/log/mail.log: line 3: disk on fire"; err.Error() != want {
		t.Errorf("Err() = %q, want %q", err, want)
	}
}

func TestScannerFromStdinOpener(t *testing.T) {
	o := Opener{Stdin: strings.NewReader("Jan  1 00:00:00 mx postfix/smtpd[1]: connect\r\nsecond")}
	rc, err := o.Open(Input{Path: Stdin})
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	sc := NewScanner(rc, Stdin)
	var lines []string
	for sc.Scan() {
		l := sc.Line()
		if l.File != "-" {
			t.Errorf("File = %q", l.File)
		}
		lines = append(lines, l.Text)
	}
	if want := []string{"Jan  1 00:00:00 mx postfix/smtpd[1]: connect", "second"}; !slices.Equal(lines, want) {
		t.Fatalf("got %q", lines)
	}
}

// refLines splits data the way Scanner is specified to, without its
// machinery: BOM dropped, "\n" ends a line, one "\r" before it (or at the
// end) belongs to the ending, a final line needs no "\n".
func refLines(data []byte) []string {
	data = bytes.TrimPrefix(data, utf8BOM)
	if len(data) == 0 {
		return nil
	}
	parts := strings.Split(string(data), "\n")
	if parts[len(parts)-1] == "" {
		parts = parts[:len(parts)-1]
	}
	for i, p := range parts {
		parts[i] = strings.TrimSuffix(p, "\r")
	}
	return parts
}

func FuzzScanner(f *testing.F) {
	seeds := []string{
		"", "\n", "\r", "\r\n", "a", "a\n", "a\r\nb", "a\rb\r\r\n",
		"\xef\xbb\xbf", "\xef\xbb\xbfx\r\n", "\xef\xbb",
		"Jan  1 00:00:00 mx postfix/smtpd[1]: connect from x[1.2.3.4]\n",
		"héllo wörld 世界\r\nçava\n", "\xff\xfe\x00\n", strings.Repeat("long line ", 40) + "\n\n",
	}
	for i, s := range seeds {
		f.Add([]byte(s), uint8(i*7))
	}
	f.Fuzz(func(t *testing.T, data []byte, m uint8) {
		max := int(m%64) + 1 // small, so truncation is exercised
		sc := NewScanner(iotest.HalfReader(bytes.NewReader(data)), "fuzz")
		sc.SetMaxLine(max)
		var got []string
		for sc.Scan() {
			l := sc.Line()
			if l.Number != len(got)+1 || l.File != "fuzz" {
				t.Fatalf("origin %s:%d for line %d", l.File, l.Number, len(got)+1)
			}
			got = append(got, l.Text)
		}
		if sc.Err() != nil {
			t.Fatal(sc.Err())
		}
		want := refLines(data)
		if len(got) != len(want) {
			t.Fatalf("%d lines, want %d: %q vs %q", len(got), len(want), got, want)
		}
		truncated := 0
		for i, w := range want {
			g := got[i]
			if len(w) <= max {
				if g != w {
					t.Fatalf("line %d = %q, want %q", i+1, g, w)
				}
				continue
			}
			truncated++
			// Cut to max, less at most the bytes of one split character.
			if !strings.HasPrefix(w, g) || len(g) > max || len(g) < max-utf8.UTFMax+1 {
				t.Fatalf("line %d = %q, not a cut of %q to %d bytes", i+1, g, w, max)
			}
			if utf8.ValidString(w[:max+1]) && !utf8.ValidString(g) {
				t.Fatalf("line %d = %q: cut split a character", i+1, g)
			}
		}
		if sc.Truncated() != truncated {
			t.Fatalf("Truncated() = %d, want %d", sc.Truncated(), truncated)
		}
		if truncated == 0 {
			// Nothing cut: the output is the input modulo line endings.
			norm := strings.ReplaceAll(string(bytes.TrimPrefix(data, utf8BOM)), "\r\n", "\n")
			if strings.HasSuffix(norm, "\n") {
				norm = norm[:len(norm)-1]
			} else {
				norm = strings.TrimSuffix(norm, "\r")
			}
			if joined := strings.Join(got, "\n"); joined != norm {
				t.Fatalf("joined output %q, want %q", joined, norm)
			}
		}
		if sc.Bytes() != int64(len(data)) {
			t.Fatalf("Bytes() = %d, want %d", sc.Bytes(), len(data))
		}
	})
}

// benchLog is ~16 MiB of Postfix-like lines.
func benchLog() []byte {
	line := "Nov 28 05:57:02 mx1 postfix/smtp[24361]: 4XyZ1k2LmNz: to=<alice@example.com>, relay=mx.example.net[192.0.2.10]:25, delay=0.42, delays=0.1/0.01/0.2/0.11, dsn=2.0.0, status=sent (250 2.0.0 OK)\n"
	return bytes.Repeat([]byte(line), (16<<20)/len(line))
}

func BenchmarkScanner(b *testing.B) {
	text := benchLog()
	dir := b.TempDir()
	files := map[string][]byte{
		"plain": text,
		"gzip":  gzipBytes(b, string(text)),
		"zstd":  zstdBytes(b, string(text)),
	}
	for _, name := range []string{"plain", "gzip", "zstd"} {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, files[name], 0o644); err != nil {
			b.Fatal(err)
		}
		b.Run(name, func(b *testing.B) {
			b.SetBytes(int64(len(text)))
			b.ReportAllocs()
			for b.Loop() {
				rc, err := Open(Input{Path: p})
				if err != nil {
					b.Fatal(err)
				}
				sc := NewScanner(rc, p)
				n := 0
				for sc.Scan() {
					n += len(sc.Line().Text)
				}
				if sc.Err() != nil {
					b.Fatal(sc.Err())
				}
				rc.Close()
				if n == 0 {
					b.Fatal("no text")
				}
			}
		})
	}
}

package source

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func numbered(n int, prefix string) string {
	var b strings.Builder
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&b, "%s %06d postfix/smtp[123]: ABCDEF: to=<u%d@example.com>, status=sent\n", prefix, i, i)
	}
	return b.String()
}

func TestOpenDetectsByMagicNotName(t *testing.T) {
	dir := t.TempDir()
	text := "alpha\nbeta\n"
	files := map[string][]byte{
		"gzip-named-plain.1":  gzipBytes(t, text),
		"zstd-named-log.log":  zstdBytes(t, text),
		"bzip2-named-gz.gz":   fixture(t, "concat.bz2"),
		"text-named-gz.gz":    []byte(text),
		"text-named-zst.zst":  []byte(text),
		"gzip-two-members.gz": append(gzipBytes(t, "alpha\n"), gzipBytes(t, "beta\n")...),
		"zstd-two-frames.zst": append(zstdBytes(t, "alpha\n"), zstdBytes(t, "beta\n")...),
		"empty":               nil,
		"empty.gz":            gzipBytes(t, ""),
	}
	want := map[string][]string{
		"bzip2-named-gz.gz": {"first stream", "second stream"},
		"empty":             nil,
		"empty.gz":          nil,
	}
	var o Opener
	for name, data := range files {
		t.Run(name, func(t *testing.T) {
			p := filepath.Join(dir, name)
			writeFile(t, p, data)
			got := readInput(t, &o, Input{Path: p})
			w, ok := want[name]
			if !ok {
				w = []string{"alpha", "beta"}
			}
			if !slices.Equal(got, w) {
				t.Fatalf("got %q, want %q", got, w)
			}
		})
	}
}

func TestOpenUnsupportedFormats(t *testing.T) {
	dir := t.TempDir()

	var zipBuf bytes.Buffer
	zw := zip.NewWriter(&zipBuf)
	f, _ := zw.Create("mail.log")
	io.WriteString(f, "inside zip\n")
	zw.Close()

	var tarBuf bytes.Buffer
	tw := tar.NewWriter(&tarBuf)
	body := "inside tar\n"
	tw.WriteHeader(&tar.Header{Name: "mail.log", Mode: 0o644, Size: int64(len(body))})
	io.WriteString(tw, body)
	tw.Close()

	random := make([]byte, 4096)
	r := rand.New(rand.NewPCG(7, 7))
	for i := range random {
		random[i] = byte(r.Uint32())
	}

	tests := []struct {
		name   string
		data   []byte
		format string
	}{
		{"mail.log.xz", fixture(t, "sample.xz"), "xz"},
		{"mail.log.zip", zipBuf.Bytes(), "zip"},
		{"mail.log.tar", tarBuf.Bytes(), "tar"},
		{"mail.log.tar.gz", gzipBytes(t, tarBuf.String()), "tar archive inside gzip"},
		{"nested.gz.zst", zstdBytes(t, string(gzipBytes(t, "x\n"))), "gzip inside zstd"},
		{"random.bin", random, "binary data"},
		{"random.gz", gzipBytes(t, string(random)), "binary data inside gzip"},
		{"wtmp", append([]byte{7, 0, 0, 0, 0x21, 0x12, 0, 0, 't', 't', 'y', '1'}, bytes.Repeat([]byte{1, 2, 3, 0, 0, 0, 4}, 50)...), "binary data"},
		{"utf16.log", []byte("\xff\xfeh\x00i\x00\n\x00"), "UTF-16"},
		{"x.7z", []byte("7z\xbc\xaf\x27\x1c\x00\x04rest"), "7-zip"},
		{"x.lz4", []byte("\x04\x22\x4d\x18\x64\x40\xa7rest"), "lz4"},
		{"elf", []byte("\x7fELF\x02\x01\x01\x00rest"), "ELF"},
	}
	var o Opener
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := filepath.Join(dir, tt.name)
			writeFile(t, p, tt.data)
			rc, err := o.Open(Input{Path: p})
			if err == nil {
				lines, _ := scanAll(t, rc, p)
				rc.Close()
				t.Fatalf("no error; read %d lines", len(lines))
			}
			if !errors.Is(err, ErrUnsupportedFormat) {
				t.Errorf("error %q is not ErrUnsupportedFormat", err)
			}
			var fe *FormatError
			if !errors.As(err, &fe) || fe.File != p {
				t.Errorf("error %q is not a FormatError for %s", err, p)
			}
			if msg := err.Error(); !strings.Contains(msg, p) || !strings.Contains(msg, tt.format) {
				t.Errorf("error %q should name %s and %q", msg, p, tt.format)
			}
		})
	}
}

func TestOpenTextThatLooksOdd(t *testing.T) {
	// Each of these is text and must not be mistaken for a format.
	tests := map[string]string{
		"copytruncate hole": strings.Repeat("\x00", 5000) + "Jan  1 00:00:00 mx postfix/qmgr[1]: ok\n",
		"latin-1":           "Jan  1 00:00:00 mx postfix/cleanup[1]: header Subject: Gr\xfc\xdfe aus K\xf6ln\n",
		"starts with BZh":   "BZh is not a bzip2 header without its level\n",
		"starts with PK":    "PK is a fine word\n",
		"ansi colors":       "\x1b[31merror\x1b[0m: something\n",
		"short":             "x",
		"utf-8":             "Jan  1 00:00:00 mx postfix/cleanup[1]: Subject: Привет, 世界\n",
	}
	var o Opener
	for name, text := range tests {
		t.Run(name, func(t *testing.T) {
			got := readInput(t, &Opener{Stdin: strings.NewReader(text)}, Input{Path: "-"})
			want := strings.Split(strings.TrimSuffix(text, "\n"), "\n")
			if !slices.Equal(got, want) {
				t.Fatalf("got %q, want %q", got, want)
			}
			// And compressed.
			p := filepath.Join(t.TempDir(), "x.gz")
			writeFile(t, p, gzipBytes(t, text))
			if got := readInput(t, &o, Input{Path: p}); !slices.Equal(got, want) {
				t.Fatalf("gzip: got %q, want %q", got, want)
			}
		})
	}
}

func TestOpenCorruptData(t *testing.T) {
	text := numbered(20000, "Jan  1 00:00:00 mx")
	gz := gzipBytes(t, text)
	zs := zstdBytes(t, text)
	corrupt := func(b []byte) []byte {
		c := slices.Clone(b)
		for i := len(c) / 2; i < len(c)/2+16; i++ {
			c[i] ^= 0x55
		}
		return c
	}
	tests := []struct {
		name  string
		data  []byte
		codec string
	}{
		{"flipped.gz", corrupt(gz), "gzip"},
		{"truncated.gz", gz[:len(gz)/2], "gzip"},
		{"flipped.zst", corrupt(zs), "zstd"},
		{"truncated.zst", zs[:len(zs)/2], "zstd"},
		{"truncated.bz2", fixture(t, "mail.log.3.bz2")[:60], "bzip2"},
		{"bad-header.gz", []byte("\x1f\x8b\x09rest of the data\n"), "gzip"},
	}
	dir := t.TempDir()
	var o Opener
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := filepath.Join(dir, tt.name)
			writeFile(t, p, tt.data)
			rc, err := o.Open(Input{Path: p})
			if err != nil {
				// Only a broken header may fail before the first line.
				if !strings.Contains(err.Error(), p) || !strings.Contains(err.Error(), tt.codec) {
					t.Fatalf("Open error %q should name %s and %s", err, p, tt.codec)
				}
				return
			}
			defer rc.Close()
			lines, sc := scanAll(t, rc, p)
			err = sc.Err()
			if err == nil {
				t.Fatalf("no error after %d lines", len(lines))
			}
			reached := fmt.Sprintf("line %d:", len(lines)+1)
			if msg := err.Error(); !strings.Contains(msg, p) || !strings.Contains(msg, reached) || !strings.Contains(msg, tt.codec) {
				t.Errorf("error %q should name %s, %q and %s", msg, p, reached, tt.codec)
			}
			if sc.Scan() {
				t.Errorf("Scan after an error returned true")
			}
			t.Logf("%v", err)
			// Lines well before the damage are intact. (Not all of them:
			// gzip checks its CRC only at the end of a member, so damaged
			// deflate data can yield lines before the error.)
			want := strings.Split(text, "\n")
			for i, l := range lines[:min(len(lines), 100)] {
				if l != want[i] {
					t.Fatalf("line %d = %q, want %q", i+1, l, want[i])
				}
			}
		})
	}
}

func TestOpenTruncatedGzipIsUnexpectedEOF(t *testing.T) {
	gz := gzipBytes(t, numbered(100, "x"))
	_, sc := scanAll(t, mustOpenStdin(t, gz[:len(gz)-4]), "-")
	if !errors.Is(sc.Err(), io.ErrUnexpectedEOF) {
		t.Fatalf("err = %v, want io.ErrUnexpectedEOF", sc.Err())
	}
}

func mustOpenStdin(t *testing.T, data []byte) io.ReadCloser {
	t.Helper()
	o := Opener{Stdin: bytes.NewReader(data)}
	rc, err := o.Open(Input{Path: "-"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rc.Close() })
	return rc
}

type closeTracker struct {
	io.Reader
	closed bool
}

func (c *closeTracker) Close() error { c.closed = true; return nil }

func TestOpenStdin(t *testing.T) {
	tests := map[string][]byte{
		"plain": []byte("one\r\ntwo\n"),
		"gzip":  gzipBytes(t, "one\ntwo"),
		"zstd":  zstdBytes(t, "one\ntwo\n"),
	}
	for name, data := range tests {
		t.Run(name, func(t *testing.T) {
			stdin := &closeTracker{Reader: bytes.NewReader(data)}
			o := Opener{Stdin: stdin}
			rc, err := o.Open(Input{Path: Stdin})
			if err != nil {
				t.Fatal(err)
			}
			lines, sc := scanAll(t, rc, "-")
			if sc.Err() != nil {
				t.Fatal(sc.Err())
			}
			if want := []string{"one", "two"}; !slices.Equal(lines, want) {
				t.Fatalf("got %q, want %q", lines, want)
			}
			if err := rc.Close(); err != nil {
				t.Fatal(err)
			}
			if stdin.closed {
				t.Error("Close closed stdin")
			}
		})
	}
}

func TestOpenStdinDoesNotWaitForMoreThanItNeeds(t *testing.T) {
	// tail -f | detect scan - : the first line must come through while the
	// writer is still open.
	pr, pw := io.Pipe()
	defer pw.Close()
	got := make(chan string, 1)
	go func() {
		o := Opener{Stdin: pr}
		rc, err := o.Open(Input{Path: "-"})
		if err != nil {
			got <- err.Error()
			return
		}
		sc := NewScanner(rc, "-")
		if sc.Scan() {
			got <- sc.Line().Text
		} else {
			got <- fmt.Sprint("no line: ", sc.Err())
		}
	}()
	if _, err := io.WriteString(pw, "hi\n"); err != nil {
		t.Fatal(err)
	}
	select {
	case l := <-got:
		if l != "hi" {
			t.Fatalf("got %q", l)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Open or Scan blocked waiting for more input")
	}
}

func TestOpenErrors(t *testing.T) {
	dir := t.TempDir()
	missing := filepath.Join(dir, "missing.log")
	_, err := Open(Input{Path: missing})
	if !errors.Is(err, os.ErrNotExist) || !strings.Contains(err.Error(), missing) {
		t.Errorf("missing: %v", err)
	}
	_, err = Open(Input{Path: dir})
	if err == nil || !strings.Contains(err.Error(), dir) {
		t.Errorf("directory: %v", err)
	}
}

func TestBytesProgress(t *testing.T) {
	dir := t.TempDir()
	text := numbered(50000, "Jan  1 00:00:00 mx")
	plain := filepath.Join(dir, "mail.log")
	gz := filepath.Join(dir, "mail.log.1.gz")
	writeFile(t, plain, []byte(text))
	writeFile(t, gz, gzipBytes(t, text))
	ins, err := Expand([]string{plain, gz})
	if err != nil {
		t.Fatal(err)
	}
	for _, in := range ins {
		rc, err := Open(in)
		if err != nil {
			t.Fatal(err)
		}
		sc := NewScanner(rc, in.Path)
		// A progress bar polls from another goroutine; -race checks that.
		stop := make(chan struct{})
		polled := make(chan int64)
		go func() {
			var last int64
			for {
				select {
				case <-stop:
					polled <- last
					return
				default:
					n := sc.Bytes()
					if n < last {
						panic("Bytes went backwards")
					}
					last = n
					_ = sc.TextBytes()
				}
			}
		}()
		n := 0
		for sc.Scan() {
			n++
		}
		close(stop)
		<-polled
		rc.Close()
		if sc.Err() != nil || n != 50000 {
			t.Fatalf("%s: %d lines, err %v", in.Path, n, sc.Err())
		}
		if sc.Bytes() != in.Size {
			t.Errorf("%s: Bytes() = %d at the end, want Size %d", in.Path, sc.Bytes(), in.Size)
		}
		if sc.TextBytes() != int64(len(text)) {
			t.Errorf("%s: TextBytes() = %d, want %d", in.Path, sc.TextBytes(), len(text))
		}
	}
}

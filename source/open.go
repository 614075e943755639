package source

import (
	"bufio"
	"bytes"
	"compress/bzip2"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync/atomic"
	"unicode/utf8"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
)

// ErrUnsupportedFormat is wrapped by every *FormatError, so callers can skip
// such files (for example binary files met while walking /var/log) with
// errors.Is instead of failing the whole run.
var ErrUnsupportedFormat = errors.New("unsupported input format")

// FormatError reports an input that is neither text nor a supported
// compression of text.
type FormatError struct {
	File   string // the input's path, "-" for stdin
	Format string // what the data looks like, e.g. "xz compressed data"
}

func (e *FormatError) Error() string {
	return fmt.Sprintf("%s: cannot read %s (want text, gzip, bzip2 or zstd)", e.File, e.Format)
}

// Unwrap lets errors.Is(err, ErrUnsupportedFormat) match.
func (e *FormatError) Unwrap() error { return ErrUnsupportedFormat }

const (
	bufSize = 64 << 10
	// sniffLen bounds how much of the head the binary heuristic looks at:
	// enough to be representative, small enough to stay in the first read.
	sniffLen = 8 << 10
)

// A signature recognises a format by the bytes at offset. open is nil for
// formats we name but cannot read.
type signature struct {
	offset int
	magic  string
	name   string
	open   func(io.Reader) (io.ReadCloser, error)
}

var signatures = []signature{
	{0, "\x1f\x8b", "gzip", openGzip},
	{0, "BZh", "bzip2", openBzip2},
	{0, "\x28\xb5\x2f\xfd", "zstd", openZstd},
	{0, "\xfd7zXZ\x00", "xz compressed data", nil},
	{0, "\x5d\x00\x00", "lzma compressed data", nil},
	{0, "LZIP\x01", "lzip compressed data", nil},
	{0, "\x04\x22\x4d\x18", "lz4 compressed data", nil},
	{0, "\x02\x21\x4c\x18", "lz4 compressed data", nil},
	{0, "\x1f\x9d", "compress (.Z) data", nil},
	{0, "\xff\x06\x00\x00sNaPpY", "snappy compressed data", nil},
	{0, "PK\x03\x04", "zip archive", nil},
	{0, "PK\x05\x06", "zip archive", nil},
	{0, "PK\x07\x08", "zip archive", nil},
	{0, "7z\xbc\xaf\x27\x1c", "7-zip archive", nil},
	{0, "Rar!\x1a\x07", "rar archive", nil},
	{257, "ustar", "tar archive", nil},
	{0, "LPKSHHRH", "systemd journal (export it with journalctl)", nil},
	{0, "\xd4\xc3\xb2\xa1", "pcap capture", nil},
	{0, "\xa1\xb2\xc3\xd4", "pcap capture", nil},
	{0, "\x0a\x0d\x0d\x0a", "pcapng capture", nil},
	{0, "SQLite format 3\x00", "SQLite database", nil},
	{0, "\x7fELF", "ELF executable", nil},
	{0, "%PDF-", "PDF document", nil},
	{0, "\x89PNG\r\n\x1a\n", "PNG image", nil},
	{0, "\xff\xd8\xff", "JPEG image", nil},
	// Windows tools write UTF-16 with a byte order mark; reading it as
	// bytes would give lines full of NULs.
	{0, "\xff\xfe", "UTF-16 text (convert it to UTF-8)", nil},
	{0, "\xfe\xff", "UTF-16 text (convert it to UTF-8)", nil},
}

func init() {
	// zstd skippable frames (magic 0x184D2A50..5F) may precede the data
	// frames; the decoder handles them.
	for b := byte(0x50); b <= 0x5f; b++ {
		signatures = append(signatures, signature{0, string([]byte{b, 0x2a, 0x4d, 0x18}), "zstd", openZstd})
	}
}

func openGzip(r io.Reader) (io.ReadCloser, error) {
	// Multistream is the default: concatenated members (cat a.gz b.gz)
	// read as one stream, as gunzip does.
	return gzip.NewReader(r)
}

func openBzip2(r io.Reader) (io.ReadCloser, error) {
	return io.NopCloser(bzip2.NewReader(r)), nil
}

func openZstd(r io.Reader) (io.ReadCloser, error) {
	d, err := zstd.NewReader(r)
	if err != nil {
		return nil, err
	}
	// IOReadCloser's Close stops the decoder's goroutines.
	return d.IOReadCloser(), nil
}

// match returns the signature head starts with.
func match(head []byte) (signature, bool) {
	for _, s := range signatures {
		end := s.offset + len(s.magic)
		if len(head) >= end && string(head[s.offset:end]) == s.magic {
			if s.name == "bzip2" && (head[3] < '1' || head[3] > '9') {
				continue // "BZh" alone could start a text line
			}
			return s, true
		}
	}
	return signature{}, false
}

// moreNeeded returns how many head bytes a decision needs, when head is too
// short but could still turn out to be a signature. Sniffing must not wait
// for more input than that, or a slow stdin (tail -f | detect scan -) would
// stall before its first line.
func moreNeeded(head []byte) int {
	need := 0
	for _, s := range signatures {
		end := s.offset + len(s.magic)
		if len(head) >= end+1 || end <= need {
			continue
		}
		if s.offset >= len(head) {
			// A tar header starts with a NUL-padded file name: only wait
			// for the magic at 257 if there is a NUL in sight.
			if bytes.IndexByte(head, 0) < 0 {
				continue
			}
		} else if !strings.HasPrefix(s.magic, string(head[s.offset:min(len(head), end)])) {
			continue
		}
		need = end + 1 // +1: bzip2 checks the byte after its magic
	}
	return need
}

// peekHead returns the first bytes of br without consuming them, waiting for
// the first read and then only as long as a format decision needs.
func peekHead(br *bufio.Reader) ([]byte, error) {
	if _, err := br.Peek(1); err != nil {
		if err == io.EOF {
			return nil, nil
		}
		return nil, err
	}
	for {
		head, _ := br.Peek(min(br.Buffered(), sniffLen))
		need := moreNeeded(head)
		if need <= len(head) {
			return head, nil
		}
		if _, err := br.Peek(need); err != nil {
			if err == io.EOF {
				head, _ = br.Peek(br.Buffered())
				return head, nil
			}
			return nil, err
		}
	}
}

// looksBinary guesses whether head is something other than text, so that a
// binary file (wtmp, an image, encrypted data) gives an error instead of
// thousands of garbage lines. NULs are ignored: a log truncated by
// logrotate's copytruncate while the writer kept its offset starts with a
// run of NULs and is still text. Latin-1 logs have some invalid UTF-8, but
// far below the threshold; random bytes have ~10% control characters and
// mostly invalid UTF-8.
func looksBinary(head []byte) bool {
	var runes, odd int
	for i := 0; i < len(head); {
		r, size := utf8.DecodeRune(head[i:])
		if r == utf8.RuneError && size == 1 && len(head)-i < utf8.UTFMax && !utf8.FullRune(head[i:]) {
			break // a rune cut by the end of the sample
		}
		i += size
		if r == 0 {
			continue
		}
		runes++
		switch {
		case r == utf8.RuneError && size == 1:
			odd++
		case r < 0x20 && r != '\t' && r != '\n' && r != '\r' && r != '\f' && r != '\v' && r != 0x1b:
			odd++
		case r == 0x7f:
			odd++
		}
	}
	return runes > 0 && odd*10 > runes*3
}

// Opener opens inputs. The zero value reads "-" from os.Stdin.
type Opener struct {
	// Stdin is read for the input "-"; nil means os.Stdin. It is not
	// closed by Close.
	Stdin io.Reader
}

// Open opens an input with transparent decompression using os.Stdin for "-".
// See Opener.Open.
func Open(in Input) (io.ReadCloser, error) {
	var o Opener
	return o.Open(in)
}

// Open opens in for reading its text. gzip, bzip2 and zstd data (also on
// stdin) is decompressed; the format is recognised by its magic bytes, not
// by the file name. Other formats (xz, zip, tar, binary data, compressed
// archives) give a *FormatError naming the file.
//
// Errors while decompressing are returned by Read, naming the codec; wrap
// the reader in a Scanner to have them name the file and line as well.
//
// When handed to NewScanner, the returned reader lets Scanner.Bytes report
// progress in stored (compressed) bytes, comparable with Input.Size.
func (o *Opener) Open(in Input) (io.ReadCloser, error) {
	name := in.Path
	var src io.Reader
	var closer io.Closer
	if name == Stdin {
		src = o.Stdin
		if src == nil {
			src = os.Stdin
		}
	} else {
		f, err := os.Open(name)
		if err != nil {
			return nil, pathError(name, err)
		}
		if fi, err := f.Stat(); err == nil && fi.IsDir() {
			f.Close()
			return nil, fmt.Errorf("%s: is a directory (use Expand to list its files)", name)
		}
		src, closer = f, f
	}
	r, err := newReader(name, src, closer)
	if err != nil && closer != nil {
		closer.Close()
	}
	return r, err
}

// reader is what Open returns.
type reader struct {
	br         *bufio.Reader
	counter    *countingReader
	compressed bool
	dec        io.Closer // decompressor, nil for text
	file       io.Closer // nil for stdin
}

func newReader(name string, src io.Reader, file io.Closer) (*reader, error) {
	cr := &countingReader{r: src}
	raw := bufio.NewReaderSize(cr, bufSize)
	head, err := peekHead(raw)
	if err != nil {
		return nil, pathError(name, err)
	}
	sig, ok := match(head)
	if !ok {
		if looksBinary(head) {
			return nil, &FormatError{File: name, Format: "binary data"}
		}
		return &reader{br: raw, counter: cr, file: file}, nil
	}
	if sig.open == nil {
		return nil, &FormatError{File: name, Format: sig.name}
	}
	dec, err := sig.open(raw)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, codecErr(sig.name, err))
	}
	r := &reader{
		br:         bufio.NewReaderSize(&stickyReader{r: dec, codec: sig.name}, bufSize),
		counter:    cr,
		compressed: true,
		dec:        dec,
		file:       file,
	}
	// Look inside too: a .tar.gz would otherwise read as lines of tar
	// headers. A decompression error here is left for Read to report, so
	// that a Scanner names the line (it is sticky, see stickyReader).
	inner, err := peekHead(r.br)
	if err == nil {
		if in, ok := match(inner); ok {
			dec.Close()
			return nil, &FormatError{File: name, Format: fmt.Sprintf("%s inside %s data", in.name, sig.name)}
		}
		if looksBinary(inner) {
			dec.Close()
			return nil, &FormatError{File: name, Format: fmt.Sprintf("binary data inside %s data", sig.name)}
		}
	}
	return r, nil
}

func (r *reader) Read(p []byte) (int, error) { return r.br.Read(p) }

// Close releases the decompressor and closes the file (never stdin).
func (r *reader) Close() error {
	var err error
	if r.dec != nil {
		err = r.dec.Close()
		r.dec = nil
	}
	if r.file != nil {
		if cerr := r.file.Close(); err == nil {
			err = cerr
		}
		r.file = nil
	}
	return err
}

// storedProgress reports bytes read from the stored input, and whether that
// differs from the text read (compressed input).
func (r *reader) storedProgress() (int64, bool) {
	return r.counter.n.Load(), r.compressed
}

// countingReader counts bytes for progress reporting. The count is atomic
// because a progress bar reads it from another goroutine.
type countingReader struct {
	r io.Reader
	n atomic.Int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	return n, err
}

// stickyReader keeps returning the first error of a decompressor. bufio's
// Peek hands an error out once and forgets it; not every decoder repeats its
// errors, and a corrupt stream must not look like a clean end. It also puts
// the codec's name on errors that lack it ("unexpected EOF" alone does not
// say a gzip file was cut short).
type stickyReader struct {
	r     io.Reader
	codec string
	err   error
}

func (s *stickyReader) Read(p []byte) (int, error) {
	if s.err != nil {
		return 0, s.err
	}
	n, err := s.r.Read(p)
	if err != nil {
		if err != io.EOF {
			err = codecErr(s.codec, err)
		}
		s.err = err
	}
	return n, err
}

func codecErr(codec string, err error) error {
	if strings.HasPrefix(err.Error(), codec) {
		return err
	}
	return fmt.Errorf("%s: %w", codec, err)
}

package source

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"sync/atomic"
	"unicode/utf8"

	"github.com/detect-dev/detect/schema"
)

// DefaultMaxLine is the longest line, in bytes, a Scanner returns whole.
// Mail logs have no legitimate lines near it; a longer one is a runaway
// header dump or a binary blob and is cut, not allowed to exhaust memory.
const DefaultMaxLine = 1 << 20

var utf8BOM = []byte{0xef, 0xbb, 0xbf}

// Scanner reads lines with their origin. Unlike bufio.Scanner it never fails
// on a long line: the line is cut to the maximum and counted.
//
// A line ends at "\n"; a "\r" just before it (or at the very end of the input)
// is part of the line ending. The last line need not end with "\n". A UTF-8
// byte order mark at the start of the input is dropped (Windows tools write
// one, and it would hide the first line's first field).
//
// Scanner's methods must be called from one goroutine, except Bytes and
// TextBytes, which may be called concurrently, e.g. by a progress bar.
type Scanner struct {
	br        *bufio.Reader
	file      string
	max       int
	buf       []byte // the current line while it spans several reads
	line      schema.Line
	number    int
	truncated int
	done      bool
	err       error

	consumed int64        // bytes of text read by Scan, owned by Scan
	text     atomic.Int64 // consumed, published for other goroutines
	stored   interface{ storedProgress() (int64, bool) }
}

// NewScanner returns a Scanner reading r, whose lines are attributed to file
// (the input's path, "-" for stdin).
func NewScanner(r io.Reader, file string) *Scanner {
	s := &Scanner{br: bufio.NewReaderSize(r, bufSize), file: file, max: DefaultMaxLine}
	if p, ok := r.(interface{ storedProgress() (int64, bool) }); ok {
		s.stored = p
	}
	return s
}

// SetMaxLine sets the longest line in bytes that Scan returns whole; longer
// lines are cut to at most n bytes (at a UTF-8 character boundary) and
// counted by Truncated. n <= 0 restores DefaultMaxLine. Call it before the
// first Scan.
func (s *Scanner) SetMaxLine(n int) {
	if n <= 0 {
		n = DefaultMaxLine
	}
	s.max = n
}

// Scan advances to the next line, which Line then returns. It returns false
// at the end of the input or on a read error; Err tells them apart.
func (s *Scanner) Scan() bool {
	if s.done {
		return false
	}
	// A line's first piece is usually the whole line: take it straight from
	// bufio's buffer without copying.
	chunk, err := s.br.ReadSlice('\n')
	s.consumed += int64(len(chunk))
	if err == nil {
		body := chunk[:len(chunk)-1]
		s.emit(body, len(body), lastByte(body, 0))
		return true
	}
	// The line spans reads (longer than bufio's buffer), or the input ended
	// or failed. Keep just enough of it: max bytes plus one to see whether a
	// final "\r" belongs to the ending, plus a BOM on the first line.
	limit := s.max + 1
	if s.number == 0 {
		limit += len(utf8BOM)
	}
	s.buf = s.buf[:0]
	n := 0
	var last byte
	for {
		body := chunk
		if err == nil {
			body = chunk[:len(chunk)-1]
		}
		n += len(body)
		last = lastByte(body, last)
		if room := limit - len(s.buf); room > 0 {
			s.buf = append(s.buf, body[:min(room, len(body))]...)
		}
		switch err {
		case nil:
			s.emit(s.buf, n, last)
			return true
		case bufio.ErrBufferFull:
			chunk, err = s.br.ReadSlice('\n')
			s.consumed += int64(len(chunk))
			continue
		case io.EOF:
			s.done = true
			// A BOM alone is an empty file, not one empty line.
			if n == 0 || s.number == 0 && n == len(utf8BOM) && bytes.Equal(s.buf, utf8BOM) {
				s.publish()
				return false
			}
			s.emit(s.buf, n, last) // last line without "\n"
			return true
		default:
			// The partial line is dropped: after a decompression error its
			// bytes are not trustworthy.
			s.done = true
			s.err = fmt.Errorf("%s: line %d: %w", s.file, s.number+1, err)
			s.publish()
			return false
		}
	}
}

func lastByte(b []byte, prev byte) byte {
	if len(b) == 0 {
		return prev
	}
	return b[len(b)-1]
}

// emit makes the current line from b, which holds the first min(n, limit)
// bytes of a line of n bytes (line ending "\n" excluded) whose last byte is
// last.
func (s *Scanner) emit(b []byte, n int, last byte) {
	if s.number == 0 && bytes.HasPrefix(b, utf8BOM) {
		b, n = b[len(utf8BOM):], n-len(utf8BOM)
	}
	if n > 0 && last == '\r' {
		n--
	}
	var text []byte
	if n <= s.max {
		text = b[:n]
	} else {
		text = cutRunes(b, s.max)
		s.truncated++
	}
	s.number++
	s.line = schema.Line{Text: string(text), File: s.file, Number: s.number}
	s.publish()
}

func (s *Scanner) publish() { s.text.Store(s.consumed) }

// cutRunes returns b cut to at most max bytes, backing off so that a
// multi-byte UTF-8 character is not split (a split one would turn into
// U+FFFD downstream). b has more than max bytes.
func cutRunes(b []byte, max int) []byte {
	for i := max - 1; i >= 0 && i >= max-utf8.UTFMax+1; i-- {
		if utf8.RuneStart(b[i]) {
			if !utf8.FullRune(b[i:max]) {
				return b[:i]
			}
			break
		}
	}
	return b[:max]
}

// Line returns the line read by the last successful Scan.
func (s *Scanner) Line() schema.Line { return s.line }

// Err returns the first error other than io.EOF, naming the file and the line
// being read when it occurred.
func (s *Scanner) Err() error { return s.err }

// Truncated returns how many lines so far were longer than the maximum and
// were cut.
func (s *Scanner) Truncated() int { return s.truncated }

// Bytes reports how far the input has been read, for progress reporting.
// For a reader from Open of compressed data it counts stored (compressed)
// bytes read so far, including read-ahead, so it compares with Input.Size;
// otherwise it equals TextBytes.
func (s *Scanner) Bytes() int64 {
	if s.stored != nil {
		if n, compressed := s.stored.storedProgress(); compressed {
			return n
		}
	}
	return s.text.Load()
}

// TextBytes reports the bytes of text (after decompression, line endings
// included) consumed by the lines returned so far.
func (s *Scanner) TextBytes() int64 { return s.text.Load() }

package syslogd

import (
	"bufio"
	"errors"
	"io"
)

// ErrFraming is returned by Deframer.Next for an octet count that cannot be
// a frame (too many digits). The stream cannot be resynchronized after it.
var ErrFraming = errors.New("syslog: bad octet count")

// maxCountDigits bounds an octet count: anything longer is not a frame.
const maxCountDigits = 9

// countLookahead is how many leading digits are examined for a count;
// a longer run of digits is the start of a line.
const countLookahead = 16

// Deframer splits a TCP syslog stream into messages (RFC 6587). Each
// message may use either framing, as senders do switch: octet counting
// ("LEN SP MSG", recognized by digits followed by a space) or
// non-transparent framing (the message ends at LF). Messages are returned
// without their framing and without a trailing CR/LF.
type Deframer struct {
	br        *bufio.Reader
	max       int
	buf       []byte
	truncated int
}

// NewDeframer reads messages from r; messages longer than max bytes are cut
// to max (and counted by Truncated).
func NewDeframer(r io.Reader, max int) *Deframer {
	return &Deframer{br: bufio.NewReaderSize(r, 64<<10), max: max}
}

// Truncated is how many messages were cut to the maximum size.
func (d *Deframer) Truncated() int { return d.truncated }

// Next returns the next message, valid until the following call. It
// returns io.EOF at the end of the stream; a message cut off by the end of
// the stream is returned with io.ErrUnexpectedEOF.
func (d *Deframer) Next() ([]byte, error) {
	for {
		// Blank lines and NUL padding between frames carry nothing.
		c, err := d.br.ReadByte()
		if err != nil {
			return nil, err
		}
		if c == '\n' || c == '\r' || c == 0 || c == ' ' {
			continue
		}
		d.br.UnreadByte()
		if '1' <= c && c <= '9' {
			if n, ok, err := d.count(); err != nil {
				return nil, err
			} else if ok {
				return d.octets(n)
			}
		}
		return d.line()
	}
}

// count reads an octet count and its space, if the stream holds one at
// this point; otherwise it consumes nothing. Digits not followed by a
// space start a line (a bare timestamp); a count longer than
// maxCountDigits is an error. It looks ahead one byte at a time, no
// further than it must: a short message that is the last thing a sender
// wrote before going quiet must not wait for bytes that are not coming.
func (d *Deframer) count() (int, bool, error) {
	n := 0
	head, _ := d.br.Peek(max(1, min(countLookahead, d.br.Buffered())))
	for i := 0; i < countLookahead; i++ {
		if i == len(head) {
			if head, _ = d.br.Peek(i + 1); len(head) <= i {
				return 0, false, nil // the stream ended: a line, which reports it
			}
		}
		switch c := head[i]; {
		case '0' <= c && c <= '9':
			n = n*10 + int(c-'0')
		case c == ' ' && i > maxCountDigits:
			return 0, false, ErrFraming
		case c == ' ':
			d.br.Discard(i + 1)
			return n, true, nil
		default:
			return 0, false, nil
		}
	}
	return 0, false, nil
}

// octets reads a message of n bytes.
func (d *Deframer) octets(n int) ([]byte, error) {
	keep := min(n, d.max)
	if cap(d.buf) < keep {
		d.buf = make([]byte, keep)
	}
	d.buf = d.buf[:keep]
	if got, err := io.ReadFull(d.br, d.buf); err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return trimEnd(d.buf[:got]), io.ErrUnexpectedEOF
		}
		return nil, err
	}
	if n > keep {
		d.truncated++
		if _, err := d.br.Discard(n - keep); err != nil {
			return trimEnd(d.buf), io.ErrUnexpectedEOF
		}
	}
	return trimEnd(d.buf), nil
}

// line reads a message that ends at LF.
func (d *Deframer) line() ([]byte, error) {
	chunk, err := d.br.ReadSlice('\n')
	if err == nil && len(chunk) <= d.max+1 {
		return trimEnd(chunk), nil // the usual case: no copy
	}
	// Longer than bufio's buffer, or the stream ended: keep max bytes
	// plus room for the CR LF that ends the message.
	d.buf = d.buf[:0]
	total := 0
	for {
		total += len(chunk)
		if room := d.max + 2 - len(d.buf); room > 0 {
			d.buf = append(d.buf, chunk[:min(room, len(chunk))]...)
		}
		switch err {
		case nil, io.EOF:
			if err == io.EOF && total == 0 {
				return nil, io.EOF
			}
			msg := trimEnd(d.buf)
			if len(msg) > d.max || total > d.max+2 {
				msg = msg[:min(len(msg), d.max)]
				d.truncated++
			}
			if err == io.EOF {
				return msg, io.ErrUnexpectedEOF
			}
			return msg, nil
		case bufio.ErrBufferFull:
			chunk, err = d.br.ReadSlice('\n')
		default:
			return nil, err
		}
	}
}

// trimEnd drops a trailing LF, CR LF or NUL that a sender put inside the
// frame.
func trimEnd(b []byte) []byte {
	for len(b) > 0 {
		switch b[len(b)-1] {
		case '\n', '\r', 0:
			b = b[:len(b)-1]
			continue
		}
		break
	}
	return b
}

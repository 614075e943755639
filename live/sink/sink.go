// Package sink delivers the alerts of `detect run`: to a writer (stdout),
// to an alert file flushed after every alert and reopened on request (for
// logrotate), and to a webhook with retries, a bounded queue and a
// dead-letter file, so that an alert that cannot be delivered is kept and
// counted, never dropped in silence.
package sink

import (
	"fmt"
	"io"
	"os"
	"sync"

	"github.com/detect-dev/detect/output"
	"github.com/detect-dev/detect/schema"
)

// Sink receives alerts, in order, from one goroutine.
type Sink interface {
	// Name says which sink it is in logs and metrics.
	Name() string
	Write(a *schema.Alert) error
	// Close delivers or sets aside what is pending and releases the sink.
	Close() error
}

// Reopener is a sink that can reopen its file (SIGHUP after logrotate).
type Reopener interface {
	Reopen() error
}

// Settler is a sink that delivers in the background. Mark returns a token
// for everything written so far; Settled reports whether all of it is
// delivered or set aside in a dead-letter file. A checkpoint covers a line
// only once its alerts are settled, so a crash cannot lose them.
type Settler interface {
	Mark() uint64
	Settled(mark uint64) bool
}

// Writer writes JSON lines to w, each alert in one write: stdout and the
// like.
type Writer struct {
	name string
	w    io.Writer
	buf  []byte
}

// NewWriter returns a sink writing to w.
func NewWriter(name string, w io.Writer) *Writer { return &Writer{name: name, w: w} }

func (s *Writer) Name() string { return s.name }

func (s *Writer) Write(a *schema.Alert) error {
	s.buf = append(output.AppendAlertJSON(s.buf[:0], a), '\n')
	_, err := s.w.Write(s.buf)
	return err
}

func (s *Writer) Close() error { return nil }

// File appends JSON lines to a file, one write per alert, so the file is
// current after every alert (tail -f, a log shipper). Reopen opens the path
// again: after logrotate renamed the file, new alerts go to a new one.
type File struct {
	path string
	mu   sync.Mutex
	f    *os.File
	buf  []byte
}

// OpenFile opens (or creates) the alert file at path for appending.
func OpenFile(path string) (*File, error) {
	s := &File{path: path}
	if err := s.Reopen(); err != nil {
		return nil, err
	}
	return s, nil
}

func (s *File) Name() string { return "file" }

func (s *File) Write(a *schema.Alert) error {
	s.buf = append(output.AppendAlertJSON(s.buf[:0], a), '\n')
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, err := s.f.Write(s.buf); err != nil {
		return fmt.Errorf("alerts file: %w", err)
	}
	return nil
}

// Reopen opens the path again and closes the previous file.
func (s *File) Reopen() error {
	f, err := os.OpenFile(s.path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return fmt.Errorf("alerts file: %w", err)
	}
	s.mu.Lock()
	old := s.f
	s.f = f
	s.mu.Unlock()
	if old != nil {
		return old.Close()
	}
	return nil
}

func (s *File) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.f.Close()
}

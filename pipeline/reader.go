package pipeline

import (
	"context"
	"fmt"
	"sync/atomic"

	"github.com/detect-dev/detect/source"
)

// chunk is a run of consecutive lines of one input, handed from the reader
// to the parser. Reading, decompressing and splitting lines (and copying
// each into a string of its own) costs about a third of what parsing a
// Postfix log does; the reader does it on another core, when there is
// one, while the parser works on the previous chunk.
//
// Each line is a string of its own rather than a slice of one string per
// chunk (which would save an allocation per line): events keep substrings
// of their line (schema.Event fields are not copied), and events live on
// in correlation windows, in report aggregates and in parsers' state, so
// one retained event would pin a whole chunk.
type chunk struct {
	input int      // index into Config.Inputs
	first int      // line number of texts[0]
	texts []string // the lines, without line endings
	// bytes and stored are the input's text bytes and stored bytes read
	// up to the end of this chunk (Scanner.TextBytes and Bytes).
	bytes, stored int64
	// last marks the input's final chunk (texts may be empty), which
	// carries the scanner's truncation count and error, or the error of
	// opening the input (then nothing was read).
	last      bool
	truncated int
	err       error
	openErr   error
}

// Chunk limits: a chunk is sent when it holds this many lines or bytes of
// text, whichever comes first. A few chunks in flight keep both goroutines
// busy while bounding the text held to a few megabytes.
const (
	chunkLines    = 2048
	chunkBytes    = 512 << 10
	chunksInQueue = 4
)

// readInputs opens each input in turn and sends its lines to out in
// chunks, closing out when done or when ctx is cancelled. Spent chunks'
// line slices come back through free for reuse. When skip holds an input's
// index plus one, the rest of that input is not read (its format is
// unknown): its last chunk follows at once.
func readInputs(ctx context.Context, cfg *Config, out chan<- *chunk, free <-chan *chunk, skip *atomic.Int64) {
	defer close(out)
	send := func(c *chunk) bool {
		select {
		case out <- c:
			return true
		case <-ctx.Done():
			return false
		}
	}
	next := func(input, first int) *chunk {
		var c *chunk
		select {
		case c = <-free:
			texts := c.texts[:0]
			*c = chunk{texts: texts}
		default:
			c = &chunk{texts: make([]string, 0, chunkLines)}
		}
		c.input, c.first = input, first
		return c
	}
	for i, in := range cfg.Inputs {
		if ctx.Err() != nil {
			return
		}
		rc, err := cfg.Open(in)
		if err != nil {
			c := next(i, 1)
			c.last, c.openErr = true, err
			send(c)
			return
		}
		sc := source.NewScanner(rc, in.Path)
		c := next(i, 1)
		size := 0
		for skip.Load() != int64(i)+1 && sc.Scan() {
			text := sc.Line().Text
			c.texts = append(c.texts, text)
			size += len(text)
			if len(c.texts) == chunkLines || size >= chunkBytes {
				c.bytes, c.stored = sc.TextBytes(), sc.Bytes()
				if !send(c) {
					rc.Close()
					return
				}
				c = next(i, sc.Line().Number+1)
				size = 0
			}
		}
		c.bytes, c.stored = sc.TextBytes(), sc.Bytes()
		c.last, c.truncated = true, sc.Truncated()
		if err := sc.Err(); err != nil {
			c.err = fmt.Errorf("%s: %w", in.Path, err)
		}
		rc.Close()
		if !send(c) || c.err != nil {
			return
		}
	}
}

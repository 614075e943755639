package pipeline

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"sync/atomic"
	"time"

	"github.com/detect-dev/detect/normalize"
	"github.com/detect-dev/detect/schema"
	"github.com/detect-dev/detect/source"
)

// parser is the parsing stage: it takes the reader's chunks in input
// order, picks each input's format, feeds the lines to that format's one
// parser (so a message whose lines straddle a log rotation is stitched
// together), counts every line in st, and sends the events in batches.
type parser struct {
	ctx     context.Context
	cfg     *Config
	st      *Stats
	out     chan<- *batch
	parsers map[string]normalize.Parser

	cur *batch
	seq int
	// emitFn is emit as a func value, made once: a method value made at
	// each call of Parse would be an allocation per line.
	emitFn normalize.Emit

	// The input being read.
	input    int // its index in Config.Inputs
	in       source.Input
	p        normalize.Parser // nil until its format is known
	held     []schema.Line    // lines read while sniffing the format
	auto     bool
	skipping bool // its format is unknown: its remaining lines are dropped
	// skip tells the reader to stop reading an input early: it holds the
	// input's index plus one.
	skip *atomic.Int64

	doneBytes, doneStored int64
	lastProgress          time.Time
}

func newParser(ctx context.Context, cfg *Config, st *Stats, out chan<- *batch, skip *atomic.Int64) *parser {
	ps := &parser{
		ctx: ctx, cfg: cfg, st: st, out: out, skip: skip,
		parsers:      map[string]normalize.Parser{},
		cur:          &batch{events: make([]*schema.Event, 0, batchSize)},
		auto:         cfg.Format == "" || cfg.Format == "auto",
		lastProgress: time.Now(),
	}
	ps.emitFn = ps.emit
	return ps
}

// run consumes the chunks until in is closed or an input fails, returning
// spent chunks through free, then flushes the parsers.
func (ps *parser) run(in <-chan *chunk, free chan<- *chunk) error {
	current := -1
	for c := range in {
		if err := ps.ctx.Err(); err != nil {
			return err
		}
		if c.openErr != nil {
			return c.openErr
		}
		if c.input != current {
			current = c.input
			ps.beginInput(c.input)
		}
		for i, text := range c.texts {
			if err := ps.line(schema.Line{Text: text, File: ps.in.Path, Number: c.first + i}); err != nil {
				return err
			}
		}
		ps.st.Bytes, ps.st.StoredBytes = ps.doneBytes+c.bytes, ps.doneStored+c.stored
		if c.last {
			if err := ps.endInput(c); err != nil {
				return err
			}
		}
		ps.progress()
		select {
		case free <- c:
		default:
		}
	}
	if err := ps.ctx.Err(); err != nil {
		return err
	}
	ps.flushParsers()
	ps.send()
	return nil
}

func (ps *parser) beginInput(i int) {
	ps.st.Files++
	ps.input, ps.in = i, ps.cfg.Inputs[i]
	ps.p, ps.held, ps.skipping = nil, nil, false
}

// line handles one line: blank lines are counted as ignored (they carry
// nothing in any format), lines before the format is known are held back
// and replayed once it is, the rest go to the parser.
func (ps *parser) line(l schema.Line) error {
	if ps.skipping {
		return nil // the reader has been told to stop reading this input
	}
	st := ps.st
	st.Lines++
	if normalize.IsBlank(l.Text) {
		st.Ignored++
		return nil
	}
	if ps.p != nil {
		ps.feed(l)
		return nil
	}
	// With --format auto the parser is chosen by sniffing the first
	// non-blank lines. A file no line of which names a format is skipped
	// and reported at its end, not parsed as garbage by a guessed parser.
	format := ps.cfg.Format
	if ps.auto {
		ps.held = append(ps.held, l)
		if format = normalize.Sniff(l.Text); format == "" {
			if len(ps.held) < sniffLines {
				return nil
			}
			if ps.cfg.DefaultFormat != "" {
				return ps.choose(ps.cfg.DefaultFormat)
			}
			// Not a format we know: the rest of the input is not read,
			// and the input is reported as skipped at its end.
			ps.skipping = true
			ps.skip.Store(int64(ps.input) + 1)
			return nil
		}
	}
	if err := ps.choose(format); err != nil {
		return err
	}
	if !ps.auto {
		ps.feed(l)
	}
	return nil
}

// choose sets the input's parser and replays the lines held back.
func (ps *parser) choose(format string) error {
	p, err := parserFor(ps.cfg, ps.parsers, format, ps.in)
	if err != nil {
		return err
	}
	ps.p = p
	ps.st.Formats[format]++
	for _, l := range ps.held {
		ps.feed(l)
	}
	ps.held = nil
	return nil
}

func (ps *parser) feed(l schema.Line) {
	st := ps.st
	switch ps.p.Parse(l, ps.emitFn) {
	case normalize.Understood:
		st.Understood++
	case normalize.Ignored:
		st.Ignored++
	default:
		st.NotUnderstood++
		if len(st.Samples) < ps.cfg.Samples {
			st.Samples = append(st.Samples, Sample{File: l.File, Line: l.Number, Text: l.Text})
		}
	}
}

// endInput closes the accounts of an input at its last chunk.
func (ps *parser) endInput(c *chunk) error {
	st := ps.st
	if ps.p == nil && len(ps.held) > 0 {
		if ps.cfg.DefaultFormat != "" {
			if err := ps.choose(ps.cfg.DefaultFormat); err != nil {
				return err
			}
		} else {
			st.SkippedLines += int64(len(ps.held))
			st.Skipped = append(st.Skipped, Skipped{File: ps.in.Path, FirstLine: ps.held[0].Text,
				Reason: fmt.Sprintf("no known format in its first %d lines", len(ps.held))})
			ps.held = nil
		}
	}
	st.Truncated += c.truncated
	ps.doneBytes += c.bytes
	ps.doneStored += c.stored
	st.Bytes, st.StoredBytes = ps.doneBytes, ps.doneStored
	return c.err
}

// emit adds an event to the current batch, sending the batch when full.
func (ps *parser) emit(e *schema.Event) {
	ps.cur.events = append(ps.cur.events, e)
	if len(ps.cur.events) >= batchSize {
		ps.send()
	}
}

func (ps *parser) send() {
	if len(ps.cur.events) == 0 {
		return
	}
	ps.cur.seq = ps.seq
	ps.seq++
	select {
	case ps.out <- ps.cur:
	case <-ps.ctx.Done():
	}
	ps.cur = &batch{events: make([]*schema.Event, 0, batchSize)}
}

// progress calls Config.Progress about once a second.
func (ps *parser) progress() {
	if ps.cfg.Progress != nil && time.Since(ps.lastProgress) >= time.Second {
		ps.lastProgress = time.Now()
		ps.cfg.Progress(*ps.st)
	}
}

// flushParsers ends every parser at the end of input, in a stable order,
// and collects their counters.
func (ps *parser) flushParsers() {
	for _, name := range slices.Sorted(maps.Keys(ps.parsers)) {
		p := ps.parsers[name]
		p.Flush(ps.emitFn)
		for k, v := range p.Stats() {
			ps.st.ParserStats[name+"."+k] += v
		}
	}
}

// parserFor returns the run's parser for format, creating it on first use
// and telling file-aware parsers that a new file starts.
func parserFor(cfg *Config, parsers map[string]normalize.Parser, format string, in source.Input) (normalize.Parser, error) {
	p, ok := parsers[format]
	if !ok {
		opts := cfg.Parser
		opts.ModTime = in.ModTime
		var err error
		if p, err = normalize.New(format, opts); err != nil {
			return nil, fmt.Errorf("%s: %w", in.Path, err)
		}
		parsers[format] = p
	}
	if fa, ok := p.(normalize.FileAware); ok {
		fa.BeginFile(in.Path, in.ModTime)
	}
	return p, nil
}

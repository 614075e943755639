// Package pipeline wires source -> normalize -> engine -> output for one run
// over a set of inputs, and accounts for every line it read.
//
// A run is four stages, each on its own goroutine, connected by bounded
// channels: the reader splits the inputs into lines (in chunks of a few
// thousand); the parser feeds them, in order, to one parser per format (so
// a message whose lines straddle a log rotation is still stitched
// together: Postfix stitching is stateful, so parsing stays sequential);
// a pool of workers evaluates the stateless rules on batches of events;
// and the collector puts the batches back in input order, feeds the
// correlation state and calls the callbacks. Output is therefore the same,
// byte for byte, whatever the number of workers.
package pipeline

import (
	"context"
	"errors"
	"io"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/detect-dev/detect/engine"
	"github.com/detect-dev/detect/engine/window"
	"github.com/detect-dev/detect/normalize"
	"github.com/detect-dev/detect/schema"
	"github.com/detect-dev/detect/source"
)

// Config describes one run.
type Config struct {
	// Inputs in reading order (see source.Expand).
	Inputs []source.Input
	// Format of the inputs: a registered name, or "" / "auto" to sniff each
	// input's first line (falling back to DefaultFormat).
	Format string
	// DefaultFormat is used when sniffing cannot tell. When empty, such a
	// file is skipped and listed in Stats.Skipped.
	DefaultFormat string
	// Parser options (year inference, clock). ModTime is set per file.
	Parser normalize.Options
	// Rules to evaluate; nil to only normalize.
	Rules *engine.Ruleset
	// OnEvent, when set, receives every event in input order.
	OnEvent func(*schema.Event) error
	// OnAlert receives every alert in input order.
	OnAlert func(*schema.Alert) error
	// Workers evaluating rules; 0 means GOMAXPROCS.
	Workers int
	// Samples is how many not-understood lines to keep for the summary
	// (default 5).
	Samples int
	// Window tunes the correlation state (lateness, group cap).
	Window window.Options
	// Progress, when set, is called about once a second with the stats so
	// far (from the parsing goroutine; it must not block for long).
	Progress func(Stats)
	// Open opens an input; source.Open when nil (tests inject stdin here).
	Open func(source.Input) (io.ReadCloser, error)
}

// Sample is a line that was not understood, kept so the user can see what
// the parser missed and where.
type Sample struct {
	File string
	Line int
	Text string
}

// Skipped is an input that was not parsed because its format is unknown.
type Skipped struct {
	File      string
	Reason    string
	FirstLine string
}

// sniffLines is how many non-blank lines --format auto reads looking for a
// line that names the format (a mail.log may open with other programs'
// lines) before it gives up on a file.
const sniffLines = 32

// Stats accounts for a run.
type Stats struct {
	Files         int
	Bytes         int64 // text bytes read (after decompression)
	StoredBytes   int64 // bytes read as stored (compressed), comparable with TotalBytes
	TotalBytes    int64 // sum of input sizes on disk, for progress (0 if unknown)
	Lines         int64
	Understood    int64
	Ignored       int64
	NotUnderstood int64
	Truncated     int // over-long lines cut to the scanner's maximum
	Skipped       []Skipped
	SkippedLines  int64 // lines read from skipped files (Lines counts them too)
	Events        int64
	Alerts        int64
	AlertsByRule  map[string]int // rule id -> alerts
	Samples       []Sample
	Formats       map[string]int // files read per format
	ParserStats   map[string]int // parser counters, prefixed by format
	Elapsed       time.Duration
	// Window counts events the correlation windows dropped.
	Window window.Stats
}

// LinesPerSecond is the reading rate of the run.
func (s Stats) LinesPerSecond() float64 {
	if s.Elapsed <= 0 {
		return 0
	}
	return float64(s.Lines) / s.Elapsed.Seconds()
}

// batch is a run of consecutive events and, once evaluated, their alerts.
type batch struct {
	seq    int
	events []*schema.Event
	alerts []*schema.Alert
	// slots[i] are the correlation-referenced rules events[i] matched
	// (only with correlation rules), fed to the state by the collector.
	slots [][]int
}

const batchSize = 256

// Run reads every input and returns the run's stats. It stops at the first
// error from reading an input or from a callback (wrapped with the input's
// name), or when ctx is cancelled.
func Run(ctx context.Context, cfg Config) (Stats, error) {
	start := time.Now()
	st := Stats{AlertsByRule: map[string]int{}, Formats: map[string]int{}, ParserStats: map[string]int{}}
	for _, in := range cfg.Inputs {
		st.TotalBytes += in.Size
	}
	if cfg.Samples == 0 {
		cfg.Samples = 5
	}
	if cfg.Open == nil {
		cfg.Open = source.Open
	}
	workers := cfg.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	toEval := make(chan *batch, workers*2)
	evaluated := make(chan *batch, workers*2)
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for b := range toEval {
				if cfg.Rules != nil {
					add := func(a *schema.Alert) { b.alerts = append(b.alerts, a) }
					if cfg.Rules.Stateful() {
						b.slots = make([][]int, len(b.events))
					}
					for i, e := range b.events {
						if b.slots != nil {
							b.slots[i] = cfg.Rules.EvaluateSlots(e, add, nil)
						} else {
							cfg.Rules.Evaluate(e, add)
						}
					}
				}
				evaluated <- b
			}
		}()
	}
	go func() { wg.Wait(); close(evaluated) }()

	// The collector delivers batches in sequence order. Correlation state
	// is fed here, in input order, so it is the same with any number of
	// workers.
	collectErr := make(chan error, 1)
	var alerts, events int64
	byRule := map[string]int{}
	var state *engine.State
	if cfg.Rules != nil && cfg.Rules.Stateful() {
		state = cfg.Rules.NewState(cfg.Window)
	}
	go func() {
		pending := map[int]*batch{}
		next := 0
		var err error
		for b := range evaluated {
			pending[b.seq] = b
			for {
				cur, ok := pending[next]
				if !ok {
					break
				}
				delete(pending, next)
				next++
				if err != nil {
					continue // drain so the workers can finish
				}
				events += int64(len(cur.events))
				if cfg.OnEvent != nil {
					for _, e := range cur.events {
						if err = cfg.OnEvent(e); err != nil {
							cancel()
							break
						}
					}
				}
				deliver := func(a *schema.Alert) {
					if err != nil {
						return
					}
					alerts++
					byRule[a.RuleID]++
					if cfg.OnAlert != nil {
						if err = cfg.OnAlert(a); err != nil {
							cancel()
						}
					}
				}
				for _, a := range cur.alerts {
					deliver(a)
				}
				if state != nil {
					for i, e := range cur.events {
						state.Observe(e, cur.slots[i], deliver)
					}
				}
			}
		}
		if state != nil && err == nil && ctx.Err() == nil {
			state.Flush(func(a *schema.Alert) {
				if err != nil {
					return
				}
				alerts++
				byRule[a.RuleID]++
				if cfg.OnAlert != nil {
					err = cfg.OnAlert(a)
				}
			})
		}
		collectErr <- err
	}()

	chunks := make(chan *chunk, chunksInQueue)
	free := make(chan *chunk, chunksInQueue+2)
	var skip atomic.Int64
	go readInputs(ctx, &cfg, chunks, free, &skip)
	readErr := newParser(ctx, &cfg, &st, toEval, &skip).run(chunks, free)
	if readErr != nil {
		// Stop the reader, and let it finish before Run returns: it
		// holds an open input.
		cancel()
		for range chunks {
		}
	}
	close(toEval)
	cbErr := <-collectErr

	st.Events, st.Alerts, st.AlertsByRule = events, alerts, byRule
	if state != nil {
		st.Window = state.Stats()
	}
	st.Elapsed = time.Since(start)
	if cbErr != nil {
		return st, cbErr
	}
	if readErr != nil && !errors.Is(readErr, context.Canceled) {
		return st, readErr
	}
	return st, ctx.Err()
}

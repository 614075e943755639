package live

import (
	"sync"
	"time"

	"github.com/detect-dev/detect/engine"
	"github.com/detect-dev/detect/follow"
	"github.com/detect-dev/detect/live/sink"
	"github.com/detect-dev/detect/normalize"
	"github.com/detect-dev/detect/schema"
)

// Batch limits: a batch is whatever has arrived, up to these, so a quiet
// stream is evaluated at once and a busy one in efficient chunks.
const (
	batchEvents = 256
	batchLines  = 1024
)

// batch is a run of consecutive records after parsing.
type batch struct {
	seq    int
	rules  *Loaded // the set every event of the batch is evaluated with
	events []*schema.Event
	alerts []*schema.Alert
	slots  [][]int
	// acks are the follower records the batch completes, in order.
	acks  []follow.Record
	final bool // the last batch: flush the windows after it
}

// process parses on this goroutine, evaluates on a pool of workers and
// collects in order; it returns once the intake is closed and everything
// is delivered.
func (r *Runner) process() error {
	evaluated := make(chan *batch, 2*r.cfg.Workers)
	var wg sync.WaitGroup
	for range r.cfg.Workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for b := range r.toEval {
				evaluate(b)
				evaluated <- b
			}
		}()
	}
	go func() { wg.Wait(); close(evaluated) }()
	collected := make(chan error, 1)
	go func() { collected <- r.collect(evaluated) }()
	r.parse()
	close(r.toEval)
	return <-collected
}

func evaluate(b *batch) {
	rs := b.rules.Rules
	add := func(a *schema.Alert) { b.alerts = append(b.alerts, a) }
	stateful := rs.Stateful()
	if stateful {
		b.slots = make([][]int, len(b.events))
	}
	for i, e := range b.events {
		if stateful {
			b.slots[i] = rs.EvaluateSlots(e, add, nil)
		} else {
			rs.Evaluate(e, add)
		}
	}
}

// stream is the parser state of one input stream.
type stream struct {
	name   string
	parser normalize.Parser
}

// maxStreams bounds the parsers kept for syslog peers; beyond it, peers
// share one.
const maxStreams = 4096

// parse turns records into batches until the intake is closed; then the
// parsers are flushed into a final batch.
func (r *Runner) parse() {
	streams := map[string]*stream{}
	seq := 0
	var cur *batch
	var lines, notUnderstood, ignored, cut int64
	linesBy := map[string]int64{}
	flushCounts := func() {
		for k, v := range linesBy {
			r.m.lines.WithLabelValues(k).Add(float64(v))
			delete(linesBy, k)
		}
		r.m.notUnderstood.Add(float64(notUnderstood))
		r.m.ignored.Add(float64(ignored))
		r.m.truncated.Add(float64(cut))
		lines, notUnderstood, ignored, cut = 0, 0, 0, 0
	}
	send := func() {
		cur.seq = seq
		seq++
		flushCounts()
		r.toEval <- cur
		cur = nil
	}
	emit := func(e *schema.Event) { cur.events = append(cur.events, e) }
	handle := func(rec record) {
		if cur == nil {
			cur = &batch{rules: r.rules.Load()}
		}
		if rec.tracked {
			cur.ack(rec.fol)
		}
		if rec.tracked && rec.fol.Kind != follow.KindLine {
			return
		}
		lines++
		linesBy[rec.input]++
		if rec.cut {
			cut++
		}
		if normalize.IsBlank(rec.text) {
			ignored++
			return
		}
		st := streams[rec.key]
		if st == nil {
			key := rec.key
			if len(streams) >= maxStreams {
				// Not remembered per peer: spoofed UDP sources must not
				// grow the map without bound.
				key = rec.input + " (other peers)"
			}
			if st = streams[key]; st == nil {
				st = &stream{name: key}
				streams[key] = st
			}
		}
		if st.parser == nil {
			format := r.cfg.Format
			if format == "" || format == "auto" {
				// A live stream is sniffed line by line until one names
				// its format; the lines before (other programs' syslog)
				// are counted as ignored.
				if format = normalize.Sniff(rec.text); format == "" {
					ignored++
					return
				}
			}
			p, err := normalize.New(format, r.cfg.Parser)
			if err != nil { // formats were checked in New: a bug
				r.log.Error("parser", "format", format, "err", err)
				ignored++
				return
			}
			st.parser = p
			r.log.Info("stream format", "stream", st.name, "format", format)
		}
		switch st.parser.Parse(schema.Line{Text: rec.text, File: rec.key, Number: rec.num}, emit) {
		case normalize.Ignored:
			ignored++
		case normalize.NotUnderstood:
			notUnderstood++
		}
	}
	for {
		rec, ok := <-r.intake
		if !ok {
			break
		}
		handle(rec)
		// Take what else has arrived, up to the batch limits.
	more:
		for n := 1; n < batchLines && len(cur.events) < batchEvents; n++ {
			select {
			case rec, ok := <-r.intake:
				if !ok {
					break more
				}
				handle(rec)
			default:
				break more
			}
		}
		send()
	}
	// End of input: what the parsers still hold.
	cur = &batch{rules: r.rules.Load(), final: true}
	done := map[*stream]bool{}
	for _, st := range streams {
		if st.parser != nil && !done[st] {
			done[st] = true
			st.parser.Flush(emit)
		}
	}
	send()
}

// ack records a follower record the batch completes; consecutive records
// of one file keep only the last position.
func (b *batch) ack(rec follow.Record) {
	if n := len(b.acks); n > 0 && rec.Kind == follow.KindLine && b.acks[n-1].Kind != follow.KindClose &&
		b.acks[n-1].Pos.ID() == rec.Pos.ID() {
		b.acks[n-1] = rec
		return
	}
	b.acks = append(b.acks, rec)
}

// pendingAck is a batch's follower records waiting for the background
// sinks to settle the alerts written before them.
type pendingAck struct {
	acks  []follow.Record
	marks []uint64
}

// collect delivers batches in order: stateless alerts, then the
// correlation state, sinks, and the checkpoint.
func (r *Runner) collect(evaluated <-chan *batch) error {
	pending := map[int]*batch{}
	next := 0
	var cur *Loaded
	var state *engine.State
	var settlers []sink.Settler
	for _, s := range r.cfg.Sinks {
		if st, ok := s.(sink.Settler); ok {
			settlers = append(settlers, st)
		}
	}
	var waiting []pendingAck
	var positions follow.Positions
	dirty := false
	commit := func() {
		for len(waiting) > 0 {
			w := waiting[0]
			for i, s := range settlers {
				if !s.Settled(w.marks[i]) {
					return
				}
			}
			for _, rec := range w.acks {
				positions.Apply(rec)
			}
			dirty = true
			waiting = waiting[1:]
		}
	}
	writeCheckpoint := func() {
		commit()
		if !dirty || r.cfg.StateFile == "" {
			return
		}
		if err := follow.WriteCheckpoint(r.cfg.StateFile, positions.Checkpoint(r.cfg.Follow)); err != nil {
			r.m.checkpointErrors.Inc()
			r.log.Error("checkpoint", "err", err)
			return
		}
		r.m.checkpointWrites.Inc()
		dirty = false
	}
	// The resumed checkpoint's files need no seeding: the follower reports
	// each again as it opens it (or closes it, when it is gone), and
	// positions of paths no longer followed are dropped.

	deliver := func(a *schema.Alert) {
		r.m.alerts.WithLabelValues(a.RuleID, a.Level).Inc()
		for _, s := range r.cfg.Sinks {
			if err := s.Write(a); err != nil {
				r.m.sinkErrors.WithLabelValues(s.Name()).Inc()
				r.log.Error("sink", "sink", s.Name(), "err", err)
			}
		}
	}
	handle := func(b *batch) {
		if b.rules != cur {
			if cur != nil {
				r.log.Info("rule set swapped", "hash", b.rules.ShortHash())
			}
			state = newState(b.rules.Rules, state, r.cfg.Window)
			cur = b.rules
		}
		r.m.events.Add(float64(len(b.events)))
		for _, a := range b.alerts {
			deliver(a)
		}
		if state != nil {
			for i, e := range b.events {
				state.Observe(e, b.slots[i], deliver)
			}
			if b.final {
				state.Flush(deliver)
			}
		}
		if n := len(b.events); n > 0 && !b.events[n-1].Time.IsZero() {
			r.m.eventLag.Set(time.Since(b.events[n-1].Time).Seconds())
		}
		if len(b.acks) > 0 {
			marks := make([]uint64, len(settlers))
			for i, s := range settlers {
				marks[i] = s.Mark()
			}
			waiting = append(waiting, pendingAck{acks: b.acks, marks: marks})
		}
	}

	tick := time.NewTicker(r.cfg.CheckpointEvery)
	defer tick.Stop()
	for {
		select {
		case b, ok := <-evaluated:
			if !ok {
				return r.finish(writeCheckpoint)
			}
			pending[b.seq] = b
			for {
				b, ok := pending[next]
				if !ok {
					break
				}
				delete(pending, next)
				next++
				handle(b)
			}
		case <-tick.C:
			writeCheckpoint()
		}
	}
}

// finish closes the sinks (the webhook delivers or dead-letters what it
// holds) and writes the last checkpoint, which then covers every line
// read.
func (r *Runner) finish(writeCheckpoint func()) error {
	var firstErr error
	for _, s := range r.cfg.Sinks {
		if err := s.Close(); err != nil {
			r.log.Error("closing sink", "sink", s.Name(), "err", err)
			if firstErr == nil {
				firstErr = err
			}
		}
	}
	writeCheckpoint()
	r.log.Info("stopped")
	return firstErr
}

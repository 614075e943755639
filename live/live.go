// Package live runs detection continuously: the long-running counterpart of
// package pipeline, behind `detect run`.
//
// Lines come from followed files (package follow), syslog listeners
// (package syslogd) and stdin; each stream has its own parser (its format
// given, or sniffed from its first line that names one). Rules are
// evaluated on a worker pool, and results are put back in input order, where
// the correlation windows are fed and the alerts written to the sinks.
//
// Guarantees:
//   - Reload: a new rule set is compiled completely (and, if asked, tested
//     against the rule cases) before it is used; on any error the running
//     set stays. The swap happens between two batches, so every event is
//     evaluated by exactly one set, and the window state of correlation
//     rules whose definition did not change carries over.
//   - Checkpoint: the position of a followed file advances only past lines
//     whose alerts every sink has taken (the webhook: delivered or written
//     to its dead-letter file), so a restart neither loses nor repeats a
//     line. The parsers' cross-line state (a Postfix message's sender, known
//     from an earlier line) and the correlation windows are not
//     checkpointed: a message in flight across a restart loses the fields
//     of its lines before the restart.
//   - Shutdown: inputs stop first, then everything read is evaluated,
//     windows are flushed, sinks drained and the checkpoint written.
package live

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/detect-dev/detect/engine"
	"github.com/detect-dev/detect/engine/window"
	"github.com/detect-dev/detect/follow"
	"github.com/detect-dev/detect/live/sink"
	"github.com/detect-dev/detect/normalize"
	"github.com/detect-dev/detect/schema"
	"github.com/detect-dev/detect/source"
	"github.com/detect-dev/detect/syslogd"
)

// Config describes a run.
type Config struct {
	// Follow are files and globs to follow; FromStart reads the files
	// present at the first start from their beginning.
	Follow    []string
	FromStart bool
	// FollowOptions tune the follower (poll interval, drain time); Paths,
	// FromStart, Resume and Logger are filled in.
	FollowOptions follow.Options
	// StateFile is the checkpoint of the followed files ("" for none),
	// written every CheckpointEvery (default 1s) and at shutdown.
	StateFile       string
	CheckpointEvery time.Duration
	// Syslog are addresses to receive syslog on.
	Syslog        []syslogd.Addr
	SyslogOptions syslogd.Options
	// Stdin, when not nil, is read as one more stream; when it is the only
	// input, its end ends the run.
	Stdin io.Reader
	// Format of every stream: a registered name, or "" / "auto" to sniff
	// each stream's first line that names a format.
	Format string
	Parser normalize.Options
	Window window.Options
	// Rules and whether to reload them when their files change (debounced
	// by Debounce, default 300ms).
	Rules      RuleSource
	WatchRules bool
	Debounce   time.Duration
	Sinks      []sink.Sink
	// HTTPAddr serves /metrics, /healthz, /readyz and POST /-/reload;
	// "" for none.
	HTTPAddr string
	// Workers evaluating rules (default GOMAXPROCS).
	Workers int
	Logger  *slog.Logger
}

// Runner is one run. New prepares it (rules loaded, sockets bound), Run
// runs it.
type Runner struct {
	cfg     Config
	log     *slog.Logger
	m       *metrics
	rules   atomic.Pointer[Loaded]
	lastErr atomic.Pointer[reloadOutcome]

	follower *follow.Follower
	syslog   *syslogd.Server
	httpLn   net.Listener
	resume   *follow.Checkpoint

	reloads       chan chan reloadOutcome
	reloadStopped chan struct{} // closed when reloads are no longer taken
	intake        chan record
	toEval        chan *batch
}

// New loads the rules and binds the listeners, so that every mistake in
// the configuration is an error before anything runs.
func New(cfg Config) (*Runner, error) {
	if len(cfg.Follow) == 0 && len(cfg.Syslog) == 0 && cfg.Stdin == nil {
		return nil, errors.New("no input: give --follow PATH, --syslog ADDR, or --follow - for stdin")
	}
	if cfg.CheckpointEvery <= 0 {
		cfg.CheckpointEvery = time.Second
	}
	if cfg.Debounce <= 0 {
		cfg.Debounce = 300 * time.Millisecond
	}
	if cfg.Workers <= 0 {
		cfg.Workers = runtime.GOMAXPROCS(0)
	}
	if cfg.Format != "" && cfg.Format != "auto" {
		if _, err := normalize.New(cfg.Format, cfg.Parser); err != nil {
			return nil, err
		}
	}
	r := &Runner{
		cfg:           cfg,
		log:           cfg.Logger,
		m:             newMetrics(),
		reloads:       make(chan chan reloadOutcome),
		reloadStopped: make(chan struct{}),
		intake:        make(chan record, 8192),
		toEval:        make(chan *batch, 2*cfg.Workers),
	}
	if r.log == nil {
		r.log = slog.New(slog.DiscardHandler)
	}
	loaded, err := cfg.Rules.Load()
	if err != nil {
		return nil, err
	}
	r.install(loaded, "start")
	r.m.reloadSuccess.Set(1)
	r.m.reloadTimestamp.Set(float64(loaded.At.UnixNano()) / 1e9)

	if len(cfg.Follow) > 0 {
		if cfg.StateFile != "" {
			if r.resume, err = follow.ReadCheckpoint(cfg.StateFile); err != nil {
				return nil, err
			}
			if err := follow.CheckCheckpointPath(cfg.StateFile); err != nil {
				return nil, err
			}
		}
		fo := cfg.FollowOptions
		fo.Paths, fo.FromStart, fo.Resume, fo.Logger = cfg.Follow, cfg.FromStart, r.resume, r.log
		if r.follower, err = follow.New(fo); err != nil {
			return nil, err
		}
	}
	if len(cfg.Syslog) > 0 {
		so := cfg.SyslogOptions
		so.Logger = r.log
		if r.syslog, err = syslogd.Listen(cfg.Syslog, so); err != nil {
			return nil, err
		}
	}
	if cfg.HTTPAddr != "" {
		if r.httpLn, err = net.Listen("tcp", cfg.HTTPAddr); err != nil {
			if r.syslog != nil {
				r.syslog.Serve(canceled(), func(syslogd.Message) {}, func(syslogd.Message) bool { return true })
			}
			return nil, fmt.Errorf("http: %w", err)
		}
	}
	r.registerInputMetrics()
	return r, nil
}

// canceled is a done context, for releasing a server that never ran.
func canceled() context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	return ctx
}

// HTTPAddr is the address the HTTP server listens on ("" without one).
func (r *Runner) HTTPAddr() string {
	if r.httpLn == nil {
		return ""
	}
	return r.httpLn.Addr().String()
}

// SyslogAddrs are the bound syslog addresses, as tcp://host:port.
func (r *Runner) SyslogAddrs() []string {
	if r.syslog == nil {
		return nil
	}
	return r.syslog.Addrs()
}

// Rules is the running rule set.
func (r *Runner) Rules() *Loaded { return r.rules.Load() }

// Ready reports whether the rules are loaded and every followed path that
// is not a glob is open.
func (r *Runner) Ready() bool {
	return r.rules.Load() != nil && (r.follower == nil || r.follower.Ready())
}

// ReopenSinks reopens the sinks that write files (SIGHUP after logrotate).
func (r *Runner) ReopenSinks() {
	for _, s := range r.cfg.Sinks {
		if ro, ok := s.(sink.Reopener); ok {
			if err := ro.Reopen(); err != nil {
				r.log.Error("reopening sink", "sink", s.Name(), "err", err)
			}
		}
	}
}

// record is one line (or a followed file opened or closed) on its way to
// the parsers.
type record struct {
	key   string // the stream: a followed path, syslog peer, "-"
	input string // follow, syslog, stdin: for metrics
	text  string
	num   int
	cut   bool
	// Followed files: the follower's record, applied to the checkpoint
	// once the line is processed.
	fol     follow.Record
	tracked bool
}

// Run runs until ctx is done (or stdin, the only input, ends), then shuts
// down gracefully. It returns an error only when a part of it failed.
func (r *Runner) Run(ctx context.Context) error {
	runCtx, stopRun := context.WithCancel(ctx)
	defer stopRun()

	var srv *http.Server
	if r.httpLn != nil {
		srv = r.httpServer()
		go srv.Serve(r.httpLn)
	}

	// Reloads have their own goroutine, so a slow compile never stalls
	// the stream.
	reloadCtx, stopReload := context.WithCancel(context.Background())
	var reloadWG sync.WaitGroup
	reloadWG.Add(1)
	go func() { defer reloadWG.Done(); r.reloadLoop(reloadCtx) }()

	inputsCtx, stopInputs := context.WithCancel(context.Background())
	var inputs sync.WaitGroup
	var inputErr error
	var inputErrOnce sync.Once
	fail := func(err error) {
		inputErrOnce.Do(func() { inputErr = err })
		stopRun()
	}
	if r.follower != nil {
		inputs.Add(1)
		go func() {
			defer inputs.Done()
			err := r.follower.Run(inputsCtx, func(rec follow.Record) error {
				select {
				case r.intake <- record{key: rec.Pos.Stream, input: "follow", text: rec.Text, num: rec.Pos.Line,
					cut: rec.Truncated, fol: rec, tracked: true}:
					return nil
				case <-inputsCtx.Done():
					return inputsCtx.Err()
				}
			})
			if err != nil && !errors.Is(err, context.Canceled) {
				fail(err)
			}
		}()
	}
	if r.syslog != nil {
		inputs.Add(1)
		go func() {
			defer inputs.Done()
			// TCP waits for room (back-pressure) even while shutting
			// down: what the listener drains is still processed.
			r.syslog.Serve(inputsCtx, func(m syslogd.Message) {
				r.intake <- syslogRecord(m)
			}, func(m syslogd.Message) bool {
				select {
				case r.intake <- syslogRecord(m):
					return true
				default:
					return false
				}
			})
		}()
	}
	if r.cfg.Stdin != nil {
		inputs.Add(1)
		go func() {
			defer inputs.Done()
			if r.readStdin(inputsCtx) && r.follower == nil && r.syslog == nil {
				stopRun() // stdin was everything, and it ended
			}
		}()
	}

	procDone := make(chan error, 1)
	go func() { procDone <- r.process() }()

	<-runCtx.Done()
	r.log.Info("shutting down: inputs stop, then what was read is processed")
	stopInputs()
	inputs.Wait()
	close(r.intake)
	procErr := <-procDone
	stopReload()
	reloadWG.Wait()
	if srv != nil {
		shut, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		srv.Shutdown(shut)
		cancel()
	}
	if inputErr != nil {
		return inputErr
	}
	return procErr
}

func syslogRecord(m syslogd.Message) record {
	return record{key: m.Transport + "://" + m.Peer.String(), input: "syslog", text: m.Text}
}

// readStdin forwards stdin's lines until it ends (true) or ctx is done. A
// read blocked on a terminal cannot be interrupted; the reading goroutine
// is then left behind, which is harmless at shutdown.
func (r *Runner) readStdin(ctx context.Context) bool {
	lines := make(chan schema.Line, 256)
	go func() {
		defer close(lines)
		sc := source.NewScanner(r.cfg.Stdin, "-")
		for sc.Scan() {
			select {
			case lines <- sc.Line():
			case <-ctx.Done():
				return
			}
		}
		if err := sc.Err(); err != nil {
			r.log.Error("stdin", "err", err)
		}
	}()
	for {
		select {
		case l, ok := <-lines:
			if !ok {
				return true
			}
			select {
			case r.intake <- record{key: "-", input: "stdin", text: l.Text, num: l.Number}:
			case <-ctx.Done():
				return false
			}
		case <-ctx.Done():
			return false
		}
	}
}

// install makes loaded the running set and updates the metrics.
func (r *Runner) install(l *Loaded, why string) {
	r.rules.Store(l)
	r.m.rulesLoaded.Set(float64(l.Rules.Len()))
	r.m.rulesHash.Reset()
	r.m.rulesHash.WithLabelValues(l.Hash).Set(1)
	r.log.Info("rules loaded", "why", why, "rules", l.Rules.Len(), "hash", l.ShortHash())
}

// newState continues the window state across a rule-set change (nil when
// the new set has no correlation or windowed rules).
func newState(rs *engine.Ruleset, prev *engine.State, opt window.Options) *engine.State {
	if !rs.Stateful() {
		return nil
	}
	return rs.NewStateFrom(prev, opt)
}

// registerInputMetrics exposes the inputs' own counters.
func (r *Runner) registerInputMetrics() {
	f := factory{r.m.reg}
	f.gaugeFunc("detect_queue_depth_lines", "Lines read and waiting for a parser.", func() float64 { return float64(len(r.intake)) })
	f.gaugeFunc("detect_queue_depth_batches", "Batches waiting for a rule worker.", func() float64 { return float64(len(r.toEval)) })
	if r.follower != nil {
		f.gaugeFunc("detect_follow_lag_bytes", "Bytes in followed files not read yet.", func() float64 { return float64(r.follower.Lag()) })
	}
	if s := r.syslog; s != nil {
		f.counterFunc("detect_syslog_messages_total", "Syslog messages received.", func() float64 { return float64(s.Stats.Messages.Load()) })
		f.counterFunc("detect_syslog_udp_dropped_total", "UDP datagrams dropped because the pipeline had no room.", func() float64 { return float64(s.Stats.UDPDropped.Load()) })
		f.counterFunc("detect_syslog_udp_kernel_dropped_total", "UDP datagrams the kernel dropped for want of socket buffer (Linux).", func() float64 { return float64(s.Stats.KernelDropped.Load()) })
		f.counterFunc("detect_syslog_truncated_total", "Syslog messages cut to the maximum size.", func() float64 { return float64(s.Stats.Truncated.Load()) })
		f.counterFunc("detect_syslog_framing_errors_total", "TCP connections closed on a bad octet count.", func() float64 { return float64(s.Stats.FramingErrors.Load()) })
		f.counterFunc("detect_syslog_refused_total", "TCP connections refused over the connection limit.", func() float64 { return float64(s.Stats.Refused.Load()) })
		f.gaugeFunc("detect_syslog_connections", "Open syslog TCP connections.", func() float64 { return float64(s.Stats.Conns.Load()) })
	}
	for _, s := range r.cfg.Sinks {
		w, ok := s.(*sink.Webhook)
		if !ok {
			continue
		}
		f.gaugeFunc("detect_webhook_queue_depth", "Alerts waiting for webhook delivery.", func() float64 { return float64(w.QueueLen()) })
		f.counterFunc("detect_webhook_sent_total", "Alerts delivered to the webhook.", func() float64 { return float64(w.Stats.Sent.Load()) })
		f.counterFunc("detect_webhook_retries_total", "Webhook attempts that failed and were retried.", func() float64 { return float64(w.Stats.Retries.Load()) })
		f.counterFunc("detect_webhook_dead_letter_total", "Alerts written to the webhook dead-letter file.", func() float64 { return float64(w.Stats.DeadLettered.Load()) })
		f.counterFunc("detect_webhook_lost_total", "Alerts neither delivered nor dead-lettered (logged in full).", func() float64 { return float64(w.Stats.Lost.Load()) })
	}
}

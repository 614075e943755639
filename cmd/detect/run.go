package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/urfave/cli/v2"

	"github.com/detect-dev/detect/live"
	"github.com/detect-dev/detect/live/sink"
	"github.com/detect-dev/detect/normalize"
	"github.com/detect-dev/detect/syslogd"
)

func runCommand(e *env) *cli.Command {
	return &cli.Command{
		Name:  "run",
		Usage: "production mode: follow live logs and syslog, hot-reload rules, alert",
		Description: `Runs until stopped, reading live logs and raising alerts as lines arrive.
SIGTERM or Ctrl-C stops it gracefully: inputs stop, what was read is evaluated,
correlation windows are flushed, outputs drained and the checkpoint written.

Inputs (any number of them):
   --follow PATH      a file or glob, followed across rotation (rename and create,
                      copytruncate); files present at the first start are read from
                      their end unless --from-start; - is stdin
   --syslog ADDR      udp://HOST:PORT, tcp://HOST:PORT, or HOST:PORT for both; a
                      missing host is 127.0.0.1 (say 0.0.0.0 to listen on the network)
   --state FILE       checkpoint of the followed files: a restart resumes where the
                      last run stopped, without losing or repeating a line

Rules (--rules, or the embedded pack) are reloaded when their files change, on
SIGHUP and on POST /-/reload. A set that does not compile (or, with --reload-test,
fails its cases) is rejected with every error at file:line:col, and the running set
stays. SIGHUP also reopens --alerts (for logrotate).

Alerts go to stdout unless --alerts or --webhook is given (--stdout adds it back).
With --http ADDR: /metrics (Prometheus), /healthz, /readyz, POST /-/reload.
Progress and errors are logged to stderr.

Examples:
   # a mail server's log, resumable, alerts to a file, metrics on 127.0.0.1:9464
   detect run --follow /var/log/mail.log --state /var/lib/detect/state.json \
              --alerts /var/log/detect/alerts.jsonl --http :9464
   # syslog from the network, your rules gated by their cases, alerts to a webhook
   detect run --syslog tcp://0.0.0.0:5514 --rules /etc/detect/rules --reload-test \
              --cases /etc/detect/tests/rule_cases --webhook https://hooks.example/alerts
   # every log of a directory, from the start, with your thresholds
   detect run --follow '/var/log/exim4/*log' --from-start --data site.yaml
   # a pipe: the run ends with its input
   tail -F mail.log | detect run --follow -
   # reload now and see why a set was rejected
   curl -X POST http://127.0.0.1:9464/-/reload

Exit status: 0 after a graceful stop (SIGTERM, Ctrl-C, or the end of stdin when it
is the only input); 2 bad usage, rules that do not compile at start, an address in
use or an unreadable checkpoint, or a failure while running (a followed file that
cannot be read, an output that cannot be closed). A rule set rejected by a reload
never stops the run.`,
		Flags: append([]cli.Flag{
			rulesFlag(),
			&cli.StringFlag{Name: "data", Usage: "YAML/JSON `FILE` merged over the Rego rules' data.config"},
			formatFlag,
			&cli.IntFlag{
				Name:        "year",
				Usage:       "`YEAR` of syslog timestamps that carry none (RFC 3164)",
				DefaultText: "the clock's year (or that of the stream's newest RFC 3339 stamp); a stamp more than a day ahead is last year's",
			},
			&cli.StringSliceFlag{Name: "follow", Aliases: []string{"f"}, Usage: "`PATH` or glob to follow (repeatable); - for stdin"},
			&cli.BoolFlag{Name: "from-start", Usage: "read the followed files present at the first start from their beginning, not their end (files that appear later, or after a checkpoint, are always read whole)"},
			&cli.StringFlag{Name: "state", Usage: "checkpoint `FILE` of the followed files (written atomically)"},
			&cli.StringSliceFlag{Name: "syslog", Usage: "syslog listen `ADDR` (repeatable): udp://HOST:PORT, tcp://HOST:PORT or HOST:PORT"},
			&cli.StringFlag{Name: "alerts", Usage: "append alerts to `FILE` (JSON lines, flushed per alert, reopened on SIGHUP)"},
			&cli.BoolFlag{Name: "stdout", Usage: "also print alerts on stdout when --alerts or --webhook is given"},
			&cli.StringFlag{Name: "webhook", Usage: "POST each alert as JSON to `URL` (retries with backoff)"},
			&cli.StringFlag{Name: "webhook-dead-letter", Usage: "`FILE` for alerts the webhook could not take", DefaultText: "detect-dead-letter.jsonl beside --state, else in the working directory"},
			&cli.IntFlag{Name: "webhook-queue", Value: 1000, Usage: "`N` alerts may wait for the webhook; beyond, they go to the dead-letter file"},
			&cli.IntFlag{Name: "webhook-retries", Value: 4, Usage: "`N` retries of a failed POST (backoff from 200ms, doubling, up to 10s) before the alert is dead-lettered"},
			&cli.StringFlag{Name: "http", Usage: "serve /metrics, /healthz, /readyz, POST /-/reload on `ADDR` (a missing host is 127.0.0.1)"},
			&cli.BoolFlag{Name: "reload-test", Usage: "run the rule cases (--cases) on every load; a set that fails them is not used"},
			&cli.StringFlag{Name: "cases", Value: "tests/rule_cases", Usage: "rule case `DIR` for --reload-test"},
			&cli.BoolFlag{Name: "no-watch", Usage: "do not reload when rule files change (SIGHUP and POST /-/reload still do)"},
		}, windowFlags()...),
		Action: func(c *cli.Context) error { return runLive(c, e) },
	}
}

func runLive(c *cli.Context, e *env) error {
	if c.NArg() > 0 {
		return failf(exitUsage, "run takes no arguments (got %q); use --follow PATH", c.Args().Slice())
	}
	if err := checkFormat(c.String("format")); err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(e.stderr, &slog.HandlerOptions{}))
	// Signals are ours before the rules load, which takes seconds with
	// --reload-test: until then, the SIGHUP of logrotate or systemctl
	// reload would kill the process, and SIGTERM would not exit 0. A
	// SIGHUP that arrives meanwhile waits in hup.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	cfg := live.Config{
		FromStart:  c.Bool("from-start"),
		StateFile:  c.String("state"),
		Format:     c.String("format"),
		Parser:     normalize.Options{Year: c.Int("year")},
		Window:     windowOptions(c),
		WatchRules: !c.Bool("no-watch"),
		Logger:     log,
		Rules:      live.RuleSource{Dirs: c.StringSlice("rules")},
	}
	for _, p := range c.StringSlice("follow") {
		if p == "-" {
			cfg.Stdin = e.stdin
			continue
		}
		cfg.Follow = append(cfg.Follow, p)
	}
	if d := c.String("data"); d != "" {
		if _, err := os.Stat(d); err != nil {
			return failf(exitUsage, "--data: %w", err)
		}
		cfg.Rules.DataFiles = []string{d}
	}
	if c.Bool("reload-test") {
		dir := c.String("cases")
		if st, err := os.Stat(dir); err != nil || !st.IsDir() {
			return failf(exitUsage, "--reload-test: no case directory %s (give one with --cases)", dir)
		}
		cfg.Rules.Cases = dir
	}
	for _, a := range c.StringSlice("syslog") {
		addrs, err := syslogd.ParseAddr(a)
		if err != nil {
			return failf(exitUsage, "--syslog: %w", err)
		}
		cfg.Syslog = append(cfg.Syslog, addrs...)
	}
	if a := c.String("http"); a != "" {
		addr, err := loopbackDefault(a)
		if err != nil {
			return failf(exitUsage, "--http: %w", err)
		}
		cfg.HTTPAddr = addr
	}
	sinks, err := runSinks(c, e, log)
	if err != nil {
		return err
	}
	cfg.Sinks = sinks
	closeSinks := func() {
		for _, s := range sinks {
			s.Close()
		}
	}

	log.Info("loading rules")
	r, err := live.New(cfg)
	if err != nil {
		closeSinks()
		if lines := live.ErrorLines(err); len(lines) > 1 || errors.As(err, new(*live.CaseError)) {
			return failf(exitUsage, "rules are not usable (%d error(s)):\n%s", len(lines), strings.Join(lines, "\n"))
		}
		return failf(exitUsage, "%w", err)
	}
	for _, a := range r.SyslogAddrs() {
		log.Info("syslog listening", "addr", a)
	}
	if a := r.HTTPAddr(); a != "" {
		log.Info("http listening", "addr", "http://"+a)
	}

	go func() {
		for {
			select {
			case <-hup:
				r.ReopenSinks()
				r.Reload(ctx)
			case <-ctx.Done():
				return
			}
		}
	}()
	if err := r.Run(ctx); err != nil {
		return failf(exitUsage, "%w", err)
	}
	return nil
}

// runSinks opens the alert outputs the flags ask for.
func runSinks(c *cli.Context, e *env, log *slog.Logger) ([]sink.Sink, error) {
	var sinks []sink.Sink
	if path := c.String("alerts"); path != "" {
		f, err := sink.OpenFile(path)
		if err != nil {
			return nil, failf(exitUsage, "--alerts: %w", err)
		}
		sinks = append(sinks, f)
	}
	if url := c.String("webhook"); url != "" {
		if !strings.HasPrefix(url, "http://") && !strings.HasPrefix(url, "https://") {
			return nil, failf(exitUsage, "--webhook: %q is not an http(s) URL", url)
		}
		dead := c.String("webhook-dead-letter")
		if dead == "" {
			dead = "detect-dead-letter.jsonl"
			if st := c.String("state"); st != "" {
				dead = filepath.Join(filepath.Dir(st), dead)
			}
		}
		w, err := sink.NewWebhook(sink.WebhookOptions{URL: url, DeadLetter: dead, Queue: c.Int("webhook-queue"),
			Attempts: c.Int("webhook-retries") + 1, Logger: log})
		if err != nil {
			for _, s := range sinks {
				s.Close()
			}
			return nil, failf(exitUsage, "--webhook: %w", err)
		}
		sinks = append(sinks, w)
	}
	if len(sinks) == 0 || c.Bool("stdout") {
		sinks = append(sinks, sink.NewWriter("stdout", e.stdout))
	}
	return sinks, nil
}

// loopbackDefault gives an address without a host (":9464", "9464") the
// loopback host, so nothing is exposed to the network by accident.
func loopbackDefault(addr string) (string, error) {
	if !strings.Contains(addr, ":") {
		addr = ":" + addr
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", err
	}
	if port == "" {
		return "", fmt.Errorf("%q has no port", addr)
	}
	if host == "" {
		host = "127.0.0.1"
	}
	return net.JoinHostPort(host, port), nil
}

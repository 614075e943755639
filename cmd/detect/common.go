package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/detect-dev/detect/engine"
	"github.com/detect-dev/detect/normalize"
	"github.com/detect-dev/detect/pipeline"
	"github.com/detect-dev/detect/rules"
	"github.com/detect-dev/detect/source"
)

// Flags shared by the commands that read logs.
var (
	formatFlag = &cli.StringFlag{
		Name:  "format",
		Value: "auto",
		Usage: "input `FORMAT`: auto (sniff each file) or one of " + strings.Join(normalize.Formats(), ", ") +
			" (json: events from detect normalize)",
	}
	yearFlag = &cli.IntFlag{
		Name:        "year",
		Usage:       "`YEAR` of syslog timestamps that carry none",
		DefaultText: "from each file's modification time",
	}
)

// rulesFlag replaces the embedded pack; repeatable.
func rulesFlag() *cli.StringSliceFlag {
	return &cli.StringSliceFlag{
		Name:  "rules",
		Usage: "rule directory (repeatable); replaces the embedded rule pack",
	}
}

// ruleSources returns the rule trees to load: the given directories, or the
// embedded pack when none.
func ruleSources(dirs []string) ([]engine.Source, error) {
	var srcs []engine.Source
	if len(dirs) == 0 {
		srcs = append(srcs, engine.Source{FS: rules.FS(), Display: rules.Display})
	}
	for _, d := range dirs {
		src, err := engine.DirSource(d)
		if err != nil {
			return nil, failf(exitUsage, "%w", err)
		}
		srcs = append(srcs, src)
	}
	return srcs, nil
}

// repoRuleDirs gives the rule directories of the commands that work on a
// rule repository (test, lint, rules list, diff): --rules when given, else
// ./rules when it exists, else none (the embedded pack).
func repoRuleDirs(c *cli.Context) []string {
	if dirs := c.StringSlice("rules"); len(dirs) > 0 {
		return dirs
	}
	if st, err := os.Stat("rules"); err == nil && st.IsDir() {
		return []string{"rules"}
	}
	return nil
}

// loadRules loads the given directories, or the embedded pack when none.
func loadRules(dirs []string) (*engine.Ruleset, error) {
	srcs, err := ruleSources(dirs)
	if err != nil {
		return nil, err
	}
	rs, err := engine.Load(srcs...)
	if err != nil {
		var le *engine.LoadError
		if errors.As(err, &le) {
			return nil, failf(exitUsage, "rules do not compile (%d error(s)):\n%w", len(le.Errors), err)
		}
		return nil, failf(exitUsage, "%w", err)
	}
	if rs.Len() == 0 {
		return nil, failf(exitUsage, "no rules found in %s", strings.Join(dirs, ", "))
	}
	return rs, nil
}

// inputs expands PATH arguments; they are required.
func inputs(c *cli.Context) ([]source.Input, error) {
	if c.NArg() == 0 {
		return nil, failf(exitUsage, "%s needs at least one PATH (a file, directory, glob, or - for stdin)\nsee: detect %s --help", c.Command.Name, c.Command.Name)
	}
	ins, err := source.Expand(c.Args().Slice())
	if err != nil {
		return nil, failf(exitUsage, "%w", err)
	}
	return ins, nil
}

// checkFormat validates --format early, so a typo is a usage error and not a
// failure in the middle of a run.
func checkFormat(f string) error {
	if f == "" || f == "auto" {
		return nil
	}
	for _, known := range normalize.Formats() {
		if f == known {
			return nil
		}
	}
	return failf(exitUsage, "unknown --format %q (known: auto, %s)", f, strings.Join(normalize.Formats(), ", "))
}

// opener returns the pipeline's input opener, with "-" bound to stdin.
func opener(e *env) func(source.Input) (io.ReadCloser, error) {
	o := &source.Opener{Stdin: e.stdin}
	return o.Open
}

// signalContext is cancelled on Ctrl-C, so a long scan stops cleanly with its
// summary instead of dying mid-line.
func signalContext() (context.Context, context.CancelFunc) {
	return signal.NotifyContext(context.Background(), os.Interrupt)
}

// progressPrinter draws a one-line progress report on a terminal.
func progressPrinter(w io.Writer) func(pipeline.Stats) {
	start := time.Now()
	return func(s pipeline.Stats) {
		el := time.Since(start).Seconds()
		msg := fmt.Sprintf("\r%s lines, %s events, %d alerts, %s lines/s",
			human(s.Lines), human(s.Events), s.Alerts, human(int64(float64(s.Lines)/el)))
		if s.TotalBytes > 0 {
			msg += fmt.Sprintf(" (%.0f%% of input)", float64(s.StoredBytes)/float64(s.TotalBytes)*100)
		}
		fmt.Fprint(w, msg+"\x1b[K")
	}
}

func human(n int64) string {
	switch {
	case n >= 10_000_000:
		return fmt.Sprintf("%.0fM", float64(n)/1e6)
	case n >= 1_000_000:
		return fmt.Sprintf("%.1fM", float64(n)/1e6)
	case n >= 10_000:
		return fmt.Sprintf("%.0fk", float64(n)/1e3)
	}
	return fmt.Sprint(n)
}

// runLogged runs the pipeline with the user-facing trimmings every reading
// command shares: Ctrl-C stops cleanly, a progress line on a terminal, the
// summary on stderr, and --strict. finish flushes the command's output.
func runLogged(c *cli.Context, e *env, cfg pipeline.Config, rs *engine.Ruleset, finish func() error) (pipeline.Stats, error) {
	ctx, stop := signalContext()
	defer stop()
	cfg.Open = opener(e)
	showProgress := !c.Bool("quiet") && isTerminal(e.stderr)
	if showProgress {
		cfg.Progress = progressPrinter(e.stderr)
	}
	st, runErr := pipeline.Run(ctx, cfg)
	if showProgress {
		fmt.Fprint(e.stderr, "\r\x1b[K")
	}
	if err := finish(); err != nil && runErr == nil {
		runErr = err
	}
	if !c.Bool("quiet") {
		writeSummary(e.stderr, st, rs)
	}
	if errors.Is(runErr, context.Canceled) {
		// Ctrl-C: the summary above says how far the run got.
		return st, exitError{code: exitInterrupted, err: errors.New("interrupted")}
	}
	if runErr != nil {
		return st, failf(exitUsage, "%w", runErr)
	}
	if c.Bool("strict") && (st.NotUnderstood > 0 || len(st.Skipped) > 0) {
		return st, failf(exitUsage, "--strict: %d line(s) not understood, %d file(s) of unknown format", st.NotUnderstood, len(st.Skipped))
	}
	return st, nil
}

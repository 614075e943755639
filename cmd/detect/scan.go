package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/detect-dev/detect/engine"
	"github.com/detect-dev/detect/normalize"
	"github.com/detect-dev/detect/output"
	"github.com/detect-dev/detect/pipeline"
	"github.com/detect-dev/detect/schema"
)

func scanCommand(e *env) *cli.Command {
	return &cli.Command{
		Name:      "scan",
		Usage:     "run rules over log files and print alerts",
		ArgsUsage: "PATH...",
		Description: `Reads every PATH (files, directories searched recursively, globs, .gz/.bz2/.zst
archives, or - for stdin), normalizes the lines and prints one alert per rule match.
Rotated logs in a directory are read oldest first (mail.log.2.gz, mail.log.1, mail.log),
so a message whose lines straddle a rotation is still stitched together.

Rego rules read their tunables from data.config: the rule tree's data/*.yaml|json,
with --data FILE merged over them (objects merge, other values replace), e.g.
   local_domains: [example.org]
   oversized_attachment: {max_bytes: 1000000}

Alerts go to stdout (JSON lines when piped, a table on a terminal); a summary of
what was read, what was not understood and what fired goes to stderr.

Examples:
   detect scan examples/postfix/mail.log
   detect scan --out-format table /var/log/mail.log*
   detect scan --rules ./rules --fail-on-alert /srv/archive/2026-11/
   detect scan --data my-site.yaml /var/log/mail.log   # your domains and thresholds
   detect normalize mail.log | detect scan --format json -

Exit status: 0 ok, 1 alerts with --fail-on-alert, 2 bad usage, unreadable input
or rules that do not compile.`,
		Flags: append([]cli.Flag{
			rulesFlag(),
			&cli.StringFlag{Name: "data", Usage: "YAML/JSON `FILE` merged over the Rego rules' data.config (thresholds, local and protected domains)"},
			formatFlag,
			yearFlag,
			&cli.BoolFlag{Name: "strict", Usage: "exit 2 when any line is not understood"},
			&cli.BoolFlag{Name: "fail-on-alert", Usage: "exit 1 when any rule fired (for CI and cron)"},
			&cli.StringFlag{Name: "output", Aliases: []string{"o"}, Usage: "write alerts to `FILE` instead of stdout"},
			&cli.StringFlag{Name: "out-format", Usage: "alert format: jsonl, table or csv (default: table on a terminal, else jsonl)"},
			&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "no summary on stderr"},
		}, append(windowFlags(), profileFlags()...)...),
		Action: func(c *cli.Context) error { return scan(c, e) },
	}
}

func scan(c *cli.Context, e *env) error {
	if err := checkFormat(c.String("format")); err != nil {
		return err
	}
	tuneGC()
	stopProfiles, err := startProfiles(c)
	if err != nil {
		return err
	}
	defer func() {
		if perr := stopProfiles(); perr != nil {
			fmt.Fprintln(e.stderr, "detect: warning:", perr)
		}
	}()
	var dataFiles []string
	if d := c.String("data"); d != "" {
		if _, err := os.Stat(d); err != nil {
			return failf(exitUsage, "--data: %w", err)
		}
		dataFiles = append(dataFiles, d)
	}
	rs, err := loadScanRules(c.StringSlice("rules"), dataFiles)
	if err != nil {
		return err
	}
	if len(dataFiles) > 0 && !hasRego(rs) {
		fmt.Fprintln(e.stderr, "detect: warning: --data is for Rego rules, and none are loaded; it has no effect")
	}
	ins, err := inputs(c)
	if err != nil {
		return err
	}

	var out io.Writer = e.stdout
	if path := c.String("output"); path != "" {
		f, err := os.Create(path)
		if err != nil {
			return failf(exitUsage, "%w", err)
		}
		defer f.Close()
		out = f
	}
	format := output.JSONL
	if isTerminal(out) {
		format = output.Table
	}
	if s := c.String("out-format"); s != "" {
		if format, err = output.ParseFormat(s); err != nil {
			return failf(exitUsage, "--out-format: %w", err)
		}
	}
	aw, err := output.NewAlertWriter(out, format)
	if err != nil {
		return failf(exitUsage, "%w", err)
	}

	cfg := pipeline.Config{
		Inputs:  ins,
		Format:  c.String("format"),
		Parser:  normalize.Options{Year: c.Int("year")},
		Rules:   rs,
		Window:  windowOptions(c),
		OnAlert: func(a *schema.Alert) error { return aw.Write(a) },
	}
	st, err := runLogged(c, e, cfg, rs, aw.Close)
	// Rules that blew their time budget were cut short: say so even with
	// --quiet, as their alerts may be missing.
	for _, p := range rs.Problems() {
		fmt.Fprintln(e.stderr, "detect: warning: rego:", p)
	}
	if err != nil {
		return err
	}
	if c.Bool("fail-on-alert") && st.Alerts > 0 {
		return exitError{code: exitFindings}
	}
	return nil
}

// loadScanRules is loadRules with data files merged over the Rego rules'
// data.config (--data).
func loadScanRules(dirs, dataFiles []string) (*engine.Ruleset, error) {
	if len(dataFiles) == 0 {
		return loadRules(dirs)
	}
	srcs, err := ruleSources(dirs)
	if err != nil {
		return nil, err
	}
	rs, err := engine.LoadWith(engine.Options{DataFiles: dataFiles}, srcs...)
	if err != nil {
		var le *engine.LoadError
		if errors.As(err, &le) {
			return nil, failf(exitUsage, "rules or data do not compile (%d error(s)):\n%w", len(le.Errors), err)
		}
		return nil, failf(exitUsage, "%w", err)
	}
	if rs.Len() == 0 {
		return nil, failf(exitUsage, "no rules found in %s", strings.Join(dirs, ", "))
	}
	return rs, nil
}

func hasRego(rs *engine.Ruleset) bool {
	for _, r := range rs.Rules() {
		if r.Engine == engine.EngineRego {
			return true
		}
	}
	return false
}

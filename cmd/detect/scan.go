package main

import (
	"fmt"
	"io"
	"os"

	"github.com/urfave/cli/v2"

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

Alerts go to stdout (JSON lines when piped, a table on a terminal); a summary of
what was read, what was not understood and what fired goes to stderr.

Examples:
   detect scan examples/postfix/mail.log
   detect scan --out-format table /var/log/mail.log*
   detect scan --rules ./rules --fail-on-alert /srv/archive/2026-11/
   detect normalize mail.log | detect scan --format json -

Exit status: 0 ok, 1 alerts with --fail-on-alert, 2 bad usage, unreadable input
or rules that do not compile.`,
		Flags: []cli.Flag{
			rulesFlag(),
			&cli.StringFlag{Name: "data", Usage: "YAML/JSON file merged into Rego rules' data.config (Rego rules are not in this build yet)"},
			formatFlag,
			yearFlag,
			&cli.BoolFlag{Name: "strict", Usage: "exit 2 when any line is not understood"},
			&cli.BoolFlag{Name: "fail-on-alert", Usage: "exit 1 when any rule fired (for CI and cron)"},
			&cli.StringFlag{Name: "output", Aliases: []string{"o"}, Usage: "write alerts to `FILE` instead of stdout"},
			&cli.StringFlag{Name: "out-format", Usage: "alert format: jsonl, table or csv (default: table on a terminal, else jsonl)"},
			&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "no summary on stderr"},
		},
		Action: func(c *cli.Context) error { return scan(c, e) },
	}
}

func scan(c *cli.Context, e *env) error {
	if err := checkFormat(c.String("format")); err != nil {
		return err
	}
	if d := c.String("data"); d != "" {
		if _, err := os.Stat(d); err != nil {
			return failf(exitUsage, "--data: %w", err)
		}
		fmt.Fprintln(e.stderr, "detect: warning: --data is for Rego rules, and none are loaded; it has no effect")
	}
	rs, err := loadRules(c.StringSlice("rules"))
	if err != nil {
		return err
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
		OnAlert: func(a *schema.Alert) error { return aw.Write(a) },
	}
	st, err := runLogged(c, e, cfg, rs, aw.Close)
	if err != nil {
		return err
	}
	if c.Bool("fail-on-alert") && st.Alerts > 0 {
		return exitError{code: exitFindings}
	}
	return nil
}

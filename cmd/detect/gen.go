package main

import (
	"os"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/detect-dev/detect/bench/postfixgen"
)

func genCommand(e *env) *cli.Command {
	return &cli.Command{
		Name:  "gen",
		Usage: "write a synthetic Postfix log (for benchmarks and tests)",
		Description: `Writes a realistic, seeded Postfix log to stdout (or -o FILE): several hosts,
interleaved queue ids, Zipf-distributed senders and recipients, a content filter,
deferrals retried on Postfix's back-off schedule, bounces with their notifications,
NOQUEUE rejects, SASL failures and header_checks subject and attachment lines. The
same flags give the same bytes. The true counts of what was written go to stderr.

--plant-burst adds attacks the stateful rules should catch: one compromised account
sending --burst-messages messages within 5 minutes and one client failing SASL
logins --burst-failures times within 90 seconds, in the middle of the log.

Examples:
   detect gen --lines 100000 > mail.log
   detect gen --lines 2270000 --seed 7 -o /tmp/mail.log
   detect gen --lines 50000 --days 1 --plant-burst | detect scan -`,
		Flags: []cli.Flag{
			&cli.IntFlag{Name: "lines", Value: 2_270_000, Usage: "about how many lines to write"},
			&cli.Uint64Flag{Name: "seed", Value: 1, Usage: "random seed"},
			&cli.TimestampFlag{Name: "start", Layout: time.RFC3339, Usage: "`TIME` of the first line (RFC 3339)", DefaultText: "2026-11-23T00:00:00Z"},
			&cli.Float64Flag{Name: "days", Value: 7, Usage: "days the log spans"},
			&cli.IntFlag{Name: "hosts", Value: 3, Usage: "mail servers writing to the log"},
			&cli.BoolFlag{Name: "plant-burst", Usage: "plant a sender burst and a SASL brute force"},
			&cli.IntFlag{Name: "burst-messages", Value: postfixgen.DefaultPlant.SenderBurst, Usage: "messages of the planted sender burst (with --plant-burst; 0: none)"},
			&cli.IntFlag{Name: "burst-failures", Value: postfixgen.DefaultPlant.SASLFailures, Usage: "failed logins of the planted brute force (with --plant-burst; 0: none)"},
			&cli.StringFlag{Name: "output", Aliases: []string{"o"}, Usage: "write the log to `FILE` instead of stdout (- is stdout)"},
		},
		Action: func(c *cli.Context) error {
			if c.NArg() > 0 {
				return failf(exitUsage, "gen takes no arguments (got %q)", c.Args().First())
			}
			cfg := postfixgen.Config{
				Lines: c.Int("lines"),
				Seed:  c.Uint64("seed"),
				Span:  time.Duration(c.Float64("days") * float64(24*time.Hour)),
				Hosts: c.Int("hosts"),
			}
			if t := c.Timestamp("start"); t != nil {
				cfg.Start = t.UTC()
			}
			if cfg.Lines <= 0 || cfg.Span <= 0 || cfg.Hosts <= 0 {
				return failf(exitUsage, "--lines, --days and --hosts must be positive")
			}
			if c.Bool("plant-burst") {
				cfg.Plant = postfixgen.Plant{SenderBurst: c.Int("burst-messages"), SASLFailures: c.Int("burst-failures")}
			}
			out := e.stdout
			var f *os.File
			if path := c.String("output"); path != "" && path != "-" {
				var err error
				if f, err = os.Create(path); err != nil {
					return failf(exitUsage, "%w", err)
				}
				out = f
			}
			counts, err := postfixgen.Generate(out, cfg)
			if f != nil {
				if cerr := f.Close(); err == nil {
					err = cerr
				}
			}
			if err != nil {
				return failf(exitUsage, "gen: %w", err)
			}
			_, err = counts.WriteTo(e.stderr)
			return err
		},
	}
}

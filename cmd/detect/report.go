package main

import (
	"fmt"
	"os"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/detect-dev/detect/engine"
	"github.com/detect-dev/detect/normalize"
	"github.com/detect-dev/detect/pipeline"
	"github.com/detect-dev/detect/report"
	"github.com/detect-dev/detect/schema"
)

// reportMemoryLimit is the report's soft memory limit. Its live state is
// exact tallies over senders, recipients, client IPs, reasons and queue
// entries, and grows with the input: about 70 MB for the generated 2.27M
// lines with the rule pack, 180 MB for 9M lines over 28 days, whose heap
// then grew to 700 MB at GOGC=200. Scan's 192 MiB would make the collector
// run without pause there (half as much CPU again); this leaves it room.
const reportMemoryLimit = 320 << 20

func reportCommand(e *env) *cli.Command {
	return &cli.Command{
		Name:      "report",
		Usage:     "summarize mail traffic: totals, traffic over time, top lists, problems, security",
		ArgsUsage: "PATH...",
		Description: `The daily summary a mail admin mails to themselves (as pflogsumm and eximstats
print it), for every log format detect reads:

   totals       received, delivered, deferred, bounced, rejected, quarantined with
                percentages; bytes in and out; distinct senders, recipients,
                domains and client IPs
   traffic      per day and per hour, by action and by host
   top          senders, recipients, sending and receiving domains by count and
                by bytes; client IPs by messages and by rejects
   problems     reject reasons and codes, deferrals by destination, bounces by
                relay, warnings
   security     authentication failures by IP and user, relay attempts,
                attachment types, dangerous and oversized attachments, and the
                alerts of the rule pack by rule

Every table is a detect query; --json and --html show the query behind each.
Hand-offs to a content filter on this host (amavis and the like) are not counted
as deliveries; see the README for how the figures compare with pflogsumm's.

The rule pack runs over every event for the alerts of the security section;
--no-rules leaves it out (much faster with Rego rules loaded).

The text report goes to stdout unless --json; --html also writes one
self-contained HTML file with SVG charts (no network access needed to view it).

Examples:
   detect report /var/log/mail.log
   detect report --since 24h --html /tmp/mail.html /var/log/mail.log*
   detect report --json --top 20 --since 2026-11-01 --until 2026-12-01 archive/`,
		Flags: append([]cli.Flag{
			rulesFlag(),
			formatFlag,
			yearFlag,
			&cli.BoolFlag{Name: "json", Usage: "print the report as one JSON object"},
			&cli.StringFlag{Name: "html", Usage: "also write the report as a self-contained HTML `FILE`"},
			&cli.IntFlag{Name: "top", Value: 10, Usage: "rows per top list"},
			&cli.StringFlag{Name: "since", Usage: "leave out events before `TIME` (2026-11-27, 2026-11-27T08:00:00Z, or 24h / 7d ago)"},
			&cli.StringFlag{Name: "until", Usage: "leave out events at or after `TIME` (same forms as --since)"},
			&cli.BoolFlag{Name: "no-rules", Usage: "do not run the rule pack (no alerts section; faster)"},
			&cli.BoolFlag{Name: "strict", Usage: "exit 2 when any line is not understood"},
			&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "no summary on stderr"},
		}, profileFlags()...),
		Action: func(c *cli.Context) error { return runReport(c, e) },
	}
}

func runReport(c *cli.Context, e *env) error {
	if err := checkFormat(c.String("format")); err != nil {
		return err
	}
	if c.Int("top") < 1 {
		return failf(exitUsage, "--top must be at least 1")
	}
	now := time.Now()
	since, err := parseWhen(c.String("since"), now)
	if err != nil {
		return failf(exitUsage, "--since: %w", err)
	}
	until, err := parseWhen(c.String("until"), now)
	if err != nil {
		return failf(exitUsage, "--until: %w", err)
	}
	if !since.IsZero() && !until.IsZero() && !since.Before(until) {
		return failf(exitUsage, "--since %s is not before --until %s", since.Format(time.RFC3339), until.Format(time.RFC3339))
	}
	if c.Bool("no-rules") && len(c.StringSlice("rules")) > 0 {
		return failf(exitUsage, "--no-rules and --rules exclude each other")
	}
	var rs *engine.Ruleset
	if !c.Bool("no-rules") {
		if rs, err = loadRules(c.StringSlice("rules")); err != nil {
			return err
		}
	}
	// The report keeps per-sender, per-recipient and per-message state
	// while a stream of short-lived events goes by: collecting garbage half
	// as often saves about a tenth of the run for a little more memory.
	// That state grows with the input (its top lists are exact), and a
	// heap three times its size is too much for a long input: see
	// reportMemoryLimit.
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(scanGCPercent)
	}
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(reportMemoryLimit)
	}
	ins, err := inputs(c)
	if err != nil {
		return err
	}
	var html *os.File
	if path := c.String("html"); path != "" {
		if html, err = os.Create(path); err != nil {
			return failf(exitUsage, "--html: %w", err)
		}
		defer html.Close()
	}

	// The heap profile is taken once the input is read: the report's
	// state is at its largest then, before Report sums it up.
	stopProfiles, err := startProfiles(c)
	if err != nil {
		return err
	}
	stopProfilesOnce := sync.OnceValue(stopProfiles)
	defer func() {
		if perr := stopProfilesOnce(); perr != nil {
			fmt.Fprintln(e.stderr, "detect: warning:", perr)
		}
	}()
	b := report.New(report.Options{Top: c.Int("top"), Since: since, Until: until, Rules: rs})
	cfg := pipeline.Config{
		Inputs:  ins,
		Format:  c.String("format"),
		Parser:  normalize.Options{Year: c.Int("year")},
		OnEvent: func(ev *schema.Event) error { b.Add(ev); return nil },
		OnAlert: func(a *schema.Alert) error { b.AddAlert(a); return nil },
		Rules:   rs,
	}
	if _, err := runLogged(c, e, cfg, rs, func() error { return nil }); err != nil {
		return err
	}
	if perr := stopProfilesOnce(); perr != nil {
		fmt.Fprintln(e.stderr, "detect: warning:", perr)
	}
	rep := b.Report()
	rep.Generated = now.UTC().Truncate(time.Second)
	if c.Bool("json") {
		err = rep.WriteJSON(e.stdout)
	} else {
		err = rep.WriteText(e.stdout)
	}
	if err != nil {
		return failf(exitUsage, "%w", err)
	}
	if html != nil {
		if err := rep.WriteHTML(html); err != nil {
			return failf(exitUsage, "--html: %w", err)
		}
		if err := html.Close(); err != nil {
			return failf(exitUsage, "--html: %w", err)
		}
	}
	return nil
}

// parseWhen reads a --since/--until value: a date or time (UTC unless it
// carries an offset), or a duration before now (24h, 90m, 7d, 2w).
func parseWhen(s string, now time.Time) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, nil
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02 15:04:05", "2006-01-02T15:04", "2006-01-02 15:04", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	d := strings.TrimPrefix(s, "-")
	unit := time.Duration(0)
	switch {
	case strings.HasSuffix(d, "d"):
		unit = 24 * time.Hour
	case strings.HasSuffix(d, "w"):
		unit = 7 * 24 * time.Hour
	}
	if unit != 0 {
		if n, err := strconv.Atoi(d[:len(d)-1]); err == nil && n > 0 {
			return now.Add(-time.Duration(n) * unit).UTC(), nil
		}
	} else if dur, err := time.ParseDuration(d); err == nil && dur > 0 {
		return now.Add(-dur).UTC(), nil
	}
	return time.Time{}, fmt.Errorf("%q is neither a date (2026-11-27, 2026-11-27T08:00:00Z) nor a duration (24h, 7d)", s)
}

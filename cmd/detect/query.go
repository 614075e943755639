package main

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/detect-dev/detect/normalize"
	"github.com/detect-dev/detect/output"
	"github.com/detect-dev/detect/pipeline"
	"github.com/detect-dev/detect/query"
	"github.com/detect-dev/detect/schema"
	"github.com/detect-dev/detect/source"
)

func queryCommand(e *env) *cli.Command {
	return &cli.Command{
		Name:      "query",
		Usage:     "run a Splunk-style search over log files and print the rows",
		ArgsUsage: "'SEARCH' PATH...",
		Description: `Runs a search in the language of Splunk's SPL over the normalized events of
every PATH (files, directories, globs, .gz/.bz2/.zst, - for stdin):

   detect query 'index=mail sourcetype=smtp | top limit=10 sender' /var/log/mail.log
   detect query 'action=rejected | stats count by src_ip | sort -count | head 5' mail.log*
   detect query 'attachment_type="application/x-msdownload" OR attachment_size > 1000000' mail.log
   detect query --chart 'timechart span=1h count by action' mail.log

Field names are the event schema's (detect normalize shows them) or their CIM,
ECS and seed aliases (src_user, _time, attachment_type ...). Leading index= and
sourcetype= terms are accepted and ignored: the PATHs are the data.

Commands: search, where, top, rare, stats (count dc sum avg min max values latest
earliest, as, by), timechart (span, limit, by; OTHER and NULL series; empty
buckets 0), sort, head, tail, table, fields, rename, dedup.

Rows go to stdout: an aligned table, or with --json one JSON array of objects
keyed by Splunk's column names (count, percent, _time, dc(recipient) ...; [] when
there are no rows), or --csv with a header, or --chart as horizontal bars. A
search error is shown with a caret under its column and exits 2.`,
		Flags: []cli.Flag{
			formatFlag,
			yearFlag,
			&cli.BoolFlag{Name: "json", Usage: "print one JSON array of row objects"},
			&cli.BoolFlag{Name: "csv", Usage: "print CSV with a header line"},
			&cli.BoolFlag{Name: "chart", Usage: "draw the rows as a bar chart (a timechart as stacked bars per bucket)"},
			&cli.BoolFlag{Name: "strict", Usage: "exit 2 when any line is not understood"},
			&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "no summary on stderr"},
		},
		Action: func(c *cli.Context) error { return runQuery(c, e) },
	}
}

// errQueryDone stops reading once the query needs no more events (head).
var errQueryDone = errors.New("query satisfied")

func runQuery(c *cli.Context, e *env) error {
	if err := checkFormat(c.String("format")); err != nil {
		return err
	}
	modes := 0
	for _, f := range []string{"json", "csv", "chart"} {
		if c.Bool(f) {
			modes++
		}
	}
	if modes > 1 {
		return failf(exitUsage, "--json, --csv and --chart exclude each other")
	}
	if c.NArg() == 0 {
		return failf(exitUsage, "query needs a SEARCH and at least one PATH, e.g. detect query '| top sender' mail.log\nsee: detect query --help")
	}
	q, err := query.Parse(c.Args().First())
	if err != nil {
		return failf(exitUsage, "query: %w", err)
	}
	if c.NArg() < 2 {
		return failf(exitUsage, "query needs at least one PATH after the SEARCH (a file, directory, glob, or - for stdin)\nsee: detect query --help")
	}
	ins, err := source.Expand(c.Args().Slice()[1:])
	if err != nil {
		return failf(exitUsage, "%w", err)
	}
	if ign := q.Ignored(); len(ign) > 0 {
		fmt.Fprintf(e.stderr, "detect: note: %s ignored: there is no index, the PATHs are the data\n", strings.Join(ign, " "))
	}

	run := q.Start()
	cfg := pipeline.Config{
		Inputs: ins,
		Format: c.String("format"),
		Parser: normalize.Options{Year: c.Int("year")},
		OnEvent: func(ev *schema.Event) error {
			if !run.Add(ev) {
				return errQueryDone
			}
			return nil
		},
	}
	_, err = runLogged(c, e, cfg, nil, func() error { return nil })
	if err != nil && !errors.Is(err, errQueryDone) {
		return err
	}
	res := run.Result()
	switch {
	case c.Bool("json"):
		err = res.WriteJSON(e.stdout)
	case c.Bool("csv"):
		err = res.WriteCSV(e.stdout)
	case c.Bool("chart"):
		err = res.WriteChart(e.stdout, terminalWidth())
	default:
		header, rows := res.Table()
		if len(header) > 0 {
			err = output.WriteTable(e.stdout, header, rows)
		}
	}
	if err != nil {
		return failf(exitUsage, "%w", err)
	}
	return nil
}

// terminalWidth is $COLUMNS when set, else 100.
func terminalWidth() int {
	if n, err := strconv.Atoi(os.Getenv("COLUMNS")); err == nil && n >= 40 {
		return n
	}
	return 100
}

package main

import (
	"github.com/urfave/cli/v2"

	"github.com/detect-dev/detect/normalize"
	"github.com/detect-dev/detect/output"
	"github.com/detect-dev/detect/pipeline"
	"github.com/detect-dev/detect/schema"
)

func normalizeCommand(e *env) *cli.Command {
	return &cli.Command{
		Name:      "normalize",
		Usage:     "print the normalized events of log files (JSON lines)",
		ArgsUsage: "PATH...",
		Description: `Prints one JSON object a line per event: what rules see. Postfix lines of one
message are stitched by queue id into one delivery event per recipient, carrying
the sender, size, client, message-id, subject and attachments.

The output reads back with --format json, so these are equivalent:
   detect scan mail.log
   detect normalize mail.log | detect scan --format json -

A summary on stderr accounts for every line: understood, ignored as noise
(connects, TLS, postscreen ...), or not understood (with the first samples).`,
		Flags: []cli.Flag{
			formatFlag,
			yearFlag,
			&cli.BoolFlag{Name: "strict", Usage: "exit 2 when any line is not understood"},
			&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "no summary on stderr"},
		},
		Action: func(c *cli.Context) error {
			if err := checkFormat(c.String("format")); err != nil {
				return err
			}
			ins, err := inputs(c)
			if err != nil {
				return err
			}
			ew := output.NewEventWriter(e.stdout)
			cfg := pipeline.Config{
				Inputs:  ins,
				Format:  c.String("format"),
				Parser:  normalize.Options{Year: c.Int("year")},
				OnEvent: func(ev *schema.Event) error { return ew.Write(ev) },
			}
			_, err = runLogged(c, e, cfg, nil, ew.Flush)
			return err
		},
	}
}

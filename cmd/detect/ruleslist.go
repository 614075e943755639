package main

import (
	"encoding/json"
	"fmt"

	"github.com/urfave/cli/v2"

	"github.com/detect-dev/detect/internal/ruledoc"
)

func rulesCommand(e *env) *cli.Command {
	return &cli.Command{
		Name:  "rules",
		Usage: "inspect the rule set",
		Subcommands: []*cli.Command{{
			Name:  "list",
			Usage: "list rules: id, engine, level, title",
			Description: `Lists the rules of ./rules (when it exists) or of the embedded pack, one a line:
lowercase UUID id, engine, level, title (with a header line on a terminal).

--markdown prints the pack's documentation page: every detection with its level,
ATT&CK tags, what it needs from the logs (event types and fields, derived from
what the rule reads), the input formats that can feed it, and its false
positives; then the base rules that only feed correlations. docs/rules.md is
this output: regenerate it with
   ` + ruledoc.RegenerateCommand + `
--json prints the same as one array of objects.

Examples:
   detect rules list
   detect rules list --rules ~/my-rules/rules --markdown`,
			Flags: []cli.Flag{
				rulesFlag(),
				&cli.BoolFlag{Name: "markdown", Usage: "print the documentation page (Markdown)"},
				&cli.BoolFlag{Name: "json", Usage: "print a JSON array"},
			},
			Action: func(c *cli.Context) error {
				if c.Bool("markdown") && c.Bool("json") {
					return failf(exitUsage, "give --markdown or --json, not both")
				}
				dirs := repoRuleDirs(c)
				rs, err := loadRules(dirs)
				if err != nil {
					return err
				}
				if !c.Bool("markdown") && !c.Bool("json") {
					// One rule a line, so that `| wc -l` counts rules and
					// `| grep` keeps whole rules; the header only for eyes.
					line := "%-36s  %-5s  %-13s  %s\n"
					if isTerminal(e.stdout) {
						fmt.Fprintf(e.stdout, line, "ID", "ENGINE", "LEVEL", "TITLE")
					}
					for _, r := range rs.Rules() {
						fmt.Fprintf(e.stdout, line, r.ID, r.Engine, r.Level, r.Title)
					}
					return nil
				}
				srcs, err := ruleSources(dirs)
				if err != nil {
					return err
				}
				docs, err := ruledoc.Describe(srcs, rs)
				if err != nil {
					return failf(exitUsage, "%w", err)
				}
				if c.Bool("markdown") {
					return ruledoc.Markdown(e.stdout, docs)
				}
				return writeRulesJSON(e, docs)
			},
		}},
	}
}

// ruleJSON is one rule of `detect rules list --json`.
type ruleJSON struct {
	ID             string   `json:"id"`
	Engine         string   `json:"engine"`
	Level          string   `json:"level"`
	Title          string   `json:"title"`
	File           string   `json:"file"`
	Tags           []string `json:"tags,omitempty"`
	Base           bool     `json:"base,omitempty"`
	Logic          string   `json:"logic,omitempty"`
	Feeds          []string `json:"feeds,omitempty"`
	EventTypes     []string `json:"event_types,omitempty"`
	Products       []string `json:"products,omitempty"`
	Fields         []string `json:"fields,omitempty"`
	Formats        []string `json:"formats,omitempty"`
	FalsePositives []string `json:"falsepositives,omitempty"`
}

func writeRulesJSON(e *env, docs []ruledoc.Rule) error {
	rows := []ruleJSON{}
	for _, d := range docs {
		rows = append(rows, ruleJSON{
			ID: d.ID, Engine: d.Engine, Level: d.Level, Title: d.Title, File: fmt.Sprintf("%s:%d", d.File, d.Line),
			Tags: d.Tags, Base: d.Base, Logic: d.Logic, Feeds: d.Feeds,
			EventTypes: d.Needs.EventTypes, Products: d.Needs.Products, Fields: d.Needs.Fields,
			Formats: d.Formats, FalsePositives: d.FalsePositives,
		})
	}
	enc := json.NewEncoder(e.stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(rows)
}

package main

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/detect-dev/detect/output"
)

func rulesCommand(e *env) *cli.Command {
	return &cli.Command{
		Name:  "rules",
		Usage: "inspect the rule set",
		Subcommands: []*cli.Command{{
			Name:  "list",
			Usage: "list rules: id, engine, level, title",
			Description: `Lists the rules of ./rules (when it exists) or of the embedded pack, one a line.
--markdown prints a table for a README or a pull request; --json one array of objects.

Examples:
   detect rules list
   detect rules list --rules ~/my-rules/rules --markdown`,
			Flags: []cli.Flag{
				rulesFlag(),
				&cli.BoolFlag{Name: "markdown", Usage: "print a Markdown table"},
				&cli.BoolFlag{Name: "json", Usage: "print a JSON array"},
			},
			Action: func(c *cli.Context) error {
				if c.Bool("markdown") && c.Bool("json") {
					return failf(exitUsage, "give --markdown or --json, not both")
				}
				rs, err := loadRules(repoRuleDirs(c))
				if err != nil {
					return err
				}
				type row struct {
					ID     string   `json:"id"`
					Engine string   `json:"engine"`
					Level  string   `json:"level"`
					Title  string   `json:"title"`
					File   string   `json:"file"`
					Tags   []string `json:"tags,omitempty"`
				}
				var rows []row
				for _, r := range rs.Rules() {
					rows = append(rows, row{r.ID, r.Engine, r.Level, r.Title, fmt.Sprintf("%s:%d", r.File, r.Line), r.Tags})
				}
				switch {
				case c.Bool("json"):
					enc := json.NewEncoder(e.stdout)
					enc.SetIndent("", "  ")
					return enc.Encode(rows)
				case c.Bool("markdown"):
					fmt.Fprintln(e.stdout, "| id | engine | level | title |")
					fmt.Fprintln(e.stdout, "|---|---|---|---|")
					for _, r := range rows {
						fmt.Fprintf(e.stdout, "| `%s` | %s | %s | %s |\n", r.ID, r.Engine, r.Level, strings.ReplaceAll(r.Title, "|", `\|`))
					}
					return nil
				}
				var table [][]string
				for _, r := range rows {
					table = append(table, []string{r.ID, r.Engine, r.Level, r.Title})
				}
				return output.WriteTable(e.stdout, []string{"ID", "ENGINE", "LEVEL", "TITLE"}, table)
			},
		}},
	}
}

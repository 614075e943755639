package main

import (
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/detect-dev/detect/engine"
	"github.com/detect-dev/detect/engine/sigma"
	"github.com/detect-dev/detect/ruletest"
)

func lintCommand(e *env) *cli.Command {
	return &cli.Command{
		Name:  "lint",
		Usage: "check rules and case files for errors and questionable style",
		Description: `Reports every problem in the rule repository at once, each at file:line:col,
sorted, as "error" or "warning":

  errors    what stops a rule from loading (unknown fields or modifiers, bad regex or
            CIDR, conditions naming undefined searches, missing title, id, level,
            logsource or detection, ids that are not UUIDs or not unique), ATT&CK tags
            that are not technique ids or tactic names, case files that do not parse
            or name a rule that does not exist
  warnings  unknown rule attributes (usually typos), deprecated rules still in the
            tree, logsource products no parser emits, rules missing a case that
            fires or one that stays quiet (detect test fails on those)

Examples:
   detect lint                         # ./rules and ./tests/rule_cases
   detect lint --rules ~/my-rules/rules --cases ~/my-rules/tests/rule_cases

Ends with "N errors, N warnings". Exit status: 0 no errors (warnings allowed),
1 errors, 2 bad usage.`,
		Flags: []cli.Flag{
			rulesFlag(),
			&cli.StringFlag{Name: "cases", Value: "tests/rule_cases", Usage: "directory of case files (skipped when absent)"},
		},
		Action: func(c *cli.Context) error { return lint(c, e) },
	}
}

func lint(c *cli.Context, e *env) error {
	if c.NArg() > 0 {
		return failf(exitUsage, "lint takes no arguments (got %q); use --rules and --cases", c.Args().Slice())
	}
	srcs, err := ruleSources(repoRuleDirs(c))
	if err != nil {
		return err
	}
	diags := engine.Lint(srcs...)

	casesDir := c.String("cases")
	if st, err := os.Stat(casesDir); err == nil && st.IsDir() {
		cases, caseErr := ruletest.LoadDir(casesDir)
		if caseErr != nil {
			for _, msg := range strings.Split(caseErr.Error(), "\n") {
				diags = append(diags, positioned(msg, sigma.SeverityError))
			}
		}
		// Coverage and rule references are judged on the rules that load;
		// the ones that do not were reported above.
		if rs, _ := engine.LoadAll(srcs...); rs != nil {
			for _, p := range unknownRules(engine.DeclaredIDs(srcs...), cases) {
				diags = append(diags, positioned(p.String(), sigma.SeverityError))
			}
			for _, p := range ruletest.Coverage(rs, cases) {
				diags = append(diags, positioned(p.String(), sigma.SeverityWarning))
			}
		}
	} else if c.IsSet("cases") {
		return failf(exitUsage, "no case directory %s", casesDir)
	}

	sigma.SortDiagnostics(diags)
	errs, warns := 0, 0
	for _, d := range diags {
		if d.Severity == sigma.SeverityError {
			errs++
		} else {
			warns++
		}
		fmt.Fprintln(e.stdout, d)
	}
	fmt.Fprintf(e.stdout, "%d errors, %d warnings\n", errs, warns)
	if errs > 0 {
		return exitError{code: exitFindings}
	}
	return nil
}

// unknownRules lists case files that name a rule id no rule file declares.
func unknownRules(declared map[string]bool, cases []*ruletest.Case) []ruletest.Problem {
	var out []ruletest.Problem
	seen := map[string]bool{}
	for _, c := range cases {
		if declared[c.Rule] || seen[c.File] {
			continue
		}
		seen[c.File] = true
		out = append(out, ruletest.Problem{Pos: c.File + ":1:1", Msg: fmt.Sprintf("case file names rule %s, which does not exist", c.Rule)})
	}
	return out
}

// positioned turns "file:line[:col]: message" into a diagnostic.
func positioned(msg string, sev sigma.Severity) sigma.Diagnostic {
	d := sigma.Diagnostic{Severity: sev, Msg: msg, Line: 1, Col: 1}
	parts := strings.SplitN(msg, ":", 4)
	if len(parts) >= 3 {
		if line, err := strconv.Atoi(parts[1]); err == nil {
			d.File, d.Line = parts[0], line
			rest := strings.Join(parts[2:], ":")
			if len(parts) == 4 {
				if col, err := strconv.Atoi(parts[2]); err == nil {
					d.Col, rest = col, parts[3]
				}
			}
			d.Msg = strings.TrimSpace(rest)
		}
	}
	return d
}

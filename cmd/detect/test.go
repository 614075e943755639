package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"regexp"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/detect-dev/detect/engine"
	"github.com/detect-dev/detect/ruletest"
)

func testCommand(e *env) *cli.Command {
	return &cli.Command{
		Name:  "test",
		Usage: "verify every rule against its cases in tests/rule_cases",
		Description: `Runs every case file (tests/rule_cases/*.yml) through the same parser and rule
engine as scan, and checks that every rule has a case that fires and one that stays
quiet. The OPA unit tests of Rego rules (test_ rules in *_test.rego files next to
them) run too, with the rules' data, and count as cases. Run it in a rule repository
(rules/ and tests/rule_cases/ side by side), or point --rules and --cases elsewhere.

A case file:
   rule: 2bbe00e5-0b9c-4fcf-803c-baaa054d1904
   cases:
     - name: iso attachment fires
       format: postfix              # raw log text through the real parser ...
       log: |
         2026-11-27T10:02:31+00:00 mx1 postfix/cleanup[1]: 4NxMj75bWFz9tR2: ...
       expect: {alerts: 1, match: {event: {sender: a@evil.example}}}
     - name: pdf stays quiet
       events:                      # ... or normalized events
         - {attachment_ext: [pdf]}
       expect: {alerts: 0}
     - name: not ready yet
       skip: waiting for the Exim parser
       events: [{}]
       expect: {alerts: 1}

Examples:
   detect test                      # ./rules and ./tests/rule_cases
   detect test -v --run relay       # only cases whose name, rule id or file matches
   detect test --junit report.xml   # for CI systems

Ends with "N passed, N failed" (", N skipped" when any). Exit status: 0 all passed;
1 a case failed or a rule problem (no firing or quiet case, unknown rule in a case
file, duplicate rule id); 2 bad usage or rules that do not compile.`,
		Flags: []cli.Flag{
			rulesFlag(),
			&cli.StringFlag{Name: "cases", Value: "tests/rule_cases", Usage: "directory of case files"},
			&cli.StringFlag{Name: "run", Usage: "only run cases whose name, rule id or file matches `REGEX`"},
			&cli.BoolFlag{Name: "verbose", Aliases: []string{"v"}, Usage: "list every case, not only failures"},
			&cli.StringFlag{Name: "junit", Usage: "also write a JUnit XML report to `FILE`"},
		},
		Action: func(c *cli.Context) error { return runTests(c, e) },
	}
}

func runTests(c *cli.Context, e *env) error {
	if c.NArg() > 0 {
		return failf(exitUsage, "test takes no arguments (got %q); use --rules and --cases", c.Args().Slice())
	}
	var filter *regexp.Regexp
	if expr := c.String("run"); expr != "" {
		re, err := regexp.Compile(expr)
		if err != nil {
			return failf(exitUsage, "--run: %w", err)
		}
		filter = re
	}
	srcs, err := ruleSources(repoRuleDirs(c))
	if err != nil {
		return err
	}
	// Duplicate ids are the test's findings (exit 1); other load errors mean
	// the rules do not compile (exit 2).
	rs, loadErr := engine.LoadAll(srcs...)
	var problems []ruletest.Problem
	if loadErr != nil {
		var compile []string
		for _, err := range loadErr.Errors {
			var dup *engine.DuplicateID
			if errors.As(err, &dup) {
				problems = append(problems, ruletest.Problem{
					Pos: fmt.Sprintf("%s:%d", dup.Second.File, dup.Second.Line),
					Msg: fmt.Sprintf("rule id %s is also used by %s:%d; ids must be unique", dup.ID, dup.First.File, dup.First.Line),
				})
				continue
			}
			compile = append(compile, err.Error())
		}
		if len(compile) > 0 {
			return failf(exitUsage, "rules do not compile (%d error(s)):\n%s", len(compile), strings.Join(compile, "\n"))
		}
	}
	casesDir := c.String("cases")
	if st, err := os.Stat(casesDir); err != nil || !st.IsDir() {
		return failf(exitUsage, "no case directory %s (give one with --cases)", casesDir)
	}
	cases, caseErr := ruletest.LoadDir(casesDir)
	if caseErr != nil {
		// A broken case file is a finding about the rule repository, listed
		// with the rule problems; the cases that did load still run.
		for _, msg := range strings.Split(caseErr.Error(), "\n") {
			pos, text, ok := strings.Cut(msg, ": ")
			if !ok {
				pos, text = casesDir, msg
			}
			problems = append(problems, ruletest.Problem{Pos: pos, Msg: text})
		}
	}

	var results []ruletest.Result
	var more []ruletest.Problem
	if filter != nil {
		results, more = ruletest.RunSelected(rs, ruletest.Filter(cases, filter.MatchString))
	} else {
		results, more = ruletest.Run(rs, cases)
	}
	problems = append(problems, more...)
	var match func(string) bool
	if filter != nil {
		match = filter.MatchString
	}
	results = append(results, ruletest.RegoTests(context.Background(), rs, match)...)

	passed, failed, skipped := 0, 0, 0
	out := e.stdout
	for _, r := range results {
		switch {
		case r.Skipped:
			skipped++
			if c.Bool("verbose") {
				fmt.Fprintf(out, "skip  %s:%d: %s (%s)\n", r.Case.File, r.Case.Line, r.Case.Name, r.Reason)
			}
		case r.Pass:
			passed++
			if c.Bool("verbose") {
				fmt.Fprintf(out, "ok    %s:%d: %s\n", r.Case.File, r.Case.Line, r.Case.Name)
			}
		default:
			failed++
			title := r.Case.Rule
			if rule, ok := rs.Rule(r.Case.Rule); ok {
				title = fmt.Sprintf("%s %s (%s:%d)", rule.ID, rule.Title, rule.File, rule.Line)
			}
			fmt.Fprintf(out, "FAIL  %s:%d: %s\n", r.Case.File, r.Case.Line, r.Case.Name)
			if title != "" {
				fmt.Fprintf(out, "      rule: %s\n", title)
			}
			for _, l := range strings.Split(ruletest.FailureDetail(r), "\n") {
				fmt.Fprintf(out, "      %s\n", l)
			}
		}
	}
	if len(problems) > 0 {
		fmt.Fprintf(out, "\nrule problems (%d, not counted in the cases below):\n", len(problems))
		for _, p := range problems {
			fmt.Fprintf(out, "      %s\n", p)
		}
	}
	if path := c.String("junit"); path != "" {
		f, err := os.Create(path)
		if err != nil {
			return failf(exitUsage, "--junit: %w", err)
		}
		werr := ruletest.WriteJUnit(f, results, problems)
		if cerr := f.Close(); werr == nil {
			werr = cerr
		}
		if werr != nil {
			return failf(exitUsage, "--junit: %w", werr)
		}
	}
	summary := fmt.Sprintf("%d passed, %d failed", passed, failed)
	if skipped > 0 {
		summary += fmt.Sprintf(", %d skipped", skipped)
	}
	fmt.Fprintln(out, summary)
	if failed > 0 || len(problems) > 0 {
		return exitError{code: exitFindings}
	}
	return nil
}

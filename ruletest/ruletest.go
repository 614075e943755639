// Package ruletest loads rule case files (tests/rule_cases/*.yml, format in
// DESIGN.md section 4) and runs them through the same normalize + engine
// path as `detect scan`, so a rule is proven by the code that will run it.
// The OPA unit tests of Rego rules (*_test.rego) run beside them (RegoTests)
// and are reported as cases.
package ruletest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/detect-dev/detect/engine"
	"github.com/detect-dev/detect/engine/window"
	"github.com/detect-dev/detect/normalize"
	"github.com/detect-dev/detect/schema"
)

// Case is one test of one rule.
type Case struct {
	File   string // case file, as given
	Line   int    // line of the case's `name:` in File
	Rule   string // rule id
	Name   string
	Format string          // for Log
	Log    string          // raw log text, run through the parser for Format
	LogPos int             // line in File where Log's first line is
	Events []*schema.Event // or normalized events
	Expect Expect
	Skip   string // when set, the case is reported as skipped with this reason
	// RegoTest marks an OPA unit test (a test_ rule of a *_test.rego file)
	// rather than a case of a case file: Name is the test's package and
	// rule, Rule the id of the rule its package tests, if any.
	RegoTest bool
}

// Expect is what a case requires of the alerts its rule produces.
type Expect struct {
	Alerts int
	// Match, when set, must be a subset of at least one alert's JSON object
	// (nested objects compare as subsets, scalars by their text).
	Match map[string]any
}

type caseFileYAML struct {
	Rule  string      `yaml:"rule"`
	Cases []yaml.Node `yaml:"cases"`
}

type caseYAML struct {
	Name   string           `yaml:"name"`
	Format string           `yaml:"format"`
	Log    string           `yaml:"log"`
	Events []map[string]any `yaml:"events"`
	Skip   string           `yaml:"skip"`
	Expect struct {
		Alerts *int           `yaml:"alerts"`
		Match  map[string]any `yaml:"match"`
	} `yaml:"expect"`
}

// LoadDir reads every *.yml / *.yaml case file under dir.
func LoadDir(dir string) ([]*Case, error) {
	var files []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if ext := strings.ToLower(filepath.Ext(p)); !d.IsDir() && (ext == ".yml" || ext == ".yaml") {
			files = append(files, p)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("rule cases: %w", err)
	}
	sort.Strings(files)
	var all []*Case
	var errs []error
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		cases, err := Parse(f, data)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		all = append(all, cases...)
	}
	return all, errors.Join(errs...)
}

// Parse reads one case file. Errors carry file:line:col.
func Parse(file string, data []byte) ([]*Case, error) {
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	if len(root.Content) == 0 {
		return nil, fmt.Errorf("%s:1:1: empty case file", file)
	}
	var cf caseFileYAML
	if err := root.Content[0].Decode(&cf); err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	if cf.Rule == "" {
		return nil, fmt.Errorf("%s:%d:%d: case file names no rule (want `rule: <rule id>`)", file, root.Content[0].Line, root.Content[0].Column)
	}
	if len(cf.Cases) == 0 {
		return nil, fmt.Errorf("%s:%d:%d: case file has no cases", file, root.Content[0].Line, root.Content[0].Column)
	}
	var out []*Case
	var errs []error
	for i := range cf.Cases {
		n := &cf.Cases[i]
		pos := fmt.Sprintf("%s:%d:%d", file, n.Line, n.Column)
		var cy caseYAML
		if err := n.Decode(&cy); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", pos, err))
			continue
		}
		c := &Case{File: file, Line: n.Line, Rule: strings.ToLower(cf.Rule), Name: cy.Name, Format: cy.Format, Log: cy.Log, Skip: cy.Skip}
		if c.Name == "" {
			c.Name = fmt.Sprintf("case %d", i+1)
		}
		switch {
		case cy.Log != "" && len(cy.Events) > 0:
			errs = append(errs, fmt.Errorf("%s: case %q has both log and events; give one", pos, c.Name))
			continue
		case cy.Log == "" && len(cy.Events) == 0:
			errs = append(errs, fmt.Errorf("%s: case %q has neither log nor events", pos, c.Name))
			continue
		case cy.Log != "" && cy.Format == "":
			errs = append(errs, fmt.Errorf("%s: case %q gives a log but no format", pos, c.Name))
			continue
		}
		c.LogPos = valueLine(n, "log")
		eventNodes := valueNode(n, "events")
		for j, m := range cy.Events {
			// A misspelled field would make a "stays quiet" case pass
			// without testing anything: every key must be a schema field
			// or an alias, which is renamed to the field.
			var keyNodes *yaml.Node
			if eventNodes != nil && j < len(eventNodes.Content) {
				keyNodes = eventNodes.Content[j]
			}
			if bad := canonicalKeys(m, keyNodes, file); len(bad) > 0 {
				errs = append(errs, bad...)
				continue
			}
			b, err := json.Marshal(m)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: case %q event %d: %w", pos, c.Name, j+1, err))
				continue
			}
			ev := new(schema.Event)
			if err := json.Unmarshal(b, ev); err != nil {
				errs = append(errs, fmt.Errorf("%s: case %q event %d: %w", pos, c.Name, j+1, err))
				continue
			}
			if ev.SourceFile == "" {
				ev.SourceFile, ev.SourceLine = file, n.Line
			}
			c.Events = append(c.Events, ev)
		}
		if cy.Expect.Alerts == nil {
			errs = append(errs, fmt.Errorf("%s: case %q has no expect.alerts", pos, c.Name))
			continue
		}
		c.Expect = Expect{Alerts: *cy.Expect.Alerts, Match: cy.Expect.Match}
		out = append(out, c)
	}
	return out, errors.Join(errs...)
}

// valueNode returns the value node of key in mapping m, or nil.
func valueNode(m *yaml.Node, key string) *yaml.Node {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1]
		}
	}
	return nil
}

// canonicalKeys renames alias keys of an event (src_user, file_name, ...) to
// schema field names in place, and reports unknown keys at their position.
func canonicalKeys(m map[string]any, node *yaml.Node, file string) []error {
	var errs []error
	for key, v := range m {
		f, ok := schema.LookupField(key)
		if !ok {
			line, col := 0, 0
			if node != nil {
				for i := 0; i+1 < len(node.Content); i += 2 {
					if node.Content[i].Value == key {
						line, col = node.Content[i].Line, node.Content[i].Column
					}
				}
			}
			errs = append(errs, fmt.Errorf("%s:%d:%d: unknown event field %q%s", file, line, col, key, suggestField(key)))
			continue
		}
		if name := f.Name(); name != key {
			delete(m, key)
			m[name] = v
		}
	}
	return errs
}

// suggestField names the closest schema field to a misspelled one.
func suggestField(key string) string {
	best, bestD := "", 4
	for _, f := range schema.Fields() {
		if d := editDistance(strings.ToLower(key), f.Name()); d < bestD {
			best, bestD = f.Name(), d
		}
	}
	if best == "" {
		return ""
	}
	return fmt.Sprintf(" (did you mean %q?)", best)
}

func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(b)]
}

// valueLine finds the line where key's block value starts (for `log: |` the
// text starts on the next line).
func valueLine(m *yaml.Node, key string) int {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			v := m.Content[i+1]
			if v.Style&(yaml.LiteralStyle|yaml.FoldedStyle) != 0 {
				return v.Line + 1
			}
			return v.Line
		}
	}
	return m.Line
}

// Result is the outcome of one case.
type Result struct {
	Case    *Case
	Pass    bool
	Skipped bool
	Got     int             // alerts from the case's rule
	Alerts  []*schema.Alert // the alerts, for the failure report
	Reason  string          // why it failed
	Output  string          // what an OPA unit test printed
}

// Problem is a rule-level failure: a rule without a firing or a quiet case,
// or a case file naming a rule that does not exist.
type Problem struct {
	Pos string // file:line of the rule or case file
	Msg string
}

func (p Problem) String() string { return p.Pos + ": " + p.Msg }

// Run executes the cases against rs and checks rule coverage: every rule
// that generates alerts needs a case that fires and one that stays quiet.
// Skipped cases count for neither.
func Run(rs *engine.Ruleset, cases []*Case) ([]Result, []Problem) {
	results, problems := RunSelected(rs, cases)
	return results, append(problems, Coverage(rs, cases)...)
}

// Coverage lists the rules that lack a case that fires or one that stays
// quiet, judged from the cases' expectations (it runs nothing). Rules with
// generate: false only feed correlations and are exempt.
func Coverage(rs *engine.Ruleset, cases []*Case) []Problem {
	fires := map[string]bool{}
	quiet := map[string]bool{}
	for _, c := range cases {
		if c.Skip != "" {
			continue
		}
		if c.Expect.Alerts > 0 {
			fires[c.Rule] = true
		} else {
			quiet[c.Rule] = true
		}
	}
	var problems []Problem
	for _, r := range rs.Rules() {
		if !r.Generate {
			continue
		}
		pos := fmt.Sprintf("%s:%d", r.File, r.Line)
		if !fires[r.ID] {
			problems = append(problems, Problem{Pos: pos, Msg: fmt.Sprintf("rule %s (%s) has no case that fires", r.ID, r.Title)})
		}
		if !quiet[r.ID] {
			problems = append(problems, Problem{Pos: pos, Msg: fmt.Sprintf("rule %s (%s) has no case that stays quiet", r.ID, r.Title)})
		}
	}
	return problems
}

// RunCase runs one case: its log through the real parser (or its events as
// given), every event through the rule set, counting the case rule's alerts.
func RunCase(rs *engine.Ruleset, c *Case) Result {
	res := Result{Case: c}
	events := c.Events
	if c.Log != "" {
		p, err := normalize.New(c.Format, normalize.Options{})
		if err != nil {
			res.Reason = err.Error()
			return res
		}
		emit := func(e *schema.Event) { events = append(events, e) }
		lines := strings.Split(strings.TrimRight(c.Log, "\n"), "\n")
		for i, text := range lines {
			line := schema.Line{Text: text, File: c.File, Number: c.LogPos + i}
			if p.Parse(line, emit) == normalize.NotUnderstood {
				res.Reason = fmt.Sprintf("%s:%d: the %s parser did not understand this log line: %s", c.File, line.Number, c.Format, text)
				return res
			}
		}
		p.Flush(emit)
	}
	// Correlation rules see the events in order, as in detect scan.
	st := rs.NewState(window.Options{})
	keep := func(a *schema.Alert) {
		if a.RuleID == c.Rule {
			res.Alerts = append(res.Alerts, a)
		}
	}
	for _, e := range events {
		st.Event(e, keep)
	}
	st.Flush(keep)
	res.Got = len(res.Alerts)
	if res.Got != c.Expect.Alerts {
		res.Reason = fmt.Sprintf("want %d alert(s), got %d", c.Expect.Alerts, res.Got)
		return res
	}
	if len(c.Expect.Match) > 0 {
		matched := false
		for _, a := range res.Alerts {
			if subset(c.Expect.Match, alertObject(a)) {
				matched = true
				break
			}
		}
		if !matched {
			want, _ := json.Marshal(c.Expect.Match)
			res.Reason = fmt.Sprintf("no alert matches %s", want)
			return res
		}
	}
	res.Pass = true
	return res
}

func alertObject(a *schema.Alert) map[string]any {
	b, err := json.Marshal(a)
	if err != nil {
		return nil
	}
	var m map[string]any
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	_ = dec.Decode(&m)
	return m
}

// subset reports whether every key of want is in got with an equal value;
// nested objects recurse, lists must match element-wise, scalars compare as
// text so `size: 1000` in YAML equals the JSON number 1000.
func subset(want, got any) bool {
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			return false
		}
		for k, wv := range w {
			gv, ok := g[k]
			if !ok || !subset(wv, gv) {
				return false
			}
		}
		return true
	case []any:
		g, ok := got.([]any)
		if !ok || len(g) != len(w) {
			return false
		}
		for i := range w {
			if !subset(w[i], g[i]) {
				return false
			}
		}
		return true
	case nil:
		return got == nil
	}
	return fmt.Sprint(want) == fmt.Sprint(got)
}

// RegoTests runs the OPA unit tests (*_test.rego) of the rule trees rs was
// loaded from, against its Rego rules and data, and returns them as results
// so they are counted and reported with the cases. match, when not nil,
// keeps the tests whose name, rule id or file it accepts, as Filter does.
func RegoTests(ctx context.Context, rs *engine.Ruleset, match func(string) bool) []Result {
	var out []Result
	for _, tr := range rs.RegoTests(ctx) {
		c := &Case{File: tr.File, Line: tr.Line, Name: tr.Name, RegoTest: true}
		if tr.Rule != nil {
			c.Rule = tr.Rule.ID
		}
		if match != nil && !match(c.Name) && !match(c.Rule) && !match(c.File) {
			continue
		}
		res := Result{Case: c, Pass: tr.Pass, Skipped: tr.Skipped, Reason: tr.Reason, Output: tr.Output}
		if tr.Skipped {
			res.Reason = "todo_ test"
		}
		out = append(out, res)
	}
	return out
}

// Filter keeps the cases whose name, rule id or file matches re; coverage is
// not checked on a filtered run (see RunSelected).
func Filter(cases []*Case, match func(string) bool) []*Case {
	var out []*Case
	for _, c := range cases {
		if match(c.Name) || match(c.Rule) || match(c.File) {
			out = append(out, c)
		}
	}
	return out
}

// RunSelected runs cases without the coverage check, for --run: a selection
// says nothing about which rules lack cases. Unknown rules are still
// problems.
func RunSelected(rs *engine.Ruleset, cases []*Case) ([]Result, []Problem) {
	var results []Result
	var problems []Problem
	unknown := map[string]bool{}
	for _, c := range cases {
		if _, ok := rs.Rule(c.Rule); !ok {
			if !unknown[c.File] {
				unknown[c.File] = true
				problems = append(problems, Problem{Pos: c.File + ":1", Msg: fmt.Sprintf("case file names rule %s, which does not exist", c.Rule)})
			}
			continue
		}
		if c.Skip != "" {
			results = append(results, Result{Case: c, Skipped: true, Reason: c.Skip})
			continue
		}
		results = append(results, RunCase(rs, c))
	}
	return results, problems
}

func compactJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

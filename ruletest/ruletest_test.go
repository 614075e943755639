package ruletest

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/detect-dev/detect/engine"
	// The formats the shipped cases are written in.
	_ "github.com/detect-dev/detect/normalize/amavis"
	_ "github.com/detect-dev/detect/normalize/exchange"
	_ "github.com/detect-dev/detect/normalize/exim"
	_ "github.com/detect-dev/detect/normalize/jsonevents"
	_ "github.com/detect-dev/detect/normalize/postfix"
	_ "github.com/detect-dev/detect/normalize/sendmail"
)

// TestShippedRulePack runs every case of the rule pack in this repository,
// so `go test ./...` gates rule changes like code changes.
func TestShippedRulePack(t *testing.T) {
	src, err := engine.DirSource("../rules")
	if err != nil {
		t.Fatal(err)
	}
	rs, err := engine.Load(src)
	if err != nil {
		t.Fatalf("rule pack does not load:\n%v", err)
	}
	cases, err := LoadDir("../tests/rule_cases")
	if err != nil {
		t.Fatalf("case files do not load:\n%v", err)
	}
	results, problems := Run(rs, cases)
	for _, p := range problems {
		t.Errorf("%s", p)
	}
	for _, r := range results {
		t.Run(r.Case.Name, func(t *testing.T) {
			if !r.Pass {
				t.Errorf("%s:%d: %s: %s", r.Case.File, r.Case.Line, r.Case.Name, r.Reason)
				for _, a := range r.Alerts {
					t.Logf("alert: %s %+v", a.RuleTitle, a.Event)
				}
			}
		})
	}
	if len(results) < 2*rs.Len() {
		t.Errorf("%d cases for %d rules: every rule needs a firing and a quiet case", len(results), rs.Len())
	}
}

// TestShippedRegoTests runs the OPA unit tests (*_test.rego) of the rule
// pack, so `go test ./...` runs them as `detect test` does.
func TestShippedRegoTests(t *testing.T) {
	src, err := engine.DirSource("../rules")
	if err != nil {
		t.Fatal(err)
	}
	rs, err := engine.Load(src)
	if err != nil {
		t.Fatalf("rule pack does not load:\n%v", err)
	}
	results := RegoTests(context.Background(), rs, nil)
	if len(results) == 0 {
		t.Fatal("the rule pack has no *_test.rego tests")
	}
	for _, r := range results {
		t.Run(r.Case.Name, func(t *testing.T) {
			if !r.Pass {
				t.Errorf("%s:%d: %s\n%s", r.Case.File, r.Case.Line, r.Case.Name, FailureDetail(r))
			}
		})
	}
}

const ruleYAML = `title: Test exe
id: 11111111-2222-4333-8444-555555555555
logsource: {category: email}
detection:
  sel:
    attachment_ext: exe
  condition: sel
level: high
`

func loadTemp(t *testing.T, rule string) *engine.Ruleset {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(dir+"/r.yml", []byte(rule), 0o644); err != nil {
		t.Fatal(err)
	}
	src, err := engine.DirSource(dir)
	if err != nil {
		t.Fatal(err)
	}
	rs, err := engine.Load(src)
	if err != nil {
		t.Fatal(err)
	}
	return rs
}

func TestFailuresAreReported(t *testing.T) {
	rs := loadTemp(t, ruleYAML)
	cases, err := Parse("c.yml", []byte(`rule: 11111111-2222-4333-8444-555555555555
cases:
  - name: wrong count
    events: [{attachment_ext: [exe]}]
    expect: {alerts: 2}
  - name: wrong match
    events: [{sender: a@b.example, attachment_ext: [exe]}]
    expect: {alerts: 1, match: {event: {sender: other@b.example}}}
  - name: right match
    events: [{sender: a@b.example, size: 1000, attachment_ext: [exe]}]
    expect: {alerts: 1, match: {event: {sender: a@b.example, size: 1000}}}
`))
	if err != nil {
		t.Fatal(err)
	}
	results, problems := Run(rs, cases)
	if len(results) != 3 {
		t.Fatalf("want 3 results, got %d", len(results))
	}
	if results[0].Pass || !strings.Contains(results[0].Reason, "want 2 alert(s), got 1") {
		t.Errorf("count mismatch not reported: %+v", results[0])
	}
	if results[1].Pass || !strings.Contains(results[1].Reason, "no alert matches") {
		t.Errorf("match mismatch not reported: %+v", results[1])
	}
	if !results[2].Pass {
		t.Errorf("good case failed: %s", results[2].Reason)
	}
	if len(problems) != 1 || !strings.Contains(problems[0].Msg, "no case that stays quiet") {
		t.Errorf("want one coverage problem, got %v", problems)
	}
	if results[0].Case.Line != 3 {
		t.Errorf("case line = %d, want 3", results[0].Case.Line)
	}
}

func TestUnknownRuleAndBadLogLines(t *testing.T) {
	rs := loadTemp(t, ruleYAML)
	cases, err := Parse("c.yml", []byte(`rule: 99999999-2222-4333-8444-555555555555
cases:
  - name: x
    events: [{attachment_ext: [exe]}]
    expect: {alerts: 1}
`))
	if err != nil {
		t.Fatal(err)
	}
	_, problems := Run(rs, cases)
	found := false
	for _, p := range problems {
		found = found || strings.Contains(p.Msg, "does not exist")
	}
	if !found {
		t.Errorf("unknown rule not reported: %v", problems)
	}

	cases, err = Parse("c.yml", []byte(`rule: 11111111-2222-4333-8444-555555555555
cases:
  - name: garbage
    format: postfix
    log: |
      this is not a postfix line
    expect: {alerts: 0}
`))
	if err != nil {
		t.Fatal(err)
	}
	r := RunCase(rs, cases[0])
	if r.Pass || !strings.Contains(r.Reason, "c.yml:6:") {
		t.Errorf("unparsed log line must fail with its position, got pass=%v %q", r.Pass, r.Reason)
	}
}

func TestParseErrorsArePositioned(t *testing.T) {
	for name, in := range map[string]string{
		"no rule":       "cases:\n  - name: a\n    events: [{}]\n    expect: {alerts: 0}\n",
		"no expect":     "rule: x\ncases:\n  - name: a\n    events: [{}]\n",
		"both":          "rule: x\ncases:\n  - name: a\n    events: [{}]\n    format: postfix\n    log: x\n    expect: {alerts: 0}\n",
		"log no format": "rule: x\ncases:\n  - name: a\n    log: x\n    expect: {alerts: 0}\n",
	} {
		_, err := Parse("bad.yml", []byte(in))
		if err == nil || !strings.Contains(err.Error(), "bad.yml:") {
			t.Errorf("%s: want positioned error, got %v", name, err)
		}
	}
}

func TestEventKeysAreCheckedAndAliasesMapped(t *testing.T) {
	_, err := Parse("c.yml", []byte(`rule: x
cases:
  - name: typo
    events:
      - {sender: a@b.example, attachement_ext: [exe]}
    expect: {alerts: 0}
`))
	if err == nil || !strings.Contains(err.Error(), `c.yml:5:31: unknown event field "attachement_ext" (did you mean "attachment_ext"?)`) {
		t.Errorf("got %v", err)
	}
	cases, err := Parse("c.yml", []byte(`rule: x
cases:
  - name: aliases
    events:
      - {src_user: a@b.example, file_name: [x.exe], email.subject: hi}
    expect: {alerts: 0}
`))
	if err != nil {
		t.Fatal(err)
	}
	e := cases[0].Events[0]
	if e.Sender != "a@b.example" || len(e.AttachmentName) != 1 || e.Subject != "hi" {
		t.Errorf("aliases not mapped: %+v", e)
	}
}

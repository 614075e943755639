package main

import (
	"os"
	"strings"
	"testing"
)

func TestLintThisRepository(t *testing.T) {
	code, out, errOut := detect(t, "", "lint", "--rules", "../../rules", "--cases", "../../tests/rule_cases")
	if code != 0 || out != "0 errors, 0 warnings\n" {
		t.Fatalf("exit %d\n%s%s", code, out, errOut)
	}
}

func TestLintReportsEverythingPositionedAndSorted(t *testing.T) {
	ruleRepo(t)
	edit(t, "rules/sigma/macro_office_attachment.yml", "level: medium", "levle: medium")
	edit(t, "rules/sigma/macro_office_attachment.yml", "  - attack.t1566.001", "  - attack.t1566.1\n  - attack.intial_access")
	edit(t, "rules/sigma/macro_office_attachment.yml", "status: stable", "status: deprecated")
	edit(t, "rules/sigma/html_smuggling_attachment.yml", "category: email", "category: email\n  product: exchange-online")
	edit(t, "rules/sigma/relay_access_denied.yml", "reason|contains:", "reason|contain:")
	edit(t, "tests/rule_cases/macro_office_attachment.yml", "expect: {alerts: 0}", "expect: {alerts: 0}\n    skip: later")
	if err := os.WriteFile("tests/rule_cases/orphan.yml", []byte("rule: 99999999-2222-4333-8444-555555555555\ncases:\n  - name: x\n    events: [{}]\n    expect: {alerts: 0}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, _ := detect(t, "", "lint")
	want := []string{
		"rules/sigma/html_smuggling_attachment.yml:20:12: warning: no parser produces events of product \"exchange-online\"",
		"rules/sigma/macro_office_attachment.yml:1:1: error: rule has no level",
		"rules/sigma/macro_office_attachment.yml:1:1: warning: rule 2e37d626-56fc-4597-bfba-f46f83917824 (Macro-enabled Office attachment) has no case that stays quiet",
		"rules/sigma/macro_office_attachment.yml:3:9: warning: rule is deprecated",
		"rules/sigma/macro_office_attachment.yml:13:5: error: tag \"attack.t1566.1\" is not an ATT&CK id",
		"rules/sigma/macro_office_attachment.yml:14:5: error: tag \"attack.intial_access\" is not an ATT&CK id (attack.t1566.001) or tactic (attack.initial_access) (did you mean \"initial_access\"?)",
		"rules/sigma/macro_office_attachment.yml:44:1: warning: unknown rule attribute \"levle\" (did you mean \"level\"?)",
		"rules/sigma/relay_access_denied.yml:26:12: error: unknown modifier \"contain\" (did you mean \"contains\"?)",
		"tests/rule_cases/orphan.yml:1:1: error: case file names rule 99999999-2222-4333-8444-555555555555, which does not exist",
		"5 errors, 4 warnings\n",
	}
	last := -1
	for _, w := range want {
		i := strings.Index(out, w)
		if i < 0 {
			t.Errorf("lint output lacks %q", w)
			continue
		}
		if i < last {
			t.Errorf("%q is out of order", w)
		}
		last = i
	}
	if code != 1 {
		t.Errorf("exit %d, want 1", code)
	}
	if t.Failed() {
		t.Logf("output:\n%s", out)
	}
}

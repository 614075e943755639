package sigma

import (
	"strings"
	"testing"
)

func TestLint(t *testing.T) {
	rule := `title: t
id: 11111111-2222-4333-8444-555555555555
status: deprecated
logsource: {category: email, product: exim}
detection:
  sel: {sender: a@b}
  condition: sel
tags: [attack.t1566, attack.t1566.001, attack.initial_access, attack.foo, cve.2021-1234]
autor: me
`
	got := Lint("r.yml", []byte(rule), LintOptions{Products: []string{"postfix"}})
	var lines []string
	for _, d := range got {
		lines = append(lines, d.String())
	}
	want := []string{
		"r.yml:1:1: error: rule has no level",
		"r.yml:3:9: warning: rule is deprecated",
		"r.yml:4:39: warning: no parser produces events of product \"exim\"",
		"r.yml:8:63: error: tag \"attack.foo\" is not an ATT&CK id",
		"r.yml:9:1: warning: unknown rule attribute \"autor\" (did you mean \"author\"?)",
	}
	if len(lines) != len(want) {
		t.Fatalf("want %d findings, got %d:\n%s", len(want), len(lines), strings.Join(lines, "\n"))
	}
	for i := range want {
		if !strings.HasPrefix(lines[i], want[i]) {
			t.Errorf("finding %d:\n-%s\n+%s", i, want[i], lines[i])
		}
	}
}

func TestLintIncludesLoadErrorsAndCleanRulesPass(t *testing.T) {
	bad := "title: t\nid: nope\nlevel: high\nlogsource: {category: email}\ndetection:\n  sel: {sender|bogus: x}\n  condition: sel\n"
	got := Lint("b.yml", []byte(bad), LintOptions{})
	if len(got) < 2 || got[0].Severity != SeverityError || !strings.Contains(got[0].Msg, "not a UUID") {
		t.Errorf("load errors missing: %v", got)
	}
	good := "title: t\nid: 11111111-2222-4333-8444-555555555555\nlevel: high\nlogsource: {category: email}\ndetection:\n  sel: {sender: x}\n  condition: sel\n"
	if got := Lint("g.yml", []byte(good), LintOptions{Products: []string{"postfix"}}); len(got) != 0 {
		t.Errorf("clean rule has findings: %v", got)
	}
}

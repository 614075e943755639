package main

import (
	"encoding/xml"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// ruleRepo copies this repository's rules and cases into a temp dir, so a
// test can break them without touching the real ones, and chdirs into it.
func ruleRepo(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for _, sub := range []string{"rules/sigma", "rules/rego", "rules/data", "tests/rule_cases"} {
		src := filepath.Join("..", "..", sub)
		entries, err := os.ReadDir(src)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(filepath.Join(dir, sub), 0o755); err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			b, err := os.ReadFile(filepath.Join(src, e.Name()))
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, sub, e.Name()), b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	t.Chdir(dir)
	return dir
}

func edit(t *testing.T, path, old, new string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), old) {
		t.Fatalf("%s does not contain %q", path, old)
	}
	if err := os.WriteFile(path, []byte(strings.Replace(string(b), old, new, 1)), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestTestCommandPassesOnThisRepository(t *testing.T) {
	code, out, errOut := detect(t, "", "test", "--rules", "../../rules", "--cases", "../../tests/rule_cases")
	if code != 0 || !strings.HasSuffix(out, " passed, 0 failed\n") {
		t.Fatalf("exit %d\n%s%s", code, out, errOut)
	}
}

func TestTestCommandDefaultsToRuleRepoInCwd(t *testing.T) {
	ruleRepo(t)
	code, out, _ := detect(t, "", "test", "-v")
	if code != 0 || !strings.Contains(out, "ok    tests/rule_cases/relay_attempts.yml:3:") {
		t.Fatalf("exit %d\n%s", code, out)
	}
}

func TestTestCommandFailures(t *testing.T) {
	t.Run("broken case", func(t *testing.T) {
		ruleRepo(t)
		edit(t, "tests/rule_cases/macro_office_attachment.yml", "expect: {alerts: 1}", "expect: {alerts: 2}")
		code, out, _ := detect(t, "", "test")
		for _, want := range []string{
			"FAIL  tests/rule_cases/macro_office_attachment.yml:3: xlsm attachment fires",
			"rule: 2e37d626-56fc-4597-bfba-f46f83917824 Macro-enabled Office attachment (rules/sigma/macro_office_attachment.yml:1)",
			"want: 2 alert(s)", "got:  1 alert(s)", "alert: Macro-enabled Office attachment {",
		} {
			if !strings.Contains(out, want) {
				t.Errorf("output lacks %q", want)
			}
		}
		if !regexp.MustCompile(`\n\d+ passed, 1 failed\n$`).MatchString(out) {
			t.Errorf("summary line: %s", out)
		}
		if code != 1 {
			t.Errorf("exit %d, want 1\n%s", code, out)
		}
	})
	t.Run("rule without a quiet case", func(t *testing.T) {
		ruleRepo(t)
		edit(t, "tests/rule_cases/macro_office_attachment.yml", "expect: {alerts: 0}", "expect: {alerts: 0}\n    skip: flaky")
		code, out, _ := detect(t, "", "test")
		if code != 1 || !strings.Contains(out, "rules/sigma/macro_office_attachment.yml:1: rule 2e37d626-56fc-4597-bfba-f46f83917824 (Macro-enabled Office attachment) has no case that stays quiet") ||
			!regexp.MustCompile(`\n\d+ passed, 0 failed, 1 skipped\n$`).MatchString(out) {
			t.Errorf("exit %d\n%s", code, out)
		}
	})
	t.Run("duplicate id", func(t *testing.T) {
		ruleRepo(t)
		edit(t, "rules/sigma/macro_office_attachment.yml", "id: 2e37d626-56fc-4597-bfba-f46f83917824", "id: 2bbe00e5-0b9c-4fcf-803c-baaa054d1904")
		code, out, _ := detect(t, "", "test")
		if code != 1 || !strings.Contains(out, "rules/sigma/macro_office_attachment.yml:1: rule id 2bbe00e5-0b9c-4fcf-803c-baaa054d1904 is also used by rules/rego/dangerous_attachment_extension.rego:30") {
			t.Errorf("exit %d\n%s", code, out)
		}
	})
	t.Run("case names an unknown rule", func(t *testing.T) {
		ruleRepo(t)
		edit(t, "tests/rule_cases/macro_office_attachment.yml", "rule: 2e37d626", "rule: 9e37d626")
		code, out, _ := detect(t, "", "test")
		if code != 1 || !strings.Contains(out, "tests/rule_cases/macro_office_attachment.yml:1: case file names rule 9e37d626-56fc-4597-bfba-f46f83917824, which does not exist") {
			t.Errorf("exit %d\n%s", code, out)
		}
	})
	t.Run("rule that does not compile exits 2", func(t *testing.T) {
		ruleRepo(t)
		edit(t, "rules/sigma/macro_office_attachment.yml", "attachment_ext:", "attachment_extension:")
		code, _, errOut := detect(t, "", "test")
		if code != 2 || !strings.Contains(errOut, "rules/sigma/macro_office_attachment.yml:") {
			t.Errorf("exit %d\n%s", code, errOut)
		}
	})
}

func TestTestCommandRunFilterAndJUnit(t *testing.T) {
	dir := ruleRepo(t)
	edit(t, "tests/rule_cases/relay_attempts.yml", "expect: {alerts: 0}", "expect: {alerts: 3}")
	report := filepath.Join(dir, "report.xml")
	code, out, _ := detect(t, "", "test", "--run", "relay_attempts", "--junit", report)
	if code != 1 || !regexp.MustCompile(`\n\d+ passed, 1 failed\n$`).MatchString(out) {
		t.Fatalf("exit %d\n%s", code, out)
	}
	b, err := os.ReadFile(report)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Tests    int `xml:"tests,attr"`
		Failures int `xml:"failures,attr"`
		Suites   []struct {
			Name  string `xml:"name,attr"`
			Cases []struct {
				Name    string `xml:"name,attr"`
				Failure *struct {
					Message string `xml:"message,attr"`
				} `xml:"failure"`
			} `xml:"testcase"`
		} `xml:"testsuite"`
	}
	if err := xml.Unmarshal(b, &doc); err != nil {
		t.Fatalf("junit is not XML: %v\n%s", err, b)
	}
	failing := -1
	if len(doc.Suites) == 1 {
		for i, c := range doc.Suites[0].Cases {
			if c.Failure != nil {
				failing = i
			}
		}
	}
	if doc.Tests < 3 || doc.Failures != 1 || len(doc.Suites) != 1 || failing < 0 ||
		doc.Suites[0].Cases[failing].Name != "other rejects stay quiet" ||
		!strings.Contains(doc.Suites[0].Cases[failing].Failure.Message, "want 3 alert(s), got 0") {
		t.Errorf("junit: %+v\n%s", doc, b)
	}
	code, _, errOut := detect(t, "", "test", "--run", "(")
	if code != 2 || !strings.Contains(errOut, "--run") {
		t.Errorf("bad regex: exit %d %s", code, errOut)
	}
}

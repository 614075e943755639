package main

import (
	"encoding/json"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/detect-dev/detect/internal/ruledoc"
)

// ruleLine is one line of `detect rules list`: lowercase UUID id, engine,
// level, title.
var ruleLine = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}  (sigma|rego )  (informational|low|medium|high|critical) {2,}\S.*$`)

func TestRulesList(t *testing.T) {
	code, out, errOut := detect(t, "", "rules", "list", "--rules", "../../rules")
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, errOut)
	}
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	for _, l := range lines {
		if !ruleLine.MatchString(l) {
			t.Errorf("not a rule line: %q", l)
		}
	}
	for _, want := range []string{
		"2bbe00e5-0b9c-4fcf-803c-baaa054d1904  rego   high           Dangerous attachment file type",
		"1a8cc4fe-fd4f-5944-a745-9849080e5f0b  sigma  high           SASL brute force",
		"e3b1412e-4429-5abe-bce6-cddf1931d526  sigma  informational  SASL authentication failure",
	} {
		if !strings.Contains(out, want+"\n") {
			t.Errorf("list lacks %q", want)
		}
	}
	// The bar: 25 detections, not counting the base rules that
	// only feed correlations.
	_, js, _ := detect(t, "", "rules", "list", "--json", "--rules", "../../rules")
	var rows []struct {
		ID      string   `json:"id"`
		File    string   `json:"file"`
		Base    bool     `json:"base"`
		Formats []string `json:"formats"`
	}
	if err := json.Unmarshal([]byte(js), &rows); err != nil {
		t.Fatalf("json: %v\n%s", err, js)
	}
	detections := 0
	for _, r := range rows {
		if !r.Base {
			detections++
			if len(r.Formats) == 0 {
				t.Errorf("%s (%s): no format can feed it", r.ID, r.File)
			}
		}
	}
	if len(rows) != len(lines) || detections < 25 {
		t.Errorf("%d rules listed, %d in JSON, %d detections", len(lines), len(rows), detections)
	}
}

// TestRulesDocIsCurrent: docs/rules.md is what `detect rules list
// --markdown` prints for the repository's rules.
func TestRulesDocIsCurrent(t *testing.T) {
	want, err := os.ReadFile("../../docs/rules.md")
	if err != nil {
		t.Fatal(err)
	}
	t.Chdir("../..") // the command's documented place: the repository root
	code, got, errOut := detect(t, "", "rules", "list", "--markdown")
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, errOut)
	}
	if got != string(want) {
		t.Errorf("docs/rules.md is out of date; regenerate it from the repository root with\n  %s", ruledoc.RegenerateCommand)
	}
	for _, s := range []string{"| **Dangerous attachment file type**<br>`2bbe00e5-0b9c-4fcf-803c-baaa054d1904`<br>rego, [dangerous_attachment_extension.rego](../rules/rego/dangerous_attachment_extension.rego) | high |", "delivery events with attachment_ext | postfix, zeek |"} {
		if !strings.Contains(got, s) {
			t.Errorf("markdown lacks %q", s)
		}
	}
}

func TestRulesListFlags(t *testing.T) {
	if code, _, _ := detect(t, "", "rules", "list", "--markdown", "--json"); code != exitUsage {
		t.Errorf("--markdown --json: exit %d", code)
	}
}

package engine

import (
	"strings"
	"testing"
	"testing/fstest"

	"github.com/detect-dev/detect/schema"
)

const exeRule = `title: Exe
id: 11111111-2222-4333-8444-555555555555
logsource: {category: email}
detection:
  sel:
    attachment_ext: exe
  condition: sel
level: high
tags: [attack.t1566.001]
`

func TestLoadEvaluate(t *testing.T) {
	fsys := fstest.MapFS{
		"sigma/exe.yml":           {Data: []byte(exeRule)},
		"data/thresholds.yaml":    {Data: []byte("not: [a rule")}, // tunables are not rules
		".git/x.yml":              {Data: []byte("garbage: [")},
		"sigma/.hidden.yml":       {Data: []byte("garbage: [")},
		"sigma/README.md":         {Data: []byte("# notes")},
		"sigma/data/exe2.yml":     {Data: []byte(strings.ReplaceAll(exeRule, "11111111", "33333333"))},
		"sigma/nested/relay.yaml": {Data: []byte(strings.ReplaceAll(strings.ReplaceAll(exeRule, "11111111", "22222222"), "attachment_ext: exe", "reason|contains: relay access denied"))},
	}
	rs, err := Load(Source{FS: fsys, Display: "rules"})
	if err != nil {
		t.Fatal(err)
	}
	if rs.Len() != 3 {
		t.Fatalf("%d rules", rs.Len())
	}
	r, ok := rs.Rule("11111111-2222-4333-8444-555555555555")
	if !ok || r.File != "rules/sigma/exe.yml" || r.Engine != EngineSigma || r.Level != "high" {
		t.Fatalf("rule: %+v", r)
	}
	ev := &schema.Event{AttachmentExt: []string{"pdf", "exe"}, Reason: "Relay access denied"}
	var got []string
	rs.Evaluate(ev, func(a *schema.Alert) {
		if a.Event != ev || a.Engine != "sigma" || len(a.Tags) == 0 {
			t.Errorf("alert: %+v", a)
		}
		got = append(got, a.RuleTitle+"@"+a.RuleFile)
	})
	if strings.Join(got, ",") != "Exe@rules/sigma/data/exe2.yml,Exe@rules/sigma/exe.yml,Exe@rules/sigma/nested/relay.yaml" {
		t.Errorf("alerts in rule order: %v", got)
	}
}

func TestLoadReportsEveryErrorAndDuplicateIDs(t *testing.T) {
	fsys := fstest.MapFS{
		"a.yml": {Data: []byte(exeRule)},
		"b.yml": {Data: []byte(exeRule)}, // same id
		"c.yml": {Data: []byte(strings.ReplaceAll(strings.ReplaceAll(exeRule, "11111111", "33333333"), "attachment_ext", "attachmnt_ext"))},
		"d.yml": {Data: []byte(strings.ReplaceAll(strings.ReplaceAll(exeRule, "11111111", "44444444"), "condition: sel", "condition: sel and missing"))},
	}
	rs, err := Load(Source{FS: fsys, Display: "r"})
	if rs != nil || err == nil {
		t.Fatal("broken rules loaded")
	}
	le, ok := err.(*LoadError)
	if !ok {
		t.Fatalf("want *LoadError, got %T", err)
	}
	msg := err.Error()
	for _, want := range []string{"r/b.yml:1:1: rule id 11111111-2222-4333-8444-555555555555 is already used by r/a.yml", "r/c.yml:6:", "r/d.yml:7:"} {
		if !strings.Contains(msg, want) {
			t.Errorf("errors lack %q:\n%s", want, msg)
		}
	}
	if !strings.HasPrefix(msg, "r/b.yml") || !strings.Contains(msg, "r/c.yml:6:5: unknown field \"attachmnt_ext\" (did you mean \"attachment_ext\"?)\nr/d.yml") {
		t.Errorf("errors not sorted by position:\n%s", msg)
	}
	if len(le.Errors) != 3 {
		t.Errorf("want 3 errors, got %d:\n%s", len(le.Errors), msg)
	}
}

func TestDirSourceErrors(t *testing.T) {
	if _, err := DirSource("does/not/exist"); err == nil {
		t.Error("missing dir accepted")
	}
	if _, err := DirSource("engine_test.go"); err == nil || !strings.Contains(err.Error(), "not a directory") {
		t.Errorf("file accepted as rule dir: %v", err)
	}
}

func TestDescribe(t *testing.T) {
	e := &schema.Event{Recipient: "ap@corp.example", SrcIP: "203.0.113.17", AttachmentName: []string{"a.pdf.exe", "b.js"}}
	e.SetSender("")
	if got, want := Describe("T", e), "T: <> -> ap@corp.example, client 203.0.113.17, attachments a.pdf.exe, b.js"; got != want {
		t.Errorf("-%s\n+%s", want, got)
	}
	r := &schema.Event{EventType: schema.TypeReject, SrcIP: "192.0.2.1", Reason: "Relay access denied"}
	if got, want := Describe("R", r), "R: client 192.0.2.1, Relay access denied"; got != want {
		t.Errorf("-%s\n+%s", want, got)
	}
	if got := Describe("X", &schema.Event{}); got != "X" {
		t.Errorf("empty event: %q", got)
	}
}

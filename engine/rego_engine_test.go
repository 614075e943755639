package engine

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/detect-dev/detect/engine/rego"
	"github.com/detect-dev/detect/schema"
)

// exeRego is exeRule in Rego, with its extension list in data.
const exeRego = `# METADATA
# title: Exe (Rego)
# custom:
#   id: 22222222-2222-4333-8444-555555555555
#   level: high
#   tags: [attack.t1566.001]
#   requires: [attachment_ext]
package detect.rules.exe

alert contains {"message": sprintf("%s attached", [ext]), "ext": ext} if {
	some ext in input.attachment_ext
	ext in data.config.exts
}
`

const exeRegoTest = `package detect.rules.exe_test

import data.detect.rules.exe

test_exe if count(exe.alert) == 1 with input as {"attachment_ext": ["exe"]}

test_wrong if count(exe.alert) == 2 with input as {"attachment_ext": ["exe"]}
`

func mixedTree() fstest.MapFS {
	return fstest.MapFS{
		"sigma/exe.yml":      {Data: []byte(exeRule)},
		"rego/exe.rego":      {Data: []byte(exeRego)},
		"rego/exe_test.rego": {Data: []byte(exeRegoTest)},
		"data/config.yaml":   {Data: []byte("exts: [exe, scr]\n")},
	}
}

// A Sigma rule and a Rego rule in one rule set fire on the same event with
// alerts of the same shape.
func TestSigmaAndRegoInOneRuleset(t *testing.T) {
	rs, err := Load(Source{FS: mixedTree(), Display: "rules"})
	if err != nil {
		t.Fatal(err)
	}
	var files []string
	for _, r := range rs.Rules() {
		files = append(files, r.Engine+":"+r.File+":"+r.ID)
	}
	want := []string{
		"rego:rules/rego/exe.rego:22222222-2222-4333-8444-555555555555",
		"sigma:rules/sigma/exe.yml:11111111-2222-4333-8444-555555555555",
	}
	if !slices.Equal(files, want) {
		t.Errorf("rules -want +got\n-%v\n+%v", want, files)
	}
	ev := &schema.Event{Sender: "a@evil.example", HasSender: true, Recipient: "b@corp.example", AttachmentExt: []string{"pdf", "exe"}}
	var alerts []*schema.Alert
	rs.Evaluate(ev, func(a *schema.Alert) { alerts = append(alerts, a) })
	if len(alerts) != 2 {
		t.Fatalf("alerts: %+v", alerts)
	}
	rg, sg := alerts[0], alerts[1]
	if rg.Engine != EngineRego || rg.Message != "exe attached" || rg.Fields["ext"] != "exe" || rg.Event != ev ||
		rg.Level != "high" || !slices.Equal(rg.Tags, []string{"attack.t1566.001"}) || rg.RuleTitle != "Exe (Rego)" {
		t.Errorf("rego alert: %+v", rg)
	}
	if sg.Engine != EngineSigma || sg.Event != ev {
		t.Errorf("sigma alert: %+v", sg)
	}
	// Same shape: the same JSON keys, plus the Rego rule's fields.
	keys := func(a *schema.Alert) []string {
		b, _ := json.Marshal(a)
		var m map[string]any
		_ = json.Unmarshal(b, &m)
		var out []string
		for k := range m {
			out = append(out, k)
		}
		slices.Sort(out)
		return out
	}
	rk, sk := keys(rg), keys(sg)
	if want := slices.Insert(slices.Clone(sk), slices.Index(sk, "level"), "fields"); !slices.Equal(rk, want) {
		t.Errorf("alert keys differ: rego %v, sigma %v", rk, sk)
	}
	r, _ := rs.Rule("22222222-2222-4333-8444-555555555555")
	if !r.Match(ev) || r.Match(&schema.Event{AttachmentExt: []string{"pdf"}}) {
		t.Error("Rule.Match of a Rego rule")
	}
}

func TestDataFilesOverrideTheTree(t *testing.T) {
	override := filepath.Join(t.TempDir(), "site.yaml")
	if err := os.WriteFile(override, []byte("exts: [scr]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	rs, err := LoadWith(Options{DataFiles: []string{override}}, Source{FS: mixedTree(), Display: "rules"})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	rs.Evaluate(&schema.Event{AttachmentExt: []string{"exe"}}, func(a *schema.Alert) {
		if a.Engine == EngineRego {
			n++
		}
	})
	if n != 0 {
		t.Errorf("exe still alerts with exts: [scr]")
	}
	if err := os.WriteFile(override, []byte("exts: [scr\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = LoadWith(Options{DataFiles: []string{override}}, Source{FS: mixedTree(), Display: "rules"})
	var re *rego.Error
	if !errors.As(err, &re) || !strings.HasPrefix(err.Error(), filepath.ToSlash(override)+":1:1: data: yaml:") {
		t.Errorf("broken data file: %v", err)
	}
	if _, err := LoadWith(Options{DataFiles: []string{"does/not/exist.yaml"}}, Source{FS: mixedTree(), Display: "rules"}); err == nil {
		t.Error("missing data file accepted")
	}
}

// Ids are unique across engines, and Rego load errors are collected,
// positioned and sorted with the Sigma ones.
func TestRegoErrorsJoinSigmaErrors(t *testing.T) {
	fsys := mixedTree()
	fsys["rego/dup.rego"] = &fstest.MapFile{Data: []byte(strings.ReplaceAll(strings.ReplaceAll(exeRego, "22222222", "11111111"), "rules.exe", "rules.dup"))}
	fsys["rego/typo.rego"] = &fstest.MapFile{Data: []byte(strings.ReplaceAll(strings.ReplaceAll(exeRego, "22222222", "44444444"), "rules.exe\n", "rules.typo\n\nx := input.attachmnt_ext\n"))}
	fsys["sigma/bad.yml"] = &fstest.MapFile{Data: []byte(strings.ReplaceAll(strings.ReplaceAll(exeRule, "11111111", "55555555"), "attachment_ext", "attachmnt_ext"))}
	rs, le := LoadAll(Source{FS: fsys, Display: "r"})
	if le == nil {
		t.Fatal("no errors")
	}
	var got []string
	for _, err := range le.Errors {
		got = append(got, err.Error())
	}
	want := []string{
		`r/rego/typo.rego:10:6: undefined ref input.attachmnt_ext: the event schema has no field "attachmnt_ext" (did you mean "attachment_ext"?)`,
		`r/sigma/bad.yml:6:5: unknown field "attachmnt_ext" (did you mean "attachment_ext"?)`,
		`r/sigma/exe.yml:1:1: rule id 11111111-2222-4333-8444-555555555555 is already used by r/rego/dup.rego:8 ("Exe (Rego)"); ids must be unique`,
	}
	if !slices.Equal(got, want) {
		t.Errorf("errors -want +got\n-%s\n+%s", strings.Join(want, "\n-"), strings.Join(got, "\n+"))
	}
	// The Sigma rule, second in file order, lost its id to the Rego one.
	if _, ok := rs.Rule("11111111-2222-4333-8444-555555555555"); !ok || rs.Len() != 2 {
		t.Errorf("rules kept: %d", rs.Len())
	}
	ids := DeclaredIDs(Source{FS: fsys, Display: "r"})
	for _, id := range []string{"22222222-2222-4333-8444-555555555555", "44444444-2222-4333-8444-555555555555"} {
		if !ids[id] {
			t.Errorf("DeclaredIDs lacks %s (broken rules declare ids too)", id)
		}
	}
}

func TestLintCoversRego(t *testing.T) {
	fsys := mixedTree()
	fsys["rego/typo.rego"] = &fstest.MapFile{Data: []byte(strings.ReplaceAll(strings.ReplaceAll(exeRego, "22222222", "44444444"), "rules.exe\n", "rules.typo\n\nx := input.attachmnt_ext\n"))}
	fsys["rego/loose.rego"] = &fstest.MapFile{Data: []byte(strings.ReplaceAll(strings.ReplaceAll(exeRego, "22222222", "66666666"), "rules.exe\n", "rules.loose\n"))}
	fsys["rego/loose.rego"].Data = []byte(strings.Replace(string(fsys["rego/loose.rego"].Data), "[attachment_ext]", "[attachment_ext, delivery]", 1))
	var got []string
	for _, d := range Lint(Source{FS: fsys, Display: "r"}) {
		got = append(got, d.String())
	}
	for _, want := range []string{
		`r/rego/loose.rego:7:5: error: custom.requires names event types (delivery), but not every alert checks them`,
		`r/rego/typo.rego:10:6: error: undefined ref input.attachmnt_ext`,
	} {
		found := false
		for _, g := range got {
			found = found || strings.HasPrefix(g, want)
		}
		if !found {
			t.Errorf("lint lacks %q:\n%s", want, strings.Join(got, "\n"))
		}
	}
}

func TestRegoTestsAndProblems(t *testing.T) {
	rs, err := Load(Source{FS: mixedTree(), Display: "rules"})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range rs.RegoTests(context.Background()) {
		got = append(got, r.Name+" "+map[bool]string{true: "pass", false: "FAIL"}[r.Pass])
	}
	if want := []string{"detect.rules.exe_test.test_exe pass", "detect.rules.exe_test.test_wrong FAIL"}; !slices.Equal(got, want) {
		t.Errorf("rego tests -want +got\n-%v\n+%v", want, got)
	}

	fsys := mixedTree()
	fsys["rego/slow.rego"] = &fstest.MapFile{Data: []byte(`# METADATA
# title: Slow
# custom:
#   id: 77777777-2222-4333-8444-555555555555
#   requires: [subject]
package detect.rules.slow

alert contains "never" if {
	some i in numbers.range(1, 100000)
	some j in numbers.range(1, 100000)
	i * j == count(input.subject) - 100
}
`)}
	rs, err = LoadWith(Options{Budget: 20 * time.Millisecond}, Source{FS: fsys, Display: "rules"})
	if err != nil {
		t.Fatal(err)
	}
	ev := &schema.Event{Subject: "x", AttachmentExt: []string{"exe"}, SourceFile: "mail.log", SourceLine: 3}
	n := 0
	rs.Evaluate(ev, func(*schema.Alert) { n++ })
	if n != 2 {
		t.Errorf("%d alerts; the slow rule must not cost the others theirs", n)
	}
	probs := rs.Problems()
	if len(probs) != 1 || !strings.HasPrefix(probs[0], "rules/rego/slow.rego:6: Slow (77777777-2222-4333-8444-555555555555) exceeded the 20ms time budget on 1 event(s); first: mail.log:3") {
		t.Errorf("problems: %q", probs)
	}
}

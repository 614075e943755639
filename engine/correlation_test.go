package engine

import (
	"strings"
	"testing"
	"testing/fstest"
)

const baseRule = `title: auth failure
id: 11111111-2222-4333-8444-000000000001
name: auth_failure
logsource: {category: email}
detection:
  sel: {event_type: auth, action: failed}
  condition: sel
level: low
`

func loadText(files map[string]string) (*Ruleset, *LoadError) {
	fsys := fstest.MapFS{}
	for name, text := range files {
		fsys[name] = &fstest.MapFile{Data: []byte(text)}
	}
	return LoadAll(Source{FS: fsys, Display: "rules"})
}

func TestCorrelationGenerate(t *testing.T) {
	corr := `title: c
id: 11111111-2222-4333-8444-000000000002
correlation:
  type: event_count
  rules: [auth_failure]
  group-by: [src_ip, auth_user]
  timespan: 10m
  condition: {gte: 3}
level: high
`
	rs, le := loadText(map[string]string{"a.yml": baseRule + "---\n" + corr})
	if le != nil {
		t.Fatal(le)
	}
	base, _ := rs.Rule("11111111-2222-4333-8444-000000000001")
	c, _ := rs.Rule("11111111-2222-4333-8444-000000000002")
	if base.Generate || !c.Generate || !rs.Stateful() {
		t.Errorf("referenced base rule must not generate: base %v corr %v", base.Generate, c.Generate)
	}
	// generate: true on the base rule, or in the correlation, keeps it.
	rs, le = loadText(map[string]string{"a.yml": strings.Replace(baseRule, "level: low", "level: low\ngenerate: true", 1) + "---\n" + corr})
	if le != nil {
		t.Fatal(le)
	}
	if base, _ := rs.Rule("11111111-2222-4333-8444-000000000001"); !base.Generate {
		t.Errorf("generate: true ignored")
	}
	rs, le = loadText(map[string]string{"a.yml": baseRule, "b.yml": strings.Replace(corr, "level: high", "level: high", 1) + "", "c.yml": ""})
	if le != nil {
		t.Fatal(le)
	}
	if base, _ := rs.Rule("11111111-2222-4333-8444-000000000001"); base.Generate {
		t.Errorf("a reference from another file must count")
	}
	rs, le = loadText(map[string]string{"a.yml": baseRule + "---\n" + strings.Replace(corr, "  condition: {gte: 3}", "  condition: {gte: 3}\n  generate: true", 1)})
	if le != nil {
		t.Fatal(le)
	}
	if base, _ := rs.Rule("11111111-2222-4333-8444-000000000001"); !base.Generate {
		t.Errorf("correlation generate: true ignored")
	}
}

func TestCorrelationErrors(t *testing.T) {
	head := "title: c\nid: 11111111-2222-4333-8444-00000000000%d\nlevel: high\ncorrelation:\n"
	for _, tc := range []struct{ name, body, want string }{
		{"unknown type", "  type: event_cnt\n  rules: [auth_failure]\n  timespan: 1m\n  condition: {gte: 1}\n", `rules/x.yml:14:9: correlation type "event_cnt" is not one of`},
		{"no timespan", "  type: event_count\n  rules: [auth_failure]\n  condition: {gte: 1}\n", "rules/x.yml:13:1: correlation has no timespan"},
		{"no condition", "  type: event_count\n  rules: [auth_failure]\n  timespan: 1m\n", "rules/x.yml:13:1: correlation has no condition"},
		{"bad timespan", "  type: event_count\n  rules: [auth_failure]\n  timespan: 10 minutes\n  condition: {gte: 1}\n", `rules/x.yml:16:13: timespan "10 minutes" is not a number`},
		{"unknown rule", "  type: event_count\n  rules: [auth_fail]\n  timespan: 1m\n  condition: {gte: 1}\n", `rules/x.yml:15:11: correlation refers to unknown rule "auth_fail"`},
		{"unknown field", "  type: value_count\n  rules: [auth_failure]\n  timespan: 1m\n  condition: {gte: 1, field: nope}\n", `rules/x.yml:17:30: unknown field "nope"`},
		{"value without field", "  type: value_count\n  rules: [auth_failure]\n  timespan: 1m\n  condition: {gte: 1}\n", "rules/x.yml:13:1: a value_count correlation needs a field"},
		{"bad op", "  type: event_count\n  rules: [auth_failure]\n  timespan: 1m\n  condition: {over: 1}\n", `rules/x.yml:17:15: condition operator "over"`},
		{"self", "  type: event_count\n  rules: [c2]\n  timespan: 1m\n  condition: {gte: 1}\nname: c2\n", "rules/x.yml:15:11: correlation cycle"},
	} {
		text := baseRule + "---\n" + strings.Replace(head, "%d", "2", 1) + tc.body
		_, le := loadText(map[string]string{"x.yml": text})
		if le == nil || !strings.Contains(le.Error(), tc.want) {
			t.Errorf("%s: got %v\nwant %s", tc.name, le, tc.want)
		}
	}
	// A cycle between two correlations.
	two := baseRule + "---\n" + "title: a\nid: 11111111-2222-4333-8444-000000000003\nname: ca\ncorrelation: {type: event_count, rules: [cb], timespan: 1m, condition: {gte: 1}}\n" +
		"---\ntitle: b\nid: 11111111-2222-4333-8444-000000000004\nname: cb\ncorrelation: {type: event_count, rules: [ca], timespan: 1m, condition: {gte: 1}}\n"
	_, le := loadText(map[string]string{"x.yml": two})
	if le == nil || strings.Count(le.Error(), "correlation cycle") != 2 {
		t.Errorf("cycle: %v", le)
	}
	if d := Lint(Source{FS: fstest.MapFS{"x.yml": &fstest.MapFile{Data: []byte(two)}}, Display: "rules"}); len(d) == 0 || !strings.Contains(d[len(d)-1].Msg+d[0].Msg, "cycle") {
		t.Errorf("lint does not report the cycle: %v", d)
	}
}

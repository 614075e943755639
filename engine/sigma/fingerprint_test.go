package sigma

import (
	"strings"
	"testing"
)

func TestFingerprint(t *testing.T) {
	const base = `title: t
id: 11111111-2222-4333-8444-000000000001
logsource: {category: email}
detection:
  sel: {event_type: auth, action: failed}
  condition: sel
level: low
---
title: c
id: 11111111-2222-4333-8444-000000000002
correlation: {type: event_count, rules: [11111111-2222-4333-8444-000000000001], timespan: 10m, condition: {gte: 3}}
`
	fps := func(text string) [2]string {
		t.Helper()
		rules, err := ParseFile("x.yml", []byte(text))
		if err != nil || len(rules) != 2 {
			t.Fatalf("%v %d", err, len(rules))
		}
		return [2]string{rules[0].Fingerprint, rules[1].Fingerprint}
	}
	want := fps(base)
	if want[0] == "" || want[1] == "" || want[0] == want[1] {
		t.Fatalf("fingerprints %q", want)
	}
	for _, tc := range []struct {
		name, old, new string
		same           [2]bool
	}{
		{"title and level", "title: t\n", "title: renamed\nstatus: test\n", [2]bool{true, true}},
		{"layout and comments", "  sel: {event_type: auth, action: failed}\n", "  sel: # failures\n    event_type: 'auth'\n    action: \"failed\"\n", [2]bool{true, true}},
		{"generate", "condition: {gte: 3}}", "condition: {gte: 3}, generate: true}", [2]bool{true, true}},
		{"detection value", "action: failed}", "action: succeeded}", [2]bool{false, true}},
		{"logsource", "logsource: {category: email}", "logsource: {category: email, product: exim}", [2]bool{false, true}},
		{"threshold", "gte: 3", "gte: 4", [2]bool{true, false}},
		{"timespan", "10m", "11m", [2]bool{true, false}},
		{"list vs scalar", "condition: sel\n", "condition: [sel]\n", [2]bool{false, true}},
	} {
		got := fps(strings.Replace(base, tc.old, tc.new, 1))
		for i := range 2 {
			if (got[i] == want[i]) != tc.same[i] {
				t.Errorf("%s: rule %d fingerprint unchanged = %v, want %v", tc.name, i, got[i] == want[i], tc.same[i])
			}
		}
	}
}

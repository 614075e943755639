package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestSuppressFlag scans relay rejects of one client at minutes 0, 1, 2,
// 5, 6 and 7 with a rule that fires on two within a minute. Without
// --suppress the group is quiet until the window that alerted has passed,
// so pairs (0,1) and (5,6) alert; --suppress 10m silences the second.
func TestSuppressFlag(t *testing.T) {
	dir := t.TempDir()
	rules := `title: relay reject
id: 11111111-2222-4333-8444-0000000000a1
name: relay_reject
logsource: {category: email}
detection:
  sel: {event_type: reject}
  condition: sel
---
title: reject pair
id: 11111111-2222-4333-8444-0000000000a2
correlation: {type: event_count, rules: [relay_reject], group-by: [src_ip], timespan: 1m, condition: {gte: 2}}
level: high
`
	if err := os.WriteFile(filepath.Join(dir, "pair.yml"), []byte(rules), 0o644); err != nil {
		t.Fatal(err)
	}
	var log strings.Builder
	for _, min := range []int{0, 1, 2, 5, 6, 7} {
		fmt.Fprintf(&log, "2026-11-27T08:%02d:00+00:00 mx1 postfix/smtpd[1201]: NOQUEUE: reject: RCPT from unknown[203.0.113.66]: 554 5.7.1 <v@elsewhere.example>: Relay access denied; from=<s@bulk.example> to=<v@elsewhere.example> proto=ESMTP helo=<bulk.example>\n", min)
	}
	for _, tc := range []struct {
		flags []string
		want  int
	}{
		{nil, 2},
		{[]string{"--suppress", "10m"}, 1},
	} {
		args := append([]string{"scan", "-q", "--rules", dir, "--out-format", "jsonl"}, tc.flags...)
		code, out, stderr := detect(t, log.String(), append(args, "-")...)
		if code != 0 {
			t.Fatalf("%v: exit %d: %s", tc.flags, code, stderr)
		}
		if got := strings.Count(out, `"rule_title":"reject pair"`); got != tc.want {
			t.Errorf("%v: %d alerts, want %d:\n%s", tc.flags, got, tc.want, out)
		}
	}
}

// TestWindowedRegoCases runs detect test on a windowed Rego rule: its
// cases go through the same windows as a scan (a case that fires, one that
// stays quiet, one that checks the group), and an OPA unit test gives it a
// window as input.
func TestWindowedRegoCases(t *testing.T) {
	dir := t.TempDir()
	files := map[string]string{
		"rules/rego/many_rejects.rego": `# METADATA
# title: Many rejects
# custom:
#   id: 11111111-2222-4333-8444-0000000000c1
#   level: medium
#   requires: [reject]
#   window: {group_by: [src_ip], span: 10m}
package detect.rules.many_rejects

alert contains sprintf("%d rejects from %s", [input.count, input.group.src_ip]) if input.count >= 3
`,
		"rules/rego/many_rejects_test.rego": `package detect.rules.many_rejects_test

import data.detect.rules.many_rejects

test_three if {
	many_rejects.alert == {"3 rejects from 192.0.2.7"} with input as {"group": {"src_ip": "192.0.2.7"}, "events": [], "count": 3, "start": "x", "end": "y"}
}
`,
		"tests/rule_cases/many_rejects.yml": `rule: 11111111-2222-4333-8444-0000000000c1
cases:
  - name: three rejects in ten minutes fire
    events:
      - {time: "2026-11-28T05:00:00Z", event_type: reject, src_ip: 192.0.2.7}
      - {time: "2026-11-28T05:04:00Z", event_type: reject, src_ip: 192.0.2.8}
      - {time: "2026-11-28T05:05:00Z", event_type: reject, src_ip: 192.0.2.7}
      - {time: "2026-11-28T05:10:00Z", event_type: reject, src_ip: 192.0.2.7}
    expect: {alerts: 1, match: {group: {src_ip: 192.0.2.7}, count: 3}}
  - name: the third one a second too late stays quiet
    events:
      - {time: "2026-11-28T05:00:00Z", event_type: reject, src_ip: 192.0.2.7}
      - {time: "2026-11-28T05:05:00Z", event_type: reject, src_ip: 192.0.2.7}
      - {time: "2026-11-28T05:10:01Z", event_type: reject, src_ip: 192.0.2.7}
      - {time: "2026-11-28T05:10:02Z", event_type: delivery, src_ip: 192.0.2.7}
    expect: {alerts: 0}
`,
	}
	for name, text := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	code, out, stderr := detect(t, "", "test", "--rules", filepath.Join(dir, "rules"), "--cases", filepath.Join(dir, "tests", "rule_cases"))
	if code != 0 || !strings.Contains(out, "3 passed, 0 failed") {
		t.Fatalf("exit %d\n%s\n%s", code, out, stderr)
	}
	code, out, stderr = detect(t, "", "lint", "--rules", filepath.Join(dir, "rules"), "--cases", filepath.Join(dir, "tests", "rule_cases"))
	if code != 0 {
		t.Fatalf("lint: exit %d\n%s\n%s", code, out, stderr)
	}
}

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

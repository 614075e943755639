package engine

import (
	"fmt"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/detect-dev/detect/engine/window"
	"github.com/detect-dev/detect/schema"
)

// A Sigma v1 rule with an aggregation: three failed logins from one
// client within the timeframe.
const legacyRule = `title: Brute force (v1)
id: 11111111-2222-4333-8444-000000000041
name: brute_v1
level: high
logsource: {category: email}
detection:
  sel: {event_type: auth, action: failed}
  timeframe: 5m
  condition: sel | count() by src_ip >= 3
`

func TestLegacyAggregation(t *testing.T) {
	fromIP := func(min int, ip, user string) *schema.Event {
		e := login(min, user, "failed")
		e.SrcIP = ip
		return e
	}
	for _, tc := range []struct {
		name, old, new string
		events         []*schema.Event
		want           string
	}{
		// a: 0, 2, 5 (exactly the timeframe after 0: inside): count 3.
		// b, interleaved: 1, 4, 7 (1 left the window by 7): none.
		// A success of a does not count.
		{"count by", "", "", []*schema.Event{
			fromIP(0, "a", "u"), fromIP(1, "b", "u"), fromIP(2, "a", "u"), fromIP(4, "b", "u"),
			login(4, "u", "succeeded"), fromIP(5, "a", "u"), fromIP(7, "b", "u"),
		}, "[map[src_ip:a] 3 0..5]"},
		// No timeframe: the default hour; 0, 30, 60 minutes fire.
		{"default timeframe", "  timeframe: 5m\n", "", []*schema.Event{
			fromIP(0, "a", "u"), fromIP(30, "a", "u"), fromIP(60, "a", "u"),
		}, "[map[src_ip:a] 3 0..60]"},
		// count(field): distinct users per client, over 2.
		{"count field", "count() by src_ip >= 3", "count(auth_user) by src_ip > 2", []*schema.Event{
			fromIP(0, "a", "u1"), fromIP(1, "a", "u1"), fromIP(2, "a", "u2"), fromIP(3, "a", "U1"), fromIP(4, "a", "u3"),
		}, "[map[src_ip:a] 3 0..4]"}, // u1, u2, u3 (U1 is u1) in the window [0,4]
		// Without by: one group for all clients.
		{"count without by", "count() by src_ip >= 3", "count() > 2", []*schema.Event{
			fromIP(0, "a", "u"), fromIP(1, "b", "u"), fromIP(2, "c", "u"),
		}, "[map[] 3 0..2]"},
	} {
		text := legacyRule
		if tc.old != "" {
			text = strings.Replace(text, tc.old, tc.new, 1)
		}
		rs := mustLoad(t, map[string]string{"v1.yml": text})
		if rs.Len() != 1 || !rs.Stateful() {
			t.Fatalf("%s: %d rules, stateful %v", tc.name, rs.Len(), rs.Stateful())
		}
		st := rs.NewState(window.Options{})
		var got []string
		emit := func(a *schema.Alert) {
			if a.RuleID != "11111111-2222-4333-8444-000000000041" || a.Level != "high" {
				t.Errorf("%s: alert %+v", tc.name, a)
			}
			got = append(got, fmt.Sprintf("%v %d %v..%v", a.Group, a.Count, a.Start.Sub(t0).Minutes(), a.End.Sub(t0).Minutes()))
		}
		for _, e := range tc.events {
			st.Event(e, emit)
		}
		st.Flush(emit)
		if fmt.Sprint(got) != tc.want {
			t.Errorf("%s:\n got %v\nwant %v", tc.name, got, tc.want)
		}
	}
}

func TestLegacyAggregationLintAndErrors(t *testing.T) {
	lint := func(text string) []string {
		var out []string
		for _, d := range Lint(Source{FS: fstest.MapFS{"v1.yml": {Data: []byte(text)}}, Display: "rules"}) {
			out = append(out, d.String())
		}
		return out
	}
	want := "rules/v1.yml:9:18: warning: aggregation \"| count() by src_ip >= 3\" is deprecated (Sigma v1); it runs as a correlation of type event_count over this rule's matches (5m0s timeframe). " +
		"Sigma v2: keep this rule's title, id and level for a correlation rule with correlation: {type: event_count, rules: [brute_v1], group-by: [src_ip], timespan: 5m, condition: {gte: 3}}, " +
		"and make this document its base rule: drop the aggregation and timeframe, give it a new id, name: brute_v1 and generate: false"
	if got := lint(legacyRule); fmt.Sprint(got) != fmt.Sprint([]string{want}) {
		t.Errorf("lint:\n got %q\nwant %q", got, want)
	}
	got := lint(strings.Replace(legacyRule, "  timeframe: 5m\n", "", 1))
	if len(got) != 1 || !strings.Contains(got[0], "(no timeframe, so the default 1h0m0s)") || !strings.Contains(got[0], "timespan: 1h,") {
		t.Errorf("lint without timeframe: %q", got)
	}
	// Without a name the rewrite proposes one from the title.
	got = lint(strings.Replace(legacyRule, "name: brute_v1\n", "", 1))
	if len(got) != 1 || !strings.Contains(got[0], "rules: [brute_force_v1]") || !strings.Contains(got[0], "name: brute_force_v1 and") {
		t.Errorf("lint without a name: %q", got)
	}

	// The rewrite, done as the warning says, loads, lints clean of it and
	// alerts like the v1 rule, under the same id.
	v2 := strings.NewReplacer("id: 11111111-2222-4333-8444-000000000041\nname: brute_v1\nlevel: high\n",
		"id: 11111111-2222-4333-8444-000000000042\nname: brute_v1\ngenerate: false\n",
		"  timeframe: 5m\n  condition: sel | count() by src_ip >= 3\n", "  condition: sel\n").Replace(legacyRule) +
		"---\ntitle: Brute force (v1)\nid: 11111111-2222-4333-8444-000000000041\nlevel: high\n" +
		"correlation: {type: event_count, rules: [brute_v1], group-by: [src_ip], timespan: 5m, condition: {gte: 3}}\n"
	for _, d := range lint(v2) {
		if strings.Contains(d, "deprecated") {
			t.Errorf("rewrite still warns: %s", d)
		}
	}
	rs := mustLoad(t, map[string]string{"v2.yml": v2})
	st := rs.NewState(window.Options{})
	var ids []string
	for _, m := range []int{0, 1, 2} {
		e := login(m, "u", "failed")
		e.SrcIP = "a"
		st.Event(e, func(a *schema.Alert) { ids = append(ids, a.RuleID) })
	}
	if fmt.Sprint(ids) != "[11111111-2222-4333-8444-000000000041]" {
		t.Errorf("rewrite alerts %v, want the v1 rule's id once", ids)
	}
	for _, tc := range []struct{ name, old, new, want string }{
		{"unknown by field", "by src_ip", "by clnt", `rules/v1.yml:9:31: condition: unknown field "clnt"`},
		{"unknown count field", "count()", "count(usr)", `rules/v1.yml:9:26: condition: unknown field "usr"`},
		{"bad timeframe", "timeframe: 5m", "timeframe: 5 min", `rules/v1.yml:8:14: timeframe: timespan "5 min" is not a number`},
		{"two by fields", "by src_ip", "by src_ip, auth_user", "group-by: [src_ip, auth_user]"},
		{"min", "count() by src_ip", "min(size) by src_ip", "min has no Sigma v2 correlation type"},
		{"inside parentheses", "sel | count() by src_ip >= 3", "(sel | count() by src_ip >= 3)", "rules/v1.yml:9:19: condition: an aggregation (| count() ...) must end the condition"},
		{"list of conditions", "  condition: sel | count() by src_ip >= 3", "  condition:\n    - sel | count() by src_ip >= 3\n    - sel", "condition: an aggregation in a list of conditions is not translated"},
	} {
		_, le := loadText(map[string]string{"v1.yml": strings.Replace(legacyRule, tc.old, tc.new, 1)})
		if le == nil || !strings.Contains(le.Error(), tc.want) {
			t.Errorf("%s:\n got %v\nwant %s", tc.name, le, tc.want)
		}
	}
}

// TestLegacyAggregationInAChain: a v2 correlation may count the alerts of
// a v1 aggregation; the rule's single matches feed only its own count.
func TestLegacyAggregationInAChain(t *testing.T) {
	chain := legacyRule + `---
title: auth ok
id: 11111111-2222-4333-8444-000000000044
name: auth_ok
logsource: {category: email}
detection:
  sel: {event_type: auth, action: succeeded}
  condition: sel
---
title: Brute force then success
id: 11111111-2222-4333-8444-000000000045
correlation:
  type: temporal_ordered
  rules: [brute_v1, auth_ok]
  group-by: [src_ip]
  timespan: 10m
`
	rs := mustLoad(t, map[string]string{"v1.yml": chain})
	st := rs.NewState(window.Options{})
	var got []string
	emit := func(a *schema.Alert) { got = append(got, fmt.Sprintf("%s %v", a.RuleTitle, a.Group)) }
	at := func(min int, ip, action string) *schema.Event {
		e := login(min, "u", action)
		e.SrcIP = ip
		return e
	}
	// a: one failure, then a success: no brute force, so no chain; nor
	// for a success without a client (the group a failure would be read
	// into, were it taken for the v1 rule's alert).
	// b: three failures (the v1 rule's alert, not alerting on its own
	// now that a correlation refers to it), then a success.
	for _, e := range []*schema.Event{at(0, "a", "failed"), at(1, "a", "succeeded"), at(1, "", "succeeded"),
		at(2, "b", "failed"), at(3, "b", "failed"), at(4, "b", "failed"), at(5, "b", "succeeded")} {
		st.Event(e, emit)
	}
	st.Flush(emit)
	if want := "[Brute force then success map[src_ip:b]]"; fmt.Sprint(got) != want {
		t.Errorf("alerts %v, want %s", got, want)
	}
}

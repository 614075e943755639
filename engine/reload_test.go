package engine

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/detect-dev/detect/engine/window"
	"github.com/detect-dev/detect/schema"
)

const (
	reloadSuccess = `title: auth success
id: 11111111-2222-4333-8444-000000000011
name: auth_success
logsource: {category: email}
detection:
  sel: {event_type: auth, action: succeeded}
  condition: sel
`
	// Three failures from one client in 10 minutes.
	reloadCount = `title: brute force
id: 11111111-2222-4333-8444-000000000012
correlation:
  type: event_count
  rules: [auth_failure]
  group-by: [src_ip]
  timespan: 10m
  condition: {gte: 3}
`
	// A failure, then a success, from one client within an hour.
	reloadOrdered = `title: guessed
id: 11111111-2222-4333-8444-000000000013
correlation:
  type: temporal_ordered
  rules: [auth_failure, auth_success]
  group-by: [src_ip]
  timespan: 1h
`
	// Sorts first, so its base rule takes slot 0 and every other
	// referenced rule moves by one.
	reloadShift = `title: rejects
id: 11111111-2222-4333-8444-000000000014
name: rejects
logsource: {category: email}
detection:
  sel: {event_type: reject}
  condition: sel
---
title: reject storm
id: 11111111-2222-4333-8444-000000000015
correlation: {type: event_count, rules: [rejects], timespan: 1m, condition: {gte: 100}}
`
)

func auth(min int, ip, action string) *schema.Event {
	return &schema.Event{Time: t0.Add(time.Duration(min) * time.Minute), EventType: schema.TypeAuth, Action: action, SrcIP: ip}
}

var t0 = time.Date(2026, 11, 28, 5, 0, 0, 0, time.UTC)

func mustLoad(t *testing.T, files map[string]string) *Ruleset {
	t.Helper()
	rs, le := loadText(files)
	if le != nil {
		t.Fatal(le)
	}
	return rs
}

// feed runs events through st and returns "title group count start" for
// each correlation alert, start in minutes after t0.
func feed(st *State, events ...*schema.Event) []string {
	var out []string
	emit := func(a *schema.Alert) {
		if a.Group != nil {
			out = append(out, fmt.Sprintf("%s %v %d %v", a.RuleTitle, a.Group, a.Count, a.Start.Sub(t0).Minutes()))
		}
	}
	for _, e := range events {
		st.Event(e, emit)
	}
	return out
}

func TestNewStateFrom(t *testing.T) {
	before := mustLoad(t, map[string]string{"a.yml": baseRule + "---\n" + reloadSuccess, "b.yml": reloadCount, "c.yml": reloadOrdered})
	st := before.NewState(window.Options{})
	// Two failures from a (one short of the threshold) and one from b.
	if got := feed(st, auth(0, "a", "failed"), auth(1, "a", "failed"), auth(2, "b", "failed")); len(got) != 0 {
		t.Fatalf("alerts before the reload: %v", got)
	}

	// Same definitions, new title and a rule that renumbers the slots:
	// the counts carry over, so the third failure of a fires with count 3
	// from minute 0, and b's success completes the ordered pair.
	retitled := strings.Replace(reloadCount, "title: brute force", "title: brute force (renamed)", 1)
	after := mustLoad(t, map[string]string{"0.yml": reloadShift, "a.yml": baseRule + "---\n" + reloadSuccess, "b.yml": retitled, "c.yml": reloadOrdered})
	st = after.NewStateFrom(st, window.Options{})
	got := feed(st, auth(3, "a", "failed"), auth(4, "b", "succeeded"))
	want := []string{"brute force (renamed) map[src_ip:a] 3 0", "guessed map[src_ip:b] 2 2"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("unchanged rules after reload:\n got %v\nwant %v", got, want)
	}
	if st.Window().Watermark != t0.Add(4*time.Minute) {
		t.Errorf("watermark %v not carried", st.Window().Watermark)
	}

	// A rule whose definition changed starts empty: with counts carried,
	// gte 2 would fire on c's next failure (2 before + 1); fresh, it needs
	// two new ones. The removed ordered rule leaves no state behind.
	st = before.NewState(window.Options{})
	feed(st, auth(0, "c", "failed"), auth(1, "c", "failed"))
	lowered := strings.Replace(reloadCount, "gte: 3", "gte: 2", 1)
	changed := mustLoad(t, map[string]string{"a.yml": baseRule + "---\n" + reloadSuccess, "b.yml": lowered})
	st = changed.NewStateFrom(st, window.Options{})
	if _, ok := st.Window().Groups["11111111-2222-4333-8444-000000000013"]; ok {
		t.Errorf("removed rule kept its state")
	}
	if got := feed(st, auth(2, "c", "failed")); len(got) != 0 {
		t.Errorf("changed threshold kept the old counts: %v", got)
	}
	if got := feed(st, auth(3, "c", "failed")); fmt.Sprint(got) != "[brute force map[src_ip:c] 2 2]" {
		t.Errorf("changed rule after two new failures: %v", got)
	}

	// A change in a referenced rule's detection also starts fresh.
	st = before.NewState(window.Options{})
	feed(st, auth(0, "d", "failed"), auth(1, "d", "failed"))
	narrower := strings.Replace(baseRule, "action: failed}", "action: failed, protocol: esmtp}", 1)
	rs := mustLoad(t, map[string]string{"a.yml": narrower + "---\n" + reloadSuccess, "b.yml": reloadCount})
	st = rs.NewStateFrom(st, window.Options{})
	e := auth(2, "d", "failed")
	e.Protocol = "esmtp"
	if got := feed(st, e); len(got) != 0 {
		t.Errorf("changed base rule kept the old counts: %v", got)
	}

	// nil prev is an empty State.
	if st := before.NewStateFrom(nil, window.Options{}); st.Window().Len() != 0 {
		t.Errorf("state from nil holds %d groups", st.Window().Len())
	}
}

// TestNewStateFromChain: a reload that renumbers the slots (a new rule
// sorts first) keeps a chain's state: the chained correlation's alert,
// counted before the reload, still precedes the success counted after.
// Changing the chained correlation starts the chain that refers to it
// afresh too.
func TestNewStateFromChain(t *testing.T) {
	st := mustLoad(t, map[string]string{"chain.yml": chainRules}).NewState(window.Options{})
	var got []string
	emit := func(a *schema.Alert) { got = append(got, fmt.Sprintf("%s %v", a.RuleTitle, a.Group)) }
	for _, m := range []int{0, 1, 2} {
		st.Event(login(m, "u1", "failed"), emit)
	}
	prev := st
	st = mustLoad(t, map[string]string{"0.yml": reloadShift, "chain.yml": chainRules}).NewStateFrom(prev, window.Options{})
	st.Event(login(3, "u1", "succeeded"), emit)
	if want := "[Failed logins then success map[auth_user:u1]]"; fmt.Sprint(got) != want {
		t.Errorf("after the reload: %v, want %s", got, want)
	}

	got = nil
	st = mustLoad(t, map[string]string{"chain.yml": chainRules}).NewState(window.Options{})
	for _, m := range []int{0, 1, 2} {
		st.Event(login(m, "u1", "failed"), emit)
	}
	changed := strings.Replace(chainRules, "condition: {gte: 3}", "condition: {gte: 4}", 1)
	st = mustLoad(t, map[string]string{"chain.yml": changed}).NewStateFrom(st, window.Options{})
	st.Event(login(3, "u1", "succeeded"), emit)
	if len(got) != 0 {
		t.Errorf("a changed chained correlation kept the chain's state: %v", got)
	}
	for id, groups := range st.Window().Groups {
		if len(groups) != 0 && id != "11111111-2222-4333-8444-000000000024" {
			t.Errorf("rule %s kept %d groups", id, len(groups))
		}
	}
}

package engine

import (
	"fmt"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/detect-dev/detect/engine/window"
	"github.com/detect-dev/detect/schema"
)

// The specification's example, for mail: three failed logins of one user
// within 10 minutes (a correlation that only feeds the next), followed by
// a successful login of that user within 10 minutes.
const chainRules = `title: failed login
id: 11111111-2222-4333-8444-000000000021
name: failed_login
logsource: {category: email}
detection:
  sel: {event_type: auth, action: failed}
  condition: sel
---
title: successful login
id: 11111111-2222-4333-8444-000000000022
name: successful_login
logsource: {category: email}
detection:
  sel: {event_type: auth, action: succeeded}
  condition: sel
---
title: Multiple failed logins
id: 11111111-2222-4333-8444-000000000023
name: multiple_failed_login
correlation:
  type: event_count
  rules: [failed_login]
  group-by: [auth_user]
  timespan: 10m
  condition: {gte: 3}
---
title: Failed logins then success
id: 11111111-2222-4333-8444-000000000024
correlation:
  type: temporal_ordered
  rules: [multiple_failed_login, successful_login]
  group-by: [auth_user]
  timespan: 10m
level: high
`

func login(min int, user, action string) *schema.Event {
	return &schema.Event{Time: t0.Add(time.Duration(min) * time.Minute), EventType: schema.TypeAuth, Action: action, AuthUser: user}
}

func TestCorrelationChain(t *testing.T) {
	rs := mustLoad(t, map[string]string{"chain.yml": chainRules})
	if r, _ := rs.Rule("11111111-2222-4333-8444-000000000023"); r.Generate {
		t.Error("a chained correlation alerts on its own without generate: true")
	}
	// u1: three failures by minute 2 (the chained correlation fires at 2),
	//     success at 5: alert [2..5].
	// u2: success at 1 comes before its failures (3, 4, 5): no alert.
	// u3: failures by 2, success at 13, 11 minutes later: no alert.
	// u4: failures by 2, success at 12, exactly 10 minutes later: alert.
	var events []*schema.Event
	for _, x := range []struct {
		min          int
		user, action string
	}{
		{0, "u1", "failed"}, {0, "u3", "failed"}, {0, "u4", "failed"},
		{1, "u1", "failed"}, {1, "u2", "succeeded"}, {1, "u3", "failed"}, {1, "u4", "failed"},
		{2, "u1", "failed"}, {2, "u3", "failed"}, {2, "u4", "failed"},
		{3, "u2", "failed"}, {4, "u2", "failed"}, {5, "u2", "failed"}, {5, "u1", "succeeded"},
		{12, "u4", "succeeded"}, {13, "u3", "succeeded"},
	} {
		events = append(events, login(x.min, x.user, x.action))
	}
	st := rs.NewState(window.Options{Lateness: -1})
	var got []string
	var alerts []*schema.Alert
	emit := func(a *schema.Alert) {
		alerts = append(alerts, a)
		got = append(got, fmt.Sprintf("%s %v %v..%v", a.RuleTitle, a.Group, a.Start.Sub(t0).Minutes(), a.End.Sub(t0).Minutes()))
	}
	for _, e := range events {
		st.Event(e, emit)
	}
	st.Flush(emit)
	want := []string{"Failed logins then success map[auth_user:u1] 2..5", "Failed logins then success map[auth_user:u4] 2..12"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("alerts:\n got %v\nwant %v", got, want)
	}
	// The first event of the chained alert stands for the failures' alert.
	first := alerts[0].Events[0]
	if first.AuthUser != "u1" || !first.Time.Equal(t0.Add(2*time.Minute)) || !strings.HasPrefix(first.Reason, "Multiple failed logins: auth_user u1, 3 events") {
		t.Errorf("chained event: %+v", first)
	}

	// With generate: true the chained correlation alerts too: u1, u3, u4
	// at minute 2, u2 at 5 (before u1's success in input order).
	rs = mustLoad(t, map[string]string{"chain.yml": strings.Replace(chainRules, "  condition: {gte: 3}\n", "  condition: {gte: 3}\ngenerate: true\n", 1)})
	st = rs.NewState(window.Options{Lateness: -1})
	got = nil
	for _, e := range events {
		st.Event(e, emit)
	}
	st.Flush(emit)
	if n := strings.Count(strings.Join(got, "\n"), "Multiple failed logins"); n != 4 || len(got) != 6 {
		t.Errorf("with generate: true: %v", got)
	}
}

// Aliases: a failed login of an account and mail sent from the same
// address within 10 minutes, the account read from auth_user in one rule
// and sender in the other.
const aliasRules = `title: failed login
id: 11111111-2222-4333-8444-000000000031
name: failed_login
logsource: {category: email}
detection:
  sel: {event_type: auth, action: failed}
  condition: sel
---
title: outbound mail
id: 11111111-2222-4333-8444-000000000032
name: outbound_mail
logsource: {category: email}
detection:
  sel: {event_type: delivery}
  condition: sel
---
title: Failed login then mail
id: 11111111-2222-4333-8444-000000000033
correlation:
  type: temporal
  rules: [failed_login, outbound_mail]
  group-by: [account, src_ip]
  timespan: 10m
  aliases:
    account:
      failed_login: auth_user
      outbound_mail: sender
`

func TestCorrelationAliases(t *testing.T) {
	rs := mustLoad(t, map[string]string{"alias.yml": aliasRules})
	st := rs.NewState(window.Options{})
	var got []string
	emit := func(a *schema.Alert) { got = append(got, fmt.Sprintf("%v %d", a.Group, a.Count)) }
	mail := func(min int, sender, ip string) *schema.Event {
		return &schema.Event{Time: t0.Add(time.Duration(min) * time.Minute), EventType: schema.TypeDelivery, Sender: sender, SrcIP: ip}
	}
	fail := login(0, "a@x", "failed")
	fail.SrcIP = "192.0.2.1"
	other := login(1, "b@x", "failed")
	other.SrcIP = "192.0.2.1"
	// a@x fails and sends from the same client: alert. b@x fails, c@x
	// sends: no. a@x sends from another client: no (src_ip is a plain
	// group-by field of both rules).
	for _, e := range []*schema.Event{fail, other, mail(2, "c@x", "192.0.2.1"), mail(3, "a@x", "192.0.2.9"), mail(4, "a@x", "192.0.2.1")} {
		st.Event(e, emit)
	}
	st.Flush(emit)
	if want := "[map[account:a@x src_ip:192.0.2.1] 2]"; fmt.Sprint(got) != want {
		t.Errorf("alerts %v, want %v", got, want)
	}
}

func TestChainAndAliasErrors(t *testing.T) {
	for _, tc := range []struct{ name, old, new, want string }{
		{"chained group-by the alerts lack", "  rules: [multiple_failed_login, successful_login]\n  group-by: [auth_user]",
			"  rules: [multiple_failed_login, successful_login]\n  group-by: [src_ip]",
			`rules/x.yml:32:14: group-by src_ip: the alerts of correlation "multiple_failed_login" carry only its group-by (auth_user); add an alias`},
		{"alias of an unknown rule", "  timespan: 10m\nlevel: high", "  timespan: 10m\n  aliases: {who: {failed: auth_user}}\nlevel: high",
			`rules/x.yml:34:19: alias who maps rule "failed", which this correlation does not refer to (rules: multiple_failed_login, successful_login)`},
		{"alias missing a rule", "  group-by: [auth_user]\n  timespan: 10m\nlevel: high", "  group-by: [who]\n  timespan: 10m\n  aliases: {who: {multiple_failed_login: auth_user}}\nlevel: high",
			`rules/x.yml:32:14: alias who does not say which field of rule "successful_login" to group by`},
		{"alias to an unknown field", "  group-by: [auth_user]\n  timespan: 10m\nlevel: high", "  group-by: [who]\n  timespan: 10m\n  aliases: {who: {multiple_failed_login: auth_user, successful_login: usr}}\nlevel: high",
			`rules/x.yml:34:71: unknown field "usr"`},
		{"duplicate name", "name: successful_login\n", "name: failed_login\n",
			`rules/x.yml:11:7: rule name failed_login is already used by rules/x.yml:3 ("failed login"); names must be unique`},
		{"cycle through a chain", "  rules: [failed_login]\n", "  rules: [failed_login, 11111111-2222-4333-8444-000000000024]\n",
			`rules/x.yml:22:25: correlation cycle: 11111111-2222-4333-8444-000000000023 refers to "11111111-2222-4333-8444-000000000024", which refers back to it`},
	} {
		if !strings.Contains(chainRules, tc.old) {
			t.Fatalf("%s: %q not in the rules", tc.name, tc.old)
		}
		_, le := loadText(map[string]string{"x.yml": strings.Replace(chainRules, tc.old, tc.new, 1)})
		if le == nil || !strings.Contains(le.Error(), tc.want) {
			t.Errorf("%s:\n got %v\nwant %s", tc.name, le, tc.want)
		}
	}
}

// TestChainAliasToMember: an alias may name a member of a chained
// correlation's group; alerts carry the alias. Lint accepts the rule.
func TestChainAliasToMember(t *testing.T) {
	text := strings.Replace(chainRules, "  group-by: [auth_user]\n  timespan: 10m\nlevel: high",
		"  group-by: [who]\n  timespan: 10m\n  aliases:\n    who: {multiple_failed_login: auth_user, successful_login: auth_user}\nlevel: high", 1)
	rs := mustLoad(t, map[string]string{"chain.yml": text})
	st := rs.NewState(window.Options{})
	var got []string
	emit := func(a *schema.Alert) { got = append(got, fmt.Sprint(a.Group)) }
	for _, e := range []*schema.Event{login(0, "u1", "failed"), login(1, "u1", "failed"), login(2, "u1", "failed"), login(3, "u1", "succeeded")} {
		st.Event(e, emit)
	}
	if fmt.Sprint(got) != "[map[who:u1]]" {
		t.Errorf("alerts %v", got)
	}
	for name, text := range map[string]string{"chain.yml": text, "alias.yml": aliasRules} {
		src := Source{FS: fstest.MapFS{name: {Data: []byte(text)}}, Display: "rules"}
		for _, d := range Lint(src) {
			if !strings.Contains(d.Msg, "has no level") { // the base rules here are terse
				t.Errorf("lint %s: %v", name, d)
			}
		}
	}
}

// TestChainSuppress: --suppress quiets alerts; the results of a chained
// correlation that does not alert still feed the chain once per window.
// Two bursts of three failures of u1, ten minutes apart, make two
// "Multiple failed logins" results, which the outer count needs.
func TestChainSuppress(t *testing.T) {
	rules := strings.Replace(chainRules, `correlation:
  type: temporal_ordered
  rules: [multiple_failed_login, successful_login]`, `correlation:
  type: event_count
  rules: [multiple_failed_login]
  condition: {gte: 2}`, 1)
	rules = strings.Replace(rules, "  timespan: 10m\nlevel: high", "  timespan: 1h\nlevel: high", 1)
	rs := mustLoad(t, map[string]string{"chain.yml": rules})
	st := rs.NewState(window.Options{Suppress: time.Hour})
	var got []string
	emit := func(a *schema.Alert) { got = append(got, fmt.Sprintf("%s %v %d", a.RuleTitle, a.Group, a.Count)) }
	for _, m := range []int{0, 1, 2, 20, 21, 22} {
		st.Event(login(m, "u1", "failed"), emit)
	}
	st.Flush(emit)
	if want := "[Failed logins then success map[auth_user:u1] 2]"; fmt.Sprint(got) != want {
		t.Errorf("alerts %v, want %s", got, want)
	}
}

package engine

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/detect-dev/detect/engine/window"
	"github.com/detect-dev/detect/schema"
)

// rejectWindow alerts when a client has at least data.config min rejects
// in a 10-minute window, listing their recipients in the order the rule
// sees them.
const rejectWindow = `# METADATA
# title: Reject burst
# custom:
#   id: 11111111-2222-4333-8444-0000000000b1
#   level: medium
#   requires: [reject, src_ip]
#   window: {group_by: [src_ip], span: 10m}
package detect.rules.reject_burst

alert contains msg if {
	input.count >= data.config.reject_burst.min
	msg := sprintf("%s %d %s..%s %s", [
		input.group.src_ip, input.count, input.start, input.end,
		concat(" ", [e.recipient | some e in input.events]),
	])
}
`

func reject(min int, ip, rcpt string) *schema.Event {
	return &schema.Event{Time: t0.Add(time.Duration(min) * time.Minute), EventType: schema.TypeReject, SrcIP: ip, Recipient: rcpt}
}

func TestWindowedRego(t *testing.T) {
	rs := mustLoad(t, map[string]string{
		"rego/reject_burst.rego": rejectWindow,
		"data/config.yaml":       "reject_burst: {min: 3}\n",
	})
	if !rs.Stateful() {
		t.Fatal("a windowed rule needs a State")
	}
	delivery := reject(5, "a", "d5")
	delivery.EventType = schema.TypeDelivery
	st := rs.NewState(window.Options{})
	var alerts []*schema.Alert
	emit := func(a *schema.Alert) { alerts = append(alerts, a) }
	// Client a: 0, 2, 10 (exactly the span after 0: same window), 9
	// (late by one minute, within the lateness: counted, and put in time
	// order): count 4, decided once the watermark passes 10 plus the 2m
	// lateness. 11, 12, 13 make a second window of 3, closed by Flush.
	// Client b, interleaved: 1 and 3, a window of 2 (no alert), and 10
	// arriving when the watermark is 13 (late by more than 2m: dropped).
	// Not fed: a delivery of a, and a reject without a client.
	for _, e := range []*schema.Event{
		reject(0, "a", "r0"), reject(1, "b", "s1"), reject(2, "a", "r2"), reject(3, "b", "s3"),
		delivery, reject(10, "a", "r10"), reject(9, "a", "r9"),
	} {
		st.Event(e, emit)
	}
	if len(alerts) != 0 {
		t.Fatalf("alert before the window closed: %v", alerts[0].Message)
	}
	for _, e := range []*schema.Event{
		reject(11, "a", "r11"), reject(12, "a", "r12"), reject(13, "a", "r13"),
		reject(10, "b", "s10"), reject(13, "", "x"),
	} {
		st.Event(e, emit)
	}
	st.Flush(emit)
	want := []string{
		"a 4 2026-11-28T05:00:00Z..2026-11-28T05:10:00Z r0 r2 r9 r10",
		"a 3 2026-11-28T05:11:00Z..2026-11-28T05:13:00Z r11 r12 r13",
	}
	var got []string
	for _, a := range alerts {
		got = append(got, a.Message)
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("alerts:\n got %q\nwant %q", got, want)
	}
	a := alerts[0]
	if a.RuleID != "11111111-2222-4333-8444-0000000000b1" || a.Engine != EngineRego || a.Level != "medium" ||
		a.Group["src_ip"] != "a" || a.Count != 4 || !a.Start.Equal(t0) || !a.End.Equal(t0.Add(10*time.Minute)) ||
		!a.Time.Equal(a.End) || len(a.Events) != 4 || a.Events[2].Recipient != "r9" || a.Event != nil {
		t.Errorf("alert fields: %+v", a)
	}
	if s := st.Stats(); s.Late != 1 {
		t.Errorf("late events %d, want 1 (b at 10 after 13)", s.Late)
	}
	// The rule never alerts on single events.
	rs.Evaluate(reject(0, "a", "r0"), func(a *schema.Alert) { t.Errorf("event alert: %s", a.Message) })
}

// TestWindowedRegoCapsEvents checks that input.events holds the first
// window.MaxCollect events by time while input.count counts them all, and
// that the alert carries the first few.
func TestWindowedRegoCapsEvents(t *testing.T) {
	rule := strings.NewReplacer("Reject burst", "Big window", "0000000000b1", "0000000000b2",
		`sprintf("%s %d %s..%s %s", [
		input.group.src_ip, input.count, input.start, input.end,
		concat(" ", [e.recipient | some e in input.events]),
	])`, `sprintf("%d %d %s %s", [input.count, count(input.events), input.events[0].recipient, input.events[count(input.events)-1].recipient])`).Replace(rejectWindow)
	rs := mustLoad(t, map[string]string{"rego/big.rego": rule, "data/config.yaml": "reject_burst: {min: 1}\n"})
	st := rs.NewState(window.Options{})
	var got []*schema.Alert
	emit := func(a *schema.Alert) { got = append(got, a) }
	// 150 events in one window, half a second apart, the last one
	// earliest (74.5s late, within the lateness): it must be kept (first by
	// time) and the 100th by time is then r99.
	for i := 1; i < 150; i++ {
		e := reject(0, "a", fmt.Sprintf("r%d", i))
		e.Time = t0.Add(time.Duration(i) * 500 * time.Millisecond)
		st.Event(e, emit)
	}
	st.Event(reject(0, "a", "r0"), emit)
	st.Flush(emit)
	if len(got) != 1 || got[0].Message != "150 100 r0 r99" || got[0].Count != 150 || len(got[0].Events) != window.DefaultMaxEvents {
		t.Fatalf("alerts: %d, first %+v", len(got), *got[0])
	}
}

// TestWindowedRegoReload: an unchanged windowed rule keeps its open
// windows across a reload; new data.config is a new definition.
func TestWindowedRegoReload(t *testing.T) {
	files := map[string]string{"rego/reject_burst.rego": rejectWindow, "data/config.yaml": "reject_burst: {min: 3}\n"}
	before := mustLoad(t, files)
	var got []string
	emit := func(a *schema.Alert) { got = append(got, a.Message) }
	// Two rejects of a, then the rule set is reloaded unchanged: the
	// third completes the window of three.
	st := before.NewState(window.Options{})
	st.Event(reject(0, "a", "r0"), emit)
	st.Event(reject(1, "a", "r1"), emit)
	st = mustLoad(t, files).NewStateFrom(st, window.Options{})
	st.Event(reject(2, "a", "r2"), emit)
	st.Flush(emit)
	if want := "[a 3 2026-11-28T05:00:00Z..2026-11-28T05:02:00Z r0 r1 r2]"; fmt.Sprint(got) != want {
		t.Errorf("unchanged rule:\n got %v\nwant %v", got, want)
	}
	// With min 2 the rule is new: its window holds only the third
	// reject, and one is not enough.
	got = nil
	st = before.NewState(window.Options{})
	st.Event(reject(0, "a", "r0"), emit)
	st.Event(reject(1, "a", "r1"), emit)
	files["data/config.yaml"] = "reject_burst: {min: 2}\n"
	st = mustLoad(t, files).NewStateFrom(st, window.Options{})
	st.Event(reject(2, "a", "r2"), emit)
	st.Flush(emit)
	if len(got) != 0 {
		t.Errorf("changed data kept the window: %v", got)
	}
}

// TestWindowedRegoSuppress: --suppress silences a group after an alert of
// the rule, not after every window it judged: a quiet window of a, then
// a burst within the suppression period alerts; the next burst, within
// the period after that alert, does not.
func TestWindowedRegoSuppress(t *testing.T) {
	rs := mustLoad(t, map[string]string{"rego/reject_burst.rego": rejectWindow, "data/config.yaml": "reject_burst: {min: 3}\n"})
	st := rs.NewState(window.Options{Suppress: time.Hour})
	var got []string
	emit := func(a *schema.Alert) { got = append(got, a.Message) }
	for _, m := range []int{0, 20, 21, 22, 40, 41, 42} {
		st.Event(reject(m, "a", fmt.Sprint("r", m)), emit)
	}
	st.Flush(emit)
	if want := "[a 3 2026-11-28T05:20:00Z..2026-11-28T05:22:00Z r20 r21 r22]"; fmt.Sprint(got) != want {
		t.Errorf("alerts %v, want %s", got, want)
	}
}

// volumeJump alerts when a client's window adds up to more than twice the
// largest of its previous windows, once it has two.
const volumeJump = `# METADATA
# title: Volume jump
# custom:
#   id: 11111111-2222-4333-8444-0000000000b3
#   level: medium
#   requires: [reject, src_ip]
#   window: {group_by: [src_ip], span: 10m, history: 3, sum: size}
package detect.rules.volume_jump

alert contains sprintf("%s %d of %d events, %d kept; before: %v", [input.group.src_ip, input.sum, input.count, count(input.events), [p.sum | some p in input.history]]) if {
	count(input.history) >= 2
	input.sum > 2 * max([p.sum | some p in input.history])
}
`

// sizedReject is a reject of client ip at t0+min minutes of size bytes
// (and as many recipients, so a rule that adds up either sees the same).
func sizedReject(min int, ip string, size int64) *schema.Event {
	e := reject(min, ip, "r")
	e.Size, e.RecipientCount = size, int(size)
	return e
}

// TestWindowedRegoSumAndHistory: input.sum adds up every event of a
// window (not only the 100 in input.events) and input.history holds the
// client's previous windows, newest first, across a reload of the same
// rule; a reload that changes history (a new definition) starts without
// it. Client a: windows at 0 (100), 20 (60 + 40), then at 40 150 events
// of 2 bytes: 300 > 2*100.
func TestWindowedRegoSumAndHistory(t *testing.T) {
	files := map[string]string{"rego/volume_jump.rego": volumeJump}
	var got []string
	emit := func(a *schema.Alert) { got = append(got, a.Message) }
	before := []*schema.Event{sizedReject(0, "a", 100), sizedReject(20, "a", 60), sizedReject(21, "a", 40), sizedReject(22, "b", 5000)}
	var burst []*schema.Event
	for i := range 150 {
		e := sizedReject(40, "a", 2)
		e.Time = e.Time.Add(time.Duration(i) * time.Second)
		burst = append(burst, e)
	}
	for _, tc := range []struct {
		name   string
		reload string // the rule after the reload
		want   string
	}{
		{"unchanged", volumeJump, "[a 300 of 150 events, 100 kept; before: [100, 100]]"},
		{"history changed", strings.Replace(volumeJump, "history: 3", "history: 4", 1), "[]"},
		{"sum changed", strings.Replace(volumeJump, "sum: size", "sum: recipient_count", 1), "[]"},
	} {
		got = nil
		st := mustLoad(t, files).NewState(window.Options{})
		for _, e := range before {
			st.Event(e, emit)
		}
		st = mustLoad(t, map[string]string{"rego/volume_jump.rego": tc.reload}).NewStateFrom(st, window.Options{})
		for _, e := range burst {
			st.Event(e, emit)
		}
		st.Flush(emit)
		if fmt.Sprint(got) != tc.want {
			t.Errorf("%s: alerts %v, want %s", tc.name, got, tc.want)
		}
	}
}

// bigReject feeds fedJump: rejects of 50 bytes or more. It does not alert
// on its own.
const bigReject = `title: big reject
id: 11111111-2222-4333-8444-0000000000b4
name: big_reject
logsource: {category: email}
detection:
  sel: {event_type: reject, size|gte: 50}
  condition: sel
generate: false
`

// TestWindowedRegoFedByRules: custom.window.rules feeds the windows with
// the matches of a Sigma detection (rejects of 50 bytes or more) instead
// of custom.requires: small rejects count neither in input.count nor in
// input.sum, and the detection does not alert by itself. A changed
// detection is a new definition of the window across a reload.
func TestWindowedRegoFedByRules(t *testing.T) {
	fed := strings.Replace(volumeJump, "#   requires: [reject, src_ip]\n", "", 1)
	fed = strings.Replace(fed, "sum: size}", "sum: size, rules: [big_reject]}", 1)
	files := map[string]string{"rego/volume_jump.rego": fed, "sigma/big_reject.yml": bigReject}
	var got []string
	emit := func(a *schema.Alert) { got = append(got, a.Message) }
	events := []*schema.Event{
		sizedReject(0, "a", 100), sizedReject(1, "a", 10), sizedReject(20, "a", 100), sizedReject(21, "a", 49),
		sizedReject(40, "a", 120), sizedReject(41, "a", 90), sizedReject(42, "a", 20),
	}
	st := mustLoad(t, files).NewState(window.Options{})
	for _, e := range events[:4] {
		st.Event(e, emit)
	}
	st = mustLoad(t, files).NewStateFrom(st, window.Options{})
	for _, e := range events[4:] {
		st.Event(e, emit)
	}
	st.Flush(emit)
	if want := "[a 210 of 2 events, 2 kept; before: [100, 100]]"; fmt.Sprint(got) != want {
		t.Errorf("alerts %v, want %s", got, want)
	}
	// The detection changes (gte 40) between the two halves: the history
	// is gone.
	got = nil
	st = mustLoad(t, files).NewState(window.Options{})
	for _, e := range events[:4] {
		st.Event(e, emit)
	}
	files["sigma/big_reject.yml"] = strings.Replace(bigReject, "gte: 50", "gte: 40", 1)
	st = mustLoad(t, files).NewStateFrom(st, window.Options{})
	for _, e := range events[4:] {
		st.Event(e, emit)
	}
	st.Flush(emit)
	if len(got) != 0 {
		t.Errorf("a changed detection kept the history: %v", got)
	}
}

// TestWindowRulesErrors: what custom.window.rules names must be a Sigma
// detection of the rule set, and the error says where the window is.
func TestWindowRulesErrors(t *testing.T) {
	corr := "title: c\nid: 11111111-2222-4333-8444-0000000000b5\nname: storm\ncorrelation: {type: event_count, rules: [big_reject], timespan: 1m, condition: {gte: 9}}\n"
	for ref, want := range map[string]string{
		"nothing_here":                         `rules/rego/volume_jump.rego:6:5: custom.window.rules: "nothing_here": no rule has this id or name`,
		"storm":                                `rules/rego/volume_jump.rego:6:5: custom.window.rules: "storm": a correlation; only Sigma detections (single events) feed windows`,
		"11111111-2222-4333-8444-0000000000b3": `rules/rego/volume_jump.rego:6:5: custom.window.rules: "11111111-2222-4333-8444-0000000000b3": a Rego rule; only Sigma detections feed windows`,
	} {
		fed := strings.Replace(volumeJump, "#   requires: [reject, src_ip]\n", "", 1)
		fed = strings.Replace(fed, "sum: size}", "sum: size, rules: ["+ref+"]}", 1)
		_, le := loadText(map[string]string{"rego/volume_jump.rego": fed, "sigma/big_reject.yml": bigReject + "---\n" + corr})
		if le == nil || len(le.Errors) != 1 || le.Errors[0].Error() != want {
			t.Errorf("%s: errors %v\nwant %s", ref, le, want)
		}
	}
}

package ruleimpact

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/detect-dev/detect/engine"
	"github.com/detect-dev/detect/schema"
)

const (
	idKept    = "00000000-0000-4000-8000-00000000000a"
	idChanged = "00000000-0000-4000-8000-00000000000b"
	idGone    = "00000000-0000-4000-8000-00000000000c"
	idMoved   = "00000000-0000-4000-8000-00000000000d"
	idNew     = "00000000-0000-4000-8000-00000000000e"
)

// rule is a Sigma rule that fires when field matches value.
func rule(id, title, field, value string) string {
	return fmt.Sprintf(`title: %s
id: %s
logsource: {category: email}
detection:
  sel:
    %s: %s
  condition: sel
level: medium
`, title, id, field, value)
}

// side loads a rule tree the way the CLI does, with the Display both sides
// share.
func side(t *testing.T, files map[string]string) Side {
	t.Helper()
	m := fstest.MapFS{}
	for name, text := range files {
		m[name] = &fstest.MapFile{Data: []byte(text)}
	}
	src := engine.Source{FS: m, Display: "rules"}
	rs, err := engine.Load(src)
	if err != nil {
		t.Fatalf("load: %v", err)
	}
	return Side{Rules: rs, Sources: []engine.Source{src}}
}

var t0 = time.Date(2026, 11, 27, 8, 0, 0, 0, time.UTC)

// event is a reject from ip to rcpt at line n of mail.log.
func event(n int, ip, rcpt string) *schema.Event {
	e := &schema.Event{
		Time: t0.Add(time.Duration(n) * time.Minute), EventType: schema.TypeReject, Action: schema.ActionRejected,
		Recipient: rcpt, SrcIP: ip, SourceFile: "mail.log", SourceLine: n,
	}
	e.SetSender("spam@bulk.example")
	e.Complete()
	return e
}

func find(t *testing.T, r *Report, id string) *RuleDiff {
	t.Helper()
	for _, d := range r.Rules {
		if d.ID == id {
			return d
		}
	}
	t.Fatalf("rule %s not in report", id)
	return nil
}

// fixture is a rule change with every status: kept, changed (it fires on
// another client), removed, renamed and added rules.
func fixture(t *testing.T) *Report {
	t.Helper()
	before := side(t, map[string]string{
		"sigma/kept.yml":    rule(idKept, "Kept", "event_type", "reject"),
		"sigma/changed.yml": rule(idChanged, "Changed", "src_ip", "192.0.2.1"),
		"sigma/gone.yml":    rule(idGone, "Gone", "recipient_domain", "example.net"),
		"sigma/old.yml":     rule(idMoved, "Moved", "recipient", "a@example.org"),
	})
	after := side(t, map[string]string{
		"sigma/kept.yml":      rule(idKept, "Kept", "event_type", "reject"),
		"sigma/changed.yml":   rule(idChanged, "Changed", "src_ip", "192.0.2.2"),
		"sigma/new/moved.yml": rule(idMoved, "Moved", "recipient", "a@example.org"),
		"sigma/added.yml":     rule(idNew, "Added", "recipient", "b@example.org"),
	})
	events := []*schema.Event{
		event(1, "192.0.2.1", "a@example.org"),
		event(2, "192.0.2.1", "b@example.org"),
		event(3, "192.0.2.2", "c@example.net"),
		event(4, "192.0.2.3", "d@example.net"),
	}
	r, err := Compare(before, after, slices.Values(events))
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestCompareStatusesAndDeltas(t *testing.T) {
	r := fixture(t)
	if r.Events != 4 {
		t.Errorf("events = %d, want 4", r.Events)
	}
	tests := []struct {
		id                            string
		status                        Status
		oldFile                       string
		before, after, added, removed int
		addedLines, removedLines      []int
	}{
		{idKept, Unchanged, "", 4, 4, 0, 0, nil, nil},
		{idChanged, Changed, "", 2, 1, 1, 2, []int{3}, []int{1, 2}},
		{idGone, Removed, "", 2, 0, 0, 2, nil, []int{3, 4}},
		{idMoved, Renamed, "rules/sigma/old.yml", 1, 1, 0, 0, nil, nil},
		{idNew, Added, "", 0, 1, 1, 0, []int{2}, nil},
	}
	for _, tc := range tests {
		d := find(t, r, tc.id)
		a := d.Alerts
		if d.Status != tc.status || d.OldFile != tc.oldFile {
			t.Errorf("%s: status %s (old file %q), want %s (%q)", d.Title, d.Status, d.OldFile, tc.status, tc.oldFile)
		}
		if a.Before != tc.before || a.After != tc.after || a.Added != tc.added || a.Removed != tc.removed {
			t.Errorf("%s: before %d after %d +%d -%d, want %d %d +%d -%d", d.Title,
				a.Before, a.After, a.Added, a.Removed, tc.before, tc.after, tc.added, tc.removed)
		}
		if got := lines(a.AddedExamples); !slices.Equal(got, tc.addedLines) {
			t.Errorf("%s: added examples at lines %v, want %v", d.Title, got, tc.addedLines)
		}
		if got := lines(a.RemovedExamples); !slices.Equal(got, tc.removedLines) {
			t.Errorf("%s: removed examples at lines %v, want %v", d.Title, got, tc.removedLines)
		}
	}
	var order []string
	for _, d := range r.Rules {
		order = append(order, d.File)
	}
	want := []string{"rules/sigma/added.yml", "rules/sigma/changed.yml", "rules/sigma/gone.yml", "rules/sigma/kept.yml", "rules/sigma/new/moved.yml"}
	if !slices.Equal(order, want) {
		t.Errorf("order %v, want %v", order, want)
	}
	s := r.Summary()
	if s != (Summary{Rules: 5, Unchanged: 1, Changed: 1, Renamed: 1, Added: 1, Removed: 1,
		AlertsBefore: 9, AlertsAfter: 7, AlertsAdded: 2, AlertsRemoved: 4}) {
		t.Errorf("summary %+v", s)
	}
	if !r.Changed() {
		t.Error("Changed() = false")
	}
	ex := find(t, r, idChanged).Alerts.AddedExamples[0]
	if ex.Recipient != "c@example.net" || ex.SrcIP != "192.0.2.2" || ex.Sender != "spam@bulk.example" ||
		!ex.Time.Equal(t0.Add(3*time.Minute)) || ex.SourceFile != "mail.log" {
		t.Errorf("example %+v", ex)
	}
}

func lines(ex []Example) []int {
	var out []int
	for _, e := range ex {
		out = append(out, e.SourceLine)
	}
	return out
}

func TestSameRulesNoChange(t *testing.T) {
	files := map[string]string{"sigma/kept.yml": rule(idKept, "Kept", "event_type", "reject")}
	r, err := Compare(side(t, files), side(t, files), slices.Values([]*schema.Event{event(1, "192.0.2.1", "a@example.org")}))
	if err != nil {
		t.Fatal(err)
	}
	if r.Changed() {
		t.Errorf("identical sides report a change: %+v", r.Rules[0])
	}
	var buf bytes.Buffer
	if err := WriteMarkdown(&buf, r); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), "No rule and no alert changed.") || strings.Contains(buf.String(), "| Rule |") {
		t.Errorf("markdown for no change:\n%s", buf.String())
	}
}

// A text-only edit (here the level) is a change a reviewer must see, even
// though the rule fires on the same events.
func TestTextOnlyEditIsChanged(t *testing.T) {
	before := side(t, map[string]string{"a.yml": rule(idKept, "Kept", "event_type", "reject")})
	after := side(t, map[string]string{"a.yml": strings.Replace(rule(idKept, "Kept", "event_type", "reject"), "level: medium", "level: high", 1)})
	r, err := Compare(before, after, slices.Values([]*schema.Event{event(1, "192.0.2.1", "a@example.org")}))
	if err != nil {
		t.Fatal(err)
	}
	d := r.Rules[0]
	if d.Status != Changed || d.Level != "high" || d.Alerts.Added != 0 || d.Alerts.Removed != 0 || d.Alerts.Before != 1 {
		t.Errorf("got %+v", d)
	}
}

// One log line can yield events for several recipients: each is its own
// alert, so a rule that now skips one recipient removes exactly that alert.
func TestIdentityIncludesRecipient(t *testing.T) {
	before := side(t, map[string]string{"a.yml": rule(idChanged, "R", "event_type", "reject")})
	after := side(t, map[string]string{"a.yml": rule(idChanged, "R", "recipient", "b@example.org")})
	evs := []*schema.Event{event(7, "192.0.2.1", "a@example.org"), event(7, "192.0.2.1", "b@example.org")}
	r, err := Compare(before, after, slices.Values(evs))
	if err != nil {
		t.Fatal(err)
	}
	a := r.Rules[0].Alerts
	if a.Before != 2 || a.After != 1 || a.Added != 0 || a.Removed != 1 || a.RemovedExamples[0].Recipient != "a@example.org" {
		t.Errorf("got %+v", a)
	}
}

// In a file of several rules, editing one leaves its neighbours unchanged,
// even when their lines move.
func TestMultiDocumentFile(t *testing.T) {
	one := rule(idKept, "Kept", "event_type", "reject")
	two := rule(idChanged, "Changed", "src_ip", "192.0.2.1")
	before := side(t, map[string]string{"multi.yml": one + "---\n" + two})
	after := side(t, map[string]string{"multi.yml": "\n\n" + one + "---\n" + strings.Replace(two, "192.0.2.1", "192.0.2.9", 1) + "---\n"})
	r, err := Compare(before, after, slices.Values([]*schema.Event{}))
	if err != nil {
		t.Fatal(err)
	}
	if s := find(t, r, idKept).Status; s != Unchanged {
		t.Errorf("neighbour is %s, want unchanged", s)
	}
	if s := find(t, r, idChanged).Status; s != Changed {
		t.Errorf("edited rule is %s, want changed", s)
	}
}

func TestDocument(t *testing.T) {
	data := []byte("a: 1\nb: 2\n---\nc: 3\n...\n--- \nd: 4\n")
	for _, tc := range []struct {
		line int
		want string
	}{{1, "a: 1\nb: 2"}, {2, "a: 1\nb: 2"}, {4, "c: 3"}, {7, "d: 4"}} {
		if got := string(document(data, tc.line)); got != tc.want {
			t.Errorf("document(line %d) = %q, want %q", tc.line, got, tc.want)
		}
	}
}

func TestExamplesAreCapped(t *testing.T) {
	before := side(t, map[string]string{"a.yml": rule(idChanged, "R", "src_ip", "192.0.2.200")})
	after := side(t, map[string]string{"a.yml": rule(idChanged, "R", "event_type", "reject")})
	var evs []*schema.Event
	for i := 1; i <= 5; i++ {
		evs = append(evs, event(i, "192.0.2.1", "a@example.org"))
	}
	r, err := Compare(before, after, slices.Values(evs))
	if err != nil {
		t.Fatal(err)
	}
	a := r.Rules[0].Alerts
	if a.Added != 5 || !slices.Equal(lines(a.AddedExamples), []int{1, 2, 3}) {
		t.Errorf("got %+v", a)
	}
	var buf bytes.Buffer
	if err := WriteText(&buf, r); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), "(and 2 more)") {
		t.Errorf("text does not say how many examples are left out:\n%s", buf.String())
	}
}

func header() Header {
	return Header{Base: "HEAD~1", BaseCommit: "4156c88", RuleDirs: []string{"rules"},
		Inputs: []string{"mail.log"}, Files: 1, Lines: 64}
}

func TestWriteText(t *testing.T) {
	r := fixture(t)
	r.Header = header()
	var buf bytes.Buffer
	if err := WriteText(&buf, r); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, want := range []string{
		"detect diff: base HEAD~1 (4156c88) -> working tree\n",
		"inputs: mail.log (1 file, 64 lines, 4 events)\n",
		"changed   Changed  [" + idChanged + "]\n  file:    rules/sigma/changed.yml\n  alerts:  2 before, 1 after (+1 added, -2 removed)\n",
		"  added:   2026-11-27T08:03:00Z  sender=spam@bulk.example  recipient=c@example.net  src_ip=192.0.2.2  mail.log:3\n",
		"  removed: 2026-11-27T08:01:00Z  sender=spam@bulk.example  recipient=a@example.org  src_ip=192.0.2.1  mail.log:1\n" +
			"           2026-11-27T08:02:00Z",
		"renamed   Moved  [" + idMoved + "]\n  file:    rules/sigma/new/moved.yml (was rules/sigma/old.yml)\n",
		"unchanged Kept  (rules/sigma/kept.yml): 4 alerts before and after\n",
		"5 rules: 1 changed, 1 added, 1 removed, 1 renamed, 1 unchanged\nalerts: 9 before, 7 after (+2 added, -4 removed)\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("text lacks %q:\n%s", want, out)
		}
	}
}

func TestWriteMarkdown(t *testing.T) {
	r := fixture(t)
	r.Header = header()
	// Markdown and HTML in rule titles and values must not format the comment.
	find(t, r, idChanged).Title = "Relay | <probe> *now*"
	find(t, r, idChanged).Alerts.RemovedExamples[0].Sender = ""
	var buf bytes.Buffer
	if err := WriteMarkdown(&buf, r); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, want := range []string{
		"### Rule impact: base `HEAD~1` (`4156c88`) → working tree\n\n",
		"Rules `rules` · inputs `mail.log` (1 file, 64 lines, 4 events)\n\n",
		"**Rules:** 1 changed, 1 added, 1 removed, 1 renamed, 1 unchanged · **Alerts:** 9 → 7 (+2 added, -4 removed)\n\n",
		"| Rule | Status | Before | After | Added | Removed |\n| --- | --- | ---: | ---: | ---: | ---: |\n",
		"| Added<br>`rules/sigma/added.yml` | added | 0 | 1 | +1 | -0 |\n",
		"| Relay \\| &lt;probe&gt; \\*now\\*<br>`rules/sigma/changed.yml` | changed | 2 | 1 | +1 | -2 |\n",
		"| Gone<br>`rules/sigma/gone.yml` | removed | 2 | 0 | +0 | -2 |\n",
		"| Moved<br>`rules/sigma/new/moved.yml` (was `rules/sigma/old.yml`) | renamed | 1 | 1 | +0 | -0 |\n",
		"\n1 unchanged rule with the same alerts not listed.\n",
		"<details><summary>Example alerts</summary>\n\n",
		"| + | 2026-11-27T08:03:00Z | spam@bulk.example | c@example.net | 192.0.2.2 | `mail.log:3` |\n",
		"| - | 2026-11-27T08:01:00Z | &lt;&gt; | a@example.org | 192.0.2.1 | `mail.log:1` |\n",
		"</details>\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("markdown lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "Kept") {
		t.Errorf("unchanged rule listed:\n%s", out)
	}
	// Every table row has the header's number of cells.
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(l, "| Rule") || strings.HasPrefix(l, "| Added") || strings.HasPrefix(l, "| Relay") {
			if n := strings.Count(l, "|") - strings.Count(l, `\|`); n != 7 {
				t.Errorf("row has %d separators, want 7: %s", n, l)
			}
		}
	}
}

func TestUnreadableRuleFile(t *testing.T) {
	s := side(t, map[string]string{"a.yml": rule(idKept, "Kept", "event_type", "reject")})
	s.Sources[0].FS = fstest.MapFS{} // the rule's file is not where the rule says
	if _, err := NewComparer(s, s); err == nil || !strings.Contains(err.Error(), "rules/a.yml") {
		t.Errorf("err = %v", err)
	}
}

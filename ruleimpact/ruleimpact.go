// Package ruleimpact compares two versions of a rule set over the same
// events: which rules were added, removed, changed or renamed, and for each
// rule how many alerts it raised before and after, which alerts appeared and
// which disappeared, with a few example events of each. It is the core of
// `detect diff`, what a reviewer reads before approving a rule change.
//
// The comparison streams: a Comparer evaluates both rule sets on each event
// as it arrives and pairs their alerts there, so one pass over the logs is
// enough and memory does not grow with the size of the logs. Pairing within
// the event is exact for the rules the engine evaluates per event: an alert
// is identified by its rule id and its event's source file, source line and
// recipient, all of which come from the event both sides just saw.
// Renderers (WriteText, WriteMarkdown) turn the Report into what people read.
package ruleimpact

import (
	"cmp"
	"iter"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/detect-dev/detect/engine"
	"github.com/detect-dev/detect/schema"
)

// Status says what happened to a rule between the two sides.
type Status string

// Rule statuses. A rule that both moved and changed is Changed with
// RuleDiff.OldFile set.
const (
	Unchanged Status = "unchanged"
	Changed   Status = "changed" // same id, different text
	Renamed   Status = "renamed" // same id and text, different file
	Added     Status = "added"   // only in the new side
	Removed   Status = "removed" // only in the old side
)

// DefaultExamples is how many example alerts a Delta keeps of each kind
// unless the Comparer says otherwise: enough to judge a change at a glance,
// few enough to fit a pull-request comment.
const DefaultExamples = 3

// Side is one version of the rules.
type Side struct {
	Rules *engine.Ruleset
	// Sources the rules were loaded from. Each rule's text is read from
	// them to tell a changed rule from an unchanged one; both sides should
	// use the same Display so that one rule file has one name.
	Sources []engine.Source
}

// Example is the part of an alert's event a reviewer needs to recognise it
// and to find it in the logs.
type Example struct {
	Time       time.Time
	Sender     string
	HasSender  bool // Sender "" is the null sender of bounces
	Recipient  string
	SrcIP      string
	SourceFile string
	SourceLine int
}

// Delta counts one rule's alerts on both sides.
type Delta struct {
	Before, After   int // alerts raised by the old and the new version
	Added, Removed  int // alerts only the new, only the old version raised
	AddedExamples   []Example
	RemovedExamples []Example
}

// RuleDiff is one rule's change and its impact.
type RuleDiff struct {
	ID    string
	Title string // the new title, or the old one for a removed rule
	Level string
	// File is the rule's file on the new side (on the old side for a
	// removed rule); OldFile is its file on the old side when it moved.
	File    string
	OldFile string
	Status  Status
	Alerts  Delta
}

// Moved reports whether the rule's file changed (renamed, or renamed and
// changed).
func (d *RuleDiff) Moved() bool { return d.OldFile != "" }

// Label is the status as shown to people: "renamed+changed" for a rule that
// moved and changed, else the status.
func (d *RuleDiff) Label() string {
	if d.Status == Changed && d.Moved() {
		return "renamed+changed"
	}
	return string(d.Status)
}

// Interesting reports whether a reviewer needs to see the rule: it changed in
// any way, or its alerts did.
func (d *RuleDiff) Interesting() bool {
	return d.Status != Unchanged || d.Alerts.Added > 0 || d.Alerts.Removed > 0
}

// Header describes what was compared, for the renderers. Compare leaves it
// empty; the caller fills in what it knows.
type Header struct {
	Base       string   // the old side as the user named it, e.g. a git revision
	BaseCommit string   // what Base resolved to, e.g. an abbreviated commit
	Target     string   // the new side; "working tree" when empty
	RuleDirs   []string // rule directories compared
	Inputs     []string // log paths as given
	Files      int      // log files read
	Lines      int64    // log lines read
}

// Report is the outcome of a comparison.
type Report struct {
	Header Header
	// Rules in a stable order: by file, then id.
	Rules  []*RuleDiff
	Events int64 // events both sides saw
}

// Summary totals a Report.
type Summary struct {
	Rules                       int
	Unchanged, Changed, Renamed int // Changed includes renamed+changed
	Added, Removed              int
	AlertsBefore, AlertsAfter   int
	AlertsAdded, AlertsRemoved  int
}

// Summary totals the report's rules and alerts.
func (r *Report) Summary() Summary {
	var s Summary
	for _, d := range r.Rules {
		s.Rules++
		switch d.Status {
		case Unchanged:
			s.Unchanged++
		case Changed:
			s.Changed++
		case Renamed:
			s.Renamed++
		case Added:
			s.Added++
		case Removed:
			s.Removed++
		}
		s.AlertsBefore += d.Alerts.Before
		s.AlertsAfter += d.Alerts.After
		s.AlertsAdded += d.Alerts.Added
		s.AlertsRemoved += d.Alerts.Removed
	}
	return s
}

// Changed reports whether anything differs: a rule, or any alert.
func (r *Report) Changed() bool {
	for _, d := range r.Rules {
		if d.Interesting() {
			return true
		}
	}
	return false
}

// Comparer evaluates two rule sets side by side, one event at a time. It is
// not safe for concurrent use; feed it from one goroutine, in input order
// (examples are the first alerts seen).
type Comparer struct {
	before, after *engine.Ruleset
	diffs         map[string]*RuleDiff
	examples      int
	events        int64

	// Reused per event so that Observe does not allocate when nothing fires.
	bufBefore, bufAfter []*schema.Alert
	matched             []bool
	emitBefore          func(*schema.Alert)
	emitAfter           func(*schema.Alert)
}

// NewComparer classifies the rules of both sides (added, removed, changed,
// renamed, unchanged) and returns a Comparer ready to observe events. It
// fails only when a rule's text cannot be read from its side's sources.
func NewComparer(before, after Side) (*Comparer, error) {
	c := &Comparer{
		before:   before.Rules,
		after:    after.Rules,
		diffs:    map[string]*RuleDiff{},
		examples: DefaultExamples,
	}
	c.emitBefore = func(a *schema.Alert) { c.bufBefore = append(c.bufBefore, a) }
	c.emitAfter = func(a *schema.Alert) { c.bufAfter = append(c.bufAfter, a) }

	oldText, err := ruleTexts(before)
	if err != nil {
		return nil, err
	}
	newText, err := ruleTexts(after)
	if err != nil {
		return nil, err
	}
	for _, r := range rules(before.Rules) {
		c.diffs[r.ID] = &RuleDiff{ID: r.ID, Title: r.Title, Level: r.Level, File: r.File, Status: Removed}
	}
	for _, r := range rules(after.Rules) {
		d, ok := c.diffs[r.ID]
		if !ok {
			c.diffs[r.ID] = &RuleDiff{ID: r.ID, Title: r.Title, Level: r.Level, File: r.File, Status: Added}
			continue
		}
		if d.File != r.File {
			d.OldFile = d.File
		}
		d.Title, d.Level, d.File = r.Title, r.Level, r.File
		switch {
		case oldText[r.ID] != newText[r.ID]:
			d.Status = Changed
		case d.Moved():
			d.Status = Renamed
		default:
			d.Status = Unchanged
		}
	}
	return c, nil
}

// SetExamples sets how many example alerts to keep of each kind per rule
// (DefaultExamples unless set; 0 keeps none).
func (c *Comparer) SetExamples(n int) { c.examples = max(n, 0) }

// rules returns the rules of rs, which may be nil (no rules on that side).
func rules(rs *engine.Ruleset) []*engine.Rule {
	if rs == nil {
		return nil
	}
	return rs.Rules()
}

// identity is what makes two alerts of two rule versions the same alert: the
// rule, and where its event came from. The recipient is part of it because
// one log line can yield events for several recipients.
type identity struct {
	rule      string
	file      string
	line      int
	recipient string
	group     string // window and correlation alerts: their group
}

// identify returns the identity of an alert raised on e.
func identify(a *schema.Alert, e *schema.Event) identity {
	ev := alertEvent(a, e)
	id := identity{rule: a.RuleID, file: ev.SourceFile, line: ev.SourceLine, recipient: ev.Recipient}
	if len(a.Group) > 0 {
		var b strings.Builder
		for _, k := range slices.Sorted(maps.Keys(a.Group)) {
			b.WriteString(k)
			b.WriteByte('=')
			b.WriteString(a.Group[k])
			b.WriteByte(0)
		}
		id.group = b.String()
	}
	return id
}

// alertEvent is the event an alert is about: its own, the first of a window
// alert's, or else the one being evaluated.
func alertEvent(a *schema.Alert, e *schema.Event) *schema.Event {
	switch {
	case a.Event != nil:
		return a.Event
	case len(a.Events) > 0 && a.Events[0] != nil:
		return a.Events[0]
	}
	return e
}

// Observe evaluates both sides on e and records their alerts.
func (c *Comparer) Observe(e *schema.Event) {
	c.events++
	c.bufBefore, c.bufAfter = c.bufBefore[:0], c.bufAfter[:0]
	if c.before != nil {
		c.before.Evaluate(e, c.emitBefore)
	}
	if c.after != nil {
		c.after.Evaluate(e, c.emitAfter)
	}
	if len(c.bufBefore) == 0 && len(c.bufAfter) == 0 {
		return
	}
	// Pair each old alert with an unpaired new one of the same identity;
	// the few alerts of one event make a quadratic scan the cheapest.
	c.matched = slices.Grow(c.matched[:0], len(c.bufAfter))[:len(c.bufAfter)]
	clear(c.matched)
	for _, b := range c.bufBefore {
		d := c.diff(b)
		d.Alerts.Before++
		idB := identify(b, e)
		paired := false
		for j, a := range c.bufAfter {
			if !c.matched[j] && a.RuleID == b.RuleID && identify(a, e) == idB {
				c.matched[j], paired = true, true
				break
			}
		}
		if !paired {
			d.Alerts.Removed++
			if len(d.Alerts.RemovedExamples) < c.examples {
				d.Alerts.RemovedExamples = append(d.Alerts.RemovedExamples, exampleOf(alertEvent(b, e)))
			}
		}
	}
	for j, a := range c.bufAfter {
		d := c.diff(a)
		d.Alerts.After++
		if c.matched[j] {
			continue
		}
		d.Alerts.Added++
		if len(d.Alerts.AddedExamples) < c.examples {
			d.Alerts.AddedExamples = append(d.Alerts.AddedExamples, exampleOf(alertEvent(a, e)))
		}
	}
	// Drop the references so the events can be collected.
	clear(c.bufBefore)
	clear(c.bufAfter)
}

// diff returns the RuleDiff of an alert's rule. Every alert comes from a
// loaded rule, so the fallback only guards against a rule set that changes
// under the Comparer.
func (c *Comparer) diff(a *schema.Alert) *RuleDiff {
	d, ok := c.diffs[a.RuleID]
	if !ok {
		d = &RuleDiff{ID: a.RuleID, Title: a.RuleTitle, Level: a.Level, File: a.RuleFile, Status: Unchanged}
		c.diffs[a.RuleID] = d
	}
	return d
}

func exampleOf(e *schema.Event) Example {
	return Example{
		Time:       e.Time,
		Sender:     e.Sender,
		HasSender:  e.HasSender,
		Recipient:  e.Recipient,
		SrcIP:      e.SrcIP,
		SourceFile: e.SourceFile,
		SourceLine: e.SourceLine,
	}
}

// Report returns the comparison so far, rules ordered by file, then id. The
// Comparer may go on observing; the report does not change with it.
func (c *Comparer) Report() *Report {
	r := &Report{Events: c.events, Rules: make([]*RuleDiff, 0, len(c.diffs))}
	for _, d := range c.diffs {
		cp := *d
		cp.Alerts.AddedExamples = slices.Clone(d.Alerts.AddedExamples)
		cp.Alerts.RemovedExamples = slices.Clone(d.Alerts.RemovedExamples)
		r.Rules = append(r.Rules, &cp)
	}
	slices.SortFunc(r.Rules, func(a, b *RuleDiff) int {
		return cmp.Or(cmp.Compare(a.File, b.File), cmp.Compare(a.ID, b.ID))
	})
	return r
}

// Compare runs both sides over events and returns the report: the whole
// comparison for callers that have the events at hand (tests, or events
// already in memory); a streaming caller uses a Comparer.
func Compare(before, after Side, events iter.Seq[*schema.Event]) (*Report, error) {
	c, err := NewComparer(before, after)
	if err != nil {
		return nil, err
	}
	for e := range events {
		c.Observe(e)
	}
	return c.Report(), nil
}

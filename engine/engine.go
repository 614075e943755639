// Package engine loads rule files into an immutable Ruleset and evaluates it
// against normalized events, producing alerts.
//
// A Ruleset is built completely or not at all: Load reports every error it
// finds (each with file:line:col) and returns no rules when there is any, so
// a caller that hot-reloads can keep the previous set running. Once built, a
// Ruleset is read-only and safe for concurrent Evaluate calls; its only
// mutable state is the account of Rego rules that exceeded their time
// budget (Problems).
//
// Sigma rules (*.yml, *.yaml) are compiled by engine/sigma, Rego rules
// (*.rego; *_test.rego are their OPA unit tests) by engine/rego, with the
// tree's top-level data/ files as data.config. Both kinds share one id
// space and produce the same alerts.
package engine

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/detect-dev/detect/engine/rego"
	"github.com/detect-dev/detect/engine/sigma"
	"github.com/detect-dev/detect/engine/window"
	"github.com/detect-dev/detect/schema"
)

// Engines that evaluate rules.
const (
	EngineSigma = "sigma"
	EngineRego  = "rego"
)

// Rule is one loaded detection, whatever its engine.
type Rule struct {
	ID          string
	Title       string
	Description string
	Level       string
	Tags        []string
	References  []string
	Engine      string
	File        string // as shown to users: rules/sigma/x.yml for the embedded pack
	Line        int
	// Generate is false for rules that only feed a correlation.
	Generate bool

	match func(*schema.Event) bool
	rego  *rego.Rule // Rego rules: evaluated with their Set's one query
	corr  *sigma.Correlation
	slot  int // index among the rules correlations refer to, or -1
	// resultSlot is the slot of a correlation's alerts, for the
	// correlations that count them (chains), or -1. It is not slot, which
	// a v1 aggregation uses for its own matches.
	resultSlot int
	// fingerprint identifies the rule's definition (sigma.Rule.Fingerprint,
	// or the Rego module and data), for carrying window state on reload.
	fingerprint string
	name        string  // a Sigma rule's v2 name, by which others refer to it
	gate        *gateOf // a Sigma rule's gate in its Ruleset's index, or nil
}

// Correlation returns the rule's correlation block, or nil for a rule that
// matches single events.
func (r *Rule) Correlation() *sigma.Correlation { return r.corr }

// Match reports whether the rule fires on e.
func (r *Rule) Match(e *schema.Event) bool { return r.match(e) }

// Ruleset is an immutable, compiled set of rules.
type Ruleset struct {
	rules     []*Rule
	byID      map[string]*Rule
	rego      *rego.Set   // nil without Rego rules
	regoTests []rego.File // *_test.rego files, run by RegoTests
	specs     []window.Spec
	corrRules []*Rule // the rule of each spec
	slotted   []*Rule // rules some correlation refers to, by slot
	gates     gates   // the Sigma rules' gates, so EvaluateSlots skips what cannot match
}

// Rules returns the rules in load order (sorted by file, then position).
func (rs *Ruleset) Rules() []*Rule { return rs.rules }

// Rule returns the rule with the given id.
func (rs *Ruleset) Rule(id string) (*Rule, bool) {
	r, ok := rs.byID[strings.ToLower(id)]
	return r, ok
}

// Len is the number of rules.
func (rs *Ruleset) Len() int { return len(rs.rules) }

// Evaluate runs every rule over e and calls emit for each one that fires.
// The alert shares e; callers must not modify e afterwards.
// Correlation rules are not evaluated here: see EvaluateSlots and State.
func (rs *Ruleset) Evaluate(e *schema.Event, emit func(*schema.Alert)) {
	rs.EvaluateSlots(e, emit, nil)
}

// EvaluateSlots is Evaluate that also appends to slots the slot of every
// rule referenced by a correlation that matches e, for State.Observe.
func (rs *Ruleset) EvaluateSlots(e *schema.Event, emit func(*schema.Alert), slots []int) []int {
	var hits []rego.Hit
	if rs.rego != nil {
		hits = rs.rego.Eval(e) // every Rego rule at once, one query
	}
	var gated [maxGated]int
	rs.gates.lookup(e, &gated)
	for _, r := range rs.rules {
		if !r.passes(&gated) {
			continue // its gate field holds none of its values: it cannot match
		}
		if r.rego != nil && r.rego.Window != nil {
			if r.rego.Feeds(e) {
				slots = append(slots, r.slot)
			}
			continue
		}
		if r.corr != nil {
			if r.corr.Self && r.slot >= 0 && r.match(e) {
				slots = append(slots, r.slot) // a legacy aggregation's own matches
			}
			continue
		}
		if r.slot >= 0 && r.rego == nil && !r.Generate {
			if r.match(e) {
				slots = append(slots, r.slot)
			}
			continue
		}
		if !r.Generate || r.corr != nil {
			continue
		}
		if r.rego != nil {
			for _, h := range hits {
				if h.Rule == r.rego {
					emit(regoAlert(r, e, h))
				}
			}
			continue
		}
		if !r.match(e) {
			continue
		}
		if r.slot >= 0 {
			slots = append(slots, r.slot)
		}
		emit(&schema.Alert{
			Time:      e.Time,
			RuleID:    r.ID,
			RuleTitle: r.Title,
			RuleFile:  r.File,
			Engine:    r.Engine,
			Level:     r.Level,
			Tags:      r.Tags,
			Message:   Describe(r.Title, e),
			Event:     e,
		})
	}
	return slots
}

// Stateful reports whether the set has correlation or windowed rules,
// which need a State fed with every event in input order.
func (rs *Ruleset) Stateful() bool { return len(rs.specs) > 0 }

// State is the window state of a Ruleset's correlation rules. It is not
// safe for concurrent use: feed it events in input order.
type State struct {
	rs *Ruleset
	w  *window.State
}

// NewState returns an empty State for the set's correlation rules.
func (rs *Ruleset) NewState(opt window.Options) *State {
	return rs.NewStateFrom(nil, opt)
}

// NewStateFrom returns a State for rs that continues prev, the State of
// the rule set rs replaces (nil: an empty State). The window groups of
// every correlation rule whose id and definition are unchanged (its type,
// group-by, timespan, condition and field, and the detections of the rules
// it refers to) are kept, with prev's watermark and counters, so a reload
// does not forget counts; changed rules start empty and removed rules are
// dropped. prev must not be used afterwards.
func (rs *Ruleset) NewStateFrom(prev *State, opt window.Options) *State {
	var w *window.State
	if prev != nil {
		w = prev.w
	}
	s := &State{rs: rs, w: window.NewFrom(rs.specs, opt, w)}
	s.w.ChainEvent = s.chainEvent
	return s
}

// chainEvent is the event that stands for a chained correlation's alert
// in the correlations that refer to it: the alert's time, its message as
// the reason, and the group members that are event fields.
func (s *State) chainEvent(res window.Result) *schema.Event {
	r := s.rs.corrRules[res.Spec]
	obj := map[string]string{"time": res.End.UTC().Format(time.RFC3339Nano), "reason": s.alert(r, res).Message}
	for k, v := range res.Group {
		if f, ok := schema.LookupField(k); ok && f.Name() == k && f.Kind() == schema.KindString {
			obj[k] = v
		}
	}
	e := &schema.Event{Time: res.End}
	if b, err := json.Marshal(obj); err == nil {
		_ = e.UnmarshalJSON(b) // every member is a string field: cannot fail
	}
	return e
}

// Observe feeds e, with the slots EvaluateSlots returned for it, and emits
// the correlation and window alerts it completes.
func (s *State) Observe(e *schema.Event, slots []int, emit func(*schema.Alert)) {
	s.w.Observe(e, slots, func(r window.Result) { s.alerts(r, emit) })
}

// Flush emits what the windows still open at the end of input hold.
func (s *State) Flush(emit func(*schema.Alert)) {
	s.w.Flush(func(r window.Result) { s.alerts(r, emit) })
}

// Stats reports the events the windows dropped (late, over the group cap).
func (s *State) Stats() window.Stats { return s.w.Stats }

// Window exposes the underlying window state (plain data keyed by rule id
// and group).
func (s *State) Window() *window.State { return s.w }

// Event feeds one event through the rule set and the state: stateless
// alerts first, then the correlation alerts it completes (detect test).
func (s *State) Event(e *schema.Event, emit func(*schema.Alert)) {
	s.Observe(e, s.rs.EvaluateSlots(e, emit, nil), emit)
}

// alerts emits the alerts of one window result: the correlation's, or
// those the windowed Rego rule raises on the window.
func (s *State) alerts(res window.Result, emit func(*schema.Alert)) {
	r := s.rs.corrRules[res.Spec]
	if !r.Generate {
		return // a chained correlation that only feeds others
	}
	if r.rego == nil {
		emit(s.alert(r, res))
		return
	}
	in := rego.WindowInput{Group: res.Group, Events: res.Events, Count: res.Count, Start: res.Start, End: res.End, Sum: res.Sum}
	for _, p := range res.History {
		in.History = append(in.History, rego.PastWindow{Start: p.Start, End: p.End, Count: p.Count, Sum: p.Sum})
	}
	hits := s.rs.rego.EvalWindow(r.rego, in)
	if len(hits) > 0 {
		s.w.Alerted(res) // --suppress counts from the rule's alert, not from every window
	}
	for _, h := range hits {
		msg := h.Message
		if msg == "" {
			msg = fmt.Sprintf("%s: %s%d events in %v", r.Title, describeGroup(res.Group), res.Count, res.End.Sub(res.Start).Round(time.Second))
		}
		a := windowAlert(r, res, msg)
		if len(a.Events) > window.DefaultMaxEvents {
			a.Events = a.Events[:window.DefaultMaxEvents:window.DefaultMaxEvents]
		}
		a.Fields = h.Fields
		emit(a)
	}
}

// describeGroup is "k1 v1, k2 v2, " for a group, keys sorted.
func describeGroup(group map[string]string) string {
	keys := make([]string, 0, len(group))
	for k := range group {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		v := group[k]
		if v == "" {
			v = "(none)"
		}
		b.WriteString(k + " " + v + ", ")
	}
	return b.String()
}

func (s *State) alert(r *Rule, res window.Result) *schema.Alert {
	span := res.End.Sub(res.Start).Round(time.Second)
	return windowAlert(r, res, fmt.Sprintf("%s: %s%s %s in %v", r.Title, describeGroup(res.Group),
		strconv.FormatFloat(res.Value, 'f', -1, 64), measureName(r.corr), span))
}

// windowAlert is the alert of rule r on a window result.
func windowAlert(r *Rule, res window.Result, msg string) *schema.Alert {
	return &schema.Alert{
		Time:      res.End,
		RuleID:    r.ID,
		RuleTitle: r.Title,
		RuleFile:  r.File,
		Engine:    r.Engine,
		Level:     r.Level,
		Tags:      r.Tags,
		Message:   msg,
		Group:     res.Group,
		Count:     res.Count,
		Start:     res.Start,
		End:       res.End,
		Events:    res.Events,
	}
}

func measureName(c *sigma.Correlation) string {
	switch c.Type {
	case window.ValueCount:
		return "distinct " + c.Field
	case window.ValueSum:
		return "total " + c.Field
	case window.ValueAvg:
		return "average " + c.Field
	case window.Temporal, window.TemporalOrdered:
		return "of the rules"
	}
	return "events"
}

// regoAlert is the alert of one Rego hit: the shape of a Sigma alert, with
// the rule's message (Describe when it gave none) and extra fields.
func regoAlert(r *Rule, e *schema.Event, h rego.Hit) *schema.Alert {
	msg := h.Message
	if msg == "" {
		msg = Describe(r.Title, e)
	}
	return &schema.Alert{
		Time:      e.Time,
		RuleID:    r.ID,
		RuleTitle: r.Title,
		RuleFile:  r.File,
		Engine:    r.Engine,
		Level:     r.Level,
		Tags:      r.Tags,
		Message:   msg,
		Event:     e,
		Fields:    h.Fields,
	}
}

// Problems describes the Rego rules that exceeded the per-event time budget
// or failed while evaluating, one line each, for the scan summary. A rule
// that exceeds the budget on rego.MaxStrikes events is disabled for the
// rest of the Ruleset's life.
func (rs *Ruleset) Problems() []string {
	if rs.rego == nil {
		return nil
	}
	var out []string
	for _, p := range rs.rego.Problems() {
		var what []string
		if p.Timeouts > 0 {
			what = append(what, fmt.Sprintf("exceeded the %v time budget on %d event(s)", rs.rego.Budget(), p.Timeouts))
		}
		if p.Errors > 0 {
			what = append(what, fmt.Sprintf("failed on %d event(s)", p.Errors))
		}
		line := fmt.Sprintf("%s:%d: %s (%s) %s", p.Rule.File, p.Rule.Line, p.Rule.Title, p.Rule.ID, strings.Join(what, " and "))
		if p.Disabled {
			line += ", disabled for the rest of the run"
		}
		out = append(out, line+"; first: "+p.First)
	}
	return out
}

// RegoTests runs the OPA unit tests (*_test.rego) of the loaded trees
// against the Rego rules that compiled, with the same data.config.
func (rs *Ruleset) RegoTests(ctx context.Context) []rego.TestResult {
	if len(rs.regoTests) == 0 || rs.rego == nil {
		return nil
	}
	return rs.rego.RunTests(ctx, rs.regoTests)
}

// Describe makes an alert message for rules that carry none (Sigma has no
// message template): the title and the facts an analyst reads first, e.g.
// "Dangerous attachment file type: billing@x.example -> ap@corp.example,
// client 203.0.113.17, attachments Invoice.pdf.exe".
func Describe(title string, e *schema.Event) string {
	var b strings.Builder
	b.WriteString(title)
	sep := ": "
	part := func(s string) {
		b.WriteString(sep)
		b.WriteString(s)
		sep = ", "
	}
	switch {
	case e.Has(schema.FieldSender) && e.Recipient != "":
		sender := e.Sender
		if sender == "" {
			sender = "<>"
		}
		part(sender + " -> " + e.Recipient)
	case e.Has(schema.FieldSender):
		part("from " + e.Sender)
	case e.Recipient != "":
		part("to " + e.Recipient)
	}
	if e.AuthUser != "" {
		part("user " + e.AuthUser)
	}
	if e.SrcIP != "" {
		part("client " + e.SrcIP)
	}
	if len(e.AttachmentName) > 0 {
		part("attachments " + strings.Join(e.AttachmentName, ", "))
	} else if e.Reason != "" && e.EventType != schema.TypeDelivery {
		part(e.Reason)
	}
	return b.String()
}

// Source is one tree of rule files.
type Source struct {
	FS fs.FS
	// Display is prepended to paths inside FS in messages and alerts
	// (e.g. "rules" for the embedded pack, the directory for --rules).
	Display string
}

// DirSource returns the Source for a rule directory on disk.
func DirSource(dir string) (Source, error) {
	st, err := os.Stat(dir)
	if err != nil {
		return Source{}, fmt.Errorf("rules: %w", err)
	}
	if !st.IsDir() {
		return Source{}, fmt.Errorf("rules: %s is not a directory", dir)
	}
	return Source{FS: os.DirFS(dir), Display: filepath.ToSlash(filepath.Clean(dir))}, nil
}

// LoadError lists every problem found while loading rules.
type LoadError struct {
	Errors []error
}

func (e *LoadError) Error() string {
	msgs := make([]string, len(e.Errors))
	for i, err := range e.Errors {
		msgs[i] = err.Error()
	}
	return strings.Join(msgs, "\n")
}

// Unwrap exposes the individual errors to errors.Is/As.
func (e *LoadError) Unwrap() []error { return e.Errors }

// DuplicateID reports two rules sharing one id. Ids are how case files,
// alerts and correlations refer to rules, so they must be unique.
type DuplicateID struct {
	ID            string
	First, Second *Rule
}

func (d *DuplicateID) Error() string {
	return fmt.Sprintf("%s:%d:1: rule id %s is already used by %s:%d (%q); ids must be unique",
		d.Second.File, d.Second.Line, d.ID, d.First.File, d.First.Line, d.First.Title)
}

// Options tune loading beyond the rule trees.
type Options struct {
	// DataFiles are YAML or JSON files merged over data.config after the
	// trees' data/ files, in order (detect scan --data): objects merge,
	// other values replace.
	DataFiles []string
	// Budget is the time one event's Rego evaluation may take
	// (rego.DefaultBudget when zero).
	Budget time.Duration
}

// Load reads every rule file from the sources (Sigma: *.yml, *.yaml; Rego:
// *.rego with the data/ files) and compiles them. Ids must be unique across
// all sources and engines. On any error it returns a *LoadError with every
// problem found, and no Ruleset.
func Load(sources ...Source) (*Ruleset, error) {
	return LoadWith(Options{}, sources...)
}

// LoadWith is Load with options.
func LoadWith(opts Options, sources ...Source) (*Ruleset, error) {
	rs, le := LoadAllWith(opts, sources...)
	if le != nil {
		return nil, le
	}
	return rs, nil
}

// LoadAll is Load for tools that report problems rather than stop at them
// (detect test, detect lint): it returns every rule that compiled (of rules
// sharing an id, the first in file order) together with all problems found,
// or a nil *LoadError when there are none.
func LoadAll(sources ...Source) (*Ruleset, *LoadError) {
	return LoadAllWith(Options{}, sources...)
}

// LoadAllWith is LoadAll with options.
func LoadAllWith(opts Options, sources ...Source) (*Ruleset, *LoadError) {
	var errs []error
	rs := &Ruleset{byID: map[string]*Rule{}}
	var sigmaRules []*sigma.Rule
	walkErrs := walkRuleFiles(sources, func(display string, data []byte) {
		rules, err := sigma.ParseFile(display, data)
		if err != nil {
			errs = append(errs, flatten(err)...)
		}
		sigmaRules = append(sigmaRules, rules...)
	})
	errs = append(errs, walkErrs...)
	declared := declaredRefs(sources)
	if err := sigma.Link(sigmaRules, func(ref string) bool { return declared[ref] || declared[strings.ToLower(ref)] }).Err(); err != nil {
		errs = append(errs, flatten(err)...)
	}
	sigmaGates := map[*Rule]sigma.Gate{}
	for _, sr := range sigmaRules {
		r := fromSigma(sr)
		if g, ok := sr.Gate(); ok {
			sigmaGates[r] = g
		}
		rs.rules = append(rs.rules, r)
	}
	errs = append(errs, rs.loadRego(opts, sources)...)
	sort.SliceStable(rs.rules, func(i, j int) bool {
		a, b := rs.rules[i], rs.rules[j]
		if a.File != b.File {
			return a.File < b.File
		}
		return a.Line < b.Line
	})
	kept := rs.rules[:0]
	for _, r := range rs.rules {
		id := strings.ToLower(r.ID)
		if prev, dup := rs.byID[id]; dup {
			errs = append(errs, &DuplicateID{ID: r.ID, First: prev, Second: r})
			continue
		}
		rs.byID[id] = r
		kept = append(kept, r)
	}
	rs.rules = kept
	errs = append(errs, rs.linkCorrelations(func(ref string) bool { return declared[ref] || declared[strings.ToLower(ref)] })...)
	rs.indexGates(sigmaGates)
	if len(errs) > 0 {
		sortByPosition(errs)
		return rs, &LoadError{Errors: errs}
	}
	return rs, nil
}

// loadRego compiles the Rego rules of the sources with their data and
// adds them to rs, keeping the test files for RegoTests.
func (rs *Ruleset) loadRego(opts Options, sources []Source) []error {
	var modules, tree []rego.File
	errs := walkRegoFiles(sources, func(display string, data []byte) {
		if strings.HasSuffix(display, "_test.rego") {
			rs.regoTests = append(rs.regoTests, rego.File{Path: display, Data: data})
		} else {
			modules = append(modules, rego.File{Path: display, Data: data})
		}
	})
	errs = append(errs, walkDataFiles(sources, func(display string, data []byte) {
		tree = append(tree, rego.File{Path: display, Data: data})
	})...)
	var overrides []rego.File
	for _, name := range opts.DataFiles {
		data, err := os.ReadFile(name)
		if err != nil {
			errs = append(errs, fmt.Errorf("data file: %w", err))
			continue
		}
		overrides = append(overrides, rego.File{Path: filepath.ToSlash(name), Data: data})
	}
	if len(modules) == 0 && len(rs.regoTests) == 0 && len(overrides) == 0 {
		return errs // no Rego here: the data/ files have no reader
	}
	config, err := rego.LoadData(tree, overrides)
	if err != nil {
		return append(errs, flatten(err)...)
	}
	set, err := rego.Compile(modules, config, rego.Options{Budget: opts.Budget})
	if err != nil {
		errs = append(errs, flatten(err)...)
	}
	rs.rego = set // also when it has no rules: its data serves the tests
	for _, rr := range set.Rules() {
		rs.rules = append(rs.rules, fromRego(rr, set))
	}
	return errs
}

// linkCorrelations turns the correlation rules whose references all
// resolved into window specs, giving each referenced rule a slot, and the
// windowed Rego rules into Collect specs. A chained correlation's spec
// comes before the specs of the correlations that refer to it, as the
// window package needs. It returns the errors of windowed Rego rules fed
// by rules (custom.window.rules) that name no Sigma detection; declared
// accepts the references to rules that exist but did not compile (they
// are reported where they are). sigma.Link reports the correlations'.
func (rs *Ruleset) linkCorrelations(declared func(ref string) bool) []error {
	spec := map[*Rule]int{} // a correlation's spec index, -1 for none
	var link func(r *Rule) int
	link = func(r *Rule) int {
		if i, done := spec[r]; done {
			return i // -1 also while r is being linked: a cycle, reported by sigma.Link
		}
		spec[r] = -1
		c := r.corr
		if c == nil || len(c.RuleIDs) != len(c.Rules) || len(c.Keys) != len(c.RuleIDs) {
			return -1
		}
		targets := make([]*Rule, len(c.RuleIDs))
		for k, id := range c.RuleIDs {
			t := rs.byID[id]
			if t == nil || (t.corr != nil && t != r && link(t) < 0) {
				return -1 // t == r: a legacy aggregation counts its own matches
			}
			targets[k] = t
		}
		sp := window.Spec{ID: r.ID, Type: c.Type, Span: c.Timespan, Cond: windowCond(c.Cond)}
		fp := sha256.New()
		io.WriteString(fp, r.fingerprint)
		for _, t := range targets {
			chained := t.corr != nil && t != r
			slot := &t.slot
			if chained {
				slot = &t.resultSlot
			}
			if *slot < 0 {
				*slot = len(rs.slotted)
				rs.slotted = append(rs.slotted, t)
			}
			sp.Slots = append(sp.Slots, *slot)
			if chained {
				j := spec[t]
				rs.specs[j].Chained, rs.specs[j].ResultSlot = true, *slot
				io.WriteString(fp, "\x00"+rs.specs[j].Fingerprint)
			} else {
				io.WriteString(fp, "\x00"+t.fingerprint)
			}
		}
		sp.Fingerprint = hex.EncodeToString(fp.Sum(nil))
		if c.Field != "" {
			sp.Field, _ = schema.LookupField(c.Field)
		}
		plain := true // every member is the same event field for every rule
		for _, keys := range c.Keys {
			for i, key := range keys {
				plain = plain && key.Member == "" && key.Field == c.GroupBy[i]
			}
		}
		if plain {
			for _, name := range c.GroupBy {
				f, _ := schema.LookupField(name)
				sp.GroupBy = append(sp.GroupBy, f)
			}
		} else {
			sp.Names, sp.Keys = c.GroupBy, map[int][]window.Key{}
			for k, keys := range c.Keys {
				wk := make([]window.Key, len(keys))
				for i, key := range keys {
					wk[i].Name = key.Member
					if key.Field != "" {
						wk[i].Field, _ = schema.LookupField(key.Field)
					}
				}
				sp.Keys[sp.Slots[k]] = wk
			}
		}
		sp.Silent = !r.Generate
		spec[r] = len(rs.specs)
		rs.specs = append(rs.specs, sp)
		rs.corrRules = append(rs.corrRules, r)
		return spec[r]
	}
	var errs []error
	for _, r := range rs.rules {
		if r.rego != nil && r.rego.Window != nil {
			w := r.rego.Window
			// The module source holds custom.window already; its sum and
			// history are named in the fingerprint all the same, since a
			// window kept across a reload must have been cut and added up
			// as the new rule says, as must the rules that feed it.
			fp := fmt.Sprintf("%s\x00sum=%v:%s\x00history=%d/%d", r.fingerprint, w.Sums, w.Sum.Name(), w.History, w.MinHistory)
			sp := window.Spec{ID: r.ID, Type: window.Collect, GroupBy: w.GroupBy, Span: w.Span,
				Field: w.Sum, Sums: w.Sums, History: w.History, MinHistory: w.MinHistory}
			if !w.Events {
				sp.Keep = window.DefaultMaxEvents // only the alert lists events
			}
			if len(w.Rules) == 0 {
				r.slot = len(rs.slotted)
				rs.slotted = append(rs.slotted, r)
				sp.Slots = []int{r.slot}
			}
			for _, ref := range w.Rules {
				t, problem := rs.sigmaDetection(ref)
				if t == nil {
					if problem != "" || !declared(ref) {
						if problem == "" {
							problem = "no rule has this id or name"
						}
						errs = append(errs, &rego.Error{File: r.File, Line: w.Line, Col: w.Col,
							Msg: fmt.Sprintf("custom.window.rules: %q: %s", ref, problem)})
					}
					sp.Slots = nil
					break
				}
				if t.slot < 0 {
					t.slot = len(rs.slotted)
					rs.slotted = append(rs.slotted, t)
				}
				sp.Slots = append(sp.Slots, t.slot)
				fp += "\x00" + t.fingerprint
			}
			if sp.Slots == nil {
				continue // not evaluated
			}
			sp.Fingerprint = fp
			rs.specs = append(rs.specs, sp)
			rs.corrRules = append(rs.corrRules, r)
			continue
		}
		link(r)
	}
	return errs
}

// sigmaDetection finds the Sigma rule that matches single events (not a
// correlation) with id or name ref, as correlations refer to rules; the
// problem says why a rule of that id or name cannot feed a window.
func (rs *Ruleset) sigmaDetection(ref string) (t *Rule, problem string) {
	t = rs.byID[strings.ToLower(ref)]
	if t == nil {
		for _, r := range rs.rules {
			if r.name != "" && r.name == ref {
				t = r
				break
			}
		}
	}
	switch {
	case t == nil:
		return nil, ""
	case t.Engine != EngineSigma:
		return nil, "a Rego rule; only Sigma detections feed windows"
	case t.corr != nil:
		return nil, "a correlation; only Sigma detections (single events) feed windows"
	}
	return t, ""
}

// windowCond is a correlation condition as window bounds.
func windowCond(ops map[string]float64) window.Cond {
	var cond window.Cond
	for op, v := range ops {
		v := v
		switch op {
		case "gt":
			cond.Gt = &v
		case "gte":
			cond.Gte = &v
		case "lt":
			cond.Lt = &v
		case "lte":
			cond.Lte = &v
		case "eq":
			cond.Eq = &v
		case "neq":
			cond.Neq = &v
		}
	}
	return cond
}

func fromRego(rr *rego.Rule, set *rego.Set) *Rule {
	match := func(e *schema.Event) bool { return len(set.EvalRule(rr, e)) > 0 }
	if rr.Window != nil {
		match = func(*schema.Event) bool { return false } // it judges windows, not events
	}
	return &Rule{
		ID:          rr.ID,
		Title:       rr.Title,
		Description: rr.Description,
		Level:       rr.Level,
		Tags:        rr.Tags,
		References:  rr.References,
		Engine:      EngineRego,
		File:        rr.File,
		Line:        rr.Line,
		Generate:    true,
		match:       match,
		rego:        rr,
		slot:        -1,
		resultSlot:  -1,
		fingerprint: rr.Fingerprint,
	}
}

// sortByPosition orders positioned errors by file, line and column, so the
// report reads top to bottom like the files; unpositioned ones come first.
func sortByPosition(errs []error) {
	key := func(err error) (string, int, int) {
		var pe *sigma.Error
		if errors.As(err, &pe) {
			return pe.File, pe.Line, pe.Col
		}
		var re *rego.Error
		if errors.As(err, &re) {
			return re.File, re.Line, re.Col
		}
		var dup *DuplicateID
		if errors.As(err, &dup) {
			return dup.Second.File, dup.Second.Line, 1
		}
		return "", 0, 0
	}
	sort.SliceStable(errs, func(i, j int) bool {
		fi, li, ci := key(errs[i])
		fj, lj, cj := key(errs[j])
		if fi != fj {
			return fi < fj
		}
		if li != lj {
			return li < lj
		}
		return ci < cj
	})
}

// walkRuleFiles calls fn with every Sigma rule file of the sources, in
// lexical order, skipping hidden files and directories and the data/ tree.
// It returns the errors met reading the trees.
func walkRuleFiles(sources []Source, fn func(display string, data []byte)) []error {
	return walkFiles(sources, func(p string) bool {
		switch strings.ToLower(path.Ext(p)) {
		case ".yml", ".yaml":
			return !isDataDir(p) // rules/data/*.yaml are tunables, not rules
		}
		return false
	}, fn)
}

// walkRegoFiles is walkRuleFiles for Rego rule and test files.
func walkRegoFiles(sources []Source, fn func(display string, data []byte)) []error {
	return walkFiles(sources, func(p string) bool {
		return strings.ToLower(path.Ext(p)) == ".rego" && !isDataDir(p)
	}, fn)
}

// walkDataFiles is walkRuleFiles for the YAML and JSON files of the top-level
// data/ directories, merged into data.config for Rego rules.
func walkDataFiles(sources []Source, fn func(display string, data []byte)) []error {
	return walkFiles(sources, func(p string) bool {
		switch strings.ToLower(path.Ext(p)) {
		case ".yml", ".yaml", ".json":
			return isDataDir(p)
		}
		return false
	}, fn)
}

// walkFiles calls fn with every file of the sources whose path in its tree
// keep accepts, in lexical order, skipping hidden files and directories.
func walkFiles(sources []Source, keep func(p string) bool, fn func(display string, data []byte)) []error {
	var errs []error
	for _, src := range sources {
		err := fs.WalkDir(src.FS, ".", func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", path.Join(src.Display, p), err))
				return nil
			}
			name := d.Name()
			if d.IsDir() {
				if p != "." && strings.HasPrefix(name, ".") {
					return fs.SkipDir
				}
				return nil
			}
			if strings.HasPrefix(name, ".") || !keep(p) {
				return nil
			}
			display := path.Join(src.Display, p)
			data, err := fs.ReadFile(src.FS, p)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", display, err))
				return nil
			}
			fn(display, data)
			return nil
		})
		if err != nil {
			errs = append(errs, err)
		}
	}
	return errs
}

// KnownProducts are the logsource products some parser of this build emits.
// Extend it when a parser lands, or lint will call rules for it dead.
var KnownProducts = []string{"postfix", "amavis", "exim", "sendmail", "zeek", "exchange", "m365", "mailscanner"}

// Lint checks every rule file of the sources (sigma.Lint for Sigma; for
// Rego the load errors, the data files and rego.Lint, which includes the
// custom.requires check) and, across files, that ids are unique. Findings
// are sorted by position.
func Lint(sources ...Source) []sigma.Diagnostic {
	var out []sigma.Diagnostic
	errs := walkRuleFiles(sources, func(display string, data []byte) {
		out = append(out, sigma.Lint(display, data, sigma.LintOptions{Products: KnownProducts})...)
	})
	for _, err := range errs {
		out = append(out, sigma.Diagnostic{Severity: sigma.SeverityError, Msg: err.Error()})
	}
	var regoFiles []rego.File
	walkRegoFiles(sources, func(display string, data []byte) {
		if !strings.HasSuffix(display, "_test.rego") {
			regoFiles = append(regoFiles, rego.File{Path: display, Data: data})
		}
	})
	for _, d := range rego.Lint(regoFiles) {
		sev := sigma.SeverityError
		if d.Warning {
			sev = sigma.SeverityWarning
		}
		out = append(out, sigma.Diagnostic{File: d.File, Line: d.Line, Col: d.Col, Severity: sev, Msg: d.Msg})
	}
	if _, le := LoadAll(sources...); le != nil {
		for _, err := range le.Errors {
			var re *rego.Error
			if errors.As(err, &re) {
				out = append(out, sigma.Diagnostic{File: re.File, Line: re.Line, Col: re.Col, Severity: sigma.SeverityError, Msg: re.Msg})
				continue
			}
			var se *sigma.Error
			if errors.Is(err, sigma.ErrLink) && errors.As(err, &se) {
				out = append(out, sigma.Diagnostic{File: se.File, Line: se.Line, Col: se.Col, Severity: sigma.SeverityError, Msg: se.Msg})
				continue
			}
			var dup *DuplicateID
			if errors.As(err, &dup) {
				out = append(out, sigma.Diagnostic{File: dup.Second.File, Line: dup.Second.Line, Col: 1,
					Severity: sigma.SeverityError,
					Msg:      fmt.Sprintf("rule id %s is already used by %s:%d; ids must be unique", dup.ID, dup.First.File, dup.First.Line)})
			}
		}
	}
	sigma.SortDiagnostics(out)
	return out
}

// isDataDir reports whether a rule-tree path lies under the tree's top-level
// data/ directory, where Rego tunables live. A data/ directory deeper down
// holds rules like any other, so nothing is skipped by accident.
func isDataDir(p string) bool {
	return p == "data" || strings.HasPrefix(p, "data/")
}

// flatten turns a multi-error (sigma.ErrorList or errors.Join) into its parts
// so each is reported on its own line.
func flatten(err error) []error {
	var list sigma.ErrorList
	if errors.As(err, &list) {
		out := make([]error, len(list))
		for i, e := range list {
			out[i] = e
		}
		return out
	}
	if m, ok := err.(interface{ Unwrap() []error }); ok {
		return m.Unwrap()
	}
	return []error{err}
}

func fromSigma(sr *sigma.Rule) *Rule {
	return &Rule{
		ID:          strings.ToLower(sr.ID),
		Title:       sr.Title,
		Description: sr.Description,
		Level:       sr.Level,
		Tags:        sr.Tags,
		References:  sr.References,
		Engine:      EngineSigma,
		File:        sr.File,
		Line:        sr.Line,
		Generate:    sr.Generate,
		match:       sr.Match,
		corr:        sr.Correlation,
		slot:        -1,
		resultSlot:  -1,
		fingerprint: sr.Fingerprint,
		name:        sr.Name,
	}
}

// declaredRefs returns the ids (lower case) and names of every Sigma rule
// document of the sources, compiled or not.
func declaredRefs(sources []Source) map[string]bool {
	refs := map[string]bool{}
	walkRuleFiles(sources, func(_ string, data []byte) {
		dec := yaml.NewDecoder(bytes.NewReader(data))
		for {
			var doc struct {
				ID   string `yaml:"id"`
				Name string `yaml:"name"`
			}
			if err := dec.Decode(&doc); err != nil {
				if errors.Is(err, io.EOF) {
					return
				}
				continue
			}
			if doc.ID != "" {
				refs[strings.ToLower(doc.ID)] = true
			}
			if doc.Name != "" {
				refs[doc.Name] = true
			}
		}
	})
	return refs
}

// DeclaredIDs returns the id of every rule document in the sources, whether
// or not it compiles, so a tool can tell "no such rule" from "the rule is
// broken" (the latter is reported where the rule is).
func DeclaredIDs(sources ...Source) map[string]bool {
	ids := map[string]bool{}
	walkRuleFiles(sources, func(_ string, data []byte) {
		dec := yaml.NewDecoder(bytes.NewReader(data))
		for {
			var doc struct {
				ID string `yaml:"id"`
			}
			if err := dec.Decode(&doc); err != nil {
				if errors.Is(err, io.EOF) {
					return
				}
				continue // a document that is not a mapping; keep reading
			}
			if doc.ID != "" {
				ids[strings.ToLower(doc.ID)] = true
			}
		}
	})
	walkRegoFiles(sources, func(display string, data []byte) {
		if id := rego.DeclaredID(data); id != "" && !strings.HasSuffix(display, "_test.rego") {
			ids[id] = true
		}
	})
	return ids
}

package rego

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/open-policy-agent/opa/v1/ast"

	"github.com/detect-dev/detect/schema"
)

// Window is a windowed rule's custom.window: the rule is evaluated once
// per group (the values of GroupBy) and tumbling window of Span on event
// time, with input = {group, events, count, start, end}, plus sum when
// the window adds up a field (sum: size) and history when it remembers
// the group's previous windows (history: 14).
type Window struct {
	GroupBy []schema.Field
	Span    time.Duration
	// Rules, when set, name the Sigma rules (by id or name) whose matches
	// feed the windows, instead of custom.requires: a detection can say
	// what an event must be (action delivered, relay not this host) where
	// requires only says what it has. The engine resolves them; Line and
	// Col place custom.window for its errors.
	Rules     []string
	Line, Col int
	// Events says whether the rule reads input.events (or input as a
	// whole): when it does not, a window need keep only the few events
	// its alert lists, and the input is built without them.
	Events bool
	// Sum is the numeric event field input.sum adds up over all the
	// window's events, when Sums.
	Sum  schema.Field
	Sums bool
	// History is how many of the group's previous windows input.history
	// holds (0: no history). MinHistory, when set, is how many of them a
	// window needs to be judged at all: a group's earlier windows are
	// still remembered, but the rule is not evaluated on them (a rule
	// that compares a window with a usual one cannot say anything before
	// it has seen a few, and most groups never have that many).
	History    int
	MinHistory int
}

// MaxHistory bounds custom.window.history: a year of daily windows.
const MaxHistory = 366

// WindowInput is what a windowed rule sees as input.
type WindowInput struct {
	Group  map[string]string // group_by field -> value
	Events []*schema.Event   // in time order, at most the window's first few
	Count  int               // all events of the window
	Start  time.Time         // the first event's time
	End    time.Time         // the last event's time
	// Sum adds up Window.Sum over all the window's events (not only
	// Events); History holds the group's previous windows, newest first.
	Sum     float64
	History []PastWindow
}

// PastWindow is one of a group's previous windows, in input.history.
type PastWindow struct {
	Start, End time.Time
	Count      int
	Sum        float64
}

var spanRe = regexp.MustCompile(`^(\d+)([smhdw])$`)

// parseSpan reads a window span: a number and one of s, m, h, d, w as in
// Sigma timespans (10m, 2h, 1d), or a Go duration (1h30m).
func parseSpan(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if m := spanRe.FindStringSubmatch(s); m != nil {
		n, err := strconv.Atoi(m[1])
		if err != nil {
			return 0, err
		}
		unit := map[string]time.Duration{"s": time.Second, "m": time.Minute, "h": time.Hour, "d": 24 * time.Hour, "w": 7 * 24 * time.Hour}[m[2]]
		return time.Duration(n) * unit, nil
	}
	return time.ParseDuration(s)
}

// readWindow reads custom.window; the message says what is wrong ("" when
// nothing is). The Window is never nil: with a problem it holds what could
// be read, so the rule is still type-checked as a windowed one.
func readWindow(v any) (*Window, string) {
	m, ok := v.(map[string]any)
	if !ok {
		return &Window{}, "want a mapping like {group_by: [sender], span: 10m}"
	}
	w := &Window{}
	var problems []string
	for _, k := range slices.Sorted(maps.Keys(m)) {
		if !slices.Contains(windowKeys, k) {
			hint := "known: " + strings.Join(windowKeys, ", ")
			if near := closest(k, windowKeys); near != "" {
				hint = fmt.Sprintf("did you mean %q?", near)
			}
			problems = append(problems, fmt.Sprintf("unknown key %q (%s)", k, hint))
		}
	}
	names, ok := stringList(m["group_by"])
	if !ok {
		problems = append(problems, "group_by must be a list of event fields, e.g. [sender]")
	}
	for _, name := range names {
		f, known := schema.LookupField(name)
		switch {
		case !known:
			msg := fmt.Sprintf("group_by: %q is not an event field", name)
			if near := closest(name, fieldNames()); near != "" {
				msg += fmt.Sprintf(" (did you mean %q?)", near)
			}
			problems = append(problems, msg)
		case f.Name() != name:
			problems = append(problems, fmt.Sprintf("group_by: write the schema name %q, not the alias %q (input.group.%s)", f.Name(), name, f.Name()))
		default:
			w.GroupBy = append(w.GroupBy, f)
		}
	}
	switch span := m["span"].(type) {
	case nil:
		problems = append(problems, "no span: say how long a window is, e.g. span: 10m")
	case string:
		d, err := parseSpan(span)
		if err != nil || d <= 0 {
			problems = append(problems, fmt.Sprintf("span %q is not a positive duration like 30s, 10m, 2h or 1d", span))
		}
		w.Span = d
	default:
		problems = append(problems, fmt.Sprintf("span %v is not a duration like 30s, 10m, 2h or 1d (write it with its unit)", span))
	}
	if v, ok := m["history"]; ok {
		n, whole := wholeNumber(v)
		if !whole || n < 1 || n > MaxHistory {
			problems = append(problems, fmt.Sprintf("history %v is not a number of previous windows from 1 to %d", v, MaxHistory))
		} else {
			w.History = int(n)
		}
	}
	if v, ok := m["min_history"]; ok {
		n, whole := wholeNumber(v)
		switch {
		case !whole || n < 1 || n > MaxHistory:
			problems = append(problems, fmt.Sprintf("min_history %v is not a number of previous windows from 1 to %d", v, MaxHistory))
		case w.History == 0:
			problems = append(problems, "min_history needs history: the windows a group must have had before one is judged are counted in its history")
		case int(n) > w.History:
			problems = append(problems, fmt.Sprintf("min_history %d is more than history %d: no window would ever be judged", n, w.History))
		default:
			w.MinHistory = int(n)
		}
	}
	if v, ok := m["rules"]; ok {
		rules, ok := stringList(v)
		if !ok || len(rules) == 0 {
			problems = append(problems, "rules must list the Sigma rules (ids or names) whose matches feed the windows, e.g. [outbound_delivery]")
		}
		w.Rules = rules
	}
	if v, ok := m["sum"]; ok {
		name, _ := v.(string)
		f, known := schema.LookupField(name)
		switch {
		case !known || (f.Kind() != schema.KindInt && f.Kind() != schema.KindFloat):
			hint := "one of " + strings.Join(numericFields(), ", ")
			if near := closest(name, numericFields()); near != "" && name != "" {
				hint = fmt.Sprintf("did you mean %q?", near)
			}
			problems = append(problems, fmt.Sprintf("sum: %q is not a numeric event field (%s)", fmt.Sprint(v), hint))
		case f.Name() != name:
			problems = append(problems, fmt.Sprintf("sum: write the schema name %q, not the alias %q", f.Name(), name))
		default:
			w.Sum, w.Sums = f, true
		}
	}
	return w, strings.Join(problems, "; ")
}

var windowKeys = []string{"group_by", "span", "history", "min_history", "sum", "rules"}

// numericFields are the event fields a window can add up.
func numericFields() []string {
	var out []string
	for _, f := range schema.Fields() {
		if f.Kind() == schema.KindInt || f.Kind() == schema.KindFloat {
			out = append(out, f.Name())
		}
	}
	return out
}

// wholeNumber reads a metadata value that should be a whole number (YAML
// gives ints, or floats through JSON).
func wholeNumber(v any) (int64, bool) {
	switch n := v.(type) {
	case int:
		return int64(n), true
	case int64:
		return n, true
	case uint64:
		return int64(n), n <= math.MaxInt64
	case float64:
		return int64(n), n == math.Trunc(n) && math.Abs(n) < 1<<53
	case json.Number:
		i, err := n.Int64()
		return i, err == nil
	}
	return 0, false
}

// WindowSchema returns the JSON Schema of a windowed rule's input, with
// group holding exactly the group_by fields and events InputSchema's
// events, so that input.events[_].sendr is a type error as input.sendr is
// for event rules; sum and history are there only when the window asks
// for them, so reading input.sum without sum: is a type error too.
func WindowSchema(w *Window) map[string]any {
	group := map[string]any{}
	for _, f := range w.GroupBy {
		group[f.Name()] = map[string]any{"type": "string", "description": "the value of " + f.Name() + " shared by the window's events (\"\" when they lack it)"}
	}
	stamp := func(doc string) map[string]any {
		return map[string]any{"type": "string", "format": "date-time", "description": doc}
	}
	props := map[string]any{
		"group":  map[string]any{"type": "object", "properties": group, "additionalProperties": false, "description": "the group_by fields and their values"},
		"events": map[string]any{"type": "array", "items": InputSchema(), "description": "the window's first events, in time order"},
		"count":  map[string]any{"type": "integer", "description": "how many events the window holds (events may hold fewer)"},
		"start":  stamp("the first event's time"),
		"end":    stamp("the last event's time"),
	}
	past := map[string]any{
		"start": stamp("the window's first event's time"),
		"end":   stamp("the window's last event's time"),
		"count": map[string]any{"type": "integer", "description": "how many events the window held"},
	}
	if w.Sums {
		props["sum"] = map[string]any{"type": "number", "description": "the sum of " + w.Sum.Name() + " over all the window's events"}
		past["sum"] = map[string]any{"type": "number", "description": "the sum of " + w.Sum.Name() + " over all that window's events"}
	}
	if w.History > 0 {
		props["history"] = map[string]any{"type": "array", "description": "the group's previous windows, newest first",
			"items": map[string]any{"type": "object", "properties": past, "additionalProperties": false}}
	}
	return map[string]any{
		"$schema":              "http://json-schema.org/draft-07/schema#",
		"title":                "detect window",
		"description":          "One group's window of events, for a rule with custom.window.",
		"type":                 "object",
		"properties":           props,
		"additionalProperties": false,
	}
}

// windowValue is in as the Rego input object of a rule with window w:
// sum and history only when w asks for them, as WindowSchema says.
func windowValue(in WindowInput, w *Window) ast.Value {
	group := make([][2]*ast.Term, 0, len(in.Group))
	for k, v := range in.Group {
		group = append(group, [2]*ast.Term{ast.StringTerm(k), ast.StringTerm(v)})
	}
	var events []*ast.Term // none for a rule that never reads them
	if w.Events {
		events = make([]*ast.Term, len(in.Events))
		for i, e := range in.Events {
			events[i] = ast.NewTerm(eventValue(e, allFields))
		}
	}
	obj := ast.NewObject(
		[2]*ast.Term{ast.StringTerm("group"), ast.ObjectTerm(group...)},
		[2]*ast.Term{ast.StringTerm("events"), ast.ArrayTerm(events...)},
		[2]*ast.Term{ast.StringTerm("count"), intTerm(int64(in.Count))},
		[2]*ast.Term{ast.StringTerm("start"), stampTerm(in.Start)},
		[2]*ast.Term{ast.StringTerm("end"), stampTerm(in.End)},
	)
	if w.Sums {
		obj.Insert(ast.StringTerm("sum"), numberTerm(in.Sum))
	}
	if w.History > 0 {
		past := make([]*ast.Term, len(in.History))
		for i, p := range in.History {
			o := ast.NewObject(
				[2]*ast.Term{ast.StringTerm("start"), stampTerm(p.Start)},
				[2]*ast.Term{ast.StringTerm("end"), stampTerm(p.End)},
				[2]*ast.Term{ast.StringTerm("count"), intTerm(int64(p.Count))},
			)
			if w.Sums {
				o.Insert(ast.StringTerm("sum"), numberTerm(p.Sum))
			}
			past[i] = ast.NewTerm(o)
		}
		obj.Insert(ast.StringTerm("history"), ast.ArrayTerm(past...))
	}
	return obj
}

func stampTerm(t time.Time) *ast.Term { return ast.StringTerm(t.UTC().Format(time.RFC3339Nano)) }

// numberTerm is a sum as a Rego number: whole sums (sizes) print as
// integers, not in exponent form.
func numberTerm(x float64) *ast.Term {
	return ast.NewTerm(ast.Number(strconv.FormatFloat(x, 'f', -1, 64)))
}

// readsEvents reports whether module m's rules read input.events, or
// input whole or with a computed key (which may be events).
func readsEvents(m *ast.Module) bool {
	found := false
	var visit func(x any)
	visitor := func(x any) bool {
		switch v := x.(type) {
		case ast.Ref:
			if len(v) == 0 || v[0].Value.Compare(inputVar) != 0 {
				return found
			}
			if len(v) == 1 {
				found = true
				return true
			}
			if key, ok := v[1].Value.(ast.String); !ok || key == "events" {
				found = true
			}
			for _, t := range v[min(2, len(v)):] {
				visit(t) // input[x.y]: the key may read input too
			}
			return true
		case ast.Var:
			found = found || v == inputVar
		}
		return found
	}
	visit = func(x any) { ast.NewGenericVisitor(visitor).Walk(x) }
	for _, r := range m.Rules {
		visit(r)
	}
	return found
}

// Feeds reports whether e goes into the windows of a windowed rule: its
// custom.requires, and nothing else, selects the events. A window fed by
// custom.window.rules takes the matches of those rules instead (the
// engine's job), so Feeds is false for every event.
func (r *Rule) Feeds(e *schema.Event) bool { return len(r.Window.Rules) == 0 && r.Requires.match(e) }

// EvalWindow evaluates windowed rule r of the Set on one window and
// returns its alerts, by message. A failure or a timeout is accounted like
// an event rule's (Problems), against the window's first event.
func (s *Set) EvalWindow(r *Rule, in WindowInput) []Hit {
	pq, ok := s.windows[r.index]
	if !ok || s.strikes[r.index].Load() >= MaxStrikes || len(in.History) < r.Window.MinHistory {
		return nil
	}
	set, err := s.query(context.Background(), pq, windowValue(in, r.Window), s.evalOpts(true)...)
	if err == nil && set != nil {
		var hits []Hit
		set.Sorted().Foreach(func(t *ast.Term) {
			h, ferr := alertHit(r, t.Value)
			if ferr != nil && err == nil {
				err = ferr
			}
			hits = append(hits, h)
		})
		if err == nil {
			return hits
		}
	}
	if err != nil {
		first := &schema.Event{}
		if len(in.Events) > 0 {
			first = in.Events[0]
		}
		s.account(r.index, first, err)
	}
	return nil
}

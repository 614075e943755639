package rego

import (
	"context"
	"fmt"
	"maps"
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
// time, with input = {group, events, count, start, end}.
type Window struct {
	GroupBy []schema.Field
	Span    time.Duration
}

// WindowInput is what a windowed rule sees as input.
type WindowInput struct {
	Group  map[string]string // group_by field -> value
	Events []*schema.Event   // in time order, at most the window's first few
	Count  int               // all events of the window
	Start  time.Time         // the first event's time
	End    time.Time         // the last event's time
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
		if k != "group_by" && k != "span" {
			problems = append(problems, fmt.Sprintf("unknown key %q (known: group_by, span)", k))
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
	return w, strings.Join(problems, "; ")
}

// WindowSchema returns the JSON Schema of a windowed rule's input, with
// group holding exactly the group_by fields and events InputSchema's
// events, so that input.events[_].sendr is a type error as input.sendr is
// for event rules.
func WindowSchema(groupBy []schema.Field) map[string]any {
	group := map[string]any{}
	for _, f := range groupBy {
		group[f.Name()] = map[string]any{"type": "string", "description": "the value of " + f.Name() + " shared by the window's events (\"\" when they lack it)"}
	}
	stamp := func(doc string) map[string]any {
		return map[string]any{"type": "string", "format": "date-time", "description": doc}
	}
	return map[string]any{
		"$schema":     "http://json-schema.org/draft-07/schema#",
		"title":       "detect window",
		"description": "One group's window of events, for a rule with custom.window.",
		"type":        "object",
		"properties": map[string]any{
			"group":  map[string]any{"type": "object", "properties": group, "additionalProperties": false, "description": "the group_by fields and their values"},
			"events": map[string]any{"type": "array", "items": InputSchema(), "description": "the window's first events, in time order"},
			"count":  map[string]any{"type": "integer", "description": "how many events the window holds (events may hold fewer)"},
			"start":  stamp("the first event's time"),
			"end":    stamp("the last event's time"),
		},
		"additionalProperties": false,
	}
}

// windowValue is in as the Rego input object.
func windowValue(in WindowInput) ast.Value {
	group := make([][2]*ast.Term, 0, len(in.Group))
	for k, v := range in.Group {
		group = append(group, [2]*ast.Term{ast.StringTerm(k), ast.StringTerm(v)})
	}
	events := make([]*ast.Term, len(in.Events))
	for i, e := range in.Events {
		events[i] = ast.NewTerm(eventValue(e, allFields))
	}
	return ast.NewObject(
		[2]*ast.Term{ast.StringTerm("group"), ast.ObjectTerm(group...)},
		[2]*ast.Term{ast.StringTerm("events"), ast.ArrayTerm(events...)},
		[2]*ast.Term{ast.StringTerm("count"), intTerm(int64(in.Count))},
		[2]*ast.Term{ast.StringTerm("start"), ast.StringTerm(in.Start.UTC().Format(time.RFC3339Nano))},
		[2]*ast.Term{ast.StringTerm("end"), ast.StringTerm(in.End.UTC().Format(time.RFC3339Nano))},
	)
}

// Feeds reports whether e goes into the windows of a windowed rule: its
// custom.requires, and nothing else, selects the events.
func (r *Rule) Feeds(e *schema.Event) bool { return r.Requires.match(e) }

// EvalWindow evaluates windowed rule r of the Set on one window and
// returns its alerts, by message. A failure or a timeout is accounted like
// an event rule's (Problems), against the window's first event.
func (s *Set) EvalWindow(r *Rule, in WindowInput) []Hit {
	pq, ok := s.windows[r.index]
	if !ok || s.strikes[r.index].Load() >= MaxStrikes {
		return nil
	}
	set, err := s.query(context.Background(), pq, windowValue(in), s.evalOpts(true)...)
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

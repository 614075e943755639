package rego

import (
	"fmt"
	"slices"
	"strings"

	"github.com/detect-dev/detect/schema"
)

// Diagnostic is a lint finding in a Rego rule file.
type Diagnostic struct {
	File      string
	Line, Col int
	Warning   bool // else an error
	Msg       string
}

// Lint checks what loading accepts but is probably wrong in the rule files
// that parse (load errors are Compile's to report).
//
// custom.requires must not change what a rule means, only how often it is
// evaluated: a rule yields the same alerts with the filter as without (in
// an OPA unit test, say). So it is an error when
//
//   - it names a field that some alert can fire without (one the rule does
//     not read, or reads only under not, in a comprehension or in some of
//     its alerts): events without the field would be skipped though the
//     rule fires on them;
//   - it names event types and some alert does not check input.event_type
//     against them (input.event_type == "delivery", or in a set).
//
// Warnings: a field every alert needs, or event types all alerts are
// limited to, that custom.requires does not name (declaring them lets the
// engine skip events without evaluating); a windowed rule without
// custom.requires (every event feeds its windows); custom keys this engine
// does not know (usually typos).
func Lint(files []File) []Diagnostic {
	var out []Diagnostic
	for _, f := range files {
		r, _ := parseRule(f)
		if r == nil || r.meta == nil {
			continue
		}
		at := func(key string, warning bool, format string, args ...any) {
			loc := metaLine(r.module, r.meta, key)
			out = append(out, Diagnostic{File: f.Path, Line: loc.Row, Col: loc.Col, Warning: warning, Msg: fmt.Sprintf(format, args...)})
		}
		if r.Window != nil {
			// custom.requires of a windowed rule is what feeds its
			// windows, not a shortcut past evaluation: nothing to prove,
			// but without it every event lands in some window.
			if r.Requires.list == nil && r.Requires.EventTypes == nil && len(r.Window.Rules) == 0 {
				example := []string{"reject"}
				for _, f := range r.Window.GroupBy {
					example = append(example, f.Name())
				}
				at("window", true, "custom.window without custom.requires: every event (connects, deliveries, rejects alike) feeds this rule's windows, "+
					"so input.count and input.events mix them all; name the event types and fields its events need, e.g. requires: [%s]", strings.Join(example, ", "))
			}
			unknownKeys(r, at)
			continue
		}
		for _, fld := range r.Requires.list {
			switch {
			case r.needs.has(fld):
			case r.readsAll:
				at("requires", true, "custom.requires names %s; the rule reads input as a whole, so lint cannot tell whether every alert needs input.%s", fld, fld)
			case !r.reads.has(fld):
				at("requires", false, "custom.requires names %s, but the rule never reads input.%s: events without it would be skipped though the rule does not need it", fld, fld)
			default:
				at("requires", false, "custom.requires names %s, but an alert of this rule can fire without input.%s (it is read under not, in a comprehension, or not by every alert): the filter would hide alerts", fld, fld)
			}
		}
		if req := r.Requires.EventTypes; len(req) > 0 {
			switch {
			case r.alertTypes == nil:
				at("requires", false, "custom.requires names event types (%s), but not every alert checks them: write input.event_type == %q (or in a set) in each alert, so the rule means the same without the filter",
					strings.Join(req, ", "), req[0])
			case len(intersect(r.alertTypes, req)) < len(r.alertTypes):
				at("requires", false, "alerts of this rule fire on event types (%s) that custom.requires (%s) leaves out",
					strings.Join(r.alertTypes, ", "), strings.Join(req, ", "))
			}
		}
		var missing []string
		for _, fld := range schema.Fields() {
			if fld == schema.FieldEventType && (r.alertTypes != nil || len(r.Requires.EventTypes) > 0) {
				continue // the event types are what to declare
			}
			if r.needs.has(fld) && !r.Requires.fields.has(fld) {
				missing = append(missing, fld.Name())
			}
		}
		if len(r.Requires.EventTypes) == 0 && len(r.alertTypes) > 0 {
			missing = append(missing, r.alertTypes...)
		}
		if len(missing) > 0 {
			key := "requires"
			if r.Requires.list == nil && r.Requires.EventTypes == nil {
				key = "custom"
			}
			at(key, true, "every alert of this rule needs %s; add it to custom.requires so other events are not evaluated",
				strings.Join(missing, ", "))
		}
		unknownKeys(r, at)
	}
	slices.SortStableFunc(out, func(a, b Diagnostic) int {
		if c := strings.Compare(a.File, b.File); c != 0 {
			return c
		}
		if a.Line != b.Line {
			return a.Line - b.Line
		}
		return a.Col - b.Col
	})
	return out
}

// unknownKeys warns about the custom keys of r this engine does not know.
func unknownKeys(r *Rule, at func(key string, warning bool, format string, args ...any)) {
	for _, k := range r.unknown {
		msg := fmt.Sprintf("unknown custom metadata key %q (known: %s)", k, strings.Join(knownCustom, ", "))
		if near := closest(k, knownCustom); near != "" {
			msg = fmt.Sprintf("unknown custom metadata key %q (did you mean %q?)", k, near)
		}
		at(k, true, "%s", msg)
	}
}

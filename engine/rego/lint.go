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
// that parse (load errors are Compile's to report):
//
//   - custom.requires names a field the rule never reads (error): events
//     without it are skipped though the rule does not need it, so the
//     declaration hides alerts.
//   - every alert of the rule reads a field that custom.requires does not
//     name (warning): declaring it lets the engine skip events without it.
//   - custom keys this engine does not know (warning, usually typos).
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
		for _, fld := range r.Requires.list {
			if !r.readsAll && !r.reads.has(fld) {
				at("requires", false, "custom.requires names %s, but the rule never reads input.%s: events without it are skipped though the rule does not need it", fld, fld)
			}
		}
		var missing []string
		for _, fld := range schema.Fields() {
			if r.needs.has(fld) && !r.Requires.fields.has(fld) {
				missing = append(missing, fld.Name())
			}
		}
		if len(missing) > 0 {
			key := "requires"
			if r.Requires.list == nil && r.Requires.EventTypes == nil {
				key = "custom"
			}
			at(key, true, "every alert of this rule needs input.%s; add %s to custom.requires so events without it are not evaluated",
				strings.Join(missing, ", input."), strings.Join(missing, ", "))
		}
		for _, k := range r.unknown {
			msg := fmt.Sprintf("unknown custom metadata key %q (known: %s)", k, strings.Join(knownCustom, ", "))
			if near := closest(k, knownCustom); near != "" {
				msg = fmt.Sprintf("unknown custom metadata key %q (did you mean %q?)", k, near)
			}
			at(k, true, "%s", msg)
		}
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

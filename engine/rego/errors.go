package rego

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/types"
)

// Error is one problem in a Rego rule, test or data file, at a position.
type Error struct {
	File      string
	Line, Col int
	Msg       string
	Err       error // the underlying error, if any
}

func (e *Error) Error() string {
	return fmt.Sprintf("%s:%d:%d: %s", e.File, e.Line, e.Col, e.Msg)
}

func (e *Error) Unwrap() error { return e.Err }

// ErrorList is every problem found, sorted by position.
type ErrorList []*Error

func (l ErrorList) Error() string {
	msgs := make([]string, len(l))
	for i, e := range l {
		msgs[i] = e.Error()
	}
	return strings.Join(msgs, "\n")
}

// Unwrap exposes the individual errors to errors.Is/As.
func (l ErrorList) Unwrap() []error {
	out := make([]error, len(l))
	for i, e := range l {
		out[i] = e
	}
	return out
}

// sortErrors orders errors by file, line and column and drops exact
// duplicates (the type checker can report one mistake twice).
func sortErrors(errs []*Error) ErrorList {
	slices.SortStableFunc(errs, func(a, b *Error) int {
		if c := strings.Compare(a.File, b.File); c != 0 {
			return c
		}
		if a.Line != b.Line {
			return a.Line - b.Line
		}
		return a.Col - b.Col
	})
	return slices.CompactFunc(errs, func(a, b *Error) bool {
		return a.File == b.File && a.Line == b.Line && a.Col == b.Col && a.Msg == b.Msg
	})
}

func errorAt(file string, loc *ast.Location, format string, args ...any) *Error {
	e := &Error{File: file, Line: 1, Col: 1, Msg: fmt.Sprintf(format, args...)}
	if loc != nil {
		e.Line, e.Col = max(loc.Row, 1), max(loc.Col, 1)
	}
	return e
}

// fromOPA converts OPA's parse and compile errors, keeping their positions
// and rewording the ones rule authors meet most.
func fromOPA(err error, file string) []*Error {
	var list ast.Errors
	if !errors.As(err, &list) {
		var one *ast.Error
		if !errors.As(err, &one) {
			return []*Error{{File: file, Line: 1, Col: 1, Msg: err.Error(), Err: err}}
		}
		list = ast.Errors{one}
	}
	out := make([]*Error, 0, len(list))
	for _, e := range list {
		f := file
		if e.Location != nil && e.Location.File != "" {
			f = e.Location.File
		}
		re := errorAt(f, e.Location, "%s", message(e))
		re.Err = e
		out = append(out, re)
	}
	return out
}

// message words an OPA error for a rule author: one line, the field that
// does not exist named with the closest one that does.
func message(e *ast.Error) string {
	msg := e.Message
	if d, ok := e.Details.(*ast.RefErrInvalidDetail); ok && len(d.OneOf) > 0 && d.Pos < len(d.Ref) {
		bad, isStr := d.Ref[d.Pos].Value.(ast.String)
		if isStr {
			have := make([]string, 0, len(d.OneOf))
			for _, v := range d.OneOf {
				if s, ok := v.(ast.String); ok {
					have = append(have, string(s))
				}
			}
			what := d.Ref[:d.Pos].String()
			switch {
			case what == "input" && slices.Contains(have, "events") && slices.Contains(have, "group"):
				what = "a window's input (" + strings.Join(windowInputKeys(have), ", ") + ")"
			case what == "input", strings.HasPrefix(what, "input.events["):
				what = "the event schema"
			case what == "input.group":
				what = "input.group (the fields of custom.window.group_by)"
			}
			msg = fmt.Sprintf("undefined ref %s: %s has no field %q", d.Ref[:d.Pos+1], what, string(bad))
			if near := closest(string(bad), have); near != "" {
				msg += fmt.Sprintf(" (did you mean %q?)", near)
			}
			return msg
		}
	}
	switch d := e.Details.(type) {
	case *ast.UnificationErrDetail:
		return fmt.Sprintf("%s: the two sides can never be equal (left: %s, right: %s)", msg, types.Sprint(d.Left), types.Sprint(d.Right))
	case *ast.ArgErrDetail:
		have := make([]string, len(d.Have))
		for i, t := range d.Have {
			have[i] = types.Sprint(t)
		}
		return fmt.Sprintf("%s (have: %s; want: %s)", msg, strings.Join(have, ", "), d.Want)
	}
	if strings.HasPrefix(msg, "undefined function ") {
		name := strings.TrimPrefix(msg, "undefined function ")
		if why, off := disabled[name]; off {
			return fmt.Sprintf("%s is disabled in detect rules: %s", name, why)
		}
	}
	return msg
}

// closest returns the candidate nearest to s by edit distance, if it is
// near enough to be a plausible typo.
func closest(s string, candidates []string) string {
	best, bestD := "", 0
	for _, c := range candidates {
		d := EditDistance([]rune(s), []rune(c))
		if best == "" || d < bestD {
			best, bestD = c, d
		}
	}
	if best == "" || bestD > max(2, len(s)/3) {
		return ""
	}
	return best
}

// windowInputKeys orders the members of a window's input as the README
// lists them, then the ones the window asked for (sum, history).
func windowInputKeys(have []string) []string {
	var out []string
	for _, k := range []string{"group", "events", "count", "start", "end", "sum", "history"} {
		if slices.Contains(have, k) {
			out = append(out, k)
		}
	}
	return out
}

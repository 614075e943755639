package sigma

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
)

// Error is one problem in a rule file, at a 1-based line and column.
type Error struct {
	File string
	Line int
	Col  int
	Msg  string
	// Err is the underlying cause when there is one (a regexp or YAML
	// error), so callers can inspect it with errors.Is and errors.As.
	Err error
}

func (e *Error) Error() string {
	return fmt.Sprintf("%s:%d:%d: %s", e.File, e.Line, e.Col, e.Msg)
}

// Unwrap returns the underlying cause, or nil.
func (e *Error) Unwrap() error { return e.Err }

// ErrorList collects every problem of a load instead of stopping at the
// first, so a rule author sees all of them in one run.
type ErrorList []*Error

// Add appends an error at file:line:col.
func (l *ErrorList) Add(file string, line, col int, msg string) {
	*l = append(*l, &Error{File: file, Line: line, Col: col, Msg: msg})
}

// Sort orders the list by file, line and column; errors at the same
// position keep the order they were added in.
func (l ErrorList) Sort() {
	slices.SortStableFunc(l, func(a, b *Error) int {
		return cmp.Or(
			strings.Compare(a.File, b.File),
			cmp.Compare(a.Line, b.Line),
			cmp.Compare(a.Col, b.Col),
		)
	})
}

// Err returns the list as an error, or nil when it is empty. Returning the
// typed nil of an empty list as an error would make err != nil true.
func (l ErrorList) Err() error {
	if len(l) == 0 {
		return nil
	}
	return l
}

// Error prints every error, one per line.
func (l ErrorList) Error() string {
	switch len(l) {
	case 0:
		return "no errors"
	case 1:
		return l[0].Error()
	}
	var b strings.Builder
	for i, e := range l {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(e.Error())
	}
	return b.String()
}

// Unwrap exposes the individual errors to errors.Is and errors.As.
func (l ErrorList) Unwrap() []error {
	out := make([]error, len(l))
	for i, e := range l {
		out[i] = e
	}
	return out
}

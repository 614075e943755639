package query

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// Error is a problem with a query, positioned at the text it is about.
// Error() gives the message, the query, and a caret line under the culprit:
//
//	column 14: unknown command "stat" (did you mean "stats"?)
//	  index=mail | stat count by host
//	               ^^^^
type Error struct {
	Query  string
	Offset int // byte offset of the culprit in Query
	Column int // 1-based column (in runes) of the culprit
	Width  int // columns the caret spans (at least 1)
	Msg    string
}

func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "column %d: %s\n", e.Column, e.Msg)
	b.WriteString("  ")
	b.WriteString(oneLine(e.Query))
	b.WriteString("\n  ")
	b.WriteString(strings.Repeat(" ", e.Column-1))
	b.WriteString(strings.Repeat("^", max(e.Width, 1)))
	return b.String()
}

// oneLine keeps a query on one line so the caret stays under its column.
func oneLine(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '\n' || r == '\r' || r == '\t' || r == '\f' || r == '\v' {
			return ' '
		}
		return r
	}, s)
}

// errAt makes an Error spanning the byte range [pos, end) of q.
func errAt(q string, pos, end int, format string, args ...any) *Error {
	pos = min(max(pos, 0), len(q))
	end = min(max(end, pos), len(q))
	return &Error{
		Query:  q,
		Offset: pos,
		Column: utf8.RuneCountInString(q[:pos]) + 1,
		Width:  max(utf8.RuneCountInString(q[pos:end]), 1),
		Msg:    fmt.Sprintf(format, args...),
	}
}

// suggest returns the candidate closest to s when it is close enough to be
// a likely typo, else "".
func suggest(s string, candidates []string) string {
	best, bestD := "", 3
	if len(s) <= 2 {
		bestD = 2
	}
	ls := strings.ToLower(s)
	for _, c := range candidates {
		if d := levenshtein(ls, strings.ToLower(c)); d < bestD {
			best, bestD = c, d
		}
	}
	return best
}

func levenshtein(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}

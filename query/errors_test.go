package query

import (
	"errors"
	"strings"
	"testing"
)

// TestParseErrors checks each message and that its caret sits under the
// culprit: col is the 1-based column written out by hand, width the
// number of carets.
func TestParseErrors(t *testing.T) {
	tests := []struct {
		q          string
		col, width int
		msg        string
	}{
		{"index=mail | stat count by host", 14, 4, `unknown command "stat" (did you mean "stats"?)`},
		{"| eval x=1", 3, 4, `unknown command "eval" (commands: dedup, fields, head,`},
		{"action=rejected |", 18, 1, "expected a command after |"},
		{"action=rejected | | top sender", 19, 1, "expected a command after |"},
		{`sender="abc`, 8, 4, "unterminated \" string"},
		{"sender=\xff", 8, 1, "invalid UTF-8"},
		{"(action=a OR b", 15, 1, "expected ) to close the ( at column 1, found end of query"},
		{"action=a)", 9, 1, "unbalanced )"},
		{"action=a OR", 12, 1, "missing search term"},
		{"OR action=a", 1, 2, "OR needs a search term on both sides"},
		{"NOT", 4, 1, "missing search term"},
		{"sender==x", 7, 2, "use = in a search"},
		{"sender=", 8, 1, "expected a value after =, found end of query"},
		{"sendr=x", 1, 5, `unknown field "sendr" (did you mean "sender"?)`},
		{"_raw=*x*", 1, 4, "events carry no raw line"},
		{"action=x OR index=mail", 13, 5, "accepted only as a leading term"},
		{"| top", 3, 3, "top needs a field"},
		{"| top lmit=3 sender", 7, 4, `top has no option "lmit"`},
		{"| top limit=abc sender", 13, 3, "expected a whole number >= 0"},
		{"| top sender by", 14, 2, "by needs at least one field"},
		{"| stats", 3, 5, "stats needs a function"},
		{"| stats count by", 15, 2, "by needs at least one field"},
		{"| stats sumx(size)", 9, 4, `unknown function "sumx" (did you mean "sum"?)`},
		{"| stats sum", 9, 3, "sum needs a field"},
		{"| stats count(size", 19, 1, "expected ) after the field of count"},
		{"| stats count by host extra", 23, 5, `unknown field "extra"`},
		{"| timechart span=1x count", 18, 2, `bad span "1x"`},
		{"| timechart span=1h", 3, 9, "timechart needs a function"},
		{"| timechart count, dc(sender) by host", 20, 10, "timechart ... by takes one function"},
		{"| timechart count by host, action", 28, 6, "timechart splits by exactly one field"},
		{"| stats count | timechart count", 17, 9, "timechart needs _time"},
		{"| sort", 3, 4, "sort needs a field"},
		{"| head x", 8, 1, "head takes a number"},
		{"| head -3", 8, 2, "head takes a number"},
		{"| dedup", 3, 5, "dedup needs at least one field"},
		{"| dedup host sortby -size", 14, 6, "dedup sortby is not supported"},
		{"| rename sender from", 17, 4, `expected AS after sender, found "from"`},
		{"| rename sender as from | stats count by sender", 42, 6, `field "sender" is not here any more: renamed to from`},
		{"| table sender | stats count by host", 33, 4, `field "host" is not here any more: not kept by table`},
		{"| fields - host | top host", 23, 4, `field "host" is not here any more: removed by fields -`},
		{"| where count > 1", 9, 5, `unknown field "count"`},
		{"| where action=delivered", 16, 9, `unknown field "delivered"; in where, quote text values: "delivered"`},
		{"| where sender", 9, 6, "where needs a comparison or a true/false function"},
		{"| where like(sender)", 9, 12, "like takes 2 argument(s), not 1"},
		{"| where dc(recipient) > 1", 9, 13, `unknown function "dc"; to use a stats column such as dc(recipient), quote it`},
		{"| where match(sender, \"(\")", 23, 3, "bad regular expression"},
		{"| where size > 1 AND sender", 22, 6, "AND needs comparisons or true/false functions on both sides"},
		{"| stats count by host | where cnt > 3", 31, 3, `unknown column "cnt" (did you mean "count"? columns here: host, count)`},
		{"| stats count by host | sort -cuont", 31, 5, `unknown column "cuont" (did you mean "count"?`},
		{`subject="héllo" | stat`, 19, 4, `unknown command "stat"`},
	}
	for _, tc := range tests {
		t.Run(tc.q, func(t *testing.T) {
			_, err := Parse(tc.q)
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("Parse(%q) = %v, want an *Error", tc.q, err)
			}
			if e.Column != tc.col || e.Width != tc.width || !strings.Contains(e.Msg, tc.msg) {
				t.Errorf("got column %d width %d %q\nwant column %d width %d %q\n%v", e.Column, e.Width, e.Msg, tc.col, tc.width, tc.msg, e)
			}
		})
	}
}

func TestErrorFormat(t *testing.T) {
	_, err := Parse("index=mail | stat count by host")
	want := `column 14: unknown command "stat" (did you mean "stats"?)
  index=mail | stat count by host
               ^^^^`
	if err == nil || err.Error() != want {
		t.Errorf("-want\n%s\n+got\n%v", want, err)
	}
	// A query on several lines keeps its caret under the column.
	_, err = Parse("action=x\n| stat")
	if err == nil || !strings.HasSuffix(err.Error(), "  action=x | stat\n             ^^^^") {
		t.Errorf("multi-line query:\n%v", err)
	}
}

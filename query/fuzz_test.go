package query

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzParse: any text either parses, or fails with an *Error whose caret
// is inside the query; whatever parses runs over the test events without
// panicking and writes valid JSON.
func FuzzParse(f *testing.F) {
	seeds := []string{
		"index=mail sourcetype=smtp | top limit=10 sender",
		"index=mail sourcetype=smtp | top limit=10 recipient",
		"index=mail sourcetype=smtp | stats count by action,host,sender,recipient",
		"index=mail sourcetype=smtp | timechart span=1h count",
		`index=mail sourcetype=smtp | search attachment_type="application/x-msdownload" OR attachment_size > 1000000`,
		"index=mail sourcetype=smtp | stats count by action,host",
		"index=mail sourcetype=smtp | timechart span=1d count by host",
		`(a OR NOT b) c=d* e!="f g" size>=10 host IN (x, "y")`,
		`| where like(sender, "%x") AND NOT isnull(host) OR size > 3 | sort -size, +host | head 3`,
		"| stats count, dc(recipient) as r, values(host) by sender | where 'r' > 1 | rename r as n | table sender n",
		"| timechart span=5m limit=3 useother=f count by src_ip | fields - NULL",
		"| rare host by action | dedup 2 action keepempty=t | tail 2",
		`"unterminated`, "| stat", "a)", "((", "x=", "| where (", "sort -", "\xff",
	}
	for _, s := range seeds {
		f.Add(s)
	}
	events := loadEvents(f, "testdata/smtp.jsonl")
	f.Fuzz(func(t *testing.T, src string) {
		q, err := Parse(src)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("Parse(%q): %T %v, want *Error", src, err, err)
			}
			if e.Column < 1 || e.Column > utf8.RuneCountInString(src)+1 || e.Width < 1 {
				t.Fatalf("Parse(%q): caret at column %d width %d", src, e.Column, e.Width)
			}
			if !strings.Contains(e.Error(), "^") {
				t.Fatalf("no caret: %v", e)
			}
			return
		}
		run := q.Start()
		for _, e := range events {
			if !run.Add(e) {
				break
			}
		}
		var b bytes.Buffer
		if err := run.Result().WriteJSON(&b); err != nil {
			t.Fatal(err)
		}
		if !json.Valid(b.Bytes()) {
			t.Fatalf("%q: invalid JSON:\n%s", src, b.String())
		}
	})
}

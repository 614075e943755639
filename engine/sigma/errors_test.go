package sigma

import (
	"errors"
	"os"
	"path/filepath"
	"regexp/syntax"
	"strings"
	"testing"
)

// badFixtures maps each testdata/bad/*.bad.yml file to the messages its
// load must report, each including file:line:col.
var badFixtures = map[string][]string{
	"aggregation.bad.yml":                {"aggregation.bad.yml:8:24: condition: only \"| count() [by field] > N\" and \"| count(field) [by field] > N\" aggregations are translated; write a correlation rule instead, with this rule (without the aggregation, with a name) as its base: correlation: {type: value_sum, rules: [<this rule's name>], group-by: [src_ip], timespan: <the timeframe>, condition: {gt: 10, field: size}}"},
	"bad_category.bad.yml":               {`bad_category.bad.yml:4:13: logsource category "process_creation" is not supported: detect reads mail logs, use category: email`},
	"bad_id.bad.yml":                     {`bad_id.bad.yml:2:5: id "1234" is not a UUID`},
	"bad_level.bad.yml":                  {`bad_level.bad.yml:3:8: level "severe" is not one of informational, low, medium, high, critical`},
	"bad_regexp.bad.yml":                 {`bad_regexp.bad.yml:7:14: invalid regular expression "(?<=WIN)-\\d+" (Go RE2 syntax: no lookaround or backreferences)`},
	"base64_wildcard.bad.yml":            {"base64_wildcard.bad.yml:7:20: base64 values cannot contain wildcards"},
	"cidr_not_ip.bad.yml":                {`cidr_not_ip.bad.yml:9:9: cidr value "mail.example.com" is not an IP prefix`},
	"numeric_on_text.bad.yml":            {"numeric_on_text.bad.yml:7:5: gt, gte, lt and lte compare numbers, and status_code is text; use startswith or re (e.g. status_code|startswith: '5')"},
	"cidr_numeric_field.bad.yml":         {"cidr_numeric_field.bad.yml:7:5: cidr needs a text field holding IP addresses; size is not one"},
	"correlation.bad.yml":                {`correlation.bad.yml:23:3: unknown correlation attribute "window"`},
	"duplicate_key.bad.yml":              {`duplicate_key.bad.yml:8:5: search "selection": duplicate key "subject"`},
	"empty_value_list.bad.yml":           {"empty_value_list.bad.yml:7:14: subject has an empty list of values"},
	"exists_not_bool.bad.yml":            {`exists_not_bool.bad.yml:7:23: exists takes true or false, not "yes"`},
	"flag_without_re.bad.yml":            {`flag_without_re.bad.yml:7:22: modifier "i" only applies to re (write "re|i")`},
	"gt_not_number.bad.yml":              {`gt_not_number.bad.yml:7:14: gt, gte, lt and lte need a number, not "big"`},
	"missing_id.bad.yml":                 {"missing_id.bad.yml:1:1: rule has no id"},
	"missing_title.bad.yml":              {"missing_title.bad.yml:1:1: rule has no title"},
	"multiline_condition.bad.yml":        {`multiline_condition.bad.yml:10:9: condition: unknown search "filtr"`},
	"no_condition.bad.yml":               {"no_condition.bad.yml:5:1: detection has no condition"},
	"null_with_modifier.bad.yml":         {"null_with_modifier.bad.yml:7:23: null cannot be combined with modifiers"},
	"pattern_matches_nothing.bad.yml":    {`pattern_matches_nothing.bad.yml:8:37: condition: pattern "filter_*" matches no search`},
	"pattern_without_quantifier.bad.yml": {`pattern_without_quantifier.bad.yml:8:14: condition: pattern "sel_*" needs a quantifier`},
	"re_with_contains.bad.yml":           {`re_with_contains.bad.yml:7:16: modifier "contains" cannot be combined with "re"`},
	"search_is_scalar.bad.yml":           {`search_is_scalar.bad.yml:6:14: search "selection" must be a mapping of fields or a list, not a scalar`},
	"them_matches_nothing.bad.yml":       {`them_matches_nothing.bad.yml:8:19: condition: "them" matches no search`},
	"timeframe.bad.yml":                  {"timeframe.bad.yml:8:3: timeframe belongs to aggregations (| count() ...), and this condition has none"},
	"two_of.bad.yml":                     {`two_of.bad.yml:10:14: condition: only "1 of", "any of" and "all of" are supported, not "2 of"`},
	"unbalanced_paren.bad.yml":           {"unbalanced_paren.bad.yml:10:39: condition: missing ')': found end of condition"},
	"unknown_field.bad.yml":              {`unknown_field.bad.yml:7:5: unknown field "attachmnts" (did you mean "attachments"?)`},
	"unknown_modifier.bad.yml":           {`unknown_modifier.bad.yml:7:13: unknown modifier "contain" (did you mean "contains"?)`},
	"unknown_search.bad.yml":             {`unknown_search.bad.yml:8:14: condition: unknown search "selction" (did you mean "selection"?)`},
	"windash.bad.yml":                    {`windash.bad.yml:7:13: modifier "windash" is not supported`},
	"yaml_syntax.bad.yml":                {"yaml_syntax.bad.yml:5:1: invalid YAML: did not find expected ',' or ']'"},
	// Every error of every document is reported, in order.
	"several_errors.bad.yml": {
		`several_errors.bad.yml:7:5: unknown field "sendr" (did you mean "sender"?)`,
		`several_errors.bad.yml:8:13: unknown modifier "startwith" (did you mean "startswith"?)`,
		`several_errors.bad.yml:13:8: level "urgent" is not one of`,
		`several_errors.bad.yml:16:14: invalid regular expression "("`,
		`several_errors.bad.yml:17:27: condition: unknown search "missing"`,
	},
}

func TestBadFixtures(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "bad", "*.yml"))
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, path := range files {
		name := filepath.Base(path)
		seen[name] = true
		t.Run(name, func(t *testing.T) {
			want, ok := badFixtures[name]
			if !ok {
				t.Fatalf("fixture %s has no expected messages in badFixtures", name)
			}
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			_, err = ParseFile(name, data)
			if err == nil {
				t.Fatalf("ParseFile succeeded, want errors %q", want)
			}
			var list ErrorList
			if !errors.As(err, &list) {
				t.Fatalf("error is %T, want ErrorList", err)
			}
			for _, e := range list {
				if e.File != name || e.Line < 1 || e.Col < 1 {
					t.Errorf("badly positioned error %q", e)
				}
			}
			if len(list) != len(want) {
				t.Errorf("got %d errors, want %d:\n%v", len(list), len(want), err)
			}
			for i, w := range want {
				if i < len(list) && !strings.HasPrefix(list[i].Error(), w) {
					t.Errorf("error %d:\n got  %s\n want %s...", i, list[i], w)
				}
			}
		})
	}
	for name := range badFixtures {
		if !seen[name] {
			t.Errorf("badFixtures lists %s, which is not in testdata/bad", name)
		}
	}
}

func TestErrorWrapsCause(t *testing.T) {
	_, err := ParseFile("re.yml", []byte(testHeader+"detection:\n  sel:\n    helo|re: '('\n  condition: sel\n"))
	var serr *syntax.Error
	if !errors.As(err, &serr) {
		t.Fatalf("errors.As(%v, *syntax.Error) failed; the regexp error must be wrapped", err)
	}
	var e *Error
	if !errors.As(err, &e) || e.Line != 6 || e.Col != 14 {
		t.Fatalf("errors.As(*Error) = %+v", e)
	}
}

func TestErrorList(t *testing.T) {
	var l ErrorList
	if l.Err() != nil {
		t.Fatal("empty list must give a nil error")
	}
	l.Add("b.yml", 1, 1, "third")
	l.Add("a.yml", 9, 2, "second")
	l.Add("a.yml", 3, 7, "first")
	l.Sort()
	want := "a.yml:3:7: first\na.yml:9:2: second\nb.yml:1:1: third"
	if got := l.Err().Error(); got != want {
		t.Errorf("Error() =\n%s\nwant\n%s", got, want)
	}
	if got := l[0].Error(); got != "a.yml:3:7: first" {
		t.Errorf("(*Error).Error() = %q", got)
	}
}

func TestDidYouMean(t *testing.T) {
	for _, tc := range []struct{ name, want string }{
		{"attachmnts", "attachments"},
		{"sendr", "sender"},
		{"Subjetc", "subject"},
		{"src_userr", "src_user"},
		{"xyzzy", ""},
	} {
		got := didYouMean(tc.name, fieldNames)
		if tc.want == "" && got != "" || tc.want != "" && !strings.Contains(got, `"`+tc.want+`"`) {
			t.Errorf("didYouMean(%q) = %q, want %q", tc.name, got, tc.want)
		}
	}
}

// TestParseErrorsInline covers the rarer errors without a fixture file each.
// det replaces the detection block; doc, when set, is the whole document.
func TestParseErrorsInline(t *testing.T) {
	det := func(s string) string { return testHeader + "detection:" + s + "\n" }
	for _, tc := range []struct{ name, src, want string }{
		{"unexpected character", det("\n  sel:\n    subject: a\n  condition: sel & sel"), "x.yml:7:18: condition: unexpected character '&'"},
		{"missing operator", det("\n  sel:\n    subject: a\n  other:\n    helo: b\n  condition: sel other"), `x.yml:9:18: condition: unexpected "other" after a complete expression`},
		{"dangling and", det("\n  sel:\n    subject: a\n  condition: sel and"), "x.yml:7:21: condition: expected a search name, found end of condition"},
		{"operator as name", det("\n  sel:\n    subject: a\n  condition: sel and or sel"), `x.yml:7:22: condition: expected a search name, found "or"`},
		{"of without target", det("\n  sel:\n    subject: a\n  condition: 1 of"), `x.yml:7:18: condition: expected a search name, a pattern or them after "of"`},
		{"condition is a mapping", det("\n  sel:\n    subject: a\n  condition: {a: b}"), "x.yml:7:14: condition must be a string or a list of strings, not a mapping"},
		{"condition list item", det("\n  sel:\n    subject: a\n  condition:\n    - sel\n    - [sel]"), "x.yml:9:7: condition must be a string, found a list"},
		{"detection is a list", testHeader + "detection: [a]\n", "x.yml:4:1: detection must be a mapping of searches and a condition"},
		{"no searches", det("\n  condition: sel"), "x.yml:4:1: detection has no searches"},
		{"null keyword", det("\n  kw:\n    - foo\n    - null\n  condition: kw"), "x.yml:7:7: null is not a keyword"},
		{"keyword exists", det("\n  sel:\n    '|exists': true\n  condition: sel"), "x.yml:6:5: keywords (a key without a field name) cannot use exists"},
		{"nested list item", det("\n  sel:\n    - [a]\n  condition: sel"), `x.yml:6:7: search "sel": list items must be mappings of fields or keyword strings, not a list`},
		{"value is a mapping", det("\n  sel:\n    subject: {a: b}\n  condition: sel"), "x.yml:6:14: subject: the value must be a scalar or a list of scalars, not a mapping"},
		{"value list holds a list", det("\n  sel:\n    subject: [a, [b]]\n  condition: sel"), "x.yml:6:18: subject: values must be scalars, found a list"},
		{"empty search", det("\n  sel: {}\n  condition: sel"), `x.yml:5:8: search "sel" is empty`},
		{"empty modifier", det("\n  sel:\n    subject||contains: a\n  condition: sel"), `x.yml:6:13: empty modifier in "subject||contains"`},
		{"duplicate modifier", det("\n  sel:\n    subject|contains|contains: a\n  condition: sel"), `x.yml:6:22: duplicate modifier "contains"`},
		{"two shapes", det("\n  sel:\n    subject|startswith|endswith: a\n  condition: sel"), `x.yml:6:24: modifier "endswith" cannot be combined with "startswith"`},
		{"base64offset without contains", det("\n  sel:\n    subject|base64offset: a\n  condition: sel"), "x.yml:6:5: base64offset needs contains"},
		{"exists with two values", det("\n  sel:\n    subject|exists: [true, false]\n  condition: sel"), "x.yml:6:21: exists takes a single true or false"},
		{"merge key", testHeader + "base: &b {subject: a}\ndetection:\n  sel:\n    <<: *b\n  condition: sel\n", `x.yml:7:5: search "sel": YAML merge keys (<<) are not supported`},
		{"top-level type", "title: c\nid: 00000000-0000-4000-8000-000000000001\ntype: event_count\nrules: [a]\n", "x.yml:3:1: type belongs inside a correlation block"},
		{"collection action", "action: global\ntitle: c\n", "x.yml:1:1: rule collections (action: global) are not supported"},
		{"document is a list", "- a\n- b\n", "x.yml:1:1: a rule document must be a YAML mapping, not a list"},
		{"tags scalar", strings.Replace(det("\n  sel:\n    subject: a\n  condition: sel"), "title: test\n", "title: test\ntags: attack.x\n", 1), "x.yml:2:7: tags must be a list of strings, not a scalar"},
		{"title list", strings.Replace(det("\n  sel:\n    subject: a\n  condition: sel"), "title: test", "title: [a]", 1), "x.yml:1:8: title must be a string, not a list"},
		{"empty title", strings.Replace(det("\n  sel:\n    subject: a\n  condition: sel"), "title: test", "title: ''", 1), "x.yml:1:8: title is empty"},
		{"bad status", strings.Replace(det("\n  sel:\n    subject: a\n  condition: sel"), "title: test\n", "title: test\nstatus: beta\n", 1), `x.yml:2:9: status "beta" is not one of stable, test, experimental, deprecated, unsupported`},
		{"bad generate", strings.Replace(det("\n  sel:\n    subject: a\n  condition: sel"), "title: test\n", "title: test\ngenerate: maybe\n", 1), "x.yml:2:11: generate must be true or false"},
		{"related not a list", strings.Replace(det("\n  sel:\n    subject: a\n  condition: sel"), "title: test\n", "title: test\nrelated: x\n", 1), "x.yml:2:10: related must be a list of {id, type} entries, not a scalar"},
		{"logsource scalar", strings.Replace(det("\n  sel:\n    subject: a\n  condition: sel"), "logsource: {category: email}", "logsource: email", 1), "x.yml:3:12: logsource must be a mapping, not a scalar"},
		{"no detection", testHeader, "x.yml:1:1: rule has no detection"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseFile("x.yml", []byte(tc.src))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got  %v\nwant %s", err, tc.want)
			}
		})
	}
}

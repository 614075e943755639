package rego

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/open-policy-agent/opa/v1/ast"
	oparego "github.com/open-policy-agent/opa/v1/rego"
	"github.com/open-policy-agent/opa/v1/storage/inmem"

	"github.com/detect-dev/detect/schema"
)

var update = flag.Bool("update", false, "rewrite testdata/bad/*.want from the current messages")

func readFiles(t testing.TB, pattern string) []File {
	t.Helper()
	paths, err := filepath.Glob(pattern)
	if err != nil || len(paths) == 0 {
		t.Fatalf("no files match %s (%v)", pattern, err)
	}
	var out []File
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, File{Path: filepath.ToSlash(p), Data: b})
	}
	return out
}

// TestBadRules loads every testdata/bad/*.bad.rego on its own and compares
// the positioned errors with the .want file beside it.
func TestBadRules(t *testing.T) {
	for _, f := range readFiles(t, "testdata/bad/*.bad.rego") {
		name := strings.TrimSuffix(filepath.Base(f.Path), ".bad.rego")
		t.Run(name, func(t *testing.T) {
			f.Path = filepath.Base(f.Path)
			s, err := Compile([]File{f}, nil, Options{})
			if err == nil {
				t.Fatal("loaded without error")
			}
			if len(s.Rules()) != 0 {
				t.Errorf("a broken rule was kept: %v", s.Rules())
			}
			var list ErrorList
			if !asErrorList(err, &list) {
				t.Fatalf("error is %T, want ErrorList", err)
			}
			for _, e := range list {
				if e.Line < 1 || e.Col < 1 || e.File != f.Path {
					t.Errorf("not positioned in %s: %v", f.Path, e)
				}
			}
			wantFile := strings.TrimSuffix(filepath.Join("testdata", "bad", filepath.Base(f.Path)), ".rego") + ".want"
			got := err.Error() + "\n"
			if *update {
				if err := os.WriteFile(wantFile, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, rerr := os.ReadFile(wantFile)
			if rerr != nil {
				t.Fatalf("%v (run with -update to create it)", rerr)
			}
			if got != string(want) {
				t.Errorf("errors -want +got\n-%s+%s", want, got)
			}
		})
	}
}

func asErrorList(err error, list *ErrorList) bool {
	l, ok := err.(ErrorList)
	*list = l
	return ok
}

// The three load failures, spelled out: each names the file, line
// and column and says what is wrong.
func TestLoadFailuresArePositioned(t *testing.T) {
	const head = "# METADATA\n# title: t\n# custom:\n#   id: 11111111-2222-4333-8444-555555555555\npackage detect.rules.x\n\n"
	tests := []struct{ name, src, want string }{
		{"typo in input", head + "alert contains \"x\" if input.attachmnts\n", `r.rego:7:23: undefined ref input.attachmnts: the event schema has no field "attachmnts" (did you mean "attachments"?)`},
		{"missing id", strings.Replace(head, "#   id: 11111111-2222-4333-8444-555555555555\n", "#   level: low\n", 1) + "alert contains \"x\" if input.size\n", "r.rego:1:1: METADATA has no custom.id"},
		{"http.send", head + "alert contains \"x\" if http.send({\"method\": \"GET\", \"url\": input.sender})\n", "r.rego:7:23: http.send is disabled in detect rules: it makes HTTP requests"},
		{"net.lookup_ip_addr", head + "alert contains \"x\" if net.lookup_ip_addr(input.sender_domain)\n", "r.rego:7:23: net.lookup_ip_addr is disabled in detect rules"},
		{"opa.runtime", head + "alert contains \"x\" if opa.runtime().config\n", "r.rego:7:23: opa.runtime is disabled in detect rules"},
		{"missing metadata", "package detect.rules.x\n\nalert contains \"x\" if input.size\n", "r.rego:1:1: no # METADATA block above the package clause"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Compile([]File{{Path: "r.rego", Data: []byte(tc.src)}}, nil, Options{})
			if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
				t.Errorf("got  %v\nwant %s...", err, tc.want)
			}
		})
	}
}

// A broken module does not keep the others from loading, and every broken
// one is reported, even when the compiler stops at the first stage that
// fails.
func TestBrokenRulesDoNotHideEachOther(t *testing.T) {
	good := readFiles(t, "testdata/rules/strings.rego")
	bad := readFiles(t, "testdata/bad/typo_input_field.bad.rego")
	bad2 := readFiles(t, "testdata/bad/strict_unused_var.bad.rego")
	bad3 := readFiles(t, "testdata/bad/alert_yields_number.bad.rego")
	// Another file with the good rule's package.
	dup := File{Path: "zz/dup.rego", Data: good[0].Data}
	s, err := Compile(append(append(append(append(good, bad...), bad2...), bad3...), dup), nil, Options{})
	if err == nil {
		t.Fatal("no errors")
	}
	msg := err.Error()
	for _, want := range []string{
		"testdata/bad/alert_yields_number.bad.rego:8:1: alert yields number",
		"testdata/bad/strict_unused_var.bad.rego:9:2: assigned var limit unused",
		"testdata/bad/typo_input_field.bad.rego:9:12: undefined ref input.attachmnts",
		"zz/dup.rego:10:1: package detect.rules.strings is also the package of testdata/rules/strings.rego:10; one rule per package",
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("errors lack %q:\n%s", want, msg)
		}
	}
	if n := strings.Count(msg, "\n") + 1; n != 4 {
		t.Errorf("%d errors, want 4:\n%s", n, msg)
	}
	if len(s.Rules()) != 1 || s.Rules()[0].Title != "String and object alerts" {
		t.Errorf("rules kept: %+v", s.Rules())
	}
}

func loadTestRules(t testing.TB, config map[string]any, opts Options) *Set {
	t.Helper()
	s, err := Compile(readFiles(t, "testdata/rules/*.rego"), config, opts)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func ruleByTitle(t testing.TB, s *Set, title string) *Rule {
	t.Helper()
	for _, r := range s.Rules() {
		if r.Title == title {
			return r
		}
	}
	t.Fatalf("no rule %q", title)
	return nil
}

func TestMetadata(t *testing.T) {
	s := loadTestRules(t, nil, Options{})
	r := ruleByTitle(t, s, "String and object alerts")
	want := Rule{
		ID: "3f7c1a52-6a1e-4d4f-9a39-1f1b6f0f7a01", Title: "String and object alerts",
		Description: "Fires on every event with a sender, once with a string and once with an object.",
		Level:       "medium", Tags: []string{"attack.t1566"}, References: []string{"https://example.org/doc"},
		File: "testdata/rules/strings.rego", Line: 10, Package: "detect.rules.strings",
	}
	got := Rule{ID: r.ID, Title: r.Title, Description: r.Description, Level: r.Level, Tags: r.Tags,
		References: r.References, File: r.File, Line: r.Line, Package: r.Package}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("rule -want +got\n-%+v\n+%+v", want, got)
	}
	if !slices.Equal(r.Requires.Fields, []string{"sender"}) || len(r.Requires.EventTypes) != 0 {
		t.Errorf("requires: %+v", r.Requires)
	}
}

func TestStringAndObjectAlerts(t *testing.T) {
	s := loadTestRules(t, map[string]any{"custom_alert": map[string]any{"no_message": true}}, Options{})
	ev := &schema.Event{Sender: "a@example.org", HasSender: true}
	hits := s.Eval(ev)
	if len(hits) != 2 {
		t.Fatalf("hits: %+v", hits)
	}
	// Sorted by message within the rule: "mail from..." < "object form".
	if hits[0].Message != "mail from a@example.org" || hits[0].Fields != nil {
		t.Errorf("string alert: %+v", hits[0])
	}
	wantFields := map[string]any{"sender": "a@example.org", "n": json.Number("3"), "list": []any{json.Number("1"), "a"}}
	if hits[1].Message != "object form" || !reflect.DeepEqual(hits[1].Fields, wantFields) {
		t.Errorf("object alert: %+v", hits[1])
	}
	// An object without a message: the fields are kept, the engine words
	// the message.
	hits = s.Eval(&schema.Event{Sender: "nomsg@example.org", HasSender: true})
	var found bool
	for _, h := range hits {
		if h.Message == "" && reflect.DeepEqual(h.Fields, map[string]any{"no_message": true}) {
			found = true
		}
	}
	if !found {
		t.Errorf("object without message: %+v", hits)
	}
}

func TestRequiresSkipsEvents(t *testing.T) {
	s := loadTestRules(t, nil, Options{})
	// No sender: strings.rego (requires sender) is not evaluated; its
	// first alert would fire on anything with a sender.
	if hits := s.Eval(&schema.Event{Recipient: "b@example.org"}); len(hits) != 0 {
		t.Errorf("hits without a sender: %+v", hits)
	}
	// The null sender "" is a sender.
	if hits := s.Eval(&schema.Event{HasSender: true}); len(hits) != 2 {
		t.Errorf("null sender: %+v", hits)
	}
	// Event types.
	src := "# METADATA\n# title: t\n# custom:\n#   id: 11111111-2222-4333-8444-555555555555\n#   requires: [reject, auth]\npackage detect.rules.types\n\nalert contains \"x\"\n"
	s2, err := Compile([]File{{Path: "t.rego", Data: []byte(src)}}, nil, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for typ, want := range map[string]int{"reject": 1, "auth": 1, "delivery": 0, "": 0} {
		if got := len(s2.Eval(&schema.Event{EventType: typ})); got != want {
			t.Errorf("event type %q: %d hits, want %d", typ, got, want)
		}
	}
}

// fullEvent has every field set.
func fullEvent() *schema.Event {
	e := &schema.Event{
		Time: time.Date(2026, 11, 27, 8, 0, 1, 104233000, time.UTC), Host: "echo", Product: "postfix",
		Process: "postfix/smtpd", EventType: "delivery", Action: "delivered", Status: "sent",
		StatusCode: "250 2.0.0", Reason: "Ok", QueueID: "4NxK2P1cYkz9tQ1", MessageID: "m@x",
		Sender: "a@Example.org", Recipient: "b@example.net", OrigRecipient: "c@example.net",
		RecipientCount: 2, Size: 183422, Subject: "Q4 \"prices\"", SrcIP: "198.51.100.23",
		SrcHost: "mail.example.org", Helo: "mail.example.org", AuthUser: "u@example.org",
		Relay: "local", Direction: "inbound", Protocol: "esmtp",
		Attachments: []schema.Attachment{{Name: "a.pdf", Ext: "pdf", Type: "application/pdf", Size: 1000, SHA256: "ab"}, {Name: "b"}},
		SourceFile:  "mail.log", SourceLine: 12,
	}
	e.SetSender(e.Sender)
	e.SetDelay(0.21)
	e.Complete()
	return e
}

// The input the engine builds from an Event is exactly the event's JSON
// encoding, so rules see what `detect normalize` prints.
func TestInputIsTheEventJSON(t *testing.T) {
	for _, e := range []*schema.Event{fullEvent(), {Host: "echo", HasSender: true}, {Host: "echo", HasDelay: true, AttachmentSize: []int64{0, 7}}} {
		got := eventValue(e, allFields)
		want, err := ast.ValueFromReader(strings.NewReader(string(e.AppendJSON(nil))))
		if err != nil {
			t.Fatal(err)
		}
		if got.Compare(want) != 0 {
			t.Errorf("input -want +got\n-%v\n+%v", want, got)
		}
	}
	// Through a rule: the echo rule hands input back.
	s := loadTestRules(t, nil, Options{})
	e := fullEvent()
	for _, h := range s.Eval(e) {
		if h.Message != "echo" {
			continue
		}
		var want any
		if err := json.Unmarshal(e.AppendJSON(nil), &want); err != nil {
			t.Fatal(err)
		}
		got, _ := json.Marshal(h.Fields["input"])
		wantJSON, _ := json.Marshal(want)
		if string(got) != string(wantJSON) {
			t.Errorf("rule's input -want +got\n-%s\n+%s", wantJSON, got)
		}
		return
	}
	t.Error("echo rule did not fire")
}

// The generated schema describes every field with the type the engine
// gives it: a full event validates against it, and a misspelt field does
// not.
func TestInputSchemaMatchesEvents(t *testing.T) {
	sch := InputSchema()
	props := sch["properties"].(map[string]any)
	if len(props) != len(schema.Fields()) {
		t.Errorf("%d properties for %d fields", len(props), len(schema.Fields()))
	}
	for _, f := range schema.Fields() {
		if _, ok := props[f.Name()]; !ok {
			t.Errorf("schema lacks %s", f.Name())
		}
	}
	pq, err := oparego.New(oparego.Query("x := json.match_schema(input, data.schema)"),
		oparego.Store(inmem.NewFromObject(map[string]any{"schema": sch}))).PrepareForEval(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	check := func(input ast.Value) []any {
		rs, err := pq.Eval(context.Background(), oparego.EvalParsedInput(input))
		if err != nil || len(rs) != 1 {
			t.Fatalf("%v %v", rs, err)
		}
		return rs[0].Bindings["x"].([]any)
	}
	if res := check(eventValue(fullEvent(), allFields)); res[0] != true {
		t.Errorf("a full event does not match the schema: %v", res[1])
	}
	bad := eventValue(fullEvent(), allFields).(ast.Object)
	bad.Insert(ast.StringTerm("attachmnts"), ast.ArrayTerm())
	if res := check(bad); res[0] != false {
		t.Error("an unknown field matches the schema")
	}
}

// Only the fields some rule reads go into the input.
func TestInputHoldsOnlyFieldsRead(t *testing.T) {
	src := "# METADATA\n# title: t\n# custom:\n#   id: 11111111-2222-4333-8444-555555555555\npackage detect.rules.x\n\nalert contains \"x\" if {\n\tinput.size > 1\n\tsome a in input.attachments\n\ta.size > data.config.n[input.sender]\n}\n"
	s, err := Compile([]File{{Path: "x.rego", Data: []byte(src)}}, nil, Options{})
	if err != nil {
		t.Fatal(err)
	}
	var want fieldSet
	want.add(schema.FieldSize)
	want.add(schema.FieldAttachments)
	want.add(schema.FieldSender)
	if s.fields != want {
		t.Errorf("fields %b, want %b", s.fields, want)
	}
	whole := strings.Replace(src, "input.size > 1", "object.get(input, \"size\", 0) > 1", 1)
	s, err = Compile([]File{{Path: "x.rego", Data: []byte(whole)}}, nil, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if s.fields != allFields {
		t.Errorf("input used whole: fields %b, want all", s.fields)
	}
}

// A rule over its budget is cut off and counted, the other rules keep
// their alerts for the same event, and after MaxStrikes events it is no
// longer evaluated: the scan is not stalled.
func TestBudget(t *testing.T) {
	s := loadTestRules(t, nil, Options{Budget: 30 * time.Millisecond})
	slow := &schema.Event{Subject: "slow", Sender: "a@example.org", HasSender: true, SourceFile: "mail.log", SourceLine: 7}
	start := time.Now()
	for i := range MaxStrikes + 2 {
		hits := s.Eval(slow)
		if len(hits) != 2 || hits[0].Rule.Title != "String and object alerts" {
			t.Errorf("event %d: other rules' hits lost: %+v", i, hits)
		}
	}
	if el := time.Since(start); el > 5*time.Second {
		t.Errorf("%d slow events took %v", MaxStrikes+2, el)
	}
	probs := s.Problems()
	if len(probs) != 1 {
		t.Fatalf("problems: %+v", probs)
	}
	p := probs[0]
	if p.Rule.Title != "Slow" || p.Timeouts != MaxStrikes || !p.Disabled || p.First != "mail.log:7: exceeded the 30ms budget" {
		t.Errorf("problem: %+v", p)
	}
	// Disabled: the rule is no longer evaluated, so it strikes no more.
	s.Eval(slow)
	if n := s.strikes[p.Rule.index].Load(); n != MaxStrikes {
		t.Errorf("disabled rule evaluated again: %d strikes", n)
	}
}

// Eval is safe for concurrent use (run with -race).
func TestConcurrentEval(t *testing.T) {
	s := loadTestRules(t, nil, Options{})
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for i := range 50 {
				e := &schema.Event{Sender: fmt.Sprintf("u%d-%d@example.org", w, i), HasSender: true}
				hits := s.Eval(e)
				if len(hits) != 2 || hits[0].Message != "mail from "+e.Sender {
					t.Errorf("hits: %+v", hits)
					return
				}
			}
		})
	}
	wg.Wait()
}

func TestEvalRule(t *testing.T) {
	s := loadTestRules(t, nil, Options{})
	r := ruleByTitle(t, s, "Echo")
	e := fullEvent()
	hits := s.EvalRule(r, e)
	if len(hits) != 1 || hits[0].Rule != r {
		t.Errorf("hits: %+v", hits)
	}
}

func TestEditDistance(t *testing.T) {
	tests := []struct {
		a, b string
		want int
	}{
		{"", "", 0}, {"", "abc", 3}, {"abc", "", 3}, {"paypal.com", "paypal.com", 0},
		{"paypal.com", "paypa1.com", 1}, {"paypal.com", "paypall.com", 1}, {"paypal.com", "paypl.com", 1},
		{"paypal.com", "papyal.com", 1},                          // adjacent swap
		{"microsoft.com", "rnicrosoft.com", 2}, {"ca", "abc", 3}, // OSA: no edit of a swapped pair
		{"kitten", "sitting", 3}, {"bücher", "buecher", 2},
	}
	for _, tc := range tests {
		if got := EditDistance([]rune(tc.a), []rune(tc.b)); got != tc.want {
			t.Errorf("EditDistance(%q, %q) = %d, want %d", tc.a, tc.b, got, tc.want)
		}
		if got := EditDistance([]rune(tc.b), []rune(tc.a)); got != tc.want {
			t.Errorf("EditDistance(%q, %q) = %d, want %d (symmetry)", tc.b, tc.a, got, tc.want)
		}
	}
	for _, long := range []string{strings.Repeat("a", maxDistanceRunes+1), strings.Repeat("ü", maxDistanceRunes+1)} {
		if _, err := editDistanceBuiltin(oparego.BuiltinContext{}, ast.StringTerm(long), ast.StringTerm("a")); err == nil {
			t.Errorf("no error for overlong strings (%d bytes)", len(long))
		}
	}
	// The built-in's ASCII path computes what EditDistance does.
	rng := rand.New(rand.NewPCG(1, 2))
	word := func() string {
		b := make([]byte, rng.IntN(150))
		for i := range b {
			b[i] = "abc.-"[rng.IntN(5)]
		}
		return string(b)
	}
	for range 2000 {
		a, b := word(), word()
		if rng.IntN(10) == 0 {
			b = a[:len(a)/2] + "ü" + a[len(a)/2:]
		}
		got, err := editDistanceBuiltin(oparego.BuiltinContext{}, ast.StringTerm(a), ast.StringTerm(b))
		if want := EditDistance([]rune(a), []rune(b)); err != nil || got.Value.Compare(ast.InternedTerm(want).Value) != 0 {
			t.Fatalf("detect.edit_distance(%q, %q) = %v, %v; want %d", a, b, got, err, want)
		}
	}
}

func TestLoadData(t *testing.T) {
	tree := []File{
		{Path: "data/a.yaml", Data: []byte("# site\nlocal_domains: [corp.example]\nlookalike:\n  max: 2\nwhen: 2026-01-01\n")},
		{Path: "data/b.json", Data: []byte(`{"lookalike": {"min": 8}, "ratio": 0.5, "off": null}`)},
	}
	got, err := LoadData(tree, []File{
		{Path: "site.yaml", Data: []byte("local_domains: [example.org, example.net]\nlookalike: {max: 1}\n")},
	})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"local_domains": []any{"example.org", "example.net"},
		"lookalike":     map[string]any{"max": int64(1), "min": int64(8)},
		"when":          "2026-01-01",
		"ratio":         0.5,
		"off":           nil,
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("config -want +got\n-%#v\n+%#v", want, got)
	}

	for _, tc := range []struct {
		name string
		tree []File
		want string
	}{
		{"conflict", []File{tree[0], {Path: "data/c.yaml", Data: []byte("x: 1\nlookalike:\n  max: 3\n")}},
			"data/c.yaml:3:1: data: config.lookalike.max is also set at data/a.yaml:4; set each value in one file"},
		{"object over value", []File{{Path: "data/a.yaml", Data: []byte("a: 1\n")}, {Path: "data/b.yaml", Data: []byte("a: {b: 1}\n")}},
			"data/b.yaml:1:1: data: config.a is also set at data/a.yaml:1; set each value in one file"},
		{"syntax", []File{{Path: "data/s.yaml", Data: []byte("a: 1\nb: [\n")}}, "data/s.yaml:2:1: data: yaml: line 2:"},
		{"not an object", []File{{Path: "data/l.yaml", Data: []byte("- a\n- b\n")}}, "data/l.yaml:1:1: data: a data file is an object"},
		{"duplicate key", []File{{Path: "data/d.yaml", Data: []byte("a: 1\na: 2\n")}}, "data/d.yaml:"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := LoadData(tc.tree, nil)
			if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
				t.Errorf("got  %v\nwant %s...", err, tc.want)
			}
		})
	}
	if cfg, err := LoadData([]File{{Path: "data/empty.yaml"}}, nil); err != nil || len(cfg) != 0 {
		t.Errorf("empty file: %v %v", cfg, err)
	}
}

func TestLint(t *testing.T) {
	const head = "# METADATA\n# title: t\n# custom:\n#   id: 11111111-2222-4333-8444-555555555555\n"
	files := []File{
		{Path: "a.rego", Data: []byte(head + "#   requires: [attachments, delivery]\npackage detect.rules.a\n\nalert contains \"x\" if {\n\tsome n in input.attachment_name\n\tendswith(n, \".exe\")\n}\n")},
		{Path: "b.rego", Data: []byte(head + "#   requires: [sender]\npackage detect.rules.b\n\nalert contains sprintf(\"%s\", [input.sender]) if {\n\tinput.size > 1\n\tnot input.auth_user\n\tcount([x | some x in input.attachments]) > 0\n}\n")},
		{Path: "c.rego", Data: []byte(head + "#   levle: high\npackage detect.rules.c\n\nalert contains \"x\" if input.size > 1\n")},
		{Path: "d.rego", Data: []byte(head + "#   requires: [size]\npackage detect.rules.d\n\nalert contains \"x\" if object.get(input, \"size\", 0) > 1\n")},
		{Path: "e.rego", Data: []byte("package detect.rules.e\n")}, // load errors are Compile's
		// Needs found through helper rules and functions; event types checked.
		{Path: "f.rego", Data: []byte(head + "#   requires: [delivery, sender_domain, src_ip]\npackage detect.rules.f\n\n" +
			"candidates contains d if {\n\tsome d in split(input.sender_domain, \".\")\n}\n\n" +
			"client := input.src_ip\n\nlocal(ip) if startswith(ip, \"10.\")\n\n" +
			"alert contains \"x\" if {\n\tinput.event_type == \"delivery\"\n\tsome d in candidates\n\tip := client\n\tnot local(ip)\n\td != \"\"\n}\n")},
		// A field used only where it may be absent; alerts on more event
		// types than required.
		{Path: "g.rego", Data: []byte(head + "#   requires: [reject, sender_domain, size]\npackage detect.rules.g\n\n" +
			"candidates contains d if {\n\tsome d in split(input.sender_domain, \".\")\n}\n\n" +
			"alert contains \"x\" if {\n\tinput.event_type in {\"reject\", \"delivery\"}\n\tcount(candidates) == 0\n\tinput.size > 1\n}\n\n" +
			"alert contains \"y\" if {\n\tinput.event_type == \"reject\"\n\tinput.size > 2\n}\n")},
		// Windowed rules: without custom.requires every event feeds the
		// windows; with it, nothing to say.
		{Path: "h.rego", Data: []byte(head + "#   window: {group_by: [src_ip, sender], span: 10m}\npackage detect.rules.h\n\nalert contains \"x\" if input.count > 10\n")},
		{Path: "i.rego", Data: []byte(head + "#   requires: [reject, src_ip]\n#   window: {group_by: [src_ip], span: 10m}\npackage detect.rules.i\n\nalert contains \"x\" if input.count > 10\n")},
	}
	var got []string
	for _, d := range Lint(files) {
		sev := "error"
		if d.Warning {
			sev = "warning"
		}
		got = append(got, fmt.Sprintf("%s:%d:%d: %s: %s", d.File, d.Line, d.Col, sev, d.Msg))
	}
	want := []string{
		"a.rego:5:5: error: custom.requires names attachments, but the rule never reads input.attachments: events without it would be skipped though the rule does not need it",
		"a.rego:5:5: error: custom.requires names event types (delivery), but not every alert checks them: write input.event_type == \"delivery\" (or in a set) in each alert, so the rule means the same without the filter",
		"a.rego:5:5: warning: every alert of this rule needs attachment_name; add it to custom.requires so other events are not evaluated",
		"b.rego:5:5: warning: every alert of this rule needs size; add it to custom.requires so other events are not evaluated",
		"c.rego:3:3: warning: every alert of this rule needs size; add it to custom.requires so other events are not evaluated",
		"c.rego:5:5: warning: unknown custom metadata key \"levle\" (did you mean \"level\"?)",
		"d.rego:5:5: warning: custom.requires names size; the rule reads input as a whole, so lint cannot tell whether every alert needs input.size",
		"g.rego:5:5: error: custom.requires names sender_domain, but an alert of this rule can fire without input.sender_domain (it is read under not, in a comprehension, or not by every alert): the filter would hide alerts",
		"g.rego:5:5: error: alerts of this rule fire on event types (delivery, reject) that custom.requires (reject) leaves out",
		"h.rego:5:5: warning: custom.window without custom.requires: every event (connects, deliveries, rejects alike) feeds this rule's windows, " +
			"so input.count and input.events mix them all; name the event types and fields its events need, e.g. requires: [reject, src_ip, sender]",
	}
	if !slices.Equal(got, want) {
		t.Errorf("lint -want +got\n-%s\n+%s", strings.Join(want, "\n-"), strings.Join(got, "\n+"))
	}
}

func TestRunTests(t *testing.T) {
	s := loadTestRules(t, map[string]any{"who": "a@example.org"}, Options{})
	tests := []File{
		{Path: "t/strings_test.rego", Data: []byte(`package detect.rules.strings_test

import data.detect.rules.strings

test_fires if {
	"mail from a@example.org" in strings.alert with input as {"sender": data.config.who}
}

test_fails if {
	print("looking at", count(strings.alert))
	count(strings.alert) == 5 with input as {"sender": "x"}
}

test_distance if detect.edit_distance("ab", "ba") == 1

todo_test_later if false
`)},
		{Path: "t/broken_test.rego", Data: []byte("package detect.rules.broken_test\n\ntest_typo if input.sendr with input as {}\n")},
		{Path: "t/syntax_test.rego", Data: []byte("package detect.rules.syntax_test\n\ntest_x if {\n")},
	}
	got := s.RunTests(context.Background(), tests)
	type short struct {
		Pos, Name string
		Pass      bool
		Reason    string
		Rule      string
	}
	var gotShort []short
	for _, r := range got {
		rule := ""
		if r.Rule != nil {
			rule = r.Rule.Title
		}
		reason := r.Reason
		if i := strings.Index(reason, "\n"); i >= 0 {
			reason = reason[:i]
		}
		gotShort = append(gotShort, short{fmt.Sprintf("%s:%d", r.File, r.Line), r.Name, r.Pass, reason, rule})
	}
	want := []short{
		{"t/broken_test.rego:3", "(test file does not compile)", false, `t/broken_test.rego:3:14: undefined ref input.sendr: the event schema has no field "sendr" (did you mean "sender"?)`, ""},
		{"t/strings_test.rego:5", "detect.rules.strings_test.test_fires", true, "", "String and object alerts"},
		{"t/strings_test.rego:9", "detect.rules.strings_test.test_fails", false, "test failed (it was undefined or false)", "String and object alerts"},
		{"t/strings_test.rego:14", "detect.rules.strings_test.test_distance", true, "", "String and object alerts"},
		{"t/strings_test.rego:16", "detect.rules.strings_test.todo_test_later", false, "", "String and object alerts"},
		{"t/syntax_test.rego:4", "(test file does not compile)", false, "t/syntax_test.rego:4:1: unexpected eof token", ""},
	}
	if !reflect.DeepEqual(gotShort, want) {
		t.Errorf("results -want +got\n-%+v\n+%+v", want, gotShort)
	}
	for _, r := range got {
		if r.Name == "detect.rules.strings_test.test_fails" && !strings.Contains(r.Output, "looking at 0") {
			t.Errorf("print output not captured: %q", r.Output)
		}
		if r.Name == "detect.rules.strings_test.todo_test_later" && !r.Skipped {
			t.Errorf("todo_ test not skipped: %+v", r)
		}
	}
}

func TestDeclaredID(t *testing.T) {
	for src, want := range map[string]string{
		"# METADATA\n# title: x\n# custom:\n#   id: 3F7C1A52-6A1E-4D4F-9A39-1F1B6F0F7A01\npackage p\n": "3f7c1a52-6a1e-4d4f-9a39-1f1b6f0f7a01",
		"# METADATA\n# custom:\n#   id: \"abc\"\npackage p\n":                                          "abc",
		"package p\n# id: not-metadata\n":                                                              "",
		"# METADATA\n# title: x\npackage p\n# METADATA\n# custom:\n#   id: rule-level\n":               "",
	} {
		if got := DeclaredID([]byte(src)); got != want {
			t.Errorf("DeclaredID(%q) = %q, want %q", src, got, want)
		}
	}
}

package rego

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/open-policy-agent/opa/v1/ast"
	oparego "github.com/open-policy-agent/opa/v1/rego"
	"github.com/open-policy-agent/opa/v1/storage/inmem"

	"github.com/detect-dev/detect/schema"
)

// The window input the engine builds validates against WindowSchema, and
// a group member that is not a group_by field does not; sum and history
// are in both only when the window asks for them.
func TestWindowSchemaMatchesInput(t *testing.T) {
	t0 := time.Date(2026, 11, 28, 5, 0, 0, 0, time.UTC)
	in := WindowInput{Group: map[string]string{"src_ip": "192.0.2.1", "sender": ""}, Events: []*schema.Event{fullEvent(), fullEvent()},
		Count: 7, Start: t0, End: t0.Add(time.Minute), Sum: 1.5e9,
		History: []PastWindow{{Start: t0.Add(-time.Hour), End: t0.Add(-50 * time.Minute), Count: 3, Sum: 12}, {Start: t0.Add(-3 * time.Hour), End: t0.Add(-3 * time.Hour), Count: 1, Sum: 0.5}}}
	plain := &Window{GroupBy: []schema.Field{schema.FieldSrcIP, schema.FieldSender}, Events: true}
	summed := &Window{GroupBy: plain.GroupBy, Sum: schema.FieldSize, Sums: true, History: 14}
	for _, tc := range []struct {
		name  string
		w     *Window
		group map[string]string
		ok    bool
	}{
		{"plain", plain, in.Group, true},
		{"plain, a group member that is not grouped by", plain, map[string]string{"src_ip": "x", "recipient": "y"}, false},
		{"sum and history", summed, in.Group, true},
	} {
		pq, err := oparego.New(oparego.Query("x := json.match_schema(input, data.schema)"),
			oparego.Store(inmem.NewFromObject(map[string]any{"schema": WindowSchema(tc.w)}))).PrepareForEval(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		in := in
		in.Group = tc.group
		v := windowValue(in, tc.w)
		rs, err := pq.Eval(context.Background(), oparego.EvalParsedInput(v))
		if err != nil || len(rs) != 1 {
			t.Fatalf("%s: %v %v", tc.name, rs, err)
		}
		if res := rs[0].Bindings["x"].([]any); res[0] != tc.ok {
			t.Errorf("%s: matches %v, want %v (%v)", tc.name, res[0], tc.ok, res[1])
		}
		obj := v.(ast.Object)
		if has := obj.Get(ast.StringTerm("sum")) != nil; has != tc.w.Sums {
			t.Errorf("%s: input has sum: %v", tc.name, has)
		}
		if has := obj.Get(ast.StringTerm("history")) != nil; has != (tc.w.History > 0) {
			t.Errorf("%s: input has history: %v", tc.name, has)
		}
	}
	want := `[{"count": 3, "end": "2026-11-28T04:10:00Z", "start": "2026-11-28T04:00:00Z", "sum": 12}, {"count": 1, "end": "2026-11-28T02:00:00Z", "start": "2026-11-28T02:00:00Z", "sum": 0.5}]`
	if got := windowValue(in, summed).(ast.Object).Get(ast.StringTerm("history")).String(); got != want {
		t.Errorf("history\n got %s\nwant %s", got, want)
	}
	if got := windowValue(in, summed).(ast.Object).Get(ast.StringTerm("sum")).String(); got != "1500000000" {
		t.Errorf("sum %s, want 1500000000", got)
	}
}

func TestEvalWindow(t *testing.T) {
	src := `# METADATA
# title: w
# custom:
#   id: 11111111-2222-4333-8444-555555555555
#   requires: [reject]
#   window: {group_by: [src_ip], span: 1h30m}
package detect.rules.w

alert contains {"message": sprintf("%s %d", [input.group.src_ip, input.count]), "first": input.events[0].recipient} if input.count >= data.config.min

# Two values for one complete rule: an evaluation error.
conflict := 1 if input.count == 13

conflict := 2 if input.count == 13

alert contains "boom" if conflict == 1
`
	s, err := Compile([]File{{Path: "w.rego", Data: []byte(src)}}, map[string]any{"min": 2}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	r := s.Rules()[0]
	if r.Window == nil || r.Window.Span != 90*time.Minute || len(r.Window.GroupBy) != 1 || r.Window.GroupBy[0] != schema.FieldSrcIP {
		t.Fatalf("window %+v", r.Window)
	}
	if r.Fingerprint == "" {
		t.Error("no fingerprint")
	}
	if !r.Feeds(&schema.Event{EventType: schema.TypeReject}) || r.Feeds(&schema.Event{EventType: schema.TypeAuth}) {
		t.Error("custom.requires does not select the events that feed the window")
	}
	// Never evaluated on single events.
	if hits := s.Eval(&schema.Event{EventType: schema.TypeReject, SrcIP: "192.0.2.1"}); len(hits) != 0 {
		t.Errorf("event hits %v", hits)
	}
	in := WindowInput{Group: map[string]string{"src_ip": "192.0.2.1"}, Events: []*schema.Event{{Recipient: "a@x"}}, Count: 2}
	hits := s.EvalWindow(r, in)
	if len(hits) != 1 || hits[0].Message != "192.0.2.1 2" || hits[0].Fields["first"] != "a@x" {
		t.Errorf("hits %+v", hits)
	}
	in.Count = 1
	if hits := s.EvalWindow(r, in); len(hits) != 0 {
		t.Errorf("below the threshold: %+v", hits)
	}
	// A failure is accounted against the window's first event.
	in.Count, in.Events[0].SourceFile, in.Events[0].SourceLine = 13, "mail.log", 42
	if hits := s.EvalWindow(r, in); len(hits) != 0 {
		t.Errorf("failing window: %+v", hits)
	}
	p := s.Problems()
	if len(p) != 1 || p[0].Errors != 1 || !strings.HasPrefix(p[0].First, "mail.log:42: ") {
		t.Errorf("problems %+v", p)
	}
	// The same module under other data is another definition.
	s2, err := Compile([]File{{Path: "w.rego", Data: []byte(src)}}, map[string]any{"min": 3}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if s2.Rules()[0].Fingerprint == r.Fingerprint {
		t.Error("data.config does not change the fingerprint")
	}
}

// TestWindowHelperRulesFollowTheWindow: a helper rule that reads only the
// window's own members (input.count, input.history) is computed for each
// window, not once for the Set as rules built from data.config are: the
// second window, with other numbers, gets its own answer.
func TestWindowHelperRulesFollowTheWindow(t *testing.T) {
	src := windowRule("{group_by: [sender], span: 1d, history: 3, sum: size}", `n := input.count

before := [p.sum | some p in input.history]

alert contains sprintf("%d %v", [n, before]) if n > 0
`)
	s, err := Compile([]File{{Path: "w.rego", Data: src}}, nil, Options{})
	if err != nil {
		t.Fatal(err)
	}
	r := s.Rules()[0]
	for _, tc := range []struct {
		in   WindowInput
		want string
	}{
		{WindowInput{Count: 2, History: []PastWindow{{Sum: 5}}}, "2 [5]"},
		{WindowInput{Count: 7, History: []PastWindow{{Sum: 1}, {Sum: 2}}}, "7 [1, 2]"},
	} {
		if hits := s.EvalWindow(r, tc.in); len(hits) != 1 || hits[0].Message != tc.want {
			t.Errorf("hits %+v, want %q", hits, tc.want)
		}
	}
}

// TestReadsEvents: a windowed rule that never reads input.events gets an
// input without them (and the engine keeps fewer per window); one that
// reads them, or input as a whole, gets them.
func TestReadsEvents(t *testing.T) {
	for body, want := range map[string]bool{
		`alert contains "x" if input.count > 1`:                                       false,
		`alert contains "x" if { some e in input.events; e.size > 1 }`:                true,
		`alert contains "x" if { k := "events"; count(input[k]) > 1 }`:                true,
		`alert contains "x" if { x := input; x.count > 1 }`:                           true,
		`alert contains "x" if { input.group.sender != ""; input.end > input.start }`: false,
	} {
		s, err := Compile([]File{{Path: "w.rego", Data: windowRule("{group_by: [sender], span: 1d}", body+"\n")}}, nil, Options{})
		if err != nil {
			t.Fatalf("%s: %v", body, err)
		}
		r := s.Rules()[0]
		if r.Window.Events != want {
			t.Errorf("%s: reads events %v, want %v", body, r.Window.Events, want)
		}
		in := WindowInput{Count: 2, Events: []*schema.Event{{Size: 5}, {Size: 6}}}
		if n := windowValue(in, r.Window).(ast.Object).Get(ast.StringTerm("events")).Value.(*ast.Array).Len(); (n == 2) != want {
			t.Errorf("%s: the input holds %d events", body, n)
		}
	}
}

// windowRule is a windowed rule module of deliveries with custom.window
// window and body after its package clause.
func windowRule(window, body string) []byte {
	return []byte("# METADATA\n# title: w\n# custom:\n#   id: 11111111-2222-4333-8444-555555555555\n#   requires: [delivery]\n" +
		"#   window: " + window + "\npackage detect.rules.w\n\n" + body)
}

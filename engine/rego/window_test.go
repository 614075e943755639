package rego

import (
	"context"
	"strings"
	"testing"
	"time"

	oparego "github.com/open-policy-agent/opa/v1/rego"
	"github.com/open-policy-agent/opa/v1/storage/inmem"

	"github.com/detect-dev/detect/schema"
)

// The window input the engine builds validates against WindowSchema, and
// a group member that is not a group_by field does not.
func TestWindowSchemaMatchesInput(t *testing.T) {
	sch := WindowSchema([]schema.Field{schema.FieldSrcIP, schema.FieldSender})
	pq, err := oparego.New(oparego.Query("x := json.match_schema(input, data.schema)"),
		oparego.Store(inmem.NewFromObject(map[string]any{"schema": sch}))).PrepareForEval(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 11, 28, 5, 0, 0, 0, time.UTC)
	in := WindowInput{Group: map[string]string{"src_ip": "192.0.2.1", "sender": ""}, Events: []*schema.Event{fullEvent(), fullEvent()},
		Count: 7, Start: t0, End: t0.Add(time.Minute)}
	for _, tc := range []struct {
		group map[string]string
		ok    bool
	}{{in.Group, true}, {map[string]string{"src_ip": "x", "recipient": "y"}, false}} {
		in.Group = tc.group
		rs, err := pq.Eval(context.Background(), oparego.EvalParsedInput(windowValue(in)))
		if err != nil || len(rs) != 1 {
			t.Fatalf("%v %v", rs, err)
		}
		if res := rs[0].Bindings["x"].([]any); res[0] != tc.ok {
			t.Errorf("group %v: matches %v, want %v (%v)", tc.group, res[0], tc.ok, res[1])
		}
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

package rego

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/open-policy-agent/opa/v1/ast"
	oparego "github.com/open-policy-agent/opa/v1/rego"

	"github.com/detect-dev/detect/schema"
)

// The benchmarks compare this package's path (one prepared query for the
// rule set, input as an ast.Value built from the Event, rules skipped by
// custom.requires) with the plain one (a prepared query over
// data.detect.rules, input as a map from the event's JSON, every rule on
// every event), over the same shipped rules, data and events:
//
//	go test -run XXX -bench 'BenchmarkRego' -cpu 1 ./engine/rego

// shippedRules loads the rule pack's Rego rules and data.
func shippedRules(t testing.TB) ([]File, map[string]any) {
	t.Helper()
	var rules []File
	for _, f := range readFiles(t, "../../rules/rego/*.rego") {
		if !strings.HasSuffix(f.Path, "_test.rego") {
			rules = append(rules, f)
		}
	}
	config, err := LoadData(readFiles(t, "../../rules/data/*.yaml"), nil)
	if err != nil {
		t.Fatal(err)
	}
	return rules, config
}

// benchEvents is a day at a small mail server in miniature: mostly
// deliveries, some rejects, logins and connections; a few attachments,
// logins and lookalike senders. The mix is fixed (seeded).
func benchEvents() []*schema.Event {
	rng := rand.New(rand.NewPCG(1, 2))
	senders := []string{"sales@partner.example", "j.doe@corp.example", "billing@paypa1.com", "news@bulk.example",
		"notify@email.microsoft.com", "noreply@shipping-notice.example", "ceo@corp.example", ""}
	var out []*schema.Event
	for i := range 1000 {
		e := &schema.Event{
			Host: "mx1", Product: "postfix", QueueID: fmt.Sprintf("4NxK%06d", i),
			Recipient: fmt.Sprintf("user%d@corp.example", i%37), SrcIP: fmt.Sprintf("203.0.113.%d", i%250),
			SourceFile: "mail.log", SourceLine: i + 1,
		}
		switch n := rng.IntN(10); {
		case n < 6:
			e.EventType, e.Action, e.Relay = schema.TypeDelivery, schema.ActionDelivered, "mailstore.corp.example[private/dovecot-lmtp]"
			e.SetSender(senders[rng.IntN(len(senders))])
			e.Size = int64(rng.IntN(5_000_000))
			if rng.IntN(10) < 3 {
				e.AuthUser, e.SrcIP = "j.doe@corp.example", "10.1.2.3"
			}
			if rng.IntN(100) < 15 {
				e.Attachments = []schema.Attachment{{Name: "file.zip", Ext: "zip", Size: int64(rng.IntN(30_000_000))}}
			}
		case n < 8:
			e.EventType, e.Action, e.Reason = schema.TypeReject, schema.ActionRejected, "Relay access denied"
			e.SetSender(senders[rng.IntN(len(senders))])
		case n < 9:
			e.EventType, e.Action, e.AuthUser = schema.TypeAuth, schema.ActionFailed, "admin@corp.example"
		default:
			e.EventType = schema.TypeConnect
		}
		e.Complete()
		out = append(out, e)
	}
	return out
}

// plainQuery is the baseline: the same rules and data compiled by
// rego.New, one query for every rule's alerts, input given as a map.
func plainQuery(t testing.TB, rules []File, config map[string]any) oparego.PreparedEvalQuery {
	t.Helper()
	opts := []func(*oparego.Rego){
		oparego.Query("data.detect.rules"),
		oparego.Store(newStore(config)),
		oparego.Function2(editDistanceDecl, editDistanceBuiltin),
		oparego.SetRegoVersion(ast.RegoV1),
	}
	for _, f := range rules {
		opts = append(opts, oparego.Module(f.Path, string(f.Data)))
	}
	pq, err := oparego.New(opts...).PrepareForEval(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return pq
}

// eventMap is the event as a plain Go map, the way a program that has
// events as JSON hands them to OPA.
func eventMap(e *schema.Event) (map[string]any, error) {
	var m map[string]any
	err := json.Unmarshal(e.AppendJSON(nil), &m)
	return m, err
}

// plainAlerts counts the alerts of the plain query's result.
func plainAlerts(rs oparego.ResultSet) int {
	n := 0
	if len(rs) == 0 {
		return 0
	}
	pkgs, _ := rs[0].Expressions[0].Value.(map[string]any)
	for _, v := range pkgs {
		doc, _ := v.(map[string]any)
		alerts, _ := doc["alert"].([]any)
		n += len(alerts)
	}
	return n
}

// The fast path and the plain one agree on every event of the benchmark
// mix: skipping by custom.requires and building the input from the Event
// lose no alert.
func TestFastPathAgreesWithPlainEval(t *testing.T) {
	rules, config := shippedRules(t)
	s, err := Compile(rules, config, Options{})
	if err != nil {
		t.Fatal(err)
	}
	pq := plainQuery(t, rules, config)
	total := 0
	for _, e := range benchEvents() {
		m, err := eventMap(e)
		if err != nil {
			t.Fatal(err)
		}
		rs, err := pq.Eval(context.Background(), oparego.EvalInput(m))
		if err != nil {
			t.Fatal(err)
		}
		fast := len(s.Eval(e))
		if plain := plainAlerts(rs); plain != fast {
			t.Errorf("%s:%d: %d alerts, plain evaluation %d", e.SourceFile, e.SourceLine, fast, plain)
		}
		total += fast
	}
	if total == 0 {
		t.Error("no alerts at all: the mix does not exercise the rules")
	}
}

// BenchmarkRego is this package's path, per event.
func BenchmarkRego(b *testing.B) {
	rules, config := shippedRules(b)
	s, err := Compile(rules, config, Options{})
	if err != nil {
		b.Fatal(err)
	}
	events := benchEvents()
	b.ReportAllocs()
	b.ResetTimer()
	alerts := 0
	for i := 0; b.Loop(); i++ {
		alerts += len(s.Eval(events[i%len(events)]))
	}
	b.ReportMetric(float64(alerts)/float64(b.N), "alerts/event")
}

// BenchmarkRegoEvalInputMap is the plain path, per event: the event's JSON
// decoded into a map and rego.EvalInput, every rule evaluated.
func BenchmarkRegoEvalInputMap(b *testing.B) {
	rules, config := shippedRules(b)
	pq := plainQuery(b, rules, config)
	events := benchEvents()
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	alerts := 0
	for i := 0; b.Loop(); i++ {
		m, err := eventMap(events[i%len(events)])
		if err != nil {
			b.Fatal(err)
		}
		rs, err := pq.Eval(ctx, oparego.EvalInput(m))
		if err != nil {
			b.Fatal(err)
		}
		alerts += plainAlerts(rs)
	}
	b.ReportMetric(float64(alerts)/float64(b.N), "alerts/event")
}

// trafficSize is the length of the event stream of BenchmarkRegoTraffic.
var trafficSize = flag.Int("traffic", 100_000, "events in the stream of BenchmarkRegoTraffic")

// BenchmarkRegoTraffic scans trafficEvents, a stream shaped like a real
// site's log, with a fresh Set per scan (memos start cold, as in `detect
// scan`); ns/event is the cost per event. The memo's benefit depends on how
// often values repeat, which benchEvents' 1000 events cycled by
// BenchmarkRego overstate.
//
//	go test -run XXX -bench RegoTraffic -benchtime 1x ./engine/rego
func BenchmarkRegoTraffic(b *testing.B) {
	for _, bc := range []struct {
		name string
		size int
	}{{"memo", 0}, {"nomemo", -1}} {
		b.Run(bc.name, func(b *testing.B) {
			rules, config := shippedRules(b)
			events := trafficEvents(*trafficSize, 1)
			b.ReportAllocs()
			b.ResetTimer()
			alerts := 0
			for b.Loop() {
				b.StopTimer()
				s, err := Compile(rules, config, Options{CacheSize: bc.size})
				if err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
				for _, e := range events {
					alerts += len(s.Eval(e))
				}
			}
			n := float64(b.N) * float64(len(events))
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/n, "ns/event")
			b.ReportMetric(float64(alerts)/n, "alerts/event")
		})
	}
}

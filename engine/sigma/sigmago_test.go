// These tests compare the engine with sigma-go v0.6.6's own evaluator, as a
// differential oracle on the rules it handles correctly, and pin the cases
// where it is wrong.

package sigma

import (
	"bytes"
	"context"
	"testing"

	sigmago "github.com/bradleyjkemp/sigma-go"
	"github.com/bradleyjkemp/sigma-go/evaluator"

	"github.com/detect-dev/detect/schema"
)

// splitDocuments splits a multi-document YAML file on "---" lines, because
// sigma.ParseRule reads only the first document.
func splitDocuments(data []byte) [][]byte {
	var docs [][]byte
	for _, d := range bytes.Split(data, []byte("\n---\n")) {
		if len(bytes.TrimSpace(d)) > 0 {
			docs = append(docs, d)
		}
	}
	return docs
}

// identityConfig maps every schema field to itself. Without a field
// mapping sigma-go compares a list field as one string ("[exe pdf]"); with
// one it matches each element, as the schema intends.
var identityConfig = func() sigmago.Config {
	c := sigmago.Config{FieldMappings: map[string]sigmago.FieldMapping{}}
	for _, f := range schema.Fields() {
		c.FieldMappings[f.Name()] = sigmago.FieldMapping{TargetNames: []string{f.Name()}}
	}
	return c
}()

func sigmaGoRules(tb testing.TB, name string) []*evaluator.RuleEvaluator {
	tb.Helper()
	var out []*evaluator.RuleEvaluator
	for i, doc := range splitDocuments(readFile(tb, "testdata/rules/"+name)) {
		rule, err := sigmago.ParseRule(doc)
		if err != nil {
			tb.Fatalf("%s document %d: sigma-go: %v", name, i+1, err)
		}
		out = append(out, evaluator.ForRule(rule, evaluator.WithConfig(identityConfig)))
	}
	return out
}

// toSigmaGo converts an event into the map sigma-go evaluates: present
// fields only (absent ones must stay absent), ints as int because sigma-go's
// numeric comparisons reject int64. Time and the attachment objects are left
// out; no compared rule reads them.
func toSigmaGo(e *schema.Event) map[string]any {
	m := map[string]any{}
	for _, f := range schema.Fields() {
		if !e.Has(f) {
			continue
		}
		switch f.Kind() {
		case schema.KindString:
			m[f.Name()] = e.Str(f)
		case schema.KindInt:
			n, _ := e.Number(f)
			m[f.Name()] = int(n)
		case schema.KindFloat:
			n, _ := e.Number(f)
			m[f.Name()] = n
		case schema.KindStringList:
			m[f.Name()], _ = e.AppendText(nil, f)
		case schema.KindIntList:
			var ns []int
			for _, n := range e.AttachmentSize {
				ns = append(ns, int(n))
			}
			m[f.Name()] = ns
		}
	}
	return m
}

// TestSigmaGoDifferential evaluates rules that sigma-go handles correctly
// with both engines over many generated events; they must agree on every
// event.
func TestSigmaGoDifferential(t *testing.T) {
	events := genEvents(5000)
	maps := make([]map[string]any, len(events))
	for i, e := range events {
		maps[i] = toSigmaGo(e)
	}
	ctx := context.Background()
	for _, file := range []string{"common.yml", "differential.yml"} {
		mine := loadRules(t, file)
		theirs := sigmaGoRules(t, file)
		if len(mine) != len(theirs) {
			t.Fatalf("%s: %d rules here, %d in sigma-go", file, len(mine), len(theirs))
		}
		for i, r := range mine {
			t.Run(file+"/"+r.Title, func(t *testing.T) {
				matched, failures := 0, 0
				for j, e := range events {
					res, err := theirs[i].Matches(ctx, maps[j])
					if err != nil {
						t.Fatalf("sigma-go: %v", err)
					}
					got := r.Match(e)
					if got {
						matched++
					}
					if got != res.Match && failures < 5 {
						failures++
						t.Errorf("event %d: Match = %v, sigma-go = %v\n%v", j, got, res.Match, maps[j])
					}
				}
				if matched == 0 || matched == len(events) {
					t.Errorf("matched %d of %d events; the comparison says little", matched, len(events))
				}
			})
		}
	}
}

// TestSigmaGoKnownGaps pins down the sigma-go v0.6.6 behaviours that made
// the engine necessary, next to the engine's answer for the same input.
func TestSigmaGoKnownGaps(t *testing.T) {
	ctx := context.Background()
	parse := func(t *testing.T, det string) (*Rule, *evaluator.RuleEvaluator, error) {
		src := testHeader + "detection:" + det + "\n"
		rule, err := sigmago.ParseRule([]byte(src))
		mine := compileDetection(t, det)
		if err != nil {
			return mine, nil, err
		}
		return mine, evaluator.ForRule(rule, evaluator.WithConfig(identityConfig)), nil
	}

	t.Run("plain * wildcard is compared literally", func(t *testing.T) {
		mine, theirs, err := parse(t, "\n  sel:\n    sender: '*@evil.example'\n  condition: sel")
		if err != nil {
			t.Fatal(err)
		}
		e := sender("a@evil.example")
		res, _ := theirs.Matches(ctx, toSigmaGo(&e))
		if res.Match || !mine.Match(&e) {
			t.Errorf("sigma-go = %v (expected its bug: false), engine = %v", res.Match, mine.Match(&e))
		}
	})

	// "1 of selection*" works in sigma-go; a quantifier before a plain name
	// reaches an unhandled AST node and panics.
	for _, cond := range []string{"1 of selection", "all of selection"} {
		t.Run(cond+" panics", func(t *testing.T) {
			mine, theirs, err := parse(t, "\n  selection:\n    subject: a\n  condition: "+cond)
			if err != nil {
				t.Fatal(err)
			}
			e := schema.Event{Subject: "a"}
			panicked := func() (p bool) {
				defer func() { p = recover() != nil }()
				theirs.Matches(ctx, toSigmaGo(&e))
				return false
			}()
			if !panicked || !mine.Match(&e) {
				t.Errorf("sigma-go panicked = %v (expected its bug: true), engine = %v", panicked, mine.Match(&e))
			}
		})
	}

	for _, tc := range []struct{ name, det string }{
		{"identifier with - does not parse", "\n  sel-1:\n    subject: a\n  condition: sel-1"},
		{"pattern with a digit before * does not parse", "\n  sel1a:\n    subject: a\n  condition: 1 of sel1*"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mine, _, err := parse(t, tc.det)
			e := schema.Event{Subject: "a"}
			if err == nil || !mine.Match(&e) {
				t.Errorf("sigma-go error = %v (expected its bug: an error), engine = %v", err, mine.Match(&e))
			}
		})
	}

	t.Run("only the first document is read", func(t *testing.T) {
		data := readFile(t, "testdata/rules/differential.yml")
		var first sigmago.Rule
		first, err := sigmago.ParseRule(data)
		mine, _ := ParseFile("differential.yml", data)
		if err != nil || first.Title != mine[0].Title || len(mine) < 2 {
			t.Errorf("sigma-go: %q, %v; engine: %d rules", first.Title, err, len(mine))
		}
	})
}

// BenchmarkSigmaGo runs sigma-go's evaluator over the same 20 rules and
// events as BenchmarkMatch. The events are converted to maps beforehand, so
// only evaluation is timed.
func BenchmarkSigmaGo(b *testing.B) {
	rules := sigmaGoRules(b, "common.yml")
	if len(rules) != 20 {
		b.Fatalf("common.yml has %d rules, want 20", len(rules))
	}
	events := genEvents(4096)
	maps := make([]map[string]any, len(events))
	for i, e := range events {
		maps[i] = toSigmaGo(e)
	}
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	n := 0
	for i := 0; i < b.N; i++ {
		m := maps[i%len(maps)]
		for _, r := range rules {
			res, err := r.Matches(ctx, m)
			if err != nil {
				b.Fatal(err)
			}
			if res.Match {
				n++
			}
		}
	}
	benchSink = n
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}

// TestBenchmarksAgree checks that the two benchmarks do the same work: the
// same number of matches over the benchmark events.
func TestBenchmarksAgree(t *testing.T) {
	mine := loadRules(t, "common.yml")
	theirs := sigmaGoRules(t, "common.yml")
	ctx := context.Background()
	a, b := 0, 0
	for _, e := range genEvents(4096) {
		m := toSigmaGo(e)
		for i := range mine {
			if mine[i].Match(e) {
				a++
			}
			if res, _ := theirs[i].Matches(ctx, m); res.Match {
				b++
			}
		}
	}
	if a != b {
		t.Errorf("engine matched %d times, sigma-go %d", a, b)
	}
	t.Logf("%d matches over 4096 events x 20 rules", a)
}

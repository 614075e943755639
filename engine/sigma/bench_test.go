package sigma

import (
	"testing"
)

// benchSink keeps the compiler from discarding the matches.
var benchSink int

// BenchmarkMatch runs the 20 realistic rules of testdata/rules/common.yml
// over varied generated events. One op is one event through all rules; the
// events/s metric is the throughput of a single core.
// BenchmarkSigmaGo (in sigmago_test.go) times sigma-go's evaluator on the
// same rules and events.
func BenchmarkMatch(b *testing.B) {
	rules := loadRules(b, "common.yml")
	if len(rules) != 20 {
		b.Fatalf("common.yml has %d rules, want 20", len(rules))
	}
	events := genEvents(4096)
	b.ReportAllocs()
	b.ResetTimer()
	n := 0
	for i := 0; i < b.N; i++ {
		e := events[i%len(events)]
		for _, r := range rules {
			if r.Match(e) {
				n++
			}
		}
	}
	benchSink = n
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}

// BenchmarkParseFile measures loading, which matters for hot reloads.
func BenchmarkParseFile(b *testing.B) {
	data := readFile(b, "testdata/rules/common.yml")
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, err := ParseFile("common.yml", data); err != nil {
			b.Fatal(err)
		}
	}
}

package postfix

import (
	"regexp"
	"strings"
	"testing"
)

// The regexp baseline is what a log parser usually starts as: a regexp for
// the syslog prefix and one for key=value lists and rejects. It does less
// than the real parser (no stitching, no events, no time parsing), so the
// ratio BenchmarkParse / BenchmarkRegexpBaseline understates the gain.
// Both run in one `go test -bench` invocation so the ratio is comparable.
var (
	reSyslogPrefix = regexp.MustCompile(`^(\S+(?: +\d+ [\d:]+)?) (\S+) ([^\[:]+)(?:\[(\d+)\])?: (.*)$`)
	reKeyValue     = regexp.MustCompile(`(\w+)=(<[^>]*>|[^,\s]+)`)
	reNoqueue      = regexp.MustCompile(`^NOQUEUE: reject: \S+ from ([^\[]+)\[([^\]]+)\]: (\d{3} \d\.\d\.\d) (.*?); from=<([^>]*)> to=<([^>]*)>`)
)

func regexpBaseline(lines []string) (fields int) {
	for _, l := range lines {
		m := reSyslogPrefix.FindStringSubmatch(l)
		if m == nil {
			continue
		}
		msg := m[5]
		switch {
		case strings.HasPrefix(msg, "NOQUEUE: reject:"):
			if r := reNoqueue.FindStringSubmatch(msg); r != nil {
				fields += len(r)
			}
		case strings.Contains(msg, "="):
			fields += len(reKeyValue.FindAllStringSubmatch(msg, -1))
		}
	}
	return fields
}

func BenchmarkRegexpBaseline(b *testing.B) {
	b.Run("pixelpark", func(b *testing.B) { benchBaseline(b, pixelparkLines(b)) })
	b.Run("synthetic", func(b *testing.B) { benchBaseline(b, syntheticLog(2000)) })
}

func benchBaseline(b *testing.B, lines []string) {
	size := 0
	for _, l := range lines {
		size += len(l) + 1
	}
	b.SetBytes(int64(size))
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		regexpBaseline(lines)
		n++
	}
	b.ReportMetric(float64(n*len(lines))/b.Elapsed().Seconds(), "lines/s")
}

func TestRegexpBaselineExtracts(t *testing.T) {
	// The baseline must do real work, or the ratio means nothing.
	if got := regexpBaseline(syntheticLog(10)); got < 50 {
		t.Fatalf("baseline extracted only %d fields", got)
	}
}

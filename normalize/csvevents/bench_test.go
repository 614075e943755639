package csvevents

import (
	"strconv"
	"testing"
	"time"

	"github.com/detect-dev/detect/normalize"
	"github.com/detect-dev/detect/schema"
)

// BenchmarkParse measures both formats on synthetic exports (lines in
// memory, events discarded), reporting lines/s besides MB/s.
func BenchmarkParse(b *testing.B) {
	csvLines := []string{"_time,src_user,recipient,action,subject,src,file_name,file_size"}
	var jsonLines []string
	for i := 0; i < 5000; i++ {
		n := strconv.Itoa(i)
		csvLines = append(csvLines, "2026-11-27T08:00:01Z,s"+n+"@x.example,a@corp.example;b@corp.example,delivered,\"Invoice "+n+", March\",198.51.100.7,invoice.pdf;run.exe,4000;5000")
		jsonLines = append(jsonLines, `{"@timestamp":"2026-11-27T08:00:01Z","email":{"from":{"address":["s`+n+`@x.example"]},"to":{"address":["a@corp.example"]},"subject":"Invoice `+n+`"},"event":{"action":"delivered"},"source":{"ip":"198.51.100.7"}}`)
	}
	b.Run("csv", func(b *testing.B) { benchLines(b, "csv", csvLines) })
	b.Run("json-export", func(b *testing.B) { benchLines(b, "json-export", jsonLines) })
}

func benchLines(b *testing.B, format string, lines []string) {
	size := 0
	for _, l := range lines {
		size += len(l) + 1
	}
	b.SetBytes(int64(size))
	b.ReportAllocs()
	events := 0
	emit := func(*schema.Event) { events++ }
	start := time.Now()
	iters := 0
	for b.Loop() {
		p, _ := normalize.New(format, normalize.Options{})
		for i, l := range lines {
			p.Parse(schema.Line{Text: l, File: "bench", Number: i + 1}, emit)
		}
		iters++
	}
	if el := time.Since(start).Seconds(); el > 0 {
		b.ReportMetric(float64(iters*len(lines))/el, "lines/s")
	}
	b.ReportMetric(float64(events)/float64(iters), "events/op")
}

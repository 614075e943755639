package m365

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/detect-dev/detect/normalize"
	"github.com/detect-dev/detect/schema"
)

// BenchmarkParse measures the parser on a synthetic Export-Csv and on the
// same records as a one-line Graph document and as JSON lines, reporting
// lines/s besides MB/s.
func BenchmarkParse(b *testing.B) {
	st := []string{"Delivered", "FilteredAsSpam", "Quarantined", "Failed", "Pending"}
	csv := []string{`"Received","SenderAddress","RecipientAddress","Subject","Status","ToIP","FromIP","Size","MessageId","MessageTraceId"`}
	var jl []string
	for i := 0; i < 5000; i++ {
		n := strconv.Itoa(i)
		csv = append(csv, `"11/27/2026 8:00:01 AM","s`+n+`@sender.example","alice@contoso.example","Invoice `+n+`, March","`+st[i%5]+`","","203.0.113.`+strconv.Itoa(i%250)+`","48211","<m`+n+`@x.example>","0f8c4e2a-1b2c-4d3e-8f9a-`+n+`"`)
		jl = append(jl, `{"receivedDateTime":"2026-11-27T08:00:01Z","senderAddress":"s`+n+`@sender.example","recipientAddress":"alice@contoso.example","subject":"Invoice `+n+`, March","status":"`+st[i%5]+`","fromIP":"203.0.113.1","size":48211,"messageId":"<m`+n+`@x.example>","id":"0f8c4e2a-`+n+`"}`)
	}
	b.Run("csv", func(b *testing.B) { benchLines(b, csv) })
	b.Run("json-lines", func(b *testing.B) { benchLines(b, jl) })
	b.Run("graph-document", func(b *testing.B) {
		benchLines(b, []string{`{"@odata.context":"x","value":[` + strings.Join(jl, ",") + `]}`})
	})
}

func benchLines(b *testing.B, lines []string) {
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
		p := New(normalize.Options{})
		for i, l := range lines {
			p.Parse(schema.Line{Text: l, File: "bench", Number: i + 1}, emit)
		}
		p.Flush(emit)
		iters++
	}
	if el := time.Since(start).Seconds(); el > 0 {
		b.ReportMetric(float64(iters*len(lines))/el, "lines/s")
	}
	b.ReportMetric(float64(events)/float64(iters), "events/op")
}

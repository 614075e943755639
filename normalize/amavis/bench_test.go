package amavis

import (
	"strconv"
	"testing"
	"time"

	"github.com/detect-dev/detect/normalize"
	"github.com/detect-dev/detect/schema"
)

// BenchmarkParse measures the parser on a synthetic amavis log (verdicts
// with the detail lines of log level 2 between them), reporting lines/s
// besides MB/s.
func BenchmarkParse(b *testing.B) {
	var lines []string
	verdicts := []string{"Passed CLEAN {RelayedInbound}", "Blocked SPAM {DiscardedInbound,Quarantined}",
		"Blocked BANNED (multipart/mixed | application/x-msdownload,.exe,.exe-ms,invoice.exe) {DiscardedInbound,Quarantined}"}
	for i := 0; i < 5000; i++ {
		n := strconv.Itoa(i)
		pre := "Nov 27 08:" + strconv.Itoa(10+i/60%50) + ":" + strconv.Itoa(10+i%50) + " mx1 amavis[2105]: (02105-" + n + ") "
		lines = append(lines,
			pre+"SPAM-TAG, <s"+n+"@sender.example> -> <alice@corp.example>, No, score=-1.2 required=5 tests=[ALL_TRUSTED=-1] autolearn=ham",
			pre+verdicts[i%3]+", [198.51.100.7]:41695 [198.51.100."+strconv.Itoa(i%250)+"] <s"+n+"@sender.example> -> <alice@corp.example>,<bob@corp.example>, Queue-ID: 4PbC4x"+n+", Message-ID: <m"+n+"@x.example>, mail_id: kQ2xT9aLm3Bc, Hits: -1.2, size: 48211, queued_as: 4PbC4z"+n+", Subject: \"Invoice "+n+"\", From: <s@x.example>, helo=mail.sender.example, 812 ms",
		)
	}
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
		p := New(normalize.Options{Year: 2026})
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

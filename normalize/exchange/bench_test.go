package exchange

import (
	"strconv"
	"testing"
	"time"

	"github.com/detect-dev/detect/normalize"
	"github.com/detect-dev/detect/schema"
)

// BenchmarkParse measures both parsers on synthetic logs (lines in memory,
// events discarded), reporting lines/s besides MB/s.
func BenchmarkParse(b *testing.B) {
	var trk []string
	trk = append(trk, fieldsLine)
	for i := 0; i < 2000; i++ {
		n := strconv.Itoa(i)
		trk = append(trk,
			"2026-11-27T08:00:01.123Z,203.0.113."+strconv.Itoa(i%250)+",mx"+n+".example,10.0.0.20,EX01,SMTP,RECEIVE,41234"+n+",<m"+n+"@x.example>,alice@corp.example;bob@corp.example,,48211,2,\"Invoice "+n+", March\",s"+n+"@x.example,Incoming,203.0.113.9",
			"2026-11-27T08:00:01.200Z,,,,EX01,AGENT,AGENTINFO,41234"+n+",<m"+n+"@x.example>,alice@corp.example;bob@corp.example,,48211,2,\"Invoice "+n+", March\",s"+n+"@x.example,Incoming,",
			"2026-11-27T08:00:02.500Z,10.0.0.20,EX01,,EX01,STOREDRIVER,DELIVER,41234"+n+",<m"+n+"@x.example>,alice@corp.example;bob@corp.example,250 2.1.5 Recipient OK;250 2.1.5 Recipient OK,50112,2,\"Invoice "+n+", March\",s"+n+"@x.example,Incoming,203.0.113.9",
		)
	}
	var recv []string
	for i := 0; i < 2000; i++ {
		pre := "2026-11-27T08:00:00.100Z,EX01\\Default Frontend EX01,08DE" + strconv.Itoa(100000+i) + ","
		ep := ",10.0.0.20:25,198.51.100." + strconv.Itoa(i%250) + ":53722,"
		recv = append(recv,
			pre+"0"+ep+"+,,",
			pre+"1"+ep+"<,EHLO x"+strconv.Itoa(i)+",",
			pre+"2"+ep+"<,AUTH LOGIN,",
			pre+"3"+ep+">,535 5.7.3 Authentication unsuccessful,",
			pre+"4"+ep+"-,,Local",
		)
	}
	b.Run("tracking", func(b *testing.B) { benchLines(b, "exchange", trk) })
	b.Run("smtp-receive", func(b *testing.B) { benchLines(b, "exchange-smtp", recv) })
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
		p.Flush(emit)
		iters++
	}
	if el := time.Since(start).Seconds(); el > 0 {
		b.ReportMetric(float64(iters*len(lines))/el, "lines/s")
	}
	b.ReportMetric(float64(events)/float64(iters), "events/op")
}

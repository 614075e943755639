package query

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"testing"
	"time"

	"github.com/detect-dev/detect/schema"
)

// syntheticEvents makes n events over a day: 20 hosts, 2000 senders, 5000
// recipients, five actions, one in 50 with an attachment.
func syntheticEvents(n int) []*schema.Event {
	rng := rand.New(rand.NewPCG(1, 2))
	actions := []string{"delivered", "delivered", "delivered", "deferred", "bounced", "rejected"}
	start := time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC)
	out := make([]*schema.Event, n)
	for i := range out {
		e := &schema.Event{
			Time:      start.Add(time.Duration(i) * 24 * time.Hour / time.Duration(n)),
			Host:      fmt.Sprintf("mx%d", rng.IntN(20)),
			EventType: "delivery",
			Action:    actions[rng.IntN(len(actions))],
			Recipient: fmt.Sprintf("user%d@corp.example", rng.IntN(5000)),
			Size:      int64(rng.IntN(2_000_000)),
		}
		e.SetSender(fmt.Sprintf("sender%d@example.org", rng.IntN(2000)))
		if i%50 == 0 {
			e.Attachments = []schema.Attachment{{Name: "a.exe", Type: "application/x-msdownload", Size: int64(rng.IntN(3_000_000))}}
		}
		e.Complete()
		out[i] = e
	}
	return out
}

func BenchmarkSevenSearches(b *testing.B) {
	events := syntheticEvents(100_000)
	for i, q := range []string{
		"index=mail sourcetype=smtp | top limit=10 sender",
		"index=mail sourcetype=smtp | top limit=10 recipient",
		"index=mail sourcetype=smtp | stats count by action,host,sender,recipient",
		"index=mail sourcetype=smtp | timechart span=1h count",
		`index=mail sourcetype=smtp | search attachment_type="application/x-msdownload" OR attachment_size > 1000000`,
		"index=mail sourcetype=smtp | stats count by action,host",
		"index=mail sourcetype=smtp | timechart span=1d count by host",
	} {
		parsed := MustParse(q)
		b.Run(fmt.Sprint(i+1), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				run := parsed.Start()
				for _, e := range events {
					run.Add(e)
				}
				run.Result()
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(len(events)), "ns/event")
		})
	}
}

func BenchmarkParse(b *testing.B) {
	for b.Loop() {
		MustParse(`index=mail sourcetype=smtp action=rejected NOT host=mx1 | where size > 1000 | stats count, dc(recipient) as r by sender | sort -count | head 10`)
	}
}

// BenchmarkGroupMemory: the heap a top and a stats keep per group, over
// 100,000 distinct 50-byte reasons (as reject reasons that name the client
// make them); bytes/group is what a report's memory grows by per key.
func BenchmarkGroupMemory(b *testing.B) {
	const groups = 100_000
	events := make([]*schema.Event, groups)
	for i := range events {
		e := &schema.Event{EventType: "reject", Action: "rejected", Reason: fmt.Sprintf("Client host rejected: cannot find hostname, [%08d]", i)}
		e.Complete()
		events[i] = e
	}
	for _, q := range []string{"top limit=10 reason", "stats count, sum(size) by reason"} {
		parsed := MustParse(q)
		b.Run(q, func(b *testing.B) {
			var perGroup float64
			for b.Loop() {
				var before, after runtime.MemStats
				runtime.GC()
				runtime.ReadMemStats(&before)
				run := parsed.Start()
				for _, e := range events {
					run.Add(e)
				}
				runtime.GC()
				runtime.ReadMemStats(&after)
				perGroup = float64(after.HeapAlloc-before.HeapAlloc) / groups
				runtime.KeepAlive(run)
			}
			b.ReportMetric(perGroup, "bytes/group")
		})
	}
}

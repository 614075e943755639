package window

import (
	"fmt"
	"testing"
	"time"

	"github.com/detect-dev/detect/schema"
)

// BenchmarkObserve feeds 1000 clients' events, one a second, to the
// correlation types of the shipped rules, in time order and with every
// third event 30s late.
func BenchmarkObserve(b *testing.B) {
	ip := []schema.Field{field("src_ip")}
	specs := []Spec{
		{ID: "count", Type: EventCount, Slots: []int{0}, GroupBy: ip, Span: 10 * time.Minute, Cond: Cond{Gte: f(100)}},
		{ID: "values", Type: ValueCount, Slots: []int{0}, GroupBy: ip, Field: field("recipient"), Span: time.Hour, Cond: Cond{Gte: f(50)}},
		{ID: "sum", Type: ValueSum, Slots: []int{0}, GroupBy: ip, Field: field("size"), Span: 24 * time.Hour, Cond: Cond{Gte: f(1e12)}},
	}
	events := make([]*schema.Event, 100_000)
	for i := range events {
		events[i] = &schema.Event{Time: t0.Add(time.Duration(i) * time.Second), SrcIP: fmt.Sprint(i % 1000), Recipient: fmt.Sprint("r", i%37), Size: 1000}
	}
	for _, late := range []bool{false, true} {
		b.Run(fmt.Sprint("late=", late), func(b *testing.B) {
			emit := func(Result) {}
			for b.Loop() {
				s := New(specs, Options{})
				for i, e := range events {
					if late && i%3 == 0 {
						e = &schema.Event{Time: e.Time.Add(-30 * time.Second), SrcIP: e.SrcIP, Recipient: e.Recipient, Size: e.Size}
					}
					s.Observe(e, []int{0}, emit)
				}
			}
		})
	}
}

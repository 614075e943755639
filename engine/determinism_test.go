package engine

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/detect-dev/detect/engine/window"
	"github.com/detect-dev/detect/schema"
)

// TestSameAlertsWithConcurrentMatching runs a chain, aliases, a v1
// aggregation and a windowed Rego rule over a shuffled, partly late
// stream the way the pipeline does: the rules' matches computed by several
// goroutines at once, the State fed in input order. The alert bytes must
// be those of one goroutine, and there must be alerts of every kind.
func TestSameAlertsWithConcurrentMatching(t *testing.T) {
	rs := mustLoad(t, map[string]string{
		"chain.yml":              chainRules,
		"alias.yml":              strings.NewReplacer("-00000000003", "-00000000013", "failed_login", "failed_login_2").Replace(aliasRules),
		"v1.yml":                 legacyRule,
		"rego/reject_burst.rego": rejectWindow,
		"data/config.yaml":       "reject_burst: {min: 3}\n",
	})
	rng := rand.New(rand.NewPCG(1, 2))
	users := []string{"u1@x", "u2@x", "u3@x", "u4@x"}
	ips := []string{"192.0.2.1", "192.0.2.2", "192.0.2.3"}
	var events []*schema.Event
	for i := range 6000 {
		e := &schema.Event{Time: t0.Add(time.Duration(i)*3*time.Second - time.Duration(rng.IntN(60))*time.Second),
			SrcIP: ips[rng.IntN(len(ips))], AuthUser: users[rng.IntN(len(users))]}
		switch rng.IntN(4) {
		case 0, 1:
			e.EventType, e.Action = schema.TypeAuth, "failed"
		case 2:
			e.EventType, e.Action = schema.TypeAuth, "succeeded"
		default:
			e.EventType, e.Sender, e.Recipient = schema.TypeReject, e.AuthUser, fmt.Sprint("r", i)
			if rng.IntN(2) == 0 {
				e.EventType = schema.TypeDelivery
			}
		}
		events = append(events, e)
	}
	run := func(workers int) (string, map[string]int) {
		slots := make([][]int, len(events))
		single := make([][]*schema.Alert, len(events))
		var wg sync.WaitGroup
		for w := range workers {
			wg.Go(func() {
				for i := w; i < len(events); i += workers {
					slots[i] = rs.EvaluateSlots(events[i], func(a *schema.Alert) { single[i] = append(single[i], a) }, nil)
				}
			})
		}
		wg.Wait()
		st := rs.NewState(window.Options{})
		var b strings.Builder
		byRule := map[string]int{}
		emit := func(a *schema.Alert) {
			j, err := json.Marshal(a)
			if err != nil {
				t.Fatal(err)
			}
			b.Write(j)
			b.WriteByte('\n')
			byRule[a.RuleTitle]++
		}
		for i, e := range events {
			for _, a := range single[i] {
				emit(a)
			}
			st.Observe(e, slots[i], emit)
		}
		st.Flush(emit)
		return b.String(), byRule
	}
	want, byRule := run(1)
	for _, title := range []string{"Failed logins then success", "Failed login then mail", "Brute force (v1)", "Reject burst"} {
		if byRule[title] == 0 {
			t.Errorf("no alert of %q: %v", title, byRule)
		}
	}
	for _, workers := range []int{2, 7} {
		if got, _ := run(workers); got != want {
			t.Errorf("%d workers: alerts differ from one worker's", workers)
		}
	}
}

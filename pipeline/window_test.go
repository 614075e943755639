package pipeline

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

const correlationRules = `title: auth failure
id: 11111111-2222-4333-8444-000000000001
name: auth_failure
generate: false
logsource: {category: email}
detection:
  sel: {event_type: auth, action: failed}
  condition: sel
level: low
---
title: many failures
id: 11111111-2222-4333-8444-000000000002
correlation:
  type: event_count
  rules: [auth_failure]
  group-by: [src_ip]
  timespan: 5m
  condition: {gte: 5}
level: high
---
title: many users
id: 11111111-2222-4333-8444-000000000003
correlation:
  type: value_count
  rules: [11111111-2222-4333-8444-000000000001]
  group-by: [src_ip]
  timespan: 10m
  condition: {gte: 4, field: auth_user}
level: high
`

// TestCorrelationSameWithAnyWorkers checks that correlation alerts do not
// depend on the number of workers (the state is fed in input order by the
// collector), and that the base rule with generate: false does not alert.
func TestCorrelationSameWithAnyWorkers(t *testing.T) {
	rs := mustRules(t, correlationRules)
	var b strings.Builder
	t0 := time.Date(2026, 11, 28, 5, 0, 0, 0, time.UTC)
	for i := range 20000 {
		// Mostly in order, with some events up to 30s late.
		at := t0.Add(time.Duration(i)*time.Second - time.Duration(i%7*5)*time.Second)
		fmt.Fprintf(&b, `{"time":%q,"event_type":"auth","action":"failed","src_ip":"10.0.%d.%d","auth_user":"u%d"}`+"\n",
			at.Format(time.RFC3339), i%3, i%11, i%13)
	}
	for workers, byRule := range alertsWithAnyWorkers(t, rs, b.String()) {
		if byRule["11111111-2222-4333-8444-000000000001"] != 0 {
			t.Fatalf("workers=%d: the generate: false base rule alerted", workers)
		}
		if byRule["11111111-2222-4333-8444-000000000002"] == 0 || byRule["11111111-2222-4333-8444-000000000003"] == 0 {
			t.Fatalf("workers=%d: correlations did not fire: %v", workers, byRule)
		}
	}
}

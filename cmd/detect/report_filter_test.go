package main

import (
	"encoding/json"
	"testing"
)

// filterLog is a hand-written Postfix log with amavis on 127.0.0.1:10024
// (queue ids shortened to AAA0000n for the first copy, BBB0000n for the
// second):
//
//	M1 AAA00001 alice -> u1,u2, 1000 B: amavis passes it, re-injected as
//	   BBB00001 (1500 B), delivered to u1 and u2 by LMTP
//	M2 AAA00002 bob -> u1, 2000 B: amavis discards it as spam and quarantines it
//	M3 AAA00003 carol -> u1,u2, 3000 B: discarded as a virus, quarantined
//	M4 AAA00004 dave -> u2, 4000 B: banned attachment, amavis bounces
//	   it ("250 2.5.0 Ok, ..., BOUNCE") and quarantines it
//	M5 AAA00005 root, 500 B: aliased, "forwarded as" BBB00005 (650 B),
//	   delivered to admin@remote.example
//	M6 AAA00006 alice -> u3, 6000 B: delivered by LMTP on 127.0.0.1:24 (a
//	   real delivery on loopback, not a content filter)
const filterLog = "testdata/report_filter.log"

// TestReportContentFilterOutcomes: a message counts as delivered only on
// its final delivery. Postfix logs status=sent for every hop to amavis,
// also when amavis discards or bounces the message; those are hand-offs,
// and amavis's verdict (quarantined) is their outcome.
func TestReportContentFilterOutcomes(t *testing.T) {
	code, out, errOut := detect(t, "", "report", "--json", "-q", "--no-rules", filterLog)
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, errOut)
	}
	var rep struct {
		Totals map[string]any `json:"totals"`
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	want := map[string]float64{
		"delivered":   4, // BBB00001 to u1 and u2, BBB00005, AAA00006
		"handoffs":    7, // M1 twice (queued as), M2, M3 twice, M4 (filter ends them), M5 (forwarded as)
		"quarantined": 4, // amavis's verdicts on M2, M3 (two recipients), M4
		"bounced":     0, // amavis's bounce is its own notification, not in this log
		"discarded":   0,
		// The queue entries that end here: BBB00001, M2, M3, M4, BBB00005,
		// M6; the first copies of M1 and M5 go on under a new queue id.
		"received":          6,
		"bytes_received":    1500 + 2000 + 3000 + 4000 + 650 + 6000,
		"bytes_delivered":   2*1500 + 650 + 6000,
		"recipients":        4, // u1 u2 u3 admin
		"recipient_domains": 2,
		"senders":           5, // alice bob carol dave root
	}
	for k, v := range want {
		if rep.Totals[k] != v {
			t.Errorf("totals[%s] = %v, want %v", k, rep.Totals[k], v)
		}
	}
	pct, _ := rep.Totals["percent"].(map[string]any)
	if pct["delivered"] != 50.0 || pct["quarantined"] != 50.0 {
		t.Errorf("percent %v, want delivered 50 and quarantined 50 (4 of 8 outcomes each)", pct)
	}
}

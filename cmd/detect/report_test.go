package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestReportTotals: detect report over the hand-written Postfix log (see
// the event list above TestQuerySevenSearches), totals counted by hand.
func TestReportTotals(t *testing.T) {
	code, out, errOut := detect(t, "", "report", "--json", "-q", smtpLog)
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, errOut)
	}
	var rep struct {
		Totals   map[string]any `json:"totals"`
		Sections []struct {
			Tables []struct {
				ID   string           `json:"id"`
				Rows []map[string]any `json:"rows"`
			} `json:"tables"`
		} `json:"sections"`
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	// The pack's alert count comes from detect scan on the same log.
	_, alerts, _ := detect(t, "", "scan", "-q", smtpLog)
	want := map[string]float64{
		"events":            20,
		"received":          15, // 14 messages (M1 has two recipients) and the bounce notification
		"delivered":         14,
		"handoffs":          0,
		"deferred":          1,
		"deferred_messages": 1,
		"bounced":           1,
		"rejected":          3,
		"auth_failed":       1,
		"bytes_received":    12*2000 + 250000 + 3000 + 90000,
		"bytes_delivered":   11*2000 + 250000 + 3000 + 90000, // M1 twice, M2 M2b M3 M6 M9-M12 M14 at 2000; M5 M8 M13
		"senders":           10,                              // alice bob news reports <> frank grace heidi ivan mallory
		"sender_domains":    5,
		"recipients":        7,
		"recipient_domains": 3,
		"client_ips":        5,
		"alerts":            float64(strings.Count(alerts, "\n")),
	}
	for k, v := range want {
		if rep.Totals[k] != v {
			t.Errorf("totals[%s] = %v, want %v", k, rep.Totals[k], v)
		}
	}
	// 19 outcomes: 14 delivered, 1 deferred, 1 bounced, 3 rejected.
	pct := rep.Totals["percent"].(map[string]any)
	if pct["delivered"] != 73.7 || pct["rejected"] != 15.8 {
		t.Errorf("percent %v", pct)
	}
	found := false
	for _, s := range rep.Sections {
		for _, tb := range s.Tables {
			if tb.ID == "daily_by_host" {
				found = true
				// E19 (auth) is no mail outcome: mx2 has 4 on day 1, 2 on day 2.
				if len(tb.Rows) != 2 || tb.Rows[0]["mx1"] != 8.0 || tb.Rows[0]["mx2"] != 4.0 || tb.Rows[1]["mx1"] != 5.0 || tb.Rows[1]["mx2"] != 2.0 {
					t.Errorf("daily_by_host %v", tb.Rows)
				}
			}
		}
	}
	if !found {
		t.Error("no daily_by_host table")
	}
}

func TestReportTextHTMLAndRange(t *testing.T) {
	html := filepath.Join(t.TempDir(), "r.html")
	code, out, errOut := detect(t, "", "report", "--top", "3", "--html", html, "--since", "2026-11-28", smtpLog)
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, errOut)
	}
	// Day 2: E12-E19; M9-M14 are six messages.
	for _, s := range []string{
		"Mail report: 2026-11-28 07:00:01 .. 2026-11-28 12:00:00 UTC (8 events)",
		"Limited to 2026-11-28T00:00:00Z .. (open) (12 events outside left out)",
		"  received                6  messages\n",
		"\nSenders by messages\n",
	} {
		if !strings.Contains(out, s) {
			t.Errorf("text lacks %q:\n%s", s, out)
		}
	}
	if !strings.Contains(errOut, "events: 20") {
		t.Errorf("summary on stderr:\n%s", errOut)
	}
	b, err := os.ReadFile(html)
	if err != nil || !strings.Contains(string(b), "<svg") || !strings.Contains(string(b), "Mail report") {
		t.Errorf("html: %v %.200s", err, b)
	}
}

func TestReportUsageErrors(t *testing.T) {
	tests := []struct {
		args []string
		msg  string
	}{
		{[]string{"report"}, "needs at least one PATH"},
		{[]string{"report", "--since", "yesterday", smtpLog}, `--since: "yesterday" is neither a date`},
		{[]string{"report", "--since", "2026-11-28", "--until", "2026-11-27", smtpLog}, "is not before --until"},
		{[]string{"report", "--top", "0", smtpLog}, "--top must be at least 1"},
		{[]string{"report", "--html", "/nonexistent/dir/r.html", smtpLog}, "--html:"},
	}
	for _, tc := range tests {
		code, out, errOut := detect(t, "", tc.args...)
		if code != 2 || out != "" || !strings.Contains(errOut, tc.msg) {
			t.Errorf("%v: exit %d, stdout %q, stderr:\n%s", tc.args, code, out, errOut)
		}
	}
}

func TestParseWhen(t *testing.T) {
	now := time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)
	for in, want := range map[string]time.Time{
		"":                          {},
		"2026-11-27":                time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC),
		"2026-11-27 08:30":          time.Date(2026, 11, 27, 8, 30, 0, 0, time.UTC),
		"2026-11-27T08:30:00+01:00": time.Date(2026, 11, 27, 7, 30, 0, 0, time.UTC),
		"24h":                       now.Add(-24 * time.Hour),
		"-90m":                      now.Add(-90 * time.Minute),
		"7d":                        now.Add(-7 * 24 * time.Hour),
		"2w":                        now.Add(-14 * 24 * time.Hour),
	} {
		got, err := parseWhen(in, now)
		if err != nil || !got.Equal(want) {
			t.Errorf("parseWhen(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, bad := range []string{"yesterday", "0d", "-5", "2026-13-01"} {
		if _, err := parseWhen(bad, now); err == nil {
			t.Errorf("parseWhen(%q): no error", bad)
		}
	}
}

func TestReportNoRules(t *testing.T) {
	code, out, errOut := detect(t, "", "report", "--no-rules", "-q", "--json", smtpLog)
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, errOut)
	}
	if !strings.Contains(out, `"rules_run": false`) || strings.Contains(out, "alerts_by_rule") {
		t.Errorf("--no-rules report:\n%.400s", out)
	}
	if code, _, errOut := detect(t, "", "report", "--no-rules", "--rules", "x", smtpLog); code != 2 || !strings.Contains(errOut, "exclude each other") {
		t.Errorf("--no-rules --rules: exit %d %s", code, errOut)
	}
}

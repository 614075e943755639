package main

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// regoLog has one message for a Sigma rule (an .html attachment) and one
// for a Rego rule (a lookalike sender domain) of the embedded pack.
const regoLog = `2026-11-27T10:02:31.902541+00:00 mx1 postfix/smtpd[1401]: 4NxMj75bWFz9tR2: client=mx.shipping-notice.example[203.0.113.140]
2026-11-27T10:02:31.999120+00:00 mx1 postfix/cleanup[1402]: 4NxMj75bWFz9tR2: warning: header Content-Disposition: attachment; filename="Parcel_Label.html" from mx.shipping-notice.example[203.0.113.140]; from=<noreply@shipping-notice.example> to=<reception@corp.example> proto=ESMTP helo=<mx.shipping-notice.example>
2026-11-27T10:02:32.010377+00:00 mx1 postfix/qmgr[900]: 4NxMj75bWFz9tR2: from=<noreply@shipping-notice.example>, size=1290004, nrcpt=1 (queue active)
2026-11-27T10:02:32.088901+00:00 mx1 postfix/lmtp[1203]: 4NxMj75bWFz9tR2: to=<reception@corp.example>, relay=mailstore.corp.example[private/dovecot-lmtp], delay=0.19, delays=0.1/0/0.02/0.07, dsn=2.0.0, status=sent (250 2.0.0 <reception@corp.example> Saved)
2026-11-27T17:30:12.400125+00:00 mx1 postfix/smtpd[2301]: 4NxYTm0Vh3z9tS8: client=mail.paypa1.com[203.0.113.77]
2026-11-27T17:30:12.511020+00:00 mx1 postfix/qmgr[900]: 4NxYTm0Vh3z9tS8: from=<service@paypa1.com>, size=8812, nrcpt=1 (queue active)
2026-11-27T17:30:12.590311+00:00 mx1 postfix/lmtp[1203]: 4NxYTm0Vh3z9tS8: to=<ap@corp.example>, relay=mailstore.corp.example[private/dovecot-lmtp], delay=0.19, delays=0.1/0.01/0.02/0.06, dsn=2.0.0, status=sent (250 2.0.0 <ap@corp.example> Saved)
`

func writeFile(t *testing.T, name, text string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// alertsByEngine decodes JSON-lines alerts into objects, by engine.
func alertsByEngine(t *testing.T, jsonl string) map[string][]map[string]any {
	t.Helper()
	out := map[string][]map[string]any{}
	sc := bufio.NewScanner(strings.NewReader(jsonl))
	for sc.Scan() {
		var a map[string]any
		if err := json.Unmarshal(sc.Bytes(), &a); err != nil {
			t.Fatalf("alert line is not JSON: %v\n%s", err, sc.Text())
		}
		e, _ := a["engine"].(string)
		out[e] = append(out[e], a)
	}
	return out
}

func keysOf(m map[string]any) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}

// The first "done when": a Sigma rule and a Rego rule fire on the
// same scan with the same alert shape.
func TestScanSigmaAndRego(t *testing.T) {
	log := writeFile(t, "mail.log", regoLog)
	code, out, errOut := detect(t, "", "scan", log)
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, errOut)
	}
	by := alertsByEngine(t, out)
	if len(by["sigma"]) != 1 || len(by["rego"]) != 1 {
		t.Fatalf("alerts by engine: %v\n%s", by, out)
	}
	s, r := by["sigma"][0], by["rego"][0]
	if r["rule_title"] != "Sender domain looks like a protected domain" || r["rule_file"] != "rules/rego/lookalike_domain.rego" ||
		r["level"] != "high" || r["message"] != "sender domain paypa1.com looks like paypal.com (edit distance 1)" {
		t.Errorf("rego alert: %v", r)
	}
	if f, _ := r["fields"].(map[string]any); f["protected_domain"] != "paypal.com" {
		t.Errorf("rego alert fields: %v", r["fields"])
	}
	sk, rk := keysOf(s), keysOf(r)
	if want := slices.DeleteFunc(slices.Clone(rk), func(k string) bool { return k == "fields" }); !slices.Equal(sk, want) {
		t.Errorf("alert shapes differ: sigma %v, rego %v", sk, rk)
	}
	if ev, _ := r["event"].(map[string]any); ev["sender"] != "service@paypa1.com" || ev["source_line"] != 7.0 {
		t.Errorf("rego alert event: %v", r["event"])
	}
	if strings.Contains(errOut, "warning") {
		t.Errorf("warnings:\n%s", errOut)
	}
}

func TestScanData(t *testing.T) {
	log := writeFile(t, "mail.log", regoLog)
	// paypal.com at distance 0 is no longer protected; shipping-notice.example
	// becomes a local domain, so its unauthenticated inbound mail is a spoof.
	data := writeFile(t, "site.yaml", "protected_domains: {paypal.com: 0}\nlocal_domains: [shipping-notice.example]\n")
	code, out, errOut := detect(t, "", "scan", "--data", data, log)
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, errOut)
	}
	var titles []string
	for _, a := range alertsByEngine(t, out)["rego"] {
		titles = append(titles, a["rule_title"].(string))
	}
	if want := []string{"Inbound mail spoofing a local sender domain"}; !slices.Equal(titles, want) {
		t.Errorf("rego alerts with --data -want +got\n-%v\n+%v", want, titles)
	}
	if strings.Contains(errOut, "warning") {
		t.Errorf("--data works, but warns:\n%s", errOut)
	}

	bad := writeFile(t, "bad.yaml", "local_domains: [a\n")
	code, _, errOut = detect(t, "", "scan", "--data", bad, log)
	if code != 2 || !strings.Contains(errOut, filepath.ToSlash(bad)+":1:1: data: yaml:") {
		t.Errorf("broken --data: exit %d\n%s", code, errOut)
	}
	code, _, errOut = detect(t, "", "scan", "--data", "nope.yaml", log)
	if code != 2 || !strings.Contains(errOut, "nope.yaml") {
		t.Errorf("missing --data: exit %d\n%s", code, errOut)
	}
	// Rules without Rego: --data has nothing to act on.
	code, _, errOut = detect(t, "", "scan", "--rules", "../../rules/sigma", "--data", data, log)
	if code != 0 || !strings.Contains(errOut, "--data is for Rego rules, and none are loaded") {
		t.Errorf("--data without Rego rules: exit %d\n%s", code, errOut)
	}
}

// A rule over the per-event time budget is reported after the scan, and
// the scan finishes.
func TestScanReportsRulesOverBudget(t *testing.T) {
	dir := t.TempDir()
	slow := `# METADATA
# title: Slow
# custom:
#   id: 77777777-2222-4333-8444-555555555555
#   requires: [sender_domain]
package detect.rules.slow

alert contains "never" if {
	some i in numbers.range(1, 100000)
	some j in numbers.range(1, 100000)
	i * j == count(input.sender_domain) - 100
}
`
	if err := os.WriteFile(filepath.Join(dir, "slow.rego"), []byte(slow), 0o644); err != nil {
		t.Fatal(err)
	}
	log := writeFile(t, "mail.log", strings.Join(strings.Split(regoLog, "\n")[4:], "\n"))
	code, _, errOut := detect(t, "", "scan", "--quiet", "--rules", dir, log)
	if code != 0 || !strings.Contains(errOut, "detect: warning: rego: "+filepath.ToSlash(dir)+"/slow.rego:6: Slow (77777777-2222-4333-8444-555555555555) exceeded the 250ms time budget on 1 event(s); first: ") {
		t.Errorf("exit %d\n%s", code, errOut)
	}
}

func TestTestCommandRunsRegoTests(t *testing.T) {
	ruleRepo(t)
	code, out, _ := detect(t, "", "test", "-v")
	if code != 0 || !strings.Contains(out, "ok    rules/rego/lookalike_domain_test.rego:7: detect.rules.lookalike_domain_test.test_edit_distance\n") {
		t.Fatalf("exit %d\n%s", code, out)
	}
	passed := out[strings.LastIndex(strings.TrimSuffix(out, "\n"), "\n")+1:]

	edit(t, "rules/rego/lookalike_domain_test.rego", `detect.edit_distance("paypal.com", "paypa1.com") == 1`, `detect.edit_distance("paypal.com", "paypa1.com") == 2`)
	code, out, _ = detect(t, "", "test", "--run", "lookalike")
	for _, want := range []string{
		"FAIL  rules/rego/lookalike_domain_test.rego:7: detect.rules.lookalike_domain_test.test_edit_distance\n",
		"      rule: d5629312-6dab-48d5-85e7-516414111798 Sender domain looks like a protected domain (rules/rego/lookalike_domain.rego:",
		"      why:  test failed",
		" passed, 1 failed\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q", want)
		}
	}
	if code != 1 {
		t.Errorf("exit %d, want 1", code)
	}
	if !strings.HasSuffix(passed, " passed, 0 failed\n") {
		t.Errorf("summary %q", passed)
	}
	if t.Failed() {
		t.Logf("output:\n%s", out)
	}
}

func TestLintReportsRegoErrors(t *testing.T) {
	ruleRepo(t)
	edit(t, "rules/rego/oversized_attachment.rego", "some a in input.attachments", "some a in input.attachmnts")
	edit(t, "rules/rego/lookalike_domain.rego", "\tinput.event_type == \"delivery\"\n", "")
	code, out, _ := detect(t, "", "lint")
	for _, want := range []string{
		"rules/rego/lookalike_domain.rego:25:5: error: custom.requires names event types (delivery), but not every alert checks them",
		"rules/rego/oversized_attachment.rego:45:12: error: undefined ref input.attachmnts: the event schema has no field \"attachmnts\" (did you mean \"attachments\"?)",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("lint output lacks %q", want)
		}
	}
	if code != 1 {
		t.Errorf("exit %d, want 1", code)
	}
	if t.Failed() {
		t.Logf("output:\n%s", out)
	}
}

package postfix

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/detect-dev/detect/normalize"
	"github.com/detect-dev/detect/schema"
)

// grokCase is one test case of whyscream/postfix-grok-patterns: the message
// part of a log line and the fields the grok patterns extract from it.
type grokCase struct {
	Pattern string         `yaml:"pattern"`
	Data    string         `yaml:"data"`
	Results map[string]any `yaml:"results"`
}

// grokProgram gives the syslog program for a case file, from its name
// (smtpd_0004.yaml -> postfix/smtpd). Files that hold a fragment of a line
// rather than a message (counters, delays, relay, TLS feature words) give "".
func grokProgram(file, data string) string {
	stem := strings.TrimSuffix(filepath.Base(file), ".yaml")
	if i := strings.LastIndexByte(stem, '_'); i > 0 {
		stem = stem[:i]
	}
	switch stem {
	case "command_counter_data", "delays", "relay":
		return ""
	case "tls_features":
		if _, _, ok := splitQueueID(data); !ok {
			return ""
		}
		return "postfix/smtp"
	case "script":
		return "postfix/postfix-script"
	case "trivial_rewrite":
		return "postfix/trivial-rewrite"
	}
	return "postfix/" + stem
}

// testKV splits a grok postfix_keyvalue_data string. It is deliberately a
// different algorithm from nextKV (split on separators outside <>, then on
// the first '='), so that the comparison is not the parser checking itself.
func testKV(s string) map[string]string {
	out := map[string]string{}
	var tok strings.Builder
	depth := 0
	flush := func() {
		t := tok.String()
		tok.Reset()
		if k, v, ok := strings.Cut(t, "="); ok {
			out[k] = strings.TrimSuffix(strings.TrimPrefix(v, "<"), ">")
		}
	}
	for _, c := range s {
		switch {
		case c == '<':
			depth++
		case c == '>' && depth > 0:
			depth--
		case (c == ' ' || c == ',') && depth == 0:
			flush()
			continue
		}
		tok.WriteRune(c)
	}
	flush()
	return out
}

var grokUnmapped = flag.Bool("grok-unmapped", false, "log the whyscream cases with no field compared")

// minGrokMapped is how many cases must have at least one field that maps
// onto the schema and is compared; raise it when coverage grows.
const minGrokMapped = 47

// maxGrokNotUnderstood bounds the cases the parser cannot place.
const maxGrokNotUnderstood = 0

// TestGrokPatternFields drives the parser with the whyscream cases and
// compares every extracted field that has a schema counterpart.
func TestGrokPatternFields(t *testing.T) {
	dir := filepath.Join(corpusDir(t), "whyscream-postfix-grok-patterns", "test")
	files, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no cases in %s: %v", dir, err)
	}
	sort.Strings(files)
	var total, fragments, mapped, compared, notUnderstood int
	for _, file := range files {
		raw, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		var c grokCase
		if err := yaml.Unmarshal(raw, &c); err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		total++
		prog := grokProgram(file, c.Data)
		if prog == "" {
			fragments++
			continue
		}
		name := filepath.Base(file)
		p := New(normalize.Options{Year: 2024})
		var events []*schema.Event
		text := "Jan  2 03:04:05 mx " + prog + "[123]: " + c.Data
		res := p.Parse(schema.Line{Text: text, File: name, Number: 1}, func(ev *schema.Event) { events = append(events, ev) })
		if res == normalize.NotUnderstood {
			notUnderstood++
			t.Logf("%s: not understood: %s", name, text)
			continue
		}
		res2 := map[string]string{}
		for k, v := range c.Results {
			res2[k] = fmt.Sprint(v)
		}
		n := compareGrok(t, name, res2, events, p)
		if n == 0 && *grokUnmapped {
			t.Logf("unmapped %s (%v): %s", name, res, c.Data)
		}
		if n > 0 {
			mapped++
			compared += n
		}
	}
	t.Logf("%d cases: %d fragments, %d mapped (%d fields compared), %d not understood",
		total, fragments, mapped, compared, notUnderstood)
	if mapped < minGrokMapped {
		t.Errorf("%d cases mapped onto the schema, want at least %d", mapped, minGrokMapped)
	}
	if notUnderstood > maxGrokNotUnderstood {
		t.Errorf("%d cases not understood, at most %d allowed", notUnderstood, maxGrokNotUnderstood)
	}
}

// compareGrok checks the grok results against the first event, or against
// the message state when the line only fed state. It returns how many
// fields it compared.
func compareGrok(t *testing.T, name string, r map[string]string, events []*schema.Event, p *Parser) int {
	t.Helper()
	qid := r["postfix_queueid"]
	if qid == "NOQUEUE" {
		qid = ""
	}
	// got maps a schema field name to the parser's value.
	got := map[string]string{}
	switch {
	case len(events) > 0:
		ev := events[0]
		for _, f := range schema.Fields() {
			if vals, ok := ev.AppendText(nil, f); ok && len(vals) > 0 {
				got[f.Name()] = vals[0]
			}
		}
		if ev.HasSender {
			got["sender"] = ev.Sender
		}
	case qid != "" && p.queue[qid] != nil:
		m := p.queue[qid]
		got["queue_id"] = qid
		got["src_ip"], got["src_host"] = m.srcIP, m.srcHost
		got["message_id"] = m.messageID
		got["helo"] = m.helo
		if m.hasSender {
			got["sender"] = m.sender
		}
		if m.size > 0 {
			got["size"] = strconv.FormatInt(m.size, 10)
		}
		if m.nrcpt > 0 {
			got["recipient_count"] = strconv.Itoa(m.nrcpt)
		}
	default:
		return 0
	}

	n := 0
	check := func(field, want string) {
		n++
		if g := got[field]; g != want {
			t.Errorf("%s: %s = %q, grok says %q", name, field, g, want)
		}
	}
	if qid != "" {
		check("queue_id", qid)
	}
	if ip, ok := r["postfix_client_ip"]; ok && ip != "unknown" {
		check("src_ip", ip)
	}
	if h, ok := r["postfix_client_hostname"]; ok && h != "unknown" {
		check("src_host", h)
	}
	if s, ok := r["postfix_status"]; ok && len(events) > 0 {
		check("status", s)
	}
	if code, ok := r["postfix_status_code"]; ok {
		if enh, ok := r["postfix_status_code_enhanced"]; ok {
			code += " " + enh
		}
		check("status_code", code)
	}
	if msg, ok := r["postfix_status_message"]; ok {
		// For DNSBL rejects grok moves "Service unavailable; client [x]"
		// into postfix_status_data; the schema's reason keeps the whole
		// reply text, which ends with grok's message.
		n++
		if g := got["reason"]; !strings.HasSuffix(g, msg) {
			t.Errorf("%s: reason = %q, grok says %q", name, g, msg)
		}
	}
	for _, k := range []string{"postfix_smtp_response", "postfix_local_response", "postfix_pipe_response",
		"postfix_error_response"} {
		if v, ok := r[k]; ok {
			check("reason", v)
		}
	}
	if h, ok := r["postfix_relay_hostname"]; ok {
		n++
		if !strings.HasPrefix(got["relay"], h+"[") {
			t.Errorf("%s: relay = %q, grok says host %q", name, got["relay"], h)
		}
	}
	if id, ok := r["postfix_message-id"]; ok {
		check("message_id", id)
	}
	if kv, ok := r["postfix_keyvalue_data"]; ok {
		m := testKV(kv)
		pairs := [][2]string{
			{"from", "sender"}, {"to", "recipient"}, {"orig_to", "orig_recipient"},
			{"size", "size"}, {"nrcpt", "recipient_count"}, {"relay", "relay"}, {"delay", "delay"},
			{"helo", "helo"},
		}
		switch {
		case len(events) == 0:
			// Message state holds per-message fields only.
			pairs = [][2]string{{"from", "sender"}, {"size", "size"}, {"nrcpt", "recipient_count"}, {"helo", "helo"}}
		case events[0].EventType == schema.TypeDelivery:
			pairs = append(pairs, [2]string{"dsn", "status_code"})
		}
		for _, pr := range pairs {
			v, ok := m[pr[0]]
			if !ok || (v == "" && pr[0] != "from") {
				continue
			}
			if pr[0] == "delay" {
				// Compare as numbers: "3.6" and 3.6 print alike, "0" too.
				want, err1 := strconv.ParseFloat(v, 64)
				g, err2 := strconv.ParseFloat(got["delay"], 64)
				n++
				if err1 != nil || err2 != nil || want != g {
					t.Errorf("%s: delay = %q, grok says %q", name, got["delay"], v)
				}
				continue
			}
			if pr[0] == "dsn" {
				// A delivery's status_code is "NNN dsn" when its text
				// carries the SMTP reply, else the bare DSN.
				n++
				g := got["status_code"]
				if g != v && !(len(g) == 4+len(v) && g[3] == ' ' && g[4:] == v && digits(g[:3]) == 3) {
					t.Errorf("%s: status_code = %q, grok says dsn %q", name, g, v)
				}
				continue
			}
			if pr[0] == "from" && len(events) == 0 && got["sender"] == "" && v != "" {
				// pickup's local user name is only a fallback.
				continue
			}
			check(pr[1], v)
		}
		if proto, ok := m["proto"]; ok && len(events) > 0 {
			check("protocol", strings.ToLower(proto))
		}
	}
	return n
}

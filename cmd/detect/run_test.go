package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// These tests run `detect run` as a real process: the test binary itself,
// re-executed with runAsDetect set, so there is no separate build.
const runAsDetect = "DETECT_TEST_RUN_AS_DETECT"

func TestMain(m *testing.M) {
	if os.Getenv(runAsDetect) == "1" {
		os.Exit(run(os.Args, os.Stdin, os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

// syncBuffer is a bytes.Buffer the process writes while the test reads.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// detectProc is a running `detect run`.
type detectProc struct {
	t      *testing.T
	cmd    *exec.Cmd
	stderr *syncBuffer
	done   chan struct{}
	code   int
	http   string // base URL, when --http was given
}

func startRun(t *testing.T, args ...string) *detectProc {
	t.Helper()
	cmd := exec.Command(os.Args[0], append([]string{"run"}, args...)...)
	cmd.Env = append(os.Environ(), runAsDetect+"=1")
	p := &detectProc{t: t, cmd: cmd, stderr: &syncBuffer{}, done: make(chan struct{})}
	cmd.Stdout = io.Discard
	cmd.Stderr = p.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		cmd.Wait()
		p.code = cmd.ProcessState.ExitCode()
		close(p.done)
	}()
	t.Cleanup(func() {
		select {
		case <-p.done:
		default:
			cmd.Process.Kill()
			<-p.done
		}
		if t.Failed() {
			t.Logf("detect run stderr:\n%s", p.stderr.String())
		}
	})
	for _, a := range args {
		if a == "--http" {
			p.http = "http://" + p.logged(`msg="http listening" addr=http://(\S+)`)
		}
	}
	return p
}

// logged waits for a log line matching re and returns its first group.
func (p *detectProc) logged(re string) string {
	p.t.Helper()
	rx := regexp.MustCompile(re)
	var m []string
	p.poll("log line "+re, func() bool {
		m = rx.FindStringSubmatch(p.stderr.String())
		return m != nil
	})
	if len(m) > 1 {
		return m[1]
	}
	return m[0]
}

// poll waits for cond, failing the test if the process exits first or a
// deadline passes.
func (p *detectProc) poll(what string, cond func() bool) {
	p.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		select {
		case <-p.done:
			p.t.Fatalf("detect run exited (%d) while waiting for %s", p.code, what)
		default:
		}
		if time.Now().After(deadline) {
			p.t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// signal sends sig; stop sends SIGTERM and returns the exit code.
func (p *detectProc) signal(sig syscall.Signal) {
	if err := p.cmd.Process.Signal(sig); err != nil {
		p.t.Fatal(err)
	}
}

func (p *detectProc) stop() int {
	p.t.Helper()
	p.signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(30 * time.Second):
		p.t.Fatal("detect run did not stop on SIGTERM")
	}
	return p.code
}

// ready waits until /readyz answers 200: the followed files are open, so
// what is appended from now on is read.
func (p *detectProc) ready() {
	p.t.Helper()
	p.poll("/readyz", func() bool {
		resp, err := http.Get(p.http + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == 200
	})
}

// metric reads one sample from /metrics ("" labels: the sum of all).
func (p *detectProc) metric(name string) float64 {
	p.t.Helper()
	resp, err := http.Get(p.http + "/metrics")
	if err != nil {
		p.t.Fatal(err)
	}
	defer resp.Body.Close()
	var sum float64
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, name+" ") || strings.HasPrefix(line, name+"{") {
			v, _ := strconv.ParseFloat(line[strings.LastIndexByte(line, ' ')+1:], 64)
			sum += v
		}
	}
	return sum
}

const evilSenderRule = `title: %s
id: %s
logsource: {category: email}
detection:
  selection:
    sender|endswith: '@%s'
  condition: selection
level: high
`

func ruleFile(t *testing.T, path, title, id, domain string) {
	t.Helper()
	writeText(t, path, fmt.Sprintf(evilSenderRule, title, id, domain))
}

func writeText(t *testing.T, path, text string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}

// runFixture makes a rule directory with the Evil sender rule and an
// empty mail.log in a temporary directory.
func runFixture(t *testing.T) (dir, rules, log string) {
	t.Helper()
	dir = t.TempDir()
	rules = filepath.Join(dir, "rules")
	ruleFile(t, filepath.Join(rules, "evil.yml"), "Evil sender", "11111111-1111-4111-8111-111111111111", "evil.example")
	log = filepath.Join(dir, "mail.log")
	appendLines(t, log)
	return dir, rules, log
}

// reject is a Postfix reject line whose sender is s<n>@domain.
func reject(n int, domain string) string {
	return fmt.Sprintf("Nov 28 10:00:%02d mx postfix/smtpd[1]: NOQUEUE: reject: RCPT from unknown[203.0.113.9]: 554 5.7.1 <v@x.example>: Relay access denied; from=<s%d@%s> to=<v@x.example> proto=ESMTP helo=<h>", n%60, n, domain)
}

func appendLines(t *testing.T, path string, lines ...string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, l := range lines {
		fmt.Fprintln(f, l)
	}
}

// alertsBySender reads a JSON-lines alert file: alerts per sender.
func alertsBySender(t *testing.T, path string) map[string]int {
	t.Helper()
	out := map[string]int{}
	data, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return out
	}
	if err != nil {
		t.Fatal(err)
	}
	// Only whole lines: the file may be read while detect writes an alert
	// that spans a page boundary, and its first part can show up alone.
	if i := bytes.LastIndexByte(data, '\n'); i >= 0 {
		data = data[:i]
	} else {
		data = nil
	}
	for _, line := range strings.Split(string(data), "\n") {
		if line == "" {
			continue
		}
		var a struct {
			RuleTitle string `json:"rule_title"`
			Event     struct {
				Sender string `json:"sender"`
			} `json:"event"`
		}
		if err := json.Unmarshal([]byte(line), &a); err != nil {
			t.Fatalf("%s: %v: %s", path, err, line)
		}
		out[a.Event.Sender]++
	}
	return out
}

// exactlyOnce checks that senders s<from>..s<to-1>@domain have one alert
// each and nothing else is there.
func exactlyOnce(t *testing.T, got map[string]int, domain string, from, to int) {
	t.Helper()
	var bad []string
	for n := from; n < to; n++ {
		s := fmt.Sprintf("s%d@%s", n, domain)
		if got[s] != 1 {
			bad = append(bad, fmt.Sprintf("%s x%d", s, got[s]))
		}
	}
	for s := range got {
		var n int
		if _, err := fmt.Sscanf(s, "s%d@", &n); err != nil || n < from || n >= to || !strings.HasSuffix(s, "@"+domain) {
			bad = append(bad, s+" unexpected")
		}
	}
	sort.Strings(bad)
	if len(bad) > 0 {
		t.Errorf("alerts not exactly once: %v", bad)
	}
}

// waitAlerts polls the alert file until it holds n alerts.
func (p *detectProc) waitAlerts(path string, n int) map[string]int {
	p.t.Helper()
	var got map[string]int
	p.poll(fmt.Sprintf("%d alerts in %s", n, path), func() bool {
		got = alertsBySender(p.t, path)
		total := 0
		for _, c := range got {
			total += c
		}
		return total >= n
	})
	return got
}

// TestRunFollowsAcrossRotationAndListens: lines appended to a followed file,
// across a rotation by rename (with a late write to the old file) and one
// by copytruncate, and syslog over TCP (both framings) and UDP, each give
// one alert; SIGTERM exits 0.
func TestRunFollowsAcrossRotationAndListens(t *testing.T) {
	dir, rules, log := runFixture(t)
	alerts := filepath.Join(dir, "alerts.jsonl")
	appendLines(t, log, reject(999, "evil.example")) // before the start: not read
	p := startRun(t, "--rules", rules, "--follow", log, "--alerts", alerts, "--http", "127.0.0.1:0",
		"--syslog", "tcp://127.0.0.1:0", "--syslog", "udp://127.0.0.1:0")
	tcpAddr := p.logged(`addr=tcp://(\S+)`)
	udpAddr := p.logged(`addr=udp://(\S+)`)
	p.ready()

	appendLines(t, log, reject(0, "evil.example"), reject(1, "evil.example"))
	p.waitAlerts(alerts, 2)

	// Rename and create; the writer still has the old file open.
	old, err := os.OpenFile(log, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	os.Rename(log, log+".1")
	fmt.Fprintln(old, reject(2, "evil.example"))
	appendLines(t, log, reject(3, "evil.example"))
	fmt.Fprintln(old, reject(4, "evil.example"))
	old.Close()
	p.waitAlerts(alerts, 5)

	// Copytruncate.
	appendLines(t, log, reject(5, "evil.example"))
	data, _ := os.ReadFile(log)
	os.WriteFile(log+".2", data, 0o644)
	os.Truncate(log, 0)
	appendLines(t, log, reject(6, "evil.example"))
	p.waitAlerts(alerts, 7)

	tcp, err := net.Dial("tcp", tcpAddr)
	if err != nil {
		t.Fatal(err)
	}
	m7 := "<22>" + reject(7, "evil.example")
	fmt.Fprintf(tcp, "%d %s<22>%s\n", len(m7), m7, reject(8, "evil.example"))
	tcp.Close()
	udp, err := net.Dial("udp", udpAddr)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(udp, "<22>1 2026-11-28T10:00:00Z mx postfix/smtpd 1 - - %s", reject(9, "evil.example")[strings.Index(reject(9, "evil.example"), "NOQUEUE"):])
	udp.Close()
	p.waitAlerts(alerts, 10)
	if code := p.stop(); code != 0 {
		t.Errorf("exit %d after SIGTERM", code)
	}
	exactlyOnce(t, alertsBySender(t, alerts), "evil.example", 0, 10)
	if !strings.Contains(p.stderr.String(), "msg=stopped") {
		t.Error("no clean stop in the log")
	}
}

// TestRunReloadsRules: a new rule file fires within 2 s of being written;
// a broken one is rejected with its position (log, /metrics, POST
// /-/reload) while the old rules keep firing; SIGHUP reopens the alert file.
func TestRunReloadsRules(t *testing.T) {
	dir, rules, log := runFixture(t)
	alerts := filepath.Join(dir, "alerts.jsonl")
	p := startRun(t, "--rules", rules, "--follow", log, "--alerts", alerts, "--http", "127.0.0.1:0")
	p.ready()

	// A new rule, written as an editor does: a temporary file renamed.
	tmp := filepath.Join(rules, ".spam.yml.swp")
	ruleFile(t, tmp, "Spam sender", "44444444-4444-4444-8444-444444444444", "spam.example")
	written := time.Now()
	os.Rename(tmp, filepath.Join(rules, "spam.yml"))
	var fired time.Duration
	for n := 0; ; n++ {
		appendLines(t, log, reject(n, "spam.example"))
		if got := alertsBySender(t, alerts); len(got) > 0 {
			fired = time.Since(written)
			break
		}
		if time.Since(written) > 10*time.Second {
			t.Fatal("the new rule never fired")
		}
		time.Sleep(50 * time.Millisecond) // one probe line every 50ms
	}
	if fired > 2*time.Second {
		t.Errorf("the new rule fired %v after its file was written; want within 2s", fired)
	}
	t.Logf("new rule fired %v after the write", fired.Round(time.Millisecond))

	// A broken rule: the reload fails, the running set stays.
	writeText(t, filepath.Join(rules, "broken.yml"), "title: Broken\nid: 55555555-5555-4555-8555-555555555555\nlogsource: {category: email}\ndetection:\n  selection:\n    sender|nosuchmodifier: x\n  condition: selection\n")
	p.poll("reload failure in /metrics", func() bool {
		return p.metric("detect_rules_reloads_total{result=\"failure\"}") >= 1
	})
	if v := p.metric("detect_rules_last_reload_success"); v != 0 {
		t.Errorf("detect_rules_last_reload_success %v after a broken rule", v)
	}
	p.logged(`rule error: \S*broken.yml:6:`)
	os.Remove(alerts) // start counting afresh (the file is recreated on SIGHUP below)
	p.signal(syscall.SIGHUP)
	p.poll("second reload attempt", func() bool {
		return p.metric("detect_rules_reloads_total{result=\"failure\"}") >= 2
	})
	appendLines(t, log, reject(1000, "evil.example"))
	got := p.waitAlerts(alerts, 1)
	exactlyOnce(t, got, "evil.example", 1000, 1001)

	resp, err := http.Post(p.http+"/-/reload", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	var body struct {
		Success bool     `json:"success"`
		Errors  []string `json:"errors"`
	}
	json.NewDecoder(resp.Body).Decode(&body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnprocessableEntity || body.Success || !strings.Contains(strings.Join(body.Errors, "\n"), "broken.yml:6:") {
		t.Errorf("POST /-/reload: %d %+v", resp.StatusCode, body)
	}

	os.Remove(filepath.Join(rules, "broken.yml"))
	p.poll("a successful reload", func() bool { return p.metric("detect_rules_last_reload_success") == 1 })
	resp, err = http.Get(p.http + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	var health struct {
		Status string `json:"status"`
		Hash   string `json:"rules_hash"`
		Rules  int    `json:"rules"`
	}
	json.NewDecoder(resp.Body).Decode(&health)
	resp.Body.Close()
	if health.Status != "ok" || len(health.Hash) != 64 || health.Rules != 2 {
		t.Errorf("/healthz: %+v", health)
	}
	if code := p.stop(); code != 0 {
		t.Errorf("exit %d", code)
	}
}

// TestRunRestartsFromCheckpoint: lines written while detect was stopped,
// across a rotation, are read after the restart; no line gives two alerts
// and none is missed.
func TestRunRestartsFromCheckpoint(t *testing.T) {
	dir, rules, log := runFixture(t)
	alerts := filepath.Join(dir, "alerts.jsonl")
	state := filepath.Join(dir, "state.json")
	appendLines(t, log, reject(999, "evil.example"))
	args := []string{"--rules", rules, "--follow", log, "--alerts", alerts, "--state", state}
	var batch []string
	lines := func(from, to int) []string {
		batch = batch[:0]
		for n := from; n < to; n++ {
			batch = append(batch, reject(n, "evil.example"))
		}
		return batch
	}

	p := startRun(t, args...)
	p.logged(`msg="rules loaded"`)
	p.poll("checkpoint", func() bool { _, err := os.Stat(state); return err == nil })
	appendLines(t, log, lines(0, 50)...)
	p.waitAlerts(alerts, 50)
	appendLines(t, log, lines(50, 100)...) // may or may not be read before the stop
	if code := p.stop(); code != 0 {
		t.Fatalf("exit %d", code)
	}

	appendLines(t, log, lines(100, 150)...)
	os.Rename(log, log+".1")
	appendLines(t, log, lines(150, 200)...)

	p2 := startRun(t, args...)
	got := p2.waitAlerts(alerts, 200)
	if code := p2.stop(); code != 0 {
		t.Fatalf("exit %d", code)
	}
	exactlyOnce(t, got, "evil.example", 0, 200)
}

// TestRunWebhookDeadLetter: alerts go to the webhook until its receiver
// dies; the rest land in the dead-letter file; together they are every
// alert, once.
func TestRunWebhookDeadLetter(t *testing.T) {
	dir, rules, log := runFixture(t)
	dead := filepath.Join(dir, "dead.jsonl")

	var mu sync.Mutex
	received := map[string]int{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var a struct {
			Event struct {
				Sender string `json:"sender"`
			} `json:"event"`
		}
		json.NewDecoder(r.Body).Decode(&a)
		mu.Lock()
		received[a.Event.Sender]++
		mu.Unlock()
	}))
	p := startRun(t, "--rules", rules, "--follow", log, "--webhook", srv.URL, "--webhook-dead-letter", dead,
		"--webhook-retries", "1", "--http", "127.0.0.1:0")
	p.ready()
	for n := range 10 {
		appendLines(t, log, reject(n, "evil.example"))
	}
	p.poll("10 webhook deliveries", func() bool { return p.metric("detect_webhook_sent_total") == 10 })
	srv.CloseClientConnections()
	srv.Close()
	for n := 10; n < 20; n++ {
		appendLines(t, log, reject(n, "evil.example"))
	}
	p.poll("10 dead letters", func() bool { return p.metric("detect_webhook_dead_letter_total") == 10 })
	if code := p.stop(); code != 0 {
		t.Errorf("exit %d", code)
	}
	got := alertsBySender(t, dead)
	mu.Lock()
	for s, c := range received {
		got[s] += c
	}
	mu.Unlock()
	exactlyOnce(t, got, "evil.example", 0, 20)
}

func TestRunUsageErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"run"}, "no input"},
		{[]string{"run", "--follow", "x.log", "--syslog", "ftp://:1"}, "scheme"},
		{[]string{"run", "--follow", "x.log", "--format", "nope"}, "unknown --format"},
		{[]string{"run", "--follow", "x.log", "--webhook", "mailto:x"}, "not an http(s) URL"},
		{[]string{"run", "--follow", "x.log", "--rules", "testdata/does-not-exist"}, "does-not-exist"},
		{[]string{"run", "extra"}, "takes no arguments"},
	} {
		code, _, stderr := detect(t, "", tc.args...)
		if code != exitUsage || !strings.Contains(stderr, tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want 2 and %q", tc.args, code, stderr, tc.want)
		}
	}
}

// TestRunStdin: with stdin the only input, its end ends the run after
// every line was evaluated.
func TestRunStdin(t *testing.T) {
	dir := t.TempDir()
	rules := filepath.Join(dir, "rules")
	ruleFile(t, filepath.Join(rules, "evil.yml"), "Evil sender", "11111111-1111-4111-8111-111111111111", "evil.example")
	in := reject(1, "evil.example") + "\n" + reject(2, "good.example") + "\n" + reject(3, "evil.example") + "\n"
	code, stdout, stderr := detect(t, in, "run", "--rules", rules, "--follow", "-")
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	if n := strings.Count(stdout, `"rule_title":"Evil sender"`); n != 2 {
		t.Errorf("%d alerts on stdout, want 2:\n%s", n, stdout)
	}
}

// TestRunSignalsWhileLoading: SIGHUP (logrotate, systemctl reload) that
// arrives while the rules are still loading does not kill detect; it is
// handled once detect runs. SIGTERM then stops it with exit 0.
func TestRunSignalsWhileLoading(t *testing.T) {
	dir := t.TempDir()
	log := filepath.Join(dir, "mail.log")
	appendLines(t, log)
	p := startRun(t, "--follow", log, "--alerts", filepath.Join(dir, "alerts.jsonl"))
	p.logged(`msg="loading rules"`)
	p.signal(syscall.SIGHUP)
	p.logged(`msg="rules unchanged" why=request`) // the SIGHUP's reload, after the start
	if code := p.stop(); code != 0 {
		t.Errorf("exit %d after SIGTERM", code)
	}
}

// TestRunHelp: `detect run --help` teaches the command: examples, exit
// status, and where the year of RFC 3164 stamps comes from when running
// live (the clock, not a file's modification time as in scan).
func TestRunHelp(t *testing.T) {
	code, stdout, _ := detect(t, "", "run", "--help")
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	for _, want := range []string{"Examples:", "Exit status: 0 after a graceful stop", "2 bad usage",
		"--follow PATH", "--syslog ADDR", "--state FILE", "--webhook-retries N", "the clock's year"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("run --help lacks %q", want)
		}
	}
	if strings.Contains(stdout, "modification time") {
		t.Error("run --help says the year comes from a file's modification time; run takes it from the clock")
	}
}

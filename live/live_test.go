package live

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fsnotify/fsnotify"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/detect-dev/detect/follow"
	"github.com/detect-dev/detect/live/sink"
	"github.com/detect-dev/detect/schema"

	_ "github.com/detect-dev/detect/normalize/postfix"
)

// evilRule fires on every reject line of rejectLine.
const evilRule = `title: %s
id: 11111111-1111-4111-8111-111111111111
logsource: {category: email}
detection:
  selection:
    sender|endswith: '@evil.example'
  condition: selection
level: high
`

// rejectLine is a Postfix reject whose sender carries n, so each line's
// alert can be told apart.
func rejectLine(n int) string {
	return fmt.Sprintf("Nov 28 10:%02d:%02d mx postfix/smtpd[1]: NOQUEUE: reject: RCPT from unknown[203.0.113.%d]: 554 5.7.1 <v@x.example>: Relay access denied; from=<s%d@evil.example> to=<v@x.example> proto=ESMTP helo=<h>",
		n/60%60, n%60, n%200+1, n)
}

func writeFile(t testing.TB, path, text string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}

// collector is a sink that hands alerts to the test.
type collector struct {
	ch chan *schema.Alert
}

func (c *collector) Name() string                { return "test" }
func (c *collector) Write(a *schema.Alert) error { c.ch <- a; return nil }
func (c *collector) Close() error                { return nil }

// alerts waits for n alerts.
func (c *collector) alerts(t *testing.T, n int) []*schema.Alert {
	t.Helper()
	var out []*schema.Alert
	deadline := time.After(20 * time.Second)
	for len(out) < n {
		select {
		case a := <-c.ch:
			out = append(out, a)
		case <-deadline:
			t.Fatalf("got %d of %d alerts", len(out), n)
		}
	}
	return out
}

// none asserts that no alert is pending once the runner has evaluated
// events events.
func (c *collector) none(t *testing.T, r *Runner, events int) {
	t.Helper()
	waitFor(t, fmt.Sprintf("%d events", events), func() bool { return metricValue(r.m.events) >= float64(events) })
	select {
	case a := <-c.ch:
		t.Fatalf("unexpected alert %s: %s", a.RuleTitle, a.Message)
	default:
	}
}

// metricValue sums the values a counter or gauge collects.
func metricValue(c prometheus.Collector) float64 {
	ch := make(chan prometheus.Metric, 16)
	c.Collect(ch)
	close(ch)
	var sum float64
	for m := range ch {
		var d dto.Metric
		m.Write(&d)
		sum += d.GetCounter().GetValue() + d.GetGauge().GetValue()
	}
	return sum
}

// waitFor polls cond until it holds or a deadline passes.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// running starts r and returns a function that stops it and waits.
func running(t *testing.T, r *Runner) func() {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()
	var once sync.Once
	stop := func() {
		once.Do(func() {
			cancel()
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("Run: %v", err)
				}
			case <-time.After(30 * time.Second):
				t.Error("Run did not return")
			}
		})
	}
	t.Cleanup(stop)
	return stop
}

const burstBase = `title: Reject from a client
id: 22222222-2222-4222-8222-222222222222
name: client_reject
logsource: {category: email}
detection:
  selection:
    event_type: reject
  condition: selection
generate: false
level: informational
---
title: Reject burst
id: 33333333-3333-4333-8333-333333333333
correlation:
  type: event_count
  rules: [client_reject]
  group-by: [recipient]
  timespan: %s
  condition: {gte: 5}
level: high
`

// TestReloadKeepsWindowState: a reload that leaves a correlation rule as it
// was keeps its counts (four rejects before the reload and one after make
// five); a reload that changes it starts it afresh.
func TestReloadKeepsWindowState(t *testing.T) {
	for _, tc := range []struct {
		name     string
		timespan string // after the reload
		fires    bool
	}{
		{"unchanged correlation carries its count", "10m", true},
		{"changed correlation starts empty", "11m", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			rules := filepath.Join(dir, "rules")
			writeFile(t, filepath.Join(rules, "burst.yml"), fmt.Sprintf(burstBase, "10m"))
			writeFile(t, filepath.Join(rules, "other.yml"), strings.ReplaceAll(fmt.Sprintf(evilRule, "Other"), "@evil.example", "@nobody.example"))
			log := filepath.Join(dir, "mail.log")
			writeFile(t, log, "")
			col := &collector{ch: make(chan *schema.Alert, 10)}
			r, err := New(Config{Follow: []string{log}, FollowOptions: follow.Options{Poll: 10 * time.Millisecond},
				Rules: RuleSource{Dirs: []string{rules}}, Sinks: []sink.Sink{col}})
			if err != nil {
				t.Fatal(err)
			}
			running(t, r)
			waitFor(t, "ready", r.Ready)
			f, _ := os.OpenFile(log, os.O_APPEND|os.O_WRONLY, 0)
			defer f.Close()
			for i := range 4 {
				fmt.Fprintln(f, rejectLine(i))
			}
			col.none(t, r, 4)

			// The reload changes the other rule, and maybe the burst.
			writeFile(t, filepath.Join(rules, "other.yml"), strings.ReplaceAll(fmt.Sprintf(evilRule, "Other v2"), "@evil.example", "@nobody.example"))
			writeFile(t, filepath.Join(rules, "burst.yml"), fmt.Sprintf(burstBase, tc.timespan))
			o, err := r.Reload(context.Background())
			if err != nil || !o.OK() || !o.Changed {
				t.Fatalf("reload: %+v, %v", o, err)
			}
			fmt.Fprintln(f, rejectLine(4))
			if tc.fires {
				a := col.alerts(t, 1)[0]
				if a.RuleTitle != "Reject burst" || a.Count != 5 {
					t.Errorf("alert %s, count %d; want Reject burst over 5 events", a.RuleTitle, a.Count)
				}
			} else {
				col.none(t, r, 5)
			}
		})
	}
}

// TestReloadRejectsBrokenAndFailingSets: a set that does not compile, or
// fails its cases with Cases set, is not used; the running set keeps
// firing and the metrics say the reload failed.
func TestReloadRejectsBrokenAndFailingSets(t *testing.T) {
	dir := t.TempDir()
	rules := filepath.Join(dir, "rules")
	cases := filepath.Join(dir, "cases")
	writeFile(t, filepath.Join(rules, "evil.yml"), fmt.Sprintf(evilRule, "Evil sender"))
	writeFile(t, filepath.Join(cases, "evil.yml"), `rule: 11111111-1111-4111-8111-111111111111
cases:
  - name: evil fires
    events: [{sender: a@evil.example}]
    expect: {alerts: 1}
  - name: good stays quiet
    events: [{sender: a@good.example}]
    expect: {alerts: 0}
`)
	log := filepath.Join(dir, "mail.log")
	writeFile(t, log, "")
	col := &collector{ch: make(chan *schema.Alert, 10)}
	r, err := New(Config{Follow: []string{log}, FollowOptions: follow.Options{Poll: 10 * time.Millisecond},
		Rules: RuleSource{Dirs: []string{rules}, Cases: cases}, Sinks: []sink.Sink{col}})
	if err != nil {
		t.Fatal(err)
	}
	running(t, r)
	first := r.Rules().Hash

	// Does not compile: an unknown modifier, reported at its position.
	writeFile(t, filepath.Join(rules, "evil.yml"), strings.Replace(fmt.Sprintf(evilRule, "Evil sender"), "endswith", "endswithh", 1))
	o, _ := r.Reload(context.Background())
	if o.OK() || !strings.Contains(strings.Join(o.Errors, "\n"), "evil.yml:6:") {
		t.Errorf("broken rule: %+v", o)
	}
	if metricValue(r.m.reloadSuccess) != 0 {
		t.Error("detect_rules_last_reload_success is not 0 after a failed reload")
	}
	// Compiles, but fails its cases: it now fires on good.example too.
	writeFile(t, filepath.Join(rules, "evil.yml"), strings.Replace(fmt.Sprintf(evilRule, "Evil sender"), "'@evil.example'", "['@evil.example', '@good.example']", 1))
	o, _ = r.Reload(context.Background())
	if o.OK() || !strings.Contains(strings.Join(o.Errors, "\n"), "good stays quiet") {
		t.Errorf("failing cases: %+v", o)
	}
	if r.Rules().Hash != first {
		t.Error("the running set changed after failed reloads")
	}
	f, _ := os.OpenFile(log, os.O_APPEND|os.O_WRONLY, 0)
	defer f.Close()
	fmt.Fprintln(f, rejectLine(7))
	if a := col.alerts(t, 1)[0]; a.RuleTitle != "Evil sender" {
		t.Errorf("alert from %q", a.RuleTitle)
	}
	// Fixed: the reload succeeds and the metric says so.
	writeFile(t, filepath.Join(rules, "evil.yml"), fmt.Sprintf(evilRule, "Evil sender, fixed"))
	if o, _ = r.Reload(context.Background()); !o.OK() || !o.Changed {
		t.Errorf("fixed rule: %+v", o)
	}
	if metricValue(r.m.reloadSuccess) != 1 || metricValue(r.m.reloads.WithLabelValues("failure")) != 2 {
		t.Error("reload metrics do not show 2 failures and a success")
	}
}

// TestCheckpointWaitsForWebhook: the checkpoint does not move past a line
// whose alert the webhook still holds (a crash then would lose it); once
// the receiver takes the alert, it does.
func TestCheckpointWaitsForWebhook(t *testing.T) {
	dir := t.TempDir()
	rules := filepath.Join(dir, "rules")
	writeFile(t, filepath.Join(rules, "evil.yml"), fmt.Sprintf(evilRule, "Evil sender"))
	log := filepath.Join(dir, "mail.log")
	state := filepath.Join(dir, "state.json")
	writeFile(t, log, "")
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-release }))
	defer srv.Close()
	defer close(release)
	hook, err := sink.NewWebhook(sink.WebhookOptions{URL: srv.URL, DeadLetter: filepath.Join(dir, "dead.jsonl")})
	if err != nil {
		t.Fatal(err)
	}
	r, err := New(Config{Follow: []string{log}, FollowOptions: follow.Options{Poll: 10 * time.Millisecond},
		StateFile: state, CheckpointEvery: 10 * time.Millisecond,
		Rules: RuleSource{Dirs: []string{rules}}, Sinks: []sink.Sink{hook}})
	if err != nil {
		t.Fatal(err)
	}
	running(t, r)
	waitFor(t, "ready", r.Ready)
	line := rejectLine(1) + "\n"
	f, _ := os.OpenFile(log, os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString(line)
	f.Close()
	offset := func() int64 {
		cp, err := follow.ReadCheckpoint(state)
		if err != nil || cp == nil || len(cp.Files) != 1 {
			return -1
		}
		return cp.Files[0].Offset
	}
	waitFor(t, "the line evaluated", func() bool { return metricValue(r.m.events) == 1 })
	writes := metricValue(r.m.checkpointWrites)
	waitFor(t, "more checkpoint ticks", func() bool {
		return hook.QueueLen() == 0 && metricValue(r.m.checkpointWrites) >= writes && offset() >= 0
	})
	// Several ticks pass with the alert in flight: the position stays.
	for range 5 {
		before := metricValue(r.m.checkpointWrites)
		time.Sleep(20 * time.Millisecond) // two checkpoint periods
		if off := offset(); off != 0 {
			t.Fatalf("checkpoint at offset %d while the line's alert is undelivered (writes %v -> %v)", off, before, metricValue(r.m.checkpointWrites))
		}
	}
	release <- struct{}{}
	waitFor(t, "the checkpoint past the line", func() bool { return offset() == int64(len(line)) })
}

// watchTree runs a tree watcher on root for the test; the function it
// returns waits for the watcher to report a change after what the test
// did.
func watchTree(t *testing.T, root string) func(what string) {
	t.Helper()
	tw, err := newTreeWatcher([]watchRoot{{path: root, recursive: true}}, 20*time.Millisecond, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	changed := make(chan struct{}, 10)
	go tw.run(ctx, func() { changed <- struct{}{} })
	return func(what string) {
		t.Helper()
		select {
		case <-changed:
		case <-time.After(10 * time.Second):
			t.Fatalf("no change seen after %s", what)
		}
	}
}

// TestTreeWatcherSeesReplacedDirectories: a rule tree whose subdirectory
// is removed and created again (as git checkout does) is still watched.
func TestTreeWatcherSeesReplacedDirectories(t *testing.T) {
	root := filepath.Join(t.TempDir(), "rules")
	writeFile(t, filepath.Join(root, "sub", "a.yml"), "a")
	wait := watchTree(t, root)
	os.RemoveAll(filepath.Join(root, "sub"))
	wait("removing sub/")
	writeFile(t, filepath.Join(root, "sub", "deeper", "b.yml"), "b")
	wait("creating sub/deeper/b.yml")
	// The new directories have watches now: an edit deep inside is seen.
	writeFile(t, filepath.Join(root, "sub", "deeper", "b.yml"), "b2")
	wait("editing sub/deeper/b.yml")
	// The whole root replaced.
	os.Rename(root, root+".old")
	writeFile(t, filepath.Join(root, "c.yml"), "c")
	wait("replacing the root")
	writeFile(t, filepath.Join(root, "c.yml"), "c2")
	wait("editing the new root's file")
}

// TestWatchRootsOfDataFiles: of a data file's directory only the data
// file matters; the checkpoint and the alert file often sit beside it,
// and their writes must not set off reloads.
func TestWatchRootsOfDataFiles(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "site.yaml")
	tw := &treeWatcher{roots: RuleSource{Dirs: []string{filepath.Join(dir, "rules")}, DataFiles: []string{data}}.watchRoots()}
	for _, tc := range []struct {
		name string
		want bool
	}{
		{data, true},
		{filepath.Join(dir, "state.json"), false},
		{filepath.Join(dir, ".state.json.123"), false},
		{filepath.Join(dir, "alerts.jsonl"), false},
		{filepath.Join(dir, "rules", "x.yml"), true},
		{filepath.Join(dir, "rules"), true},
	} {
		for _, op := range []fsnotify.Op{fsnotify.Write, fsnotify.Create, fsnotify.Rename} {
			if got := tw.relevant(fsnotify.Event{Name: tc.name, Op: op}); got != tc.want {
				t.Errorf("%s %s: relevant %v, want %v", op, tc.name, got, tc.want)
			}
		}
	}
}

// TestTreeWatcherAfterParentRename: a directory renamed with a
// subdirectory inside it, and the old names created again: the new
// subdirectory is watched, though a watch under its name existed (on the
// moved one).
func TestTreeWatcherAfterParentRename(t *testing.T) {
	root := filepath.Join(t.TempDir(), "rules")
	writeFile(t, filepath.Join(root, "a", "b", "x.yml"), "x")
	wait := watchTree(t, root)
	if err := os.Rename(filepath.Join(root, "a"), filepath.Join(root, "c")); err != nil {
		t.Fatal(err)
	}
	wait("renaming a/ to c/")
	writeFile(t, filepath.Join(root, "a", "b", "y.yml"), "y")
	wait("creating a/b/y.yml")
	writeFile(t, filepath.Join(root, "a", "b", "y.yml"), "y2")
	wait("editing a/b/y.yml")
}

// TestTreeWatcherFollowsSwitchedSymlink: a rule tree that is a symlink
// to a release directory is watched inside its target, and at its new
// target once the link is switched (ln -sfn).
func TestTreeWatcherFollowsSwitchedSymlink(t *testing.T) {
	dir := t.TempDir()
	root := filepath.Join(dir, "rules")
	writeFile(t, filepath.Join(dir, "v1", "x.yml"), "x")
	writeFile(t, filepath.Join(dir, "v2", "x.yml"), "x")
	if err := os.Symlink(filepath.Join(dir, "v1"), root); err != nil {
		t.Skip("no symlinks here:", err)
	}
	wait := watchTree(t, root)
	writeFile(t, filepath.Join(dir, "v1", "x.yml"), "x1")
	wait("editing v1/x.yml through the link")
	// ln -sfn: a new link renamed over the old one.
	if err := os.Symlink(filepath.Join(dir, "v2"), root+".new"); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(root+".new", root); err != nil {
		t.Fatal(err)
	}
	wait("switching the link to v2")
	writeFile(t, filepath.Join(dir, "v2", "x.yml"), "x2")
	wait("editing v2/x.yml through the link")
}

// TestReloadAfterStop: a reload asked of a stopped runner (POST /-/reload
// during shutdown) is refused at once instead of waiting for its context.
func TestReloadAfterStop(t *testing.T) {
	dir := t.TempDir()
	rules := filepath.Join(dir, "rules")
	writeFile(t, filepath.Join(rules, "evil.yml"), fmt.Sprintf(evilRule, "Evil sender"))
	log := filepath.Join(dir, "mail.log")
	writeFile(t, log, "")
	r, err := New(Config{Follow: []string{log}, Rules: RuleSource{Dirs: []string{rules}},
		Sinks: []sink.Sink{&collector{ch: make(chan *schema.Alert, 1)}}})
	if err != nil {
		t.Fatal(err)
	}
	running(t, r)()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if _, err := r.Reload(ctx); !errors.Is(err, ErrStopped) {
		t.Errorf("Reload after stop: %v, want ErrStopped", err)
	}
}

// TestNewRefusesUnwritableState: a checkpoint that could never be written
// (its directory is missing) is an error at start; a restart would
// otherwise lose its place with nothing but a log line to say so.
func TestNewRefusesUnwritableState(t *testing.T) {
	dir := t.TempDir()
	rules := filepath.Join(dir, "rules")
	writeFile(t, filepath.Join(rules, "evil.yml"), fmt.Sprintf(evilRule, "Evil sender"))
	log := filepath.Join(dir, "mail.log")
	writeFile(t, log, "")
	_, err := New(Config{Follow: []string{log}, StateFile: filepath.Join(dir, "no-such-dir", "state.json"),
		Rules: RuleSource{Dirs: []string{rules}}})
	if err == nil || !strings.Contains(err.Error(), "no-such-dir") {
		t.Errorf("New with a state file in a missing directory: %v", err)
	}
	state := filepath.Join(dir, "state.json")
	if _, err := New(Config{Follow: []string{log}, StateFile: state, Rules: RuleSource{Dirs: []string{rules}}}); err != nil {
		t.Errorf("New with a writable state file: %v", err)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 2 {
		t.Errorf("the check left files behind: %v", ents)
	}
}

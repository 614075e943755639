package live

import (
	"context"
	"fmt"
	"net"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/detect-dev/detect/live/sink"
	"github.com/detect-dev/detect/schema"
	"github.com/detect-dev/detect/syslogd"
)

// counter is a sink that counts the alerts of each line, by the number in
// its sender, and the alerts of each rule title.
type counter struct {
	seen    []uint8
	bad     int
	byTitle map[string]int
	total   int
	mu      sync.Mutex // total is read by the test while the collector writes
}

func (c *counter) Name() string { return "count" }
func (c *counter) Close() error { return nil }
func (c *counter) Write(a *schema.Alert) error {
	n, err := strconv.Atoi(strings.TrimSuffix(strings.TrimPrefix(a.Event.Sender, "s"), "@evil.example"))
	if err != nil || n < 0 || n >= len(c.seen) {
		c.bad++
	} else if c.seen[n] < 255 {
		c.seen[n]++
	}
	c.byTitle[a.RuleTitle]++
	c.mu.Lock()
	c.total++
	c.mu.Unlock()
	return nil
}

func (c *counter) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.total
}

// TestLoadSyslogWithReloads sends a million syslog lines over loopback TCP
// (four connections, octet-counted and LF-framed, RFC 3164 and RFC 5424)
// while the rules are reloaded 20 times, and checks every line gave
// exactly one alert: none lost in a swap, none evaluated twice. Under the
// race detector or -short it sends 100,000. The throughput it logs is the
// README's figure.
func TestLoadSyslogWithReloads(t *testing.T) {
	lines := 1_000_000
	if raceEnabled || testing.Short() {
		lines = 100_000
	}
	const reloads = 20
	const conns = 4
	dir := t.TempDir()
	rules := filepath.Join(dir, "rules")
	writeFile(t, filepath.Join(rules, "evil.yml"), fmt.Sprintf(evilRule, "Evil sender v0"))
	count := &counter{seen: make([]uint8, lines), byTitle: map[string]int{}}
	r, err := New(Config{
		Syslog: []syslogd.Addr{{Network: "tcp", Address: "127.0.0.1:0"}},
		Rules:  RuleSource{Dirs: []string{rules}},
		Sinks:  []sink.Sink{count},
	})
	if err != nil {
		t.Fatal(err)
	}
	stop := running(t, r)
	addr := strings.TrimPrefix(r.SyslogAddrs()[0], "tcp://")

	// The stream of each connection is made before the clock starts, so
	// the figure is detect's, not the test's formatting.
	payloads := make([][]byte, conns)
	for c := range conns {
		var b strings.Builder
		for n := c; n < lines; n += conns {
			msg := "<22>" + rejectLine(n)
			if n%3 == 0 {
				msg = "<22>1 2026-11-28T10:00:00Z mx postfix/smtpd 1 - - " + msg[strings.Index(msg, "NOQUEUE"):]
			}
			if c%2 == 0 {
				fmt.Fprintf(&b, "%d %s", len(msg), msg)
			} else {
				b.WriteString(msg + "\n")
			}
		}
		payloads[c] = []byte(b.String())
	}
	start := time.Now()
	var senders sync.WaitGroup
	for c := range conns {
		senders.Add(1)
		go func() {
			defer senders.Done()
			conn, err := net.Dial("tcp", addr)
			if err != nil {
				t.Error(err)
				return
			}
			defer conn.Close()
			if _, err := conn.Write(payloads[c]); err != nil {
				t.Error(err)
			}
		}()
	}

	// Reload as the alerts come in, spread over the stream.
	for i := 1; i <= reloads; i++ {
		for count.count() < i*lines/(reloads+2) {
			time.Sleep(time.Millisecond) // polls the sink's progress
			if time.Since(start) > 2*time.Minute {
				t.Fatalf("stalled at %d of %d alerts", count.count(), lines)
			}
		}
		writeFile(t, filepath.Join(rules, "evil.yml"), fmt.Sprintf(evilRule, fmt.Sprintf("Evil sender v%d", i)))
		if o, err := r.Reload(context.Background()); err != nil || !o.OK() || !o.Changed {
			t.Fatalf("reload %d: %+v, %v", i, o, err)
		}
	}
	senders.Wait()
	waitFor(t, "every alert", func() bool { return count.count() >= lines })
	elapsed := time.Since(start)
	stop()

	missing, twice := 0, 0
	for _, c := range count.seen {
		switch {
		case c == 0:
			missing++
		case c > 1:
			twice++
		}
	}
	if missing > 0 || twice > 0 || count.bad > 0 || count.total != lines {
		t.Errorf("%d lines: %d without an alert, %d with more than one, %d unreadable, %d alerts in all", lines, missing, twice, count.bad, count.total)
	}
	if got := metricValue(r.m.lines); got != float64(lines) {
		t.Errorf("detect_lines_total %v, want %d", got, lines)
	}
	if got := metricValue(r.m.reloads); got != reloads {
		t.Errorf("%v reloads counted, want %d", got, reloads)
	}
	if len(count.byTitle) < 2 {
		t.Errorf("alerts came from %d rule version(s); the reloads did not take effect: %v", len(count.byTitle), count.byTitle)
	}
	t.Logf("%d syslog lines over %d TCP connections, %d reloads: %v, %.0f lines/s (GOMAXPROCS %d, race %v)",
		lines, conns, reloads, elapsed.Round(time.Millisecond), float64(lines)/elapsed.Seconds(), runtime.GOMAXPROCS(0), raceEnabled)
}

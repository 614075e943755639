package postfixgen_test

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"testing"
	"time"

	"github.com/detect-dev/detect/bench/postfixgen"
	"github.com/detect-dev/detect/engine"
	_ "github.com/detect-dev/detect/normalize/postfix"
	"github.com/detect-dev/detect/pipeline"
	"github.com/detect-dev/detect/schema"
	"github.com/detect-dev/detect/source"
)

// smallConfig has the line density of the benchmark's 2.27 M lines over
// a week (about 13,500 lines an hour), over six hours.
func smallConfig(seed uint64) postfixgen.Config {
	return postfixgen.Config{
		Lines: 81_000,
		Seed:  seed,
		Start: time.Date(2026, 11, 23, 6, 0, 0, 0, time.UTC),
		Span:  6 * time.Hour,
	}
}

func generate(t *testing.T, cfg postfixgen.Config) ([]byte, postfixgen.Counts) {
	t.Helper()
	var b bytes.Buffer
	c, err := postfixgen.Generate(&b, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return b.Bytes(), c
}

func TestSameConfigSameBytes(t *testing.T) {
	a, ca := generate(t, smallConfig(1))
	b, cb := generate(t, smallConfig(1))
	if !bytes.Equal(a, b) || ca != cb {
		t.Fatal("two runs with the same config differ")
	}
	c, _ := generate(t, smallConfig(2))
	if bytes.Equal(a, c) {
		t.Fatal("another seed gave the same log")
	}
}

// TestShape checks the log is in time order, about as long as asked, from
// several hosts, with queue ids of different messages interleaved.
func TestShape(t *testing.T) {
	cfg := smallConfig(3)
	log, counts := generate(t, cfg)
	if counts.Lines < cfg.Lines || counts.Lines > cfg.Lines+200 {
		t.Errorf("%d lines, asked for about %d", counts.Lines, cfg.Lines)
	}
	sc := bufio.NewScanner(bytes.NewReader(log))
	var prev time.Time
	hosts := map[string]bool{}
	n, interleaved := 0, 0
	lastQID := ""
	for sc.Scan() {
		line := sc.Text()
		n++
		fields := bytes.Fields([]byte(line))
		ts, err := time.Parse(time.RFC3339Nano, string(fields[0]))
		if err != nil {
			t.Fatalf("line %d: %v", n, err)
		}
		if ts.Before(prev) {
			t.Fatalf("line %d goes back in time: %s after %s", n, ts, prev)
		}
		prev = ts
		hosts[string(fields[1])] = true
		if len(fields) > 3 && bytes.HasSuffix(fields[3], []byte(":")) && len(fields[3]) >= 11 {
			qid := string(fields[3][:len(fields[3])-1])
			if lastQID != "" && qid != lastQID {
				interleaved++
			}
			lastQID = qid
		}
	}
	if n != counts.Lines {
		t.Errorf("counted %d lines, the generator says %d", n, counts.Lines)
	}
	if len(hosts) != 3 {
		t.Errorf("hosts %v, want 3", hosts)
	}
	if ts := prev.Sub(cfg.Start); ts < cfg.Span*8/10 || ts > cfg.Span*12/10 {
		t.Errorf("log spans %v, asked for about %v", ts, cfg.Span)
	}
	if interleaved < counts.Received()/4 {
		t.Errorf("queue ids switch only %d times for %d messages: not interleaved", interleaved, counts.Received())
	}
}

// TestCountsAreTrue runs the log through the Postfix parser: every line is
// understood or known noise, and the events match the generator's counts.
func TestCountsAreTrue(t *testing.T) {
	log, c := generate(t, smallConfig(4))
	byKind := map[string]int{}
	subjects, attachments := 0, 0
	st, err := pipeline.Run(context.Background(), pipeline.Config{
		Inputs: []source.Input{{Path: "mail.log"}},
		Format: "postfix",
		Open:   memOpen(log),
		OnEvent: func(e *schema.Event) error {
			byKind[e.EventType+"/"+e.Action]++
			if e.EventType == schema.TypeDelivery && e.Subject != "" {
				subjects++
			}
			if e.EventType == schema.TypeDelivery && len(e.AttachmentName) > 0 {
				attachments++
			}
			return nil
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if st.NotUnderstood != 0 {
		t.Errorf("%d lines not understood, e.g. %+v", st.NotUnderstood, st.Samples)
	}
	for _, w := range []struct {
		kind string
		want int
	}{
		{"delivery/delivered", c.Delivered},
		{"delivery/deferred", c.Deferrals},
		{"delivery/bounced", c.Bounced},
		{"reject/rejected", c.Rejected},
		{"auth/failed", c.AuthFailures},
		{"auth/succeeded", c.AuthSuccesses},
	} {
		if byKind[w.kind] != w.want {
			t.Errorf("%s: parser found %d, generator wrote %d", w.kind, byKind[w.kind], w.want)
		}
	}
	if c.Subjects == 0 || c.Attachments == 0 || subjects == 0 || attachments == 0 {
		t.Errorf("header_checks: %d subjects and %d attachments written, %d and %d deliveries carry them",
			c.Subjects, c.Attachments, subjects, attachments)
	}
	if c.DeferredMessages == 0 || c.Deferrals <= c.DeferredMessages || c.Notifications == 0 || c.FilterReinjected == 0 {
		t.Errorf("want retried deferrals, notifications and filtered mail: %+v", c)
	}
	if st.ParserStats["postfix."+"orphan_deliveries"] != 0 {
		t.Errorf("deliveries without their message: %v", st.ParserStats)
	}
}

func memOpen(b []byte) func(source.Input) (io.ReadCloser, error) {
	return func(source.Input) (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil }
}

// scanAlerts runs rules over a log and returns the alert count per rule id.
func scanAlerts(t *testing.T, rs *engine.Ruleset, log []byte) map[string]int {
	t.Helper()
	st, err := pipeline.Run(context.Background(), pipeline.Config{
		Inputs: []source.Input{{Path: "mail.log"}},
		Format: "postfix",
		Rules:  rs,
		Open:   memOpen(log),
	})
	if err != nil {
		t.Fatal(err)
	}
	return st.AlertsByRule
}

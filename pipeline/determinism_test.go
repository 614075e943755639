package pipeline

import (
	"bytes"
	"context"
	"io"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/detect-dev/detect/bench/postfixgen"
	"github.com/detect-dev/detect/engine"
	_ "github.com/detect-dev/detect/normalize/postfix"
	"github.com/detect-dev/detect/output"
	"github.com/detect-dev/detect/rules"
	"github.com/detect-dev/detect/schema"
	"github.com/detect-dev/detect/source"
)

// TestPackSameBytesWithAnyWorkers runs the embedded rule pack (Sigma,
// Rego, correlations and windowed rules) over a generated Postfix log with
// planted attacks, split into two rotated files, and requires the alerts
// and the events, as written by the output package, to be the same bytes
// with 1, 2 and 7 workers.
func TestPackSameBytesWithAnyWorkers(t *testing.T) {
	rs, err := engine.Load(engine.Source{FS: rules.FS(), Display: rules.Display})
	if err != nil {
		t.Fatal(err)
	}
	if !rs.Stateful() {
		t.Fatal("the pack has no correlation rules: this test would not cover them")
	}
	var log bytes.Buffer
	_, err = postfixgen.Generate(&log, postfixgen.Config{
		Lines: 60_000, Seed: 11, Span: 4 * time.Hour,
		Start: time.Date(2026, 11, 24, 8, 0, 0, 0, time.UTC),
		Plant: postfixgen.DefaultPlant,
	})
	if err != nil {
		t.Fatal(err)
	}
	// Cut at a line boundary in the middle: messages straddle the cut.
	cut := bytes.IndexByte(log.Bytes()[log.Len()/2:], '\n') + log.Len()/2 + 1
	files := map[string]string{"mail.log.1": log.String()[:cut], "mail.log": log.String()[cut:]}

	var first string
	for _, workers := range []int{1, 2, 7} {
		var alerts, events bytes.Buffer
		aw, err := output.NewAlertWriter(&alerts, output.JSONL)
		if err != nil {
			t.Fatal(err)
		}
		ew := output.NewEventWriter(&events)
		st, err := Run(context.Background(), Config{
			Inputs:  []source.Input{{Path: "mail.log.1"}, {Path: "mail.log"}},
			Format:  "auto",
			Rules:   rs,
			Workers: workers,
			OnEvent: ew.Write,
			OnAlert: aw.Write,
			Open:    memOpen(files),
		})
		if err != nil {
			t.Fatal(err)
		}
		if err := aw.Close(); err != nil {
			t.Fatal(err)
		}
		if err := ew.Flush(); err != nil {
			t.Fatal(err)
		}
		correlated := 0
		for id, n := range st.AlertsByRule {
			if r, ok := rs.Rule(id); ok && r.Correlation() != nil {
				correlated += n
			}
		}
		if correlated == 0 || st.Alerts < 10 || st.Events < 5000 {
			t.Fatalf("workers=%d: %d alerts (%d correlated) on %d events: too few to compare", workers, st.Alerts, correlated, st.Events)
		}
		t.Logf("workers=%d: %d events, %d alerts (%d from correlations)", workers, st.Events, st.Alerts, correlated)
		got := alerts.String() + events.String()
		if first == "" {
			first = got
			continue
		}
		if got != first {
			t.Fatalf("workers=%d: output differs from workers=1 at byte %d", workers, firstDiff(got, first))
		}
	}
}

func firstDiff(a, b string) int {
	for i := 0; i < len(a) && i < len(b); i++ {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

// TestUnknownFormatIsNotReadToTheEnd checks that the reader stops reading
// a file once sniffing gave up on it, even though it reads ahead of the
// parser, and that the next file is read whole.
func TestUnknownFormatIsNotReadToTheEnd(t *testing.T) {
	var notes strings.Builder
	for notes.Len() < 4<<20 {
		notes.WriteString("# a line of prose that names no log format at all\n")
	}
	var read atomic.Int64
	files := map[string]string{"notes.md": notes.String(), "events": "{\"size\":7}\n{\"size\":8}\n"}
	var sizes []int64
	st, err := Run(context.Background(), Config{
		Inputs: []source.Input{{Path: "notes.md"}, {Path: "events"}},
		Open: func(in source.Input) (io.ReadCloser, error) {
			rc, err := memOpen(files)(in)
			if err != nil || in.Path != "notes.md" {
				return rc, err
			}
			return countingReadCloser{rc, &read}, nil
		},
		OnEvent: func(e *schema.Event) error { sizes = append(sizes, e.Size); return nil },
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(st.Skipped) != 1 || st.SkippedLines != sniffLines || st.Lines != sniffLines+2 {
		t.Errorf("skipped %+v, %d skipped lines of %d", st.Skipped, st.SkippedLines, st.Lines)
	}
	if len(sizes) != 2 || sizes[0] != 7 || sizes[1] != 8 {
		t.Errorf("events of the next file: %v", sizes)
	}
	if n := read.Load(); n > int64(notes.Len())/2 {
		t.Errorf("read %d of %d bytes of a file of unknown format", n, notes.Len())
	}
}

type countingReadCloser struct {
	io.ReadCloser
	n *atomic.Int64
}

func (c countingReadCloser) Read(p []byte) (int, error) {
	n, err := c.ReadCloser.Read(p)
	c.n.Add(int64(n))
	return n, err
}

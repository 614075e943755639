package pipeline

import (
	"context"
	"errors"
	"io"
	"strconv"
	"strings"
	"testing"

	"github.com/detect-dev/detect/engine"
	"github.com/detect-dev/detect/normalize"
	_ "github.com/detect-dev/detect/normalize/jsonevents"
	"github.com/detect-dev/detect/schema"
	"github.com/detect-dev/detect/source"
)

// countParser is a test format: "ev N" lines become events with size N,
// "noise" lines are ignored, anything else is not understood. At end of
// input it emits one more event, as stitching parsers do.
type countParser struct{ flushed int }

func (p *countParser) Parse(l schema.Line, emit normalize.Emit) normalize.Result {
	switch {
	case strings.HasPrefix(l.Text, "ev "):
		n, _ := strconv.Atoi(l.Text[3:])
		emit(&schema.Event{Size: int64(n), Recipient: "r" + l.Text[3:] + "@x.example", SourceFile: l.File, SourceLine: l.Number})
		return normalize.Understood
	case l.Text == "noise":
		return normalize.Ignored
	}
	return normalize.NotUnderstood
}

func (p *countParser) Flush(emit normalize.Emit) {
	p.flushed++
	emit(&schema.Event{Size: -1})
}
func (p *countParser) Stats() map[string]int { return map[string]int{"flushes": p.flushed} }

func init() {
	normalize.Register("pipelinetest", func(normalize.Options) normalize.Parser { return &countParser{} })
}

func memOpen(files map[string]string) func(source.Input) (io.ReadCloser, error) {
	return func(in source.Input) (io.ReadCloser, error) {
		s, ok := files[in.Path]
		if !ok {
			return nil, errors.New(in.Path + ": no such file")
		}
		return io.NopCloser(strings.NewReader(s)), nil
	}
}

func TestOrderAccountingAndFlush(t *testing.T) {
	var a, b strings.Builder
	for i := 0; i < 3000; i++ {
		a.WriteString("ev " + strconv.Itoa(i) + "\n")
		if i%100 == 0 {
			a.WriteString("noise\nbroken line " + strconv.Itoa(i) + "\n \t\n")
		}
	}
	for i := 3000; i < 4000; i++ {
		b.WriteString("ev " + strconv.Itoa(i) + "\n")
	}
	for _, workers := range []int{1, 4} {
		var got []int64
		st, err := Run(context.Background(), Config{
			Inputs:  []source.Input{{Path: "a.log"}, {Path: "b.log"}},
			Format:  "pipelinetest",
			Workers: workers,
			Samples: 3,
			OnEvent: func(e *schema.Event) error { got = append(got, e.Size); return nil },
			Open:    memOpen(map[string]string{"a.log": a.String(), "b.log": b.String()}),
		})
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 4001 {
			t.Fatalf("workers=%d: %d events, want 4001", workers, len(got))
		}
		for i := 0; i < 4000; i++ {
			if got[i] != int64(i) {
				t.Fatalf("workers=%d: event %d has size %d: out of order", workers, i, got[i])
			}
		}
		if got[4000] != -1 {
			t.Errorf("flushed event missing or not last")
		}
		if st.Files != 2 || st.Lines != 4090 || st.Understood != 4000 || st.Ignored != 60 || st.NotUnderstood != 30 || st.Events != 4001 {
			t.Errorf("stats: %+v", st)
		}
		if len(st.Samples) != 3 || st.Samples[0].File != "a.log" || st.Samples[0].Line != 3 || st.Samples[0].Text != "broken line 0" {
			t.Errorf("samples: %+v", st.Samples)
		}
		if st.ParserStats["pipelinetest.flushes"] != 1 {
			t.Errorf("one parser must read every file of a format, flushed once: %v", st.ParserStats)
		}
	}
}

func TestCallbackErrorStopsTheRun(t *testing.T) {
	var in strings.Builder
	for i := 0; i < 100000; i++ {
		in.WriteString("ev 1\n")
	}
	boom := errors.New("disk full")
	n := 0
	st, err := Run(context.Background(), Config{
		Inputs:  []source.Input{{Path: "a"}},
		Format:  "pipelinetest",
		OnEvent: func(*schema.Event) error { n++; return boom },
		Open:    memOpen(map[string]string{"a": in.String()}),
	})
	if !errors.Is(err, boom) {
		t.Fatalf("want the callback's error, got %v", err)
	}
	if n != 1 {
		t.Errorf("callback called %d times after failing", n)
	}
	if st.Lines >= 100000 {
		t.Errorf("kept reading all %d lines after the output failed", st.Lines)
	}
}

func TestOpenErrorNamesInput(t *testing.T) {
	_, err := Run(context.Background(), Config{
		Inputs: []source.Input{{Path: "missing.log"}},
		Format: "pipelinetest",
		Open:   memOpen(nil),
	})
	if err == nil || !strings.Contains(err.Error(), "missing.log") {
		t.Fatalf("got %v", err)
	}
}

func TestSniffPicksJSON(t *testing.T) {
	var sizes []int64
	st, err := Run(context.Background(), Config{
		Inputs:        []source.Input{{Path: "events"}, {Path: "log"}},
		DefaultFormat: "pipelinetest",
		OnEvent:       func(e *schema.Event) error { sizes = append(sizes, e.Size); return nil },
		Open:          memOpen(map[string]string{"events": "\n{\"size\":7}\n", "log": "ev 3\n"}),
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(sizes) != 3 || sizes[0] != 7 || sizes[1] != 3 || st.Formats["json"] != 1 || st.Formats["pipelinetest"] != 1 {
		t.Fatalf("sizes %v formats %v", sizes, st.Formats)
	}
}

func TestAlertsAreCountedPerRule(t *testing.T) {
	rs := mustRules(t, `title: big
id: 11111111-2222-4333-8444-555555555555
logsource: {category: email}
detection:
  sel:
    size|gte: 10
  condition: sel
level: low
`)
	var alerts []*schema.Alert
	st, err := Run(context.Background(), Config{
		Inputs:  []source.Input{{Path: "a"}},
		Format:  "pipelinetest",
		Rules:   rs,
		Workers: 2,
		OnAlert: func(a *schema.Alert) error { alerts = append(alerts, a); return nil },
		Open:    memOpen(map[string]string{"a": "ev 5\nev 10\nev 11\nnoise\n"}),
	})
	if err != nil {
		t.Fatal(err)
	}
	if st.Alerts != 2 || st.AlertsByRule["11111111-2222-4333-8444-555555555555"] != 2 || len(alerts) != 2 {
		t.Fatalf("alerts %d %v", st.Alerts, st.AlertsByRule)
	}
	if alerts[0].Event.Size != 10 || alerts[1].Event.Size != 11 {
		t.Errorf("alert order: %d %d", alerts[0].Event.Size, alerts[1].Event.Size)
	}
}

func mustRules(t *testing.T, rule string) *engine.Ruleset {
	t.Helper()
	dir := t.TempDir()
	if err := writeFile(dir+"/r.yml", rule); err != nil {
		t.Fatal(err)
	}
	src, err := engine.DirSource(dir)
	if err != nil {
		t.Fatal(err)
	}
	rs, err := engine.Load(src)
	if err != nil {
		t.Fatal(err)
	}
	return rs
}

func TestUnknownFormatIsSkippedAndReported(t *testing.T) {
	var sizes []int64
	var notes strings.Builder
	for i := 0; i < 40; i++ {
		notes.WriteString("# notes line " + strconv.Itoa(i) + "\n")
	}
	st, err := Run(context.Background(), Config{
		Inputs:  []source.Input{{Path: "PROVENANCE.md"}, {Path: "short.txt"}, {Path: "late.log"}, {Path: "events"}},
		OnEvent: func(e *schema.Event) error { sizes = append(sizes, e.Size); return nil },
		Open: memOpen(map[string]string{
			"PROVENANCE.md": notes.String(),
			"short.txt":     "hello\n\nworld\n",
			// The format shows only on the third line: the first two are
			// held back and replayed, not lost.
			"late.log": "noise one\nnoise two\n{\"size\":5}\n",
			"events":   "{\"size\":7}\n",
		}),
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(st.Skipped) != 2 || st.Skipped[0].File != "PROVENANCE.md" || st.Skipped[1].File != "short.txt" ||
		st.Skipped[0].FirstLine != "# notes line 0" || !strings.Contains(st.Skipped[0].Reason, "first 32 lines") {
		t.Fatalf("skipped: %+v", st.Skipped)
	}
	if st.SkippedLines != 32+2 {
		t.Errorf("skipped lines %d", st.SkippedLines)
	}
	if len(sizes) != 2 || sizes[0] != 5 || sizes[1] != 7 || st.NotUnderstood != 2 {
		t.Errorf("sizes %v, not understood %d", sizes, st.NotUnderstood)
	}
	if got := st.Understood + st.Ignored + st.NotUnderstood + st.SkippedLines; got != st.Lines {
		t.Errorf("lines do not add up: %d accounted, %d read", got, st.Lines)
	}
}

package main

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/detect-dev/detect/engine"
	"github.com/detect-dev/detect/pipeline"
)

// writeSummary accounts for the run on stderr: every line read is either
// understood, ignored as known noise, or not understood (with samples), so
// nothing is lost without the user seeing it.
func writeSummary(w io.Writer, st pipeline.Stats, rs *engine.Ruleset) {
	plural := func(n int64, one string) string {
		if n == 1 {
			return fmt.Sprintf("%d %s", n, one)
		}
		return fmt.Sprintf("%d %ss", n, one)
	}
	fmt.Fprintf(w, "detect: read %s, %s (%s) in %s, %s lines/s\n",
		plural(int64(st.Files), "file"), plural(st.Lines, "line"), bytesHuman(st.Bytes),
		st.Elapsed.Round(time.Millisecond), human(int64(st.LinesPerSecond())))
	fmt.Fprintf(w, "  lines: %d understood, %d ignored (known noise), %d not understood",
		st.Understood, st.Ignored, st.NotUnderstood)
	if st.SkippedLines > 0 {
		fmt.Fprintf(w, ", %d in skipped files", st.SkippedLines)
	}
	fmt.Fprintln(w)
	if len(st.Skipped) > 0 {
		fmt.Fprintf(w, "  skipped %s of unknown format (name one with --format):\n", plural(int64(len(st.Skipped)), "file"))
		for i, sk := range st.Skipped {
			if i == 10 {
				fmt.Fprintf(w, "    ... and %d more\n", len(st.Skipped)-10)
				break
			}
			first := sk.FirstLine
			if r := []rune(first); len(r) > 80 {
				first = string(r[:79]) + "…"
			}
			fmt.Fprintf(w, "    %s: %s; first line: %s\n", sk.File, sk.Reason, first)
		}
	}
	if st.Truncated > 0 {
		fmt.Fprintf(w, "  %s longer than the maximum were truncated\n", plural(int64(st.Truncated), "line"))
	}
	fmt.Fprintf(w, "  events: %d\n", st.Events)
	if len(st.ParserStats) > 0 && hasNonZero(st.ParserStats) {
		keys := make([]string, 0, len(st.ParserStats))
		for k, v := range st.ParserStats {
			if v != 0 { // zero counters are noise in a summary
				keys = append(keys, k)
			}
		}
		sort.Strings(keys)
		parts := make([]string, 0, len(keys))
		for _, k := range keys {
			parts = append(parts, fmt.Sprintf("%s=%d", k, st.ParserStats[k]))
		}
		fmt.Fprintf(w, "  parser: %s\n", strings.Join(parts, " "))
	}
	if len(st.Samples) > 0 {
		fmt.Fprintf(w, "  not understood (first %d):\n", len(st.Samples))
		for _, s := range st.Samples {
			text := s.Text
			if r := []rune(text); len(r) > 160 {
				text = string(r[:159]) + "…"
			}
			fmt.Fprintf(w, "    %s:%d: %s\n", s.File, s.Line, text)
		}
	}
	if rs == nil {
		return
	}
	if ws := st.Window; ws.Late > 0 || ws.Overflow > 0 {
		// Correlation windows could not count these events: say so, since a
		// missed burst is exactly what a reader of the alerts cannot see.
		fmt.Fprintf(w, "  correlation windows: %d events too late to count (out of order by more than the lateness), %d events of groups over the per-rule cap\n", ws.Late, ws.Overflow)
	}
	fmt.Fprintf(w, "  alerts: %d (%d of %s fired)\n", st.Alerts, len(st.AlertsByRule), plural(int64(rs.Len()), "rule"))
	ids := make([]string, 0, len(st.AlertsByRule))
	for id := range st.AlertsByRule {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool {
		a, b := st.AlertsByRule[ids[i]], st.AlertsByRule[ids[j]]
		if a != b {
			return a > b
		}
		return ids[i] < ids[j]
	})
	for _, id := range ids {
		title, level := id, ""
		if r, ok := rs.Rule(id); ok {
			title, level = r.Title, r.Level
		}
		fmt.Fprintf(w, "    %6d  %-8s %s\n", st.AlertsByRule[id], level, title)
	}
}

func bytesHuman(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}

func hasNonZero(m map[string]int) bool {
	for _, v := range m {
		if v != 0 {
			return true
		}
	}
	return false
}

package ruleimpact

import (
	"bufio"
	"fmt"
	"io"
	"strings"
	"time"
)

// WriteText writes the report for a terminal or a CI log: a header, one
// block per rule that changed or whose alerts changed (with example alerts),
// one line per rule that did not, and the totals.
func WriteText(w io.Writer, r *Report) error {
	bw := bufio.NewWriter(w)
	h := r.Header
	fmt.Fprintf(bw, "detect diff: %s -> %s\n", baseName(h), target(h))
	if len(h.RuleDirs) > 0 {
		fmt.Fprintf(bw, "rules:  %s\n", strings.Join(h.RuleDirs, ", "))
	}
	if len(h.Inputs) > 0 {
		fmt.Fprintf(bw, "inputs: %s (%s)\n", strings.Join(h.Inputs, " "), readCounts(h, r.Events))
	}
	// Blocks are set apart by blank lines; runs of one-line rules are not,
	// so a large unchanged pack reads as one list.
	prevBlock := true
	for _, d := range r.Rules {
		if !d.Interesting() {
			if prevBlock {
				bw.WriteByte('\n')
			}
			prevBlock = false
			fmt.Fprintf(bw, "%-9s %s  (%s): %s before and after\n", d.Label(), d.Title, d.File, plural(d.Alerts.Before, "alert"))
			continue
		}
		bw.WriteByte('\n')
		prevBlock = true
		fmt.Fprintf(bw, "%-9s %s  [%s]\n", d.Label(), d.Title, d.ID)
		if d.Moved() {
			fmt.Fprintf(bw, "  file:    %s (was %s)\n", d.File, d.OldFile)
		} else {
			fmt.Fprintf(bw, "  file:    %s\n", d.File)
		}
		a := d.Alerts
		fmt.Fprintf(bw, "  alerts:  %d before, %d after (+%d added, -%d removed)\n", a.Before, a.After, a.Added, a.Removed)
		writeTextExamples(bw, "added:  ", a.AddedExamples, a.Added)
		writeTextExamples(bw, "removed:", a.RemovedExamples, a.Removed)
	}
	s := r.Summary()
	fmt.Fprintf(bw, "\n%s: %d changed, %d added, %d removed, %d renamed, %d unchanged\n",
		plural(s.Rules, "rule"), s.Changed, s.Added, s.Removed, s.Renamed, s.Unchanged)
	fmt.Fprintf(bw, "alerts: %d before, %d after (+%d added, -%d removed)\n",
		s.AlertsBefore, s.AlertsAfter, s.AlertsAdded, s.AlertsRemoved)
	return bw.Flush()
}

func writeTextExamples(w io.Writer, label string, ex []Example, total int) {
	for i, e := range ex {
		if i > 0 {
			label = strings.Repeat(" ", len(label))
		}
		fmt.Fprintf(w, "  %s %s\n", label, strings.Join(exampleFields(e, plainValue), "  "))
	}
	if more := total - len(ex); more > 0 && len(ex) > 0 {
		fmt.Fprintf(w, "  %s (and %d more)\n", strings.Repeat(" ", len(label)), more)
	}
}

// exampleFields renders an example as schema-named fields, leaving out the
// ones the event does not have; quote formats each value.
func exampleFields(e Example, quote func(string) string) []string {
	var f []string
	if !e.Time.IsZero() {
		f = append(f, e.Time.UTC().Format(time.RFC3339))
	}
	if e.HasSender || e.Sender != "" {
		s := e.Sender
		if s == "" {
			s = "<>" // the null sender, as the MTA logs it
		}
		f = append(f, "sender="+quote(s))
	}
	if e.Recipient != "" {
		f = append(f, "recipient="+quote(e.Recipient))
	}
	if e.SrcIP != "" {
		f = append(f, "src_ip="+quote(e.SrcIP))
	}
	if src := source(e); src != "" {
		f = append(f, quote(src))
	}
	return f
}

func source(e Example) string {
	switch {
	case e.SourceFile != "" && e.SourceLine > 0:
		return fmt.Sprintf("%s:%d", e.SourceFile, e.SourceLine)
	case e.SourceFile != "":
		return e.SourceFile
	case e.SourceLine > 0:
		return fmt.Sprintf("line %d", e.SourceLine)
	}
	return ""
}

func plainValue(s string) string { return s }

func baseName(h Header) string {
	switch {
	case h.Base == "":
		return "base"
	case h.BaseCommit != "" && h.BaseCommit != h.Base:
		return fmt.Sprintf("base %s (%s)", h.Base, h.BaseCommit)
	}
	return "base " + h.Base
}

func target(h Header) string {
	if h.Target == "" {
		return "working tree"
	}
	return h.Target
}

func readCounts(h Header, events int64) string {
	return fmt.Sprintf("%s, %s, %s", plural(h.Files, "file"), plural(int(h.Lines), "line"), plural(int(events), "event"))
}

func plural(n int, one string) string {
	if n == 1 {
		return fmt.Sprintf("%d %s", n, one)
	}
	return fmt.Sprintf("%d %ss", n, one)
}

// WriteMarkdown writes the report as GitHub-flavoured Markdown for a
// pull-request comment: a header saying what was compared, the totals, a
// table of the rules a reviewer must look at, and the example alerts folded
// away in a <details> block so the comment stays short.
func WriteMarkdown(w io.Writer, r *Report) error {
	bw := bufio.NewWriter(w)
	h := r.Header
	base := "base"
	if h.Base != "" {
		base = "base " + mdCode(h.Base)
		if h.BaseCommit != "" && h.BaseCommit != h.Base {
			base += " (" + mdCode(h.BaseCommit) + ")"
		}
	}
	fmt.Fprintf(bw, "### Rule impact: %s → %s\n\n", base, mdText(target(h)))
	var facts []string
	if len(h.RuleDirs) > 0 {
		facts = append(facts, "Rules "+mdCodes(h.RuleDirs))
	}
	if len(h.Inputs) > 0 {
		facts = append(facts, "inputs "+mdCodes(h.Inputs)+" ("+readCounts(h, r.Events)+")")
	}
	if len(facts) > 0 {
		fmt.Fprintf(bw, "%s\n\n", strings.Join(facts, " · "))
	}
	s := r.Summary()
	fmt.Fprintf(bw, "**Rules:** %d changed, %d added, %d removed, %d renamed, %d unchanged · **Alerts:** %d → %d (+%d added, -%d removed)\n\n",
		s.Changed, s.Added, s.Removed, s.Renamed, s.Unchanged, s.AlertsBefore, s.AlertsAfter, s.AlertsAdded, s.AlertsRemoved)

	var shown []*RuleDiff
	for _, d := range r.Rules {
		if d.Interesting() {
			shown = append(shown, d)
		}
	}
	if len(shown) == 0 {
		fmt.Fprintf(bw, "No rule and no alert changed.\n")
		return bw.Flush()
	}
	fmt.Fprintf(bw, "| Rule | Status | Before | After | Added | Removed |\n")
	fmt.Fprintf(bw, "| --- | --- | ---: | ---: | ---: | ---: |\n")
	for _, d := range shown {
		file := mdCode(d.File)
		if d.Moved() {
			file += " (was " + mdCode(d.OldFile) + ")"
		}
		a := d.Alerts
		fmt.Fprintf(bw, "| %s<br>%s | %s | %d | %d | +%d | -%d |\n",
			mdText(d.Title), file, d.Label(), a.Before, a.After, a.Added, a.Removed)
	}
	if hidden := s.Rules - len(shown); hidden > 0 {
		fmt.Fprintf(bw, "\n%s with the same alerts not listed.\n", plural(hidden, "unchanged rule"))
	}

	var withExamples []*RuleDiff
	for _, d := range shown {
		if len(d.Alerts.AddedExamples)+len(d.Alerts.RemovedExamples) > 0 {
			withExamples = append(withExamples, d)
		}
	}
	if len(withExamples) == 0 {
		return bw.Flush()
	}
	// GitHub renders Markdown inside <details> only after a blank line.
	fmt.Fprintf(bw, "\n<details><summary>Example alerts</summary>\n\n")
	for _, d := range withExamples {
		fmt.Fprintf(bw, "**%s**\n\n", mdText(d.Title))
		fmt.Fprintf(bw, "| | time | sender | recipient | src_ip | source |\n")
		fmt.Fprintf(bw, "| --- | --- | --- | --- | --- | --- |\n")
		writeMarkdownExamples(bw, "+", d.Alerts.AddedExamples)
		writeMarkdownExamples(bw, "-", d.Alerts.RemovedExamples)
		if more := d.Alerts.Added - len(d.Alerts.AddedExamples) + d.Alerts.Removed - len(d.Alerts.RemovedExamples); more > 0 {
			fmt.Fprintf(bw, "\n%s not shown.\n", plural(more, "more alert"))
		}
		bw.WriteByte('\n')
	}
	fmt.Fprintf(bw, "</details>\n")
	return bw.Flush()
}

func writeMarkdownExamples(w io.Writer, sign string, ex []Example) {
	for _, e := range ex {
		sender := ""
		if e.HasSender || e.Sender != "" {
			sender = e.Sender
			if sender == "" {
				sender = "<>"
			}
		}
		ts := ""
		if !e.Time.IsZero() {
			ts = e.Time.UTC().Format(time.RFC3339)
		}
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s |\n",
			sign, ts, mdText(sender), mdText(e.Recipient), mdText(e.SrcIP), mdCode(source(e)))
	}
}

// mdText escapes s for a Markdown table cell: HTML-special characters (the
// null sender "<>" would vanish as a tag), Markdown punctuation that would
// format, the cell separator, and line breaks.
func mdText(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch r {
		case '<':
			b.WriteString("&lt;")
		case '>':
			b.WriteString("&gt;")
		case '&':
			b.WriteString("&amp;")
		case '\n', '\r':
			b.WriteByte(' ')
		case '\\', '`', '*', '_', '[', ']', '|', '#', '~':
			b.WriteByte('\\')
			b.WriteRune(r)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// mdCode renders s as inline code; inside a table only "|" needs escaping
// there (GitHub splits cells before parsing code spans). A value holding a
// backtick falls back to escaped text rather than a longer fence.
func mdCode(s string) string {
	if s == "" {
		return ""
	}
	if strings.ContainsAny(s, "`\n\r") {
		return mdText(s)
	}
	return "`" + strings.ReplaceAll(s, "|", `\|`) + "`"
}

func mdCodes(ss []string) string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = mdCode(s)
	}
	return strings.Join(out, ", ")
}

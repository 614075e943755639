package report

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/detect-dev/detect/query"
)

// maxTextHours is the longest hourly series the text report prints (three
// days); JSON and HTML always carry all of it.
const maxTextHours = 72

// WriteJSON writes the report as one JSON object.
func (r *Report) WriteJSON(w io.Writer) error {
	b, err := json.MarshalIndent(r, "", " ")
	if err != nil {
		return err
	}
	_, err = w.Write(append(b, '\n'))
	return err
}

// HumanBytes formats a byte count with a binary unit.
func HumanBytes(n int64) string {
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

func formatPeriod(p Period) string {
	const layout = "2006-01-02 15:04:05"
	if p.First.IsZero() {
		return "no events"
	}
	return p.First.UTC().Format(layout) + " .. " + p.Last.UTC().Format(layout) + " UTC"
}

// totalLines are the totals as label, count, note rows.
func (r *Report) totalLines() [][3]string {
	t := r.Totals
	pct := func(k string) string { return fmt.Sprintf("%.1f%%", t.Percent[k]) }
	deferred := fmt.Sprintf("%s  (%s)", pct("deferred"), plural(t.DeferredMessages, "message"))
	delivered := pct("delivered")
	if t.Handoffs > 0 {
		delivered += fmt.Sprintf("  (+%d hand-offs: content filter, forwards)", t.Handoffs)
	}
	alerts := [3]string{"alerts", fmt.Sprint(t.Alerts), "rule pack"}
	if !r.RulesRun && t.Alerts == 0 {
		alerts = [3]string{"alerts", "-", "rule pack not run"}
	}
	return [][3]string{
		{"received", fmt.Sprint(t.Received), "messages"},
		{"delivered", fmt.Sprint(t.Delivered), delivered},
		{"deferred", fmt.Sprint(t.Deferred), deferred},
		{"bounced", fmt.Sprint(t.Bounced), pct("bounced")},
		{"rejected", fmt.Sprint(t.Rejected), pct("rejected")},
		{"quarantined", fmt.Sprint(t.Quarantined), pct("quarantined")},
		{"discarded", fmt.Sprint(t.Discarded), pct("discarded")},
		{"warned", fmt.Sprint(t.Warned), "reject_warning"},
		{"bytes received", HumanBytes(t.BytesReceived), fmt.Sprint(t.BytesReceived)},
		{"bytes delivered", HumanBytes(t.BytesDelivered), fmt.Sprint(t.BytesDelivered)},
		{"senders", fmt.Sprint(t.Senders), plural(t.SenderDomains, "domain")},
		{"recipients", fmt.Sprint(t.Recipients), plural(t.RecipientDomains, "domain")},
		{"client IPs", fmt.Sprint(t.ClientIPs), ""},
		{"auth failures", fmt.Sprint(t.AuthFailed), ""},
		alerts,
	}
}

func plural(n int64, one string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %ss", n, one)
}

// WriteText writes the report for a terminal or a mail: sections of
// aligned tables. Empty tables are named, not printed.
func (r *Report) WriteText(w io.Writer) error {
	bw := bufio.NewWriter(w)
	fmt.Fprintf(bw, "Mail report: %s (%d events)\n", formatPeriod(r.Period), r.Totals.Events)
	if !r.Period.Since.IsZero() || !r.Period.Until.IsZero() {
		fmt.Fprintf(bw, "Limited to %s .. %s (%d events outside left out)\n", bound(r.Period.Since), bound(r.Period.Until), r.Skipped)
	}
	fmt.Fprintf(bw, "\nTOTALS\n")
	var rows [][]string
	for _, l := range r.totalLines() {
		rows = append(rows, []string{l[0], l[1], l[2]})
	}
	writeAligned(bw, nil, rows, []bool{false, true, false})
	for _, sec := range r.Sections {
		fmt.Fprintf(bw, "\n%s\n", strings.ToUpper(sec.Title))
		var empty []string
		for _, t := range sec.Tables {
			if len(t.Result.Rows) == 0 {
				empty = append(empty, strings.ToLower(t.Title[:1])+t.Title[1:])
				continue
			}
			if t.Hourly && len(t.Result.Rows) > maxTextHours {
				fmt.Fprintf(bw, "\n%s: %d hours, too long for text (see --json or --html)\n", t.Title, len(t.Result.Rows))
				continue
			}
			fmt.Fprintf(bw, "\n%s\n", t.Title)
			header, cells := textCells(t.Result)
			writeAligned(bw, header, cells, numericColumns(t.Result))
		}
		if len(empty) > 0 {
			fmt.Fprintf(bw, "\nNone: %s.\n", strings.Join(empty, "; "))
		}
	}
	return bw.Flush()
}

func bound(t time.Time) string {
	if t.IsZero() {
		return "(open)"
	}
	return t.UTC().Format(time.RFC3339)
}

// textCells formats a result for text: times of a timechart as dates or
// hours, several values joined, the null sender as <>.
func textCells(res *query.Result) ([]string, [][]string) {
	layout := ""
	if res.Timechart {
		layout = "2006-01-02 15:04"
		daily := true
		for _, row := range res.Rows {
			if t := row[0].Time(); t.Hour() != 0 || t.Minute() != 0 {
				daily = false
				break
			}
		}
		if daily {
			layout = "2006-01-02"
		}
	}
	header := append([]string{}, res.Columns...)
	if res.Timechart {
		header[0] = "time"
	}
	cells := make([][]string, len(res.Rows))
	for i, row := range res.Rows {
		c := make([]string, len(row))
		for j, v := range row {
			switch {
			case j == 0 && res.Timechart:
				c[j] = v.Time().Format(layout)
			case v.Kind == query.String && v.Str == "" && (res.Columns[j] == "sender" || res.Columns[j] == "recipient"):
				c[j] = "<>"
			case v.Kind == query.Time:
				c[j] = v.Time().Format("2006-01-02 15:04:05")
			case res.Columns[j] == "percent" && v.Kind == query.Number:
				c[j] = fmt.Sprintf("%.1f%%", v.Num)
			case res.Columns[j] == "bytes" || strings.HasSuffix(res.Columns[j], "size"):
				c[j] = bytesCell(v)
			default:
				c[j] = v.Text(", ")
			}
		}
		cells[i] = c
	}
	return header, cells
}

func bytesCell(v query.Value) string {
	if v.Kind == query.Multi {
		parts := make([]string, len(v.List))
		for i, x := range v.List {
			parts[i] = bytesCell(x)
		}
		return strings.Join(parts, ", ")
	}
	if n, ok := v.Float(); ok {
		return HumanBytes(int64(n))
	}
	return v.Text(", ")
}

// numericColumns marks the columns to right-align.
func numericColumns(res *query.Result) []bool {
	out := make([]bool, len(res.Columns))
	for j := range res.Columns {
		out[j] = len(res.Rows) > 0
		for _, row := range res.Rows {
			if v := row[j]; v.Kind != query.Number && v.Kind != query.Null {
				out[j] = false
				break
			}
		}
	}
	return out
}

// maxCell caps a text cell.
const maxCell = 60

func clip(s string) string {
	s = strings.Map(func(r rune) rune {
		if r < 0x20 {
			return ' '
		}
		return r
	}, s)
	if utf8.RuneCountInString(s) > maxCell {
		return string([]rune(s)[:maxCell-1]) + "…"
	}
	return s
}

// writeAligned writes rows as space-aligned columns indented by two,
// right-aligning the marked ones.
func writeAligned(w *bufio.Writer, header []string, rows [][]string, right []bool) {
	all := rows
	if header != nil {
		all = append([][]string{header}, rows...)
	}
	width := map[int]int{}
	for i, row := range all {
		for j := range row {
			all[i][j] = clip(row[j])
			width[j] = max(width[j], utf8.RuneCountInString(all[i][j]))
		}
	}
	for _, row := range all {
		w.WriteString("  ")
		for j, c := range row {
			if j > 0 {
				w.WriteString("  ")
			}
			pad := strings.Repeat(" ", width[j]-utf8.RuneCountInString(c))
			if j < len(right) && right[j] {
				w.WriteString(pad + c)
			} else if j < len(row)-1 {
				w.WriteString(c + pad)
			} else {
				w.WriteString(c)
			}
		}
		w.WriteByte('\n')
	}
}

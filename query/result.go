package query

import (
	"bufio"
	"encoding/csv"
	"fmt"
	"io"
	"math"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/detect-dev/detect/schema"
)

// Run is one execution of a Query over a stream of events. It is not safe
// for concurrent use; run a Query concurrently by starting several Runs.
type Run struct {
	q       *Query
	head    stage
	col     *collector
	stopped bool
	res     *Result
	cur     record // the record being pushed, reused so it is not allocated
}

// Start begins a run.
func (q *Query) Start() *Run {
	col := &collector{}
	var s stage = col
	for i := len(q.stages) - 1; i >= 0; i-- {
		s = q.stages[i](s)
	}
	return &Run{q: q, head: s, col: col}
}

// Add feeds one event, in input order. It reports false once the query
// needs no more events (a head is satisfied); later events are ignored. The
// run may keep e (sort, tail, plain searches), so the caller must not
// modify it afterwards.
func (r *Run) Add(e *schema.Event) bool {
	if r.stopped || r.res != nil {
		return false
	}
	r.cur = record{ev: e}
	if !r.head.push(&r.cur) {
		r.stopped = true
	}
	return !r.stopped
}

// Result ends the run (further Adds are ignored) and returns its rows.
// Calling it again returns the same Result.
func (r *Run) Result() *Result {
	if r.res != nil {
		return r.res
	}
	r.head.done()
	r.res = r.col.result(&r.q.out)
	return r.res
}

// collector is the last stage: it keeps what reaches the end.
type collector struct {
	events []*schema.Event
	rows   []record
}

func (c *collector) push(r *record) bool {
	if r.ev != nil {
		c.events = append(c.events, r.ev)
	} else {
		c.rows = append(c.rows, *r)
	}
	return true
}

func (c *collector) done() {}

// Result is the outcome of a query: rows of cells under named columns.
type Result struct {
	// Columns in output order: Splunk's names (count, percent, _time,
	// dc(recipient), the by fields, one per series of timechart ... by).
	Columns []string
	// Rows hold one Value per column; a Null cell is absent.
	Rows [][]Value
	// Events are set when the query ends with events (no top, rare, stats
	// or timechart); the rows are then the events' fields.
	Events []*schema.Event
	// Raw: the rows are whole events under their schema names, so a JSON
	// writer may print Events as `detect normalize` does.
	Raw bool
	// Timechart: the first column is _time and the others are series.
	Timechart bool
}

func (c *collector) result(out *outputSpec) *Result {
	res := &Result{Timechart: out.timechart}
	if out.events {
		res.Events = c.events
		res.Raw = out.raw
		// Columns: the projected fields any event has.
		has := make([]bool, len(out.proj))
		for _, e := range c.events {
			for i, p := range out.proj {
				if !has[i] && e.Has(p.field) {
					has[i] = true
				}
			}
		}
		var cols []projCol
		for i, p := range out.proj {
			if has[i] || !out.raw {
				cols = append(cols, p)
			}
		}
		for _, p := range cols {
			res.Columns = append(res.Columns, p.name)
		}
		res.Rows = make([][]Value, len(c.events))
		for i, e := range c.events {
			row := make([]Value, len(cols))
			for j, p := range cols {
				row[j] = eventCell(e, p.field)
			}
			res.Rows[i] = row
		}
		return res
	}
	// Rows: the columns of the headers met, in order of appearance.
	var cols []string
	index := map[string]int{}
	var last *header
	for _, r := range c.rows {
		if r.hdr == last {
			continue
		}
		last = r.hdr
		for _, col := range r.hdr.cols {
			if _, ok := index[col]; !ok {
				index[col] = len(cols)
				cols = append(cols, col)
			}
		}
	}
	if len(c.rows) == 0 && out.cols != nil {
		cols = out.cols
	}
	res.Columns = cols
	res.Rows = make([][]Value, len(c.rows))
	for i, r := range c.rows {
		row := make([]Value, len(cols))
		for j, col := range r.hdr.cols {
			row[index[col]] = r.row[j]
		}
		res.Rows[i] = row
	}
	return res
}

// Column returns the index of the named column, or -1.
func (res *Result) Column(name string) int {
	for i, c := range res.Columns {
		if c == name {
			return i
		}
	}
	return -1
}

// displayFields are the event columns a terminal table shows when the query
// does not choose (JSON and CSV carry every field).
var displayFields = []string{"time", "host", "event_type", "action", "sender", "recipient", "src_ip", "size", "status_code", "reason"}

// Table returns the header and cells for a terminal table: several values
// joined with ", ". Plain events show a readable subset of their fields.
func (res *Result) Table() ([]string, [][]string) {
	idx := make([]int, 0, len(res.Columns))
	if res.Raw {
		for _, name := range displayFields {
			if i := res.Column(name); i >= 0 {
				idx = append(idx, i)
			}
		}
	} else {
		for i := range res.Columns {
			idx = append(idx, i)
		}
	}
	header := make([]string, len(idx))
	for j, i := range idx {
		header[j] = res.Columns[i]
	}
	rows := make([][]string, len(res.Rows))
	for r, row := range res.Rows {
		cells := make([]string, len(idx))
		for j, i := range idx {
			if v := row[i]; v.Kind == String && v.Str == "" {
				cells[j] = `""` // present but empty (the null sender), not absent
			} else {
				cells[j] = v.Text(", ")
			}
		}
		rows[r] = cells
	}
	return header, rows
}

// WriteJSON writes the result as one JSON array of objects keyed by column
// name, absent cells left out; "[]" when there are no rows. Plain events
// are written as `detect normalize` writes them.
func (res *Result) WriteJSON(w io.Writer) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	buf := make([]byte, 0, 1024)
	if len(res.Rows) == 0 {
		bw.WriteString("[]\n")
		return bw.Flush()
	}
	bw.WriteString("[\n")
	for i := range res.Rows {
		buf = res.AppendRowJSON(buf[:0], i)
		if i < len(res.Rows)-1 {
			buf = append(buf, ',')
		}
		buf = append(buf, '\n')
		if _, err := bw.Write(buf); err != nil {
			return err
		}
	}
	bw.WriteString("]\n")
	return bw.Flush()
}

// AppendRowJSON appends row i as a JSON object keyed by column name,
// absent cells left out (plain events as `detect normalize` writes them).
func (res *Result) AppendRowJSON(dst []byte, i int) []byte {
	if res.Raw {
		return res.Events[i].AppendJSON(dst)
	}
	dst = append(dst, '{')
	first := true
	for j, v := range res.Rows[i] {
		if v.Kind == Null {
			continue
		}
		if !first {
			dst = append(dst, ',')
		}
		first = false
		dst = schema.AppendJSONString(dst, res.Columns[j])
		dst = append(dst, ':')
		dst = v.AppendJSON(dst)
	}
	return append(dst, '}')
}

// WriteCSV writes a header line and one line per row. Several values share
// a cell, one per line (as Splunk exports them); cells that a spreadsheet
// would run as a formula are prefixed with a quote.
func (res *Result) WriteCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(res.Columns); err != nil {
		return err
	}
	rec := make([]string, len(res.Columns))
	for _, row := range res.Rows {
		for j, v := range row {
			rec[j] = defuseFormula(v.Text("\n"))
		}
		if err := cw.Write(rec); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// defuseFormula keeps spreadsheets from evaluating attacker-controlled text
// (subjects, attachment names) as a formula.
func defuseFormula(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		if _, ok := Str(s).Float(); !ok {
			return "'" + s
		}
	}
	return s
}

// chartGlyphs draw the series of a stacked bar, in legend order.
var chartGlyphs = []string{"█", "▓", "▒", "░", "#", "=", "+", "*", "o", "x", "~", ":"}

// WriteChart draws the result as horizontal bars, width columns wide: a
// timechart as one bar per bucket, its series stacked (with a legend); any
// other result as one bar per row for its first numeric column (percent
// columns aside), labelled by the other columns.
func (res *Result) WriteChart(w io.Writer, width int) error {
	bw := bufio.NewWriter(w)
	if len(res.Rows) == 0 {
		fmt.Fprintln(bw, "(no rows)")
		return bw.Flush()
	}
	var labels []string
	var series []int
	if res.Timechart {
		layout := timeLayout(res)
		for _, row := range res.Rows {
			labels = append(labels, row[0].Time().Format(layout))
		}
		for i := 1; i < len(res.Columns); i++ {
			series = append(series, i)
		}
	} else {
		num := -1
		for i := range res.Columns {
			if numericColumn(res, i) {
				num = i
				break
			}
		}
		if num < 0 {
			return fmt.Errorf("nothing to chart: no numeric column in %s", strings.Join(res.Columns, ", "))
		}
		series = []int{num}
		for _, row := range res.Rows {
			var parts []string
			for i, v := range row {
				if i != num && !(v.Kind == Number && v.fixed6) {
					parts = append(parts, v.Text(","))
				}
			}
			labels = append(labels, strings.Join(parts, " "))
		}
	}
	if len(series) > 1 {
		var legend []string
		for k, i := range series {
			legend = append(legend, chartGlyphs[k%len(chartGlyphs)]+" "+res.Columns[i])
		}
		fmt.Fprintln(bw, strings.Join(legend, "   "))
	}
	totals := make([]float64, len(res.Rows))
	var peak float64
	for r, row := range res.Rows {
		for _, i := range series {
			if n, ok := row[i].Float(); ok && n > 0 {
				totals[r] += n
			}
		}
		peak = math.Max(peak, totals[r])
	}
	labelW, valueW := 0, 0
	for r := range res.Rows {
		labelW = max(labelW, utf8.RuneCountInString(labels[r]))
		valueW = max(valueW, len(formatNumber(totals[r], false)))
	}
	labelW = min(labelW, 40)
	barW := max(width-labelW-valueW-3, 10)
	for r, row := range res.Rows {
		label := labels[r]
		if utf8.RuneCountInString(label) > labelW {
			label = string([]rune(label)[:labelW-1]) + "…"
		}
		fmt.Fprintf(bw, "%-*s ", labelW, label)
		drawn := 0
		var cum float64
		for k, i := range series {
			n, ok := row[i].Float()
			if !ok || n <= 0 || peak == 0 {
				continue
			}
			cum += n
			upto := int(math.Round(cum / peak * float64(barW)))
			if upto <= drawn && len(series) == 1 {
				upto = drawn + 1 // a non-zero value always shows
			}
			bw.WriteString(strings.Repeat(chartGlyphs[k%len(chartGlyphs)], max(upto-drawn, 0)))
			drawn = max(drawn, upto)
		}
		fmt.Fprintf(bw, "%s %*s\n", strings.Repeat(" ", max(barW-drawn, 0)), valueW, formatNumber(totals[r], false))
	}
	return bw.Flush()
}

func numericColumn(res *Result, i int) bool {
	seen := false
	for _, row := range res.Rows {
		switch v := row[i]; v.Kind {
		case Null:
		case Number:
			if v.fixed6 {
				return false
			}
			seen = true
		default:
			return false
		}
	}
	return seen
}

// timeLayout picks the shortest layout that tells a chart's buckets apart.
func timeLayout(res *Result) string {
	days, minutes := true, true
	for _, row := range res.Rows {
		t := row[0].Time()
		if t.Hour() != 0 || t.Minute() != 0 || t.Second() != 0 {
			days = false
		}
		if t.Second() != 0 || t.Nanosecond() != 0 {
			minutes = false
		}
	}
	switch {
	case days:
		return "2006-01-02"
	case minutes:
		return "2006-01-02 15:04"
	}
	return time.RFC3339
}

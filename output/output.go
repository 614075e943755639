// Package output writes alerts and events for people and programs: JSON
// lines (one object a line, the contract of DESIGN.md section 5), an aligned
// table for terminals, and CSV for spreadsheets.
//
// Writers buffer internally; call Close (or Flush) to push the tail out.
// They are not safe for concurrent use.
package output

import (
	"bufio"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/detect-dev/detect/schema"
)

// Format names an alert output format.
type Format string

// Alert output formats.
const (
	JSONL Format = "jsonl"
	Table Format = "table"
	CSV   Format = "csv"
)

// ParseFormat validates a user-supplied format name.
func ParseFormat(s string) (Format, error) {
	switch Format(strings.ToLower(s)) {
	case JSONL, "json", "ndjson":
		return JSONL, nil
	case Table:
		return Table, nil
	case CSV:
		return CSV, nil
	}
	return "", fmt.Errorf("unknown output format %q (want jsonl, table or csv)", s)
}

// AlertWriter writes alerts in one format.
type AlertWriter interface {
	Write(a *schema.Alert) error
	// Flush pushes buffered output to the underlying writer, e.g. so a
	// production alert file is current after every batch.
	Flush() error
	// Close flushes and finishes the output (the table is laid out here).
	Close() error
}

// NewAlertWriter returns a writer of the given format on w.
func NewAlertWriter(w io.Writer, f Format) (AlertWriter, error) {
	switch f {
	case JSONL:
		return &jsonlWriter{w: bufio.NewWriterSize(w, 64<<10)}, nil
	case Table:
		return &tableWriter{w: w}, nil
	case CSV:
		cw := csv.NewWriter(w)
		return &csvWriter{w: cw}, nil
	}
	return nil, fmt.Errorf("unknown output format %q", f)
}

type jsonlWriter struct {
	w   *bufio.Writer
	buf []byte
}

func (j *jsonlWriter) Write(a *schema.Alert) error {
	j.buf = AppendAlertJSON(j.buf[:0], a)
	j.buf = append(j.buf, '\n')
	_, err := j.w.Write(j.buf)
	return err
}

func (j *jsonlWriter) Flush() error { return j.w.Flush() }
func (j *jsonlWriter) Close() error { return j.w.Flush() }

// AppendAlertJSON appends the alert's JSON object (DESIGN.md section 5 key
// order) to dst.
func AppendAlertJSON(dst []byte, a *schema.Alert) []byte {
	dst = append(dst, '{')
	dst = appendKey(dst, "time", true)
	dst = appendTime(dst, a.Time)
	dst = appendKey(dst, "rule_id", false)
	dst = schema.AppendJSONString(dst, a.RuleID)
	dst = appendKey(dst, "rule_title", false)
	dst = schema.AppendJSONString(dst, a.RuleTitle)
	if a.RuleFile != "" {
		dst = appendKey(dst, "rule_file", false)
		dst = schema.AppendJSONString(dst, a.RuleFile)
	}
	dst = appendKey(dst, "engine", false)
	dst = schema.AppendJSONString(dst, a.Engine)
	if a.Level != "" {
		dst = appendKey(dst, "level", false)
		dst = schema.AppendJSONString(dst, a.Level)
	}
	if len(a.Tags) > 0 {
		dst = appendKey(dst, "tags", false)
		dst = append(dst, '[')
		for i, t := range a.Tags {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = schema.AppendJSONString(dst, t)
		}
		dst = append(dst, ']')
	}
	if a.Message != "" {
		dst = appendKey(dst, "message", false)
		dst = schema.AppendJSONString(dst, a.Message)
	}
	if a.Event != nil {
		dst = appendKey(dst, "event", false)
		dst = a.Event.AppendJSON(dst)
	}
	if len(a.Group) > 0 {
		dst = appendKey(dst, "group", false)
		keys := make([]string, 0, len(a.Group))
		for k := range a.Group {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		dst = append(dst, '{')
		for i, k := range keys {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = schema.AppendJSONString(dst, k)
			dst = append(dst, ':')
			dst = schema.AppendJSONString(dst, a.Group[k])
		}
		dst = append(dst, '}')
	}
	if a.Count != 0 {
		dst = appendKey(dst, "count", false)
		dst = strconv.AppendInt(dst, int64(a.Count), 10)
	}
	if !a.Start.IsZero() {
		dst = appendKey(dst, "start", false)
		dst = appendTime(dst, a.Start)
	}
	if !a.End.IsZero() {
		dst = appendKey(dst, "end", false)
		dst = appendTime(dst, a.End)
	}
	if len(a.Events) > 0 {
		dst = appendKey(dst, "events", false)
		dst = append(dst, '[')
		for i, e := range a.Events {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = e.AppendJSON(dst)
		}
		dst = append(dst, ']')
	}
	if len(a.Fields) > 0 {
		dst = appendKey(dst, "fields", false)
		b, err := json.Marshal(a.Fields)
		if err != nil {
			b = []byte(`{}`)
		}
		dst = append(dst, b...)
	}
	return append(dst, '}')
}

func appendKey(dst []byte, k string, first bool) []byte {
	if !first {
		dst = append(dst, ',')
	}
	dst = append(dst, '"')
	dst = append(dst, k...)
	return append(dst, '"', ':')
}

func appendTime(dst []byte, t time.Time) []byte {
	dst = append(dst, '"')
	dst = t.UTC().AppendFormat(dst, time.RFC3339Nano)
	return append(dst, '"')
}

// alertColumns are the columns of the table and CSV formats: what an analyst
// scans first. The JSON format carries everything.
var alertColumns = []string{"time", "level", "rule", "sender", "recipient", "src_ip", "detail", "source"}

func alertRow(a *schema.Alert) []string {
	row := make([]string, len(alertColumns))
	row[0] = a.Time.UTC().Format(time.RFC3339)
	row[1] = a.Level
	row[2] = a.RuleTitle
	if e := a.Event; e != nil {
		if e.Has(schema.FieldSender) {
			row[3] = e.Sender
			if row[3] == "" {
				row[3] = "<>"
			}
		}
		row[4] = e.Recipient
		row[5] = e.SrcIP
		row[7] = e.SourceFile + ":" + strconv.Itoa(e.SourceLine)
	}
	// The rule's title is a column already; show what an analyst checks
	// next: the attachment names, else the MTA's reason, else the message.
	var detail string
	if a.Event != nil {
		if len(a.Event.AttachmentName) > 0 {
			detail = strings.Join(a.Event.AttachmentName, ", ")
		} else {
			detail = a.Event.Reason
		}
	}
	if detail == "" {
		detail = a.Message
	}
	if len(a.Group) > 0 {
		keys := make([]string, 0, len(a.Group))
		for k := range a.Group {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		parts := make([]string, 0, len(keys)+1)
		for _, k := range keys {
			parts = append(parts, k+"="+a.Group[k])
		}
		if a.Count > 0 {
			parts = append(parts, "count="+strconv.Itoa(a.Count))
		}
		if detail != "" {
			detail += " "
		}
		detail += "[" + strings.Join(parts, " ") + "]"
	}
	row[6] = detail
	return row
}

type csvWriter struct {
	w      *csv.Writer
	header bool
}

func (c *csvWriter) Write(a *schema.Alert) error {
	if !c.header {
		c.header = true
		if err := c.w.Write(alertColumns); err != nil {
			return err
		}
	}
	row := alertRow(a)
	for i := range row {
		row[i] = defuseFormula(row[i])
	}
	return c.w.Write(row)
}

// defuseFormula keeps spreadsheet programs from executing a cell: subjects
// and attachment names are attacker-controlled, and "=HYPERLINK(...)" in a
// CSV opened in a spreadsheet is a known injection vector. A leading quote
// makes the cell plain text.
func defuseFormula(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

func (c *csvWriter) Flush() error {
	c.w.Flush()
	return c.w.Error()
}

func (c *csvWriter) Close() error {
	if !c.header {
		c.header = true
		if err := c.w.Write(alertColumns); err != nil {
			return err
		}
	}
	return c.Flush()
}

// tableWriter holds rows until Close so columns can be aligned. Cells are
// capped so one long reject reason cannot push everything off screen.
type tableWriter struct {
	w    io.Writer
	rows [][]string
}

const maxCell = 60

func (t *tableWriter) Write(a *schema.Alert) error {
	t.rows = append(t.rows, alertRow(a))
	return nil
}

func (t *tableWriter) Flush() error { return nil }

func (t *tableWriter) Close() error {
	if len(t.rows) == 0 {
		_, err := io.WriteString(t.w, "no alerts\n")
		return err
	}
	return WriteTable(t.w, upper(alertColumns), t.rows)
}

func upper(cols []string) []string {
	out := make([]string, len(cols))
	for i, c := range cols {
		out[i] = strings.ToUpper(c)
	}
	return out
}

// WriteTable writes header and rows as space-aligned columns, truncating
// cells longer than 60 characters with an ellipsis.
func WriteTable(w io.Writer, header []string, rows [][]string) error {
	width := make([]int, len(header))
	cell := func(s string) string {
		s = strings.Map(func(r rune) rune {
			if r < 0x20 {
				return ' '
			}
			return r
		}, s)
		if r := []rune(s); len(r) > maxCell {
			return string(r[:maxCell-1]) + "…"
		}
		return s
	}
	all := append([][]string{header}, rows...)
	for i, row := range all {
		for j := range row {
			all[i][j] = cell(row[j])
			if n := len([]rune(all[i][j])); j < len(width) && n > width[j] {
				width[j] = n
			}
		}
	}
	bw := bufio.NewWriter(w)
	for _, row := range all {
		for j, c := range row {
			if j > 0 {
				bw.WriteString("  ")
			}
			bw.WriteString(c)
			if j < len(row)-1 {
				bw.WriteString(strings.Repeat(" ", width[j]-len([]rune(c))))
			}
		}
		bw.WriteByte('\n')
	}
	return bw.Flush()
}

// EventWriter writes normalized events as JSON lines (`detect normalize`).
type EventWriter struct {
	w   *bufio.Writer
	buf []byte
}

// NewEventWriter returns a JSON-lines event writer on w.
func NewEventWriter(w io.Writer) *EventWriter {
	return &EventWriter{w: bufio.NewWriterSize(w, 64<<10)}
}

// Write writes one event.
func (ew *EventWriter) Write(e *schema.Event) error {
	ew.buf = e.AppendJSON(ew.buf[:0])
	ew.buf = append(ew.buf, '\n')
	_, err := ew.w.Write(ew.buf)
	return err
}

// Flush pushes buffered events out.
func (ew *EventWriter) Flush() error { return ew.w.Flush() }

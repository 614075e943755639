package report

import (
	"fmt"
	"html/template"
	"io"
	"math"
	"strings"
	"time"

	"github.com/detect-dev/detect/query"
)

// WriteHTML writes the report as one self-contained HTML page: inline CSS
// and SVG charts, no scripts, nothing fetched from the network. It prints
// on paper as it shows on screen (hourly tables aside, which stay folded).
func (r *Report) WriteHTML(w io.Writer) error {
	return pageTemplate.Execute(w, r.htmlData())
}

type htmlData struct {
	Title     string
	Period    string
	Generated string
	Limits    string
	Totals    []totalCard
	Sections  []htmlSection
}

type totalCard struct {
	Label, Value, Note string
}

type htmlSection struct {
	ID, Title string
	Tables    []htmlTable
	Empty     []string
}

type htmlTable struct {
	ID, Title, Query string
	Chart            *svgChart
	Columns          []string
	Right            []bool
	Rows             [][]string
	Fold             bool // the table under a chart: folded
}

type svgChart struct {
	W, H      int
	Label     string
	Bars      []svgBar
	YTicks    []svgTick
	XLabels   []svgTick
	Legend    []legendItem
	PlotLeft  int
	PlotRight int
	PlotTop   int
	PlotW     int
	PlotH     int
}

type svgBar struct {
	X, Y, W, H float64
	Color      string
	Tip        string
}

type svgTick struct {
	X, Y float64
	Text string
}

type legendItem struct{ Name, Color string }

func (r *Report) htmlData() htmlData {
	d := htmlData{
		Title:  "Mail report",
		Period: formatPeriod(r.Period),
	}
	if !r.Generated.IsZero() {
		d.Generated = r.Generated.UTC().Format(time.RFC3339)
	}
	if !r.Period.Since.IsZero() || !r.Period.Until.IsZero() {
		d.Limits = fmt.Sprintf("limited to %s .. %s; %d events outside left out", bound(r.Period.Since), bound(r.Period.Until), r.Skipped)
	}
	for _, l := range r.totalLines() {
		d.Totals = append(d.Totals, totalCard{Label: l[0], Value: l[1], Note: l[2]})
	}
	for _, sec := range r.Sections {
		hs := htmlSection{ID: sec.ID, Title: sec.Title}
		for _, t := range sec.Tables {
			if len(t.Result.Rows) == 0 {
				hs.Empty = append(hs.Empty, t.Title)
				continue
			}
			ht := htmlTable{ID: t.ID, Title: t.Title, Query: t.Query, Right: numericColumns(t.Result)}
			ht.Columns, ht.Rows = textCells(t.Result)
			if t.Chart {
				ht.Chart = newChart(t.Result, t.Title)
				ht.Fold = true
			}
			hs.Tables = append(hs.Tables, ht)
		}
		d.Sections = append(d.Sections, hs)
	}
	return d
}

// seriesColors keeps the usual colors for the actions; other series take
// the palette in order.
var seriesColors = map[string]string{
	"delivered":   "#2e7d32",
	"deferred":    "#f9a825",
	"bounced":     "#ef6c00",
	"rejected":    "#c62828",
	"warned":      "#fdd835",
	"quarantined": "#6a1b9a",
	"discarded":   "#5d4037",
	"OTHER":       "#9e9e9e",
	"NULL":        "#cfd8dc",
}

var palette = []string{"#1565c0", "#00838f", "#7cb342", "#8e24aa", "#d81b60", "#f4511e", "#3949ab", "#00897b", "#c0ca33", "#6d4c41"}

// newChart draws a timechart as stacked bars.
func newChart(res *query.Result, label string) *svgChart {
	c := &svgChart{W: 960, H: 260, PlotLeft: 56, PlotTop: 10, Label: label}
	c.PlotW = c.W - c.PlotLeft - 12
	c.PlotRight = c.PlotLeft + c.PlotW
	c.PlotH = c.H - c.PlotTop - 36
	series := res.Columns[1:]
	used := 0
	colors := make([]string, len(series))
	for i, s := range series {
		col, ok := seriesColors[s]
		if !ok {
			col = palette[used%len(palette)]
			used++
		}
		colors[i] = col
		c.Legend = append(c.Legend, legendItem{Name: s, Color: col})
	}
	var peak float64
	for _, row := range res.Rows {
		var sum float64
		for _, v := range row[1:] {
			if n, ok := v.Float(); ok && n > 0 {
				sum += n
			}
		}
		peak = math.Max(peak, sum)
	}
	top := niceCeil(peak)
	n := len(res.Rows)
	slot := float64(c.PlotW) / float64(n)
	barW := slot
	if slot > 4 {
		barW = slot * 0.8
	}
	layout := "2006-01-02 15:04"
	if daily(res) {
		layout = "2006-01-02"
	}
	for i, row := range res.Rows {
		x := float64(c.PlotLeft) + float64(i)*slot + (slot-barW)/2
		y := float64(c.PlotTop + c.PlotH)
		when := row[0].Time().Format(layout)
		for j, v := range row[1:] {
			val, ok := v.Float()
			if !ok || val <= 0 {
				continue
			}
			h := val / top * float64(c.PlotH)
			y -= h
			c.Bars = append(c.Bars, svgBar{X: round1(x), Y: round1(y), W: round1(barW), H: round1(h), Color: colors[j],
				Tip: fmt.Sprintf("%s %s: %s", when, series[j], v.Text(""))})
		}
	}
	for k := 0; k <= 4; k++ {
		v := top * float64(k) / 4
		c.YTicks = append(c.YTicks, svgTick{X: float64(c.PlotLeft - 6), Y: round1(float64(c.PlotTop+c.PlotH) - v/top*float64(c.PlotH)), Text: trimFloat(v)})
	}
	step := max(1, (n+9)/10)
	for i := 0; i < n; i += step {
		c.XLabels = append(c.XLabels, svgTick{X: round1(float64(c.PlotLeft) + (float64(i)+0.5)*slot), Y: float64(c.PlotTop + c.PlotH + 16), Text: res.Rows[i][0].Time().Format(layout)})
	}
	return c
}

func daily(res *query.Result) bool {
	for _, row := range res.Rows {
		if t := row[0].Time(); t.Hour() != 0 || t.Minute() != 0 {
			return false
		}
	}
	return true
}

// niceCeil rounds up to 1, 2, 2.5 or 5 times a power of ten (at least 1).
func niceCeil(v float64) float64 {
	if v <= 1 {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 2, 2.5, 5, 10} {
		if m*p >= v {
			return m * p
		}
	}
	return 10 * p
}

func round1(v float64) float64 { return math.Round(v*10) / 10 }

func trimFloat(v float64) string {
	if v == math.Trunc(v) {
		return fmt.Sprint(int64(v))
	}
	return strings.TrimRight(strings.TrimRight(fmt.Sprintf("%.2f", v), "0"), ".")
}

var pageTemplate = template.Must(template.New("report").Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}}: {{.Period}}</title>
<style>
:root { color-scheme: light; }
body { font: 14px/1.4 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #1b1f23; margin: 24px auto; max-width: 1000px; padding: 0 16px; }
h1 { font-size: 22px; margin: 0 0 4px; }
h2 { font-size: 18px; border-bottom: 2px solid #1b1f23; padding-bottom: 2px; margin-top: 32px; }
h3 { font-size: 15px; margin: 20px 0 4px; }
.meta { color: #57606a; }
.cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(180px, 1fr)); gap: 8px; margin-top: 16px; }
.card { border: 1px solid #d0d7de; border-radius: 6px; padding: 8px 10px; }
.card .v { font-size: 20px; font-weight: 600; }
.card .l { text-transform: uppercase; font-size: 11px; letter-spacing: .04em; color: #57606a; }
.card .n { font-size: 12px; color: #57606a; }
table { border-collapse: collapse; margin: 4px 0 8px; }
th, td { padding: 2px 10px 2px 0; text-align: left; vertical-align: top; max-width: 520px; overflow-wrap: anywhere; }
th { border-bottom: 1px solid #8c959f; font-weight: 600; }
td.r, th.r { text-align: right; }
tr:nth-child(even) td { background: #f6f8fa; }
code.q { display: block; font-size: 11px; color: #57606a; overflow-wrap: anywhere; margin-bottom: 4px; }
.legend { display: flex; flex-wrap: wrap; gap: 12px; font-size: 12px; margin: 2px 0 0 56px; }
.legend span::before { content: ""; display: inline-block; width: 10px; height: 10px; margin-right: 4px; background: var(--c); vertical-align: -1px; }
svg { width: 100%; height: auto; }
svg text { font: 11px system-ui, sans-serif; fill: #57606a; }
.none { color: #57606a; font-style: italic; }
.chart, table { break-inside: avoid; }
@media print {
  body { margin: 0; max-width: none; font-size: 11px; }
  h2 { break-after: avoid; }
  details:not([open]) { display: none; }
}
</style>
</head>
<body>
<h1>{{.Title}}</h1>
<div class="meta">{{.Period}}{{if .Generated}} · generated {{.Generated}}{{end}}{{if .Limits}} · {{.Limits}}{{end}}</div>
<section id="totals">
<h2>Totals</h2>
<div class="cards">
{{- range .Totals}}
<div class="card"><div class="l">{{.Label}}</div><div class="v">{{.Value}}</div><div class="n">{{.Note}}</div></div>
{{- end}}
</div>
</section>
{{- range .Sections}}
<section id="{{.ID}}">
<h2>{{.Title}}</h2>
{{- range $t := .Tables}}
<div class="block" id="{{.ID}}">
<h3>{{.Title}}</h3>
<code class="q">detect query '{{.Query}}'</code>
{{- with $c := .Chart}}
<div class="chart">
<svg viewBox="0 0 {{.W}} {{.H}}" role="img" aria-label="{{.Label}}" xmlns="http://www.w3.org/2000/svg">
{{- range .YTicks}}
<line x1="{{$c.PlotLeft}}" x2="{{$c.PlotRight}}" y1="{{.Y}}" y2="{{.Y}}" stroke="#eaeef2"/>
{{- end}}
{{- range .Bars}}
<rect x="{{.X}}" y="{{.Y}}" width="{{.W}}" height="{{.H}}" fill="{{.Color}}"><title>{{.Tip}}</title></rect>
{{- end}}
{{- range .YTicks}}
<text x="{{.X}}" y="{{.Y}}" text-anchor="end" dominant-baseline="middle">{{.Text}}</text>
{{- end}}
{{- range .XLabels}}
<text x="{{.X}}" y="{{.Y}}" text-anchor="middle">{{.Text}}</text>
{{- end}}
</svg>
<div class="legend">{{range .Legend}}<span style="--c: {{.Color}}">{{.Name}}</span>{{end}}</div>
</div>
{{- end}}
{{- if .Fold}}<details><summary>table</summary>{{end}}
<table>
<thead><tr>{{range $i, $h := .Columns}}<th{{if index $t.Right $i}} class="r"{{end}}>{{$h}}</th>{{end}}</tr></thead>
<tbody>
{{- range .Rows}}
<tr>{{range $i, $v := .}}<td{{if index $t.Right $i}} class="r"{{end}}>{{$v}}</td>{{end}}</tr>
{{- end}}
</tbody>
</table>
{{- if .Fold}}</details>{{end}}
</div>
{{- end}}
{{- if .Empty}}
<p class="none">None: {{range $i, $e := .Empty}}{{if $i}}; {{end}}{{$e}}{{end}}.</p>
{{- end}}
</section>
{{- end}}
</body>
</html>
`))

package ruledoc

import (
	"bufio"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/detect-dev/detect/normalize"
	_ "github.com/detect-dev/detect/normalize/amavis"
	_ "github.com/detect-dev/detect/normalize/exchange"
	_ "github.com/detect-dev/detect/normalize/exim"
	_ "github.com/detect-dev/detect/normalize/m365"
	_ "github.com/detect-dev/detect/normalize/postfix"
	_ "github.com/detect-dev/detect/normalize/sendmail"
	_ "github.com/detect-dev/detect/normalize/zeek"
	"github.com/detect-dev/detect/ruletest"
	"github.com/detect-dev/detect/schema"
)

// observed is format -> product -> event type -> fields seen.
type observed map[string]map[string]map[string]map[string]bool

func (o observed) add(format string, ev map[string]any) {
	product, _ := ev["product"].(string)
	typ, _ := ev["event_type"].(string)
	if o[format] == nil {
		o[format] = map[string]map[string]map[string]bool{}
	}
	if o[format][product] == nil {
		o[format][product] = map[string]map[string]bool{}
	}
	if o[format][product][typ] == nil {
		o[format][product][typ] = map[string]bool{}
	}
	for k := range ev {
		switch k {
		case "time", "source_file", "source_line", "product", "event_type":
		default:
			o[format][product][typ][k] = true
		}
	}
}

// goldenFormat names the input format of a parser's golden file: the
// package, except exchange's protocol-log goldens.
func goldenFormat(pkg, file string) string {
	if pkg == "exchange" && (strings.Contains(file, "smtp") || strings.HasPrefix(file, "recv")) {
		return "exchange-smtp"
	}
	return pkg
}

// parserEvidence collects what the parsers produce: their golden files,
// the example log, and the logs of the rule cases.
func parserEvidence(t *testing.T) observed {
	t.Helper()
	o := observed{}
	files, err := filepath.Glob("../../normalize/*/testdata/golden/*.jsonl*")
	if err != nil || len(files) == 0 {
		t.Fatalf("no golden files: %v", err)
	}
	for _, f := range files {
		pkg := filepath.Base(filepath.Dir(filepath.Dir(filepath.Dir(f))))
		if pkg == "csvevents" { // exports carry any field
			continue
		}
		fh, err := os.Open(f)
		if err != nil {
			t.Fatal(err)
		}
		var r io.Reader = fh
		if strings.HasSuffix(f, ".gz") {
			if r, err = gzip.NewReader(fh); err != nil {
				t.Fatal(err)
			}
		}
		sc := bufio.NewScanner(r)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			var ev map[string]any
			if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			o.add(goldenFormat(pkg, filepath.Base(f)), ev)
		}
		fh.Close()
	}
	example, err := os.ReadFile("../../examples/postfix/mail.log")
	if err != nil {
		t.Fatal(err)
	}
	parseInto(t, o, "postfix", string(example))
	cases, err := ruletest.LoadDir("../../tests/rule_cases")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cases {
		if c.Log != "" {
			parseInto(t, o, c.Format, c.Log)
		}
	}
	return o
}

func parseInto(t *testing.T, o observed, format, log string) {
	t.Helper()
	p, err := normalize.New(format, normalize.Options{})
	if err != nil {
		t.Fatal(err)
	}
	emit := func(e *schema.Event) {
		b, err := json.Marshal(e)
		if err != nil {
			t.Fatal(err)
		}
		var ev map[string]any
		if err := json.Unmarshal(b, &ev); err != nil {
			t.Fatal(err)
		}
		o.add(format, ev)
	}
	for i, line := range strings.Split(strings.TrimRight(log, "\n"), "\n") {
		p.Parse(schema.Line{Text: line, File: "case", Number: i + 1}, emit)
	}
	p.Flush(emit)
}

// TestCapabilitiesMatchParsers: the formats table claims exactly what the
// parsers were seen to produce. On failure it prints the table the
// evidence supports.
func TestCapabilitiesMatchParsers(t *testing.T) {
	o := parserEvidence(t)
	table := observed{}
	for _, c := range capabilities {
		for product, types := range c.products {
			for typ, fields := range types {
				ev := map[string]any{"product": product, "event_type": typ}
				for _, f := range fieldsOf(fields) {
					ev[f] = true
				}
				table.add(c.format, ev)
			}
		}
	}
	if got, want := render(table), render(o); got != want {
		t.Errorf("the formats table differs from what the parsers produce; it should read:\n%s", want)
	}
}

// render writes an observed map in the order and shape of capabilities.
func render(o observed) string {
	var b strings.Builder
	var formats []string
	for f := range o {
		formats = append(formats, f)
	}
	sort.Strings(formats)
	for _, f := range formats {
		fmt.Fprintf(&b, "{%q, map[string]map[string]string{\n", f)
		for _, p := range sortedKeys(o[f]) {
			fmt.Fprintf(&b, "\t%q: {\n", p)
			for _, typ := range sortedKeys(o[f][p]) {
				fields := sortedKeys(o[f][p][typ])
				fmt.Fprintf(&b, "\t\t%q: %q,\n", typ, strings.Join(fields, " "))
			}
			b.WriteString("\t},\n")
		}
		b.WriteString("}},\n")
	}
	return b.String()
}

func sortedKeys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

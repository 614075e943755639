package csvevents

import (
	"encoding/csv"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/detect-dev/detect/normalize"
	"github.com/detect-dev/detect/schema"
)

func TestSplitRow(t *testing.T) {
	for in, want := range map[string][]string{
		``:                      {""},
		`a`:                     {"a"},
		`a,`:                    {"a", ""},
		`,`:                     {"", ""},
		`"a,b",c`:               {"a,b", "c"},
		`"a ""q"" b",""`:        {`a "q" b`, ""},
		`x"y,z`:                 {`x"y`, "z"},
		`"a"b,c`:                {"ab", "c"},
		`"",""""`:               {"", `"`},
		`2026,"s, t",,"u"`:      {"2026", "s, t", "", "u"},
		`"multi ""x"", y",last`: {`multi "x", y`, "last"},
	} {
		got, err := SplitRow(in, nil)
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("SplitRow(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{`"open`, `a,"b""`, `"`} {
		if _, err := SplitRow(bad, nil); err != ErrQuote {
			t.Errorf("SplitRow(%q): %v, want ErrQuote", bad, err)
		}
	}
}

// FuzzSplitRow checks SplitRow against encoding/csv on the records both
// accept.
func FuzzSplitRow(f *testing.F) {
	for _, s := range []string{`a,"b,c",d`, `"x""y"`, `,,`, `"a"b`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if strings.ContainsAny(s, "\r\n") {
			return
		}
		got, err := SplitRow(s, nil)
		r := csv.NewReader(strings.NewReader(s))
		r.FieldsPerRecord = -1
		want, werr := r.Read()
		if err != nil || werr != nil || s == "" {
			return
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("SplitRow(%q) = %q, encoding/csv %q", s, got, want)
		}
	})
}

func parseAll(t *testing.T, p normalize.Parser, lines ...string) ([]*schema.Event, []normalize.Result) {
	t.Helper()
	var evs []*schema.Event
	var rs []normalize.Result
	for i, l := range lines {
		rs = append(rs, p.Parse(schema.Line{Text: l, File: "in", Number: i + 1}, func(e *schema.Event) { evs = append(evs, e) }))
	}
	return evs, rs
}

func TestCSVHeader(t *testing.T) {
	// A first row that is no header is not understood; the next is tried.
	evs, rs := parseAll(t, NewCSV(normalize.Options{}),
		"just,some,words", "SRC_USER,Recipient,Email.To.Address,bogus", "a@x,b@y,,z")
	if rs[0] != normalize.NotUnderstood || rs[1] != normalize.Ignored || rs[2] != normalize.Understood {
		t.Fatalf("%v", rs)
	}
	if len(evs) != 1 || evs[0].Sender != "a@x" || evs[0].Recipient != "b@y" {
		t.Errorf("%+v", evs)
	}
}

func TestCSVValues(t *testing.T) {
	p := NewCSV(normalize.Options{Location: time.FixedZone("CET", 3600)})
	evs, rs := parseAll(t, p, "time,sender,size,delay,attachments,attachment_ext",
		`2026-11-27 09:00:00,<>,1024.0,0,"[{""name"":""a.EXE"",""size"":5}]",`,
		`1795766400,s@x,,,a.pdf;b.zip,.PDF;zip`,
		`2026-11-27T08:00:00Z,s@x,,NaN,,`,
		`2026-11-27T08:00:00Z,s@x,,,"[{""name"":1}]",`,
		`yesterday,s@x,,,,`)
	want := []normalize.Result{normalize.Ignored, normalize.Understood, normalize.Understood,
		normalize.NotUnderstood, normalize.NotUnderstood, normalize.NotUnderstood}
	if !reflect.DeepEqual(rs, want) {
		t.Fatalf("%v, want %v", rs, want)
	}
	e := evs[0]
	if !e.Time.Equal(time.Date(2026, 11, 27, 8, 0, 0, 0, time.UTC)) || !e.HasSender || e.Sender != "" ||
		e.Size != 1024 || !e.HasDelay || len(e.Attachments) != 1 || e.Attachments[0].Ext != "exe" {
		t.Errorf("%+v", e)
	}
	if e := evs[1]; !e.Time.Equal(time.Unix(1795766400, 0)) || len(e.Attachments) != 0 ||
		!reflect.DeepEqual(e.AttachmentName, []string{"a.pdf", "b.zip"}) {
		// attachments given as names only, next to an ext list: both kept
		t.Logf("%+v", e)
	}
	if p.Stats()[StatBadValue] != 3 {
		t.Errorf("stats %v", p.Stats())
	}
}

func TestJSONNullSenderAndNesting(t *testing.T) {
	evs, rs := parseAll(t, NewJSON(normalize.Options{}),
		`{"email":{"from":{"address":""}},"source":{"ip":"192.0.2.1"},"tag":"delivery"}`,
		`{"sender":null,"recipient":["a@x","b@y"]}`,
		`{"attachments":[{"name":"a.exe"}],"file.hash.sha256":"ab"}`,
		`not json`, `{"a":1} {"b":2}`)
	if rs[3] != normalize.NotUnderstood || rs[4] != normalize.NotUnderstood || len(evs) != 4 {
		t.Fatalf("%v %d", rs, len(evs))
	}
	if !evs[0].HasSender || evs[0].SrcIP != "192.0.2.1" || evs[0].EventType != "delivery" {
		t.Errorf("%+v", evs[0])
	}
	if evs[1].HasSender || evs[2].Recipient != "b@y" || evs[2].RecipientDomain != "y" {
		t.Errorf("%+v %+v", evs[1], evs[2])
	}
	if evs[3].AttachmentExt[0] != "exe" {
		t.Errorf("%+v", evs[3])
	}
}

func TestStatsKeys(t *testing.T) {
	keys := map[string]bool{}
	for _, k := range StatsKeys() {
		keys[k] = true
	}
	for _, p := range []normalize.Parser{NewCSV(normalize.Options{}), NewJSON(normalize.Options{})} {
		for k := range p.Stats() {
			if !keys[k] {
				t.Errorf("Stats key %q not in StatsKeys", k)
			}
		}
	}
}

// FuzzParse feeds arbitrary lines to both formats (the CSV one after a
// header naming every field) and checks that they never panic and emit
// only valid events.
func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "*.*"))
	for _, name := range files {
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		for _, l := range strings.Split(string(data), "\n") {
			f.Add(l)
		}
	}
	var names []string
	for _, fl := range schema.Fields() {
		names = append(names, fl.Name())
	}
	header := strings.Join(names, ",")
	f.Fuzz(func(t *testing.T, text string) {
		check := func(ev *schema.Event) {
			if b := ev.AppendJSON(nil); !json.Valid(b) {
				t.Errorf("invalid JSON: %s", b)
			}
		}
		c := NewCSV(normalize.Options{})
		c.Parse(schema.Line{Text: header}, check)
		j := NewJSON(normalize.Options{})
		for i, l := range strings.Split(text, "\n") {
			for _, p := range []normalize.Parser{c, j} {
				if r := p.Parse(schema.Line{Text: l, File: "f", Number: i + 1}, check); r > normalize.NotUnderstood {
					t.Errorf("result %v", r)
				}
			}
		}
	})
}

func TestSniff(t *testing.T) {
	for line, want := range map[string]string{
		"time,host,product,event_type,action,sender,recipient":                         "csv",
		`"_time","dest","src_user","recipient","file_name","file_size"`:                "csv",
		"sender,recipient,action,attachment_type,attachment_size,subject,time":         "csv",
		"@timestamp,observer.hostname,email.from.address,email.attachments.file.name":  "csv",
		`{"@timestamp":"2026-11-27T08:02:20.5Z","email":{"from":{"address":["a@b"]}}}`: "json-export",
		`{"_time":1795766580,"src_user":"x@y.example"}`:                                "json-export",
		`{"sender":"a@b","event_type":"delivery"}`:                                     "json",
		"name,age,city": "",
		"Nov 27 08:00:00 mx exim[1]: 1vA2bC-000123-AB <= a@b.example H=mx [192.0.2.1] S=1": "",
	} {
		if got := normalize.Sniff(line); got != want {
			t.Errorf("Sniff(%q) = %q, want %q", line, got, want)
		}
	}
}

func TestSniffLeavesZeekJSON(t *testing.T) {
	// Zeek records shipped with an @timestamp are still Zeek's (the zeek
	// format is not registered here, so they fall to "json").
	if got := normalize.Sniff(`{"@timestamp":"2026-11-27T08:00:00Z","_path":"smtp","uid":"C1"}`); got == "json-export" {
		t.Errorf("Sniff = %q", got)
	}
}

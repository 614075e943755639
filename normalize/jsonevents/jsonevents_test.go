package jsonevents

import (
	"testing"

	"github.com/detect-dev/detect/normalize"
	"github.com/detect-dev/detect/schema"
)

func TestParse(t *testing.T) {
	p, err := normalize.New("json", normalize.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var got []*schema.Event
	emit := func(e *schema.Event) { got = append(got, e) }
	cases := []struct {
		text string
		want normalize.Result
	}{
		{`{"sender":"","recipient":"a@B.org","attachment_ext":["exe"]}`, normalize.Understood},
		{`{"sender":"x@y","source_file":"orig.log","source_line":3}`, normalize.Understood},
		{"   ", normalize.Ignored},
		{`{"sender":`, normalize.NotUnderstood},
		{`not json`, normalize.NotUnderstood},
		{`{"size":"big"}`, normalize.NotUnderstood},
	}
	for i, c := range cases {
		if r := p.Parse(schema.Line{Text: c.text, File: "in.jsonl", Number: i + 1}, emit); r != c.want {
			t.Errorf("line %d %q: got %v want %v", i+1, c.text, r, c.want)
		}
	}
	if len(got) != 2 {
		t.Fatalf("want 2 events, got %d", len(got))
	}
	if !got[0].HasSender || got[0].RecipientDomain != "b.org" || got[0].SourceFile != "in.jsonl" || got[0].SourceLine != 1 {
		t.Errorf("first event: %+v", got[0])
	}
	if got[1].SourceFile != "orig.log" || got[1].SourceLine != 3 {
		t.Errorf("origin not kept: %+v", got[1])
	}
	if p.Stats()["blank_lines"] != 1 {
		t.Errorf("stats %v", p.Stats())
	}
}

func FuzzParse(f *testing.F) {
	f.Add(`{"sender":"","attachments":[{"name":"a.exe"}]}`)
	f.Add(`{"time":"2026-01-01T00:00:00Z","delay":0}`)
	f.Add(`[1,2]`)
	f.Fuzz(func(t *testing.T, s string) {
		p := &Parser{}
		p.Parse(schema.Line{Text: s, File: "f", Number: 1}, func(e *schema.Event) { _ = e.AppendJSON(nil) })
	})
}

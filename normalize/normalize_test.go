package normalize

import (
	"strings"
	"testing"

	"github.com/detect-dev/detect/schema"
)

type nopParser struct{}

func (nopParser) Parse(schema.Line, Emit) Result { return Ignored }
func (nopParser) Flush(Emit)                     {}
func (nopParser) Stats() map[string]int          { return nil }

func TestRegistry(t *testing.T) {
	Register("nop-test", func(Options) Parser { return nopParser{} })
	if _, err := New("nop-test", Options{}); err != nil {
		t.Fatal(err)
	}
	_, err := New("exim9", Options{})
	if err == nil || !strings.Contains(err.Error(), "nop-test") {
		t.Errorf("unknown format error should list known ones: %v", err)
	}
	defer func() {
		if recover() == nil {
			t.Error("duplicate registration did not panic")
		}
	}()
	Register("nop-test", func(Options) Parser { return nopParser{} })
}

func TestSniff(t *testing.T) {
	for line, want := range map[string]string{
		`{"sender":"a@b"}`: "json",
		"\ufeff  {":        "json",
		"Feb 20 04:05:39 fangorn postfix/pickup[15241]: 0D7037A4: uid=0 from=<root>":  "postfix",
		"2023-03-14T00:00:31+01:00 helga postfix-out/smtp[1]: x":                      "postfix",
		"2026-01-01 10:00:00 1vA2bC-000123-AB <= a@b.example H=mx [192.0.2.1] S=1234": "",
		"": "",
	} {
		if got := Sniff(line); got != want {
			t.Errorf("Sniff(%q) = %q, want %q", line, got, want)
		}
	}
}

func TestSniffNeedsAWholePostfixTag(t *testing.T) {
	for line, want := range map[string]string{
		"<22>1 2026-11-27T08:03:12Z mx1 postfix/10025/smtpd 1201 - - NOQUEUE: reject":  "postfix",
		"Nov 28 05:57:01 mx1 postfix-out/smtp[7]: 4F1A: to=<a@b>":                      "postfix",
		"| postfix-helo/postfix-spam.log | .tests/postfix-helo/postfix-spam.log | 2 |": "",
		"- File: postfix.ini  <- contrib/ossec-testing/tests/postfix.ini":              "",
		"see postfix/ for details": "",
	} {
		if got := Sniff(line); got != want {
			t.Errorf("Sniff(%q) = %q, want %q", line, got, want)
		}
	}
}

package sigma

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/detect-dev/detect/schema"
)

// FuzzParseFile checks that no input makes ParseFile or Match panic, that
// errors are always a positioned ErrorList, and that a rule is returned only
// with a compiled condition. Run with
//
//	go test -run XXX -fuzz FuzzParseFile -fuzzminimizetime 3s ./engine/sigma/
//
// The seeds are whole rule files, and minimizing a new input at the default
// 60s per input looks like a stall (execs stop counting meanwhile).
func FuzzParseFile(f *testing.F) {
	for _, pattern := range []string{"testdata/rules/*.yml", "testdata/bad/*.yml"} {
		files, err := filepath.Glob(pattern)
		if err != nil {
			f.Fatal(err)
		}
		for _, path := range files {
			data, err := os.ReadFile(path)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(data)
		}
	}
	for _, det := range []string{
		"  kw:\n    - 'a*b?c\\*'\n    - 5\n  condition: kw",
		"  s:\n    '|all': [x, y]\n    '|re|i': '^a'\n  condition: not s",
		"  s:\n    src_ip|cidr: ['::ffff:10.0.0.0/104', 10.0.0.1]\n    size|gt: 1e3\n  condition: all of them",
		"  s:\n    subject|base64offset|contains: été\n    helo|exists: false\n    reason: null\n  condition: 1 of s* or (s and not s)",
		"  a: &x {subject: a}\n  b: *x\n  condition: a or b",
		"  s: &x [*x]\n  condition: s",
	} {
		f.Add([]byte(testHeader + "detection:\n" + det + "\n"))
	}
	events := append(genEvents(16), &schema.Event{})
	f.Fuzz(func(t *testing.T, data []byte) {
		rules, err := ParseFile("fuzz.yml", data)
		if err != nil {
			var list ErrorList
			if !errors.As(err, &list) || len(list) == 0 {
				t.Fatalf("error %T is not a non-empty ErrorList: %v", err, err)
			}
			for _, e := range list {
				if e.File != "fuzz.yml" || e.Line < 1 || e.Col < 1 || e.Msg == "" {
					t.Fatalf("badly positioned error %q", e)
				}
			}
		}
		for _, r := range rules {
			if r.cond == nil {
				t.Fatalf("rule %q returned without a condition", r.Title)
			}
			for _, e := range events {
				r.Match(e)
			}
		}
	})
}

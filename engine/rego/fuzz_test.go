package rego

import (
	"errors"
	"path/filepath"
	"testing"
	"time"
)

// FuzzCompile feeds rule loading arbitrary modules: it must not panic,
// every error must be positioned, every loaded rule must have an id and a
// title, and evaluating what loaded must not panic either.
//
//	go test -fuzz FuzzCompile ./engine/rego
func FuzzCompile(f *testing.F) {
	for _, pattern := range []string{"testdata/bad/*.rego", "testdata/rules/*.rego", "../../rules/rego/*.rego"} {
		paths, _ := filepath.Glob(pattern)
		for _, p := range paths {
			for _, file := range readFiles(f, p) {
				f.Add(file.Data)
			}
		}
	}
	event := fullEvent()
	f.Fuzz(func(t *testing.T, src []byte) {
		s, err := Compile([]File{{Path: "f.rego", Data: src}}, map[string]any{"n": 1}, Options{Budget: 50 * time.Millisecond})
		if err != nil {
			var list ErrorList
			if !errors.As(err, &list) || len(list) == 0 {
				t.Fatalf("error %T is not an ErrorList: %v", err, err)
			}
			for _, e := range list {
				if e.File != "f.rego" || e.Line < 1 || e.Col < 1 {
					t.Fatalf("unpositioned error: %v", e)
				}
			}
		}
		for _, r := range s.Rules() {
			if r.ID == "" || r.Title == "" {
				t.Fatalf("rule without id or title loaded: %+v", r)
			}
		}
		s.Eval(event)
	})
}

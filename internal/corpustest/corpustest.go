// Package corpustest locates the shared corpus of real public mail logs
// (../shared/corpus next to the repository) for tests.
//
// A user's clone has no corpus, so tests skip with a reason. CI and
// developers who have it set DETECT_REQUIRE_CORPUS=1: then a missing corpus
// fails the test instead, so a moved folder cannot silently turn the
// golden tests off.
package corpustest

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

// Root is the corpus directory: ../shared/corpus relative to the
// repository root.
func Root() string {
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		return filepath.Join("..", "shared", "corpus")
	}
	// file is <repo>/internal/corpustest/corpustest.go
	return filepath.Join(filepath.Dir(file), "..", "..", "..", "shared", "corpus")
}

// Required reports whether the environment demands the corpus.
func Required() bool { return os.Getenv("DETECT_REQUIRE_CORPUS") != "" }

// Dir returns the absolute path of a corpus subdirectory (e.g. "postfix"),
// skipping the test when it is absent, or failing it when Required.
func Dir(tb testing.TB, sub string) string {
	tb.Helper()
	dir, err := filepath.Abs(filepath.Join(Root(), sub))
	if err != nil {
		tb.Fatalf("corpus path: %v", err)
	}
	if _, err := os.Stat(dir); err != nil {
		if Required() {
			tb.Fatalf("corpus not found at %s, and DETECT_REQUIRE_CORPUS is set", dir)
		}
		tb.Skipf("corpus not found at %s: tests against real logs need the shared corpus (../shared/corpus)", dir)
	}
	return dir
}

//go:build !sigmago

package sigma

import "testing"

// TestSigmaGoDifferential is a placeholder so that a plain test run says
// where the comparison with sigma-go went: its evaluator imports modules the
// repository's go.sum does not list, so it runs with a tag and the module
// file in testdata.
func TestSigmaGoDifferential(t *testing.T) {
	t.Skip("run with: go test -tags sigmago -modfile=engine/sigma/testdata/sigmago.mod ./engine/sigma/ (from the repository root)")
}

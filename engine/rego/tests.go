package rego

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/open-policy-agent/opa/v1/ast"
	oparego "github.com/open-policy-agent/opa/v1/rego"
	"github.com/open-policy-agent/opa/v1/tester"
)

// TestTimeout bounds one OPA unit test.
const TestTimeout = 10 * time.Second

// TestResult is the outcome of one OPA unit test (a test_ rule of a
// *_test.rego file), or a test file that does not compile.
type TestResult struct {
	File    string
	Line    int
	Name    string // package and rule, e.g. detect.rules.x_test.test_fires
	Rule    *Rule  // the rule under test: its package, or its package + _test
	Pass    bool
	Skipped bool   // a todo_ test
	Reason  string // why it failed
	Output  string // what the test printed (print is enabled in tests)
}

// RunTests runs the OPA unit tests in tests against the Set's rules, with
// the same data.config, built-ins, event schema and sandbox as the scan.
// Results are in file and line order. A test file that does not compile
// yields one failed result per error, and does not keep the other files'
// tests from running.
func (s *Set) RunTests(ctx context.Context, tests []File) []TestResult {
	var out []TestResult
	parsed := map[string]*ast.Module{}
	for _, f := range tests {
		m, err := ast.ParseModuleWithOpts(f.Path, string(f.Data), parseOptions())
		if err == nil && m == nil {
			err = fmt.Errorf("empty test file")
		}
		if err != nil {
			out = append(out, failedFile(fromOPA(err, f.Path))...)
			continue
		}
		parsed[f.Path] = m
	}
	results, err := s.runTests(ctx, parsed)
	if err != nil {
		// Find the files at fault by running each on its own.
		results = nil
		for _, path := range sortedKeys(parsed) {
			r, err := s.runTests(ctx, map[string]*ast.Module{path: parsed[path]})
			if err != nil {
				out = append(out, failedFile(fromOPA(err, path))...)
				continue
			}
			results = append(results, r...)
		}
	}
	out = append(out, results...)
	slices.SortStableFunc(out, func(a, b TestResult) int {
		if c := strings.Compare(a.File, b.File); c != 0 {
			return c
		}
		return a.Line - b.Line
	})
	return out
}

func failedFile(errs []*Error) []TestResult {
	out := make([]TestResult, len(errs))
	for i, e := range errs {
		out[i] = TestResult{File: e.File, Line: e.Line, Name: "(test file does not compile)", Reason: e.Error()}
	}
	return out
}

// runTests runs the tests of the given test modules with the Set's rules.
func (s *Set) runTests(ctx context.Context, tests map[string]*ast.Module) ([]TestResult, error) {
	modules := make(map[string]*ast.Module, len(s.rules)+len(tests))
	for _, r := range s.rules {
		modules[r.File] = r.module
	}
	for path, m := range tests {
		modules[path] = m
	}
	byPackage := map[string]*Rule{}
	for _, r := range s.rules {
		byPackage["data."+r.Package] = r
	}
	runner := tester.NewRunner().
		SetCompiler(newCompiler(true, editDistanceDecl)).
		SetStore(newStore(s.data)).
		SetModules(modules).
		AddCustomBuiltins([]*tester.Builtin{{
			Decl: builtinDecl(editDistanceDecl),
			Func: oparego.Function2(editDistanceDecl, editDistanceBuiltin),
		}}).
		CapturePrintOutput(true).
		SetTimeout(TestTimeout)
	ch, err := runner.RunTests(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("rego tests: %w", err)
	}
	var out []TestResult
	for tr := range ch {
		res := TestResult{
			Name:    strings.TrimPrefix(tr.Package, "data.") + "." + tr.Name,
			Pass:    tr.Pass(),
			Skipped: tr.Skip,
			Output:  string(tr.Output),
			Rule:    byPackage[strings.TrimSuffix(tr.Package, "_test")],
		}
		if tr.Location != nil {
			res.File, res.Line = tr.Location.File, tr.Location.Row
		}
		switch {
		case tr.Error != nil:
			res.Reason = "error: " + tr.Error.Error()
		case tr.Fail:
			res.Reason = "test failed (it was undefined or false)"
			if tr.FailedAt != nil && tr.FailedAt.Location != nil {
				res.Reason = fmt.Sprintf("failed at %s:%d: %s", tr.FailedAt.Location.File, tr.FailedAt.Location.Row, tr.FailedAt)
			}
		}
		out = append(out, res)
	}
	return out, nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

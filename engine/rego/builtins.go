package rego

import (
	"context"
	"fmt"
	"unicode/utf8"
	"unsafe"

	"github.com/open-policy-agent/opa/v1/ast"
	oparego "github.com/open-policy-agent/opa/v1/rego"
	"github.com/open-policy-agent/opa/v1/types"
)

// maxDistanceRunes bounds the inputs of detect.edit_distance, whose cost is
// the product of the lengths: domain names are at most 253 characters.
const maxDistanceRunes = 1024

// editDistanceDecl declares detect.edit_distance(a, b): the number of
// single-character insertions, deletions, substitutions and transpositions
// of two adjacent characters that turn a into b (the optimal string
// alignment distance). It is pure and deterministic.
var editDistanceDecl = &oparego.Function{
	Name:        "detect.edit_distance",
	Description: "Edit distance of two strings: insertions, deletions, substitutions and adjacent transpositions each cost 1.",
	Decl: types.NewFunction(
		types.Args(
			types.Named("a", types.S).Description("first string"),
			types.Named("b", types.S).Description("second string"),
		),
		types.Named("distance", types.N).Description("the distance, 0 when a == b"),
	),
}

func editDistanceBuiltin(_ oparego.BuiltinContext, a, b *ast.Term) (*ast.Term, error) {
	as, ok1 := a.Value.(ast.String)
	bs, ok2 := b.Value.(ast.String)
	if !ok1 || !ok2 {
		return nil, fmt.Errorf("detect.edit_distance: want two strings")
	}
	if isASCII(string(as)) && isASCII(string(bs)) { // domain names: bytes are runes
		if len(as) > maxDistanceRunes || len(bs) > maxDistanceRunes {
			return nil, fmt.Errorf("detect.edit_distance: strings longer than %d characters", maxDistanceRunes)
		}
		return ast.InternedTerm(editDistanceASCII(string(as), string(bs))), nil
	}
	ar, br := []rune(string(as)), []rune(string(bs))
	if len(ar) > maxDistanceRunes || len(br) > maxDistanceRunes {
		return nil, fmt.Errorf("detect.edit_distance: strings longer than %d characters", maxDistanceRunes)
	}
	return ast.InternedTerm(EditDistance(ar, br)), nil
}

func isASCII(s string) bool {
	for i := range len(s) {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// EditDistance is the optimal string alignment distance of a and b:
// insertions, deletions, substitutions and transpositions of adjacent
// characters each cost 1, and no substring is edited twice. It is what
// detect.edit_distance computes, exported for tests and tools.
func EditDistance(a, b []rune) int {
	return osaDistance(a, b, make([]int, 3*(len(b)+1)))
}

// editDistanceASCII is EditDistance of two ASCII strings, without
// allocating for strings of domain-name length.
func editDistanceASCII(a, b string) int {
	var buf [3 * 128]int
	rows := buf[:]
	if n := 3 * (len(b) + 1); n <= len(buf) {
		rows = buf[:n]
	} else {
		rows = make([]int, n)
	}
	return osaDistance(unsafe.Slice(unsafe.StringData(a), len(a)), unsafe.Slice(unsafe.StringData(b), len(b)), rows)
}

// osaDistance computes EditDistance with rows, 3*(len(b)+1) ints of
// scratch space. a and b are only read.
func osaDistance[T byte | rune](a, b []T, rows []int) int {
	// Three rows of the dynamic-programming table are enough: the
	// transposition looks two rows back.
	n := len(b) + 1
	prev2, prev, cur := rows[:n], rows[n:2*n], rows[2*n:3*n]
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			d := min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				d = min(d, prev2[j-2]+1)
			}
			cur[j] = d
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(b)]
}

// activeDecl declares the guard of the generated dispatch module: whether
// rule n is to be evaluated on this event. Rule modules may not call it.
var activeDecl = &oparego.Function{
	Name: "detect.internal.active",
	Decl: types.NewFunction(types.Args(types.N), types.B),
}

// runKey carries the evalRun of one evaluation in its context.
type runKey struct{}

// evalRun is what the engine's internal built-ins of one evaluation read
// and write.
type evalRun struct {
	active activeRules
	// reads are the input fields each rule read (by rule index), as
	// detect.internal.read records them.
	reads []fieldSet
}

// activeRules is the set of rules one evaluation runs, by index.
type activeRules []bool

func activeBuiltin(bctx oparego.BuiltinContext, n *ast.Term) (*ast.Term, error) {
	run, _ := bctx.Context.Value(runKey{}).(*evalRun)
	i, ok := n.Value.(ast.Number).Int()
	return ast.InternedTerm(ok && run != nil && i >= 0 && i < len(run.active) && run.active[i]), nil
}

func withRun(ctx context.Context, run *evalRun) context.Context {
	return context.WithValue(ctx, runKey{}, run)
}

// readDecl declares the marker that instrumented rule modules call before
// each expression that reads input (instrument): detect.internal.read(n)
// records that rule n>>readShift read the fields in the low bits of n. It
// is always true. Rule modules may not call it.
var readDecl = &oparego.Function{
	Name: "detect.internal.read",
	Decl: types.NewFunction(types.Args(types.N), types.B),
}

// readShift is where the rule index starts in detect.internal.read's
// argument: the fields (a fieldSet) are below.
const readShift = 40

func readBuiltin(bctx oparego.BuiltinContext, n *ast.Term) (*ast.Term, error) {
	if run, _ := bctx.Context.Value(runKey{}).(*evalRun); run != nil {
		if x, ok := n.Value.(ast.Number).Int64(); ok {
			if i := int(x >> readShift); i >= 0 && i < len(run.reads) {
				run.reads[i] |= fieldSet(x & (1<<readShift - 1))
			}
		}
	}
	return ast.InternedTerm(true), nil
}

// internalBuiltins are the engine's own built-ins, which rules may not call.
var internalBuiltins = []*oparego.Function{activeDecl, readDecl}

// customBuiltins are the built-ins this package adds to OPA's, for rules
// and tests.
var customBuiltins = []*oparego.Function{editDistanceDecl}

func builtinDecl(f *oparego.Function) *ast.Builtin {
	return &ast.Builtin{Name: f.Name, Description: f.Description, Decl: f.Decl, Nondeterministic: f.Nondeterministic}
}

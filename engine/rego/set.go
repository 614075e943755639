package rego

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/metrics"
	oparego "github.com/open-policy-agent/opa/v1/rego"
	"github.com/open-policy-agent/opa/v1/storage"
	"github.com/open-policy-agent/opa/v1/storage/inmem"
	"github.com/open-policy-agent/opa/v1/topdown"
	"github.com/open-policy-agent/opa/v1/types"

	"github.com/detect-dev/detect/schema"
)

// DefaultBudget is how long one event's Rego evaluation may take unless
// Options say otherwise. Rules take microseconds; the budget is for rules
// that loop over huge ranges, not for ordinary ones on a busy machine.
const DefaultBudget = 250 * time.Millisecond

// MaxStrikes is how many events a rule may exceed the budget on before it
// is disabled for the rest of the Set's life.
const MaxStrikes = 3

// Options tune a Set.
type Options struct {
	// Budget is the time one event's evaluation may take (DefaultBudget
	// when zero).
	Budget time.Duration
	// CacheSize is how many answers each memoized rule keeps
	// (DefaultCacheSize when zero; negative turns memoization off).
	CacheSize int
}

// dispatchFile names the generated module that gathers every rule's alerts.
const dispatchFile = "detect:engine.rego"

// Set is a compiled set of Rego rules, answered by one prepared query. It is
// safe for concurrent use; its mutable state is the rules' memos, the
// values of its constant rules (both only ever hold answers evaluation
// gave) and the accounting of rules that exceeded the time budget or failed
// (Problems).
type Set struct {
	rules  []*Rule
	pq     oparego.PreparedEvalQuery
	fields fieldSet // fields any rule reads: the input holds only these
	budget time.Duration
	data   map[string]any
	consts *constRules // nil when there are none
	// windows are the queries of the windowed rules, by rule index.
	windows map[int]oparego.PreparedEvalQuery

	strikes []atomic.Int32
	mu      sync.Mutex
	trouble map[int]*Problem
}

// Problem is what went wrong evaluating one rule.
type Problem struct {
	Rule     *Rule
	Timeouts int  // events on which the rule exceeded the budget
	Errors   int  // events on which its evaluation failed
	Disabled bool // MaxStrikes timeouts: no longer evaluated
	First    string
}

// Compile checks and compiles rule modules, with data as data.config. It
// returns a Set of the rules that compiled, in file order, and an
// ErrorList of every problem found (nil when none): a broken rule does not
// keep the others from loading, so tools can report everything at once.
func Compile(files []File, data map[string]any, opts Options) (*Set, error) {
	var errs []*Error
	var rules []*Rule
	files = slices.Clone(files)
	slices.SortFunc(files, func(a, b File) int { return strings.Compare(a.Path, b.Path) })
	byPackage := map[string]*Rule{}
	broken := map[string]bool{} // files with errors found before compiling
	seen := map[string]bool{}   // file:line of those errors
	for _, f := range files {
		r, perrs := parseRule(f)
		errs = append(errs, perrs...)
		for _, e := range perrs {
			broken[f.Path] = true
			seen[fmt.Sprintf("%s:%d", e.File, e.Line)] = true
		}
		if r == nil {
			continue
		}
		if prev, dup := byPackage[r.Package]; dup {
			errs = append(errs, errorAt(f.Path, r.module.Package.Location,
				"package %s is also the package of %s:%d; one rule per package", r.Package, prev.File, prev.Line))
			continue
		}
		byPackage[r.Package] = r
		rules = append(rules, r)
	}

	// Compile all together (the broken ones too, so their type errors are
	// reported now); drop the modules with errors and compile again until
	// what is left compiles. Every broken module is reported, each with its
	// own errors.
	var c *ast.Compiler
	for {
		var cerrs []*Error
		c, cerrs = compileRules(rules, false)
		for _, e := range cerrs {
			broken[e.File] = true
			// The compiler's view of a disabled built-in ("undefined
			// function", "var http is unsafe") was reported in clearer
			// words already.
			if !seen[fmt.Sprintf("%s:%d", e.File, e.Line)] || !compilerOnDisabled(e) {
				errs = append(errs, e)
			}
		}
		kept := rules[:0:0]
		for _, r := range rules {
			if !broken[r.File] {
				kept = append(kept, r)
			}
		}
		if len(kept) == len(rules) {
			if len(cerrs) > 0 { // errors outside the rules: nothing is safe
				rules, c = nil, nil
			}
			break
		}
		rules = kept
	}

	s := &Set{rules: rules, budget: opts.Budget, data: data, trouble: map[int]*Problem{}}
	if s.budget <= 0 {
		s.budget = DefaultBudget
	}
	s.strikes = make([]atomic.Int32, len(rules))
	fp := dataFingerprint(data)
	for i, r := range rules {
		r.index = i
		r.Fingerprint = ruleFingerprint(r.source, fp)
		if r.Window != nil {
			continue // its input is a window, built whole
		}
		s.fields |= r.reads
		if r.readsAll {
			s.fields = allFields
		}
	}
	if c != nil && len(rules) > 0 {
		size := opts.CacheSize
		if size == 0 {
			size = DefaultCacheSize
		}
		planMemo(s.rules, c, size)
		for _, r := range s.rules {
			if r.Window != nil {
				r.memo, r.noMemo = nil, "it is a windowed rule"
			}
		}
		s.consts = findConstRules(s.rules, c)
		if c2, cerrs := compileRules(s.rules, true); len(cerrs) == 0 {
			c = c2 // evaluate the instrumented modules
		} else {
			for _, r := range s.rules {
				if r.memo != nil {
					r.memo.traced = false
				}
			}
		}
		err := s.prepare(c)
		if err == nil {
			err = s.prepareWindows(c)
		}
		if err != nil {
			errs = append(errs, &Error{File: rules[0].File, Line: 1, Col: 1, Msg: "preparing the rule query: " + err.Error(), Err: err})
			s.rules = nil
		}
	}
	if len(errs) > 0 {
		return s, sortErrors(errs)
	}
	return s, nil
}

// newCompiler returns a compiler with the sandbox's capabilities, the event
// schema for input, and strict checks.
func newCompiler(print bool, extra ...*oparego.Function) *ast.Compiler {
	ss := ast.NewSchemaSet()
	ss.Put(ast.SchemaRootRef, inputSchema())
	return ast.NewCompiler().
		WithCapabilities(capabilities(extra...)).
		WithSchemas(ss).
		WithStrict(true).
		WithUseTypeCheckAnnotations(true). // windowed rules' input schema
		WithEnablePrintStatements(print).
		WithDefaultRegoVersion(ast.RegoV1)
}

var inputSchema = sync.OnceValue(InputSchema)

// compileRules compiles the rule modules with the dispatch module and checks
// that every alert yields strings or objects. With instrumented, memoized
// rules whose reads are traced are compiled instrumented (instrument).
func compileRules(rules []*Rule, instrumented bool) (*ast.Compiler, []*Error) {
	modules := make(map[string]*ast.Module, len(rules)+1)
	for i, r := range rules {
		modules[r.File] = r.module
		if instrumented && r.memo != nil && r.memo.traced {
			modules[r.File] = instrument(r.module, i)
		}
	}
	disp, blocks := dispatchModule(rules)
	modules[dispatchFile] = disp
	c := newCompiler(false, editDistanceDecl, activeDecl, readDecl)
	c.Compile(modules)
	var errs []*Error
	if c.Failed() {
		for _, e := range fromOPA(c.Errors, "") {
			if e.File == dispatchFile { // a rule's alert does not fit the dispatch
				for i, b := range blocks {
					if e.Line >= b[0] && e.Line <= b[1] {
						r := rules[i]
						e.File, e.Line, e.Col = r.File, r.Line, 1
						e.Msg = "alert: " + e.Msg
					}
				}
			}
			errs = append(errs, e)
		}
		return nil, errs
	}
	for _, r := range rules {
		ref := rulesPrefix.Append(ast.StringTerm(r.name)).Append(ast.StringTerm("alert"))
		t := c.TypeEnv.GetByRef(ref)
		set, ok := t.(*types.Set)
		if t == nil || (ok && alertElemOK(set.Of())) {
			continue
		}
		loc := r.module.Package.Location
		for _, rule := range r.module.Rules {
			if isAlert(rule) {
				loc = rule.Location
				break
			}
		}
		what := types.Sprint(t)
		if ok {
			what = types.Sprint(set.Of())
		}
		errs = append(errs, errorAt(r.File, loc, "alert yields %s; want strings (the message) or objects with a string message", what))
	}
	if len(errs) > 0 {
		return nil, errs
	}
	return c, nil
}

// compilerOnDisabled reports whether e is how the compiler sees a call of a
// built-in missing from the capabilities.
func compilerOnDisabled(e *Error) bool {
	var ae *ast.Error
	if !errors.As(e.Err, &ae) {
		return false
	}
	return strings.HasPrefix(ae.Message, "undefined function ") || strings.HasSuffix(ae.Message, " is unsafe")
}

// alertElemOK reports whether an alert element of type t can be a message
// string or an object with a string message.
func alertElemOK(t types.Type) bool {
	switch t := t.(type) {
	case types.String:
		return true
	case *types.Object:
		m := t.Select("message")
		if m == nil {
			return false
		}
		return canBeString(m)
	case types.Any:
		for _, x := range t {
			if !alertElemOK(x) {
				return false
			}
		}
		return true
	}
	return false
}

func canBeString(t types.Type) bool {
	switch t := t.(type) {
	case types.String:
		return true
	case types.Any:
		return len(t) == 0 || t.Contains(types.S)
	}
	return false
}

// dispatchModule generates the module whose one rule, hits, gathers the
// alerts of every rule as [rule index, alert], each guarded by whether the
// rule is active for this event. It returns the line range of each rule's
// block, to map errors back.
func dispatchModule(rules []*Rule) (*ast.Module, [][2]int) {
	var b strings.Builder
	b.WriteString("package detect.engine\n\n")
	line := 3
	blocks := make([][2]int, len(rules))
	for i, r := range rules {
		if r.Window != nil {
			continue // evaluated on windows (EvalWindow), not events
		}
		fmt.Fprintf(&b, "hits contains [%d, x] if {\n\t%s(%d)\n\tsome x in data.detect.rules.%s.alert\n}\n\n", i, activeDecl.Name, i, r.name)
		blocks[i] = [2]int{line, line + 3}
		line += 5
	}
	if line == 3 {
		b.WriteString("hits := set()\n")
	}
	m, err := ast.ParseModuleWithOpts(dispatchFile, b.String(), parseOptions())
	if err != nil {
		panic("rego: dispatch module does not parse: " + err.Error())
	}
	return m, blocks
}

// prepare builds the one query of the Set over a compiled rule tree.
func (s *Set) prepare(c *ast.Compiler) error {
	store := newStore(s.data)
	r := oparego.New(
		oparego.Compiler(c),
		oparego.Store(store),
		oparego.Query("data.detect.engine.hits"),
		oparego.Function2(editDistanceDecl, editDistanceBuiltin),
		oparego.Function1(activeDecl, activeBuiltin),
		oparego.Function1(readDecl, readBuiltin),
	)
	pq, err := r.PrepareForEval(context.Background())
	if err != nil {
		return fmt.Errorf("rego: %w", err)
	}
	s.pq = pq
	return nil
}

// prepareWindows prepares the query of each windowed rule: its alert set.
func (s *Set) prepareWindows(c *ast.Compiler) error {
	for _, r := range s.rules {
		if r.Window == nil {
			continue
		}
		q := oparego.New(
			oparego.Compiler(c),
			oparego.Store(newStore(s.data)),
			oparego.Query("data."+r.Package+".alert"),
			oparego.Function2(editDistanceDecl, editDistanceBuiltin),
			oparego.Function1(activeDecl, activeBuiltin),
			oparego.Function1(readDecl, readBuiltin),
		)
		pq, err := q.PrepareForEval(context.Background())
		if err != nil {
			return fmt.Errorf("rego: %s: %w", r.Package, err)
		}
		if s.windows == nil {
			s.windows = map[int]oparego.PreparedEvalQuery{}
		}
		s.windows[r.index] = pq
	}
	return nil
}

// dataFingerprint hashes data.config (encoding/json sorts object keys, so
// equal data hash alike).
func dataFingerprint(data map[string]any) []byte {
	b, err := json.Marshal(data)
	if err != nil {
		b = []byte(fmt.Sprint(data))
	}
	sum := sha256.Sum256(b)
	return sum[:]
}

// ruleFingerprint identifies a rule module's source under a data.config.
func ruleFingerprint(source, data []byte) string {
	h := sha256.New()
	h.Write(data)
	h.Write(source)
	return hex.EncodeToString(h.Sum(nil)[:16])
}

func newStore(config map[string]any) storage.Store {
	if config == nil {
		config = map[string]any{}
	}
	return inmem.NewFromObjectWithOpts(map[string]any{"config": config}, inmem.OptReturnASTValuesOnRead(true))
}

// Rules returns the compiled rules in file order.
func (s *Set) Rules() []*Rule { return s.rules }

// Hit is one alert a rule raised on an event.
type Hit struct {
	Rule    *Rule
	Message string         // "" when the rule's object had no message
	Fields  map[string]any // the object's other members
}

// Eval evaluates every rule whose requirements e meets and returns their
// alerts in rule order, and by message within a rule. A rule that exceeds
// the time budget yields nothing for e and is counted (Problems); the other
// rules still yield theirs.
func (s *Set) Eval(e *schema.Event) []Hit {
	return s.eval(e, -1)
}

// EvalRule is Eval for one rule of the Set.
func (s *Set) EvalRule(r *Rule, e *schema.Event) []Hit {
	return s.eval(e, r.index)
}

func (s *Set) eval(e *schema.Event, only int) []Hit {
	st := s.newEvalState()
	defer evalStates.Put(st)
	// Which rules apply, and which of them their memo answers. The others
	// are evaluated together.
	var need fieldSet // what the input must hold for them
	nrun, nmemo := 0, 0
	for i, r := range s.rules {
		if (only >= 0 && i != only) || r.Window != nil || s.strikes[i].Load() >= MaxStrikes || !r.Requires.match(e) {
			continue
		}
		if m := r.memo; m != nil {
			var h []Hit
			var ok bool
			if h, ok, st.keys = m.lookup(e, st.keys); ok {
				st.memo[i], st.hit[i] = h, true
				nmemo++
				continue
			}
			need |= m.fields
		} else {
			need |= s.fields
		}
		st.run.active[i] = true
		nrun++
	}
	var hits []Hit // of the rules evaluated, in rule order
	if nrun > 0 {
		hits = s.runActive(e, eventValue(e, need), st, nrun)
	}
	if nmemo == 0 && !s.memoized(st) {
		return hits
	}
	var out []Hit
	j := 0
	for i, r := range s.rules {
		switch {
		case st.hit[i]:
			out = append(out, cloneHits(st.memo[i])...)
		case st.run.active[i]: // evaluated without error
			k := j
			for k < len(hits) && hits[k].Rule.index == i {
				k++
			}
			if m := r.memo; m != nil {
				st.keys = m.remember(e, st.shape[i], cloneHits(hits[j:k]), st.keys)
			}
			out = append(out, hits[j:k]...)
			j = k
		}
	}
	return out
}

// memoized reports whether a memoized rule was evaluated in st.
func (s *Set) memoized(st *evalState) bool {
	for i, on := range st.run.active {
		if on && s.rules[i].memo != nil {
			return true
		}
	}
	return false
}

// runActive evaluates the active rules (n of them) of st on input and
// returns their hits in rule order, and for each memoized one the shape of
// what it read (st.shape). A rule that fails is accounted and made
// inactive; the others keep their hits.
func (s *Set) runActive(e *schema.Event, input ast.Value, st *evalState, n int) []Hit {
	run := &st.run
	hits, err := s.run(input, run)
	if err == nil {
		s.shapes(st)
		return hits
	}
	// Something went wrong: find out which rule, each on its own, and keep
	// the alerts of the others.
	if n == 1 {
		i := slices.Index(run.active, true)
		s.account(i, e, err)
		run.active[i] = false
		return nil
	}
	all := slices.Clone(run.active)
	clear(run.active)
	hits = nil
	for i, on := range all {
		if !on {
			continue
		}
		run.active[i] = true
		h, err := s.run(input, run)
		if err == nil {
			s.shapes(st)
			hits = append(hits, h...)
		} else {
			s.account(i, e, err)
			all[i] = false
		}
		run.active[i] = false
	}
	copy(run.active, all)
	return hits
}

// shapes records in st.shape what each memoized active rule read in the
// last run.
func (s *Set) shapes(st *evalState) {
	for i, on := range st.run.active {
		if m := s.rules[i].memo; on && m != nil {
			st.shape[i] = m.shapeOf(st.run.reads)
		}
	}
}

// evalState is the scratch space of one eval, by rule index.
type evalState struct {
	run   evalRun
	hit   []bool     // answered by the memo
	memo  [][]Hit    // the memo's answer
	shape []fieldSet // what an evaluated memoized rule read
	keys  []byte
}

var evalStates sync.Pool

func (s *Set) newEvalState() *evalState {
	n := len(s.rules)
	st, _ := evalStates.Get().(*evalState)
	if st == nil || cap(st.hit) < n {
		return &evalState{run: evalRun{active: make(activeRules, n), reads: make([]fieldSet, n)},
			hit: make([]bool, n), memo: make([][]Hit, n), shape: make([]fieldSet, n)}
	}
	st.run.active, st.run.reads = st.run.active[:n], st.run.reads[:n]
	st.hit, st.memo, st.shape = st.hit[:n], st.memo[:n], st.shape[:n]
	clear(st.run.active)
	clear(st.hit)
	clear(st.memo)
	return st
}

// account records a rule's failure on e.
func (s *Set) account(i int, e *schema.Event, err error) {
	timeout := topdown.IsCancel(err)
	if timeout && s.strikes[i].Add(1) > MaxStrikes {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.trouble[i]
	if p == nil {
		p = &Problem{Rule: s.rules[i]}
		where := "an event"
		if e.SourceFile != "" {
			where = fmt.Sprintf("%s:%d", e.SourceFile, e.SourceLine)
		}
		if timeout {
			p.First = fmt.Sprintf("%s: exceeded the %v budget", where, s.budget)
		} else {
			p.First = fmt.Sprintf("%s: %v", where, err)
		}
		s.trouble[i] = p
	}
	if timeout {
		p.Timeouts++
		p.Disabled = p.Timeouts >= MaxStrikes
	} else {
		p.Errors++
	}
}

// Problems lists the rules that exceeded the budget or failed, in rule
// order.
func (s *Set) Problems() []Problem {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Problem, 0, len(s.trouble))
	for _, p := range s.trouble {
		out = append(out, *p)
	}
	slices.SortFunc(out, func(a, b Problem) int { return a.Rule.index - b.Rule.index })
	return out
}

// Budget is the time one event's evaluation may take.
func (s *Set) Budget() time.Duration { return s.budget }

func keepTerm(t *ast.Term, _ *oparego.EvalContext) (any, error) { return t, nil }

var noMetrics = metrics.NoOp()

// query evaluates pq on input within the budget and returns the set it
// yields (nil when undefined or empty).
func (s *Set) query(ctx context.Context, pq oparego.PreparedEvalQuery, input ast.Value, opts ...oparego.EvalOption) (ast.Set, error) {
	cancel := topdown.NewCancel()
	timer := time.AfterFunc(s.budget, cancel.Cancel)
	rs, err := pq.Eval(ctx, append(opts,
		oparego.EvalParsedInput(input),
		oparego.EvalExternalCancel(cancel),
		oparego.EvalGenerateJSON(keepTerm),
		oparego.EvalMetrics(noMetrics),
	)...)
	timer.Stop()
	if err != nil {
		return nil, err
	}
	if len(rs) == 0 || len(rs[0].Expressions) == 0 {
		return nil, nil
	}
	t, _ := rs[0].Expressions[0].Value.(*ast.Term)
	if t == nil {
		return nil, nil
	}
	set, _ := t.Value.(ast.Set)
	if set == nil || set.Len() == 0 {
		return nil, nil
	}
	return set, nil
}

// evalOpts are the options of one evaluation: rule indexing on or off,
// and the constant rules' cache.
func (s *Set) evalOpts(index bool) []oparego.EvalOption {
	opts := []oparego.EvalOption{oparego.EvalRuleIndexing(index)}
	if s.consts != nil {
		opts = append(opts, oparego.EvalVirtualCache(&constCache{VirtualCache: topdown.NewVirtualCache(), consts: s.consts}))
	}
	return opts
}

// run evaluates the active rules of run on input within the budget,
// recording what they read in run.reads.
func (s *Set) run(input ast.Value, run *evalRun) ([]Hit, error) {
	clear(run.reads)
	// The rule index reads input before any marker runs (instrument):
	// off when a rule that records its reads runs.
	index := true
	for i, on := range run.active {
		if m := s.rules[i].memo; on && m != nil && m.traced {
			index = false
			break
		}
	}
	set, err := s.query(withRun(context.Background(), run), s.pq, input, s.evalOpts(index)...)
	if set == nil || err != nil {
		return nil, err
	}
	hits := make([]Hit, 0, set.Len())
	var ferr error
	set.Sorted().Foreach(func(pair *ast.Term) {
		arr, ok := pair.Value.(*ast.Array)
		if !ok || arr.Len() != 2 {
			return
		}
		i, ok := arr.Elem(0).Value.(ast.Number).Int()
		if !ok || i < 0 || i >= len(s.rules) {
			return
		}
		h, err := alertHit(s.rules[i], arr.Elem(1).Value)
		if err != nil {
			ferr = err
		}
		hits = append(hits, h)
	})
	return hits, ferr
}

// alertHit is the Hit of an alert value of rule r: a message string, or an
// object with a message and other fields.
func alertHit(r *Rule, v ast.Value) (Hit, error) {
	h := Hit{Rule: r}
	var ferr error
	switch v := v.(type) {
	case ast.String:
		h.Message = string(v)
	case ast.Object:
		h.Fields = map[string]any{}
		v.Foreach(func(k, val *ast.Term) {
			key, ok := k.Value.(ast.String)
			if !ok {
				key = ast.String(k.Value.String())
			}
			if msg, isStr := val.Value.(ast.String); isStr && key == "message" {
				h.Message = string(msg)
				return
			}
			x, err := ast.JSON(val.Value)
			if err != nil {
				ferr = err
				return
			}
			h.Fields[string(key)] = x
		})
		if len(h.Fields) == 0 {
			h.Fields = nil
		}
	default:
		h.Message = v.String()
	}
	return h, ferr
}

package rego

import (
	"hash/maphash"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/open-policy-agent/opa/v1/ast"

	"github.com/detect-dev/detect/schema"
)

// DefaultCacheSize is how many answers a memoized rule keeps unless Options
// say otherwise.
const DefaultCacheSize = 1 << 16

// clockBuiltins read the evaluation's clock without being declared
// nondeterministic: a rule that calls one is not memoized.
var clockBuiltins = []string{
	"time.now_ns",
	"io.jwt.decode_verify",
	"crypto.x509.parse_and_verify_certificates",
	"crypto.x509.parse_and_verify_certificates_with_options",
}

// impureBuiltins are the built-ins whose result is not a function of their
// arguments: the nondeterministic ones of the capabilities and clockBuiltins.
var impureBuiltins = sync.OnceValue(func() map[string]bool {
	out := map[string]bool{}
	for _, b := range capabilities(customBuiltins...).Builtins {
		if b.Nondeterministic {
			out[b.Name] = true
		}
	}
	for name := range disabled {
		out[name] = true
	}
	for _, name := range clockBuiltins {
		out[name] = true
	}
	return out
})

// ruleMemo is what memoizing one rule takes.
type ruleMemo struct {
	// fields are the input fields the rule can read at all (its module's
	// and, transitively, those of the rules it uses): its input holds
	// these, and they are the one shape of a rule whose reads are not
	// recorded (traced false).
	fields fieldSet
	// traced is whether the rule's evaluations record what they read
	// (instrument); then its answers are keyed by the fields an
	// evaluation read, not by all it could have.
	traced bool
	// always are fields the instrumentation cannot see being read (input
	// imports, default rules): part of every shape.
	always fieldSet
	// deps are the rules (by index) whose modules this rule's evaluation
	// may run, itself included: what they read is what it read.
	deps  []int
	cache *ruleCache

	mu     sync.Mutex                  // serializes adding shapes
	shapes atomic.Pointer[[]memoShape] // copy on write
}

// memoShape is a set of fields some evaluation of the rule read: answers
// are keyed by the values of one shape's fields, prefixed with its index.
type memoShape struct {
	set    fieldSet
	fields []schema.Field
}

// maxShapes bounds a rule's shapes; evaluations that read a set of fields
// beyond them are not remembered.
const maxShapes = 16

// lookup returns the memoized hits of the rule on e, trying each shape in
// the order they were found. buf is scratch space for keys.
func (m *ruleMemo) lookup(e *schema.Event, buf []byte) ([]Hit, bool, []byte) {
	shapes := m.shapes.Load()
	if shapes == nil {
		return nil, false, buf
	}
	for id, sh := range *shapes {
		buf = append(buf[:0], byte(id))
		buf = appendKey(buf, e, sh.fields)
		if h, ok := m.cache.get(buf); ok {
			return h, true, buf
		}
	}
	return nil, false, buf
}

// remember stores hits, the answer of an evaluation on e that read the
// fields reads, under their shape. hits must not be modified afterwards.
func (m *ruleMemo) remember(e *schema.Event, reads fieldSet, hits []Hit, buf []byte) []byte {
	id := m.shape(reads)
	if id < 0 {
		return buf
	}
	sh := (*m.shapes.Load())[id]
	buf = append(buf[:0], byte(id))
	buf = appendKey(buf, e, sh.fields)
	m.cache.put(buf, hits)
	return buf
}

// shape returns the index of the shape of reads, adding it when new, or -1
// when there are maxShapes already.
func (m *ruleMemo) shape(reads fieldSet) int {
	if shapes := m.shapes.Load(); shapes != nil {
		for id, sh := range *shapes {
			if sh.set == reads {
				return id
			}
		}
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	var shapes []memoShape
	if p := m.shapes.Load(); p != nil {
		shapes = *p
	}
	for id, sh := range shapes {
		if sh.set == reads {
			return id
		}
	}
	if len(shapes) >= maxShapes {
		return -1
	}
	sh := memoShape{set: reads}
	for _, f := range schema.Fields() {
		if reads.has(f) {
			sh.fields = append(sh.fields, f)
		}
	}
	next := append(slices.Clip(shapes), sh)
	m.shapes.Store(&next)
	return len(next) - 1
}

// planMemo decides which rules are memoized and by which fields. A rule's
// alerts are a function of the values of the input fields it reads when
//
//   - it reads input only as input.<field> (not input as a whole, and no
//     field with a computed key), so that its reads are known;
//   - it reads data only under data.config, which a Set never changes, or
//     through the rules of other memoizable rule modules
//     (data.detect.rules.<name>...), whose fields it then depends on too;
//   - it calls no built-in whose result is not a function of its arguments
//     (rand.intn, uuid.rfc4122, time.now_ns, io.jwt.decode_verify, ...).
//
// The analysis runs on the compiled modules, where imports and references
// to the module's own rules are resolved to full references. A rule that
// fails a condition is evaluated on every event, as without memoization;
// r.noMemo says why.
func planMemo(rules []*Rule, c *ast.Compiler, size int) {
	byName := make(map[string]int, len(rules))
	for i, r := range rules {
		byName[r.name] = i
	}
	memos := make([]*ruleMemo, len(rules))
	for i, r := range rules {
		r.memo, r.noMemo = nil, ""
		m := c.Modules[r.File]
		if m == nil {
			r.noMemo = "its compiled module is missing"
			continue
		}
		reads, all := inputReads(m)
		reads |= r.reads
		if all || r.readsAll {
			r.noMemo = "it reads input as a whole or with a computed key"
			continue
		}
		deps, why := memoRefs(m, byName)
		if why != "" {
			r.noMemo = why
			continue
		}
		if !slices.Contains(deps, i) {
			deps = append(deps, i)
		}
		memos[i] = &ruleMemo{fields: reads, always: unseenReads(r.module), deps: deps, traced: true}
	}
	// A rule depends on the rules it uses, transitively, and is not
	// memoizable when one of them is not.
	for changed := true; changed; {
		changed = false
		for i, r := range rules {
			m := memos[i]
			if r.noMemo != "" {
				continue
			}
			for _, d := range m.deps {
				dr, dm := rules[d], memos[d]
				if dr.noMemo != "" {
					r.noMemo = "it uses rule " + dr.Package + ", which is not memoized: " + dr.noMemo
					changed = true
					break
				}
				if m.fields|dm.fields != m.fields || m.always|dm.always != m.always {
					m.fields |= dm.fields
					m.always |= dm.always
					changed = true
				}
				for _, dd := range dm.deps {
					if !slices.Contains(m.deps, dd) {
						m.deps = append(m.deps, dd)
						changed = true
					}
				}
			}
		}
	}
	for i, r := range rules {
		if r.noMemo != "" {
			continue
		}
		m := memos[i]
		for _, f := range schema.Fields() {
			if !m.fields.has(f) {
				continue
			}
			if !keyable(f) {
				r.noMemo = "it reads " + f.Name() + ", a field of a kind the cache cannot key"
				break
			}
			if int(f) >= readShift {
				m.traced = false
			}
		}
		if r.noMemo != "" {
			continue
		}
		if size <= 0 {
			r.noMemo = "memoization is off"
			continue
		}
		slices.Sort(m.deps)
		m.cache = newRuleCache(size)
		r.memo = m
	}
}

// unseenReads are the input fields module m reads where instrument puts no
// marker: through imports (import input.sender) and in default rules.
func unseenReads(m *ast.Module) fieldSet {
	var n fieldSet
	for _, imp := range m.Imports {
		reads, _ := inputReads(imp)
		n |= reads
	}
	for _, r := range m.Rules {
		if r.Default {
			reads, _ := inputReads(r)
			n |= reads
		}
	}
	return n
}

// instrument returns a copy of rule module m (as parsed) in which every
// body calls detect.internal.read (readDecl) before each expression that
// reads input, with the fields it reads (closures in it included), and,
// when the head reads input, after the last one. Evaluating the copy
// records in evalRun.reads[index] the fields the evaluation read: input is
// read only while expressions run, and every expression the compiler makes
// of a body expression comes after the marker placed before it (rewrites
// expand an expression in place; reordering for safety only moves
// expressions later, and markers have no variables), so no read precedes
// its marker. Reads the markers cannot see are ruleMemo.always; the rule
// index, which reads input before any body runs, is off in evaluations
// that record reads.
func instrument(m *ast.Module, index int) *ast.Module {
	m = m.Copy()
	for _, r := range m.Rules {
		for def := r; def != nil; def = def.Else {
			if def.Default {
				continue
			}
			head, _ := inputReads(def.Head)
			body := make([]*ast.Expr, 0, 2*len(def.Body)+1)
			for _, x := range def.Body {
				if reads, _ := inputReads(x); reads != 0 {
					body = append(body, readMarker(index, reads, x.Location))
				}
				body = append(body, x)
			}
			if head != 0 {
				body = append(body, readMarker(index, head, def.Head.Location))
			}
			def.Body = ast.NewBody(body...)
		}
	}
	return m
}

var readOp = ast.MustParseRef(readDecl.Name)

func readMarker(index int, reads fieldSet, loc *ast.Location) *ast.Expr {
	x := ast.NewExpr([]*ast.Term{ast.NewTerm(readOp.Copy()), ast.IntNumberTerm(index<<readShift | int(reads))})
	x.Location = loc
	for _, t := range x.Terms.([]*ast.Term) {
		t.Location = loc
	}
	return x
}

// shapeOf is the shape an evaluation of the rule read: what the markers of
// the modules it may run recorded, and what they cannot see.
func (m *ruleMemo) shapeOf(reads []fieldSet) fieldSet {
	if !m.traced {
		return m.fields
	}
	n := m.always
	for _, d := range m.deps {
		n |= reads[d]
	}
	return n & m.fields // the rule can read nothing else (planMemo)
}

// memoRefs returns the rules (by index) that m uses through
// data.detect.rules.<name>, and why m is not memoizable ("" when it is, as
// far as its own references go).
func memoRefs(m *ast.Module, byName map[string]int) ([]int, string) {
	var deps []int
	why := ""
	impure := impureBuiltins()
	dataVar := ast.Var("data")
	var walk func(x any)
	vis := func(x any) bool {
		if why != "" {
			return true
		}
		switch v := x.(type) {
		case ast.Ref:
			head, _ := v[0].Value.(ast.Var)
			switch {
			case head == dataVar:
				d, w := dataRef(v, byName)
				if w != "" {
					why = w
					return true
				}
				if d >= 0 && !slices.Contains(deps, d) {
					deps = append(deps, d)
				}
			case impure[v.String()]:
				why = "it calls " + v.String() + ", whose result is not a function of its arguments"
				return true
			}
			for _, t := range v[1:] {
				walk(t)
			}
			return true
		case ast.Var:
			if v == dataVar {
				why = "it reads data as a whole"
				return true
			}
		}
		return false
	}
	walk = func(x any) { ast.NewGenericVisitor(vis).Walk(x) }
	walk(m)
	return deps, why
}

// dataRef classifies a reference into data: data.config... is fixed for the
// Set (-1, ""), data.detect.rules.<name>... uses a rule of the Set (its
// index), anything else makes the rule unmemoizable.
func dataRef(v ast.Ref, byName map[string]int) (int, string) {
	str := func(i int) string {
		if i >= len(v) {
			return ""
		}
		s, _ := v[i].Value.(ast.String)
		return string(s)
	}
	switch {
	case str(1) == "config":
		return -1, ""
	case str(1) == "detect" && str(2) == "rules":
		if i, ok := byName[str(3)]; ok {
			return i, ""
		}
	}
	return -1, "it reads " + v.String() + ", which is neither data.config nor a rule of the set"
}

// cacheShards is the number of independently locked parts of a rule's
// cache: concurrent Eval calls rarely wait on each other.
const cacheShards = 16

// ruleCache is one rule's memo: its hits on an event, by the key of the
// values of the fields it reads (appendKey). It is bounded by two
// generations per shard: lookups go to the current map, then the previous
// one (promoting what they find); when the current map is full it becomes
// the previous one and the old previous one is dropped. Entries used within
// a generation survive; at most 2*perGen entries per shard are kept.
type ruleCache struct {
	seed   maphash.Seed
	perGen int
	shards [cacheShards]cacheShard
}

type cacheShard struct {
	mu       sync.Mutex
	cur, old map[string][]Hit
	_        [40]byte // one cache line per shard
}

func newRuleCache(size int) *ruleCache {
	return &ruleCache{seed: maphash.MakeSeed(), perGen: max(1, size/(2*cacheShards))}
}

func (c *ruleCache) shard(key []byte) *cacheShard {
	return &c.shards[maphash.Bytes(c.seed, key)%cacheShards]
}

// get returns the hits stored for key. They are shared: copy them
// (cloneHits) before handing them out.
func (c *ruleCache) get(key []byte) ([]Hit, bool) {
	sh := c.shard(key)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if h, ok := sh.cur[string(key)]; ok {
		return h, true
	}
	if h, ok := sh.old[string(key)]; ok {
		sh.insert(string(key), h, c.perGen)
		return h, true
	}
	return nil, false
}

// put stores hits for key; they must not be modified afterwards.
func (c *ruleCache) put(key []byte, hits []Hit) {
	sh := c.shard(key)
	sh.mu.Lock()
	sh.insert(string(key), hits, c.perGen)
	sh.mu.Unlock()
}

func (sh *cacheShard) insert(key string, hits []Hit, perGen int) {
	if sh.cur == nil {
		sh.cur = map[string][]Hit{}
	}
	if len(sh.cur) >= perGen {
		sh.old = sh.cur
		sh.cur = make(map[string][]Hit, perGen)
	}
	sh.cur[key] = hits
}

// len is the number of entries held, for tests.
func (c *ruleCache) len() int {
	n := 0
	for i := range c.shards {
		sh := &c.shards[i]
		sh.mu.Lock()
		n += len(sh.cur) + len(sh.old)
		sh.mu.Unlock()
	}
	return n
}

// cloneHits copies hits deeply enough that the copy's Fields can be
// modified without touching the original: the cache's entries stay as they
// were computed whatever callers do with the alerts.
func cloneHits(hits []Hit) []Hit {
	if len(hits) == 0 {
		return nil
	}
	out := slices.Clone(hits)
	for i := range out {
		if out[i].Fields != nil {
			out[i].Fields = cloneJSON(out[i].Fields).(map[string]any)
		}
	}
	return out
}

// cloneJSON copies a value made by ast.JSON.
func cloneJSON(v any) any {
	switch v := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(v))
		for k, x := range v {
			m[k] = cloneJSON(x)
		}
		return m
	case []any:
		l := make([]any, len(v))
		for i, x := range v {
			l[i] = cloneJSON(x)
		}
		return l
	}
	return v
}

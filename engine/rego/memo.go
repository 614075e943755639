package rego

import (
	"hash/maphash"
	"slices"
	"sync"

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
	deps := make([][]int, len(rules))
	for i, r := range rules {
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
		r.keySet = reads
		deps[i], r.noMemo = memoRefs(m, byName)
	}
	// A rule depends on the fields of the rules it uses, and is not
	// memoizable when one of them is not.
	for changed := true; changed; {
		changed = false
		for i, r := range rules {
			if r.noMemo != "" {
				continue
			}
			for _, d := range deps[i] {
				dr := rules[d]
				if dr.noMemo != "" {
					r.noMemo = "it uses rule " + dr.Package + ", which is not memoized: " + dr.noMemo
					changed = true
					break
				}
				if r.keySet|dr.keySet != r.keySet {
					r.keySet |= dr.keySet
					changed = true
				}
			}
		}
	}
	for _, r := range rules {
		r.key = nil
		r.cache = nil
		if r.noMemo != "" {
			r.keySet = 0
			continue
		}
		for _, f := range schema.Fields() {
			if !r.keySet.has(f) {
				continue
			}
			if !keyable(f) {
				r.noMemo = "it reads " + f.Name() + ", a field of a kind the cache cannot key"
				break
			}
			r.key = append(r.key, f)
		}
		if r.noMemo != "" {
			r.key, r.keySet = nil, 0
			continue
		}
		if size > 0 {
			r.cache = newRuleCache(size)
		} else {
			r.noMemo = "memoization is off"
		}
	}
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

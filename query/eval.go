package query

import (
	"net/netip"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
)

// evaluator computes an eval expression over a record.
type evaluator func(r *record) Value

// evalFuncs are the functions where knows: name -> (min args, max args,
// returns true/false). max < 0 means any number.
var evalFuncs = map[string]struct {
	min, max int
	boolean  bool
}{
	"isnull":    {1, 1, true},
	"isnotnull": {1, 1, true},
	"like":      {2, 2, true},
	"match":     {2, 2, true},
	"cidrmatch": {2, 2, true},
	"in":        {2, -1, true},
	"lower":     {1, 1, false},
	"upper":     {1, 1, false},
	"len":       {1, 1, false},
	"tonumber":  {1, 1, false},
	"coalesce":  {1, -1, false},
	"if":        {3, 3, false},
	"null":      {0, 0, false},
}

// isBoolean reports whether x yields true/false.
func isBoolean(x eexpr) bool {
	switch x := x.(type) {
	case *eBin:
		return true
	case *eNot:
		return true
	case *eCall:
		return evalFuncs[x.fn].boolean
	}
	return false
}

func truthy(v Value) bool { return v.Kind == boolean && v.Num != 0 }

func (c *compiler) compileWhere(x eexpr) predicate {
	if !isBoolean(x) {
		c.failSpan(x.espan(), "where needs a comparison or a true/false function, e.g. where count > 10 or where isnull(sender)")
	}
	ev := c.compileEval(x)
	return func(r *record) bool { return truthy(ev(r)) }
}

func (c *compiler) compileEval(x eexpr) evaluator {
	switch x := x.(type) {
	case *eLit:
		v := x.v
		return func(*record) Value { return v }
	case *eField:
		f := c.resolve(x.name)
		return func(r *record) Value { return r.cell(f) }
	case *eNot:
		if !isBoolean(x.x) {
			c.failSpan(x.x.espan(), "NOT needs a comparison or a true/false function")
		}
		inner := c.compileEval(x.x)
		return func(r *record) Value { return boolValue(!truthy(inner(r))) }
	case *eBin:
		return c.compileBin(x)
	case *eCall:
		return c.compileCall(x)
	}
	panic("query: unknown eval node")
}

// fieldWithHint resolves a field on the right of a comparison, explaining
// the common slip of an unquoted text value (where action=delivered).
func (c *compiler) fieldWithHint(n name) evaluator {
	defer func() {
		if r := recover(); r != nil {
			if e, ok := r.(*Error); ok {
				e.Msg += `; in where, quote text values: "` + n.text + `"`
			}
			panic(r)
		}
	}()
	f := c.resolve(n)
	return func(r *record) Value { return r.cell(f) }
}

func (c *compiler) compileBin(x *eBin) evaluator {
	switch x.op {
	case "AND", "OR":
		for _, side := range []eexpr{x.l, x.r} {
			if !isBoolean(side) {
				c.failSpan(side.espan(), "%s needs comparisons or true/false functions on both sides", x.op)
			}
		}
		l, r := c.compileEval(x.l), c.compileEval(x.r)
		if x.op == "AND" {
			return func(rec *record) Value { return boolValue(truthy(l(rec)) && truthy(r(rec))) }
		}
		return func(rec *record) Value { return boolValue(truthy(l(rec)) || truthy(r(rec))) }
	case "LIKE":
		return c.likeFunc(x.l, x.r)
	}
	l := c.compileEval(x.l)
	var r evaluator
	if f, ok := x.r.(*eField); ok {
		r = c.fieldWithHint(f.name)
	} else {
		r = c.compileEval(x.r)
	}
	op := x.op
	return func(rec *record) Value {
		a, b := l(rec), r(rec)
		return boolValue(anyPair(a, b, func(a, b Value) bool { return compareOp(op, a, b) }))
	}
}

// anyPair applies f to the values of a and b, element-wise for several
// values: true when any pair satisfies it. Null never satisfies anything.
func anyPair(a, b Value, f func(a, b Value) bool) bool {
	if a.Kind == Null || b.Kind == Null {
		return false
	}
	if a.Kind == Multi {
		for _, x := range a.List {
			if anyPair(x, b, f) {
				return true
			}
		}
		return false
	}
	if b.Kind == Multi {
		for _, y := range b.List {
			if anyPair(a, y, f) {
				return true
			}
		}
		return false
	}
	return f(a, b)
}

// compareOp compares as Splunk's eval: numerically when both sides are
// numbers, times against RFC 3339 text as times, else as case-sensitive text.
func compareOp(op string, a, b Value) bool {
	var c int
	an, aok := a.Float()
	bn, bok := b.Float()
	switch {
	case a.Kind == Time && b.Kind == String:
		t, ok := parseTimeText(b.Str)
		if !ok {
			return op == "!="
		}
		c = cmpFloat(float64(a.Nanos), float64(t.UnixNano()))
	case b.Kind == Time && a.Kind == String:
		t, ok := parseTimeText(a.Str)
		if !ok {
			return op == "!="
		}
		c = cmpFloat(float64(t.UnixNano()), float64(b.Nanos))
	case aok && bok:
		c = cmpFloat(an, bn)
	default:
		c = strings.Compare(a.Text("\n"), b.Text("\n"))
	}
	switch op {
	case "=":
		return c == 0
	case "!=":
		return c != 0
	case "<":
		return c < 0
	case "<=":
		return c <= 0
	case ">":
		return c > 0
	}
	return c >= 0
}

func parseTimeText(s string) (time.Time, bool) {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02 15:04:05", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

// likeRegexp turns a SQL LIKE pattern (% any run, _ one character) into an
// anchored regular expression.
func likeRegexp(pat string) *regexp.Regexp {
	var b strings.Builder
	b.WriteString(`^(?s:`)
	for _, r := range pat {
		switch r {
		case '%':
			b.WriteString(".*")
		case '_':
			b.WriteString(".")
		default:
			b.WriteString(regexp.QuoteMeta(string(r)))
		}
	}
	b.WriteString(`)$`)
	return regexp.MustCompile(b.String())
}

func (c *compiler) likeFunc(subject, pat eexpr) evaluator {
	s := c.compileEval(subject)
	if lit, ok := pat.(*eLit); ok && lit.v.Kind == String {
		re := likeRegexp(lit.v.Str)
		return func(r *record) Value {
			return boolValue(anyPair(s(r), Str(""), func(a, _ Value) bool { return re.MatchString(a.Text("\n")) }))
		}
	}
	// A pattern taken from a field: compiled per distinct pattern, cached
	// (a Query may run in several goroutines, hence the lock).
	p := c.compileEval(pat)
	var mu sync.Mutex
	cache := map[string]*regexp.Regexp{}
	return func(r *record) Value {
		pv := p(r)
		if pv.Kind == Null {
			return boolValue(false)
		}
		text := pv.Text("\n")
		mu.Lock()
		re, ok := cache[text]
		if !ok {
			re = likeRegexp(text)
			if len(cache) < 1000 {
				cache[text] = re
			}
		}
		mu.Unlock()
		return boolValue(anyPair(s(r), Str(""), func(a, _ Value) bool { return re.MatchString(a.Text("\n")) }))
	}
}

func (c *compiler) compileCall(x *eCall) evaluator {
	spec, ok := evalFuncs[x.fn]
	if !ok {
		names := make([]string, 0, len(evalFuncs))
		for k := range evalFuncs {
			names = append(names, k)
		}
		msg := "unknown function %q"
		if _, isAgg := aggFuncs[x.fn]; isAgg {
			msg += "; to use a stats column such as dc(recipient), quote it: 'dc(recipient)'"
		} else if s := suggest(x.fn, names); s != "" {
			msg += " (did you mean " + s + "?)"
		}
		c.failSpan(x.span, msg, x.fn)
	}
	if len(x.args) < spec.min || (spec.max >= 0 && len(x.args) > spec.max) {
		want := strconv.Itoa(spec.min) + " to " + strconv.Itoa(spec.max)
		switch {
		case spec.min == spec.max:
			want = strconv.Itoa(spec.min)
		case spec.max < 0:
			want = "at least " + strconv.Itoa(spec.min)
		}
		c.failSpan(x.span, "%s takes %s argument(s), not %d", x.fn, want, len(x.args))
	}
	switch x.fn {
	case "like":
		return c.likeFunc(x.args[0], x.args[1])
	case "match":
		s := c.compileEval(x.args[0])
		lit, ok := x.args[1].(*eLit)
		if !ok || lit.v.Kind != String {
			c.failSpan(x.args[1].espan(), "match needs a quoted regular expression")
		}
		re, err := regexp.Compile(lit.v.Str)
		if err != nil {
			c.failSpan(x.args[1].espan(), "bad regular expression: %v", err)
		}
		return func(r *record) Value {
			return boolValue(anyPair(s(r), Str(""), func(a, _ Value) bool { return re.MatchString(a.Text("\n")) }))
		}
	case "cidrmatch":
		lit, ok := x.args[0].(*eLit)
		if !ok || lit.v.Kind != String {
			c.failSpan(x.args[0].espan(), `cidrmatch needs a quoted network first, e.g. cidrmatch("10.0.0.0/8", src_ip)`)
		}
		pfx, err := netip.ParsePrefix(lit.v.Str)
		if err != nil {
			c.failSpan(x.args[0].espan(), "bad network: %v", err)
		}
		s := c.compileEval(x.args[1])
		return func(r *record) Value {
			return boolValue(anyPair(s(r), Str(""), func(a, _ Value) bool {
				ip, err := netip.ParseAddr(a.Text(""))
				return err == nil && pfx.Contains(ip.Unmap())
			}))
		}
	}
	args := make([]evaluator, len(x.args))
	for i, a := range x.args {
		args[i] = c.compileEval(a)
	}
	switch x.fn {
	case "isnull":
		return func(r *record) Value { return boolValue(args[0](r).Kind == Null) }
	case "isnotnull":
		return func(r *record) Value { return boolValue(args[0](r).Kind != Null) }
	case "in":
		return func(r *record) Value {
			v := args[0](r)
			for _, a := range args[1:] {
				if anyPair(v, a(r), func(a, b Value) bool { return compareOp("=", a, b) }) {
					return boolValue(true)
				}
			}
			return boolValue(false)
		}
	case "lower", "upper":
		f := strings.ToLower
		if x.fn == "upper" {
			f = strings.ToUpper
		}
		return func(r *record) Value { return mapText(args[0](r), f) }
	case "len":
		return func(r *record) Value {
			v := args[0](r)
			if v.Kind == Null || v.Kind == Multi {
				return Value{}
			}
			return Num(float64(utf8.RuneCountInString(v.Text(""))))
		}
	case "tonumber":
		return func(r *record) Value {
			if n, ok := args[0](r).Float(); ok {
				return Num(n)
			}
			return Value{}
		}
	case "coalesce":
		return func(r *record) Value {
			for _, a := range args {
				if v := a(r); v.Kind != Null {
					return v
				}
			}
			return Value{}
		}
	case "if":
		if !isBoolean(x.args[0]) {
			c.failSpan(x.args[0].espan(), "if needs a comparison or a true/false function first")
		}
		return func(r *record) Value {
			if truthy(args[0](r)) {
				return args[1](r)
			}
			return args[2](r)
		}
	case "null":
		return func(*record) Value { return Value{} }
	}
	panic("query: function without implementation: " + x.fn)
}

func mapText(v Value, f func(string) string) Value {
	switch v.Kind {
	case Null:
		return v
	case Multi:
		out := make([]Value, len(v.List))
		for i, x := range v.List {
			out[i] = Str(f(x.Text("")))
		}
		return Value{Kind: Multi, List: out}
	}
	return Str(f(v.Text("")))
}

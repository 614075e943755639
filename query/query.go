package query

import (
	"sort"
	"strings"

	"github.com/detect-dev/detect/schema"
)

// Query is a parsed and checked search. It is immutable and may be run any
// number of times, concurrently.
type Query struct {
	src     string
	ignored []string
	stages  []func(next stage) stage
	out     outputSpec
	// filters: the search and where predicates, in order; onlyFilters
	// when the query has no other command (see Matches).
	filters     []predicate
	onlyFilters bool
}

// outputSpec says how the final records become result rows.
type outputSpec struct {
	events    bool
	timechart bool
	// Events: the visible fields in output order with their display names,
	// and whether they are exactly the schema's (so events may be printed
	// as `detect normalize` prints them).
	proj []projCol
	raw  bool
	// Rows: the columns, when known before running.
	cols []string
}

type projCol struct {
	name  string
	field schema.Field
}

// Parse parses and checks a search. Errors are *Error, positioned in src.
func Parse(src string) (*Query, error) {
	ast, err := parse(src)
	if err != nil {
		return nil, err
	}
	c := &compiler{src: src, sc: newEventScope()}
	q, err := c.compile(ast)
	if err != nil {
		return nil, err
	}
	return q, nil
}

// ParseRows parses a query that runs over result rows with the given
// columns (see Apply), e.g. "sort -count | head 10" over the rows of a
// stats query.
func ParseRows(src string, columns []string) (*Query, error) {
	ast, err := parse(src)
	if err != nil {
		return nil, err
	}
	c := &compiler{src: src, sc: scope{cols: append([]string{}, columns...)}}
	return c.compile(ast)
}

// Apply runs q over the rows of an earlier result (q from ParseRows, with
// that result's columns) and returns the new rows.
func (q *Query) Apply(in *Result) *Result {
	run := q.Start()
	hdr := newHeader(in.Columns)
	for _, row := range in.Rows {
		run.cur = record{row: row, hdr: hdr}
		if !run.head.push(&run.cur) {
			break
		}
	}
	return run.Result()
}

// Matches reports whether e passes a query made only of search and where
// commands; it is false for any other query. Safe for concurrent use.
func (q *Query) Matches(e *schema.Event) bool {
	if !q.onlyFilters {
		return false
	}
	r := record{ev: e}
	for _, p := range q.filters {
		if !p(&r) {
			return false
		}
	}
	return true
}

// MustParse is Parse for queries known to be valid (the report's); it
// panics on an error.
func MustParse(src string) *Query {
	q, err := Parse(src)
	if err != nil {
		panic("query: " + err.Error())
	}
	return q
}

// String returns the query text.
func (q *Query) String() string { return q.src }

// Ignored returns the leading index= and sourcetype= terms, as written,
// that the query accepted and ignored (there is no index: the inputs are
// the data).
func (q *Query) Ignored() []string { return q.ignored }

// scope tracks what the records look like at a point of the pipeline, so
// field names are checked and bound before any event is read.
type scope struct {
	events bool
	// Event stage: names given by rename, fields renamed away or dropped,
	// and the explicit projection of table or fields (nil: all fields).
	renamed map[string]schema.Field
	display map[schema.Field]string
	gone    map[schema.Field]string // why the field is no longer there
	proj    []projCol
	// Row stage: the columns, when known (nil after timechart ... by).
	cols []string
	// timechart: the rows are a time series (first column _time).
	timechart bool
}

func newEventScope() scope {
	return scope{events: true, renamed: map[string]schema.Field{}, display: map[schema.Field]string{}, gone: map[schema.Field]string{}}
}

type compiler struct {
	src         string
	sc          scope
	stages      []func(stage) stage
	ignored     []string
	filters     []predicate
	otherStages bool
	lastSort    *int // the limit of a sort just compiled (for sort | head)
}

func (c *compiler) failSpan(s span, format string, args ...any) {
	panic(errAt(c.src, s.pos, s.end, format, args...))
}

func (c *compiler) compile(ast *pipelineAST) (q *Query, err error) {
	defer func() {
		if r := recover(); r != nil {
			e, ok := r.(*Error)
			if !ok {
				panic(r)
			}
			q, err = nil, e
		}
	}()
	for i, cmd := range ast.cmds {
		if s, ok := cmd.(*searchCmd); ok && i == 0 {
			s.expr = c.stripIgnored(s.expr)
		}
		c.command(cmd)
	}
	q = &Query{src: c.src, ignored: c.ignored, stages: c.stages, filters: c.filters,
		onlyFilters: !c.otherStages && c.sc.events && c.sc.proj == nil && len(c.sc.display) == 0}
	q.out.events = c.sc.events
	q.out.timechart = c.sc.timechart
	if c.sc.events {
		q.out.proj, q.out.raw = c.visible()
	} else {
		q.out.cols = c.sc.cols
	}
	return q, nil
}

func isIgnoredField(name string) bool {
	return strings.EqualFold(name, "index") || strings.EqualFold(name, "sourcetype")
}

// stripIgnored removes index= and sourcetype= terms AND-ed at the top of the
// leading search and remembers them for the note.
func (c *compiler) stripIgnored(x sexpr) sexpr {
	var terms []sexpr
	var flatten func(sexpr)
	flatten = func(x sexpr) {
		if a, ok := x.(*sAnd); ok {
			flatten(a.l)
			flatten(a.r)
			return
		}
		terms = append(terms, x)
	}
	if x == nil {
		return nil
	}
	flatten(x)
	var kept []sexpr
	for _, t := range terms {
		if st, ok := t.(*sTerm); ok && isIgnoredField(st.field.text) {
			if st.op != itemEq {
				c.failSpan(span{st.field.pos, st.vspan.end}, "%s only takes =", st.field.text)
			}
			sp := st.sspan()
			c.ignored = append(c.ignored, c.src[sp.pos:sp.end])
			continue
		}
		kept = append(kept, t)
	}
	if len(kept) == 0 {
		return nil
	}
	out := kept[0]
	for _, t := range kept[1:] {
		out = &sAnd{l: out, r: t}
	}
	return out
}

// fieldNames are the names a typo is compared with.
func (c *compiler) fieldNames() []string {
	if !c.sc.events {
		return c.sc.cols
	}
	var names []string
	for _, p := range c.visibleAll() {
		names = append(names, p.name)
	}
	for a, f := range schema.Aliases() {
		if _, gone := c.sc.gone[f]; !gone {
			names = append(names, a)
		}
	}
	sort.Strings(names)
	return names
}

// resolve binds a field name to the current stage.
func (c *compiler) resolve(n name) *ref {
	sc := &c.sc
	if !sc.events {
		if sc.cols != nil && !contains(sc.cols, n.text) {
			msg := "unknown column %q (columns here: %s)"
			if s := suggest(n.text, sc.cols); s != "" {
				msg = "unknown column %q (did you mean " + quote(s) + "? columns here: %s)"
			}
			c.failSpan(n.span, msg, n.text, strings.Join(sc.cols, ", "))
		}
		return &ref{name: n.text}
	}
	if f, ok := sc.renamed[n.text]; ok {
		return &ref{name: n.text, field: f, ev: true}
	}
	f, ok := schema.LookupField(n.text)
	if !ok {
		msg := "unknown field %q"
		if n.text == "_raw" {
			msg += " (events carry no raw line; a bare word searches every text field)"
		} else if s := suggest(n.text, c.fieldNames()); s != "" {
			msg += " (did you mean " + quote(s) + "?)"
		}
		c.failSpan(n.span, msg, n.text)
	}
	if why, gone := sc.gone[f]; gone {
		c.failSpan(n.span, "field %q is not here any more: %s", n.text, why)
	}
	if d, ok := sc.display[f]; ok {
		c.failSpan(n.span, "field %q is not here any more: renamed to %s", n.text, d)
	}
	return &ref{name: n.text, field: f, ev: true}
}

func quote(s string) string { return `"` + s + `"` }

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// visibleAll lists the event fields still there, in schema order, under
// their current names.
func (c *compiler) visibleAll() []projCol {
	var out []projCol
	for _, f := range schema.Fields() {
		if _, gone := c.sc.gone[f]; gone {
			continue
		}
		n := f.Name()
		if d, ok := c.sc.display[f]; ok {
			n = d
		}
		out = append(out, projCol{n, f})
	}
	return out
}

// visible is the event projection for output and whether it is the plain
// schema (no rename, table or fields).
func (c *compiler) visible() ([]projCol, bool) {
	if c.sc.proj != nil {
		return c.sc.proj, false
	}
	return c.visibleAll(), len(c.sc.gone) == 0 && len(c.sc.display) == 0
}

func (c *compiler) add(s func(stage) stage) { c.stages = append(c.stages, s) }

func (c *compiler) filter(p predicate) {
	c.filters = append(c.filters, p)
	c.stages = append(c.stages, func(next stage) stage { return &filterStage{pred: p, next: next} })
}

func (c *compiler) command(cmd command) {
	prevSort := c.lastSort
	c.lastSort = nil
	switch cmd.(type) {
	case *searchCmd, *whereCmd:
	default:
		c.otherStages = true
	}
	switch x := cmd.(type) {
	case *searchCmd:
		if x.expr == nil {
			return
		}
		c.filter(c.compileSearch(x.expr))
	case *whereCmd:
		c.filter(c.compileWhere(x.expr))
	case *topCmd:
		c.top(x)
	case *statsCmd:
		c.stats(x)
	case *timechartCmd:
		c.timechart(x)
	case *sortCmd:
		keys := make([]sortKeyC, len(x.keys))
		for i, k := range x.keys {
			keys[i] = sortKeyC{ref: c.resolve(k.field), desc: k.desc, mode: k.mode}
		}
		limit := &x.limit
		c.lastSort = limit
		c.add(func(next stage) stage { return &sortStage{keys: keys, limit: *limit, next: next} })
	case *headCmd:
		// sort | head N keeps only N: the sort needs no more (the usual
		// top-N query then runs in n log N).
		if prevSort != nil && x.n > 0 && (*prevSort == 0 || x.n < *prevSort) {
			*prevSort = x.n
		}
		n := x.n
		c.add(func(next stage) stage { return &headStage{n: n, next: next} })
	case *tailCmd:
		n := x.n
		c.add(func(next stage) stage { return &tailStage{n: n, next: next} })
	case *dedupCmd:
		refs := make([]*ref, len(x.fields))
		for i, f := range x.fields {
			refs[i] = c.resolve(f)
		}
		n, keep, consec := x.n, x.keepEmpty, x.consecutive
		c.add(func(next stage) stage {
			return &dedupStage{refs: refs, n: n, keepEmpty: keep, consecutive: consec, seen: map[string]int{}, next: next}
		})
	case *renameCmd:
		c.rename(x)
	case *tableCmd:
		c.project(x.fields, false, true)
	case *fieldsCmd:
		c.project(x.fields, x.remove, false)
	default:
		panic("query: command without a compiler: " + cmd.cmdName())
	}
}

func (c *compiler) toRows(cols []string) {
	c.sc = scope{cols: cols}
}

func (c *compiler) top(x *topCmd) {
	fields := make([]*ref, len(x.fields))
	for i, f := range x.fields {
		fields[i] = c.resolve(f)
	}
	by := make([]*ref, len(x.by))
	for i, f := range x.by {
		by[i] = c.resolve(f)
	}
	c.add(func(next stage) stage { return newTopStage(x, fields, by, next) })
	var cols []string
	for _, n := range x.by {
		cols = append(cols, n.text)
	}
	for _, n := range x.fields {
		cols = append(cols, n.text)
	}
	if x.showCount {
		cols = append(cols, x.countField)
	}
	if x.showPerc {
		cols = append(cols, x.percentField)
	}
	c.toRows(cols)
}

func (c *compiler) aggs(specs []aggSpec) []aggFn {
	out := make([]aggFn, len(specs))
	for i, a := range specs {
		out[i] = aggFn{fn: a.fn, out: a.out}
		if a.field != nil {
			out[i].field = c.resolve(*a.field)
		}
	}
	return out
}

func (c *compiler) stats(x *statsCmd) {
	aggs := c.aggs(x.aggs)
	by := make([]*ref, len(x.by))
	byNames := make([]string, len(x.by))
	for i, f := range x.by {
		by[i] = c.resolve(f)
		byNames[i] = f.text
	}
	c.add(func(next stage) stage { return newStatsStage(by, byNames, aggs, next) })
	cols := append([]string{}, byNames...)
	for _, a := range aggs {
		cols = append(cols, a.out)
	}
	c.toRows(cols)
}

func (c *compiler) timechart(x *timechartCmd) {
	aggs := c.aggs(x.aggs)
	var by *ref
	if x.by != nil {
		by = c.resolve(*x.by)
	}
	if !c.sc.events && !contains(c.sc.cols, "_time") && c.sc.cols != nil {
		c.failSpan(x.span, "timechart needs _time, and the rows here have none (columns: %s)", strings.Join(c.sc.cols, ", "))
	}
	c.add(func(next stage) stage { return newTimechartStage(x, aggs, by, next) })
	if by == nil {
		cols := []string{"_time"}
		for _, a := range aggs {
			cols = append(cols, a.out)
		}
		c.toRows(cols)
	} else {
		c.toRows(nil)
	}
	c.sc.timechart = true
}

func (c *compiler) rename(x *renameCmd) {
	sc := &c.sc
	for _, p := range x.pairs {
		if strings.Contains(p[0].text, "*") || strings.Contains(p[1].text, "*") {
			c.failSpan(span{p[0].pos, p[1].end}, "rename does not take wildcards here; name each field")
		}
	}
	if !sc.events {
		pairs := make([][2]string, len(x.pairs))
		for i, p := range x.pairs {
			c.resolve(p[0])
			pairs[i] = [2]string{p[0].text, p[1].text}
			if sc.cols != nil {
				for j, col := range sc.cols {
					if col == p[0].text {
						sc.cols[j] = p[1].text
					}
				}
			}
		}
		c.add(func(next stage) stage { return &reshapeStage{plan: renamePlan(pairs), next: next} })
		return
	}
	for _, p := range x.pairs {
		f := c.resolve(p[0]).field
		for n, g := range sc.renamed {
			if g == f {
				delete(sc.renamed, n)
			}
		}
		// The new name replaces whatever field went by it.
		if g, ok := sc.renamed[p[1].text]; ok && g != f {
			sc.gone[g] = "replaced by rename to " + p[1].text
		} else if g, ok := schema.LookupField(p[1].text); ok && g != f && g.Name() == p[1].text {
			if _, renamed := sc.display[g]; !renamed {
				sc.gone[g] = "replaced by rename to " + p[1].text
			}
		}
		sc.renamed[p[1].text] = f
		sc.display[f] = p[1].text
		for i := range sc.proj {
			if sc.proj[i].field == f {
				sc.proj[i].name = p[1].text
			}
		}
	}
}

// project compiles table (keep, ordered) and fields (keep or remove).
func (c *compiler) project(fields []name, remove, table bool) {
	sc := &c.sc
	if !sc.events {
		var pats []string
		for _, f := range fields {
			if !strings.Contains(f.text, "*") {
				c.resolve(f)
			}
			pats = append(pats, f.text)
		}
		c.add(func(next stage) stage { return &reshapeStage{plan: projectPlan(pats, remove), next: next} })
		if sc.cols != nil {
			sc.cols, _ = projectPlan(pats, remove)(sc.cols)
		}
		return
	}
	// Events: work out the projection now; no stage is needed.
	var pick []projCol
	for _, n := range fields {
		if strings.Contains(n.text, "*") {
			matched := false
			for _, p := range c.visibleAll() {
				if wildcardMatch(n.text, p.name) {
					pick = append(pick, p)
					matched = true
				}
			}
			if !matched && !remove {
				c.failSpan(n.span, "no field matches %q", n.text)
			}
			continue
		}
		f := c.resolve(n).field
		pick = append(pick, projCol{n.text, f})
	}
	if remove {
		drop := map[schema.Field]bool{}
		for _, p := range pick {
			drop[p.field] = true
			sc.gone[p.field] = "removed by fields -"
		}
		if sc.proj != nil {
			var kept []projCol
			for _, p := range sc.proj {
				if !drop[p.field] {
					kept = append(kept, p)
				}
			}
			sc.proj = kept
		}
		return
	}
	// Keep only the picked fields, in the order given, without repeats;
	// they answer to the names given from here on.
	seen := map[schema.Field]bool{}
	var proj []projCol
	for _, p := range pick {
		if !seen[p.field] {
			seen[p.field] = true
			proj = append(proj, p)
			sc.renamed[p.name] = p.field
		}
	}
	cmdName := "fields"
	if table {
		cmdName = "table"
	}
	for _, f := range schema.Fields() {
		if _, ok := sc.gone[f]; !ok && !seen[f] {
			sc.gone[f] = "not kept by " + cmdName
		}
	}
	sc.proj = proj
}

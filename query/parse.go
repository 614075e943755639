package query

import (
	"sort"
	"strconv"
	"strings"
)

// commands are the commands the language knows, by name.
var commands = map[string]func(*parser, cmdBase) command{
	"search":    (*parser).searchCommand,
	"where":     (*parser).whereCommand,
	"top":       (*parser).topCommand,
	"rare":      (*parser).topCommand,
	"stats":     (*parser).statsCommand,
	"timechart": (*parser).timechartCommand,
	"sort":      (*parser).sortCommand,
	"head":      (*parser).headCommand,
	"tail":      (*parser).tailCommand,
	"table":     (*parser).tableCommand,
	"fields":    (*parser).fieldsCommand,
	"rename":    (*parser).renameCommand,
	"dedup":     (*parser).dedupCommand,
}

// commandNames lists the known commands, sorted, for messages.
func commandNames() []string {
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// aggFuncs maps the statistical function names (and Splunk's synonyms) to
// their canonical name.
var aggFuncs = map[string]string{
	"count": "count", "c": "count",
	"dc": "dc", "distinct_count": "dc",
	"sum": "sum",
	"avg": "avg", "mean": "avg",
	"min":    "min",
	"max":    "max",
	"values": "values",
	"latest": "latest", "last": "latest",
	"earliest": "earliest", "first": "earliest",
}

// parser turns tokens into a pipeline. Errors panic with *Error and are
// recovered by parse.
type parser struct {
	src   string
	items []item
	i     int
}

// pipelineAST is the parsed query.
type pipelineAST struct {
	cmds []command
}

func parse(src string) (p *pipelineAST, err error) {
	ps := &parser{src: src, items: lexAll(src)}
	defer func() {
		if r := recover(); r != nil {
			e, ok := r.(*Error)
			if !ok {
				panic(r)
			}
			p, err = nil, e
		}
	}()
	// Surface lexing errors at their own position, before any parse error
	// they would cause.
	if last := ps.items[len(ps.items)-1]; last.typ == itemError {
		panic(errAt(src, last.pos, last.end, "%s", last.val))
	}
	return ps.pipeline(), nil
}

func (p *parser) peek() item { return p.items[p.i] }

// peekAt looks n items ahead (0 is peek).
func (p *parser) peekAt(n int) item {
	if p.i+n >= len(p.items) {
		return p.items[len(p.items)-1]
	}
	return p.items[p.i+n]
}

func (p *parser) next() item {
	it := p.items[p.i]
	if it.typ != itemEOF {
		p.i++
	}
	return it
}

func (p *parser) fail(it item, format string, args ...any) {
	panic(errAt(p.src, it.pos, it.end, format, args...))
}

func (p *parser) failSpan(s span, format string, args ...any) {
	panic(errAt(p.src, s.pos, s.end, format, args...))
}

// atEnd reports whether the current command's arguments are over.
func (p *parser) atEnd() bool {
	t := p.peek().typ
	return t == itemPipe || t == itemEOF
}

// isWord reports whether it is the (case-insensitive) keyword w.
func isWord(it item, w string) bool {
	return it.typ == itemWord && strings.EqualFold(it.val, w)
}

// isOption reports whether an option (name=value) starts here.
func (p *parser) isOption() bool {
	return p.peek().typ == itemWord && p.peekAt(1).typ == itemEq
}

func (p *parser) pipeline() *pipelineAST {
	pl := &pipelineAST{}
	if p.peek().typ == itemPipe {
		// "| stats ...": no leading search.
		p.next()
		if p.atEnd() {
			p.fail(p.peek(), "expected a command after |")
		}
		pl.cmds = append(pl.cmds, p.command())
	} else {
		pl.cmds = append(pl.cmds, p.leading())
	}
	for {
		switch it := p.next(); it.typ {
		case itemEOF:
			return pl
		case itemPipe:
			if p.atEnd() {
				p.fail(p.peek(), "expected a command after |")
			}
			pl.cmds = append(pl.cmds, p.command())
		default:
			p.fail(it, "unexpected %s", it)
		}
	}
}

// leading parses the first segment: a search, unless it starts with the
// name of a command: `stats count by host` runs stats over every event
// (Splunk would look for the words "stats", "count" ...), and a leading
// `search` keyword is optional, as in Splunk.
func (p *parser) leading() command {
	it := p.peek()
	if it.typ == itemWord && !p.peekAt(1).typ.isCompare() {
		if _, ok := commands[strings.ToLower(it.val)]; ok {
			return p.command()
		}
	}
	return p.searchCommand(cmdBase{name: "search", span: span{it.pos, it.pos}})
}

// command parses a command name and its arguments.
func (p *parser) command() command {
	it := p.next()
	if it.typ != itemWord {
		p.fail(it, "expected a command, found %s", it)
	}
	lower := strings.ToLower(it.val)
	parse, ok := commands[lower]
	if !ok {
		msg := "unknown command %q"
		if s := suggest(lower, commandNames()); s != "" {
			msg += " (did you mean " + strconv.Quote(s) + "?)"
		} else {
			msg += " (commands: " + strings.Join(commandNames(), ", ") + ")"
		}
		p.fail(it, msg, it.val)
	}
	return parse(p, cmdBase{name: lower, span: span{it.pos, it.end}})
}

// ---- search -------------------------------------------------------------

func (p *parser) searchCommand(b cmdBase) command {
	c := &searchCmd{cmdBase: b}
	if !p.atEnd() {
		c.expr = p.searchAnd()
		if p.peek().typ == itemRParen {
			p.fail(p.peek(), "unbalanced )")
		}
	}
	return c
}

// Splunk's search language binds NOT tighter than OR, and OR tighter than
// the (implicit) AND: `a b OR c` is `a AND (b OR c)`.

func (p *parser) searchAnd() sexpr {
	x := p.searchOr()
	for {
		it := p.peek()
		if it.typ == itemPipe || it.typ == itemEOF || it.typ == itemRParen {
			return x
		}
		if isKeyword(it, "AND") {
			p.next()
		}
		x = &sAnd{l: x, r: p.searchOr()}
	}
}

func (p *parser) searchOr() sexpr {
	x := p.searchNot()
	for isKeyword(p.peek(), "OR") {
		p.next()
		x = &sOr{l: x, r: p.searchNot()}
	}
	return x
}

func (p *parser) searchNot() sexpr {
	if it := p.peek(); isKeyword(it, "NOT") {
		p.next()
		x := p.searchNot()
		return &sNot{x: x, span: span{it.pos, x.sspan().end}}
	}
	return p.searchPrimary()
}

// isKeyword matches Splunk's boolean operators, which must be upper case in
// a search (lower-case "or" is a word to look for).
func isKeyword(it item, w string) bool {
	return it.typ == itemWord && it.val == w
}

func (p *parser) searchPrimary() sexpr {
	it := p.next()
	switch it.typ {
	case itemLParen:
		if p.peek().typ == itemRParen {
			p.fail(p.peek(), "empty parentheses")
		}
		x := p.searchAnd()
		if cl := p.next(); cl.typ != itemRParen {
			p.fail(cl, "expected ) to close the ( at column %d, found %s", errAt(p.src, it.pos, it.end, "").Column, cl)
		}
		return x
	case itemWord, itemQuoted, itemString:
		if isKeyword(it, "AND") || isKeyword(it, "OR") {
			p.fail(it, "%s needs a search term on both sides", it.val)
		}
		if isKeyword(it, "NOT") {
			p.fail(it, "NOT needs a search term after it")
		}
		next := p.peek()
		if next.typ.isCompare() {
			if it.typ == itemString {
				p.fail(it, "a field name cannot be a double-quoted string")
			}
			p.next()
			if next.typ == itemEqEq {
				p.fail(next, "use = in a search (== is for where)")
			}
			v := p.next()
			if v.typ != itemWord && v.typ != itemString && v.typ != itemQuoted {
				p.fail(v, "expected a value after %s, found %s", next.typ, v)
			}
			return &sTerm{
				field: name{it.val, span{it.pos, it.end}},
				op:    next.typ, value: v.val, quoted: v.typ != itemWord,
				vspan: span{v.pos, v.end},
			}
		}
		if it.typ != itemString && isWord(next, "IN") && p.peekAt(1).typ == itemLParen {
			p.next()
			p.next()
			in := &sIn{field: name{it.val, span{it.pos, it.end}}}
			for {
				v := p.next()
				switch v.typ {
				case itemWord, itemString, itemQuoted:
					in.values = append(in.values, v.val)
				case itemComma:
					continue
				case itemRParen:
					if len(in.values) == 0 {
						p.fail(v, "IN needs at least one value")
					}
					in.end = v.end
					return in
				default:
					p.fail(v, "expected a value or ) in the IN list, found %s", v)
				}
			}
		}
		if it.typ == itemQuoted {
			return &sWord{text: "'" + it.val + "'", span: span{it.pos, it.end}}
		}
		return &sWord{text: it.val, quoted: it.typ == itemString, span: span{it.pos, it.end}}
	case itemRParen:
		p.fail(it, "unbalanced )")
	case itemEOF, itemPipe:
		p.fail(it, "missing search term")
	}
	p.fail(it, "unexpected %s in a search", it)
	return nil
}

// ---- where --------------------------------------------------------------

func (p *parser) whereCommand(b cmdBase) command {
	if p.atEnd() {
		p.failSpan(b.span, "where needs an expression, e.g. where count > 10")
	}
	c := &whereCmd{cmdBase: b, expr: p.evalOr()}
	if !p.atEnd() {
		p.fail(p.peek(), "unexpected %s in the where expression", p.peek())
	}
	return c
}

// Eval expressions use the usual precedence: OR < AND < NOT < comparison.
// The keywords are case-insensitive here.

func (p *parser) evalOr() eexpr {
	x := p.evalAnd()
	for it := p.peek(); isWord(it, "OR"); it = p.peek() {
		p.next()
		x = &eBin{op: "OR", l: x, r: p.evalAnd(), span: span{it.pos, it.end}}
	}
	return x
}

func (p *parser) evalAnd() eexpr {
	x := p.evalNot()
	for it := p.peek(); isWord(it, "AND"); it = p.peek() {
		p.next()
		x = &eBin{op: "AND", l: x, r: p.evalNot(), span: span{it.pos, it.end}}
	}
	return x
}

func (p *parser) evalNot() eexpr {
	if it := p.peek(); isWord(it, "NOT") {
		p.next()
		x := p.evalNot()
		return &eNot{x: x, span: span{it.pos, x.espan().end}}
	}
	return p.evalCompare()
}

func (p *parser) evalCompare() eexpr {
	x := p.evalPrimary()
	it := p.peek()
	var op string
	switch {
	case it.typ == itemEq || it.typ == itemEqEq:
		op = "="
	case it.typ.isCompare():
		op = it.typ.String()
	case isWord(it, "LIKE"):
		op = "LIKE"
	default:
		return x
	}
	p.next()
	return &eBin{op: op, l: x, r: p.evalPrimary(), span: span{it.pos, it.end}}
}

func (p *parser) evalPrimary() eexpr {
	it := p.next()
	switch it.typ {
	case itemLParen:
		x := p.evalOr()
		if cl := p.next(); cl.typ != itemRParen {
			p.fail(cl, "expected ) to close the ( at column %d, found %s", errAt(p.src, it.pos, it.end, "").Column, cl)
		}
		return x
	case itemString:
		return &eLit{v: Str(it.val), span: span{it.pos, it.end}}
	case itemQuoted:
		return &eField{name{it.val, span{it.pos, it.end}}}
	case itemWord:
		call := p.peek().typ == itemLParen && p.peek().pos == it.end
		for _, kw := range []string{"AND", "OR", "LIKE"} {
			if isWord(it, kw) && !call {
				p.fail(it, "%s needs an operand on both sides", strings.ToUpper(it.val))
			}
		}
		if n, err := strconv.ParseFloat(it.val, 64); err == nil && isNumberText(it.val) {
			return &eLit{v: Num(n), span: span{it.pos, it.end}}
		}
		if call {
			p.next()
			call := &eCall{fn: strings.ToLower(it.val)}
			for p.peek().typ != itemRParen {
				if len(call.args) > 0 {
					if c := p.next(); c.typ != itemComma {
						p.fail(c, "expected , or ) in the arguments of %s, found %s", it.val, c)
					}
				}
				if p.atEnd() {
					p.fail(p.peek(), "missing ) after the arguments of %s", it.val)
				}
				call.args = append(call.args, p.evalOr())
			}
			cl := p.next()
			call.span = span{it.pos, cl.end}
			return call
		}
		return &eField{name{it.val, span{it.pos, it.end}}}
	case itemEOF, itemPipe:
		p.fail(it, "missing operand")
	}
	p.fail(it, "unexpected %s in the where expression", it)
	return nil
}

// isNumberText accepts decimal numbers only (not "inf", "0x1p3" or "1_000").
func isNumberText(s string) bool {
	digits := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= '0' && c <= '9':
			digits = true
		case c == '.' || ((c == '-' || c == '+') && (i == 0 || s[i-1] == 'e' || s[i-1] == 'E')) || c == 'e' || c == 'E':
		default:
			return false
		}
	}
	return digits
}

// ---- shared argument helpers ---------------------------------------------

// fieldName reads one field name: a word (with an adjacent "(...)" kept as
// part of the name, so dc(recipient) names the stats column), or a quoted
// name.
func (p *parser) fieldName(what string) name {
	it := p.next()
	switch it.typ {
	case itemWord, itemQuoted, itemString:
	default:
		p.fail(it, "expected %s, found %s", what, it)
	}
	n := name{it.val, span{it.pos, it.end}}
	if it.typ == itemWord && p.peek().typ == itemLParen && p.peek().pos == it.end {
		p.next()
		var inner string
		if a := p.peek(); a.typ == itemWord || a.typ == itemQuoted || a.typ == itemString {
			inner = a.val
			p.next()
		}
		cl := p.next()
		if cl.typ != itemRParen {
			p.fail(cl, "expected ) in %s(...), found %s", it.val, cl)
		}
		n.text = it.val + "(" + inner + ")"
		n.end = cl.end
	}
	return n
}

// fieldList reads names separated by spaces or commas, up to the end of the
// command, an option, or the keyword stop (when not "").
func (p *parser) fieldList(what, stop string) []name {
	var out []name
	for !p.atEnd() && !p.isOption() {
		it := p.peek()
		if stop != "" && isWord(it, stop) {
			break
		}
		if it.typ == itemComma {
			p.next()
			continue
		}
		out = append(out, p.fieldName(what))
	}
	return out
}

// option reads name=value and returns both items.
func (p *parser) option() (item, item) {
	k := p.next()
	p.next() // =
	v := p.next()
	if v.typ != itemWord && v.typ != itemString {
		p.fail(v, "expected a value for %s=, found %s", k.val, v)
	}
	return k, v
}

func (p *parser) intValue(it item, minimum int) int {
	n, err := strconv.Atoi(it.val)
	if err != nil || n < minimum {
		p.fail(it, "expected a whole number >= %d, found %s", minimum, it)
	}
	return n
}

func (p *parser) boolValue(it item) bool {
	switch strings.ToLower(it.val) {
	case "t", "true", "1", "yes":
		return true
	case "f", "false", "0", "no":
		return false
	}
	p.fail(it, "expected true or false, found %s", it)
	return false
}

func (p *parser) unknownOption(cmd string, k item, known ...string) {
	msg := "%s has no option %q (options: %s)"
	p.fail(k, msg, cmd, k.val, strings.Join(known, ", "))
}

// isInt reports whether it is an unsigned decimal integer.
func isInt(it item) bool {
	if it.typ != itemWord || it.val == "" {
		return false
	}
	for i := 0; i < len(it.val); i++ {
		if it.val[i] < '0' || it.val[i] > '9' {
			return false
		}
	}
	return true
}

// ---- top / rare -----------------------------------------------------------

func (p *parser) topCommand(b cmdBase) command {
	c := &topCmd{cmdBase: b, rare: b.name == "rare", limit: 10, countField: "count", percentField: "percent",
		showCount: true, showPerc: true, otherStr: "other"}
	for !p.atEnd() {
		switch it := p.peek(); {
		case p.isOption():
			k, v := p.option()
			switch strings.ToLower(k.val) {
			case "limit":
				c.limit = p.intValue(v, 0)
			case "countfield":
				c.countField = v.val
			case "percentfield":
				c.percentField = v.val
			case "showcount":
				c.showCount = p.boolValue(v)
			case "showperc":
				c.showPerc = p.boolValue(v)
			case "useother":
				c.useOther = p.boolValue(v)
			case "otherstr":
				c.otherStr = v.val
			default:
				p.unknownOption(b.name, k, "limit", "countfield", "percentfield", "showcount", "showperc", "useother", "otherstr")
			}
		case isInt(it) && len(c.fields) == 0:
			c.limit = p.intValue(p.next(), 0)
		case isWord(it, "by"):
			by := p.next()
			c.by = append(c.by, p.fieldList("a field after by", "")...)
			if len(c.by) == 0 {
				p.fail(by, "by needs at least one field")
			}
		default:
			if len(c.by) > 0 {
				p.fail(it, "unexpected %s after the by fields", it)
			}
			c.fields = append(c.fields, p.fieldList("a field", "by")...)
		}
	}
	if len(c.fields) == 0 {
		p.failSpan(b.span, "%s needs a field, e.g. %s limit=10 sender", b.name, b.name)
	}
	return c
}

// ---- stats / timechart ------------------------------------------------------

// agg reads one statistical function with its optional field and AS name.
func (p *parser) agg(cmd string) aggSpec {
	it := p.next()
	if it.typ != itemWord {
		p.fail(it, "expected a function such as count or dc(field), found %s", it)
	}
	fn, ok := aggFuncs[strings.ToLower(it.val)]
	if !ok {
		names := make([]string, 0, len(aggFuncs))
		for k := range aggFuncs {
			names = append(names, k)
		}
		sort.Strings(names)
		msg := "unknown function %q"
		if s := suggest(it.val, names); s != "" {
			msg += " (did you mean " + strconv.Quote(s) + "?)"
		} else {
			msg += " (functions: count, dc, sum, avg, min, max, values, latest, earliest)"
		}
		p.fail(it, msg, it.val)
	}
	a := aggSpec{fn: fn, out: it.val, span: span{it.pos, it.end}}
	if p.peek().typ == itemLParen {
		p.next()
		if p.peek().typ != itemRParen {
			f := p.fieldName("a field")
			a.field = &f
		}
		cl := p.next()
		if cl.typ != itemRParen {
			p.fail(cl, "expected ) after the field of %s, found %s", it.val, cl)
		}
		a.end = cl.end
		a.out = p.src[it.pos:cl.end]
		if a.field != nil {
			a.out = it.val + "(" + a.field.text + ")"
		}
	}
	if a.field == nil && fn != "count" {
		p.failSpan(a.span, "%s needs a field, e.g. %s(size)", it.val, it.val)
	}
	if isWord(p.peek(), "as") {
		p.next()
		n := p.fieldName("a name after as")
		a.out = n.text
	}
	return a
}

func (p *parser) statsCommand(b cmdBase) command {
	c := &statsCmd{cmdBase: b}
	for !p.atEnd() {
		it := p.peek()
		switch {
		case it.typ == itemComma:
			p.next()
		case isWord(it, "by"):
			by := p.next()
			c.by = p.fieldList("a field after by", "")
			if len(c.by) == 0 {
				p.fail(by, "by needs at least one field")
			}
			if !p.atEnd() {
				p.fail(p.peek(), "unexpected %s after the by fields", p.peek())
			}
		default:
			c.aggs = append(c.aggs, p.agg("stats"))
		}
	}
	if len(c.aggs) == 0 {
		p.failSpan(b.span, "stats needs a function, e.g. stats count by host")
	}
	return c
}

func (p *parser) timechartCommand(b cmdBase) command {
	c := &timechartCmd{cmdBase: b, limit: 10, useOther: true, useNull: true, cont: true, otherStr: "OTHER", nullStr: "NULL"}
	for !p.atEnd() {
		it := p.peek()
		switch {
		case p.isOption():
			k, v := p.option()
			switch strings.ToLower(k.val) {
			case "span":
				s, ok := parseSpan(v.val)
				if !ok {
					p.fail(v, "bad span %q (e.g. 30s, 5m, 1h, 1d, 1w, 1mon)", v.val)
				}
				c.bucket = s
			case "limit":
				val := strings.TrimPrefix(strings.ToLower(v.val), "top")
				c.limit = p.intValue(item{typ: itemWord, pos: v.pos, end: v.end, val: val}, 0)
			case "useother":
				c.useOther = p.boolValue(v)
			case "usenull":
				c.useNull = p.boolValue(v)
			case "cont":
				c.cont = p.boolValue(v)
			case "otherstr":
				c.otherStr = v.val
			case "nullstr":
				c.nullStr = v.val
			default:
				p.unknownOption("timechart", k, "span", "limit", "useother", "usenull", "cont", "otherstr", "nullstr")
			}
		case it.typ == itemComma:
			p.next()
		case isWord(it, "by"):
			by := p.next()
			if c.by != nil {
				p.fail(by, "timechart takes one by clause")
			}
			f := p.fieldList("a field after by", "")
			switch {
			case len(f) == 0:
				p.fail(by, "by needs a field")
			case len(f) > 1:
				p.failSpan(f[1].span, "timechart splits by exactly one field")
			}
			c.by = &f[0]
		default:
			if c.by != nil {
				p.fail(it, "unexpected %s after the by field", it)
			}
			c.aggs = append(c.aggs, p.agg("timechart"))
		}
	}
	if len(c.aggs) == 0 {
		p.failSpan(b.span, "timechart needs a function, e.g. timechart span=1h count")
	}
	if c.by != nil && len(c.aggs) > 1 {
		p.failSpan(c.aggs[1].span, "timechart ... by takes one function")
	}
	return c
}

// ---- sort / head / tail ---------------------------------------------------

func (p *parser) sortCommand(b cmdBase) command {
	c := &sortCmd{cmdBase: b, limit: 10000}
	if isInt(p.peek()) {
		c.limit = p.intValue(p.next(), 0)
	}
	if p.isOption() {
		k, v := p.option()
		if !strings.EqualFold(k.val, "limit") {
			p.unknownOption("sort", k, "limit")
		}
		c.limit = p.intValue(v, 0)
	}
	reverse := false
	for !p.atEnd() {
		it := p.peek()
		if it.typ == itemComma {
			p.next()
			continue
		}
		if isWord(it, "d") || isWord(it, "desc") {
			if len(c.keys) == 0 || p.peekAt(1).typ != itemEOF && p.peekAt(1).typ != itemPipe {
				p.fail(it, "%s reverses the sort and comes last", it.val)
			}
			p.next()
			reverse = true
			continue
		}
		k := sortKey{mode: "auto"}
		if it.typ == itemWord && (it.val == "-" || it.val == "+") {
			k.desc = it.val == "-"
			p.next()
			it = p.peek()
		} else if it.typ == itemWord && len(it.val) > 1 && (it.val[0] == '-' || it.val[0] == '+') {
			// -count: split the sign from the name.
			k.desc = it.val[0] == '-'
			p.items[p.i].val = it.val[1:]
			p.items[p.i].pos++
			it = p.peek()
		}
		if it.typ == itemWord && p.peekAt(1).typ == itemLParen && p.peekAt(1).pos == it.end {
			switch m := strings.ToLower(it.val); m {
			case "auto", "num", "str", "ip":
				k.mode = m
				p.next()
				p.next()
				k.field = p.fieldName("a field")
				if cl := p.next(); cl.typ != itemRParen {
					p.fail(cl, "expected ) after %s(%s, found %s", m, k.field.text, cl)
				}
				c.keys = append(c.keys, k)
				continue
			}
		}
		k.field = p.fieldName("a field to sort by")
		c.keys = append(c.keys, k)
	}
	if len(c.keys) == 0 {
		p.failSpan(b.span, "sort needs a field, e.g. sort -count")
	}
	if reverse {
		for i := range c.keys {
			c.keys[i].desc = !c.keys[i].desc
		}
	}
	return c
}

func (p *parser) countArg(b cmdBase) int {
	n := 10
	for !p.atEnd() {
		switch {
		case isInt(p.peek()):
			n = p.intValue(p.next(), 0)
		case p.isOption():
			k, v := p.option()
			if !strings.EqualFold(k.val, "limit") {
				p.unknownOption(b.name, k, "limit")
			}
			n = p.intValue(v, 0)
		default:
			p.fail(p.peek(), "%s takes a number, found %s", b.name, p.peek())
		}
	}
	return n
}

func (p *parser) headCommand(b cmdBase) command { return &headCmd{cmdBase: b, n: p.countArg(b)} }
func (p *parser) tailCommand(b cmdBase) command { return &tailCmd{cmdBase: b, n: p.countArg(b)} }

// ---- table / fields / rename / dedup ----------------------------------------

func (p *parser) tableCommand(b cmdBase) command {
	c := &tableCmd{cmdBase: b, fields: p.fieldList("a field", "")}
	if !p.atEnd() {
		p.fail(p.peek(), "unexpected %s", p.peek())
	}
	if len(c.fields) == 0 {
		p.failSpan(b.span, "table needs at least one field")
	}
	return c
}

func (p *parser) fieldsCommand(b cmdBase) command {
	c := &fieldsCmd{cmdBase: b}
	if it := p.peek(); it.typ == itemWord {
		switch {
		case it.val == "-" || it.val == "+":
			c.remove = it.val == "-"
			p.next()
		case len(it.val) > 1 && it.val[0] == '-':
			c.remove = true
			p.items[p.i].val = it.val[1:]
			p.items[p.i].pos++
		}
	}
	c.fields = p.fieldList("a field", "")
	if !p.atEnd() {
		p.fail(p.peek(), "unexpected %s", p.peek())
	}
	if len(c.fields) == 0 {
		p.failSpan(b.span, "fields needs at least one field")
	}
	return c
}

func (p *parser) renameCommand(b cmdBase) command {
	c := &renameCmd{cmdBase: b}
	for !p.atEnd() {
		if p.peek().typ == itemComma {
			p.next()
			continue
		}
		from := p.fieldName("a field to rename")
		as := p.next()
		if !isWord(as, "as") {
			p.fail(as, "expected AS after %s, found %s", from.text, as)
		}
		to := p.fieldName("a new name after AS")
		c.pairs = append(c.pairs, [2]name{from, to})
	}
	if len(c.pairs) == 0 {
		p.failSpan(b.span, "rename needs field AS newname")
	}
	return c
}

func (p *parser) dedupCommand(b cmdBase) command {
	c := &dedupCmd{cmdBase: b, n: 1}
	if isInt(p.peek()) {
		c.n = p.intValue(p.next(), 1)
	}
	for !p.atEnd() {
		it := p.peek()
		switch {
		case p.isOption():
			k, v := p.option()
			switch strings.ToLower(k.val) {
			case "keepempty":
				c.keepEmpty = p.boolValue(v)
			case "consecutive":
				c.consecutive = p.boolValue(v)
			default:
				p.unknownOption("dedup", k, "keepempty", "consecutive")
			}
		case isWord(it, "sortby"):
			p.fail(it, "dedup sortby is not supported; sort before or after dedup")
		default:
			c.fields = append(c.fields, p.fieldList("a field", "sortby")...)
		}
	}
	if len(c.fields) == 0 {
		p.failSpan(b.span, "dedup needs at least one field")
	}
	return c
}

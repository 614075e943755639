package sigma

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"gopkg.in/yaml.v3"
)

// The condition grammar, with not binding tighter than and, and and tighter
// than or (as the specification says):
//
//	expr    = and { "or" and }
//	and     = unary { "and" unary }
//	unary   = "not" unary | primary
//	primary = "(" expr ")" | quant "of" target | name
//	quant   = "1" | "any" | "all"
//	target  = "them" | name | pattern
//
// Names may contain letters, digits, "_", "-" and "."; a pattern is a name
// with "*" wildcards. Operators are case-insensitive.

type condTokKind uint8

const (
	ctEOF condTokKind = iota
	ctWord
	ctLParen
	ctRParen
	ctPipe
)

type condTok struct {
	kind condTokKind
	text string
	off  int // byte offset in the condition
}

// errCond carries a condition error to the top of the recursive descent,
// where it is recorded with its position.
type errCond struct {
	off int
	msg string
}

func (e *errCond) Error() string { return e.msg }

func isNameRune(r rune) bool {
	return unicode.IsLetter(r) || unicode.IsDigit(r) || r == '_' || r == '-' || r == '.' || r == '*'
}

func lexCondition(s string) ([]condTok, error) {
	var toks []condTok
	for i := 0; i < len(s); {
		r, w := utf8.DecodeRuneInString(s[i:])
		switch {
		case unicode.IsSpace(r):
			i += w
		case r == '(':
			toks = append(toks, condTok{kind: ctLParen, text: "(", off: i})
			i++
		case r == ')':
			toks = append(toks, condTok{kind: ctRParen, text: ")", off: i})
			i++
		case r == '|':
			// What follows a pipe is an aggregation, which has its own
			// syntax; the parser only needs to know where it starts.
			toks = append(toks, condTok{kind: ctPipe, text: "|", off: i})
			return append(toks, condTok{kind: ctEOF, off: len(s)}), nil
		case isNameRune(r):
			start := i
			for i < len(s) {
				r, w := utf8.DecodeRuneInString(s[i:])
				if !isNameRune(r) {
					break
				}
				i += w
			}
			toks = append(toks, condTok{kind: ctWord, text: s[start:i], off: start})
		default:
			return nil, &errCond{off: i, msg: "unexpected character " + quoteRune(r)}
		}
	}
	return append(toks, condTok{kind: ctEOF, off: len(s)}), nil
}

func quoteRune(r rune) string {
	return "'" + string(r) + "'"
}

// condCtx parses the conditions of one detection block.
type condCtx struct {
	p        *parser
	searches map[string]*search
	order    []string // search names in the order they were written

	toks []condTok
	pos  int

	// agg is the legacy aggregation ending the condition, if any, and
	// node the condition it ends.
	agg     *legacyAgg
	aggNode *yaml.Node
}

// parse compiles one condition scalar, recording an error (with the
// position of the offending token when it can be computed) and returning
// nil when it is invalid.
func (c *condCtx) parse(n *yaml.Node) node {
	toks, err := lexCondition(n.Value)
	var res node
	if err == nil {
		c.toks, c.pos = toks, 0
		res, err = c.expr()
		if err == nil {
			switch t := c.peek(); t.kind {
			case ctEOF:
			case ctPipe:
				var agg *legacyAgg
				if agg, err = parseAggregation(n.Value, t.off); err == nil {
					c.agg, c.aggNode = agg, n
				}
			default:
				err = &errCond{off: t.off, msg: "unexpected " + describe(t) + " after a complete expression (missing and/or?)"}
			}
		}
	}
	if err != nil {
		var ce *errCond
		if errors.As(err, &ce) {
			line, col := c.p.offsetPos(n, ce.off)
			c.p.errorAt(line, col, "condition: %s", ce.msg)
		}
		return nil
	}
	return res
}

func (c *condCtx) peek() condTok { return c.toks[c.pos] }

func (c *condCtx) next() condTok {
	t := c.toks[c.pos]
	if t.kind != ctEOF {
		c.pos++
	}
	return t
}

// isWord reports whether t is the (case-insensitive) keyword w.
func isWord(t condTok, w string) bool {
	return t.kind == ctWord && strings.EqualFold(t.text, w)
}

func isReserved(t condTok) bool {
	for _, w := range []string{"and", "or", "not", "of", "them"} {
		if isWord(t, w) {
			return true
		}
	}
	return false
}

func describe(t condTok) string {
	switch t.kind {
	case ctEOF:
		return "end of condition"
	case ctWord:
		return `"` + t.text + `"`
	}
	return "'" + t.text + "'"
}

// aggregation is the error for an aggregation that does not end the
// condition.
func (c *condCtx) aggregation(t condTok) error {
	return &errCond{off: t.off, msg: "an aggregation (| count() ...) must end the condition, after the whole expression; better, write a correlation rule (correlation: {type: event_count, ...})"}
}

func (c *condCtx) expr() (node, error) {
	left, err := c.and()
	if err != nil {
		return nil, err
	}
	or := orNode{left}
	for isWord(c.peek(), "or") {
		c.next()
		right, err := c.and()
		if err != nil {
			return nil, err
		}
		or = appendFlat(or, right)
	}
	if len(or) == 1 {
		return or[0], nil
	}
	return or, nil
}

// appendFlat adds n to an or-list, splicing in a nested or so that
// "a or (b or c)" evaluates as one flat list.
func appendFlat(list orNode, n node) orNode {
	if inner, ok := n.(orNode); ok {
		return append(list, inner...)
	}
	return append(list, n)
}

func (c *condCtx) and() (node, error) {
	left, err := c.unary()
	if err != nil {
		return nil, err
	}
	and := andNode{left}
	for isWord(c.peek(), "and") {
		c.next()
		right, err := c.unary()
		if err != nil {
			return nil, err
		}
		if inner, ok := right.(andNode); ok {
			and = append(and, inner...)
		} else {
			and = append(and, right)
		}
	}
	if len(and) == 1 {
		return and[0], nil
	}
	return and, nil
}

func (c *condCtx) unary() (node, error) {
	if isWord(c.peek(), "not") {
		c.next()
		n, err := c.unary()
		if err != nil {
			return nil, err
		}
		if inner, ok := n.(notNode); ok {
			return inner.n, nil // not not x
		}
		return notNode{n}, nil
	}
	return c.primary()
}

func (c *condCtx) primary() (node, error) {
	t := c.next()
	switch t.kind {
	case ctLParen:
		n, err := c.expr()
		if err != nil {
			return nil, err
		}
		if closing := c.next(); closing.kind != ctRParen {
			if closing.kind == ctPipe {
				return nil, c.aggregation(closing)
			}
			return nil, &errCond{off: closing.off, msg: "missing ')': found " + describe(closing)}
		}
		return n, nil
	case ctPipe:
		return nil, c.aggregation(t)
	case ctWord:
		if isWord(c.peek(), "of") {
			return c.quantified(t)
		}
		if isReserved(t) {
			return nil, &errCond{off: t.off, msg: "expected a search name, found " + describe(t)}
		}
		return c.name(t)
	}
	return nil, &errCond{off: t.off, msg: "expected a search name, found " + describe(t)}
}

// quantified parses "1 of x", "any of x" and "all of x"; q is the quantifier.
func (c *condCtx) quantified(q condTok) (node, error) {
	all := isWord(q, "all")
	if !all && !isWord(q, "any") && q.text != "1" {
		return nil, &errCond{off: q.off, msg: `only "1 of", "any of" and "all of" are supported, not "` + q.text + ` of"`}
	}
	c.next() // of
	target := c.next()
	if target.kind != ctWord || (isReserved(target) && !isWord(target, "them")) {
		return nil, &errCond{off: target.off, msg: "expected a search name, a pattern or them after \"of\", found " + describe(target)}
	}
	var matched []node
	switch {
	case isWord(target, "them"):
		// "them" leaves out searches whose names start with "_", which the
		// specification reserves for helpers used by name only.
		for _, name := range c.order {
			if !strings.HasPrefix(name, "_") {
				matched = append(matched, c.searches[name])
			}
		}
		if len(matched) == 0 {
			return nil, &errCond{off: target.off, msg: `"them" matches no search (names starting with "_" are left out)`}
		}
	case strings.Contains(target.text, "*"):
		toks := parseWildcards(target.text)
		for _, name := range c.order {
			if globMatch(toks, name, false) {
				matched = append(matched, c.searches[name])
			}
		}
		if len(matched) == 0 {
			return nil, &errCond{off: target.off, msg: "pattern \"" + target.text + "\" matches no search"}
		}
	default:
		n, err := c.name(target)
		if err != nil {
			return nil, err
		}
		return n, nil
	}
	if len(matched) == 1 {
		return matched[0], nil
	}
	if all {
		return andNode(matched), nil
	}
	return orNode(matched), nil
}

// name resolves a plain search name.
func (c *condCtx) name(t condTok) (node, error) {
	if strings.Contains(t.text, "*") {
		return nil, &errCond{off: t.off, msg: "pattern \"" + t.text + "\" needs a quantifier: write \"1 of " + t.text + "\" or \"all of " + t.text + "\""}
	}
	s, ok := c.searches[t.text]
	if !ok {
		return nil, &errCond{off: t.off, msg: "unknown search \"" + t.text + "\"" + didYouMean(t.text, c.order)}
	}
	return s, nil
}

// legacyAgg is a Sigma v1 aggregation ending a condition, in the simple
// forms that are translated to a correlation over the rule's own matches:
// "| count() [by field] op N" (event_count) and
// "| count(field) [by field] op N" (value_count).
type legacyAgg struct {
	text          string // from the pipe on, as written
	field, by     string // as written; "" when absent
	fieldOff, off int    // byte offsets of field and by in the condition
	op            string // gt, gte, lt, lte, eq, neq
	n             float64
}

var (
	aggRe  = regexp.MustCompile(`^\|\s*(?i:count)\s*\(\s*([\w.-]*)\s*\)\s*(?:(?i:by)\s+([\w.-]+)\s*)?(>=|<=|==|!=|>|<|=)\s*(\d+(?:\.\d+)?)\s*$`)
	aggOps = map[string]string{">": "gt", ">=": "gte", "<": "lt", "<=": "lte", "=": "eq", "==": "eq", "!=": "neq"}
	// aggLooseRe reads the parts of an aggregation aggRe rejects, for
	// the rewrite hint: function, field, by-fields, operator, value.
	aggLooseRe = regexp.MustCompile(`^\|\s*(\w+)\s*(?:\(\s*([\w.-]*)\s*\))?\s*(?:(?i:by)\s+([\w.,\s-]+?)\s*)?(?:(>=|<=|==|!=|>|<|=)\s*(\S+))?\s*$`)
)

// parseAggregation reads the aggregation of condition cond starting at the
// pipe at byte off. The error says how to write what it cannot translate
// as a correlation rule.
func parseAggregation(cond string, off int) (*legacyAgg, error) {
	text := cond[off:]
	m := aggRe.FindStringSubmatchIndex(text)
	if m == nil {
		return nil, &errCond{off: off, msg: aggRewriteHint(text)}
	}
	a := &legacyAgg{text: strings.TrimSpace(text), op: aggOps[text[m[6]:m[7]]]}
	a.field, a.fieldOff = text[m[2]:m[3]], off+m[2]
	if m[4] >= 0 {
		a.by, a.off = text[m[4]:m[5]], off+m[4]
	}
	a.n, _ = strconv.ParseFloat(text[m[8]:m[9]], 64)
	return a, nil
}

// aggRewriteHint explains an aggregation that is not translated, with the
// correlation to write instead when its parts can be read.
func aggRewriteHint(text string) string {
	lead := "only \"| count() [by field] > N\" and \"| count(field) [by field] > N\" aggregations are translated"
	m := aggLooseRe.FindStringSubmatch(text)
	if m == nil {
		return lead + "; write a correlation rule instead (correlation: {type: event_count, rules: [<this rule's name>], group-by: [field], timespan: 10m, condition: {gt: N}}) with this rule as its base"
	}
	fn, field, by, op, n := strings.ToLower(m[1]), m[2], m[3], aggOps[m[4]], m[5]
	typ := map[string]string{"count": "event_count", "sum": "value_sum", "avg": "value_avg"}[fn]
	if fn == "count" && field != "" {
		typ = "value_count"
	}
	if typ == "" {
		return fmt.Sprintf("%s; %s has no Sigma v2 correlation type: use a Rego rule with custom.window, or count events with a condition on the field", lead, fn)
	}
	var groups []string
	for _, g := range strings.Split(by, ",") {
		if g = strings.TrimSpace(g); g != "" {
			groups = append(groups, g)
		}
	}
	if op == "" {
		op, n = "gt", "N"
	}
	cond := op + ": " + n
	if field != "" {
		cond += ", field: " + field
	}
	return fmt.Sprintf("%s; write a correlation rule instead, with this rule (without the aggregation, with a name) as its base: correlation: {type: %s, rules: [<this rule's name>], group-by: [%s], timespan: <the timeframe>, condition: {%s}}",
		lead, typ, strings.Join(groups, ", "), cond)
}

package sigma

import (
	"encoding/base64"
	"fmt"
	"net/netip"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/detect-dev/detect/schema"
)

// detection compiles the detection block into the rule's condition tree.
// It returns nil when there were errors.
func (p *parser) detection(key, v *yaml.Node) node {
	if v == nil || v.Kind != yaml.MappingNode {
		p.errorf(key, "detection must be a mapping of searches and a condition")
		return nil
	}
	before := len(p.errs)
	searches := map[string]*search{}
	var order []string
	var condVal, timeframeKey, timeframe *yaml.Node
	p.agg = nil
	p.mapping(v, "detection", func(k, v *yaml.Node) {
		switch k.Value {
		case "condition":
			condVal = v
		case "timeframe":
			timeframeKey, timeframe = k, v // only with an aggregation (legacyAggregation)
		default:
			s := p.search(k, v)
			if s == nil {
				// Keep the name so the condition does not also report it
				// as unknown; the rule is dropped anyway.
				s = &search{name: k.Value}
			}
			searches[k.Value] = s
			order = append(order, k.Value)
		}
	})
	if len(order) == 0 {
		p.errorf(key, "detection has no searches")
	}
	if condVal == nil {
		p.errorf(key, "detection has no condition")
		return nil
	}
	cp := condCtx{p: p, searches: searches, order: order}
	var conds orNode
	switch {
	case condVal.Kind == yaml.ScalarNode && condVal.ShortTag() != "!!null":
		conds = append(conds, cp.parse(condVal))
	case condVal.Kind == yaml.SequenceNode && len(condVal.Content) > 0:
		// Several conditions: the rule matches if any does.
		for _, c := range condVal.Content {
			c = resolve(c)
			if c.Kind != yaml.ScalarNode || c.ShortTag() == "!!null" {
				p.errorf(c, "condition must be a string, found a %s", kindName(c))
				continue
			}
			conds = append(conds, cp.parse(c))
		}
	default:
		p.errorf(condVal, "condition must be a string or a list of strings, not a %s", kindName(condVal))
	}
	p.legacyAggregation(&cp, len(conds), timeframeKey, timeframe)
	if len(p.errs) > before {
		return nil
	}
	if len(conds) == 1 {
		return conds[0]
	}
	return conds
}

// search compiles one named search. It returns nil after an error.
func (p *parser) search(k, v *yaml.Node) *search {
	s := &search{name: k.Value}
	before := len(p.errs)
	switch v.Kind {
	case yaml.MappingNode:
		if len(v.Content) == 0 {
			p.errorf(v, "search %q is empty", k.Value)
			return nil
		}
		s.alts = []conj{p.fieldMap(k.Value, v)}
	case yaml.SequenceNode:
		if len(v.Content) == 0 {
			p.errorf(v, "search %q is empty", k.Value)
			return nil
		}
		// A list ORs its items: maps, and plain values that are keywords.
		// The keywords are gathered into one condition so an event's text
		// fields are walked once per keyword, not once per list item.
		var kw keywordCond
		for _, item := range v.Content {
			item = resolve(item)
			switch item.Kind {
			case yaml.MappingNode:
				if len(item.Content) == 0 {
					p.errorf(item, "search %q has an empty mapping", k.Value)
					continue
				}
				s.alts = append(s.alts, p.fieldMap(k.Value, item))
			case yaml.ScalarNode:
				if v, ok := p.keywordValue(item, modSet{}); ok {
					kw.vals = append(kw.vals, v)
				}
			default:
				p.errorf(item, "search %q: list items must be mappings of fields or keyword strings, not a %s", k.Value, kindName(item))
			}
		}
		if len(kw.vals) > 0 {
			s.alts = append(s.alts, conj{&kw})
		}
	default:
		p.errorf(v, "search %q must be a mapping of fields or a list, not a %s", k.Value, kindName(v))
	}
	if len(p.errs) > before {
		return nil
	}
	return s
}

// fieldMap compiles one mapping of field conditions, all of which must
// match.
func (p *parser) fieldMap(name string, m *yaml.Node) conj {
	var c conj
	p.mapping(m, "search "+strconv.Quote(name), func(k, v *yaml.Node) {
		if x := p.fieldCond(k, v); x != nil {
			c = append(c, x)
		}
	})
	return c
}

// modSet is the parsed modifier chain of one key.
type modSet struct {
	contains, startswith, endswith bool
	all, cased                     bool
	re                             bool
	reFlags                        string
	cidr, exists                   bool
	b64, b64off                    bool
	op                             cmpOp
}

func (m modSet) shaped() bool { return m.contains || m.startswith || m.endswith }

// modPartners lists, for each supported modifier, the modifiers it may be
// combined with. The relation is checked in both directions, so each pair
// needs to be listed only on one side, but listing both keeps it readable.
var modPartners = map[string][]string{
	"contains":     {"all", "cased", "base64", "base64offset"},
	"startswith":   {"all", "cased", "base64"},
	"endswith":     {"all", "cased", "base64"},
	"all":          {"contains", "startswith", "endswith", "cased", "re", "i", "m", "s", "cidr", "gt", "gte", "lt", "lte", "base64", "base64offset"},
	"cased":        {"contains", "startswith", "endswith", "all"},
	"re":           {"all", "i", "m", "s"},
	"i":            {"re", "all", "m", "s"},
	"m":            {"re", "all", "i", "s"},
	"s":            {"re", "all", "i", "m"},
	"cidr":         {"all"},
	"gt":           {"all"},
	"gte":          {"all"},
	"lt":           {"all"},
	"lte":          {"all"},
	"exists":       {},
	"base64":       {"contains", "startswith", "endswith", "all"},
	"base64offset": {"contains", "all"},
}

// unsupportedMods are specification modifiers that make no sense for mail
// logs (or need features detect does not have); they get a precise message
// instead of "unknown modifier".
var unsupportedMods = map[string]string{
	"windash":  "it rewrites Windows command-line dashes",
	"expand":   "placeholders are not supported",
	"fieldref": "field references are not supported yet",
	"utf16le":  "it only applies to base64 of Windows text",
	"utf16be":  "it only applies to base64 of Windows text",
	"utf16":    "it only applies to base64 of Windows text",
	"wide":     "it only applies to base64 of Windows text",
	"minute":   "time-part modifiers are not supported",
	"hour":     "time-part modifiers are not supported",
	"day":      "time-part modifiers are not supported",
	"week":     "time-part modifiers are not supported",
	"month":    "time-part modifiers are not supported",
	"year":     "time-part modifiers are not supported",
}

// modifiers parses the modifier chain of key k ("field|mod|mod").
func (p *parser) modifiers(k *yaml.Node, names []string, offs []int) (modSet, bool) {
	var ms modSet
	ok := true
	for i, name := range names {
		line, col := p.offsetPos(k, offs[i])
		if name == "" {
			p.errorAt(line, col, "empty modifier in %q", k.Value)
			ok = false
			continue
		}
		if _, known := modPartners[name]; !known {
			if why, spec := unsupportedMods[name]; spec {
				p.errorAt(line, col, "modifier %q is not supported: %s", name, why)
			} else {
				p.errorAt(line, col, "unknown modifier %q%s", name, didYouMean(name, modNames))
			}
			ok = false
			continue
		}
		if (name == "i" || name == "m" || name == "s") && !slices.Contains(names, "re") {
			p.errorAt(line, col, "modifier %q only applies to re (write %q)", name, "re|"+name)
			ok = false
			continue
		}
		if j := slices.Index(names[:i], name); j >= 0 {
			p.errorAt(line, col, "duplicate modifier %q", name)
			ok = false
			continue
		}
		for _, prev := range names[:i] {
			if _, known := modPartners[prev]; !known {
				continue
			}
			if !slices.Contains(modPartners[name], prev) && !slices.Contains(modPartners[prev], name) {
				p.errorAt(line, col, "modifier %q cannot be combined with %q", name, prev)
				ok = false
			}
		}
		switch name {
		case "contains":
			ms.contains = true
		case "startswith":
			ms.startswith = true
		case "endswith":
			ms.endswith = true
		case "all":
			ms.all = true
		case "cased":
			ms.cased = true
		case "re":
			ms.re = true
		case "i", "m", "s":
			ms.reFlags += name
		case "cidr":
			ms.cidr = true
		case "exists":
			ms.exists = true
		case "base64":
			ms.b64 = true
		case "base64offset":
			ms.b64off = true
		case "gt":
			ms.op = opGT
		case "gte":
			ms.op = opGTE
		case "lt":
			ms.op = opLT
		case "lte":
			ms.op = opLTE
		}
	}
	if !ok {
		return ms, false
	}
	if ms.b64off && !ms.contains {
		p.errorf(k, "base64offset needs contains: the encoded text sits inside a longer base64 string")
		return ms, false
	}
	return ms, true
}

var modNames = func() []string {
	var out []string
	for name := range modPartners {
		out = append(out, name)
	}
	sort.Strings(out)
	return out
}()

// fieldNames are the schema names followed by the aliases, for
// suggestions; a canonical name wins a tie.
var fieldNames = func() []string {
	var out []string
	for _, f := range schema.Fields() {
		out = append(out, f.Name())
	}
	var aliases []string
	for a := range schema.Aliases() {
		aliases = append(aliases, a)
	}
	sort.Strings(aliases)
	return append(out, aliases...)
}()

// fieldCond compiles one "field|modifiers: values" entry.
func (p *parser) fieldCond(k, v *yaml.Node) cond {
	parts := strings.Split(k.Value, "|")
	offs := make([]int, len(parts))
	for i, off := 1, len(parts[0])+1; i < len(parts); i++ {
		offs[i] = off
		off += len(parts[i]) + 1
	}
	name := parts[0]
	ms, ok := p.modifiers(k, parts[1:], offs[1:])

	var f schema.Field
	if name != "" {
		var known bool
		if f, known = schema.LookupField(name); !known {
			p.errorf(k, "unknown field %q%s", name, didYouMean(name, fieldNames))
			ok = false
		}
	}

	var items []*yaml.Node
	switch v.Kind {
	case yaml.ScalarNode:
		items = []*yaml.Node{v}
	case yaml.SequenceNode:
		if len(v.Content) == 0 {
			p.errorf(v, "%s has an empty list of values", k.Value)
			return nil
		}
		for _, item := range v.Content {
			item = resolve(item)
			if item.Kind != yaml.ScalarNode {
				p.errorf(item, "%s: values must be scalars, found a %s", k.Value, kindName(item))
				ok = false
				continue
			}
			items = append(items, item)
		}
	default:
		p.errorf(v, "%s: the value must be a scalar or a list of scalars, not a %s", k.Value, kindName(v))
		return nil
	}
	if !ok {
		return nil
	}

	if name == "" {
		kc := &keywordCond{all: ms.all}
		if ms.exists || ms.op != 0 {
			p.errorf(k, "keywords (a key without a field name) cannot use exists, gt, gte, lt or lte")
			return nil
		}
		for _, item := range items {
			if v, ok := p.keywordValue(item, ms); ok {
				kc.vals = append(kc.vals, v)
			}
		}
		return kc
	}

	fc := &fieldCond{field: f, kind: f.Kind(), all: ms.all}
	if ms.exists && len(items) != 1 {
		p.errorf(v, "exists takes a single true or false")
		return nil
	}
	if ms.op != 0 && !isNumericKind(fc.kind) {
		// A numeric comparison on text would parse every value as a number
		// and silently never match "550 5.7.1": refuse it at load time.
		p.errorf(k, "gt, gte, lt and lte compare numbers, and %s is text; use startswith or re (e.g. %s|startswith: '5')", f.Name(), f.Name())
		return nil
	}
	if ms.cidr && fc.kind != schema.KindString && fc.kind != schema.KindStringList {
		p.errorf(k, "cidr needs a text field holding IP addresses; %s is not one", f.Name())
		return nil
	}
	for _, item := range items {
		if v, ok := p.value(item, ms, fc.kind); ok {
			fc.vals = append(fc.vals, v)
		}
	}
	if !ms.all {
		fc.vals = mergeCIDR(fc.vals)
	}
	return fc
}

// mergeCIDR folds the prefixes of ORed cidr values into one value, so the
// event's address is parsed once instead of once per prefix.
func mergeCIDR(vals []val) []val {
	first := -1
	out := vals[:0:0]
	for _, v := range vals {
		if v.kind != valCIDR {
			out = append(out, v)
			continue
		}
		if first < 0 {
			first = len(out)
			v.prefixes = slices.Clone(v.prefixes)
			out = append(out, v)
			continue
		}
		out[first].prefixes = append(out[first].prefixes, v.prefixes...)
	}
	return out
}

func isNumericKind(k schema.Kind) bool {
	switch k {
	case schema.KindInt, schema.KindFloat, schema.KindTime, schema.KindIntList, schema.KindObjectList:
		return true
	}
	return false
}

// number reads a numeric scalar: a YAML int or float, or a string that
// holds a decimal number.
func number(n *yaml.Node) (float64, bool) {
	switch n.ShortTag() {
	case "!!int", "!!float":
		var x float64
		if err := n.Decode(&x); err == nil {
			return x, true
		}
	case "!!str":
		if s := strings.TrimSpace(n.Value); looksNumeric(s) {
			x, err := strconv.ParseFloat(s, 64)
			return x, err == nil
		}
	}
	return 0, false
}

// value compiles one value of a field condition.
func (p *parser) value(n *yaml.Node, ms modSet, kind schema.Kind) (val, bool) {
	tag := n.ShortTag()
	switch {
	case ms.exists:
		if tag != "!!bool" {
			p.errorf(n, "exists takes true or false, not %q", n.Value)
			return val{}, false
		}
		return val{kind: valExists, exists: strings.EqualFold(n.Value, "true")}, true
	case tag == "!!null":
		if ms != (modSet{}) && ms != (modSet{all: true}) {
			p.errorf(n, "null cannot be combined with modifiers")
			return val{}, false
		}
		return val{kind: valNull}, true
	case ms.op != 0:
		x, ok := number(n)
		if !ok {
			p.errorf(n, "gt, gte, lt and lte need a number, not %q", n.Value)
			return val{}, false
		}
		return val{kind: valCmp, op: ms.op, num: x}, true
	case ms.cidr:
		return p.cidrValue(n)
	case ms.re:
		return p.regexpValue(n, ms)
	case ms.b64 || ms.b64off:
		return p.base64Value(n, ms)
	case (tag == "!!int" || tag == "!!float") && isNumericKind(kind) && !ms.shaped():
		x, ok := number(n)
		if !ok {
			p.errorf(n, "invalid number %q", n.Value)
			return val{}, false
		}
		return val{kind: valNumEq, num: x}, true
	}
	return val{kind: valText, text: newStrMatcher(p.textTokens(n, ms.contains, ms.startswith, ms.endswith), ms.cased)}, true
}

// keywordValue compiles one keyword. A keyword without a shape modifier
// means "contains", as in a full-text search.
func (p *parser) keywordValue(n *yaml.Node, ms modSet) (val, bool) {
	switch {
	case n.ShortTag() == "!!null":
		p.errorf(n, "null is not a keyword")
		return val{}, false
	case ms.cidr:
		return p.cidrValue(n)
	case ms.re:
		return p.regexpValue(n, ms)
	case ms.b64 || ms.b64off:
		ms.contains = ms.contains || !ms.startswith && !ms.endswith
		return p.base64Value(n, ms)
	}
	contains := ms.contains || !ms.startswith && !ms.endswith
	return val{kind: valText, text: newStrMatcher(p.textTokens(n, contains, ms.startswith, ms.endswith), ms.cased)}, true
}

// textTokens turns a scalar into wildcard tokens with the shape modifiers
// applied. Only strings have wildcards; numbers and booleans are literal
// text (booleans in lower case, as YAML allows True and TRUE).
func (p *parser) textTokens(n *yaml.Node, contains, startswith, endswith bool) []token {
	var toks []token
	switch n.ShortTag() {
	case "!!int", "!!float":
		toks = []token{{kind: tokLit, lit: n.Value}}
	case "!!bool":
		toks = []token{{kind: tokLit, lit: strings.ToLower(n.Value)}}
	default:
		toks = parseWildcards(n.Value)
	}
	return wrapStars(toks, contains || endswith, contains || startswith)
}

func (p *parser) cidrValue(n *yaml.Node) (val, bool) {
	s := strings.TrimSpace(n.Value)
	pfx, err := netip.ParsePrefix(s)
	if err != nil {
		// A bare address is the prefix of that one host.
		a, aerr := netip.ParseAddr(s)
		if aerr != nil {
			p.errorf(n, "cidr value %q is not an IP prefix (e.g. 10.0.0.0/8 or 2001:db8::/32): %w", n.Value, err)
			return val{}, false
		}
		pfx = netip.PrefixFrom(a, a.BitLen())
	}
	// Event addresses are unmapped before the test, so an IPv4-mapped
	// prefix must be unmapped too or it could never match.
	if a := pfx.Addr(); a.Is4In6() && pfx.Bits() >= 96 {
		pfx = netip.PrefixFrom(a.Unmap(), pfx.Bits()-96)
	}
	return val{kind: valCIDR, prefixes: []netip.Prefix{pfx.Masked()}}, true
}

func (p *parser) regexpValue(n *yaml.Node, ms modSet) (val, bool) {
	expr := n.Value
	if ms.reFlags != "" {
		expr = "(?" + ms.reFlags + ")" + expr
	}
	re, err := regexp.Compile(expr)
	if err != nil {
		p.errorf(n, "invalid regular expression %q (Go RE2 syntax: no lookaround or backreferences): %w", n.Value, err)
		return val{}, false
	}
	return val{kind: valText, text: strMatcher{kind: strRegexp, re: re}}, true
}

// base64Value encodes the value as the specification describes. Base64 text
// is case-sensitive, so the resulting matchers are too.
func (p *parser) base64Value(n *yaml.Node, ms modSet) (val, bool) {
	if n.ShortTag() == "!!str" && hasWildcards(parseWildcards(n.Value)) {
		p.errorf(n, "base64 values cannot contain wildcards")
		return val{}, false
	}
	plain := n.Value
	if n.ShortTag() == "!!str" {
		plain = unescape(n.Value)
	}
	if ms.b64 {
		toks := wrapStars([]token{{kind: tokLit, lit: base64.StdEncoding.EncodeToString([]byte(plain))}},
			ms.contains || ms.endswith, ms.contains || ms.startswith)
		return val{kind: valText, text: newStrMatcher(toks, true)}, true
	}
	// base64offset: the value may start at any of the three byte offsets
	// of a base64 group; the characters that depend on the unknown
	// neighbours are cut off.
	var alts []strMatcher
	startCut := [3]int{0, 2, 3}
	endCut := [3]int{0, 3, 2}
	for i := 0; i < 3; i++ {
		enc := base64.StdEncoding.EncodeToString(append(make([]byte, i), plain...))
		end := len(enc)
		if r := (len(plain) + i) % 3; r != 0 {
			end -= endCut[r]
		}
		start := startCut[i]
		if start >= end {
			continue
		}
		alts = append(alts, newStrMatcher(wrapStars([]token{{kind: tokLit, lit: enc[start:end]}}, true, true), true))
	}
	if len(alts) == 0 {
		p.errorf(n, "base64offset value %q is too short to encode", n.Value)
		return val{}, false
	}
	return val{kind: valText, text: alts[0], more: alts[1:]}, true
}

// unescape resolves the Sigma escapes of a value without wildcards.
func unescape(s string) string {
	var b strings.Builder
	for _, t := range parseWildcards(s) {
		b.WriteString(t.lit)
	}
	return b.String()
}

// didYouMean returns ` (did you mean "x"?)` for the closest candidate within
// a small edit distance, or "".
func didYouMean(name string, candidates []string) string {
	lname := strings.ToLower(name)
	limit := min(max(1, len(lname)/3), 3)
	best, bestD := "", limit+1
	for _, c := range candidates {
		if d := editDistance(lname, strings.ToLower(c)); d < bestD {
			best, bestD = c, d
		}
	}
	if best == "" {
		return ""
	}
	return fmt.Sprintf(" (did you mean %q?)", best)
}

// editDistance is the Levenshtein distance between a and b, in bytes.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
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
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

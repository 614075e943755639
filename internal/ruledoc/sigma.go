package ruledoc

import (
	"fmt"
	"path"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/detect-dev/detect/schema"
)

// eventTypes are the values of event_type, in schema order; a typeSet is a
// subset of them.
var eventTypes = []string{schema.TypeDelivery, schema.TypeReceive, schema.TypeReject, schema.TypeAuth, schema.TypeConnect, schema.TypeFilter}

type typeSet uint8

const allTypes typeSet = 1<<6 - 1

func typeBit(t string) typeSet {
	if i := slices.Index(eventTypes, strings.ToLower(t)); i >= 0 {
		return 1 << i
	}
	return 0
}

func (s typeSet) list() []string {
	var out []string
	for i, t := range eventTypes {
		if s&(1<<i) != 0 {
			out = append(out, t)
		}
	}
	return out
}

// clause is what a part of a detection says about the events it matches:
// the event types it can match (possible), the types it matches whatever
// the other fields (definite: a search on event_type alone), and the
// fields an event must have for it to match.
type clause struct {
	possible, definite typeSet
	required           []string // sorted
}

var anyEvent = clause{possible: allTypes}

func and(a, b clause) clause {
	return clause{a.possible & b.possible, a.definite & b.definite, union(a.required, b.required)}
}

func or(a, b clause) clause {
	return clause{a.possible | b.possible, a.definite | b.definite, intersect(a.required, b.required)}
}

// not: an event the clause surely matches cannot match its negation, and
// an event it can never match surely does; the negation needs no field.
func not(a clause) clause {
	return clause{allTypes &^ a.definite, allTypes &^ a.possible, nil}
}

func union(a, b []string) []string {
	out := slices.Concat(a, b)
	slices.Sort(out)
	return slices.Compact(out)
}

func intersect(a, b []string) []string {
	var out []string
	for _, x := range a {
		if slices.Contains(b, x) {
			out = append(out, x)
		}
	}
	return out
}

// detectionNeeds reads a Sigma detection block (a mapping of searches and a
// condition) and says which events can match it.
func detectionNeeds(det *yaml.Node) (clause, error) {
	searches := map[string]clause{}
	var names []string
	var conds []string
	for i := 0; i+1 < len(det.Content); i += 2 {
		k, v := det.Content[i].Value, det.Content[i+1]
		switch k {
		case "condition":
			if v.Kind == yaml.SequenceNode {
				for _, c := range v.Content {
					conds = append(conds, c.Value)
				}
			} else {
				conds = append(conds, v.Value)
			}
		case "timeframe":
		default:
			searches[k] = searchNeeds(v)
			names = append(names, k)
		}
	}
	if len(conds) == 0 {
		return clause{}, fmt.Errorf("detection has no condition")
	}
	var out clause
	for i, c := range conds { // several conditions: any of them
		got, err := parseCondition(c, searches, names)
		if err != nil {
			return clause{}, err
		}
		if i == 0 {
			out = got
		} else {
			out = or(out, got)
		}
	}
	return out, nil
}

// searchNeeds reads one search: a field map, a list of field maps (any of
// them), or keywords.
func searchNeeds(n *yaml.Node) clause {
	switch n.Kind {
	case yaml.MappingNode:
		return mapNeeds(n)
	case yaml.SequenceNode:
		var out clause
		for i, el := range n.Content {
			c := anyEvent // keywords: text anywhere in the event
			if el.Kind == yaml.MappingNode {
				c = mapNeeds(el)
			}
			if i == 0 {
				out = c
			} else {
				out = or(out, c)
			}
		}
		return out
	}
	return anyEvent
}

// mapNeeds reads a field map: every field is needed, except those matched
// against null (absent) or with exists: false; event_type values restrict
// the types.
func mapNeeds(m *yaml.Node) clause {
	c := anyEvent
	others := false
	for i := 0; i+1 < len(m.Content); i += 2 {
		key, v := m.Content[i].Value, m.Content[i+1]
		name, mods, _ := strings.Cut(key, "|")
		field := name
		if f, ok := schema.LookupField(name); ok {
			field = f.Name()
		}
		if field == "event_type" && mods == "" {
			var ts typeSet
			for _, s := range scalars(v) {
				ts |= typeBit(s)
			}
			c.possible &= ts
			continue
		}
		others = true
		if isNull(v) || (strings.Contains(mods, "exists") && v.Value == "false") {
			continue
		}
		c.required = union(c.required, []string{field})
	}
	if !others {
		c.definite = c.possible
	}
	return c
}

func scalars(n *yaml.Node) []string {
	if n.Kind == yaml.SequenceNode {
		var out []string
		for _, c := range n.Content {
			out = append(out, c.Value)
		}
		return out
	}
	return []string{n.Value}
}

func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null"
}

// parseCondition evaluates a Sigma condition over the searches' clauses:
// or, and, not (in rising precedence), parentheses, "1 of x*", "all of x*",
// "them".
func parseCondition(s string, searches map[string]clause, names []string) (clause, error) {
	p := &condParser{toks: tokenize(s), searches: searches, names: names}
	c, err := p.or()
	if err == nil && p.i < len(p.toks) {
		err = fmt.Errorf("condition %q: unexpected %q", s, p.toks[p.i])
	}
	return c, err
}

type condParser struct {
	toks     []string
	i        int
	searches map[string]clause
	names    []string
}

func tokenize(s string) []string {
	s = strings.NewReplacer("(", " ( ", ")", " ) ").Replace(s)
	return strings.Fields(s)
}

func (p *condParser) peek() string {
	if p.i < len(p.toks) {
		return strings.ToLower(p.toks[p.i])
	}
	return ""
}

func (p *condParser) or() (clause, error) { return p.chain("or", p.and, or) }

func (p *condParser) and() (clause, error) { return p.chain("and", p.factor, and) }

// chain reads operands joined by the operator word, combined left to right.
func (p *condParser) chain(word string, operand func() (clause, error), combine func(a, b clause) clause) (clause, error) {
	c, err := operand()
	for err == nil && p.peek() == word {
		p.i++
		var r clause
		if r, err = operand(); err == nil {
			c = combine(c, r)
		}
	}
	return c, err
}

func (p *condParser) factor() (clause, error) {
	switch tok := p.peek(); {
	case tok == "not":
		p.i++
		c, err := p.factor()
		return not(c), err
	case tok == "(":
		p.i++
		c, err := p.or()
		if err == nil && p.peek() != ")" {
			err = fmt.Errorf("condition: missing )")
		}
		p.i++
		return c, err
	case tok == "all" || tok == "any" || isCount(tok):
		if p.i+2 >= len(p.toks) || strings.ToLower(p.toks[p.i+1]) != "of" {
			return clause{}, fmt.Errorf("condition: %q without of", tok)
		}
		pattern := p.toks[p.i+2]
		p.i += 3
		var matched []clause
		for _, n := range p.names {
			if ok, _ := path.Match(pattern, n); ok || pattern == "them" {
				matched = append(matched, p.searches[n])
			}
		}
		if len(matched) == 0 {
			return clause{}, fmt.Errorf("condition: %s of %s matches no search", tok, pattern)
		}
		c := matched[0]
		for _, m := range matched[1:] {
			if tok == "all" {
				c = and(c, m)
			} else {
				c = or(c, m)
			}
		}
		return c, nil
	case tok == "":
		return clause{}, fmt.Errorf("condition ends too early")
	default:
		c, ok := p.searches[p.toks[p.i]]
		if !ok {
			return clause{}, fmt.Errorf("condition names %q, which is not a search", p.toks[p.i])
		}
		p.i++
		return c, nil
	}
}

func isCount(tok string) bool {
	return tok != "" && strings.Trim(tok, "0123456789") == ""
}

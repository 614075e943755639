package sigma

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"gopkg.in/yaml.v3"
)

// Rule is one compiled Sigma detection rule.
type Rule struct {
	ID          string // lower-case UUID
	Name        string // optional v2 name, by which correlations may refer to it
	Title       string
	Description string
	Status      string
	Author      string
	Level       string // informational, low, medium, high, critical, or ""
	Date        string
	Modified    string

	Tags           []string
	References     []string
	FalsePositives []string
	Fields         []string
	Related        []Related

	Logsource Logsource

	File string // as given to ParseFile
	Line int    // line of the rule document's first key

	// Generate is the v2 "generate" flag: a rule that a correlation refers
	// to alerts on its own only when it is set.
	Generate bool
	// GenerateSet records that the rule says generate: true or false.
	GenerateSet bool

	// Correlation is set for correlation rules (which have no detection).
	Correlation *Correlation

	// Fingerprint identifies what decides the rule's matches: its logsource
	// and detection, or its correlation block without generate. Metadata
	// and formatting do not change it.
	Fingerprint string

	cond node
	// nameLine and nameCol place the name, for Link's duplicate check.
	nameLine, nameCol int
}

// Logsource is the rule's logsource block. Product is lower case.
type Logsource struct {
	Category string
	Product  string
	Service  string
}

// Related is one entry of the rule's related list.
type Related struct {
	ID   string
	Type string
}

// parser holds the state of one ParseFile call.
type parser struct {
	file  string
	data  []byte
	lines []string // data split into lines, built on first use
	errs  ErrorList
	agg   *legacyAggregation // of the detection being read
}

// ParseFile parses and compiles every rule document of one YAML file
// (documents are separated by "---"). name is used in error positions.
//
// The error, when not nil, is an ErrorList of *Error holding every problem
// found, sorted by position. The returned rules are those documents that
// compiled without error, so a linter can still list them; a loader should
// treat any error as fatal for the file.
func ParseFile(name string, data []byte) ([]*Rule, error) {
	p := &parser{file: name, data: data}
	var rules []*Rule
	seen := map[string]int{} // id -> line, to catch copy-paste within a file
	dec := yaml.NewDecoder(bytes.NewReader(data))
	for {
		var doc yaml.Node
		err := decodeDoc(dec, &doc)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			// After a syntax error the decoder cannot resynchronise, so
			// the rest of the file is not read.
			p.yamlError(err)
			break
		}
		root := &doc
		if root.Kind == yaml.DocumentNode {
			if len(root.Content) == 0 {
				continue
			}
			root = root.Content[0]
		}
		if root.Kind == yaml.ScalarNode && root.ShortTag() == "!!null" {
			continue // an empty document, e.g. after a trailing "---"
		}
		r := p.rule(root)
		if r == nil {
			continue
		}
		if line, dup := seen[r.ID]; dup {
			p.errorf(root, "id %s is already used by the rule at line %d", r.ID, line)
			continue
		}
		seen[r.ID] = r.Line
		rules = append(rules, r)
	}
	p.errs.Sort()
	return rules, p.errs.Err()
}

// decodeDoc reads one document. yaml.v3 turns its internal failures into
// errors itself, but it re-panics on anything unexpected; a rule file must
// never take the process down, so such a panic becomes an error too.
func decodeDoc(dec *yaml.Decoder, doc *yaml.Node) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("yaml: internal error: %v", r)
		}
	}()
	return dec.Decode(doc)
}

var yamlLineRe = regexp.MustCompile(`^yaml: line (\d+): `)

// yamlParserProblems are the messages of yaml.v3's parser (as opposed to its
// scanner). For those, yaml.v3 v3.0.1 prints the 0-based line of the
// enclosing construct (its decode.go adds 1 only for scanner errors), so
// one is added here to point at the construct that is not closed.
var yamlParserProblems = []string{
	"did not find expected ',' or ']'",
	"did not find expected ',' or '}'",
	"did not find expected '-' indicator",
	"did not find expected <document start>",
	"did not find expected key",
	"did not find expected node content",
	"found duplicate %TAG directive",
	"found duplicate %YAML directive",
	"found incompatible YAML document",
	"found undefined tag handle",
}

// yamlError records a YAML syntax error. yaml.v3 reports only a line, in
// the message text; the column is then 1.
func (p *parser) yamlError(err error) {
	msg := err.Error()
	line := 1
	if m := yamlLineRe.FindStringSubmatch(msg); m != nil {
		line, _ = strconv.Atoi(m[1])
		msg = msg[len(m[0]):]
		if contains(yamlParserProblems, msg) {
			line++
		}
	} else {
		msg = strings.TrimPrefix(msg, "yaml: ")
	}
	p.errs = append(p.errs, &Error{File: p.file, Line: line, Col: 1, Msg: "invalid YAML: " + msg, Err: err})
}

func (p *parser) errorf(n *yaml.Node, format string, args ...any) {
	p.errorAt(n.Line, n.Column, format, args...)
}

func (p *parser) errorAt(line, col int, format string, args ...any) {
	err := fmt.Errorf(format, args...)
	p.errs = append(p.errs, &Error{File: p.file, Line: line, Col: col, Msg: err.Error(), Err: errors.Unwrap(err)})
}

// offsetPos returns the position of byte off within a scalar's value. It is
// exact for single-line plain and quoted scalars and for literal blocks;
// otherwise (escapes, folding) it falls back to the scalar's own position.
func (p *parser) offsetPos(n *yaml.Node, off int) (line, col int) {
	if off < 0 || off > len(n.Value) {
		return n.Line, n.Column
	}
	before := n.Value[:off]
	switch {
	case n.Style&yaml.LiteralStyle != 0:
		// The value starts on the line after the "|" indicator, each line
		// indented like the first.
		nl := strings.Count(before, "\n")
		line = n.Line + 1 + nl
		src := p.line(line)
		indent := len(src) - len(strings.TrimLeft(src, " "))
		lastNL := strings.LastIndexByte(before, '\n')
		return line, indent + 1 + utf8.RuneCountInString(before[lastNL+1:])
	case strings.ContainsRune(n.Value, '\n'), n.Style&yaml.FoldedStyle != 0:
		return n.Line, n.Column
	case n.Style&(yaml.SingleQuotedStyle|yaml.DoubleQuotedStyle) != 0:
		if strings.ContainsAny(n.Value, `'"\`) {
			return n.Line, n.Column // escapes shift the columns
		}
		return n.Line, n.Column + 1 + utf8.RuneCountInString(before)
	}
	return n.Line, n.Column + utf8.RuneCountInString(before)
}

func (p *parser) line(n int) string {
	if p.lines == nil {
		p.lines = strings.Split(string(p.data), "\n")
	}
	if n < 1 || n > len(p.lines) {
		return ""
	}
	return p.lines[n-1]
}

// resolve follows YAML aliases (*name) to the anchored node.
func resolve(n *yaml.Node) *yaml.Node {
	for i := 0; n != nil && n.Kind == yaml.AliasNode && i < 100; i++ {
		n = n.Alias
	}
	return n
}

// mapping iterates a mapping node's pairs, reporting duplicate keys and
// merge keys (<<), which yaml.v3 leaves unexpanded in a node tree and
// which would otherwise be read as a field called "<<".
func (p *parser) mapping(n *yaml.Node, what string, f func(k, v *yaml.Node)) {
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := resolve(n.Content[i]), resolve(n.Content[i+1])
		if k == nil || v == nil {
			continue
		}
		if k.Kind != yaml.ScalarNode {
			p.errorf(k, "%s: keys must be plain strings", what)
			continue
		}
		if k.ShortTag() == "!!merge" {
			p.errorf(k, "%s: YAML merge keys (<<) are not supported", what)
			continue
		}
		if seen[k.Value] {
			p.errorf(k, "%s: duplicate key %q", what, k.Value)
			continue
		}
		seen[k.Value] = true
		f(k, v)
	}
}

var uuidRe = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

var levels = []string{"informational", "low", "medium", "high", "critical"}

var statuses = []string{"stable", "test", "experimental", "deprecated", "unsupported"}

// rule reads one rule document. It returns nil when the document has
// errors, which are recorded.
func (p *parser) rule(root *yaml.Node) *Rule {
	if root.Kind != yaml.MappingNode {
		p.errorf(root, "a rule document must be a YAML mapping, not a %s", kindName(root))
		return nil
	}
	before := len(p.errs)
	r := &Rule{File: p.file, Line: root.Line}
	var detKey, detVal, titleKey, idKey, corrKey, corrVal, logsourceVal *yaml.Node
	// notRule is set for correlation and collection documents, which are
	// not detection rules: complaining about their missing title or
	// detection would only bury the one error that matters.
	notRule := false
	p.mapping(root, "rule", func(k, v *yaml.Node) {
		switch k.Value {
		case "title":
			titleKey = k
			r.Title = p.str(k, v)
			if r.Title == "" && v.Kind == yaml.ScalarNode {
				p.errorf(v, "title is empty")
			}
		case "id":
			idKey = k
			id := p.str(k, v)
			switch {
			case v.Kind != yaml.ScalarNode:
			case !uuidRe.MatchString(id):
				p.errorf(v, "id %q is not a UUID (e.g. 929a690e-bef0-4204-a928-ef5e620d6fcc)", id)
			default:
				r.ID = strings.ToLower(id)
			}
		case "name":
			r.Name = p.str(k, v)
			r.nameLine, r.nameCol = v.Line, v.Column
		case "status":
			r.Status = p.str(k, v)
			if r.Status != "" && !contains(statuses, r.Status) {
				p.errorf(v, "status %q is not one of %s", r.Status, strings.Join(statuses, ", "))
			}
		case "description":
			r.Description = p.str(k, v)
		case "author":
			r.Author = p.str(k, v)
		case "date":
			r.Date = p.str(k, v)
		case "modified":
			r.Modified = p.str(k, v)
		case "level":
			r.Level = p.str(k, v)
			if r.Level != "" && !contains(levels, r.Level) {
				p.errorf(v, "level %q is not one of %s", r.Level, strings.Join(levels, ", "))
			}
		case "tags":
			r.Tags = p.strList(k, v, false)
		case "references":
			r.References = p.strList(k, v, false)
		case "falsepositives":
			r.FalsePositives = p.strList(k, v, true)
		case "fields":
			r.Fields = p.strList(k, v, false)
		case "related":
			r.Related = p.related(k, v)
		case "logsource":
			logsourceVal = v
			r.Logsource = p.logsource(k, v)
		case "generate":
			if v.Kind != yaml.ScalarNode || v.ShortTag() != "!!bool" {
				p.errorf(v, "generate must be true or false")
			} else {
				r.Generate = strings.EqualFold(v.Value, "true")
				r.GenerateSet = true
			}
		case "detection":
			detKey, detVal = k, v
		case "correlation":
			corrKey, corrVal = k, v
		case "type":
			// Top-level type is how early drafts marked correlations; next
			// to a detection block it is just a custom attribute.
			if !hasKey(root, "detection") && !hasKey(root, "correlation") {
				p.errorf(k, "type belongs inside a correlation block (correlation: {type: %s, rules: [...], timespan: ..., condition: ...})", v.Value)
				notRule = true
			}
		case "action":
			p.errorf(k, "rule collections (action: %s) are not supported: write each rule as a complete document", v.Value)
			notRule = true
		}
	})
	if notRule {
		return nil
	}
	if titleKey == nil {
		p.errorf(root, "rule has no title")
	}
	if idKey == nil {
		p.errorf(root, "rule has no id (a UUID, e.g. 929a690e-bef0-4204-a928-ef5e620d6fcc)")
	}
	if corrKey != nil {
		if detKey != nil {
			p.errorf(detKey, "a correlation rule has no detection: put the detection in its own rule document and refer to it in rules:")
		}
		r.Correlation = p.correlation(corrKey, corrVal)
		if len(p.errs) > before || r.Correlation == nil || r.ID == "" {
			return nil
		}
		r.Fingerprint = fingerprint(withoutKey(corrVal, "generate"))
		return r
	}
	switch {
	case detKey == nil:
		p.errorf(root, "rule has no detection")
	case r.Logsource.Category != "" && !strings.EqualFold(r.Logsource.Category, "email"):
		// A rule for another log type would only add a list of unknown
		// fields to the one error that matters.
	default:
		r.cond = p.detection(detKey, detVal)
	}
	if len(p.errs) > before || r.cond == nil {
		return nil
	}
	r.Fingerprint = fingerprint(logsourceVal, detVal)
	if p.agg != nil {
		r.Correlation = p.agg.correlation(r)
	}
	return r
}

// withoutKey returns mapping m without the pair whose key is key.
func withoutKey(m *yaml.Node, key string) *yaml.Node {
	out := *m
	out.Content = nil
	for i := 0; i+1 < len(m.Content); i += 2 {
		if k := resolve(m.Content[i]); k != nil && k.Value == key {
			continue
		}
		out.Content = append(out.Content, m.Content[i], m.Content[i+1])
	}
	return &out
}

func hasKey(m *yaml.Node, key string) bool {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if k := resolve(m.Content[i]); k != nil && k.Kind == yaml.ScalarNode && k.Value == key {
			return true
		}
	}
	return false
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// str reads a scalar metadata value. Dates and numbers are kept as written.
func (p *parser) str(k, v *yaml.Node) string {
	if v.Kind != yaml.ScalarNode {
		p.errorf(v, "%s must be a string, not a %s", k.Value, kindName(v))
		return ""
	}
	if v.ShortTag() == "!!null" {
		return ""
	}
	return v.Value
}

// strList reads a list of scalars; single allows a lone scalar too (some
// rules write "falsepositives: Unknown").
func (p *parser) strList(k, v *yaml.Node, single bool) []string {
	switch {
	case v.Kind == yaml.ScalarNode && v.ShortTag() == "!!null":
		return nil
	case v.Kind == yaml.ScalarNode && single:
		return []string{v.Value}
	case v.Kind != yaml.SequenceNode:
		p.errorf(v, "%s must be a list of strings, not a %s", k.Value, kindName(v))
		return nil
	}
	out := make([]string, 0, len(v.Content))
	for _, item := range v.Content {
		item = resolve(item)
		if item.Kind != yaml.ScalarNode {
			p.errorf(item, "%s must be a list of strings, found a %s", k.Value, kindName(item))
			continue
		}
		out = append(out, item.Value)
	}
	return out
}

func (p *parser) related(k, v *yaml.Node) []Related {
	if v.Kind != yaml.SequenceNode {
		p.errorf(v, "related must be a list of {id, type} entries, not a %s", kindName(v))
		return nil
	}
	var out []Related
	for _, item := range v.Content {
		item = resolve(item)
		if item.Kind != yaml.MappingNode {
			p.errorf(item, "related must be a list of {id, type} entries, found a %s", kindName(item))
			continue
		}
		var rel Related
		p.mapping(item, "related", func(k, v *yaml.Node) {
			switch k.Value {
			case "id":
				rel.ID = strings.ToLower(p.str(k, v))
			case "type":
				rel.Type = p.str(k, v)
			}
		})
		out = append(out, rel)
	}
	return out
}

func (p *parser) logsource(k, v *yaml.Node) Logsource {
	var ls Logsource
	if v.Kind != yaml.MappingNode {
		p.errorf(v, "logsource must be a mapping, not a %s", kindName(v))
		return ls
	}
	p.mapping(v, "logsource", func(k, v *yaml.Node) {
		switch k.Value {
		case "category":
			ls.Category = p.str(k, v)
			if ls.Category != "" && !strings.EqualFold(ls.Category, "email") {
				p.errorf(v, "logsource category %q is not supported: detect reads mail logs, use category: email (or leave it out)", ls.Category)
			}
		case "product":
			ls.Product = strings.ToLower(p.str(k, v))
		case "service":
			ls.Service = p.str(k, v)
		}
	})
	return ls
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "mapping"
	case yaml.SequenceNode:
		return "list"
	case yaml.ScalarNode:
		if n.ShortTag() == "!!null" {
			return "null"
		}
		return "scalar"
	case yaml.DocumentNode:
		return "document"
	case yaml.AliasNode:
		return "alias"
	}
	return "node"
}

package sigma

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"
)

// Severity of a lint finding.
type Severity uint8

// Severities: errors make `detect lint` fail; warnings are advice.
const (
	SeverityError Severity = iota
	SeverityWarning
)

func (s Severity) String() string {
	if s == SeverityWarning {
		return "warning"
	}
	return "error"
}

// Diagnostic is one lint finding at a 1-based line and column.
type Diagnostic struct {
	File      string
	Line, Col int
	Severity  Severity
	Msg       string
}

func (d Diagnostic) String() string {
	return fmt.Sprintf("%s:%d:%d: %s: %s", d.File, d.Line, d.Col, d.Severity, d.Msg)
}

// SortDiagnostics orders findings by file, line and column.
func SortDiagnostics(ds []Diagnostic) {
	slices.SortStableFunc(ds, func(a, b Diagnostic) int {
		return cmp.Or(strings.Compare(a.File, b.File), cmp.Compare(a.Line, b.Line), cmp.Compare(a.Col, b.Col))
	})
}

// LintOptions tune the checks that depend on the rest of the build.
type LintOptions struct {
	// Products that some parser emits; a logsource naming another product
	// can never match. Empty disables the check.
	Products []string
}

// knownTopKeys are the rule attributes of the Sigma specification (v2),
// plus the correlation keys. Anything else is allowed by the specification
// as a custom attribute, so it is only a warning, but most are typos.
var knownTopKeys = []string{
	"title", "id", "name", "related", "taxonomy", "status", "description", "license", "author",
	"references", "date", "modified", "logsource", "detection", "fields", "falsepositives",
	"level", "tags", "scope", "generate", "correlation", "type", "action",
}

// ATT&CK tags: technique ids, groups, software, campaigns, mitigations, and
// the tactic names in Sigma's spelling.
var (
	attackIDRe    = regexp.MustCompile(`^attack\.(t\d{4}(\.\d{3})?|g\d{4}|s\d{4}|c\d{4}|m\d{4}|ds\d{4})$`)
	attackTactics = []string{
		"reconnaissance", "resource_development", "initial_access", "execution", "persistence",
		"privilege_escalation", "defense_evasion", "credential_access", "discovery", "lateral_movement",
		"collection", "command_and_control", "exfiltration", "impact",
	}
)

// Lint checks one rule file: every load error of ParseFile, plus what the
// loader accepts but a reviewer would flag (missing level or logsource,
// unknown attributes, malformed ATT&CK tags, deprecated rules and
// aggregations, logsources no parser produces). Findings are sorted by position.
func Lint(name string, data []byte, opts LintOptions) []Diagnostic {
	var out []Diagnostic
	rules, err := ParseFile(name, data)
	for _, r := range rules {
		if c := r.Correlation; c != nil && c.Legacy != "" {
			out = append(out, Diagnostic{File: name, Line: c.line, Col: c.col, Severity: SeverityWarning, Msg: c.Legacy})
		}
	}
	var list ErrorList
	if errors.As(err, &list) {
		for _, e := range list {
			out = append(out, Diagnostic{File: e.File, Line: e.Line, Col: e.Col, Severity: SeverityError, Msg: e.Msg})
		}
	} else if err != nil {
		out = append(out, Diagnostic{File: name, Line: 1, Col: 1, Severity: SeverityError, Msg: err.Error()})
	}

	dec := yaml.NewDecoder(bytes.NewReader(data))
	for {
		var doc yaml.Node
		if err := dec.Decode(&doc); err != nil {
			// io.EOF ends the file; a syntax error was already reported by
			// ParseFile, and the decoder cannot go past it.
			break
		}
		root := &doc
		if root.Kind == yaml.DocumentNode && len(root.Content) > 0 {
			root = root.Content[0]
		}
		if root.Kind != yaml.MappingNode {
			continue
		}
		out = append(out, lintDoc(name, root, opts)...)
	}
	SortDiagnostics(out)
	return out
}

func lintDoc(file string, root *yaml.Node, opts LintOptions) []Diagnostic {
	var out []Diagnostic
	add := func(n *yaml.Node, sev Severity, format string, args ...any) {
		out = append(out, Diagnostic{File: file, Line: n.Line, Col: n.Column, Severity: sev, Msg: fmt.Sprintf(format, args...)})
	}
	keys := map[string]*yaml.Node{}
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, v := root.Content[i], root.Content[i+1]
		keys[k.Value] = v
		if !slices.Contains(knownTopKeys, k.Value) {
			add(k, SeverityWarning, "unknown rule attribute %q%s; Sigma keeps it as a custom attribute, detect ignores it",
				k.Value, suggest(k.Value, knownTopKeys))
		}
	}
	if _, ok := keys["correlation"]; ok {
		return out // not a detection rule: the remaining checks do not apply
	}
	for _, required := range []string{"level", "logsource"} {
		if _, ok := keys[required]; !ok {
			add(root, SeverityError, "rule has no %s", required)
		}
	}
	if v, ok := keys["status"]; ok && v.Value == "deprecated" {
		add(v, SeverityWarning, "rule is deprecated but still in the rule tree, so it still alerts; remove it or move it out")
	}
	if v, ok := keys["tags"]; ok && v.Kind == yaml.SequenceNode {
		for _, t := range v.Content {
			tag := strings.ToLower(t.Value)
			if !strings.HasPrefix(tag, "attack.") {
				continue
			}
			if attackIDRe.MatchString(tag) || slices.Contains(attackTactics, strings.TrimPrefix(tag, "attack.")) {
				continue
			}
			add(t, SeverityError, "tag %q is not an ATT&CK id (attack.t1566.001) or tactic (attack.initial_access)%s",
				t.Value, suggest(strings.TrimPrefix(tag, "attack."), attackTactics))
		}
	}
	if ls, ok := keys["logsource"]; ok && ls.Kind == yaml.MappingNode && len(opts.Products) > 0 {
		for i := 0; i+1 < len(ls.Content); i += 2 {
			k, v := ls.Content[i], ls.Content[i+1]
			if k.Value == "product" && v.Value != "" && !slices.Contains(opts.Products, strings.ToLower(v.Value)) {
				add(v, SeverityWarning, "no parser produces events of product %q (known: %s), so this rule can never match",
					v.Value, strings.Join(opts.Products, ", "))
			}
		}
	}
	return out
}

// suggest is didYouMean with room for one more typo: attribute and tactic
// names are short, and a swapped pair of letters ("levle") costs two edits.
func suggest(name string, candidates []string) string {
	best, bestD := "", 3
	for _, c := range candidates {
		if d := editDistance(strings.ToLower(name), c); d < bestD {
			best, bestD = c, d
		}
	}
	if best == "" {
		return ""
	}
	return fmt.Sprintf(" (did you mean %q?)", best)
}

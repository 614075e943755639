package ruledoc

import (
	"fmt"
	"slices"
	"strings"

	"github.com/open-policy-agent/opa/v1/ast"

	"github.com/detect-dev/detect/engine/sigma"
	"github.com/detect-dev/detect/schema"
)

// readRego reads a Rego rule's METADATA: custom.id, custom.falsepositives,
// and custom.requires as its needs (detect lint proves that every alert of
// the rule needs what requires lists, so it is a lower bound of what the
// rule reads).
func readRego(file string, data []byte, metas map[string]*meta) error {
	m, err := ast.ParseModuleWithOpts(file, string(data), ast.ParserOptions{ProcessAnnotation: true, RegoVersion: ast.RegoV1})
	if err != nil {
		return fmt.Errorf("%s: %w", file, err)
	}
	if m == nil {
		return nil
	}
	for _, a := range m.Annotations {
		if a.Scope != "package" && a.Scope != "subpackages" {
			continue
		}
		id, _ := a.Custom["id"].(string)
		if id == "" {
			return nil
		}
		md := &meta{falsePositives: strs(a.Custom["falsepositives"])}
		for _, req := range strs(a.Custom["requires"]) {
			if typeBit(req) != 0 {
				md.needs.EventTypes = append(md.needs.EventTypes, req)
				continue
			}
			if f, ok := schema.LookupField(req); ok {
				md.needs.Fields = append(md.needs.Fields, f.Name())
			}
		}
		slices.Sort(md.needs.Fields)
		if w, ok := a.Custom["window"].(map[string]any); ok {
			md.corr, md.history = windowCorrelation(w)
		}
		metas[strings.ToLower(id)] = md
		return nil
	}
	return nil
}

// strs reads a metadata list of strings (or one string).
func strs(v any) []string {
	switch v := v.(type) {
	case string:
		return []string{v}
	case []any:
		var out []string
		for _, x := range v {
			if s, ok := x.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

// windowCorrelation describes a windowed rule's custom.window as the
// correlation it resembles (event_count, or value_sum of its sum field,
// by its group_by in windows of its span, fed by its rules), so it is
// documented like one; history is how many earlier windows it compares
// with.
func windowCorrelation(w map[string]any) (*sigma.Correlation, int) {
	c := &sigma.Correlation{Type: "event_count", GroupBy: strs(w["group_by"]), Rules: strs(w["rules"])}
	if sum, ok := w["sum"].(string); ok {
		c.Type, c.Field = "value_sum", sum
	}
	if span, ok := w["span"].(string); ok {
		c.Timespan, _ = sigma.ParseTimespan(span)
	}
	history := 0
	switch n := w["history"].(type) {
	case int:
		history = n
	case float64:
		history = int(n)
	}
	return c, history
}

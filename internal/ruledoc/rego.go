package ruledoc

import (
	"fmt"
	"slices"
	"strings"

	"github.com/open-policy-agent/opa/v1/ast"

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

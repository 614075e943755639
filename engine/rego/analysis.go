package rego

import (
	"github.com/open-policy-agent/opa/v1/ast"

	"github.com/detect-dev/detect/schema"
)

var inputVar = ast.Var("input")

// inputReads returns the event fields x reads as input.<field>, and whether
// it reads input as a whole or with a computed key (then every field may be
// read).
func inputReads(x any) (reads fieldSet, all bool) {
	var visit func(x any)
	visitor := func(x any) bool {
		switch v := x.(type) {
		case ast.Ref:
			if len(v) == 0 || v[0].Value != ast.Value(inputVar) {
				return false
			}
			rest := v[1:]
			if len(v) > 1 {
				if s, ok := v[1].Value.(ast.String); ok {
					if f, known := schema.LookupField(string(s)); known && f.Name() == string(s) {
						reads.add(f)
					}
					rest = v[2:]
				} else {
					all = true
				}
			} else {
				all = true
			}
			for _, t := range rest {
				visit(t)
			}
			return true
		case ast.Var:
			if v == inputVar {
				all = true
			}
		}
		return false
	}
	visit = func(x any) { ast.NewGenericVisitor(visitor).Walk(x) }
	visit(x)
	return reads, all
}

// alertNeeds returns the fields every alert rule of m needs to be present
// to yield anything: those its head or a top-level, non-negated expression
// of its body reads. (An undefined input.<field> makes such an expression
// undefined and the body fail.) Reads inside comprehensions and every are
// not counted; they may not run.
func alertNeeds(m *ast.Module) fieldSet {
	need, first := fieldSet(0), true
	for _, rule := range m.Rules {
		if !isAlert(rule) {
			continue
		}
		var these fieldSet
		if rule.Head.Key != nil {
			these |= topLevelReads(rule.Head.Key)
		}
		for _, expr := range rule.Body {
			if expr.Negated {
				continue
			}
			if _, every := expr.Terms.(*ast.Every); every {
				continue
			}
			these |= topLevelReads(expr.Terms)
		}
		if first {
			need, first = these, false
		} else {
			need &= these
		}
	}
	return need
}

// topLevelReads is inputReads without descending into closures.
func topLevelReads(x any) fieldSet {
	var reads fieldSet
	ast.NewGenericVisitor(func(x any) bool {
		switch v := x.(type) {
		case *ast.ArrayComprehension, *ast.SetComprehension, *ast.ObjectComprehension, *ast.Every:
			return true
		case ast.Ref:
			if len(v) > 1 && v[0].Value == ast.Value(inputVar) {
				if s, ok := v[1].Value.(ast.String); ok {
					if f, known := schema.LookupField(string(s)); known && f.Name() == string(s) {
						reads.add(f)
					}
				}
			}
		}
		return false
	}).Walk(x)
	return reads
}

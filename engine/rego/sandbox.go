package rego

import (
	"slices"

	"github.com/open-policy-agent/opa/v1/ast"
	oparego "github.com/open-policy-agent/opa/v1/rego"
)

// disabled lists the built-ins rules may not call, with the reason given in
// the load error. A rule sees one event and data.config; it must not reach
// the network, DNS or the process, and must not write anywhere.
//
// The other net.* built-ins (net.cidr_contains and friends) stay: they are
// pure functions of their arguments, and matching client addresses against
// networks is everyday work for mail rules.
var disabled = map[string]string{
	"http.send":          "it makes HTTP requests",
	"net.lookup_ip_addr": "it makes DNS queries",
	"opa.runtime":        "it exposes the process's environment and configuration",
	"trace":              "it writes to evaluation tracers; use print in *_test.rego files",
}

// capabilities returns OPA's built-ins without the disabled ones, plus
// extra. Network access is off (an empty allow list).
func capabilities(extra ...*oparego.Function) *ast.Capabilities {
	caps := ast.CapabilitiesForThisVersion()
	kept := caps.Builtins[:0]
	for _, b := range caps.Builtins {
		if _, off := disabled[b.Name]; !off {
			kept = append(kept, b)
		}
	}
	for _, f := range extra {
		kept = append(kept, builtinDecl(f))
	}
	caps.Builtins = kept
	caps.AllowNet = []string{}
	return caps
}

// disabledCalls returns an error for every call of a disabled or internal
// built-in in m, at the call.
func disabledCalls(m *ast.Module, file string) []*Error {
	var errs []*Error
	check := func(op ast.Ref, loc *ast.Location) {
		name := op.String()
		if why, off := disabled[name]; off {
			errs = append(errs, errorAt(file, loc, "%s is disabled in detect rules: %s", name, why))
		} else if slices.ContainsFunc(internalBuiltins, func(f *oparego.Function) bool { return f.Name == name }) {
			errs = append(errs, errorAt(file, loc, "%s is internal to the engine", name))
		}
	}
	ast.WalkExprs(m, func(x *ast.Expr) bool {
		if x.IsCall() {
			check(x.Operator(), x.Location)
		}
		return false
	})
	ast.WalkWiths(m, func(w *ast.With) bool {
		if op, ok := w.Value.Value.(ast.Ref); ok {
			if _, off := disabled[op.String()]; off {
				check(op, w.Value.Location)
			}
		}
		return false
	})
	ast.WalkTerms(m, func(t *ast.Term) bool {
		if c, ok := t.Value.(ast.Call); ok && len(c) > 0 {
			if op, ok := c[0].Value.(ast.Ref); ok {
				check(op, t.Location)
			}
		}
		return false
	})
	return errs
}

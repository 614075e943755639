// Package rules is the default rule pack shipped inside the detect binary.
//
// The files under sigma/ (Sigma) and rego/ (Rego, with their *_test.rego
// OPA unit tests) are ordinary rule files, reviewed and tested like code
// (each rule has a case file in tests/rule_cases/); data/ holds the Rego
// rules' tunables, merged into data.config. Embedding them means
// `detect scan` works on a fresh machine with nothing but the binary.
package rules

import (
	"embed"
	"io/fs"
)

//go:embed sigma rego data
var embedded embed.FS

// FS returns the embedded pack, rooted so that paths read "sigma/<file>",
// "rego/<file>" and "data/<file>".
func FS() fs.FS { return embedded }

// Display is the prefix shown for embedded rule files, so alerts point at the
// path of the rule in this repository (rules/sigma/...).
const Display = "rules"

package ruleimpact

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"strings"

	"github.com/detect-dev/detect/engine"
)

// ruleTexts maps each rule id of a side to a digest of the rule's own text.
// The text, not the compiled rule, decides "changed": the compiled matchers
// cannot be compared, and a reviewer wants to know about any edit (a new
// description or level changes what the alert says even when it fires on the
// same events).
func ruleTexts(s Side) (map[string][sha256.Size]byte, error) {
	out := map[string][sha256.Size]byte{}
	files := map[string][]byte{} // a file holding several rules is read once
	for _, r := range rules(s.Rules) {
		data, ok := files[r.File]
		if !ok {
			var err error
			if data, err = readRuleFile(s.Sources, r.File); err != nil {
				return nil, err
			}
			files[r.File] = data
		}
		out[r.ID] = sha256.Sum256(document(data, r.Line))
	}
	return out, nil
}

// readRuleFile reads a rule file by its displayed name (Display + path in
// the source's FS), trying each source whose Display prefixes the name.
func readRuleFile(srcs []engine.Source, name string) ([]byte, error) {
	for _, src := range srcs {
		rel, ok := strings.CutPrefix(name, src.Display+"/")
		if src.Display == "" || src.Display == "." {
			// path.Join dropped the prefix when the rules were loaded.
			rel, ok = name, true
		}
		if !ok {
			continue
		}
		data, err := fs.ReadFile(src.FS, path.Clean(rel))
		if err == nil {
			return data, nil
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("rule impact: reading %s: %w", name, err)
		}
	}
	return nil, fmt.Errorf("rule impact: %s is in no rule source: %w", name, fs.ErrNotExist)
}

// document returns the YAML document of data that holds line (1-based),
// trimmed of blank lines around it, so that a rule in a multi-document file
// is unchanged when only its neighbours are edited. A file without document
// markers (one Sigma rule, or a Rego module) is one document.
func document(data []byte, line int) []byte {
	start, n := 0, 1
	docStart := 0
	for start < len(data) {
		end := bytes.IndexByte(data[start:], '\n')
		next := len(data)
		if end >= 0 {
			next = start + end + 1
		}
		if isDocMarker(data[start:next]) {
			if n > line {
				return bytes.TrimSpace(data[docStart:start])
			}
			docStart = next
		}
		start = next
		n++
	}
	return bytes.TrimSpace(data[docStart:])
}

// isDocMarker reports whether a line starts or ends a YAML document: "---"
// or "..." alone, or "---" followed by a space (a document with content on
// the marker's line).
func isDocMarker(l []byte) bool {
	l = bytes.TrimRight(l, " \t\r\n")
	if bytes.Equal(l, []byte("---")) || bytes.Equal(l, []byte("...")) {
		return true
	}
	return bytes.HasPrefix(l, []byte("--- "))
}

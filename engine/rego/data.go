package rego

import (
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// LoadData builds data.config: the rule trees' data files (tree, YAML or
// JSON objects) merged key by key, and then overrides merged over them in
// order (a later file wins; objects merge, anything else is replaced). Two
// tree files setting the same value is an error: which one wins would
// depend on file names.
func LoadData(tree, overrides []File) (map[string]any, error) {
	config := map[string]any{}
	origin := map[string]*Error{} // leaf path -> where it was set
	var errs []*Error
	for i, f := range append(append([]File(nil), tree...), overrides...) {
		v, lines, err := decodeData(f)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		errs = append(errs, mergeData(config, v, "", f.Path, lines, origin, i >= len(tree))...)
	}
	if len(errs) > 0 {
		return nil, sortErrors(errs)
	}
	return config, nil
}

// mergeData merges src into dst. Leaf conflicts are errors unless override.
func mergeData(dst, src map[string]any, prefix, file string, lines map[string]int, origin map[string]*Error, override bool) []*Error {
	var errs []*Error
	for k, sv := range src {
		path := prefix + k
		sm, srcObj := sv.(map[string]any)
		dv, exists := dst[k]
		dm, dstObj := dv.(map[string]any)
		if srcObj && (!exists || dstObj) {
			if !exists {
				dm = map[string]any{}
				dst[k] = dm
			}
			errs = append(errs, mergeData(dm, sm, path+".", file, lines, origin, override)...)
			continue
		}
		here := &Error{File: file, Line: max(lines[path], 1), Col: 1}
		if exists && !override {
			prev := origin[path]
			if prev == nil { // an object here, set key by key elsewhere
				for p, e := range origin {
					if strings.HasPrefix(p, path+".") {
						prev = e
						break
					}
				}
			}
			where := "in another data file"
			if prev != nil {
				where = fmt.Sprintf("at %s:%d", prev.File, prev.Line)
			}
			here.Msg = fmt.Sprintf("data: config.%s is also set %s; set each value in one file", path, where)
			errs = append(errs, here)
			continue
		}
		dst[k] = sv
		origin[path] = here
	}
	return errs
}

// decodeData reads a YAML or JSON object and the line of each key path.
func decodeData(f File) (map[string]any, map[string]int, *Error) {
	var doc yaml.Node
	dec := yaml.NewDecoder(strings.NewReader(string(f.Data)))
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return map[string]any{}, nil, nil // an empty file sets nothing
		}
		return nil, nil, &Error{File: f.Path, Line: yamlErrLine(err), Col: 1, Msg: "data: " + err.Error(), Err: err}
	}
	root := &doc
	if root.Kind == yaml.DocumentNode && len(root.Content) > 0 {
		root = root.Content[0]
	}
	if root.Kind != yaml.MappingNode {
		return nil, nil, &Error{File: f.Path, Line: root.Line, Col: root.Column, Msg: "data: a data file is an object (key: value) merged into data.config"}
	}
	lines := map[string]int{}
	v, err := nodeValue(root, "", f.Path, lines)
	if err != nil {
		return nil, nil, err
	}
	return v.(map[string]any), lines, nil
}

// nodeValue converts a YAML node to the JSON-like values OPA stores:
// objects with string keys, lists, strings, numbers, booleans and null.
// Timestamps stay strings, as they are in JSON.
func nodeValue(n *yaml.Node, path, file string, lines map[string]int) (any, *Error) {
	fail := func(format string, args ...any) *Error {
		return &Error{File: file, Line: n.Line, Col: n.Column, Msg: "data: " + fmt.Sprintf(format, args...)}
	}
	switch n.Kind {
	case yaml.AliasNode:
		return nodeValue(n.Alias, path, file, lines)
	case yaml.MappingNode:
		m := make(map[string]any, len(n.Content)/2)
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			if k.Kind != yaml.ScalarNode {
				return nil, fail("keys must be strings")
			}
			if _, dup := m[k.Value]; dup {
				return nil, &Error{File: file, Line: k.Line, Col: k.Column, Msg: fmt.Sprintf("data: key %q appears twice", k.Value)}
			}
			lines[path+k.Value] = k.Line
			x, err := nodeValue(v, path+k.Value+".", file, lines)
			if err != nil {
				return nil, err
			}
			m[k.Value] = x
		}
		return m, nil
	case yaml.SequenceNode:
		list := make([]any, len(n.Content))
		for i, c := range n.Content {
			x, err := nodeValue(c, path, file, lines)
			if err != nil {
				return nil, err
			}
			list[i] = x
		}
		return list, nil
	case yaml.ScalarNode:
		switch n.Tag {
		case "!!null":
			return nil, nil
		case "!!bool":
			var b bool
			if err := n.Decode(&b); err != nil {
				return nil, fail("%v", err)
			}
			return b, nil
		case "!!int":
			var i int64
			if err := n.Decode(&i); err != nil {
				return nil, fail("%v", err)
			}
			return i, nil
		case "!!float":
			f, err := strconv.ParseFloat(n.Value, 64)
			if err != nil {
				return nil, fail("%q is not a number JSON can hold", n.Value)
			}
			return f, nil
		}
		return n.Value, nil
	}
	return nil, fail("unsupported YAML node")
}

// yamlErrLine digs the line out of a yaml.v3 error ("yaml: line 3: ...").
func yamlErrLine(err error) int {
	msg := err.Error()
	if _, rest, ok := strings.Cut(msg, "line "); ok {
		end := strings.IndexFunc(rest, func(r rune) bool { return r < '0' || r > '9' })
		if end > 0 {
			if n, err := strconv.Atoi(rest[:end]); err == nil {
				return n
			}
		}
	}
	return 1
}

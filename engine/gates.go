package engine

import (
	"github.com/detect-dev/detect/engine/sigma"
	"github.com/detect-dev/detect/schema"
)

// gates indexes the Sigma rules of a set by their gate (sigma.Rule.Gate):
// an event's value of each gated field is looked up once, as a small
// number, and each gated rule then passes or is skipped by one slice read
// instead of being evaluated. Rules without a gate are always evaluated.
type gates struct {
	fields []schema.Field
	ids    []map[string]int // by field: lower-case value -> id (from 1; 0 is any other value)
}

// gateOf is a rule's place in the index: pass[id] says whether the
// event's value of field (by its id) can satisfy the rule.
type gateOf struct {
	field int // index into gates.fields
	pass  []bool
}

// maxGated bounds the fields gated; an event looks up every one of them.
const maxGated = 4

// indexGates builds the index of rs's Sigma rules.
func (rs *Ruleset) indexGates(sigmaGates map[*Rule]sigma.Gate) {
	ix := &rs.gates
	for _, r := range rs.rules {
		g, ok := sigmaGates[r]
		if !ok {
			continue
		}
		fi := -1
		for i, f := range ix.fields {
			if f == g.Field {
				fi = i
			}
		}
		if fi < 0 {
			if len(ix.fields) == maxGated {
				continue
			}
			fi = len(ix.fields)
			ix.fields = append(ix.fields, g.Field)
			ix.ids = append(ix.ids, map[string]int{})
		}
		for _, v := range g.Values {
			if _, ok := ix.ids[fi][v]; !ok {
				ix.ids[fi][v] = len(ix.ids[fi]) + 1
			}
		}
		r.gate = &gateOf{field: fi}
	}
	for _, r := range rs.rules {
		if r.gate == nil {
			continue
		}
		g := sigmaGates[r]
		r.gate.pass = make([]bool, len(ix.ids[r.gate.field])+1)
		for _, v := range g.Values {
			r.gate.pass[ix.ids[r.gate.field][v]] = true
		}
	}
}

// lookup fills ids with the id of e's value of each gated field.
func (ix *gates) lookup(e *schema.Event, ids *[maxGated]int) {
	var buf [64]byte
	for i, f := range ix.fields {
		s := e.Str(f)
		if len(s) > len(buf) {
			ids[i] = 0 // longer than any literal worth gating on: no id
			if id, ok := ix.ids[i][lowerASCII(s)]; ok {
				ids[i] = id
			}
			continue
		}
		b := buf[:len(s)]
		for j := 0; j < len(s); j++ {
			c := s[j]
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			b[j] = c
		}
		ids[i] = ix.ids[i][string(b)] // a map look-up of string(bytes) does not copy
	}
}

// passes reports whether r may match the event whose gated values are ids.
func (r *Rule) passes(ids *[maxGated]int) bool {
	return r.gate == nil || r.gate.pass[ids[r.gate.field]]
}

// lowerASCII lower-cases the ASCII letters of s, as Sigma's
// case-insensitive literals compare.
func lowerASCII(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

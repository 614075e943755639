// Package ruledoc describes a rule pack for the people who run it: for each
// rule its metadata (level, ATT&CK tags, false positives), what it needs
// from the logs (event types and fields, derived from what its detection
// reads) and so which input formats can feed it. `detect rules list
// --markdown` renders it as docs/rules.md.
//
// It reads the rule files itself, next to the engine that loaded them: the
// engine keeps what evaluation needs, not the documentation (false
// positives, the shape of a detection).
package ruledoc

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/detect-dev/detect/engine"
	"github.com/detect-dev/detect/engine/sigma"
)

// Rule is one rule as documented.
type Rule struct {
	ID, Engine, Level, Title, File string
	Line                           int
	Description                    string
	Tags                           []string
	FalsePositives                 []string
	// Base is set for rules that only feed correlations (generate: false).
	Base bool
	// Logic summarizes a correlation ("distinct recipient by sender in 1h
	// >= 200"); empty for rules that judge single events.
	Logic string
	// Feeds names the correlations a base rule feeds.
	Feeds []string
	Needs Needs
	// Formats are the input formats whose parsers produce events with
	// what the rule needs.
	Formats []string
}

// Needs is what an event must have for a rule to match it.
type Needs struct {
	Products   []string // logsource product; any when empty
	EventTypes []string // one of these; any when empty
	Fields     []string // all of these
}

// meta is what ruledoc reads from a rule file, by rule id.
type meta struct {
	falsePositives []string
	needs          Needs
	products       []string
	corr           *sigma.Correlation // or a windowed Rego rule's window, as one
	history        int                // a window's earlier windows compared
	name           string
}

// Describe documents the rules of rs, reading their files from the
// sources rs was loaded from. Rules come in rs's order.
func Describe(srcs []engine.Source, rs *engine.Ruleset) ([]Rule, error) {
	metas := map[string]*meta{}
	byName := map[string]string{} // Sigma name -> id
	var errs []error
	for _, src := range srcs {
		err := fs.WalkDir(src.FS, ".", func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() {
				if p == "data" {
					return fs.SkipDir
				}
				return nil
			}
			data, err := fs.ReadFile(src.FS, p)
			if err != nil {
				return err
			}
			shown := path.Join(src.Display, p)
			switch {
			case strings.HasSuffix(p, ".yml") || strings.HasSuffix(p, ".yaml"):
				errs = append(errs, readSigma(shown, data, metas, byName)...)
			case strings.HasSuffix(p, ".rego") && !strings.HasSuffix(p, "_test.rego"):
				if err := readRego(shown, data, metas); err != nil {
					errs = append(errs, err)
				}
			}
			return nil
		})
		if err != nil {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}

	var out []Rule
	for _, r := range rs.Rules() {
		m := metas[r.ID]
		if m == nil {
			m = &meta{}
		}
		d := Rule{
			ID: r.ID, Engine: r.Engine, Level: r.Level, Title: r.Title, File: r.File, Line: r.Line,
			Description: r.Description, Tags: r.Tags, FalsePositives: m.falsePositives,
			Base: !r.Generate, Needs: m.needs,
		}
		if c := m.corr; c != nil {
			d.Base = false
			d.Logic = logic(c)
			if m.history > 0 {
				d.Logic += fmt.Sprintf(" against its last %d windows", m.history)
			}
			own := m.needs // a window without rules: its custom.requires
			d.Needs = correlationNeeds(c, metas, byName)
			if len(c.Rules) == 0 {
				d.Needs.EventTypes = own.EventTypes
				d.Needs.Fields = union(own.Fields, d.Needs.Fields)
			}
		}
		d.Formats = formatsFor(d.Needs)
		out = append(out, d)
	}
	// Base rules name what they feed.
	feeds := map[string][]string{}
	for _, d := range out {
		if m := metas[d.ID]; m != nil && m.corr != nil {
			for _, ref := range m.corr.Rules {
				id := resolve(ref, byName)
				feeds[id] = append(feeds[id], d.Title)
			}
		}
	}
	for i := range out {
		out[i].Feeds = feeds[out[i].ID]
	}
	return out, nil
}

// readSigma reads every rule document of a Sigma file: metadata through
// engine/sigma, the detection's needs from the YAML itself.
func readSigma(file string, data []byte, metas map[string]*meta, byName map[string]string) []error {
	rules, err := sigma.ParseFile(file, data)
	if err != nil {
		return []error{err}
	}
	dets, err := detections(data)
	if err != nil {
		return []error{fmt.Errorf("%s: %w", file, err)}
	}
	var errs []error
	for _, r := range rules {
		m := &meta{falsePositives: r.FalsePositives, corr: r.Correlation, name: r.Name}
		if r.Logsource.Product != "" {
			m.products = []string{strings.ToLower(r.Logsource.Product)}
		}
		if det := dets[r.ID]; det != nil {
			c, err := detectionNeeds(det)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s:%d: %w", file, r.Line, err))
				continue
			}
			m.needs = needsOf(c, m.products)
		}
		metas[r.ID] = m
		if r.Name != "" {
			byName[r.Name] = r.ID
		}
	}
	return errs
}

// detections maps each document's id to its detection block.
func detections(data []byte) (map[string]*yaml.Node, error) {
	out := map[string]*yaml.Node{}
	dec := yaml.NewDecoder(strings.NewReader(string(data)))
	for {
		var doc yaml.Node
		if err := dec.Decode(&doc); err != nil {
			if err.Error() == "EOF" {
				return out, nil
			}
			return nil, err
		}
		if len(doc.Content) == 0 || doc.Content[0].Kind != yaml.MappingNode {
			continue
		}
		root := doc.Content[0]
		var id string
		var det *yaml.Node
		for i := 0; i+1 < len(root.Content); i += 2 {
			switch root.Content[i].Value {
			case "id":
				id = strings.ToLower(root.Content[i+1].Value)
			case "detection":
				det = root.Content[i+1]
			}
		}
		if id != "" && det != nil && det.Kind == yaml.MappingNode {
			out[id] = det
		}
	}
}

// needsOf turns a detection's clause into Needs. event_type and action,
// which every event has, are not listed as fields.
func needsOf(c clause, products []string) Needs {
	n := Needs{Products: products}
	if c.possible != allTypes {
		n.EventTypes = c.possible.list()
	}
	for _, f := range c.required {
		if f != "event_type" && f != "action" {
			n.Fields = append(n.Fields, f)
		}
	}
	return n
}

// correlationNeeds: an event of any referenced rule counts, and it must
// carry the group-by fields (host excepted: a log without it is one
// server's) and the measured field.
func correlationNeeds(c *sigma.Correlation, metas map[string]*meta, byName map[string]string) Needs {
	var n Needs
	anyType, anyProduct := false, false
	for i, ref := range c.Rules {
		m := metas[resolve(ref, byName)]
		if m == nil {
			continue
		}
		rn := m.needs
		if m.corr != nil {
			rn = correlationNeeds(m.corr, metas, byName)
		}
		anyType = anyType || len(rn.EventTypes) == 0
		anyProduct = anyProduct || len(rn.Products) == 0
		n.EventTypes = union(n.EventTypes, rn.EventTypes)
		n.Products = union(n.Products, rn.Products)
		if i == 0 {
			n.Fields = rn.Fields
		} else {
			n.Fields = intersect(n.Fields, rn.Fields)
		}
	}
	if anyType {
		n.EventTypes = nil
	}
	if anyProduct {
		n.Products = nil
	}
	for _, g := range c.GroupBy {
		if g != "host" {
			n.Fields = union(n.Fields, []string{g})
		}
	}
	if c.Field != "" {
		n.Fields = union(n.Fields, []string{c.Field})
	}
	slices.SortFunc(n.EventTypes, func(a, b string) int { return slices.Index(eventTypes, a) - slices.Index(eventTypes, b) })
	return n
}

// resolve turns a correlation's reference (id or name) into an id.
func resolve(ref string, byName map[string]string) string {
	if id, ok := byName[ref]; ok {
		return id
	}
	return strings.ToLower(ref)
}

// logic summarizes a correlation: the measure, the grouping, the window
// and the threshold.
func logic(c *sigma.Correlation) string {
	var measure string
	switch c.Type {
	case "event_count":
		measure = "events"
	case "value_count":
		measure = "distinct " + c.Field
	case "value_sum":
		measure = "sum of " + c.Field
	case "value_avg":
		measure = "average " + c.Field
	default:
		measure = strings.ReplaceAll(c.Type, "_", " ")
	}
	var conds []string
	for _, op := range []string{"gt", "gte", "lt", "lte", "eq", "neq"} {
		if v, ok := c.Cond[op]; ok {
			sym := map[string]string{"gt": ">", "gte": ">=", "lt": "<", "lte": "<=", "eq": "=", "neq": "!="}[op]
			conds = append(conds, fmt.Sprintf("%s %s", sym, strings.TrimSuffix(fmt.Sprintf("%f", v), ".000000")))
		}
	}
	s := measure
	if len(c.GroupBy) > 0 {
		s += " by " + strings.Join(c.GroupBy, ", ")
	}
	s += " in " + span(c)
	if len(conds) > 0 {
		s += " " + strings.Join(conds, " and ")
	}
	return s
}

// span writes a timespan the way rules do (10m, 2h, 1d).
func span(c *sigma.Correlation) string {
	d := c.Timespan
	for _, u := range []struct {
		unit string
		secs int64
	}{{"d", 86400}, {"h", 3600}, {"m", 60}} {
		if s := int64(d.Seconds()); s > 0 && s%u.secs == 0 {
			return fmt.Sprintf("%d%s", s/u.secs, u.unit)
		}
	}
	return d.String()
}

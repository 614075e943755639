// Package engine loads rule files into an immutable Ruleset and evaluates it
// against normalized events, producing alerts.
//
// A Ruleset is built completely or not at all: Load reports every error it
// finds (each with file:line:col) and returns no rules when there is any, so
// a caller that hot-reloads can keep the previous set running. Once built, a
// Ruleset is read-only and safe for concurrent Evaluate calls.
package engine

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/detect-dev/detect/engine/sigma"
	"github.com/detect-dev/detect/schema"
)

// Engines that evaluate rules.
const (
	EngineSigma = "sigma"
	EngineRego  = "rego"
)

// Rule is one loaded detection, whatever its engine.
type Rule struct {
	ID          string
	Title       string
	Description string
	Level       string
	Tags        []string
	References  []string
	Engine      string
	File        string // as shown to users: rules/sigma/x.yml for the embedded pack
	Line        int
	// Generate is false for rules that only feed a correlation.
	Generate bool

	match func(*schema.Event) bool
}

// Match reports whether the rule fires on e.
func (r *Rule) Match(e *schema.Event) bool { return r.match(e) }

// Ruleset is an immutable, compiled set of rules.
type Ruleset struct {
	rules []*Rule
	byID  map[string]*Rule
}

// Rules returns the rules in load order (sorted by file, then position).
func (rs *Ruleset) Rules() []*Rule { return rs.rules }

// Rule returns the rule with the given id.
func (rs *Ruleset) Rule(id string) (*Rule, bool) {
	r, ok := rs.byID[strings.ToLower(id)]
	return r, ok
}

// Len is the number of rules.
func (rs *Ruleset) Len() int { return len(rs.rules) }

// Evaluate runs every rule over e and calls emit for each one that fires.
// The alert shares e; callers must not modify e afterwards.
func (rs *Ruleset) Evaluate(e *schema.Event, emit func(*schema.Alert)) {
	for _, r := range rs.rules {
		if !r.Generate || !r.match(e) {
			continue
		}
		emit(&schema.Alert{
			Time:      e.Time,
			RuleID:    r.ID,
			RuleTitle: r.Title,
			RuleFile:  r.File,
			Engine:    r.Engine,
			Level:     r.Level,
			Tags:      r.Tags,
			Message:   Describe(r.Title, e),
			Event:     e,
		})
	}
}

// Describe makes an alert message for rules that carry none (Sigma has no
// message template): the title and the facts an analyst reads first, e.g.
// "Dangerous attachment file type: billing@x.example -> ap@corp.example,
// client 203.0.113.17, attachments Invoice.pdf.exe".
func Describe(title string, e *schema.Event) string {
	var b strings.Builder
	b.WriteString(title)
	sep := ": "
	part := func(s string) {
		b.WriteString(sep)
		b.WriteString(s)
		sep = ", "
	}
	switch {
	case e.Has(schema.FieldSender) && e.Recipient != "":
		sender := e.Sender
		if sender == "" {
			sender = "<>"
		}
		part(sender + " -> " + e.Recipient)
	case e.Has(schema.FieldSender):
		part("from " + e.Sender)
	case e.Recipient != "":
		part("to " + e.Recipient)
	}
	if e.AuthUser != "" {
		part("user " + e.AuthUser)
	}
	if e.SrcIP != "" {
		part("client " + e.SrcIP)
	}
	if len(e.AttachmentName) > 0 {
		part("attachments " + strings.Join(e.AttachmentName, ", "))
	} else if e.Reason != "" && e.EventType != schema.TypeDelivery {
		part(e.Reason)
	}
	return b.String()
}

// Source is one tree of rule files.
type Source struct {
	FS fs.FS
	// Display is prepended to paths inside FS in messages and alerts
	// (e.g. "rules" for the embedded pack, the directory for --rules).
	Display string
}

// DirSource returns the Source for a rule directory on disk.
func DirSource(dir string) (Source, error) {
	st, err := os.Stat(dir)
	if err != nil {
		return Source{}, fmt.Errorf("rules: %w", err)
	}
	if !st.IsDir() {
		return Source{}, fmt.Errorf("rules: %s is not a directory", dir)
	}
	return Source{FS: os.DirFS(dir), Display: filepath.ToSlash(filepath.Clean(dir))}, nil
}

// LoadError lists every problem found while loading rules.
type LoadError struct {
	Errors []error
}

func (e *LoadError) Error() string {
	msgs := make([]string, len(e.Errors))
	for i, err := range e.Errors {
		msgs[i] = err.Error()
	}
	return strings.Join(msgs, "\n")
}

// Unwrap exposes the individual errors to errors.Is/As.
func (e *LoadError) Unwrap() []error { return e.Errors }

// DuplicateID reports two rules sharing one id. Ids are how case files,
// alerts and correlations refer to rules, so they must be unique.
type DuplicateID struct {
	ID            string
	First, Second *Rule
}

func (d *DuplicateID) Error() string {
	return fmt.Sprintf("%s:%d:1: rule id %s is already used by %s:%d (%q); ids must be unique",
		d.Second.File, d.Second.Line, d.ID, d.First.File, d.First.Line, d.First.Title)
}

// Load reads every rule file from the sources (Sigma: *.yml, *.yaml) and
// compiles them. Ids must be unique across all sources. On any error it
// returns a *LoadError with every problem found, and no Ruleset.
func Load(sources ...Source) (*Ruleset, error) {
	rs, le := LoadAll(sources...)
	if le != nil {
		return nil, le
	}
	return rs, nil
}

// LoadAll is Load for tools that report problems rather than stop at them
// (detect test, detect lint): it returns every rule that compiled (of rules
// sharing an id, the first in file order) together with all problems found,
// or a nil *LoadError when there are none.
func LoadAll(sources ...Source) (*Ruleset, *LoadError) {
	var errs []error
	rs := &Ruleset{byID: map[string]*Rule{}}
	walkErrs := walkRuleFiles(sources, func(display string, data []byte) {
		rules, err := sigma.ParseFile(display, data)
		if err != nil {
			errs = append(errs, flatten(err)...)
		}
		for _, sr := range rules {
			rs.rules = append(rs.rules, fromSigma(sr))
		}
	})
	errs = append(errs, walkErrs...)
	sort.SliceStable(rs.rules, func(i, j int) bool {
		a, b := rs.rules[i], rs.rules[j]
		if a.File != b.File {
			return a.File < b.File
		}
		return a.Line < b.Line
	})
	kept := rs.rules[:0]
	for _, r := range rs.rules {
		id := strings.ToLower(r.ID)
		if prev, dup := rs.byID[id]; dup {
			errs = append(errs, &DuplicateID{ID: r.ID, First: prev, Second: r})
			continue
		}
		rs.byID[id] = r
		kept = append(kept, r)
	}
	rs.rules = kept
	if len(errs) > 0 {
		sortByPosition(errs)
		return rs, &LoadError{Errors: errs}
	}
	return rs, nil
}

// sortByPosition orders positioned errors by file, line and column, so the
// report reads top to bottom like the files; unpositioned ones come first.
func sortByPosition(errs []error) {
	key := func(err error) (string, int, int) {
		var pe *sigma.Error
		if errors.As(err, &pe) {
			return pe.File, pe.Line, pe.Col
		}
		var dup *DuplicateID
		if errors.As(err, &dup) {
			return dup.Second.File, dup.Second.Line, 1
		}
		return "", 0, 0
	}
	sort.SliceStable(errs, func(i, j int) bool {
		fi, li, ci := key(errs[i])
		fj, lj, cj := key(errs[j])
		if fi != fj {
			return fi < fj
		}
		if li != lj {
			return li < lj
		}
		return ci < cj
	})
}

// walkRuleFiles calls fn with every Sigma rule file of the sources, in
// lexical order, skipping hidden files and directories and the data/ tree.
// It returns the errors met reading the trees.
func walkRuleFiles(sources []Source, fn func(display string, data []byte)) []error {
	var errs []error
	for _, src := range sources {
		err := fs.WalkDir(src.FS, ".", func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", path.Join(src.Display, p), err))
				return nil
			}
			name := d.Name()
			if d.IsDir() {
				if p != "." && strings.HasPrefix(name, ".") {
					return fs.SkipDir
				}
				return nil
			}
			if strings.HasPrefix(name, ".") || isDataDir(p) {
				return nil // rules/data/*.yaml are tunables, not rules
			}
			switch strings.ToLower(path.Ext(name)) {
			case ".yml", ".yaml":
				display := path.Join(src.Display, p)
				data, err := fs.ReadFile(src.FS, p)
				if err != nil {
					errs = append(errs, fmt.Errorf("%s: %w", display, err))
					return nil
				}
				fn(display, data)
			}
			return nil
		})
		if err != nil {
			errs = append(errs, err)
		}
	}
	return errs
}

// KnownProducts are the logsource products some parser of this build emits.
// Extend it when a parser lands, or lint will call rules for it dead.
var KnownProducts = []string{"postfix", "amavis"}

// Lint checks every rule file of the sources (sigma.Lint) and, across
// files, that ids are unique. Findings are sorted by position.
func Lint(sources ...Source) []sigma.Diagnostic {
	var out []sigma.Diagnostic
	errs := walkRuleFiles(sources, func(display string, data []byte) {
		out = append(out, sigma.Lint(display, data, sigma.LintOptions{Products: KnownProducts})...)
	})
	for _, err := range errs {
		out = append(out, sigma.Diagnostic{Severity: sigma.SeverityError, Msg: err.Error()})
	}
	if _, le := LoadAll(sources...); le != nil {
		for _, err := range le.Errors {
			var dup *DuplicateID
			if errors.As(err, &dup) {
				out = append(out, sigma.Diagnostic{File: dup.Second.File, Line: dup.Second.Line, Col: 1,
					Severity: sigma.SeverityError,
					Msg:      fmt.Sprintf("rule id %s is already used by %s:%d; ids must be unique", dup.ID, dup.First.File, dup.First.Line)})
			}
		}
	}
	sigma.SortDiagnostics(out)
	return out
}

// isDataDir reports whether a rule-tree path lies under the tree's top-level
// data/ directory, where Rego tunables live. A data/ directory deeper down
// holds rules like any other, so nothing is skipped by accident.
func isDataDir(p string) bool {
	return p == "data" || strings.HasPrefix(p, "data/")
}

// flatten turns a multi-error (sigma.ErrorList or errors.Join) into its parts
// so each is reported on its own line.
func flatten(err error) []error {
	var list sigma.ErrorList
	if errors.As(err, &list) {
		out := make([]error, len(list))
		for i, e := range list {
			out[i] = e
		}
		return out
	}
	if m, ok := err.(interface{ Unwrap() []error }); ok {
		return m.Unwrap()
	}
	return []error{err}
}

func fromSigma(sr *sigma.Rule) *Rule {
	return &Rule{
		ID:          strings.ToLower(sr.ID),
		Title:       sr.Title,
		Description: sr.Description,
		Level:       sr.Level,
		Tags:        sr.Tags,
		References:  sr.References,
		Engine:      EngineSigma,
		File:        sr.File,
		Line:        sr.Line,
		Generate:    true,
		match:       sr.Match,
	}
}

// DeclaredIDs returns the id of every rule document in the sources, whether
// or not it compiles, so a tool can tell "no such rule" from "the rule is
// broken" (the latter is reported where the rule is).
func DeclaredIDs(sources ...Source) map[string]bool {
	ids := map[string]bool{}
	walkRuleFiles(sources, func(_ string, data []byte) {
		dec := yaml.NewDecoder(bytes.NewReader(data))
		for {
			var doc struct {
				ID string `yaml:"id"`
			}
			if err := dec.Decode(&doc); err != nil {
				if errors.Is(err, io.EOF) {
					return
				}
				continue // a document that is not a mapping; keep reading
			}
			if doc.ID != "" {
				ids[strings.ToLower(doc.ID)] = true
			}
		}
	})
	return ids
}

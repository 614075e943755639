package rego

import (
	"bytes"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/open-policy-agent/opa/v1/ast"

	"github.com/detect-dev/detect/schema"
)

// File is one Rego or data file: the path shown to users (rules/rego/x.rego
// for the embedded pack) and its contents.
type File struct {
	Path string
	Data []byte
}

// Rule is one Rego rule: a module's metadata and what the engine needs to
// evaluate it.
type Rule struct {
	ID          string // lower-case UUID
	Title       string
	Description string
	Level       string
	Tags        []string
	References  []string
	File        string
	Line        int    // of the package clause
	Package     string // detect.rules.<name>
	Requires    Requires
	// Window is set for windowed rules (custom.window): they see one
	// window of events at a time (EvalWindow), never a single event, and
	// Requires selects the events that feed their windows.
	Window *Window
	// Fingerprint identifies the rule's definition: its module source and
	// the Set's data.config (set by Compile), for carrying window state
	// across reloads.
	Fingerprint string

	index    int
	name     string   // the last package segment
	reads    fieldSet // input fields the module reads
	readsAll bool     // input used whole or with a computed key
	needs    fieldSet // fields every alert needs (needsAnalysis)
	// alertTypes are the event types the alerts are limited to, nil when
	// some alert may fire on any.
	alertTypes []string
	unknown    []string // custom keys this engine does not know
	module     *ast.Module
	meta       *ast.Annotations
	source     []byte

	// memo is the rule's memo (planMemo); nil when the rule is not
	// memoized, and noMemo says why.
	memo   *ruleMemo
	noMemo string
}

// Requires is what an event must have for a rule to be evaluated on it
// (custom.requires): every field in Fields, and one of EventTypes when any
// are given.
type Requires struct {
	Fields     []string
	EventTypes []string

	fields fieldSet
	list   []schema.Field
}

// match reports whether e satisfies r.
func (r *Requires) match(e *schema.Event) bool {
	for _, f := range r.list {
		if !e.Has(f) {
			return false
		}
	}
	return len(r.EventTypes) == 0 || slices.Contains(r.EventTypes, e.EventType)
}

var (
	uuidRe    = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)
	levels    = []string{"informational", "low", "medium", "high", "critical"}
	eventType = []string{schema.TypeDelivery, schema.TypeReceive, schema.TypeReject, schema.TypeAuth, schema.TypeConnect, schema.TypeFilter}
	// knownCustom are the custom metadata keys the engine reads.
	// status, date, modified and falsepositives are SigmaHQ's metadata,
	// kept for documentation (detect rules list --markdown).
	knownCustom = []string{"id", "level", "tags", "references", "requires", "window", "status", "date", "modified", "falsepositives"}
	rulesPrefix = ast.MustParseRef("data.detect.rules")
	identRe     = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
)

// parseOptions parse Rego v1 with METADATA blocks.
func parseOptions() ast.ParserOptions {
	return ast.ParserOptions{ProcessAnnotation: true, RegoVersion: ast.RegoV1}
}

// parseRule parses one rule module and checks what the compiler does not:
// package, metadata, the alert rule, disabled built-ins. The rule is nil
// when the module cannot be compiled at all (syntax, package or alert rule
// wrong); with other errors it is returned too, so that the compiler can
// report its type errors in the same run, but it must not be used.
func parseRule(f File) (*Rule, []*Error) {
	var m *ast.Module
	if len(bytes.TrimSpace(f.Data)) > 0 {
		var err error
		if m, err = ast.ParseModuleWithOpts(f.Path, string(f.Data), parseOptions()); err != nil {
			return nil, fromOPA(err, f.Path)
		}
	}
	if m == nil {
		return nil, []*Error{{File: f.Path, Line: 1, Col: 1, Msg: "empty module: want `package detect.rules.<name>`, a # METADATA block and `alert contains msg if { ... }`"}}
	}
	r := &Rule{File: f.Path, Line: m.Package.Location.Row, module: m, source: f.Data}
	var errs []*Error
	fatal := false
	add := func(loc *ast.Location, format string, args ...any) {
		errs = append(errs, errorAt(f.Path, loc, format, args...))
	}

	path := m.Package.Path
	if len(path) != 4 || !path.HasPrefix(rulesPrefix) {
		add(m.Package.Location, "package %s: a rule's package is detect.rules.<name> (one rule per module)", strings.TrimPrefix(path.String(), "data."))
		fatal = true
	} else if s, ok := path[3].Value.(ast.String); !ok || !identRe.MatchString(string(s)) {
		add(m.Package.Location, "package %s: the rule name must be an identifier (letters, digits, _)", strings.TrimPrefix(path.String(), "data."))
		fatal = true
	} else {
		r.name = string(s)
		r.Package = "detect.rules." + r.name
	}

	for _, a := range m.Annotations {
		if a.Scope == "package" || a.Scope == "subpackages" {
			r.meta = a
			break
		}
	}
	if r.meta == nil {
		where := "above the package clause"
		if len(m.Annotations) > 0 {
			where = "above the package clause, not above a rule"
		}
		add(m.Package.Location, "no # METADATA block %s: a rule needs title and custom.id", where)
	} else {
		errs = append(errs, r.readMetadata(f, m)...)
	}

	var alerts int
	for _, rule := range m.Rules {
		if !isAlert(rule) {
			continue
		}
		alerts++
		if rule.Head.RuleKind() != ast.MultiValue || len(rule.Head.Ref()) != 1 {
			add(rule.Location, "alert must be a set of messages: write `alert contains msg if { ... }`")
			fatal = true
		}
	}
	if alerts == 0 {
		add(m.Package.Location, "no alert rule: write `alert contains msg if { ... }` (msg a string, or an object with a message)")
		fatal = true
	}
	errs = append(errs, disabledCalls(m, f.Path)...)
	if fatal {
		return nil, errs
	}
	if r.Window != nil {
		// input is a window, not an event: type-check it as one, and leave
		// the event analyses (memo, requires lint) empty.
		r.Window.Events = readsEvents(m)
		def := any(WindowSchema(r.Window))
		r.meta.Schemas = append(r.meta.Schemas, &ast.SchemaAnnotation{Path: ast.InputRootRef, Definition: &def})
		return r, errs
	}
	r.reads, r.readsAll = inputReads(m)
	r.needs, r.alertTypes = alertNeeds(m)
	return r, errs
}

func isAlert(rule *ast.Rule) bool {
	ref := rule.Head.Ref()
	return len(ref) > 0 && ref[0].Value == ast.Value(ast.Var("alert"))
}

// readMetadata fills r from the package's METADATA block.
func (r *Rule) readMetadata(f File, m *ast.Module) []*Error {
	var errs []*Error
	a := r.meta
	at := func(key string) *ast.Location { return metaLine(m, a, key) }
	add := func(key, format string, args ...any) {
		errs = append(errs, errorAt(f.Path, at(key), format, args...))
	}
	r.Title = strings.TrimSpace(a.Title)
	r.Description = strings.TrimSpace(a.Description)
	if r.Title == "" {
		errs = append(errs, errorAt(f.Path, a.Location, "METADATA has no title"))
	}
	for _, rr := range a.RelatedResources {
		r.References = append(r.References, rr.Ref.String())
	}
	c := a.Custom
	id, _ := c["id"].(string)
	switch {
	case c["id"] == nil:
		errs = append(errs, errorAt(f.Path, a.Location, "METADATA has no custom.id (a UUID, e.g. 929a690e-bef0-4204-a928-ef5e620d6fcc)"))
	case !uuidRe.MatchString(id):
		add("id", "custom.id %v is not a UUID (e.g. 929a690e-bef0-4204-a928-ef5e620d6fcc)", c["id"])
	default:
		r.ID = strings.ToLower(id)
	}
	if v, ok := c["level"]; ok {
		s, _ := v.(string)
		if !slices.Contains(levels, s) {
			add("level", "custom.level %v is not one of %s", v, strings.Join(levels, ", "))
		}
		r.Level = s
	}
	var ok bool
	if r.Tags, ok = stringList(c["tags"]); !ok {
		add("tags", "custom.tags must be a list of strings")
	}
	refs, ok := stringList(c["references"])
	if !ok {
		add("references", "custom.references must be a list of strings (URLs)")
	}
	r.References = append(r.References, refs...)
	req, ok := stringList(c["requires"])
	if !ok {
		add("requires", "custom.requires must be a list of field names and event types, e.g. [attachments] or [delivery, auth_user]")
	}
	for _, name := range req {
		if slices.Contains(eventType, name) {
			r.Requires.EventTypes = append(r.Requires.EventTypes, name)
			continue
		}
		fld, known := schema.LookupField(name)
		switch {
		case !known:
			msg := fmt.Sprintf("custom.requires: %q is neither an event field nor an event type (%s)", name, strings.Join(eventType, ", "))
			if near := closest(name, append(fieldNames(), eventType...)); near != "" {
				msg += fmt.Sprintf("; did you mean %q?", near)
			}
			add("requires", "%s", msg)
		case fld.Name() != name:
			add("requires", "custom.requires: write the schema name %q, not the alias %q (rules read input.%s)", fld.Name(), name, fld.Name())
		default:
			r.Requires.Fields = append(r.Requires.Fields, name)
			r.Requires.fields.add(fld)
			r.Requires.list = append(r.Requires.list, fld)
		}
	}
	if v, ok := c["window"]; ok {
		w, msg := readWindow(v)
		if msg != "" {
			add("window", "custom.window: %s", msg)
		}
		if len(w.Rules) > 0 && c["requires"] != nil {
			add("window", "custom.window.rules and custom.requires both choose the events of the windows: keep one (the rules' detections can say all that requires does)")
		}
		loc := at("window")
		w.Line, w.Col = loc.Row, loc.Col
		r.Window = w
	}
	for k := range c {
		if !slices.Contains(knownCustom, k) {
			r.unknown = append(r.unknown, k)
		}
	}
	slices.Sort(r.unknown)
	return errs
}

// stringList reads a metadata list of strings; absent is an empty list.
func stringList(v any) ([]string, bool) {
	if v == nil {
		return nil, true
	}
	list, ok := v.([]any)
	if !ok {
		return nil, false
	}
	out := make([]string, 0, len(list))
	for _, x := range list {
		s, ok := x.(string)
		if !ok {
			return nil, false
		}
		out = append(out, s)
	}
	return out, true
}

func fieldNames() []string {
	var out []string
	for _, f := range schema.Fields() {
		out = append(out, f.Name())
	}
	return out
}

// metaLine finds the line of key in a's METADATA comments (the first line
// whose text starts with "key:"), or the block's first line.
func metaLine(m *ast.Module, a *ast.Annotations, key string) *ast.Location {
	end := a.EndLoc()
	for _, c := range m.Comments {
		if c.Location.Row <= a.Location.Row || c.Location.Row > end.Row {
			continue
		}
		text := bytes.TrimLeft(c.Text, " \t")
		if bytes.HasPrefix(text, []byte(key+":")) {
			loc := *c.Location
			loc.Col += len(c.Text) - len(text) + 1 // past "#" and the indent
			return &loc
		}
	}
	return a.Location
}

// DeclaredID returns the custom.id of a Rego rule file, read from its
// METADATA comments without parsing the module, so a rule that does not
// compile still declares its id ("" when there is none).
func DeclaredID(data []byte) string {
	inMeta := false
	for line := range bytes.Lines(data) {
		t := bytes.TrimSpace(line)
		if !bytes.HasPrefix(t, []byte("#")) {
			if inMeta {
				return ""
			}
			continue
		}
		t = bytes.TrimSpace(t[1:])
		if bytes.Equal(t, []byte("METADATA")) {
			inMeta = true
			continue
		}
		if inMeta && bytes.HasPrefix(t, []byte("id:")) {
			id := strings.Trim(strings.TrimSpace(string(t[3:])), `"'`)
			return strings.ToLower(id)
		}
	}
	return ""
}

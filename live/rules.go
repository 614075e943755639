package live

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"

	"github.com/detect-dev/detect/engine"
	"github.com/detect-dev/detect/rules"
	"github.com/detect-dev/detect/ruletest"
)

// RuleSource says where the rules come from, so they can be loaded again.
type RuleSource struct {
	// Dirs are rule directories; none means the embedded pack.
	Dirs []string
	// DataFiles are merged over the Rego rules' data.config (--data).
	DataFiles []string
	// Cases, when set, is a directory of rule cases that every loaded set
	// must pass (--reload-test), OPA unit tests included.
	Cases string
	// Engine options (Rego time budget); DataFiles is filled in.
	Engine engine.Options
}

// Loaded is one compiled rule set with what identifies it.
type Loaded struct {
	Rules *engine.Ruleset
	// Hash is the SHA-256 of the rule, data (and, with Cases, case) files
	// that made the set: the same files give the same hash.
	Hash string
	At   time.Time
}

// ShortHash is the first 12 hex digits of the hash, for logs.
func (l *Loaded) ShortHash() string { return l.Hash[:12] }

// sources returns the rule trees (DirSource checks the directories exist
// each time, as a reload may find one gone).
func (src RuleSource) sources() ([]engine.Source, error) {
	if len(src.Dirs) == 0 {
		return []engine.Source{{FS: rules.FS(), Display: rules.Display}}, nil
	}
	var out []engine.Source
	for _, d := range src.Dirs {
		s, err := engine.DirSource(d)
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}

// Hash reads the files the rule set is made of and hashes them: every rule
// (.yml, .yaml, .rego) and data (.json) file of the trees that the engine
// reads, the data files, and with Cases the case files.
func (src RuleSource) Hash() (string, error) {
	srcs, err := src.sources()
	if err != nil {
		return "", err
	}
	h := sha256.New()
	add := func(name string, data []byte) {
		fmt.Fprintf(h, "%s\x00%d\x00", name, len(data))
		h.Write(data)
	}
	for _, s := range srcs {
		if err := hashTree(s.FS, s.Display, add); err != nil {
			return "", err
		}
	}
	for _, f := range src.DataFiles {
		data, err := os.ReadFile(f)
		if err != nil {
			return "", fmt.Errorf("data file: %w", err)
		}
		add("data:"+f, data)
	}
	if src.Cases != "" {
		if err := hashTree(os.DirFS(src.Cases), "cases:"+src.Cases, add); err != nil {
			return "", err
		}
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// hashTree feeds add the rule-like files of a tree in lexical order,
// skipping hidden files and directories as the engine does (an editor's
// swap file changes nothing).
func hashTree(fsys fs.FS, display string, add func(string, []byte)) error {
	return fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return fmt.Errorf("%s: %w", path.Join(display, p), err)
		}
		if strings.HasPrefix(d.Name(), ".") && p != "." {
			if d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		if d.IsDir() {
			return nil
		}
		switch strings.ToLower(path.Ext(p)) {
		case ".yml", ".yaml", ".rego", ".json":
		default:
			return nil
		}
		data, err := fs.ReadFile(fsys, p)
		if err != nil {
			return fmt.Errorf("%s: %w", path.Join(display, p), err)
		}
		add(path.Join(display, p), data)
		return nil
	})
}

// Load compiles the whole set, and with Cases runs the cases against it.
// Any error (every one with its file:line:col) means no set: a caller that
// reloads keeps the one it has. The hash is taken before and after
// compiling and must agree, so a set changed while it was read (a git
// checkout in progress) is not passed off as either version.
func (src RuleSource) Load() (*Loaded, error) {
	for attempt := 0; ; attempt++ {
		before, err := src.Hash()
		if err != nil {
			return nil, err
		}
		rs, err := src.compile()
		if err != nil {
			return nil, err
		}
		after, err := src.Hash()
		if err != nil {
			return nil, err
		}
		if before == after {
			return &Loaded{Rules: rs, Hash: after, At: time.Now()}, nil
		}
		if attempt == 2 {
			return nil, errors.New("rules: the files keep changing while they are loaded; try again")
		}
	}
}

func (src RuleSource) compile() (*engine.Ruleset, error) {
	srcs, err := src.sources()
	if err != nil {
		return nil, err
	}
	opt := src.Engine
	opt.DataFiles = src.DataFiles
	rs, err := engine.LoadWith(opt, srcs...)
	if err != nil {
		return nil, err
	}
	if rs.Len() == 0 {
		return nil, fmt.Errorf("rules: no rules found in %s", strings.Join(src.Dirs, ", "))
	}
	if src.Cases != "" {
		if err := runCases(rs, src.Cases); err != nil {
			return nil, err
		}
	}
	return rs, nil
}

// CaseError lists the rule cases a rule set failed.
type CaseError struct{ Failures []string }

func (e *CaseError) Error() string {
	return fmt.Sprintf("rules fail %d case(s):\n%s", len(e.Failures), strings.Join(e.Failures, "\n"))
}

// runCases is `detect test` as a gate: a failed case, a failed OPA unit
// test, or a rule without cases rejects the set.
func runCases(rs *engine.Ruleset, dir string) error {
	cases, err := ruletest.LoadDir(dir)
	if err != nil {
		return fmt.Errorf("rule cases: %w", err)
	}
	results, problems := ruletest.Run(rs, cases)
	results = append(results, ruletest.RegoTests(context.Background(), rs, nil)...)
	var fails []string
	for _, r := range results {
		if r.Pass || r.Skipped {
			continue
		}
		detail := strings.ReplaceAll(ruletest.FailureDetail(r), "\n", "\n    ")
		fails = append(fails, fmt.Sprintf("%s:%d: %s\n    %s", r.Case.File, r.Case.Line, r.Case.Name, detail))
	}
	for _, p := range problems {
		fails = append(fails, p.String())
	}
	if len(fails) > 0 {
		return &CaseError{Failures: fails}
	}
	return nil
}

// ErrorLines splits a load error into one message per problem, each
// starting with its file:line:col where it has one.
func ErrorLines(err error) []string {
	var le *engine.LoadError
	if errors.As(err, &le) {
		out := make([]string, len(le.Errors))
		for i, e := range le.Errors {
			out[i] = e.Error()
		}
		return out
	}
	var ce *CaseError
	if errors.As(err, &ce) {
		return ce.Failures
	}
	return []string{err.Error()}
}

// watchRoots are the paths whose changes may change the set: the rule
// directories (recursively), the data files (watched through their
// directories), the case directory.
func (src RuleSource) watchRoots() []watchRoot {
	var out []watchRoot
	for _, d := range src.Dirs {
		out = append(out, watchRoot{path: filepath.Clean(d), recursive: true})
	}
	for _, f := range src.DataFiles {
		f = filepath.Clean(f)
		out = append(out, watchRoot{path: filepath.Dir(f), file: f})
	}
	if src.Cases != "" {
		out = append(out, watchRoot{path: filepath.Clean(src.Cases), recursive: true})
	}
	return out
}

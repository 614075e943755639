package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"testing/fstest"

	"github.com/urfave/cli/v2"

	"github.com/detect-dev/detect/engine"
	"github.com/detect-dev/detect/normalize"
	"github.com/detect-dev/detect/pipeline"
	"github.com/detect-dev/detect/ruleimpact"
	"github.com/detect-dev/detect/schema"
)

func diffCommand(e *env) *cli.Command {
	return &cli.Command{
		Name:      "diff",
		Usage:     "show what a rule change does to the alerts: a git revision vs the working tree, over the same logs",
		ArgsUsage: "--base REV PATH...",
		Description: `Loads the rule directory twice, as it is at git revision REV and as it is in the
working tree (uncommitted edits included), runs both versions over the same logs
(read and parsed once) and prints, for each rule, its alerts before and after, the
alerts it gained and lost, and a few example events of each (time, sender,
recipient, src_ip and the log file:line to look at).

Rules are matched by id: a rule found on one side only is added or removed, one
whose text differs is changed, one that moved to another file is renamed. An
alert is the same alert on both sides when its rule id, log file, line and
recipient are the same.

Examples:
   Before committing a rule edit, see what it does on real traffic:
      detect diff --base HEAD /var/log/mail.log
   Review a branch against main and paste the table into the pull request:
      detect diff --base origin/main --markdown samples/ > impact.md
   Refactor rules in CI, failing the job if a single alert changes:
      detect diff --base origin/main --fail-on-change samples/
   Rules kept elsewhere (any directory inside the git work tree):
      detect diff --base v1.4.0 --rules detections/mail archive/mail.log.1.gz

--rules defaults to ./rules. A rule directory that did not exist at REV makes
every rule "added".

Exit status: 0 whether or not alerts changed; 1 with --fail-on-change when any
rule or alert changed; 2 bad usage: no --base, a rule directory outside a git
work tree, an unknown revision, unreadable input, or rules that do not compile
on either side (the message says which).`,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "base", Usage: "git `REV` whose rules are the \"before\" side: a commit, branch, tag, HEAD, origin/main, HEAD~3 ..."},
			&cli.StringSliceFlag{Name: "rules", Usage: "rule `DIR`, any path inside a git work tree (repeatable; default ./rules)"},
			formatFlag,
			yearFlag,
			&cli.BoolFlag{Name: "markdown", Usage: "print a Markdown table for a pull-request comment"},
			&cli.BoolFlag{Name: "fail-on-change", Usage: "exit 1 when any rule or alert changed (for CI)"},
			&cli.BoolFlag{Name: "strict", Usage: "exit 2 when any line is not understood"},
			&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "no summary on stderr"},
		},
		Action: func(c *cli.Context) error { return diff(c, e) },
	}
}

func diff(c *cli.Context, e *env) error {
	base := c.String("base")
	if base == "" {
		return failf(exitUsage, "diff needs --base REV, the git revision to compare the working tree's rules with (e.g. --base HEAD or --base origin/main)\nsee: detect diff --help")
	}
	if strings.HasPrefix(base, "-") {
		// It would reach git as an option.
		return failf(exitUsage, "--base %q is not a git revision", base)
	}
	if err := checkFormat(c.String("format")); err != nil {
		return err
	}
	dirs := repoRuleDirs(c)
	if len(dirs) == 0 {
		return failf(exitUsage, "diff compares a rule directory kept in git, and there is no ./rules here: give --rules DIR")
	}
	ins, err := inputs(c)
	if err != nil {
		return err
	}
	if _, err := exec.LookPath("git"); err != nil {
		return failf(exitUsage, "diff reads the base rules with git: %w", err)
	}

	var oldSrcs, newSrcs []engine.Source
	var displays, commits []string
	for _, dir := range dirs {
		cur, err := engine.DirSource(dir)
		if err != nil {
			return failf(exitUsage, "%w", err)
		}
		old, commit, err := gitRuleSource(dir, base, cur.Display)
		if err != nil {
			return failf(exitUsage, "%w", err)
		}
		oldSrcs, newSrcs = append(oldSrcs, old), append(newSrcs, cur)
		displays = append(displays, cur.Display)
		if !slices.Contains(commits, commit) {
			commits = append(commits, commit)
		}
	}
	oldRules, err := loadSide(oldSrcs, fmt.Sprintf("at base %s (%s)", base, strings.Join(commits, ", ")))
	if err != nil {
		return err
	}
	newRules, err := loadSide(newSrcs, "in the working tree")
	if err != nil {
		return err
	}
	if oldRules.Len() == 0 && newRules.Len() == 0 {
		return failf(exitUsage, "no rules in %s, neither at %s nor in the working tree", strings.Join(displays, ", "), base)
	}

	cmp, err := ruleimpact.NewComparer(
		ruleimpact.Side{Rules: oldRules, Sources: oldSrcs},
		ruleimpact.Side{Rules: newRules, Sources: newSrcs},
	)
	if err != nil {
		return failf(exitUsage, "%w", err)
	}
	// The pipeline only parses (Rules nil): the Comparer evaluates both rule
	// sets on each event, so the logs are read once and the two sides see
	// exactly the same events. OnEvent runs on one goroutine, in input
	// order, as the Comparer needs.
	cfg := pipeline.Config{
		Inputs:  ins,
		Format:  c.String("format"),
		Parser:  normalize.Options{Year: c.Int("year")},
		OnEvent: func(ev *schema.Event) error { cmp.Observe(ev); return nil },
	}
	st, err := runLogged(c, e, cfg, nil, func() error { return nil })
	if err != nil {
		return err
	}

	rep := cmp.Report()
	rep.Header = ruleimpact.Header{
		Base:       base,
		BaseCommit: strings.Join(commits, ", "),
		RuleDirs:   displays,
		Inputs:     c.Args().Slice(),
		Files:      st.Files,
		Lines:      st.Lines,
	}
	write := ruleimpact.WriteText
	if c.Bool("markdown") {
		write = ruleimpact.WriteMarkdown
	}
	if err := write(e.stdout, rep); err != nil {
		return failf(exitUsage, "writing the report: %w", err)
	}
	if c.Bool("fail-on-change") && rep.Changed() {
		return exitError{code: exitFindings}
	}
	return nil
}

// loadSide loads one side's rules; side names it in the error ("at base
// HEAD (abc123)" or "in the working tree"), since the same file names appear
// on both sides.
func loadSide(srcs []engine.Source, side string) (*engine.Ruleset, error) {
	rs, err := engine.Load(srcs...)
	if err == nil {
		return rs, nil
	}
	var le *engine.LoadError
	if errors.As(err, &le) {
		return nil, failf(exitUsage, "rules %s do not compile (%d error(s)):\n%w", side, len(le.Errors), err)
	}
	return nil, failf(exitUsage, "rules %s: %w", side, err)
}

// gitRuleSource returns the rule directory dir as it is at revision rev, as
// an in-memory tree shown under display (the working tree side's name, so
// that one rule file has one name on both sides), and the abbreviated commit
// rev resolved to.
func gitRuleSource(dir, rev, display string) (engine.Source, string, error) {
	out, err := git(dir, nil, "rev-parse", "--show-toplevel", "--show-prefix")
	if err != nil {
		return engine.Source{}, "", fmt.Errorf("--rules %s is not inside a git work tree, so there is no base to compare with: %w", dir, err)
	}
	// Two lines: the top level, and dir relative to it ("" at the top,
	// else ending in "/"). Git computes both, so symlinked paths agree.
	top, prefix, _ := strings.Cut(strings.TrimSuffix(string(out), "\n"), "\n")
	if top == "" {
		return engine.Source{}, "", fmt.Errorf("--rules %s: git rev-parse printed no top level", dir)
	}

	full, err := git(top, nil, "rev-parse", "--verify", rev+"^{commit}")
	if err != nil {
		return engine.Source{}, "", fmt.Errorf("--base %s is not a commit in the repository at %s: %w", rev, top, err)
	}
	commit := strings.TrimSpace(string(full))
	short := commit
	if s, err := git(top, nil, "rev-parse", "--short", commit); err == nil {
		short = strings.TrimSpace(string(s))
	}

	fsys, err := gitTree(top, commit, prefix)
	if err != nil {
		return engine.Source{}, "", fmt.Errorf("reading %s at %s: %w", dir, rev, err)
	}
	return engine.Source{FS: fsys, Display: display}, short, nil
}

// gitTree reads the files under prefix at commit into memory, keyed by their
// path below prefix. A prefix the commit does not have gives an empty tree:
// the rule directory is new, and every rule in it is added.
func gitTree(top, commit, prefix string) (fstest.MapFS, error) {
	args := []string{"ls-tree", "-r", "-z", "--full-tree", commit}
	if prefix != "" {
		args = append(args, "--", prefix)
	}
	list, err := git(top, nil, args...)
	if err != nil {
		return nil, err
	}
	type entry struct{ oid, path string }
	var entries []entry
	var batch bytes.Buffer
	for rec := range strings.SplitSeq(strings.TrimSuffix(string(list), "\x00"), "\x00") {
		if rec == "" {
			continue
		}
		// "<mode> <type> <oid>\t<path>"
		meta, p, ok := strings.Cut(rec, "\t")
		f := strings.Fields(meta)
		if !ok || len(f) != 3 {
			return nil, fmt.Errorf("git ls-tree: unexpected line %q", rec)
		}
		// Regular files only: a symlink's blob is its target's name, not
		// its content, and submodules (type commit) are other repositories.
		if f[1] != "blob" || f[0] == "120000" {
			continue
		}
		rel, ok := strings.CutPrefix(p, prefix)
		if !ok || rel == "" {
			continue
		}
		entries = append(entries, entry{f[2], rel})
		batch.WriteString(f[2])
		batch.WriteByte('\n')
	}
	fsys := fstest.MapFS{}
	if len(entries) == 0 {
		return fsys, nil
	}
	// One cat-file process for every blob, rather than a git show per file.
	out, err := git(top, &batch, "cat-file", "--batch")
	if err != nil {
		return nil, err
	}
	r := bufio.NewReader(bytes.NewReader(out))
	for _, en := range entries {
		data, err := readBatchObject(r, en.oid)
		if err != nil {
			return nil, fmt.Errorf("git cat-file %s (%s): %w", en.oid, en.path, err)
		}
		fsys[en.path] = &fstest.MapFile{Data: data, Mode: 0o444}
	}
	return fsys, nil
}

// readBatchObject reads one object of `git cat-file --batch` output:
// "<oid> <type> <size>\n<content>\n".
func readBatchObject(r *bufio.Reader, oid string) ([]byte, error) {
	head, err := r.ReadString('\n')
	if err != nil {
		return nil, fmt.Errorf("reading object header: %w", err)
	}
	f := strings.Fields(head)
	if len(f) != 3 || f[0] != oid {
		return nil, fmt.Errorf("unexpected object header %q", strings.TrimSpace(head))
	}
	size, err := strconv.Atoi(f[2])
	if err != nil {
		return nil, fmt.Errorf("object size %q: %w", f[2], err)
	}
	data := make([]byte, size+1) // the content and its closing newline
	if _, err := io.ReadFull(r, data); err != nil {
		return nil, fmt.Errorf("reading object content: %w", err)
	}
	return data[:size], nil
}

// git runs git in dir and returns its stdout; a failure carries git's stderr,
// which says what is wrong far better than an exit status.
func git(dir string, stdin io.Reader, args ...string) ([]byte, error) {
	cmd := exec.Command("git", append([]string{"-C", dir}, args...)...)
	// Paths given to git are paths, never patterns (a rule directory named
	// "[x]" must not match "x").
	cmd.Env = append(os.Environ(), "GIT_LITERAL_PATHSPECS=1")
	cmd.Stdin = stdin
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		if msg := strings.TrimSpace(stderr.String()); msg != "" {
			return nil, fmt.Errorf("git %s: %s (%w)", args[0], msg, err)
		}
		return nil, fmt.Errorf("git %s: %w", args[0], err)
	}
	return out, nil
}

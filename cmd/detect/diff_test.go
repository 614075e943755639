package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// diffRule is the shipped rule the diff tests change: a stateless rule
// with one alert on the sample (line 23, Invoice_88213.pdf.exe).
const diffRule = "../../rules/sigma/double_extension_attachment.yml"

// diffNeedGit skips tests of detect diff where git is missing: the command reads
// the base rules with it, so there is nothing to test without it.
func diffNeedGit(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git is not on PATH; detect diff needs it to read the base revision's rules")
	}
}

// diffGit runs git in dir, isolated from the user's and the system's git
// configuration (signing, hooks, default branch names).
func diffGit(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", append([]string{
		"-C", dir, "-c", "user.name=detect test", "-c", "user.email=test@example.com",
		"-c", "commit.gpgsign=false", "-c", "core.hooksPath=/dev/null",
	}, args...)...)
	cmd.Env = append(os.Environ(), "GIT_CONFIG_GLOBAL=/dev/null", "GIT_CONFIG_NOSYSTEM=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out))
}

func diffWrite(t *testing.T, path, text string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}

func diffRead(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// diffRepo makes a git repository whose HEAD holds rules/sigma/ with the
// shipped double-extension rule, and returns its directory and HEAD's short
// hash.
func diffRepo(t *testing.T) (dir, short string) {
	t.Helper()
	diffNeedGit(t)
	dir = t.TempDir()
	diffGit(t, dir, "init", "-q")
	diffWrite(t, filepath.Join(dir, "rules/sigma/double_extension_attachment.yml"), diffRead(t, diffRule))
	diffGit(t, dir, "add", "rules")
	diffGit(t, dir, "commit", "-q", "-m", "rules")
	return dir, diffGit(t, dir, "rev-parse", "--short", "HEAD")
}

// TestDiffShowsAlertDelta edits the double-extension rule in the working
// tree so that it fires on other deliveries: .exe no longer counts as the
// hidden extension, so it loses Invoice_88213.pdf.exe (line 23), and names
// starting with "pricelist" match, so it gains pricelist-q4.pdf, delivered
// to two recipients (lines 10 and 11).
func TestDiffShowsAlertDelta(t *testing.T) {
	dir, short := diffRepo(t)
	rules := filepath.Join(dir, "rules")
	args := []string{"diff", "--base", "HEAD", "--rules", rules, sample}

	// Nothing edited yet: no change, so even --fail-on-change exits 0.
	code, out, errOut := detect(t, "", append([]string{"diff", "--fail-on-change", "--base", "HEAD", "--rules", rules}, sample)...)
	if code != 0 || !strings.Contains(out, "1 rule: 0 changed, 0 added, 0 removed, 0 renamed, 1 unchanged\nalerts: 1 before, 1 after (+0 added, -0 removed)\n") {
		t.Fatalf("unedited rules: exit %d\n%s\n%s", code, out, errOut)
	}

	path := filepath.Join(rules, "sigma/double_extension_attachment.yml")
	edited := strings.NewReplacer(`attachment_name|re: '(?i)`, `attachment_name|re: '(?i)^pricelist|`,
		`\s*\.(exe|scr|`, `\s*\.(scr|`).Replace(diffRead(t, path))
	if strings.Count(edited, "pricelist|") != 1 || strings.Contains(edited, "(exe|") {
		t.Fatal("the shipped rule changed: its selection line was not found")
	}
	diffWrite(t, path, edited)

	code, out, errOut = detect(t, "", args...)
	if code != 0 {
		t.Fatalf("exit %d (a change alone must exit 0)\n%s", code, errOut)
	}
	ruleFile := filepath.ToSlash(filepath.Clean(path))
	for _, want := range []string{
		"detect diff: base HEAD (" + short + ") -> working tree\n",
		"inputs: " + sample + " (1 file, 64 lines, 14 events)\n",
		"changed   Attachment name with a deceptive double extension  [c5681182-8209-445d-846c-4dda1410ede5]\n",
		"  file:    " + ruleFile + "\n",
		"  alerts:  1 before, 2 after (+2 added, -1 removed)\n",
		"  added:   2026-11-27T08:00:01Z  sender=sales@partner.example  recipient=purchasing@corp.example  src_ip=198.51.100.23  " + sample + ":10\n",
		"           2026-11-27T08:00:01Z  sender=sales@partner.example  recipient=j.doe@corp.example  src_ip=198.51.100.23  " + sample + ":11\n",
		"  removed: 2026-11-27T08:10:44Z  sender=billing@invoices-hosting.example  recipient=ap@corp.example  src_ip=203.0.113.17  " + sample + ":23\n",
		"1 rule: 1 changed, 0 added, 0 removed, 0 renamed, 0 unchanged\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("stdout lacks %q:\n%s", want, out)
		}
	}
	// The scan summary is progress, not a result: stderr only.
	if !strings.Contains(errOut, "read 1 file, 64 lines") || strings.Contains(out, "lines:") {
		t.Errorf("summary misplaced:\nstdout:\n%s\nstderr:\n%s", out, errOut)
	}

	code, md, errOut := detect(t, "", append([]string{"diff", "--markdown", "--base", "HEAD", "--rules", rules}, sample)...)
	if code != 0 {
		t.Fatalf("--markdown exit %d\n%s", code, errOut)
	}
	for _, want := range []string{
		"### Rule impact: base `HEAD` (`" + short + "`) → working tree\n",
		"inputs `" + sample + "` (1 file, 64 lines, 14 events)",
		"| Rule | Status | Before | After | Added | Removed |\n",
		"| Attachment name with a deceptive double extension<br>`" + ruleFile + "` | changed | 1 | 2 | +2 | -1 |\n",
		"| + | 2026-11-27T08:00:01Z | sales@partner.example | j.doe@corp.example | 198.51.100.23 | `" + sample + ":11` |\n",
		"| - | 2026-11-27T08:10:44Z | billing@invoices-hosting.example | ap@corp.example | 203.0.113.17 | `" + sample + ":23` |\n",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("markdown lacks %q:\n%s", want, md)
		}
	}

	code, _, errOut = detect(t, "", append([]string{"diff", "--fail-on-change", "--base", "HEAD", "--rules", rules}, sample)...)
	if code != 1 {
		t.Errorf("--fail-on-change with a change: exit %d, want 1\n%s", code, errOut)
	}
}

// A rule that moved to another file and a new rule are shown as such, and a
// rule directory given as a deeper path inside the work tree works.
func TestDiffRenamedAndAdded(t *testing.T) {
	dir, _ := diffRepo(t)
	sigmaDir := filepath.Join(dir, "rules/sigma")
	if err := os.Rename(filepath.Join(sigmaDir, "double_extension_attachment.yml"), filepath.Join(sigmaDir, "double.yml")); err != nil {
		t.Fatal(err)
	}
	diffWrite(t, filepath.Join(sigmaDir, "oversized.yml"), diffRead(t, "../../rules/sigma/oversized_message.yml"))

	code, out, errOut := detect(t, "", "diff", "-q", "--base", "HEAD", "--rules", sigmaDir, sample)
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, errOut)
	}
	display := filepath.ToSlash(filepath.Clean(sigmaDir))
	for _, want := range []string{
		"added     Oversized outbound message  [c1790a20-9efc-4b3a-833a-87be8126b061]\n  file:    " + display + "/oversized.yml\n  alerts:  0 before, 1 after (+1 added, -0 removed)\n",
		"renamed   Attachment name with a deceptive double extension  [c5681182-8209-445d-846c-4dda1410ede5]\n  file:    " + display + "/double.yml (was " + display + "/double_extension_attachment.yml)\n  alerts:  1 before, 1 after (+0 added, -0 removed)\n",
		"2 rules: 0 changed, 1 added, 0 removed, 1 renamed, 0 unchanged\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("stdout lacks %q:\n%s", want, out)
		}
	}
	if errOut != "" {
		t.Errorf("-q still wrote to stderr:\n%s", errOut)
	}
}

// A rule directory the base revision does not have: every rule is added.
func TestDiffRuleDirNewSinceBase(t *testing.T) {
	diffNeedGit(t)
	dir := t.TempDir()
	diffGit(t, dir, "init", "-q")
	diffWrite(t, filepath.Join(dir, "README"), "rules come later\n")
	diffGit(t, dir, "add", "README")
	diffGit(t, dir, "commit", "-q", "-m", "start")
	diffWrite(t, filepath.Join(dir, "rules/double.yml"), diffRead(t, diffRule))

	code, out, errOut := detect(t, "", "diff", "--base", "HEAD", "--rules", filepath.Join(dir, "rules"), sample)
	if code != 0 || !strings.Contains(out, "1 rule: 0 changed, 1 added, 0 removed, 0 renamed, 0 unchanged\nalerts: 0 before, 1 after (+1 added, -0 removed)\n") {
		t.Errorf("exit %d\n%s\n%s", code, out, errOut)
	}
}

func TestDiffUsageErrors(t *testing.T) {
	dir, _ := diffRepo(t)
	rules := filepath.Join(dir, "rules")

	// A directory outside any git repository; the ceiling keeps git from
	// finding one above the temporary directory.
	outside := t.TempDir()
	t.Setenv("GIT_CEILING_DIRECTORIES", filepath.Dir(outside))
	diffWrite(t, filepath.Join(outside, "rules/double.yml"), diffRead(t, diffRule))

	// A rule that compiles only in the working tree, and one that compiles
	// only at the base, each in a repository of its own.
	brokenAtBase, _ := diffRepo(t)
	brokenPath := filepath.Join(brokenAtBase, "rules/sigma/double_extension_attachment.yml")
	good := diffRead(t, brokenPath)
	diffWrite(t, brokenPath, strings.Replace(good, "attachment_name|re:", "attachment_name|bogus:", 1))
	diffGit(t, brokenAtBase, "commit", "-q", "-am", "break")
	diffWrite(t, brokenPath, good)

	brokenNow, _ := diffRepo(t)
	diffWrite(t, filepath.Join(brokenNow, "rules/sigma/double_extension_attachment.yml"), strings.Replace(good, "attachment_name|re:", "attachment_name|bogus:", 1))

	tests := []struct {
		name string
		args []string
		msg  string
	}{
		{"no base", []string{"diff", "--rules", rules, sample}, "diff needs --base REV"},
		{"unknown revision", []string{"diff", "--base", "no-such-branch", "--rules", rules, sample}, "--base no-such-branch is not a commit in the repository at"},
		{"option as revision", []string{"diff", "--base", "--output=x", "--rules", rules, sample}, "is not a git revision"},
		{"outside git", []string{"diff", "--base", "HEAD", "--rules", filepath.Join(outside, "rules"), sample}, "is not inside a git work tree"},
		{"no paths", []string{"diff", "--base", "HEAD", "--rules", rules}, "needs at least one PATH"},
		{"missing rules dir", []string{"diff", "--base", "HEAD", "--rules", filepath.Join(dir, "nope"), sample}, "nope"},
		{"broken at base", []string{"diff", "--base", "HEAD", "--rules", filepath.Join(brokenAtBase, "rules"), sample}, "rules at base HEAD ("},
		{"broken in working tree", []string{"diff", "--base", "HEAD", "--rules", filepath.Join(brokenNow, "rules"), sample}, "rules in the working tree do not compile (1 error(s)):\n" + filepath.ToSlash(filepath.Join(brokenNow, "rules/sigma/double_extension_attachment.yml")) + ":"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errOut := detect(t, "", tc.args...)
			if code != 2 || !strings.Contains(errOut, tc.msg) {
				t.Errorf("exit %d (want 2), stderr lacks %q:\n%s", code, tc.msg, errOut)
			}
			if out != "" {
				t.Errorf("stdout on a usage error:\n%s", out)
			}
		})
	}
}

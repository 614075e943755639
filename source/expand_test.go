package source

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// logTree builds a log directory with rotated files in every supported
// compression, dated rotations in a subdirectory and things to skip.
// It returns the root and the lines each file holds.
func logTree(t *testing.T) (string, map[string][]string) {
	t.Helper()
	root := t.TempDir()
	content := map[string][]string{}
	put := func(rel string, data []byte, lines ...string) {
		writeFile(t, filepath.Join(root, rel), data)
		content[rel] = lines
	}
	text := func(rel string) []string {
		return []string{rel + " line 1", rel + " line 2"}
	}
	join := func(lines []string) string { return strings.Join(lines, "\n") + "\n" }

	put("mail.log", []byte(join(text("mail.log"))), text("mail.log")...)
	put("mail.log.1", []byte(join(text("mail.log.1"))), text("mail.log.1")...)
	put("mail.log.2.gz", gzipBytes(t, join(text("mail.log.2.gz"))), text("mail.log.2.gz")...)
	put("mail.log.3.bz2", fixture(t, "mail.log.3.bz2"),
		"Jan  3 00:00:01 mx postfix/smtpd[1]: from mail.log.3.bz2 line 1",
		"Jan  3 00:00:02 mx postfix/smtpd[1]: from mail.log.3.bz2 line 2")
	put("mail.log.4.zst", zstdBytes(t, join(text("mail.log.4.zst"))), text("mail.log.4.zst")...)
	put("mail.log.10.gz", gzipBytes(t, join(text("mail.log.10.gz"))), text("mail.log.10.gz")...)
	put("mail.err", []byte(join(text("mail.err"))), text("mail.err")...)
	put("archive/mail.log-20260102.zst", zstdBytes(t, join(text("archive/mail.log-20260102.zst"))), text("archive/mail.log-20260102.zst")...)
	put("archive/mail.log-20260101.gz", gzipBytes(t, join(text("archive/mail.log-20260101.gz"))), text("archive/mail.log-20260101.gz")...)
	put("archive/mail.log-20260103", []byte(join(text("archive/mail.log-20260103"))), text("archive/mail.log-20260103")...)
	put("archive/mail.log", []byte(join(text("archive/mail.log"))), text("archive/mail.log")...)

	// Skipped: hidden files and directories, empty directories.
	writeFile(t, filepath.Join(root, ".hidden"), []byte("no\n"))
	writeFile(t, filepath.Join(root, ".git", "HEAD"), []byte("no\n"))
	writeFile(t, filepath.Join(root, "archive", ".mail.log.swp"), []byte("no\n"))
	if err := os.Mkdir(filepath.Join(root, "empty"), 0o755); err != nil {
		t.Fatal(err)
	}
	return root, content
}

var treeOrder = []string{
	"mail.err",
	"mail.log.10.gz", "mail.log.4.zst", "mail.log.3.bz2", "mail.log.2.gz", "mail.log.1", "mail.log",
	"archive/mail.log-20260101.gz", "archive/mail.log-20260102.zst", "archive/mail.log-20260103", "archive/mail.log",
}

func paths(ins []Input) []string {
	var out []string
	for _, in := range ins {
		out = append(out, in.Path)
	}
	return out
}

func under(root string, rels ...string) []string {
	out := make([]string, len(rels))
	for i, r := range rels {
		out[i] = filepath.Join(root, filepath.FromSlash(r))
	}
	return out
}

func TestExpandDirectoryTree(t *testing.T) {
	root, content := logTree(t)
	ins, err := Expand([]string{root})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := paths(ins), under(root, treeOrder...); !slices.Equal(got, want) {
		t.Fatalf("order\n got %q\nwant %q", got, want)
	}
	var o Opener
	for i, in := range ins {
		fi, err := os.Stat(in.Path)
		if err != nil {
			t.Fatal(err)
		}
		if in.Size != fi.Size() || !in.ModTime.Equal(fi.ModTime()) {
			t.Errorf("%s: Size %d ModTime %v, want %d %v", in.Path, in.Size, in.ModTime, fi.Size(), fi.ModTime())
		}
		got := readInput(t, &o, in)
		if want := content[treeOrder[i]]; !slices.Equal(got, want) {
			t.Errorf("%s: lines %q, want %q", in.Path, got, want)
		}
	}
}

func TestExpandGlob(t *testing.T) {
	root, _ := logTree(t)
	ins, err := Expand([]string{filepath.Join(root, "mail.log*")})
	if err != nil {
		t.Fatal(err)
	}
	want := under(root, "mail.log.10.gz", "mail.log.4.zst", "mail.log.3.bz2", "mail.log.2.gz", "mail.log.1", "mail.log")
	if got := paths(ins); !slices.Equal(got, want) {
		t.Fatalf("got %q\nwant %q", got, want)
	}
	for _, in := range ins {
		if in.Size == 0 || in.ModTime.IsZero() {
			t.Errorf("%s: missing Size or ModTime", in.Path)
		}
	}
}

func TestExpandGlobMatchingDirectoriesWalksThem(t *testing.T) {
	root, _ := logTree(t)
	ins, err := Expand([]string{filepath.Join(root, "arch*")})
	if err != nil {
		t.Fatal(err)
	}
	want := under(root, treeOrder[7:]...)
	if got := paths(ins); !slices.Equal(got, want) {
		t.Fatalf("got %q\nwant %q", got, want)
	}
}

func TestExpandGlobHidden(t *testing.T) {
	root, _ := logTree(t)
	ins, err := Expand([]string{filepath.Join(root, "*")})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range paths(ins) {
		if strings.Contains(p, string(filepath.Separator)+".") {
			t.Errorf("hidden path %s from *", p)
		}
	}
	ins, err = Expand([]string{filepath.Join(root, ".h*")})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := paths(ins), under(root, ".hidden"); !slices.Equal(got, want) {
		t.Fatalf("explicit dot pattern: got %q, want %q", got, want)
	}
}

func TestExpandErrors(t *testing.T) {
	root, _ := logTree(t)
	missing := filepath.Join(root, "nope.log")
	noMatch := filepath.Join(root, "nope*.log")
	tests := []struct {
		name   string
		args   []string
		target error
		naming string
	}{
		{"missing file", []string{filepath.Join(root, "mail.log"), missing}, fs.ErrNotExist, missing},
		{"missing directory in path", []string{filepath.Join(root, "nodir", "x")}, fs.ErrNotExist, filepath.Join(root, "nodir", "x")},
		{"glob matching nothing", []string{noMatch}, ErrNoMatch, noMatch},
		{"glob matching only hidden files", []string{filepath.Join(root, "*hidden")}, ErrNoMatch, "*hidden"},
		{"bad pattern", []string{filepath.Join(root, "[")}, filepath.ErrBadPattern, "["},
		{"empty directory", []string{filepath.Join(root, "empty")}, ErrNoMatch, filepath.Join(root, "empty")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ins, err := Expand(tt.args)
			if err == nil {
				t.Fatalf("no error, inputs %q", paths(ins))
			}
			if !errors.Is(err, tt.target) {
				t.Errorf("error %q is not %v", err, tt.target)
			}
			if !strings.Contains(err.Error(), tt.naming) {
				t.Errorf("error %q does not name %q", err, tt.naming)
			}
			if strings.Count(err.Error(), tt.naming) > 1 {
				t.Errorf("error %q repeats %q", err, tt.naming)
			}
		})
	}
}

func TestExpandDuplicatesAndOrder(t *testing.T) {
	root, _ := logTree(t)
	t.Chdir(root)
	ins, err := Expand([]string{
		"mail.err",
		"-",
		"mail.log",
		"./mail.log",
		filepath.Join(root, "mail.log"),
		"archive/../mail.log",
		"archive",
		"archive/mail.log", // already listed by the walk of archive
		"-",
		"mail.log*", // brings the older rotations, mail.log itself already seen
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"mail.err", "-", "mail.log",
		filepath.FromSlash("archive/mail.log-20260101.gz"), filepath.FromSlash("archive/mail.log-20260102.zst"),
		filepath.FromSlash("archive/mail.log-20260103"), filepath.FromSlash("archive/mail.log"),
		"mail.log.10.gz", "mail.log.4.zst", "mail.log.3.bz2", "mail.log.2.gz", "mail.log.1",
	}
	if got := paths(ins); !slices.Equal(got, want) {
		t.Fatalf("got %q\nwant %q", got, want)
	}
	if ins[1] != (Input{Path: "-"}) {
		t.Errorf("stdin input = %+v", ins[1])
	}
}

func TestExpandLiteralNameWithGlobCharacters(t *testing.T) {
	root := t.TempDir()
	odd := filepath.Join(root, "mail[1].log")
	writeFile(t, odd, []byte("x\n"))
	ins, err := Expand([]string{odd})
	if err != nil {
		t.Fatal(err)
	}
	if got := paths(ins); !slices.Equal(got, []string{odd}) {
		t.Fatalf("got %q", got)
	}
}

func TestExpandHiddenRootIsWalked(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, ".logs")
	writeFile(t, filepath.Join(dir, "mail.log"), []byte("x\n"))
	ins, err := Expand([]string{dir})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := paths(ins), []string{filepath.Join(dir, "mail.log")}; !slices.Equal(got, want) {
		t.Fatalf("got %q, want %q", got, want)
	}
}

func TestExpandSymlinks(t *testing.T) {
	root := t.TempDir()
	target := t.TempDir()
	writeFile(t, filepath.Join(target, "real.log"), []byte("x\n"))
	writeFile(t, filepath.Join(root, "mail.log"), []byte("y\n"))
	links := map[string]string{
		"linked.log": filepath.Join(target, "real.log"), // file link: taken
		"loop":       root,                              // directory link: not followed
		"dangling":   filepath.Join(target, "gone"),     // skipped
	}
	for name, to := range links {
		if err := os.Symlink(to, filepath.Join(root, name)); err != nil {
			t.Skipf("symlinks unavailable: %v", err)
		}
	}
	ins, err := Expand([]string{root})
	if err != nil {
		t.Fatal(err)
	}
	want := under(root, "linked.log", "mail.log")
	if got := paths(ins); !slices.Equal(got, want) {
		t.Fatalf("got %q, want %q", got, want)
	}
	if ins[0].Size != 2 {
		t.Errorf("linked file size %d, want the target's 2", ins[0].Size)
	}
}

func TestExpandNoArgs(t *testing.T) {
	ins, err := Expand(nil)
	if err != nil || len(ins) != 0 {
		t.Fatalf("Expand(nil) = %v, %v", ins, err)
	}
}

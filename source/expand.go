package source

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Stdin is the path that names standard input.
const Stdin = "-"

// ErrNoMatch is wrapped by Expand's error when a glob matches no files or a
// directory holds no readable files: the user asked for input and would
// otherwise get an empty, silent scan.
var ErrNoMatch = errors.New("no files found")

// Input is one thing to read: a file path, or "-" for stdin.
//
// ModTime and Size come from the file system when Expand creates the input
// (zero for stdin). ModTime lets callers infer the year of syslog stamps;
// Size is the stored (possibly compressed) size, the same unit as
// Scanner.Bytes.
type Input struct {
	Path    string
	ModTime time.Time
	Size    int64
}

// Expand resolves user arguments (files, directories, globs, "-") into inputs
// in reading order.
//
// Arguments keep their order. A directory is walked recursively, skipping
// hidden (dot-named) files and directories and not following symbolic links
// to directories (to avoid cycles); only regular files are taken from it.
// Files from one directory or glob are ordered by SortRotated, oldest
// rotation first. A glob is only expanded when no file has the literal name;
// like a shell, it skips dot-names unless the pattern's last element starts
// with a dot. A path named twice (however spelled: relative, absolute,
// with ".." — but not through a symbolic link) appears once, at its first
// position. A file named explicitly is taken whatever its type (so named
// pipes such as <(zcat x) work).
//
// Errors name the offending argument: a missing file wraps fs.ErrNotExist; a
// glob that yields no file, or a directory argument holding none, wraps
// ErrNoMatch (an empty directory among a glob's matches is fine); a
// malformed glob wraps filepath.ErrBadPattern.
//
// With no arguments Expand returns no inputs and no error: whether that
// means stdin is the caller's choice.
func Expand(args []string) ([]Input, error) {
	e := expander{seen: make(map[string]bool)}
	for _, arg := range args {
		if err := e.arg(arg); err != nil {
			return nil, err
		}
	}
	return e.out, nil
}

type expander struct {
	out  []Input
	seen map[string]bool
}

func (e *expander) add(path string, fi fs.FileInfo) {
	key := path
	if path != Stdin {
		if abs, err := filepath.Abs(path); err == nil {
			key = abs
		}
	}
	if e.seen[key] {
		return
	}
	e.seen[key] = true
	in := Input{Path: path}
	if fi != nil {
		in.ModTime, in.Size = fi.ModTime(), fi.Size()
	}
	e.out = append(e.out, in)
}

func (e *expander) arg(arg string) error {
	if arg == Stdin {
		e.add(Stdin, nil)
		return nil
	}
	fi, err := os.Stat(arg)
	switch {
	case err == nil:
		if fi.IsDir() {
			n, err := e.dir(arg)
			if err == nil && n == 0 {
				err = fmt.Errorf("directory %s: %w", arg, ErrNoMatch)
			}
			return err
		}
		e.add(arg, fi)
		return nil
	case errors.Is(err, fs.ErrNotExist) && hasMeta(arg):
		return e.glob(arg)
	default:
		return pathError(arg, err)
	}
}

// pathError names the path once: an *fs.PathError already says "stat PATH",
// which would repeat it after our own prefix.
func pathError(path string, err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		err = pe.Err
	}
	return fmt.Errorf("%s: %w", path, err)
}

func hasMeta(s string) bool {
	return strings.ContainsAny(s, `*?[`)
}

func (e *expander) glob(pattern string) error {
	matches, err := filepath.Glob(pattern)
	if err != nil {
		return fmt.Errorf("pattern %q: %w", pattern, err)
	}
	showHidden := strings.HasPrefix(filepath.Base(pattern), ".")
	kept := matches[:0]
	for _, m := range matches {
		if showHidden || !isHidden(filepath.Base(m)) {
			kept = append(kept, m)
		}
	}
	if len(kept) == 0 {
		return fmt.Errorf("pattern %q: %w", pattern, ErrNoMatch)
	}
	files := 0
	for _, m := range SortRotated(kept) {
		fi, err := os.Stat(m)
		if err != nil {
			return pathError(m, err)
		}
		if fi.IsDir() {
			// An empty directory among the matches is not worth failing
			// for, as long as the pattern yields some file.
			n, err := e.dir(m)
			if err != nil {
				return err
			}
			files += n
			continue
		}
		e.add(m, fi)
		files++
	}
	if files == 0 {
		return fmt.Errorf("pattern %q: %w", pattern, ErrNoMatch)
	}
	return nil
}

func isHidden(name string) bool {
	return strings.HasPrefix(name, ".") && name != "." && name != ".."
}

// dir adds the files under root and returns how many it found (duplicates
// included).
func (e *expander) dir(root string) (int, error) {
	files := make(map[string]fs.FileInfo)
	var paths []string
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return pathError(path, err)
		}
		// The root was named by the user, so it counts even if hidden.
		if path != root && isHidden(d.Name()) {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if d.IsDir() {
			return nil
		}
		// Stat follows a symbolic link to its target; Lstat-only entries
		// such as sockets, fifos and devices in a log directory are not logs.
		fi, err := os.Stat(path)
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil // dangling link, or removed by rotation while we walk
			}
			return pathError(path, err)
		}
		if !fi.Mode().IsRegular() {
			return nil
		}
		files[path] = fi
		paths = append(paths, path)
		return nil
	})
	if err != nil {
		return 0, err
	}
	for _, p := range SortRotated(paths) {
		e.add(p, files[p])
	}
	return len(paths), nil
}

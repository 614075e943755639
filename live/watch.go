package live

import (
	"context"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/fsnotify/fsnotify"
)

// watchRoot is a path whose changes matter: a directory tree, or a
// directory whose direct entries matter, or (with file) one file of a
// directory.
type watchRoot struct {
	path      string
	recursive bool
	// file, when set, is the only entry of path that matters: a data
	// file's directory may hold the checkpoint or the alert file, whose
	// every write would otherwise set off a reload.
	file string
}

// treeWatcher turns file-system events under its roots into debounced
// calls. fsnotify watches directories, not trees, and loses a directory's
// watch when the directory is removed or renamed (as editors that save by
// rename and `git checkout` do): after every burst of events the roots are
// walked again and every directory without a watch gets one. The parent of
// each root is watched too, so a root that is replaced as a whole is seen.
type treeWatcher struct {
	w        *fsnotify.Watcher
	roots    []watchRoot
	debounce time.Duration
	log      *slog.Logger
	// watched is the directory each watch was added for. A watch
	// follows its directory when that is renamed, and fsnotify drops
	// only the watch of the renamed directory itself, not those of its
	// subdirectories: a new directory under such a name needs a watch of
	// its own.
	watched map[string]os.FileInfo
}

func newTreeWatcher(roots []watchRoot, debounce time.Duration, log *slog.Logger) (*treeWatcher, error) {
	w, err := fsnotify.NewWatcher()
	if err != nil {
		return nil, err
	}
	tw := &treeWatcher{w: w, roots: roots, debounce: debounce, log: log, watched: map[string]os.FileInfo{}}
	tw.rescan()
	return tw, nil
}

// rescan adds a watch to every directory of the roots that lacks one, or
// whose watch is on another directory that had its name.
func (tw *treeWatcher) rescan() {
	have := map[string]bool{}
	for _, p := range tw.w.WatchList() {
		have[p] = true
	}
	done := map[string]bool{}
	add := func(dir string) {
		if done[dir] {
			return
		}
		done[dir] = true
		st, err := os.Stat(dir)
		if err != nil {
			return // not there (yet): the parent's watch sees it come
		}
		if have[dir] && tw.watched[dir] != nil && os.SameFile(tw.watched[dir], st) {
			return
		}
		if err := tw.w.Add(dir); err != nil {
			if !os.IsNotExist(err) {
				tw.log.Warn("rules: cannot watch directory", "dir", dir, "err", err)
			}
			return
		}
		tw.watched[dir] = st
	}
	for _, r := range tw.roots {
		add(filepath.Dir(r.path))
		if !r.recursive {
			add(r.path)
			continue
		}
		// The trailing separator makes the walk enter a root that is a
		// symlink (a deployed release), as loading the rules does, while
		// the names stay under the root, as the events name them.
		filepath.WalkDir(r.path+string(filepath.Separator), func(p string, d fs.DirEntry, err error) error {
			if err != nil || !d.IsDir() {
				return nil
			}
			p = filepath.Clean(p)
			if p != r.path && strings.HasPrefix(d.Name(), ".") {
				return fs.SkipDir
			}
			add(p)
			return nil
		})
	}
}

// relevant reports whether an event is under one of the roots (the parent
// watches report siblings of the roots too).
func (tw *treeWatcher) relevant(ev fsnotify.Event) bool {
	if ev.Op == fsnotify.Chmod {
		return false
	}
	name := filepath.Clean(ev.Name)
	for _, r := range tw.roots {
		if r.file != "" {
			if name == r.file || name == r.path {
				return true
			}
			continue
		}
		if name == r.path || strings.HasPrefix(name, r.path+string(filepath.Separator)) {
			return true
		}
	}
	return false
}

// run calls changed once after each burst of relevant events has been
// quiet for the debounce time, until ctx is done.
func (tw *treeWatcher) run(ctx context.Context, changed func()) {
	defer tw.w.Close()
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case ev, ok := <-tw.w.Events:
			if !ok {
				return
			}
			if tw.relevant(ev) {
				timer.Reset(tw.debounce)
			}
		case err, ok := <-tw.w.Errors:
			if !ok {
				return
			}
			// An overflow lost events: act as if everything changed.
			tw.log.Warn("rules: file watch error; rescanning", "err", err)
			timer.Reset(tw.debounce)
		case <-timer.C:
			tw.rescan()
			changed()
		}
	}
}

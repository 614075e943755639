// Package follow tails log files the way a production log reader must.
//
// A Follower follows every file matching a set of paths and globs, across
// rotation by rename and create (the old file is read to its end, and for a
// while after, since a daemon keeps writing to it until it reopens its log)
// and by copytruncate (the tail that was copied away before the truncation
// is read from the copy). With every line it reports the position after it,
// so a caller can checkpoint what it has fully processed and, after a
// restart, resume exactly there: no line lost, none read twice. Files are
// found again by device and inode, so a file rotated while the process was
// down is finished under its new name before the new file is read.
//
// Changes are noticed through fsnotify where it works, and by polling in
// any case (network file systems send no events).
package follow

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/fsnotify/fsnotify"
)

// Kind tells what a Record reports.
type Kind uint8

const (
	// KindLine is a complete line of a file.
	KindLine Kind = iota
	// KindOpen reports a file the follower opened, with the position it
	// starts reading at, so that a checkpoint holds it even before its
	// first line (otherwise a restart would take it for a new file). A
	// truncated file is reported again with its position reset.
	KindOpen
	// KindClose reports a file the follower let go of (rotated away and
	// drained, or deleted): a checkpoint should forget it.
	KindClose
)

// Record is one line, or a change in the set of files read.
type Record struct {
	Kind Kind
	// Text of the line, without its line ending, cut to MaxLine bytes.
	Text      string
	Truncated bool
	// Pos is the position after the line (KindLine), where reading starts
	// (KindOpen) or where it ended (KindClose). Pos.Stream and Pos.Line
	// give the line's origin.
	Pos Position
}

// Options configure a Follower.
type Options struct {
	// Paths are files or globs. Each matching file is followed on its own
	// (a "stream"); follow the live name (mail.log), not its rotated
	// siblings.
	Paths []string
	// FromStart reads files present at the first start from their
	// beginning instead of their end. Files that appear later, and files
	// of a checkpoint's patterns that have no position, are always read
	// from their beginning.
	FromStart bool
	// Resume is the checkpoint of a previous run, or nil.
	Resume *Checkpoint
	// Poll is how often files are checked without a file-system event
	// (default 250ms).
	Poll time.Duration
	// DrainQuiet is how long a file rotated away must stay unchanged before
	// it is closed (default 2s): daemons write to the old file until they
	// reopen their log.
	DrainQuiet time.Duration
	// MaxLine is the longest line returned whole (default 1 MiB); longer
	// lines are cut and marked Truncated.
	MaxLine int
	// Logger receives warnings (files lost while stopped, watch errors).
	Logger *slog.Logger
}

// headMax is how many leading bytes identify a file's content.
const headMax = 1024

// readChunk is the read size.
const readChunk = 64 << 10

// Follower follows the files of Options.Paths. Run drives it; Ready and
// Lag may be called from other goroutines.
type Follower struct {
	opt     Options
	log     *slog.Logger
	active  map[string]*file // stream -> the file at its path
	drain   []*file          // rotated away, read until quiet
	resume  map[ID]Position
	covered map[string]bool // patterns the resumed checkpoint covered
	wake    chan struct{}
	buf     []byte
	ready   atomic.Bool
	lag     atomic.Int64
}

// file is one open file.
type file struct {
	stream  string
	path    string // name it was opened under
	f       *os.File
	id      ID
	offset  int64 // start of the next line
	line    int
	head    []byte
	headSum string
	// The line being read while its end has not arrived: at most
	// MaxLine+1 bytes kept, pendLen bytes in all.
	partial []byte
	pendLen int64
	// lastGrowth is when the file last grew (for draining).
	lastGrowth time.Time
	size       int64
}

// New returns a Follower; nothing is opened until Run.
func New(opt Options) (*Follower, error) {
	if len(opt.Paths) == 0 {
		return nil, errors.New("follow: no paths")
	}
	if opt.Poll <= 0 {
		opt.Poll = 250 * time.Millisecond
	}
	if opt.DrainQuiet <= 0 {
		opt.DrainQuiet = 2 * time.Second
	}
	if opt.MaxLine <= 0 {
		opt.MaxLine = 1 << 20
	}
	for _, p := range opt.Paths {
		if _, err := filepath.Match(p, ""); err != nil {
			return nil, fmt.Errorf("follow: %q: %w", p, err)
		}
	}
	log := opt.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	fl := &Follower{
		opt:     opt,
		log:     log,
		active:  map[string]*file{},
		resume:  map[ID]Position{},
		covered: map[string]bool{},
		wake:    make(chan struct{}, 1),
		buf:     make([]byte, readChunk),
	}
	if opt.Resume != nil {
		for _, p := range opt.Resume.Files {
			fl.resume[p.ID()] = p
		}
		for _, p := range opt.Resume.Patterns {
			fl.covered[p] = true
		}
	}
	return fl, nil
}

// Ready reports whether the first scan is done and every path that is not a
// glob is open.
func (fl *Follower) Ready() bool { return fl.ready.Load() }

// Lag is how many bytes the followed files hold beyond what was read, as of
// the last poll.
func (fl *Follower) Lag() int64 { return fl.lag.Load() }

// Run follows the files until ctx is done or emit fails, calling emit from
// its goroutine for every record. emit may block (back-pressure); it should
// return an error once the caller stops listening. Files still open are
// closed on return, without KindClose records: their positions stand.
func (fl *Follower) Run(ctx context.Context, emit func(Record) error) error {
	w := fl.watch()
	if w != nil {
		defer w.Close()
	}
	defer fl.closeAll()
	if err := fl.start(emit); err != nil {
		return err
	}
	fl.ready.Store(fl.allOpen())
	tick := time.NewTicker(fl.opt.Poll)
	defer tick.Stop()
	for {
		if err := fl.poll(emit); err != nil {
			return err
		}
		fl.ready.Store(fl.allOpen())
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		case <-fl.wake:
		}
	}
}

// watch asks fsnotify for events in the directories of the paths, which
// wake the poll loop early. Failure only costs latency, so it is logged.
func (fl *Follower) watch() *fsnotify.Watcher {
	w, err := fsnotify.NewWatcher()
	if err != nil {
		fl.log.Warn("follow: no file-system events, polling only", "err", err)
		return nil
	}
	dirs := map[string]bool{}
	for _, p := range fl.opt.Paths {
		d := filepath.Dir(p)
		if !hasMeta(d) && !dirs[d] {
			dirs[d] = true
			if err := w.Add(d); err != nil {
				fl.log.Warn("follow: cannot watch directory, polling it", "dir", d, "err", err)
			}
		}
	}
	go func() {
		for {
			select {
			case _, ok := <-w.Events:
				if !ok {
					return
				}
				select {
				case fl.wake <- struct{}{}:
				default:
				}
			case _, ok := <-w.Errors:
				if !ok {
					return
				}
			}
		}
	}()
	return w
}

func hasMeta(p string) bool { return strings.ContainsAny(p, `*?[\`) }

// matches returns the regular files the paths match now, sorted.
func (fl *Follower) matches() []string {
	seen := map[string]bool{}
	var out []string
	for _, p := range fl.opt.Paths {
		names := []string{p}
		if hasMeta(p) {
			names, _ = filepath.Glob(p) // the pattern was validated in New
		}
		for _, n := range names {
			if seen[n] {
				continue
			}
			if st, err := os.Stat(n); err == nil && st.Mode().IsRegular() {
				seen[n] = true
				out = append(out, n)
			}
		}
	}
	sort.Strings(out)
	return out
}

// coveredBefore reports whether the resumed checkpoint followed a pattern
// that matches path, so that a file there without a position is new.
func (fl *Follower) coveredBefore(path string) bool {
	for _, p := range fl.opt.Paths {
		if !fl.covered[p] {
			continue
		}
		if ok, _ := filepath.Match(p, path); ok || p == path {
			return true
		}
	}
	return false
}

// start opens the files present at start-up: where the checkpoint left
// them, else at their end (or start), and finishes files that were rotated
// away while the process was down.
func (fl *Follower) start(emit func(Record) error) error {
	for _, path := range fl.matches() {
		f, st, err := fl.open(path, path)
		if err != nil {
			fl.log.Warn("follow: cannot open", "path", path, "err", err)
			continue
		}
		pos, known := fl.resume[f.id]
		switch {
		case known && pos.Stream == path && f.sameHead(pos) && st.Size() >= pos.Offset:
			delete(fl.resume, f.id)
			f.offset, f.line = pos.Offset, pos.Line
		case known && pos.Stream == path:
			// Truncated while we were down (copytruncate), perhaps
			// written again: the copy holds the lines we had not read.
			delete(fl.resume, f.id)
			if err := fl.finishCopy(pos, emit); err != nil {
				f.f.Close()
				return err
			}
		case fl.opt.Resume != nil && fl.coveredBefore(path):
			// Created since the checkpoint: all of it is new.
		case fl.opt.FromStart:
		default:
			if err := f.seekEnd(st.Size()); err != nil {
				f.f.Close()
				return err
			}
		}
		if err := fl.adopt(f, emit); err != nil {
			return err
		}
	}
	// Positions left over are files rotated away while we were down (or
	// gone for good): find them in their stream's directory by identity.
	left := make([]Position, 0, len(fl.resume))
	for _, pos := range fl.resume {
		left = append(left, pos)
	}
	sort.Slice(left, func(i, j int) bool { return left[i].Stream < left[j].Stream })
	for _, pos := range left {
		if !fl.followed(pos.Stream) {
			continue
		}
		f := fl.findMoved(pos)
		if f == nil {
			fl.log.Warn("follow: a file being read is gone (rotated and removed or compressed while stopped); lines written to it after the checkpoint are missing",
				"stream", pos.Stream, "offset", pos.Offset)
			if err := emit(Record{Kind: KindClose, Pos: pos}); err != nil {
				return err
			}
			continue
		}
		f.offset, f.line = pos.Offset, pos.Line
		f.lastGrowth = time.Now()
		fl.drain = append(fl.drain, f)
		if err := emit(Record{Kind: KindOpen, Pos: f.pos()}); err != nil {
			return err
		}
	}
	fl.resume = nil
	return nil
}

// followed reports whether a stream is still one of the paths.
func (fl *Follower) followed(stream string) bool {
	for _, p := range fl.opt.Paths {
		if p == stream {
			return true
		}
		if ok, _ := filepath.Match(p, stream); ok {
			return true
		}
	}
	return false
}

// adopt makes f the active file of its stream and reports it.
func (fl *Follower) adopt(f *file, emit func(Record) error) error {
	f.lastGrowth = time.Now()
	fl.active[f.stream] = f
	return emit(Record{Kind: KindOpen, Pos: f.pos()})
}

// open opens path as a file of stream.
func (fl *Follower) open(path, stream string) (*file, os.FileInfo, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	st, err := fh.Stat()
	if err != nil {
		fh.Close()
		return nil, nil, err
	}
	id, _ := fileID(st)
	f := &file{stream: stream, path: path, f: fh, id: id, size: st.Size()}
	if err := f.readHead(); err != nil {
		fh.Close()
		return nil, nil, err
	}
	return f, st, nil
}

// isTracked reports whether a file is already open (a glob may match a
// rotated file that is being drained).
func (fl *Follower) isTracked(id ID) bool {
	if id == (ID{}) {
		return false
	}
	for _, f := range fl.active {
		if f.id == id {
			return true
		}
	}
	for _, f := range fl.drain {
		if f.id == id {
			return true
		}
	}
	return false
}

// poll reads what every file gained and handles rotation, truncation and
// new files.
func (fl *Follower) poll(emit func(Record) error) error {
	now := time.Now()
	var lag int64
	// Files rotated away first: their lines are older.
	var kept []*file
	for _, f := range fl.drain {
		grew, err := fl.read(f, emit)
		if err != nil {
			return err
		}
		if grew {
			f.lastGrowth = now
		}
		if now.Sub(f.lastGrowth) < fl.opt.DrainQuiet {
			kept = append(kept, f)
			lag += f.size - f.offset
			continue
		}
		// Nobody writes here any more: an unfinished last line is all
		// there will be of it.
		if err := fl.finishPartial(f, emit); err != nil {
			return err
		}
		f.f.Close()
		if err := emit(Record{Kind: KindClose, Pos: f.pos()}); err != nil {
			return err
		}
	}
	fl.drain = kept

	for _, s := range slices.Sorted(maps.Keys(fl.active)) {
		f := fl.active[s]
		grew, err := fl.read(f, emit)
		if err != nil {
			return err
		}
		if grew {
			f.lastGrowth = now
		}
		if err := fl.checkPath(f, now, emit); err != nil {
			return err
		}
		if g := fl.active[s]; g != nil {
			lag += g.size - g.offset
		}
	}

	// New files: a glob matched another file, or a path came back.
	for _, path := range fl.matches() {
		if fl.active[path] != nil {
			continue
		}
		f, _, err := fl.open(path, path)
		if err != nil {
			continue // gone again, or unreadable: retried next poll
		}
		if fl.isTracked(f.id) {
			f.f.Close()
			continue
		}
		if err := fl.adopt(f, emit); err != nil {
			return err
		}
		if _, err := fl.read(f, emit); err != nil {
			return err
		}
	}
	fl.lag.Store(lag)
	return nil
}

// checkPath looks at what the stream's path holds now: another file
// (rotation by rename), a shorter or different file with the same inode
// (copytruncate), or nothing.
func (fl *Follower) checkPath(f *file, now time.Time, emit func(Record) error) error {
	st, err := os.Stat(f.stream)
	if err != nil {
		// Renamed or deleted and no new file yet: keep reading what we
		// have. A deleted file nobody writes to is let go.
		if cur, serr := f.f.Stat(); serr == nil && !linked(cur) && now.Sub(f.lastGrowth) >= fl.opt.DrainQuiet {
			if err := fl.finishPartial(f, emit); err != nil {
				return err
			}
			f.f.Close()
			delete(fl.active, f.stream)
			return emit(Record{Kind: KindClose, Pos: f.pos()})
		}
		return nil
	}
	id, ok := fileID(st)
	if ok && id != f.id {
		// Rotated: the old file is drained (its writer may not have
		// reopened yet), the new one read from its start.
		nf, _, err := fl.open(f.stream, f.stream)
		if err != nil {
			return nil // raced with another rename: next poll
		}
		// What reached the old file before the new one existed comes
		// first.
		if _, err := fl.read(f, emit); err != nil {
			nf.f.Close()
			return err
		}
		f.lastGrowth = now // its writer gets DrainQuiet to reopen
		fl.drain = append(fl.drain, f)
		if err := fl.adopt(nf, emit); err != nil {
			return err
		}
		_, err = fl.read(nf, emit)
		return err
	}
	f.size = st.Size()
	if st.Size() < f.offset+f.pendLen || !f.headStillMatches() {
		return fl.truncated(f, emit)
	}
	return nil
}

// truncated handles a file cut back in place (copytruncate): the lines it
// had beyond what was read are in the copy, which is read first; then the
// file is read again from its start.
func (fl *Follower) truncated(f *file, emit func(Record) error) error {
	if err := fl.finishCopy(f.pos(), emit); err != nil {
		return err
	}
	f.offset, f.line, f.partial, f.pendLen = 0, 0, f.partial[:0], 0
	if err := f.readHead(); err != nil {
		return err
	}
	if err := emit(Record{Kind: KindOpen, Pos: f.pos()}); err != nil {
		return err
	}
	_, err := fl.read(f, emit)
	return err
}

// finishCopy reads, from a copy of a truncated file (same head, at least
// pos.Offset long, in the same directory), the lines after pos.
func (fl *Follower) finishCopy(pos Position, emit func(Record) error) error {
	c := fl.findInDir(pos, func(id ID) bool { return id != pos.ID() })
	if c == nil {
		if pos.Offset > 0 {
			fl.log.Warn("follow: file truncated and no copy of it found; lines written just before the truncation may be missing",
				"stream", pos.Stream, "offset", pos.Offset)
		}
		return nil
	}
	defer c.f.Close()
	c.offset, c.line = pos.Offset, pos.Line
	c.id = pos.ID() // its lines continue the truncated file's positions
	if _, err := fl.read(c, emit); err != nil {
		return err
	}
	return fl.finishPartial(c, emit)
}

// findMoved finds, in the directory of pos.Stream, the file pos is in under
// another name.
func (fl *Follower) findMoved(pos Position) *file {
	return fl.findInDir(pos, func(id ID) bool { return id == pos.ID() })
}

// findInDir opens the first file in the directory of pos.Stream whose
// identity passes want, whose head matches pos and which is at least
// pos.Offset long.
func (fl *Follower) findInDir(pos Position, want func(ID) bool) *file {
	dir := filepath.Dir(pos.Stream)
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil
	}
	for _, e := range ents {
		if !e.Type().IsRegular() {
			continue
		}
		info, err := e.Info()
		if err != nil || info.Size() < pos.Offset {
			continue
		}
		if id, ok := fileID(info); ok && !want(id) {
			continue
		}
		path := filepath.Join(dir, e.Name())
		f, _, err := fl.open(path, pos.Stream)
		if err != nil {
			continue
		}
		if f.sameHead(pos) {
			return f
		}
		f.f.Close()
	}
	return nil
}

// read hands out the complete lines f gained. It reports whether f grew.
func (fl *Follower) read(f *file, emit func(Record) error) (bool, error) {
	grew := false
	for {
		at := f.offset + f.pendLen
		n, err := f.f.ReadAt(fl.buf, at)
		if n > 0 {
			// What lies past the offset continues the lines read so far
			// only while the file still starts as it did. A file truncated
			// and written again since the last look (copytruncate) holds
			// the middle of its new content there: nothing is handed out,
			// and checkPath, seeing the changed head, starts it over.
			if !f.headStillMatches() {
				return grew, nil
			}
			grew = true
			if at+int64(n) > f.size {
				f.size = at + int64(n)
			}
			f.growHead(at, fl.buf[:n])
			if err := fl.consume(f, fl.buf[:n], emit); err != nil {
				return grew, err
			}
		}
		if err == io.EOF || n == 0 {
			return grew, nil
		}
		if err != nil {
			return grew, fmt.Errorf("follow: %s: %w", f.path, err)
		}
	}
}

// consume splits a chunk into lines.
func (fl *Follower) consume(f *file, chunk []byte, emit func(Record) error) error {
	for len(chunk) > 0 {
		i := bytes.IndexByte(chunk, '\n')
		if i < 0 {
			f.addPartial(chunk, fl.opt.MaxLine)
			return nil
		}
		text, total := chunk[:i], int64(i)
		if f.pendLen > 0 {
			f.addPartial(chunk[:i], fl.opt.MaxLine)
			text, total = f.partial, f.pendLen
		}
		if err := fl.line(f, text, total, total+1, emit); err != nil {
			return err
		}
		chunk = chunk[i+1:]
	}
	return nil
}

// finishPartial hands out an unterminated last line of a file nobody will
// write to again.
func (fl *Follower) finishPartial(f *file, emit func(Record) error) error {
	if f.pendLen == 0 {
		return nil
	}
	return fl.line(f, f.partial, f.pendLen, f.pendLen, emit)
}

// line hands out one line: text holds its first bytes (all of them when
// it is total bytes long), and it takes size bytes of the file.
func (fl *Follower) line(f *file, text []byte, total, size int64, emit func(Record) error) error {
	whole := int64(len(text)) == total
	if whole {
		text = bytes.TrimSuffix(text, []byte{'\r'})
	}
	truncated := !whole || len(text) > fl.opt.MaxLine
	if len(text) > fl.opt.MaxLine {
		text = cutRunes(text, fl.opt.MaxLine)
	}
	f.offset += size
	f.line++
	rec := Record{Kind: KindLine, Text: string(text), Truncated: truncated, Pos: f.pos()}
	f.partial, f.pendLen = f.partial[:0], 0
	return emit(rec)
}

// addPartial keeps up to max+1 bytes of an unfinished line (one more than
// max, so a final "\r" can still be told from the text).
func (f *file) addPartial(b []byte, max int) {
	if room := max + 1 - len(f.partial); room > 0 {
		f.partial = append(f.partial, b[:min(room, len(b))]...)
	}
	f.pendLen += int64(len(b))
}

// cutRunes cuts b to at most max bytes without splitting a UTF-8 character.
func cutRunes(b []byte, max int) []byte {
	for i := max; i > 0 && i > max-utf8.UTFMax; i-- {
		if utf8.RuneStart(b[i]) {
			return b[:i]
		}
	}
	return b[:max]
}

// seekEnd starts reading at the end of the file, or after its last
// complete line when the writer is in the middle of one, counting the lines
// skipped so that line numbers stay true.
func (f *file) seekEnd(size int64) error {
	var lines int
	var lastNL int64 = -1
	buf := make([]byte, readChunk)
	for at := int64(0); at < size; {
		n, err := f.f.ReadAt(buf[:min(int64(len(buf)), size-at)], at)
		lines += bytes.Count(buf[:n], []byte{'\n'})
		if i := bytes.LastIndexByte(buf[:n], '\n'); i >= 0 {
			lastNL = at + int64(i)
		}
		at += int64(n)
		if err != nil && err != io.EOF {
			return fmt.Errorf("follow: %s: %w", f.path, err)
		}
		if n == 0 {
			break
		}
	}
	f.offset, f.line = lastNL+1, lines
	return nil
}

// readHead (re)reads the first bytes of the file, which identify it.
func (f *file) readHead() error {
	buf := make([]byte, headMax)
	n, err := f.f.ReadAt(buf, 0)
	if err != nil && err != io.EOF {
		return fmt.Errorf("follow: %s: %w", f.path, err)
	}
	f.head = buf[:n]
	f.headSum = headSum(f.head)
	return nil
}

// growHead extends a head shorter than headMax with the bytes just read
// at offset at, from the very read that was checked against it (reading
// the head again could see a file rewritten in between).
func (f *file) growHead(at int64, b []byte) {
	have := int64(len(f.head))
	if have >= headMax || at > have || at+int64(len(b)) <= have {
		return
	}
	add := b[have-at : min(int64(len(b)), headMax-at)]
	f.head = append(f.head, add...)
	f.headSum = headSum(f.head)
}

// sameHead reports whether the file starts with the bytes pos was taken
// from.
func (f *file) sameHead(pos Position) bool {
	if pos.HeadLen > len(f.head) {
		return false
	}
	return headSum(f.head[:pos.HeadLen]) == pos.Head
}

// headStillMatches re-reads the file's first bytes: a file truncated and
// written again past our offset between two polls is only seen this way.
func (f *file) headStillMatches() bool {
	if len(f.head) == 0 {
		return true
	}
	buf := make([]byte, len(f.head))
	n, _ := f.f.ReadAt(buf, 0)
	return bytes.Equal(buf[:n], f.head)
}

// pos is the file's current position.
func (f *file) pos() Position {
	return Position{Stream: f.stream, Dev: f.id.Dev, Ino: f.id.Ino, Offset: f.offset, Line: f.line,
		Head: f.headSum, HeadLen: len(f.head)}
}

// allOpen reports whether every path that is not a glob has a file.
func (fl *Follower) allOpen() bool {
	for _, p := range fl.opt.Paths {
		if !hasMeta(p) && fl.active[p] == nil {
			return false
		}
	}
	return true
}

func (fl *Follower) closeAll() {
	for _, f := range fl.active {
		f.f.Close()
	}
	for _, f := range fl.drain {
		f.f.Close()
	}
}

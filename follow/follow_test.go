package follow

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// run is a Follower under test: its records arrive on an unbuffered
// channel, so the test decides when the follower may go on (a follower
// blocked in emit stands still, which is how the tests stage a rotation
// between two reads without sleeping).
type run struct {
	t      *testing.T
	recs   chan Record
	cancel context.CancelFunc
	done   chan error
	fl     *Follower
	pos    Positions
	err    error
	once   sync.Once
}

func start(t *testing.T, opt Options) *run {
	t.Helper()
	if opt.Poll == 0 {
		opt.Poll = 10 * time.Millisecond
	}
	if opt.DrainQuiet == 0 {
		opt.DrainQuiet = 100 * time.Millisecond
	}
	fl, err := New(opt)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	r := &run{t: t, recs: make(chan Record), cancel: cancel, done: make(chan error, 1), fl: fl}
	go func() {
		r.done <- fl.Run(ctx, func(rec Record) error {
			select {
			case r.recs <- rec:
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		})
	}()
	t.Cleanup(func() { r.stop() })
	return r
}

// lines waits for n lines (Open and Close records are applied to the
// positions on the way) and returns them as "stream:line:text".
func (r *run) lines(n int) []string {
	r.t.Helper()
	var out []string
	deadline := time.After(10 * time.Second)
	for len(out) < n {
		select {
		case rec := <-r.recs:
			r.pos.Apply(rec)
			if rec.Kind == KindLine {
				out = append(out, fmt.Sprintf("%s:%d:%s", filepath.Base(rec.Pos.Stream), rec.Pos.Line, rec.Text))
			}
		case <-deadline:
			r.t.Fatalf("got %d of %d lines: %q", len(out), n, out)
		}
	}
	return out
}

// quiet asserts that no line arrives for a while (after the test knows the
// follower has polled several times).
func (r *run) quiet(d time.Duration) {
	r.t.Helper()
	deadline := time.After(d)
	for {
		select {
		case rec := <-r.recs:
			r.pos.Apply(rec)
			if rec.Kind == KindLine {
				r.t.Fatalf("unexpected line %s:%d %q", rec.Pos.Stream, rec.Pos.Line, rec.Text)
			}
		case <-deadline:
			return
		}
	}
}

// until applies records until cond holds.
func (r *run) until(what string, cond func(Record) bool) {
	r.t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		select {
		case rec := <-r.recs:
			r.pos.Apply(rec)
			if rec.Kind == KindLine {
				r.t.Fatalf("unexpected line %q while waiting for %s", rec.Text, what)
			}
			if cond(rec) {
				return
			}
		case <-deadline:
			r.t.Fatalf("timed out waiting for %s", what)
		}
	}
}

func (r *run) stop() {
	r.once.Do(func() {
		r.cancel()
		select {
		case err := <-r.done:
			if err != nil && !errors.Is(err, context.Canceled) {
				r.t.Errorf("Run: %v", err)
			}
		case <-time.After(10 * time.Second):
			r.t.Error("Run did not return after cancel")
		}
	})
}

func appendFile(t *testing.T, path string, lines ...string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, l := range lines {
		if _, err := f.WriteString(l + "\n"); err != nil {
			t.Fatal(err)
		}
	}
}

func want(stream string, first int, texts ...string) []string {
	var out []string
	for i, s := range texts {
		out = append(out, fmt.Sprintf("%s:%d:%s", stream, first+i, s))
	}
	return out
}

func check(t *testing.T, got, want []string) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Errorf("lines -want +got\n-%q\n+%q", want, got)
	}
}

func TestStartsAtEndAndFollowsAppends(t *testing.T) {
	dir := t.TempDir()
	log := filepath.Join(dir, "mail.log")
	appendFile(t, log, "old 1", "old 2")
	// An unfinished line at start-up is read once it is finished.
	f, _ := os.OpenFile(log, os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString("half")
	r := start(t, Options{Paths: []string{log}})
	r.until("open", func(rec Record) bool { return rec.Kind == KindOpen })
	f.WriteString(" done\r\n")
	f.Close()
	appendFile(t, log, "new 1", "", "new 2")
	check(t, r.lines(4), want("mail.log", 3, "half done", "new 1", "", "new 2"))
	if !r.fl.Ready() {
		t.Error("not ready with the file open")
	}
}

func TestFromStart(t *testing.T) {
	dir := t.TempDir()
	log := filepath.Join(dir, "mail.log")
	appendFile(t, log, "a", "b")
	r := start(t, Options{Paths: []string{log}, FromStart: true})
	check(t, r.lines(2), want("mail.log", 1, "a", "b"))
}

func TestNotReadyUntilPathExists(t *testing.T) {
	dir := t.TempDir()
	log := filepath.Join(dir, "mail.log")
	r := start(t, Options{Paths: []string{log}})
	r.quiet(50 * time.Millisecond)
	if r.fl.Ready() {
		t.Fatal("ready without the file")
	}
	// A file that appears after the start is read from its beginning.
	appendFile(t, log, "first")
	check(t, r.lines(1), want("mail.log", 1, "first"))
}

func TestGlobPicksUpNewFiles(t *testing.T) {
	dir := t.TempDir()
	appendFile(t, filepath.Join(dir, "a.log"), "a1")
	r := start(t, Options{Paths: []string{filepath.Join(dir, "*.log")}})
	r.until("open", func(rec Record) bool { return rec.Kind == KindOpen })
	appendFile(t, filepath.Join(dir, "b.log"), "b1", "b2")
	check(t, r.lines(2), want("b.log", 1, "b1", "b2"))
	appendFile(t, filepath.Join(dir, "a.log"), "a2")
	check(t, r.lines(1), want("a.log", 2, "a2"))
}

// TestRotateRenameCreate: the writer goes on writing to the renamed file
// for a moment after the new one exists (as syslogd does until its HUP);
// those lines are read too, and nothing twice.
func TestRotateRenameCreate(t *testing.T) {
	dir := t.TempDir()
	log := filepath.Join(dir, "mail.log")
	appendFile(t, log)
	r := start(t, Options{Paths: []string{log}, DrainQuiet: time.Hour})
	r.until("open", func(rec Record) bool { return rec.Kind == KindOpen })
	appendFile(t, log, "1", "2", "3")
	check(t, r.lines(1), want("mail.log", 1, "1"))
	// The follower is blocked handing out line 2: rotate now.
	old, _ := os.OpenFile(log, os.O_APPEND|os.O_WRONLY, 0)
	defer old.Close()
	if err := os.Rename(log, log+".1"); err != nil {
		t.Fatal(err)
	}
	old.WriteString("4 late to the old file\n")
	appendFile(t, log, "new 1", "new 2")
	got := r.lines(5)
	check(t, got[:3], want("mail.log", 2, "2", "3", "4 late to the old file"))
	check(t, got[3:], want("mail.log", 1, "new 1", "new 2"))
	old.WriteString("5 even later\n")
	check(t, r.lines(1), want("mail.log", 5, "5 even later"))
	r.quiet(50 * time.Millisecond)
}

// TestRotateDrainEnds: a rotated-away file that stays quiet is closed, and
// its position forgotten.
func TestRotateDrainEnds(t *testing.T) {
	dir := t.TempDir()
	log := filepath.Join(dir, "mail.log")
	appendFile(t, log, "x")
	r := start(t, Options{Paths: []string{log}, FromStart: true})
	check(t, r.lines(1), want("mail.log", 1, "x"))
	os.Rename(log, log+".1")
	appendFile(t, log, "y")
	check(t, r.lines(1), want("mail.log", 1, "y"))
	r.until("close of the old file", func(rec Record) bool { return rec.Kind == KindClose })
	if n := r.pos.Len(); n != 1 {
		t.Errorf("positions hold %d files, want 1", n)
	}
}

// TestCopyTruncate: the lines written between the follower's last read
// and the truncation are read from the copy, then the file from its start.
func TestCopyTruncate(t *testing.T) {
	dir := t.TempDir()
	log := filepath.Join(dir, "mail.log")
	appendFile(t, log)
	r := start(t, Options{Paths: []string{log}})
	r.until("open", func(rec Record) bool { return rec.Kind == KindOpen })
	appendFile(t, log, "1", "2", "3")
	check(t, r.lines(1), want("mail.log", 1, "1"))
	// Blocked on line 2; line 4 lands, then logrotate copies and truncates.
	appendFile(t, log, "4")
	data, _ := os.ReadFile(log)
	os.WriteFile(log+".1", data, 0o644)
	os.Truncate(log, 0)
	appendFile(t, log, "a")
	check(t, r.lines(4), append(want("mail.log", 2, "2", "3", "4"), want("mail.log", 1, "a")...))
	r.quiet(50 * time.Millisecond)
}

// TestTruncatedAndRegrown: a file truncated and written again past the old
// offset between two polls is told apart by its first bytes.
func TestTruncatedAndRegrown(t *testing.T) {
	dir := t.TempDir()
	log := filepath.Join(dir, "mail.log")
	appendFile(t, log)
	r := start(t, Options{Paths: []string{log}})
	r.until("open", func(rec Record) bool { return rec.Kind == KindOpen })
	// One write, so the follower holds both lines while it hands out
	// the first.
	appendFile(t, log, "aa\nbb")
	check(t, r.lines(1), want("mail.log", 1, "aa"))
	os.WriteFile(log, []byte("cc\ndd\nee\nff\n"), 0o644) // same inode, truncated and rewritten
	check(t, r.lines(5), append(want("mail.log", 2, "bb"), want("mail.log", 1, "cc", "dd", "ee", "ff")...))
}

func TestLongLinesAreCut(t *testing.T) {
	dir := t.TempDir()
	log := filepath.Join(dir, "mail.log")
	appendFile(t, log)
	r := start(t, Options{Paths: []string{log}, MaxLine: 8})
	r.until("open", func(rec Record) bool { return rec.Kind == KindOpen })
	f, _ := os.OpenFile(log, os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString("0123")
	f.Sync()
	f.WriteString("456789abcdef\nshort\n12345678\r\nh\u00e9h\u00e9h\u00e9\n")
	f.Close()
	var got []Record
	deadline := time.After(10 * time.Second)
	for len(got) < 4 {
		select {
		case rec := <-r.recs:
			if rec.Kind == KindLine {
				got = append(got, rec)
			}
		case <-deadline:
			t.Fatal("timeout")
		}
	}
	type line struct {
		text string
		cut  bool
	}
	var lines []line
	for _, g := range got {
		lines = append(lines, line{g.Text, g.Truncated})
	}
	wantLines := []line{{"01234567", true}, {"short", false}, {"12345678", false}, {"h\u00e9h\u00e9h", true}}
	if !slices.Equal(lines, wantLines) {
		t.Errorf("got %+v, want %+v", lines, wantLines)
	}
	if off := got[3].Pos.Offset; off != int64(len("0123456789abcdef\nshort\n12345678\r\nh\u00e9h\u00e9h\u00e9\n")) {
		t.Errorf("offset %d after the cut lines", off)
	}
}

// TestRestartFromCheckpoint: positions written to a checkpoint after the
// lines that were processed; meanwhile the log grows and is rotated twice
// (rename + create, then copytruncate of the new file). The restarted
// follower reads exactly the lines not processed before.
func TestRestartFromCheckpoint(t *testing.T) {
	dir := t.TempDir()
	log := filepath.Join(dir, "mail.log")
	state := filepath.Join(dir, "state.json")
	appendFile(t, log, "before start")
	patterns := []string{log}

	r := start(t, Options{Paths: patterns})
	r.until("open", func(rec Record) bool { return rec.Kind == KindOpen })
	appendFile(t, log, "1", "2", "3")
	check(t, r.lines(2), want("mail.log", 2, "1", "2"))
	// Line 3 was read but not processed: the checkpoint stops before it.
	r.stop()
	if err := WriteCheckpoint(state, r.pos.Checkpoint(patterns)); err != nil {
		t.Fatal(err)
	}

	// While stopped: more lines, rotation by rename, a new file.
	appendFile(t, log, "4")
	os.Rename(log, log+".1")
	appendFile(t, log, "new 1")
	cp, err := ReadCheckpoint(state)
	if err != nil || cp == nil {
		t.Fatalf("ReadCheckpoint: %v, %v", cp, err)
	}
	r2 := start(t, Options{Paths: patterns, Resume: cp})
	got := r2.lines(3)
	check(t, got, append(want("mail.log", 4, "3", "4"), want("mail.log", 1, "new 1")...))
	r2.stop()
	WriteCheckpoint(state, r2.pos.Checkpoint(patterns))

	// Stopped again: the new file grows and is copied and truncated.
	appendFile(t, log, "new 2")
	data, _ := os.ReadFile(log)
	os.WriteFile(log+".2", data, 0o644)
	os.Truncate(log, 0)
	appendFile(t, log, "after truncate")
	cp, _ = ReadCheckpoint(state)
	r3 := start(t, Options{Paths: patterns, Resume: cp})
	check(t, r3.lines(2), append(want("mail.log", 2, "new 2"), want("mail.log", 1, "after truncate")...))
	r3.quiet(50 * time.Millisecond)
}

// TestRestartReadsNewFilesFromStart: a file that appeared while stopped,
// under a pattern the checkpoint covered, is read whole; the first start
// without a checkpoint skips what was there.
func TestRestartReadsNewFilesFromStart(t *testing.T) {
	dir := t.TempDir()
	pattern := filepath.Join(dir, "*.log")
	appendFile(t, filepath.Join(dir, "a.log"), "a old")
	r := start(t, Options{Paths: []string{pattern}})
	r.until("open", func(rec Record) bool { return rec.Kind == KindOpen })
	r.stop()
	cp := r.pos.Checkpoint([]string{pattern})
	appendFile(t, filepath.Join(dir, "b.log"), "b while stopped")
	r2 := start(t, Options{Paths: []string{pattern}, Resume: cp})
	check(t, r2.lines(1), want("b.log", 1, "b while stopped"))
	r2.quiet(50 * time.Millisecond)
}

func TestCheckpointFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "state.json")
	if cp, err := ReadCheckpoint(path); cp != nil || err != nil {
		t.Fatalf("missing checkpoint: %v, %v", cp, err)
	}
	in := &Checkpoint{Patterns: []string{"/var/log/mail.log"}, Files: []Position{{Stream: "/var/log/mail.log", Dev: 1, Ino: 2, Offset: 300, Line: 7, Head: "ab", HeadLen: 2}}}
	for range 2 { // the second write replaces the first
		if err := WriteCheckpoint(path, in); err != nil {
			t.Fatal(err)
		}
	}
	out, err := ReadCheckpoint(path)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(out.Files, in.Files) || !slices.Equal(out.Patterns, in.Patterns) {
		t.Errorf("read back %+v, want %+v", out, in)
	}
	ents, _ := os.ReadDir(dir)
	if len(ents) != 1 {
		t.Errorf("temporary files left: %v", ents)
	}
	os.WriteFile(path, []byte(`{"version": 99}`), 0o644)
	if _, err := ReadCheckpoint(path); err == nil || !strings.Contains(err.Error(), "version 99") {
		t.Errorf("other version: %v", err)
	}
	os.WriteFile(path, []byte(`{`), 0o644)
	if _, err := ReadCheckpoint(path); err == nil {
		t.Error("torn checkpoint accepted")
	}
}

func TestNewRejectsBadPatterns(t *testing.T) {
	if _, err := New(Options{}); err == nil {
		t.Error("no paths accepted")
	}
	if _, err := New(Options{Paths: []string{"/var/log/[mail.log"}}); err == nil {
		t.Error("bad glob accepted")
	}
}

// TestTruncatedAndRegrownBeforeRead: a file already read to its end is
// truncated and written past the old offset before the follower looks at
// it again. Nothing it holds at the old offset may be handed out: the file
// is read again from its start, each line once and whole.
func TestTruncatedAndRegrownBeforeRead(t *testing.T) {
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a.log"), filepath.Join(dir, "b.log")
	appendFile(t, a)
	appendFile(t, b, "aa", "bb")
	r := start(t, Options{Paths: []string{filepath.Join(dir, "*.log")}, FromStart: true})
	check(t, r.lines(2), want("b.log", 1, "aa", "bb"))
	// a.log sorts first: the follower stands still handing out x2 (read
	// in one piece with x1), before it gets to b.log in this poll.
	appendFile(t, a, "x1\nx2")
	check(t, r.lines(1), want("a.log", 1, "x1"))
	if err := os.WriteFile(b, []byte("cc\ndd\nee\nff\n"), 0o644); err != nil { // same inode
		t.Fatal(err)
	}
	check(t, r.lines(5), append(want("a.log", 2, "x2"), want("b.log", 1, "cc", "dd", "ee", "ff")...))
	r.quiet(50 * time.Millisecond)
}

// TestCopyTruncatedLongFileRegrownBeforeRead: the same with a file whose
// head is complete (over 1 KiB) and a copy left by copytruncate: the
// lines after the old offset come from the copy, then the new file whole.
func TestCopyTruncatedLongFileRegrownBeforeRead(t *testing.T) {
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a.log"), filepath.Join(dir, "b.log")
	appendFile(t, a)
	var old []string
	for i := range 40 {
		old = append(old, fmt.Sprintf("old line %02d %s", i, strings.Repeat("o", 40)))
	}
	appendFile(t, b, old...)
	r := start(t, Options{Paths: []string{filepath.Join(dir, "*.log")}, FromStart: true})
	check(t, r.lines(40), want("b.log", 1, old...))
	appendFile(t, a, "x1\nx2")
	check(t, r.lines(1), want("a.log", 1, "x1"))
	// Logrotate: one more line, the copy, the truncation; then the daemon
	// writes more than there was.
	appendFile(t, b, "last before rotation")
	data, _ := os.ReadFile(b)
	os.WriteFile(filepath.Join(dir, "b.log.1"), data, 0o644)
	os.Truncate(b, 0)
	var fresh []string
	for i := range 60 {
		fresh = append(fresh, fmt.Sprintf("new line %02d %s", i, strings.Repeat("n", 40)))
	}
	appendFile(t, b, fresh...)
	got := r.lines(62)
	check(t, got[:2], append(want("a.log", 2, "x2"), want("b.log", 41, "last before rotation")...))
	check(t, got[2:], want("b.log", 1, fresh...))
	r.quiet(50 * time.Millisecond)
}

// TestExactlyOnceUnderRotationAndRestarts drives a seeded mix of appends
// (whole lines and lines written in two pieces), rotations by rename and
// by copytruncate, new files under the glob, and restarts from the
// checkpoint with rotations while stopped; every line written must be
// handed out exactly once, whole. The processed positions are the
// checkpoint of a stop, as in detect run.
func TestExactlyOnceUnderRotationAndRestarts(t *testing.T) {
	for seed := range uint64(4) {
		t.Run(fmt.Sprint("seed ", seed), func(t *testing.T) { exactlyOnceScenario(t, seed) })
	}
}

func exactlyOnceScenario(t *testing.T, seed uint64) {
	dir := t.TempDir()
	pattern := filepath.Join(dir, "*.log")
	rng := rand.New(rand.NewPCG(seed, 7))
	files := []string{filepath.Join(dir, "a.log"), filepath.Join(dir, "b.log")}
	for _, f := range files {
		appendFile(t, f)
	}
	var (
		mu      sync.Mutex
		seen    = map[string]int{}
		written []string
		pos     Positions
		cp      *Checkpoint
		rotated int
	)
	// follow runs a follower until stop is called; every record it hands
	// out is processed (counted and applied to the positions) at once.
	follow := func() (stop func()) {
		fl, err := New(Options{Paths: []string{pattern}, Resume: cp, FromStart: true,
			Poll: 5 * time.Millisecond, DrainQuiet: 30 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() {
			done <- fl.Run(ctx, func(rec Record) error {
				mu.Lock()
				defer mu.Unlock()
				if ctx.Err() != nil {
					return ctx.Err() // stopping: this record is not processed
				}
				pos.Apply(rec)
				if rec.Kind == KindLine {
					seen[rec.Text]++
				}
				return nil
			})
		}()
		return func() {
			cancel()
			if err := <-done; err != nil && !errors.Is(err, context.Canceled) {
				t.Errorf("Run: %v", err)
			}
			mu.Lock()
			cp = pos.Checkpoint([]string{pattern})
			mu.Unlock()
		}
	}
	rotate := func(f string, copyTruncate bool) {
		rotated++
		to := fmt.Sprintf("%s.%d", f, rotated)
		if copyTruncate {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			os.WriteFile(to, data, 0o644)
			os.Truncate(f, 0)
			return
		}
		os.Rename(f, to)
		appendFile(t, f)
	}
	// settled reports whether the processed positions know the file now
	// at f: a line of its current content was processed. Only then is it
	// rotated (while stopped or not): a checkpoint takes one rotation it
	// did not see, not two, since the file in between is known to none;
	// and of a file at position 0 nothing tells the copy logrotate left
	// from an unrelated file.
	settled := func(f string) bool {
		data, err := os.ReadFile(f)
		if err != nil {
			return false
		}
		st, err := os.Stat(f)
		if err != nil {
			return false
		}
		id, _ := fileID(st)
		mu.Lock()
		p, ok := pos.m[id]
		mu.Unlock()
		return ok && p.Offset > 0 && int(p.Offset) <= len(data) && p.HeadLen <= len(data) &&
			headSum(data[:p.HeadLen]) == p.Head
	}
	n := 0
	line := func() string {
		n++
		s := fmt.Sprintf("line %d %s", n, strings.Repeat("x", rng.IntN(200)))
		written = append(written, s)
		return s
	}
	waitAll := func() {
		deadline := time.Now().Add(20 * time.Second)
		for {
			mu.Lock()
			got := len(seen)
			mu.Unlock()
			if got >= len(written) || time.Now().After(deadline) {
				return
			}
			time.Sleep(time.Millisecond) // polling the consumer's count
		}
	}
	rotations := map[bool]int{} // by whether the follower was stopped
	stop := follow()
	stopped := false
	for step := 0; step < 300; step++ {
		f := files[rng.IntN(len(files))]
		switch op := rng.IntN(22); {
		case op >= 20 && !stopped:
			waitAll() // the follower catches up, as it does between bursts
		case op < 12:
			appendFile(t, f, line())
		case op < 14: // a line in two writes: the follower may see half
			s := line()
			h, _ := os.OpenFile(f, os.O_APPEND|os.O_WRONLY, 0)
			h.WriteString(s[:len(s)/2])
			h.WriteString(s[len(s)/2:] + "\n")
			h.Close()
		case op < 16 && settled(f):
			rotate(f, op == 15)
			rotations[stopped]++
		case op == 16 && len(files) < 5:
			nf := filepath.Join(dir, fmt.Sprintf("n%d.log", len(files)))
			files = append(files, nf)
			appendFile(t, nf, line())
		case op >= 17 && op < 20:
			if stopped {
				stop = follow()
			} else {
				stop()
			}
			stopped = !stopped
		}
	}
	if stopped {
		stop = follow()
	}
	waitAll()
	stop()
	t.Logf("%d lines, %d rotations while following, %d while stopped", len(written), rotations[false], rotations[true])
	if rotations[false] == 0 || rotations[true] == 0 {
		t.Errorf("rotations: %d while following, %d while stopped; the scenario tests too little", rotations[false], rotations[true])
	}
	var bad []string
	for _, s := range written {
		if seen[s] != 1 {
			bad = append(bad, fmt.Sprintf("%q x%d", s[:min(len(s), 12)], seen[s]))
		}
	}
	if len(bad) > 0 || len(seen) != len(written) {
		t.Errorf("%d lines written, %d distinct read; not exactly once: %v", len(written), len(seen), bad)
	}
}

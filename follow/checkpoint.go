package follow

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
)

// checkpointVersion is written into every checkpoint; a file of another
// version is refused rather than misread.
const checkpointVersion = 1

// ID identifies a file independently of its name. Rotation renames files,
// and a restarted follower must find the file it was reading under its new
// name.
type ID struct{ Dev, Ino uint64 }

// Position is how far one file has been read: everything before Offset was
// handed out as complete lines.
type Position struct {
	// Stream is the followed path the file belongs to. A file keeps its
	// stream after it is rotated away (mail.log renamed to mail.log.1).
	Stream string `json:"stream"`
	Dev    uint64 `json:"dev"`
	Ino    uint64 `json:"ino"`
	// Offset is the byte where the next line starts; Line is the number of
	// lines before it.
	Offset int64 `json:"offset"`
	Line   int   `json:"line"`
	// Head is the SHA-256 of the file's first HeadLen bytes. An inode number
	// is reused once its file is deleted, and a truncated file keeps its
	// inode: the head tells the file we read from another one.
	Head    string `json:"head"`
	HeadLen int    `json:"head_len"`
}

// ID returns the identity of the file the position is in.
func (p Position) ID() ID { return ID{p.Dev, p.Ino} }

// Checkpoint is what a follower needs to resume: the paths it followed and
// where it stood in every file it had open.
type Checkpoint struct {
	Version int `json:"version"`
	// Patterns are the followed paths and globs. A file that matches one of
	// them but has no position appeared after the checkpoint was written,
	// so it is read from its start.
	Patterns []string   `json:"patterns"`
	Files    []Position `json:"files"`
}

// ReadCheckpoint reads a checkpoint written by WriteCheckpoint. A missing
// file is not an error: it returns nil, nil (the first start).
func ReadCheckpoint(path string) (*Checkpoint, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("checkpoint: %w", err)
	}
	var c Checkpoint
	if err := json.Unmarshal(data, &c); err != nil {
		return nil, fmt.Errorf("checkpoint %s: %w", path, err)
	}
	if c.Version != checkpointVersion {
		return nil, fmt.Errorf("checkpoint %s: version %d, want %d", path, c.Version, checkpointVersion)
	}
	return &c, nil
}

// WriteCheckpoint replaces the checkpoint at path atomically: it writes a
// temporary file beside it, syncs it, renames it over path and syncs the
// directory, so a crash leaves either the old checkpoint or the new one,
// never a torn file.
func WriteCheckpoint(path string, c *Checkpoint) error {
	c.Version = checkpointVersion
	data, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	done := false
	defer func() {
		if !done {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if _, err := tmp.Write(append(data, '\n')); err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	done = true
	// The rename is durable only once the directory entry is.
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
	return nil
}

// CheckCheckpointPath reports whether WriteCheckpoint can write at path:
// its directory must take a temporary file. A caller checks it at start,
// so that a checkpoint that could never be written is a configuration
// error, not a log line every second while nothing is saved.
func CheckCheckpointPath(path string) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	tmp.Close()
	return os.Remove(tmp.Name())
}

// headSum is the Head of a position.
func headSum(head []byte) string {
	s := sha256.Sum256(head)
	return hex.EncodeToString(s[:])
}

// Positions keeps the position of every open file from the records of a
// Follower, as far as the caller has processed them, to make checkpoints.
// The zero value is ready to use; it is not safe for concurrent use.
type Positions struct {
	m map[ID]Position
}

// Apply records that rec has been fully processed.
func (ps *Positions) Apply(rec Record) {
	if ps.m == nil {
		ps.m = map[ID]Position{}
	}
	if rec.Kind == KindClose {
		delete(ps.m, rec.Pos.ID())
		return
	}
	ps.m[rec.Pos.ID()] = rec.Pos
}

// Len is the number of files held.
func (ps *Positions) Len() int { return len(ps.m) }

// Checkpoint returns the positions as a checkpoint of the given patterns,
// sorted by stream, then offset.
func (ps *Positions) Checkpoint(patterns []string) *Checkpoint {
	c := &Checkpoint{Version: checkpointVersion, Patterns: append([]string(nil), patterns...)}
	for _, p := range ps.m {
		c.Files = append(c.Files, p)
	}
	sort.Slice(c.Files, func(i, j int) bool {
		a, b := c.Files[i], c.Files[j]
		if a.Stream != b.Stream {
			return a.Stream < b.Stream
		}
		if a.Ino != b.Ino {
			return a.Ino < b.Ino
		}
		return a.Offset < b.Offset
	})
	return c
}

package source

import (
	"cmp"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
)

// Rotation classes, in reading order within one family of rotated logs.
// Numbered files come before dated ones: when an admin switches logrotate to
// dateext, the old numbered files stay behind and are the oldest.
const (
	classNumbered = iota // mail.log.3, mail.log.1.gz
	classDated           // mail.log-20260101, mail.log-2026-01-01.gz
	classCurrent         // mail.log, and every file that is not a rotation
)

// compressionExts are stripped before looking for a rotation suffix, so that
// mail.log.2.gz and mail.log.1 belong to the same family. Formats we cannot
// read are listed too: their files still sort into place, and Open reports
// them clearly.
var compressionExts = []string{".gz", ".bz2", ".zst", ".zstd", ".xz", ".lz4", ".bz", ".z"}

var (
	// A logrotate dateext suffix (-%Y%m%d by default), optionally with an
	// hour or time and an epoch or counter (dateformat -%Y%m%d-%s).
	datedRe = regexp.MustCompile(`^(.+?)[-_.]((?:19|20)\d\d)-?(0[1-9]|1[0-2])-?(0[1-9]|[12]\d|3[01])((?:[-_T.]?\d+)*)$`)
	// A numeric rotation suffix as logrotate and savelog write it.
	numberedRe = regexp.MustCompile(`^(.+)\.(\d+)$`)
)

type rotKey struct {
	dir        []string // directory components, compared one by one
	stem       string   // family name: the current file's name
	class      int
	seq        string // digits of the number or date; leading zeros trimmed for numbers
	compressed bool
	base       string
	path       string
}

func keyOf(path string) rotKey {
	dir, base := filepath.Split(path)
	k := rotKey{
		dir:   strings.Split(filepath.Clean(dir), string(filepath.Separator)),
		stem:  base,
		class: classCurrent,
		base:  base,
		path:  path,
	}
	name := base
	lower := strings.ToLower(name)
	for _, ext := range compressionExts {
		if strings.HasSuffix(lower, ext) && len(name) > len(ext) {
			name = name[:len(name)-len(ext)]
			k.compressed = true
			break
		}
	}
	// Dates first: an 8-digit suffix that is a valid date is a day, not the
	// 20-millionth rotation, and must sort ascending.
	if m := datedRe.FindStringSubmatch(name); m != nil {
		k.stem, k.class = m[1], classDated
		k.seq = m[2] + m[3] + m[4] + strings.Map(keepDigits, m[5])
		return k
	}
	if m := numberedRe.FindStringSubmatch(name); m != nil {
		k.stem, k.class = m[1], classNumbered
		k.seq = strings.TrimLeft(m[2], "0")
		return k
	}
	k.stem = name
	return k
}

func keepDigits(r rune) rune {
	if r >= '0' && r <= '9' {
		return r
	}
	return -1
}

// compareNumbers compares decimal digit strings without leading zeros by
// value, with no limit on their length (no overflow on silly suffixes).
func compareNumbers(a, b string) int {
	if c := cmp.Compare(len(a), len(b)); c != 0 {
		return c
	}
	return strings.Compare(a, b)
}

func compareKeys(a, b rotKey) int {
	if c := slices.Compare(a.dir, b.dir); c != 0 {
		return c
	}
	if c := strings.Compare(a.stem, b.stem); c != 0 {
		return c
	}
	if c := cmp.Compare(a.class, b.class); c != 0 {
		return c
	}
	switch a.class {
	case classNumbered:
		// Higher numbers are older: read them first.
		if c := compareNumbers(b.seq, a.seq); c != 0 {
			return c
		}
	case classDated:
		// Same-format dates compare as strings; a shorter stamp (day only)
		// is the start of the longer one's day, so it comes first.
		if c := strings.Compare(a.seq, b.seq); c != 0 {
			return c
		}
	}
	// Both mail.log.1 and mail.log.1.gz exist only in the middle of a
	// rotation; the compressed copy is the one that was there before.
	if a.compressed != b.compressed {
		if a.compressed {
			return -1
		}
		return 1
	}
	if c := strings.Compare(a.base, b.base); c != 0 {
		return c
	}
	return strings.Compare(a.path, b.path)
}

// SortRotated returns paths in reading order without modifying its argument.
//
// Paths are grouped by directory (parents before their subdirectories).
// Within a directory, files of one rotation family are ordered oldest first:
// numbered rotations by descending number (mail.log.10.gz, ..., mail.log.2.gz,
// mail.log.1), then date-suffixed rotations by ascending date
// (mail.log-20260101.gz, mail.log-20260102), then the current file (mail.log).
// A compression extension (.gz, .bz2, .zst, ...) does not change a file's
// place. Families and unrelated files are ordered by name.
func SortRotated(paths []string) []string {
	keys := make([]rotKey, len(paths))
	for i, p := range paths {
		keys[i] = keyOf(p)
	}
	slices.SortFunc(keys, compareKeys)
	out := make([]string, len(keys))
	for i, k := range keys {
		out[i] = k.path
	}
	return out
}

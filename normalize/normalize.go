// Package normalize turns raw log lines of many formats into schema.Events.
// One parser per format lives in its own package (normalize/postfix, ...)
// and registers itself here by name; callers pick a format or let Detect
// guess it from the first lines.
//
// Parsers are stateful (Postfix stitches a message's lines by queue id) and
// not safe for concurrent use: run one parser per input stream.
package normalize

import (
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/detect-dev/detect/schema"
)

// Result says what a parser made of one line. Every line gets exactly one,
// so the scan summary can account for all input: nothing is dropped silently.
type Result uint8

const (
	// Understood lines produced events or fed state that will (a message's
	// from=, client=, message-id= lines).
	Understood Result = iota
	// Ignored lines were recognized and deliberately skipped as noise
	// (connect/disconnect, TLS chatter, postscreen, anvil statistics).
	Ignored
	// NotUnderstood lines could not be parsed; they are counted and sampled.
	NotUnderstood
)

func (r Result) String() string {
	switch r {
	case Understood:
		return "understood"
	case Ignored:
		return "ignored"
	case NotUnderstood:
		return "not understood"
	}
	return fmt.Sprintf("result(%d)", uint8(r))
}

// Emit receives each event a parser produces. The event is owned by the
// receiver from then on.
type Emit func(*schema.Event)

// Parser parses one input stream.
type Parser interface {
	// Parse handles one line, calling emit for every event it completes.
	Parse(line schema.Line, emit Emit) Result
	// Flush emits whatever state is still pending at end of input.
	Flush(emit Emit)
	// Stats reports parser-specific counters for the scan summary, such as
	// messages flushed without ever seeing `removed`.
	Stats() map[string]int
}

// Options configure parsers. The zero value is usable.
type Options struct {
	// Year for syslog timestamps that carry none (RFC 3164). 0 means infer:
	// from ModTime, else from the newest RFC 3339 stamp seen, else Now.
	Year int
	// ModTime of the file being parsed, when known; syslog lines are assumed
	// to be no later than it (this is how the December -> January roll
	// is resolved for archives).
	ModTime time.Time
	// Now is the clock used when nothing better is known (tests set it).
	Now func() time.Time
	// Location for timestamps without a zone (default UTC).
	Location *time.Location
	// MaxQueueAge bounds per-message state: a message not seen for this long
	// (in event time) is flushed and counted. 0 means the default (24h).
	MaxQueueAge time.Duration
}

// Factory builds a parser for one input stream.
type Factory func(Options) Parser

var (
	mu       sync.RWMutex
	registry = map[string]Factory{}
)

// Register makes a format available by name. It panics on duplicates, as
// registration happens in init functions.
func Register(name string, f Factory) {
	mu.Lock()
	defer mu.Unlock()
	if _, dup := registry[name]; dup {
		panic("normalize: format registered twice: " + name)
	}
	registry[name] = f
}

// New returns a parser for the named format.
func New(name string, opts Options) (Parser, error) {
	mu.RLock()
	f, ok := registry[name]
	mu.RUnlock()
	if !ok {
		return nil, fmt.Errorf("unknown format %q (known: %v)", name, Formats())
	}
	return f(opts), nil
}

// Formats lists the registered format names, sorted.
func Formats() []string {
	mu.RLock()
	defer mu.RUnlock()
	names := make([]string, 0, len(registry))
	for n := range registry {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// FileAware is implemented by parsers that want to know when the next input
// file starts. One parser instance reads all files of a format in order, so
// per-message state (Postfix queue ids) carries across rotated files, while
// year inference can still use each file's modification time.
type FileAware interface {
	BeginFile(path string, modTime time.Time)
}

// Sniff guesses the format of a stream from its first non-blank line: "json"
// for a JSON object, "postfix" for a Postfix syslog line, "" when it cannot
// tell (callers then use their default).
func Sniff(firstLine string) string {
	t := strings.TrimLeft(firstLine, " \t\ufeff")
	switch {
	case strings.HasPrefix(t, "{"):
		return "json"
	case strings.Contains(t, " postfix/") || strings.Contains(t, " postfix-"):
		return "postfix"
	}
	return ""
}

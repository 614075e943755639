package main

import (
	"os"
	"runtime/debug"
)

// Garbage collector settings for the commands that read whole archives.
// A scan allocates a string per line and an event per delivery, most of it
// short-lived, while its live heap (correlation windows, parser state)
// stays far smaller than the 256 MiB it may use: collecting at three times
// the live heap instead of twice saves about a tenth of the CPU time of a
// scan of the embedded pack, and the soft limit makes the collector work
// harder instead of letting the heap grow past it.
const (
	scanGCPercent   = 200
	scanMemoryLimit = 192 << 20
)

// tuneGC applies the settings above, unless the user set GOGC or
// GOMEMLIMIT, which always win.
func tuneGC() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(scanGCPercent)
	}
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(scanMemoryLimit)
	}
}

//go:build race

package sigma

// raceEnabled is set in -race builds, where sync.Pool (used by regexp)
// drops items on purpose and allocation counts mean nothing.
const raceEnabled = true

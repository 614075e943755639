package main

import (
	"math"
	"runtime/debug"
	"testing"
)

func TestTuneGCLeavesUserSettingsAlone(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(100))
	defer debug.SetMemoryLimit(debug.SetMemoryLimit(math.MaxInt64))

	t.Setenv("GOGC", "")
	t.Setenv("GOMEMLIMIT", "")
	tuneGC()
	if got := debug.SetGCPercent(100); got != scanGCPercent {
		t.Errorf("GC percent %d, want %d", got, scanGCPercent)
	}
	if got := debug.SetMemoryLimit(math.MaxInt64); got != scanMemoryLimit {
		t.Errorf("memory limit %d, want %d", got, scanMemoryLimit)
	}

	t.Setenv("GOGC", "100")
	t.Setenv("GOMEMLIMIT", "1GiB")
	tuneGC()
	if got := debug.SetGCPercent(100); got != 100 {
		t.Errorf("GOGC is set, yet the GC percent became %d", got)
	}
	if got := debug.SetMemoryLimit(math.MaxInt64); got != math.MaxInt64 {
		t.Errorf("GOMEMLIMIT is set, yet the limit became %d", got)
	}
}

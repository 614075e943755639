package main

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// TestScanWritesProfiles checks that --cpuprofile and --memprofile leave
// pprof files (gzip-compressed protocol buffers) behind, and that the
// alerts are the same as without them.
func TestScanWritesProfiles(t *testing.T) {
	dir := t.TempDir()
	cpu, mem := filepath.Join(dir, "cpu.prof"), filepath.Join(dir, "mem.prof")
	code, withProfiles, errOut := detect(t, "", "scan", "-q", "--cpuprofile", cpu, "-memprofile", mem, sample)
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, errOut)
	}
	_, plain, _ := detect(t, "", "scan", "-q", sample)
	if withProfiles != plain {
		t.Errorf("alerts differ with profiling on")
	}
	checkProfiles(t, cpu, mem)
}

// checkProfiles fails unless every path holds a pprof file.
func checkProfiles(t *testing.T, paths ...string) {
	t.Helper()
	for _, path := range paths {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.HasPrefix(b, []byte{0x1f, 0x8b}) {
			t.Errorf("%s is not a pprof file (%d bytes)", filepath.Base(path), len(b))
		}
	}
}

func TestScanProfileToBadPathIsUsageError(t *testing.T) {
	code, _, errOut := detect(t, "", "scan", "--cpuprofile", filepath.Join(t.TempDir(), "no", "such", "dir", "cpu.prof"), sample)
	if code != exitUsage || !bytes.Contains([]byte(errOut), []byte("--cpuprofile")) {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
}

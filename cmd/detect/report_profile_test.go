package main

import (
	"path/filepath"
	"testing"
)

// TestReportWritesProfiles: report takes --cpuprofile and --memprofile as
// scan does, and prints the same report with them.
func TestReportWritesProfiles(t *testing.T) {
	dir := t.TempDir()
	cpu, mem := filepath.Join(dir, "cpu.prof"), filepath.Join(dir, "mem.prof")
	code, withProfiles, errOut := detect(t, "", "report", "-q", "--no-rules", "--cpuprofile", cpu, "--memprofile", mem, filterLog)
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, errOut)
	}
	_, plain, _ := detect(t, "", "report", "-q", "--no-rules", filterLog)
	if withProfiles != plain {
		t.Errorf("report differs with profiling on")
	}
	checkProfiles(t, cpu, mem)
}

package main

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

func TestGenIsSeededAndScans(t *testing.T) {
	code, a, errA := detect(t, "", "gen", "--lines", "3000", "--seed", "9", "--days", "0.2")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errA)
	}
	_, b, _ := detect(t, "", "gen", "--lines", "3000", "--seed", "9", "--days", "0.2")
	if a != b {
		t.Fatal("the same flags gave different logs")
	}
	if n := strings.Count(a, "\n"); !strings.HasPrefix(errA, "lines ") || !strings.Contains(errA, "\nreceived ") ||
		!strings.HasPrefix(errA, "lines "+strconv.Itoa(n)+"\n") {
		t.Fatalf("counts on stderr do not match the %d lines written:\n%s", n, errA)
	}
	code, _, summary := detect(t, a, "scan", "--strict", "-")
	if code != 0 {
		t.Fatalf("scan of the generated log: exit %d\n%s", code, summary)
	}
}

func TestGenWritesFileWithPlant(t *testing.T) {
	path := filepath.Join(t.TempDir(), "mail.log")
	code, out, errOut := detect(t, "", "gen", "--lines", "2000", "--days", "0.1", "--plant-burst", "--burst-messages", "7", "--burst-failures", "3", "-o", path)
	if code != 0 || out != "" {
		t.Fatalf("exit %d, stdout %d bytes: %s", code, len(out), errOut)
	}
	if !strings.Contains(errOut, "planted: sender burst 7 messages, SASL brute force 3 failures") {
		t.Errorf("stderr: %s", errOut)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), "sasl_username=j.miller@corp.example") {
		t.Error("the planted sender's logins are not in the log")
	}
}

func TestGenRejectsBadFlags(t *testing.T) {
	for _, args := range [][]string{{"gen", "--lines", "0"}, {"gen", "--days", "-1"}, {"gen", "extra"}} {
		if code, _, _ := detect(t, "", args...); code != exitUsage {
			t.Errorf("%v: exit %d, want %d", args, code, exitUsage)
		}
	}
}

// "-o -" means stdout, as "-" means stdin for scan: it must not create a
// file named "-" in the working directory.
func TestGenDashIsStdout(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	code, out, errOut := detect(t, "", "gen", "--lines", "200", "--days", "0.01", "-o", "-")
	if code != 0 || !strings.Contains(out, "postfix/") {
		t.Fatalf("exit %d, stdout %d bytes: %s", code, len(out), errOut)
	}
	if _, err := os.Stat(filepath.Join(dir, "-")); err == nil {
		t.Fatal(`gen -o - created a file named "-"`)
	}
}

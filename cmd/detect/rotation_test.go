package main

import (
	"compress/gzip"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestRotatedDirectoryStitchesAcrossFiles splits the sample log in the middle
// of a message (its qmgr line in the older, gzipped file, its delivery in the
// current one): scanning the directory must give exactly the alerts of the
// unsplit file, which needs oldest-first order, transparent gzip and queue
// state that survives the file boundary.
func TestRotatedDirectoryStitchesAcrossFiles(t *testing.T) {
	data, err := os.ReadFile(sample)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.SplitAfter(string(data), "\n")
	cut := -1
	for i, l := range lines {
		if strings.Contains(l, "4NxKFN0Wq9z9tQ3: from=<billing@") {
			cut = i + 1
			break
		}
	}
	if cut < 0 {
		t.Fatal("sample changed: split point not found")
	}
	dir := t.TempDir()
	f, err := os.Create(filepath.Join(dir, "mail.log.1.gz"))
	if err != nil {
		t.Fatal(err)
	}
	zw := gzip.NewWriter(f)
	if _, err := zw.Write([]byte(strings.Join(lines[:cut], ""))); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	f.Close()
	if err := os.WriteFile(filepath.Join(dir, "mail.log"), []byte(strings.Join(lines[cut:], "")), 0o644); err != nil {
		t.Fatal(err)
	}

	_, whole, _ := detect(t, "", "scan", sample)
	code, split, errOut := detect(t, "", "scan", dir)
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, errOut)
	}
	// Alerts carry their source file and line, which differ; compare the rest.
	norm := func(s string) string {
		s = strings.ReplaceAll(s, sample, "F")
		s = strings.ReplaceAll(s, filepath.Join(dir, "mail.log.1.gz"), "F")
		return strings.ReplaceAll(s, filepath.Join(dir, "mail.log"), "F")
	}
	if got, want := alertTitles(t, split), alertTitles(t, whole); strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("alerts differ:\n-%v\n+%v", want, got)
	}
	if !strings.Contains(norm(split), `"message_id":"ab12cd34@hosting.example"`) {
		t.Errorf("split message lost its cleanup data:\n%s", split)
	}
	if !strings.Contains(errOut, "read 2 files, 64 lines") {
		t.Errorf("summary: %s", errOut)
	}
}

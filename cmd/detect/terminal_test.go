package main

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// TestNotTerminal: outputs that are not terminals must get plain output,
// /dev/null above all: it is a character device, which the old check took
// for a terminal.
func TestNotTerminal(t *testing.T) {
	devNull, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer devNull.Close()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	file, err := os.Create(filepath.Join(t.TempDir(), "out"))
	if err != nil {
		t.Fatal(err)
	}
	defer file.Close()
	for name, w := range map[string]any{os.DevNull: devNull, "pipe": w, "file": file, "buffer": new(bytes.Buffer)} {
		if isTerminal(w) {
			t.Errorf("isTerminal(%s) = true, want false", name)
		}
	}
}

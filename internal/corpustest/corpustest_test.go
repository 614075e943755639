package corpustest

import (
	"os"
	"path/filepath"
	"testing"
)

func TestRootPointsNextToTheRepository(t *testing.T) {
	root, err := filepath.Abs(Root())
	if err != nil {
		t.Fatal(err)
	}
	repo, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(filepath.Dir(repo), "shared", "corpus"); root != want {
		t.Fatalf("Root() = %s, want %s", root, want)
	}
	if _, err := os.Stat(filepath.Join(repo, "go.mod")); err != nil {
		t.Fatalf("%s is not the repository root", repo)
	}
}

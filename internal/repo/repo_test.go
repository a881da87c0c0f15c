package repo

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRootSkipsNestedModules(t *testing.T) {
	dir := t.TempDir()
	write := func(rel, content string) {
		p := filepath.Join(dir, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("repo/go.mod", "// comment\nmodule "+ModulePath+" // trailing\n\ngo 1.26\n")
	write("repo/tools/go.mod", "module example.com/tools\n")
	root, err := Root(filepath.Join(dir, "repo", "tools"))
	if err != nil || root != filepath.Join(dir, "repo") {
		t.Fatalf("Root = %q, %v", root, err)
	}
	if _, err := Root(t.TempDir()); !errors.Is(err, ErrNotFound) {
		t.Fatalf("outside a repository: %v", err)
	}
}

func TestCIFAR10(t *testing.T) {
	p, err := CIFAR10("test.tar.gz")
	if err != nil {
		t.Fatalf("the shared CIFAR-10 archives must sit beside the repository: %v", err)
	}
	if filepath.Base(p) != "test.tar.gz" {
		t.Errorf("path %s", p)
	}
	t.Setenv(EnvCIFAR10, t.TempDir())
	if _, err := CIFAR10("test.tar.gz"); !errors.Is(err, ErrNotFound) {
		t.Errorf("empty %s folder: %v", EnvCIFAR10, err)
	}
}

func TestCIFAR10Files(t *testing.T) {
	files, err := CIFAR10Files("test.tar.gz", 3)
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 3 {
		t.Fatalf("%d files", len(files))
	}
	for _, f := range files {
		if !strings.HasPrefix(f.Name, "test/") || len(f.Data) < 4 || f.Data[0] != 0xFF || f.Data[1] != 0xD8 {
			t.Errorf("%s: %d bytes, not a JPEG from the test split", f.Name, len(f.Data))
		}
	}
	if _, err := CIFAR10Files("test.tar.gz", 20000); err == nil {
		t.Error("asking for more images than the archive holds must fail")
	}
}

func TestSelectArchiveFiles(t *testing.T) {
	path, err := CIFAR10("test.tar.gz")
	if err != nil {
		t.Fatal(err)
	}
	// Keep every other file of the first 200.
	seen := 0
	odd, err := SelectArchiveFiles(path, func(name string) (keep, more bool) {
		seen++
		return seen%2 == 0, seen < 200
	})
	if err != nil {
		t.Fatal(err)
	}
	if seen != 200 {
		t.Errorf("take saw %d names after asking to stop at 200", seen)
	}
	all, err := ArchiveFiles(path, 200)
	if err != nil {
		t.Fatal(err)
	}
	if len(odd) != 100 {
		t.Fatalf("kept %d files, want 100", len(odd))
	}
	for i, f := range odd {
		if want := all[2*i+1]; f.Name != want.Name || !bytes.Equal(f.Data, want.Data) {
			t.Fatalf("kept file %d is %s, want %s", i, f.Name, want.Name)
		}
	}
}

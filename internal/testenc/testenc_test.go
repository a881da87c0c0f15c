package testenc

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestCacheKey(t *testing.T) {
	root := t.TempDir()
	write := func(rel, content string) {
		t.Helper()
		path := filepath.Join(root, rel)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("go.mod", "module example\n")
	write("go.sum", "")
	write("trainer/a.go", "package a\n")
	write("models/b.go", "package b\n")
	write("internal/c/c.go", "package c\n")
	key := func() string {
		t.Helper()
		k, err := cacheKey(root)
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	k0 := key()
	if k0 != key() {
		t.Fatal("key not stable")
	}
	write("trainer/a_test.go", "package a\n")
	write("edge/e.go", "package e\n")
	write("models/notes.md", "x")
	if key() != k0 {
		t.Error("tests, other folders or non-Go files changed the key")
	}
	write("internal/c/c.go", "package c // changed\n")
	if key() == k0 {
		t.Error("a changed source file kept the key")
	}
}

func TestLockExcludes(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.lock")
	unlock, err := lock(path)
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan time.Time)
	go func() {
		unlock2, err := lock(path)
		if err != nil {
			t.Error(err)
		}
		got <- time.Now()
		unlock2()
	}()
	time.Sleep(50 * time.Millisecond)
	released := time.Now()
	unlock()
	if at := <-got; at.Before(released) {
		t.Error("a second lock was granted while the first was held")
	}
}

func TestSkipsUnderShort(t *testing.T) {
	if !testing.Short() {
		t.Skip("checks the -short behaviour")
	}
	ran := false
	t.Run("pretrained", func(t *testing.T) {
		Pretrained(t)
		ran = true
	})
	if ran {
		t.Error("Pretrained did not skip under -short")
	}
}

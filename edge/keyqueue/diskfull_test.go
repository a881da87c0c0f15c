package keyqueue

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
)

// limitFS is an FS whose disk fills up: writes beyond its byte budget fail
// with ENOSPC after writing what fits, like a real full disk. It can also
// fail fsyncs and truncations on demand.
type limitFS struct {
	FS
	mu            sync.Mutex
	left          int64 // bytes that may still be written; negative = unlimited
	failSync      bool
	failTruncates int
}

// setLeft sets the remaining budget.
func (l *limitFS) setLeft(n int64) { l.mu.Lock(); l.left = n; l.mu.Unlock() }

// take reserves up to n bytes of the budget and returns how many it got.
func (l *limitFS) take(n int) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.left < 0 {
		return n
	}
	got := int(min(int64(n), l.left))
	l.left -= int64(got)
	return got
}

func (l *limitFS) OpenFile(name string, flag int) (File, error) {
	l.mu.Lock()
	full := l.left == 0
	l.mu.Unlock()
	if full && flag&os.O_CREATE != 0 {
		if _, err := os.Stat(name); errors.Is(err, fs.ErrNotExist) {
			return nil, &fs.PathError{Op: "open", Path: name, Err: syscall.ENOSPC}
		}
	}
	f, err := l.FS.OpenFile(name, flag)
	if err != nil {
		return nil, err
	}
	return &limitFile{File: f, fs: l}, nil
}

// limitFile charges its writes to its limitFS.
type limitFile struct {
	File
	fs *limitFS
}

func (f *limitFile) WriteAt(b []byte, off int64) (int, error) {
	n := f.fs.take(len(b))
	if n < len(b) {
		w, err := f.File.WriteAt(b[:n], off)
		if err != nil {
			return w, err
		}
		return w, &fs.PathError{Op: "write", Path: "segment", Err: syscall.ENOSPC}
	}
	return f.File.WriteAt(b, off)
}

func (f *limitFile) Sync() error {
	f.fs.mu.Lock()
	fail := f.fs.failSync
	f.fs.mu.Unlock()
	if fail {
		return &fs.PathError{Op: "fsync", Path: "segment", Err: syscall.EIO}
	}
	return f.File.Sync()
}

func (f *limitFile) Truncate(size int64) error {
	f.fs.mu.Lock()
	fail := f.fs.failTruncates > 0
	if fail {
		f.fs.failTruncates--
	}
	f.fs.mu.Unlock()
	if fail {
		return &fs.PathError{Op: "truncate", Path: "segment", Err: syscall.EIO}
	}
	return f.File.Truncate(size)
}

func TestDiskFull(t *testing.T) {
	g := genSpec{dim: 16, thumb: 300}
	// Budgets chosen to run out at different places: inside a record's
	// header, inside its body, when a segment rotates, right away.
	budgets := []int64{0, 1, 7, 9, 100, 500, 1000, 3000, 5000, 9000}
	for _, budget := range budgets {
		t.Run(fmt.Sprint(budget), func(t *testing.T) {
			dir := t.TempDir()
			lfs := &limitFS{FS: OSFS(), left: -1}
			opts := Options{Capacity: 30, SegmentBytes: MinSegmentBytes, FS: lfs}
			q := mustOpen(t, dir, opts)
			appendN(t, q, g, 20)
			lfs.setLeft(budget)
			var lastErr error
			for range 100 {
				next := q.Stats().NextID
				if _, err := q.Append(g.gen(next)); err != nil {
					lastErr = err
					break
				}
			}
			if !errors.Is(lastErr, syscall.ENOSPC) {
				t.Fatalf("Append on a full disk: %v, want ENOSPC", lastErr)
			}
			last := q.Stats().NextID - 1
			if err := q.SetLabel(last, "x"); !errors.Is(err, syscall.ENOSPC) {
				t.Fatalf("SetLabel on a full disk: %v", err)
			}
			if err := q.Compact(context.Background()); !errors.Is(err, syscall.ENOSPC) {
				t.Fatalf("Compact on a full disk: %v", err)
			}
			if m, _ := filepath.Glob(filepath.Join(dir, "*"+tmpExt)); len(m) != 0 {
				t.Fatalf("failed compaction left %v", m)
			}
			first := last - uint64(q.Len()) + 1
			checkRange := func(q *Queue, first, last uint64, label string) {
				t.Helper()
				if got := ids(t, q); len(got) != int(last-first+1) || got[0] != first || got[len(got)-1] != last {
					t.Fatalf("ids %v, want %d..%d", got, first, last)
				}
				for id := first; id <= last; id++ {
					e, err := q.Get(id)
					if err != nil {
						t.Fatal(err)
					}
					l := ""
					if id == last {
						l = label
					}
					checkEntry(t, g, e, id, l)
					checkThumb(t, q, g, id)
				}
			}
			checkRange(q, first, last, "")

			// Space returns: the queue carries on where it was.
			lfs.setLeft(-1)
			appendN(t, q, g, 15)
			if err := q.SetLabel(last+15, "x"); err != nil {
				t.Fatal(err)
			}
			checkRange(q, last+15-29, last+15, "x")
			if err := q.Close(); err != nil {
				t.Fatal(err)
			}
			q = mustOpen(t, dir, Options{Capacity: 30, SegmentBytes: MinSegmentBytes})
			if r := q.Recovery(); len(r.Damage) != 0 {
				t.Fatalf("damage after a full disk: %v", r.Damage)
			}
			checkRange(q, last+15-29, last+15, "x")
		})
	}
}

func TestFailedUndoIsRetried(t *testing.T) {
	g := genSpec{dim: 8, thumb: 100}
	dir := t.TempDir()
	lfs := &limitFS{FS: OSFS(), left: -1}
	q := mustOpen(t, dir, Options{Capacity: 100, FS: lfs})
	appendN(t, q, g, 3)
	lfs.mu.Lock()
	lfs.left, lfs.failTruncates = 50, 2 // partial write, then the undo and its first retry fail
	lfs.mu.Unlock()
	if _, err := q.Append(g.gen(4)); !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("Append: %v", err)
	}
	lfs.setLeft(-1)
	if _, err := q.Append(g.gen(4)); err == nil || !errors.Is(err, syscall.EIO) {
		t.Fatalf("Append while the undo still fails: %v", err)
	}
	appendN(t, q, g, 2)
	q.Close()
	q = mustOpen(t, dir, Options{Capacity: 100})
	if r := q.Recovery(); len(r.Damage) != 0 || q.Len() != 5 {
		t.Fatalf("after a retried undo: %d entries, damage %v", q.Len(), r.Damage)
	}
	checkIntact(t, q, g, 1, 5)
}

func TestFailedSyncBreaksTheQueue(t *testing.T) {
	g := genSpec{dim: 8}
	dir := t.TempDir()
	lfs := &limitFS{FS: OSFS(), left: -1}
	q := mustOpen(t, dir, Options{Capacity: 100, FS: lfs, SyncEvery: 1, SyncInterval: -1})
	appendN(t, q, g, 3)
	lfs.mu.Lock()
	lfs.failSync = true
	lfs.mu.Unlock()
	if _, err := q.Append(g.gen(4)); !errors.Is(err, ErrBroken) || !errors.Is(err, syscall.EIO) {
		t.Fatalf("Append whose fsync fails: %v", err)
	}
	if _, err := q.Append(g.gen(4)); !errors.Is(err, ErrBroken) {
		t.Fatalf("Append after a failed fsync: %v", err)
	}
	if err := q.Sync(); !errors.Is(err, ErrBroken) {
		t.Fatalf("Sync after a failed fsync: %v", err)
	}
	if _, err := q.Get(3); err != nil {
		t.Fatalf("reads stop after a failed fsync: %v", err)
	}
	q.Close()
	q = mustOpen(t, dir, Options{Capacity: 100})
	if n := q.Len(); n != 3 && n != 4 {
		t.Fatalf("reopened with %d entries, want 3 or 4", n)
	}
}

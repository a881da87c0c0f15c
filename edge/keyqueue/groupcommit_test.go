package keyqueue

import (
	"testing"
	"time"
)

// gateFS is an FS whose fsyncs block until released, so a test can watch
// what appends do while a sync is in flight.
type gateFS struct {
	FS
	started chan struct{} // receives when an fsync starts
	release chan struct{} // an fsync returns when it receives
}

func (g *gateFS) OpenFile(name string, flag int) (File, error) {
	f, err := g.FS.OpenFile(name, flag)
	if err != nil {
		return nil, err
	}
	return &gateFile{File: f, g: g}, nil
}

type gateFile struct {
	File
	g *gateFS
}

func (f *gateFile) Sync() error {
	f.g.started <- struct{}{}
	<-f.g.release
	return f.File.Sync()
}

// TestGroupCommit: the SyncEvery fsync runs in the background while
// appends continue; an append waits for an fsync only at 2×SyncEvery
// unsynced records, the bound the sync policy documents.
func TestGroupCommit(t *testing.T) {
	g := &gateFS{FS: OSFS(), started: make(chan struct{}, 16), release: make(chan struct{})}
	q := mustOpen(t, t.TempDir(), Options{Capacity: 100, SyncEvery: 4, SyncInterval: -1, FS: g})
	defer func() {
		close(g.release) // let every later fsync (Close's) through
		q.Close()
	}()
	gen := genSpec{dim: 8}
	appendN := func(n int) {
		for range n {
			if _, err := q.Append(gen.gen(q.Stats().NextID)); err != nil {
				t.Error(err)
			}
		}
	}
	unsynced := func() int {
		q.wmu.Lock()
		defer q.wmu.Unlock()
		return q.unsynced
	}
	for unsynced() < 4 { // reaches SyncEvery: the background syncer starts an fsync
		appendN(1)
	}
	select {
	case <-g.started:
	case <-time.After(5 * time.Second):
		t.Fatal("no background fsync after SyncEvery records")
	}
	for unsynced() < 7 { // under 2×SyncEvery: appends go on during the fsync
		appendN(1)
	}
	done := make(chan struct{})
	go func() { appendN(1); close(done) }() // at 2×SyncEvery it must wait for an fsync
	select {
	case <-done:
		t.Fatal("the append at 2×SyncEvery unsynced records did not wait for an fsync")
	case <-time.After(100 * time.Millisecond):
	}
	g.release <- struct{}{} // the background fsync finishes: 4 synced, 4 left
	select {
	case <-done:
	case <-g.started: // or the append syncs inline first
		g.release <- struct{}{}
		<-done
	case <-time.After(5 * time.Second):
		t.Fatal("the waiting append never finished")
	}
	if n := unsynced(); n >= 4 {
		t.Fatalf("%d records unsynced after the fsyncs, want fewer than SyncEvery", n)
	}
}

//go:build linux

package bridgetest

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/mocoedge/mocoedge/firmware-bridge/simulator"
)

// Board is a simulated board on a pseudo-terminal. The test keeps the
// terminal side open, as a USB device node stays while the board is plugged
// in, so a bridge can close and re-open Path without the board noticing.
type Board struct {
	*simulator.Board
	Path string // the terminal side, /dev/pts/N: the bridge's port

	host   *os.File
	cancel context.CancelFunc
	done   chan error
	once   sync.Once
}

// Plug starts a simulated board with cfg on a new pseudo-terminal; Unplug
// (or the end of the test) stops it.
func Plug(t testing.TB, cfg simulator.Config) *Board {
	t.Helper()
	boardEnd, host, err := simulator.OpenPTY()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	b := &Board{Board: simulator.New(boardEnd, cfg), Path: host.Name(), host: host, cancel: cancel, done: make(chan error, 1)}
	go func() { b.done <- b.Run(ctx) }()
	t.Cleanup(b.Unplug)
	return b
}

// Unplug stops the board and closes both sides of its pseudo-terminal: the
// device node is gone. Later calls do nothing.
func (b *Board) Unplug() {
	b.once.Do(func() {
		b.cancel()
		<-b.done
		b.host.Close()
	})
}

// Relink points the symlink path at target, replacing what it pointed to
// atomically, as udev re-points /dev/serial/by-id links.
func Relink(t testing.TB, path, target string) {
	t.Helper()
	tmp := path + ".new"
	os.Remove(tmp)
	if err := os.Symlink(target, tmp); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

// LinkPath is a fresh path for a by-id style symlink, in the test's
// temporary folder.
func LinkPath(t testing.TB) string { return filepath.Join(t.TempDir(), "ttyBOARD") }

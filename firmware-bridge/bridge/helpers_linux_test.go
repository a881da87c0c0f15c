//go:build linux

package bridge_test

import (
	"bytes"
	"context"
	"errors"
	"image/jpeg"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/mocoedge/mocoedge/firmware-bridge/bridge"
	"github.com/mocoedge/mocoedge/firmware-bridge/protocol"
	"github.com/mocoedge/mocoedge/firmware-bridge/simulator"
	"go.bug.st/serial/enumerator"
)

// wait bounds every wait in these tests.
const wait = 5 * time.Second

// recorder is a Sink that sorts what it gets into channels. Its channels
// are large, so it never slows the bridge down.
type recorder struct {
	statuses chan bridge.Status
	events   chan bridge.Event // everything but statuses
	frames   chan bridge.Frame
}

func newRecorder() *recorder {
	return &recorder{
		statuses: make(chan bridge.Status, 1024),
		events:   make(chan bridge.Event, 1024),
		frames:   make(chan bridge.Frame, 1024),
	}
}

func (r *recorder) HandleEvent(_ context.Context, e bridge.Event) {
	if s, ok := e.(bridge.Status); ok {
		r.statuses <- s
		return
	}
	r.events <- e
}

func (r *recorder) HandleFrame(_ context.Context, f bridge.Frame) { r.frames <- f }

// awaitStatus skips statuses until one in state st arrives.
func (r *recorder) awaitStatus(t *testing.T, st bridge.State) bridge.Status {
	t.Helper()
	timeout := time.After(wait)
	for {
		select {
		case s := <-r.statuses:
			if s.State == st {
				return s
			}
		case <-timeout:
			t.Fatalf("no %s status within %v", st, wait)
		}
	}
}

// noStatus fails if a status in state st arrives within d.
func (r *recorder) noStatus(t *testing.T, st bridge.State, d time.Duration) {
	t.Helper()
	timeout := time.After(d)
	for {
		select {
		case s := <-r.statuses:
			if s.State == st {
				t.Fatalf("unexpected %s status: %+v", st, s)
			}
		case <-timeout:
			return
		}
	}
}

func recv[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(wait):
		t.Fatalf("no %s within %v", what, wait)
	}
	var zero T
	return zero
}

// eventually polls cond until it holds.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(wait)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v", what, wait)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// simBoard is a simulated board on a PTY. The test keeps the terminal side
// open, as a USB device node stays while the board is plugged in, so that the
// bridge can close and re-open its path without the board noticing.
type simBoard struct {
	*simulator.Board
	path   string // the terminal side, /dev/pts/N
	host   *os.File
	cancel context.CancelFunc
	done   chan error
}

// startBoard starts a simulated board on a new PTY; unplug (or the test's
// cleanup) stops it.
func startBoard(t testing.TB, cfg simulator.Config) *simBoard {
	t.Helper()
	boardEnd, host, err := simulator.OpenPTY()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	sb := &simBoard{Board: simulator.New(boardEnd, cfg), path: host.Name(), host: host, cancel: cancel, done: make(chan error, 1)}
	go func() { sb.done <- sb.Run(ctx) }()
	t.Cleanup(sb.unplug)
	return sb
}

// unplug stops the board and closes both sides of its PTY: the device node
// goes away.
func (sb *simBoard) unplug() {
	sb.cancel()
	<-sb.done
	sb.done <- nil // later calls return at once
	sb.host.Close()
}

// testLogger logs through t when -v is given.
func testLogger(t testing.TB) *slog.Logger {
	if !testing.Verbose() {
		return slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return slog.New(slog.NewTextHandler(tWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type tWriter struct{ t testing.TB }

func (w tWriter) Write(p []byte) (int, error) {
	w.t.Log(string(bytes.TrimRight(p, "\n")))
	return len(p), nil
}

// fastConfig is a Config with short periods for tests.
func fastConfig(t testing.TB, path string) bridge.Config {
	return bridge.Config{
		Port:      bridge.PortSpec{Path: path},
		Heartbeat: 50 * time.Millisecond,
		Backoff:   bridge.Backoff{Initial: 20 * time.Millisecond, Max: 200 * time.Millisecond, Seed: 1},
		Logger:    testLogger(t),
	}
}

// startBridge runs a bridge until the test ends and checks that Run
// returns.
func startBridge(t testing.TB, cfg bridge.Config, sink bridge.Sink) *bridge.Bridge {
	t.Helper()
	b, err := bridge.New(cfg, sink)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- b.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if !errors.Is(err, context.Canceled) {
				t.Errorf("Run = %v, want context.Canceled", err)
			}
		case <-time.After(wait):
			t.Error("Run did not return after cancel")
		}
		if st := b.State(); st != bridge.StateStopped {
			t.Errorf("state after Run = %s", st)
		}
	})
	return b
}

// link points a symlink at target, replacing what it pointed to atomically,
// as udev does with /dev/serial/by-id links.
func link(t *testing.T, path, target string) {
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

func symlinkPath(t *testing.T) string { return filepath.Join(t.TempDir(), "ttyBOARD") }

// testJPEG returns a detailed w×h JPEG that takes many chunks.
func testJPEG(t testing.TB, w, h int, seed uint64) []byte {
	t.Helper()
	pic, err := simulator.Picture(w, h, seed)
	if err != nil {
		t.Fatal(err)
	}
	return pic
}

// checkFrame checks that f is want, byte for byte, and decodes.
func checkFrame(t *testing.T, f bridge.Frame, want []byte) {
	t.Helper()
	if !bytes.Equal(f.JPEG, want) {
		t.Fatalf("frame %d: %d bytes differ from the %d sent", f.ID, len(f.JPEG), len(want))
	}
	if _, err := jpeg.Decode(bytes.NewReader(f.JPEG)); err != nil {
		t.Fatalf("frame %d does not decode: %v", f.ID, err)
	}
}

// gatedSink blocks HandleFrame until open is closed, to play a slow
// consumer.
type gatedSink struct {
	*recorder
	open    chan struct{}
	blocked chan uint16 // the id of each frame as HandleFrame starts on it
	once    sync.Once
}

func newGatedSink() *gatedSink {
	return &gatedSink{recorder: newRecorder(), open: make(chan struct{}), blocked: make(chan uint16, 1024)}
}

func (g *gatedSink) HandleFrame(ctx context.Context, f bridge.Frame) {
	g.blocked <- f.ID
	<-g.open
	g.recorder.HandleFrame(ctx, f)
}

func (g *gatedSink) release() { g.once.Do(func() { close(g.open) }) }

// rawBoard is the board end of a PTY driven by hand, for boards the
// simulator will not play (another protocol version, a mute board).
func rawBoard(t *testing.T) (*protocol.Encoder, string) {
	t.Helper()
	boardEnd, host, err := simulator.OpenPTY()
	if err != nil {
		t.Fatal(err)
	}
	go io.Copy(io.Discard, boardEnd) // what the bridge sends
	t.Cleanup(func() {
		boardEnd.Close()
		host.Close()
	})
	return protocol.NewEncoder(boardEnd), host.Name()
}

// enumeratorPortDetails is the enumerator's port description.
type enumeratorPortDetails = enumerator.PortDetails

//go:build linux

package bridge_test

import (
	"bytes"
	"context"
	"image/jpeg"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/mocoedge/mocoedge/firmware-bridge/bridge"
	"github.com/mocoedge/mocoedge/firmware-bridge/bridge/bridgetest"
	"github.com/mocoedge/mocoedge/firmware-bridge/protocol"
	"github.com/mocoedge/mocoedge/firmware-bridge/simulator"
	"go.bug.st/serial/enumerator"
)

// wait bounds every wait in these tests.
const wait = 5 * time.Second

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
	*bridgetest.Recorder
	open    chan struct{}
	blocked chan uint16 // the id of each frame as HandleFrame starts on it
	once    sync.Once
}

func newGatedSink() *gatedSink {
	return &gatedSink{Recorder: bridgetest.NewRecorder(), open: make(chan struct{}), blocked: make(chan uint16, 1024)}
}

func (g *gatedSink) HandleFrame(ctx context.Context, f bridge.Frame) {
	g.blocked <- f.ID
	<-g.open
	g.Recorder.HandleFrame(ctx, f)
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

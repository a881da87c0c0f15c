// Package bridgetest holds what the tests of the bridge and of its users
// share: a Sink that records into channels, a bridge that runs for the
// length of a test, a simulated board plugged in on a pseudo-terminal, and
// udev-style port symlinks.
package bridgetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/mocoedge/mocoedge/firmware-bridge/bridge"
	"github.com/mocoedge/mocoedge/firmware-bridge/simulator"
)

// Timeout bounds each wait of these helpers; a test fails when it passes.
const Timeout = 10 * time.Second

// Recv returns the next value from ch, failing the test when none comes
// within Timeout; what names the value in the failure.
func Recv[T any](t testing.TB, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(Timeout):
		t.Fatalf("no %s within %v", what, Timeout)
	}
	var zero T
	return zero
}

// Run starts a bridge with cfg reporting to sink, and stops it when the test
// ends, checking that Run returned context.Canceled and left the bridge
// stopped.
func Run(t testing.TB, cfg bridge.Config, sink bridge.Sink) *bridge.Bridge {
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
				t.Errorf("bridge Run = %v, want context.Canceled", err)
			}
		case <-time.After(Timeout):
			t.Error("bridge Run did not return after cancel")
		}
		if st := b.State(); st != bridge.StateStopped {
			t.Errorf("bridge state after Run = %s, want stopped", st)
		}
	})
	return b
}

// Picture returns a detailed w×h JPEG (the simulated camera's picture for
// seed) that takes many camera chunks.
func Picture(t testing.TB, w, h int, seed uint64) []byte {
	t.Helper()
	pic, err := simulator.Picture(w, h, seed)
	if err != nil {
		t.Fatal(err)
	}
	return pic
}

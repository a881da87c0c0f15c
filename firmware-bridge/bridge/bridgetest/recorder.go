package bridgetest

import (
	"context"
	"testing"
	"time"

	"github.com/mocoedge/mocoedge/firmware-bridge/bridge"
)

// Recorder is a bridge.Sink that sorts what it gets into channels. The
// channels are large, so it never slows the bridge down.
type Recorder struct {
	Statuses chan bridge.Status
	Events   chan bridge.Event // everything but statuses
	Frames   chan bridge.Frame
}

// NewRecorder returns a Recorder with room for 1,024 of each.
func NewRecorder() *Recorder {
	return &Recorder{
		Statuses: make(chan bridge.Status, 1024),
		Events:   make(chan bridge.Event, 1024),
		Frames:   make(chan bridge.Frame, 1024),
	}
}

// HandleEvent files e under Statuses or Events.
func (r *Recorder) HandleEvent(_ context.Context, e bridge.Event) {
	if s, ok := e.(bridge.Status); ok {
		r.Statuses <- s
		return
	}
	r.Events <- e
}

// HandleFrame files f under Frames.
func (r *Recorder) HandleFrame(_ context.Context, f bridge.Frame) { r.Frames <- f }

// AwaitStatus skips statuses until one in state st arrives.
func (r *Recorder) AwaitStatus(t testing.TB, st bridge.State) bridge.Status {
	t.Helper()
	for {
		if s := Recv(t, r.Statuses, st.String()+" status"); s.State == st {
			return s
		}
	}
}

// NoStatus fails the test if a status in state st arrives within d.
func (r *Recorder) NoStatus(t testing.TB, st bridge.State, d time.Duration) {
	t.Helper()
	timeout := time.After(d)
	for {
		select {
		case s := <-r.Statuses:
			if s.State == st {
				t.Fatalf("unexpected %s status: %+v", st, s)
			}
		case <-timeout:
			return
		}
	}
}

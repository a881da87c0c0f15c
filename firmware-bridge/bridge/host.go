package bridge

import (
	"context"

	"github.com/mocoedge/mocoedge/firmware-bridge/protocol"
)

// Sink is what the bridge needs from its host: somewhere to put what the
// board reports. The edge daemon implements it (a trigger snapshots a source
// and appends to the key queue, a button runs the mapped action, a frame
// feeds the camera pipeline); fwbridge's JSON-lines writer implements it
// until then.
//
// The bridge calls HandleEvent from one goroutine and HandleFrame from
// another, each in the order the board sent, and never while holding up the
// serial port: a slow method fills a bounded queue whose oldest entries are
// dropped and counted. The ctx is Run's; once it is done, the bridge still
// hands over what was queued (the last being a StateStopped Status), so
// methods must return promptly then.
type Sink interface {
	// HandleEvent takes a Status, Trigger, Button, Sensor or Log.
	HandleEvent(ctx context.Context, e Event)
	// HandleFrame takes a reassembled camera frame; it owns f.JPEG.
	HandleFrame(ctx context.Context, f Frame)
}

// FuncSink adapts two functions to Sink; a nil function ignores what it
// would receive.
type FuncSink struct {
	// OnEvent receives events.
	OnEvent func(ctx context.Context, e Event)
	// OnFrame receives frames.
	OnFrame func(ctx context.Context, f Frame)
}

// HandleEvent calls OnEvent.
func (s FuncSink) HandleEvent(ctx context.Context, e Event) {
	if s.OnEvent != nil {
		s.OnEvent(ctx, e)
	}
}

// HandleFrame calls OnFrame.
func (s FuncSink) HandleFrame(ctx context.Context, f Frame) {
	if s.OnFrame != nil {
		s.OnFrame(ctx, f)
	}
}

// Commander sets the board's outputs. *Bridge implements it; the host holds
// it as this interface (the prediction mapping takes one) so that it can be
// faked in the host's tests. Each call sends one request and returns when
// the board ACKs it, or with an error: ErrNotConnected, ErrUnsupported,
// protocol.ErrNacked (a *protocol.NackError, for instance an LED id the board
// lacks), protocol.ErrTimeout, protocol.ErrMalformed for an invalid command,
// or ctx's error.
type Commander interface {
	// SetLED sets one LED.
	SetLED(ctx context.Context, cmd protocol.SetLED) error
	// SetRelay switches one relay.
	SetRelay(ctx context.Context, cmd protocol.SetRelay) error
}

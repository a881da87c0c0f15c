package bridge

import (
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/mocoedge/mocoedge/firmware-bridge/protocol"
)

// Defaults for Config.
const (
	// DefaultHeartbeat is the interval between heartbeats, and the unit of
	// the watchdog's periods.
	DefaultHeartbeat = time.Second
	// DefaultSilentAfter is how many heartbeat intervals without a frame
	// flag the board as silent.
	DefaultSilentAfter = 3
	// DefaultRecycleAfter is how many heartbeat intervals without a frame
	// make the bridge close and re-open the port.
	DefaultRecycleAfter = 10
	// DefaultHandshakeTimeout is how long the bridge waits for the board's
	// HELLO before it recycles the port.
	DefaultHandshakeTimeout = 5 * time.Second
	// DefaultCommandTimeout bounds one LED or RELAY command, retries
	// included (the link resends after each protocol.DefaultAckTimeout).
	DefaultCommandTimeout = 2 * time.Second
	// DefaultEventQueue is how many events wait for the Sink before the
	// oldest is dropped.
	DefaultEventQueue = 256
	// DefaultFrameQueue is how many camera frames wait for the Sink before
	// the oldest is dropped: a consumer that falls behind gets recent
	// pictures, not old ones.
	DefaultFrameQueue = 4
	// DefaultHostID is the device id in the bridge's own HELLO.
	DefaultHostID = "fwbridge"
)

// Config configures a Bridge. Zero fields take the defaults noted.
type Config struct {
	// Port is the serial port to open; ignored when Opener is set.
	Port PortSpec
	// Baud is the serial speed (DefaultBaud, 921600).
	Baud int
	// Opener opens the port; nil opens Port with go.bug.st/serial.
	Opener Opener
	// Heartbeat is the heartbeat interval (DefaultHeartbeat).
	Heartbeat time.Duration
	// SilentAfter is heartbeat intervals without a frame before a
	// StateSilent status (DefaultSilentAfter).
	SilentAfter int
	// RecycleAfter is heartbeat intervals without a frame before the port is
	// closed and re-opened (DefaultRecycleAfter, or twice SilentAfter when
	// that is more); at least SilentAfter.
	RecycleAfter int
	// HandshakeTimeout is how long to wait for HELLO
	// (DefaultHandshakeTimeout).
	HandshakeTimeout time.Duration
	// CommandTimeout bounds one LED/RELAY command (DefaultCommandTimeout).
	CommandTimeout time.Duration
	// Backoff spaces the attempts to open the port.
	Backoff Backoff
	// EventQueue and FrameQueue bound what waits for the Sink
	// (DefaultEventQueue, DefaultFrameQueue).
	EventQueue, FrameQueue int
	// FrameTimeout drops an incomplete camera frame that got no chunk for
	// this long (protocol.DefaultFrameTimeout).
	FrameTimeout time.Duration
	// MaxFrameBytes bounds one camera frame (protocol.DefaultMaxFrameBytes).
	MaxFrameBytes int
	// LinkOptions tune the protocol link (ACK timeout, retries, queues).
	LinkOptions []protocol.LinkOption
	// HostID and HostVersion go in the bridge's HELLO (DefaultHostID, "").
	HostID, HostVersion string
	// Logger receives the bridge's logs (a logger that discards them).
	Logger *slog.Logger
}

// withDefaults fills the zero fields.
func (c Config) withDefaults() Config {
	if c.Baud == 0 {
		c.Baud = DefaultBaud
	}
	if c.Heartbeat == 0 {
		c.Heartbeat = DefaultHeartbeat
	}
	if c.SilentAfter == 0 {
		c.SilentAfter = DefaultSilentAfter
	}
	if c.RecycleAfter == 0 {
		c.RecycleAfter = max(DefaultRecycleAfter, 2*c.SilentAfter)
	}
	if c.HandshakeTimeout == 0 {
		c.HandshakeTimeout = DefaultHandshakeTimeout
	}
	if c.CommandTimeout == 0 {
		c.CommandTimeout = DefaultCommandTimeout
	}
	if c.EventQueue == 0 {
		c.EventQueue = DefaultEventQueue
	}
	if c.FrameQueue == 0 {
		c.FrameQueue = DefaultFrameQueue
	}
	if c.FrameTimeout == 0 {
		c.FrameTimeout = protocol.DefaultFrameTimeout
	}
	if c.MaxFrameBytes == 0 {
		c.MaxFrameBytes = protocol.DefaultMaxFrameBytes
	}
	if c.HostID == "" {
		c.HostID = DefaultHostID
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	c.Backoff = c.Backoff.withDefaults()
	return c
}

// validate checks a Config after withDefaults; errors wrap ErrInvalidConfig.
func (c Config) validate() error {
	if c.Opener == nil {
		if err := c.Port.Validate(); err != nil {
			return err
		}
	}
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s", ErrInvalidConfig, fmt.Sprintf(format, args...))
	}
	switch {
	case c.Baud < 0:
		return bad("baud %d", c.Baud)
	case c.Heartbeat < 10*time.Millisecond:
		return bad("heartbeat %v is below 10ms", c.Heartbeat)
	case c.SilentAfter < 1:
		return bad("silent after %d heartbeats", c.SilentAfter)
	case c.RecycleAfter < c.SilentAfter:
		return bad("recycle after %d heartbeats, before the silent flag at %d", c.RecycleAfter, c.SilentAfter)
	case c.HandshakeTimeout < 0 || c.CommandTimeout < 0 || c.FrameTimeout < 0:
		return bad("negative timeout")
	case c.EventQueue < 1 || c.FrameQueue < 1:
		return bad("queues of %d events and %d frames", c.EventQueue, c.FrameQueue)
	case c.MaxFrameBytes < 1:
		return bad("max frame bytes %d", c.MaxFrameBytes)
	}
	hello := protocol.Hello{Protocol: protocol.ProtocolVersion, DeviceID: c.HostID, FirmwareVersion: c.HostVersion}
	if _, err := hello.MarshalBinary(); err != nil {
		return fmt.Errorf("%w: host HELLO: %w", ErrInvalidConfig, err)
	}
	return nil
}

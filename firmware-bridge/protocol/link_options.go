package protocol

import "time"

// Link defaults.
const (
	// DefaultAckTimeout is how long Request waits for ACK before it resends.
	// A full frame takes about 11 ms at 921600 baud, so this leaves room for
	// a few frames queued ahead and the board's processing.
	DefaultAckTimeout = 250 * time.Millisecond
	// DefaultRetries is how many times Request resends after the first try.
	DefaultRetries = 3
	// DefaultInbox is how many received messages wait for the consumer
	// before new ones are dropped.
	DefaultInbox = 256
	// DefaultWriteQueue is how many frames wait for the port.
	DefaultWriteQueue = 64
	// DefaultWriteTimeout bounds one write to the port (the link shuts down
	// after it) and a Send's wait for room in a full write queue.
	DefaultWriteTimeout = 2 * time.Second
	// DefaultCloseTimeout bounds how long Close waits for the loops to leave
	// the port.
	DefaultCloseTimeout = 2 * time.Second
)

// LinkOption changes a Link's settings.
type LinkOption func(*linkConfig)

type linkConfig struct {
	ackTimeout   time.Duration
	retries      int
	inbox        int
	writeQueue   int
	writeTimeout time.Duration
	closeTimeout time.Duration
	dedupWindow  time.Duration
}

func defaultLinkConfig() linkConfig {
	return linkConfig{
		ackTimeout:   DefaultAckTimeout,
		retries:      DefaultRetries,
		inbox:        DefaultInbox,
		writeQueue:   DefaultWriteQueue,
		writeTimeout: DefaultWriteTimeout,
		closeTimeout: DefaultCloseTimeout,
		dedupWindow:  DefaultDedupWindow,
	}
}

// WithAckTimeout sets how long Request waits for an answer before it resends
// (values <= 0 keep the default).
func WithAckTimeout(d time.Duration) LinkOption {
	return func(c *linkConfig) {
		if d > 0 {
			c.ackTimeout = d
		}
	}
}

// WithRetries sets how many times Request resends after the first try (0
// sends once; negative values keep the default).
func WithRetries(n int) LinkOption {
	return func(c *linkConfig) {
		if n >= 0 {
			c.retries = n
		}
	}
}

// WithInbox sets the capacity of the Incoming channel (values < 1 keep the
// default).
func WithInbox(n int) LinkOption {
	return func(c *linkConfig) {
		if n >= 1 {
			c.inbox = n
		}
	}
}

// WithWriteQueue sets how many frames may wait for the port (values < 1 keep
// the default).
func WithWriteQueue(n int) LinkOption {
	return func(c *linkConfig) {
		if n >= 1 {
			c.writeQueue = n
		}
	}
}

// WithWriteTimeout sets the bound on one port write and on a Send's wait for
// queue room (values <= 0 keep the default).
func WithWriteTimeout(d time.Duration) LinkOption {
	return func(c *linkConfig) {
		if d > 0 {
			c.writeTimeout = d
		}
	}
}

// WithCloseTimeout sets how long Close waits for the loops (values <= 0 keep
// the default).
func WithCloseTimeout(d time.Duration) LinkOption {
	return func(c *linkConfig) {
		if d > 0 {
			c.closeTimeout = d
		}
	}
}

// WithDedupWindow sets how long a repeated request counts as a
// retransmission (values <= 0 keep the default).
func WithDedupWindow(d time.Duration) LinkOption {
	return func(c *linkConfig) {
		if d > 0 {
			c.dedupWindow = d
		}
	}
}

package protocol

import (
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"
)

// Link runs the protocol over a port. It owns two goroutines: a reader that
// decodes frames, answers ACK requests and delivers messages on Incoming, and
// a writer that drains a bounded queue into the port (ACK and NACK answers
// first). No method blocks longer than its context and the configured
// timeouts, however slow the port: a full inbox drops messages (NACK busy for
// requests), a full write queue fails Send after the write timeout, and a
// write that hangs shuts the link down with ErrWriteStalled.
//
// The link ends when Close is called or the port fails; then Done is closed,
// Err says why, and Incoming is closed once the reader has left the port. The
// owner opens a new port and a new Link to reconnect.
type Link struct {
	port io.ReadWriteCloser
	cfg  linkConfig
	dec  *Decoder

	in   chan Packet // received messages, closed by the reader on exit
	out  chan []byte // encoded frames for the writer
	ctrl chan []byte // ACK and NACK answers, written before out

	mu      sync.Mutex
	seq     uint8
	pending map[uint8]chan ackResult

	dedup *Dedup // reader goroutine only

	once     sync.Once
	done     chan struct{}
	err      error // why the link ended; set before done is closed
	closeErr error // the port's Close error
	wg       sync.WaitGroup

	count linkCounters
}

type linkCounters struct {
	framesSent, delivered, dropped, duplicates        atomic.Uint64
	requests, retries, timeouts, nacked, staleAnswers atomic.Uint64
	repliesDropped                                    atomic.Uint64
	lastFrame                                         atomic.Int64 // unix nanoseconds
}

// LinkStats counts a Link's traffic.
type LinkStats struct {
	// Decoder is the reader's frame counters.
	Decoder DecoderStats
	// FramesSent is frames written to the port: messages, retransmissions,
	// ACKs and NACKs.
	FramesSent uint64
	// Delivered is messages put on Incoming.
	Delivered uint64
	// Dropped is messages lost because Incoming was full.
	Dropped uint64
	// Duplicates is retransmitted requests that were re-ACKed and not
	// delivered again.
	Duplicates uint64
	// Requests is calls to Request.
	Requests uint64
	// Retries is retransmissions by Request.
	Retries uint64
	// Timeouts is requests that got no answer in all their attempts.
	Timeouts uint64
	// Nacked is requests that ended with a NACK.
	Nacked uint64
	// StaleAnswers is ACKs and NACKs that matched no request in flight.
	StaleAnswers uint64
	// RepliesDropped is ACKs and NACKs this side could not queue.
	RepliesDropped uint64
	// LastFrame is when the last intact message arrived (zero if none):
	// a watchdog compares it with the heartbeat interval.
	LastFrame time.Time
}

// NewLink starts a Link on port. The link owns port and closes it when it
// ends; port's Close must unblock a pending Read (true of *os.File ttys,
// go.bug.st/serial ports and net.Conn). The first thing written is a 0x00 so
// that the peer drops any torn frame.
func NewLink(port io.ReadWriteCloser, opts ...LinkOption) *Link {
	cfg := defaultLinkConfig()
	for _, o := range opts {
		o(&cfg)
	}
	l := &Link{
		port:    port,
		cfg:     cfg,
		dec:     NewDecoder(port),
		in:      make(chan Packet, cfg.inbox),
		out:     make(chan []byte, cfg.writeQueue),
		ctrl:    make(chan []byte, cfg.writeQueue),
		pending: make(map[uint8]chan ackResult),
		dedup:   NewDedup(cfg.dedupWindow),
		done:    make(chan struct{}),
	}
	l.out <- []byte{Delimiter}
	l.wg.Add(2)
	go l.readLoop()
	go l.writeLoop()
	return l
}

// Incoming delivers received messages other than ACK and NACK (which answer
// this side's requests). It is closed after the link ends.
func (l *Link) Incoming() <-chan Packet { return l.in }

// Done is closed when the link ends.
func (l *Link) Done() <-chan struct{} { return l.done }

// Err is nil while the link runs, then why it ended: ErrClosed after Close,
// otherwise the port's read or write error or ErrWriteStalled.
func (l *Link) Err() error {
	select {
	case <-l.done:
		return l.err
	default:
		return nil
	}
}

// Close ends the link, closes the port and waits up to the close timeout for
// both loops to leave it. It returns the port's Close error, or an error if a
// loop is still blocked in the port (a hung write on a device that ignores
// close); that goroutine then exits when the port lets go.
func (l *Link) Close() error {
	l.shutdown(ErrClosed)
	left := make(chan struct{})
	go func() {
		l.wg.Wait()
		close(left)
	}()
	timer := time.NewTimer(l.cfg.closeTimeout)
	defer timer.Stop()
	select {
	case <-left:
		return l.closeErr
	case <-timer.C:
		return fmt.Errorf("protocol: link closed but its port I/O is still blocked after %v", l.cfg.closeTimeout)
	}
}

// shutdown ends the link once, recording why, and closes the port to unblock
// the loops.
func (l *Link) shutdown(cause error) {
	l.once.Do(func() {
		l.err = cause
		close(l.done)
		if err := l.port.Close(); err != nil {
			l.closeErr = fmt.Errorf("protocol: close port: %w", err)
		}
	})
}

// endedErr is the error for calls made after the link ended; it wraps
// ErrClosed and the cause.
func (l *Link) endedErr() error {
	if l.err == ErrClosed {
		return ErrClosed
	}
	return fmt.Errorf("%w: %w", ErrClosed, l.err)
}

// Stats returns the counters so far.
func (l *Link) Stats() LinkStats {
	c := &l.count
	s := LinkStats{
		Decoder:    l.dec.Stats(),
		FramesSent: c.framesSent.Load(), Delivered: c.delivered.Load(), Dropped: c.dropped.Load(),
		Duplicates: c.duplicates.Load(), Requests: c.requests.Load(), Retries: c.retries.Load(),
		Timeouts: c.timeouts.Load(), Nacked: c.nacked.Load(), StaleAnswers: c.staleAnswers.Load(),
		RepliesDropped: c.repliesDropped.Load(),
	}
	if ns := c.lastFrame.Load(); ns != 0 {
		s.LastFrame = time.Unix(0, ns)
	}
	return s
}

package protocol

import (
	"context"
	"fmt"
	"time"
)

// writeLoop drains the queues into the port, answers first. A write that
// takes longer than the write timeout shuts the link down.
func (l *Link) writeLoop() {
	defer l.wg.Done()
	stall := time.AfterFunc(time.Hour, func() {
		l.shutdown(fmt.Errorf("%w: one write took over %v", ErrWriteStalled, l.cfg.writeTimeout))
	})
	stall.Stop()
	defer stall.Stop()
	for {
		var b []byte
		select {
		case <-l.done:
			return
		case b = <-l.ctrl:
		default:
			select {
			case <-l.done:
				return
			case b = <-l.ctrl:
			case b = <-l.out:
			}
		}
		stall.Reset(l.cfg.writeTimeout)
		_, err := l.port.Write(b)
		stall.Stop()
		if err != nil {
			l.shutdown(fmt.Errorf("protocol: link write: %w", err))
			return
		}
		l.count.framesSent.Add(1)
	}
}

// enqueue hands one encoded frame to the writer, waiting at most the write
// timeout for room.
func (l *Link) enqueue(ctx context.Context, b []byte, t Type) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("protocol: send %s: %w", t, err)
	}
	select {
	case <-l.done:
		return l.endedErr()
	default:
	}
	select {
	case l.out <- b:
		return nil
	default:
	}
	timer := time.NewTimer(l.cfg.writeTimeout)
	defer timer.Stop()
	select {
	case l.out <- b:
		return nil
	case <-l.done:
		return l.endedErr()
	case <-ctx.Done():
		return fmt.Errorf("protocol: send %s: %w", t, ctx.Err())
	case <-timer.C:
		return fmt.Errorf("protocol: send %s: %w for %v", t, ErrQueueFull, l.cfg.writeTimeout)
	}
}

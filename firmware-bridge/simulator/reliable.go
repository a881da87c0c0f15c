package simulator

import (
	"context"
	"fmt"
	"time"

	"github.com/mocoedge/mocoedge/firmware-bridge/protocol"
)

// request sends m asking for ACK and resends it after each ACK timeout, as
// the firmware does for events that must not be lost.
func (b *Board) request(ctx context.Context, m protocol.Message) error {
	payload, err := m.MarshalBinary()
	if err != nil {
		return fmt.Errorf("simulator: %s: %w", m.Type(), err)
	}
	b.mu.Lock()
	seq := b.nextSeqLocked()
	answer := make(chan protocol.Message, 1)
	b.pending[seq] = answer
	pending := b.pending
	b.mu.Unlock()
	defer func() {
		b.mu.Lock()
		if pending[seq] == answer { // a reboot replaces the map
			delete(pending, seq)
		}
		b.mu.Unlock()
	}()

	f := protocol.Frame{Type: m.Type(), Seq: seq, AckRequested: true, Payload: payload}
	timer := time.NewTimer(b.cfg.AckTimeout)
	defer timer.Stop()
	for attempt := 0; attempt <= b.cfg.Retries; attempt++ {
		if attempt > 0 {
			b.mu.Lock()
			b.stats.Retries++
			b.mu.Unlock()
		}
		b.wmu.Lock()
		err := b.writeFrameLocked(f)
		b.wmu.Unlock()
		if err != nil {
			return err
		}
		timer.Reset(b.cfg.AckTimeout)
		select {
		case a := <-answer:
			if a == nil {
				return fmt.Errorf("simulator: %s seq %d: %w", m.Type(), seq, ErrRebooted)
			}
			if n, ok := a.(*protocol.Nack); ok && n.Reason != protocol.ReasonBusy {
				return fmt.Errorf("simulator: %s: %w", m.Type(), &protocol.NackError{Seq: seq, Reason: n.Reason})
			} else if !ok {
				return nil
			}
			select { // busy: wait, then resend
			case <-timer.C:
			case <-ctx.Done():
				return fmt.Errorf("simulator: %s seq %d: %w", m.Type(), seq, ctx.Err())
			}
		case <-timer.C:
		case <-ctx.Done():
			return fmt.Errorf("simulator: %s seq %d: %w", m.Type(), seq, ctx.Err())
		}
	}
	return fmt.Errorf("simulator: %s seq %d: %w", m.Type(), seq, protocol.ErrTimeout)
}

// resolve hands an ACK or NACK to the request in flight with seq.
func (b *Board) resolve(seq uint8, m protocol.Message) {
	b.mu.Lock()
	ch := b.pending[seq]
	b.mu.Unlock()
	if ch == nil {
		return
	}
	select {
	case ch <- m:
	default:
	}
}

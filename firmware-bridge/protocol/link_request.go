package protocol

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// ackResult is the answer to one request.
type ackResult struct {
	nacked bool
	reason NackReason
}

// Send queues m without asking for ACK. It returns once the frame is queued,
// not written; it fails with ErrQueueFull when the queue stays full for the
// write timeout, with the context's error, or wrapping ErrClosed after the
// link ended.
func (l *Link) Send(ctx context.Context, m Message) error {
	b, err := AppendMessage(nil, l.nextSeq(), false, m)
	if err != nil {
		return fmt.Errorf("protocol: send %s: %w", m.Type(), err)
	}
	return l.enqueue(ctx, b, m.Type())
}

// Request sends m asking for ACK and waits for the answer, resending the
// same frame after each ACK timeout up to the configured retries. It returns
// nil on ACK; a *NackError (errors.Is ErrNacked) on NACK, after the retries
// when the reason is ReasonBusy; ErrTimeout when no answer came; an error
// wrapping ErrTimeout and context.DeadlineExceeded when ctx's deadline
// passed first; the context's error when it was canceled; or an error
// wrapping ErrClosed after the link ended.
func (l *Link) Request(ctx context.Context, m Message) error {
	t := m.Type()
	if isAnswer(t) {
		return fmt.Errorf("protocol: request %s: ACK and NACK are never requests", t)
	}
	seq, answer, err := l.register()
	if err != nil {
		return fmt.Errorf("protocol: request %s: %w", t, err)
	}
	defer l.unregister(seq)
	b, err := AppendMessage(nil, seq, true, m)
	if err != nil {
		return fmt.Errorf("protocol: request %s: %w", t, err)
	}
	l.count.requests.Add(1)

	attempts := l.cfg.retries + 1
	timer := time.NewTimer(l.cfg.ackTimeout)
	defer timer.Stop()
	var busy *NackError
	for attempt := 1; attempt <= attempts; attempt++ {
		if attempt > 1 {
			l.count.retries.Add(1)
		}
		if err := l.enqueue(ctx, b, t); err != nil {
			return err
		}
		timer.Reset(l.cfg.ackTimeout)
		for waiting := true; waiting; {
			select {
			case r := <-answer:
				if !r.nacked {
					return nil
				}
				nack := &NackError{Seq: seq, Reason: r.reason}
				if r.reason != ReasonBusy {
					l.count.nacked.Add(1)
					return fmt.Errorf("protocol: request %s: %w", t, nack)
				}
				busy = nack // wait out the timeout, then resend
			case <-timer.C:
				waiting = false
			case <-ctx.Done():
				return l.requestCtxErr(ctx, t, seq, attempt)
			case <-l.done:
				return fmt.Errorf("protocol: request %s seq %d: %w", t, seq, l.endedErr())
			}
		}
	}
	if busy != nil {
		l.count.nacked.Add(1)
		return fmt.Errorf("protocol: request %s after %d attempts: %w", t, attempts, busy)
	}
	l.count.timeouts.Add(1)
	return fmt.Errorf("protocol: request %s seq %d: %w (%d attempts, %v each)", t, seq, ErrTimeout, attempts, l.cfg.ackTimeout)
}

// requestCtxErr is the error for a request whose context ended.
func (l *Link) requestCtxErr(ctx context.Context, t Type, seq uint8, attempt int) error {
	err := ctx.Err()
	if errors.Is(err, context.DeadlineExceeded) {
		l.count.timeouts.Add(1)
		return fmt.Errorf("protocol: request %s seq %d: %w in attempt %d: %w", t, seq, ErrTimeout, attempt, err)
	}
	return fmt.Errorf("protocol: request %s seq %d: %w", t, seq, err)
}

// nextSeq takes the next sequence number for a frame that expects no answer.
func (l *Link) nextSeq() uint8 {
	l.mu.Lock()
	defer l.mu.Unlock()
	s := l.seq
	l.seq++
	return s
}

// register takes a sequence number that no request in flight uses and
// returns the channel its answer will arrive on.
func (l *Link) register() (uint8, chan ackResult, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for range 256 {
		s := l.seq
		l.seq++
		if _, busy := l.pending[s]; !busy {
			ch := make(chan ackResult, 1)
			l.pending[s] = ch
			return s, ch, nil
		}
	}
	return 0, nil, errors.New("all 256 sequence numbers have requests in flight")
}

func (l *Link) unregister(seq uint8) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.pending, seq)
}

// resolve passes an answer to the request in flight with seq, if any.
func (l *Link) resolve(seq uint8, r ackResult) {
	l.mu.Lock()
	ch, ok := l.pending[seq]
	l.mu.Unlock()
	if !ok {
		l.count.staleAnswers.Add(1)
		return
	}
	select {
	case ch <- r:
	default: // an earlier answer to the same request is still unread
	}
}

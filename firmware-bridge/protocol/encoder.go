package protocol

import (
	"fmt"
	"io"
	"sync"
)

// Encoder writes messages to a stream, numbering frames with a wrapping 8-bit
// sequence. It writes one 0x00 before its first frame (see the package
// documentation) and each frame with a single Write. It is safe for
// concurrent use; frames never interleave.
type Encoder struct {
	mu      sync.Mutex
	w       io.Writer
	seq     uint8
	started bool
	buf     []byte
}

// NewEncoder returns an Encoder writing to w, starting at sequence number 0.
func NewEncoder(w io.Writer) *Encoder {
	return &Encoder{w: w, buf: make([]byte, 0, 1+MaxEncodedFrame+1)}
}

// WriteMessage sends m without asking for ACK and returns its sequence
// number.
func (e *Encoder) WriteMessage(m Message) (uint8, error) { return e.write(m, false) }

// WriteRequest sends m asking for ACK and returns its sequence number; the
// caller matches the answer. Resend the same frame with WriteFrame.
func (e *Encoder) WriteRequest(m Message) (uint8, error) { return e.write(m, true) }

func (e *Encoder) write(m Message, ack bool) (uint8, error) {
	payload, err := m.MarshalBinary()
	if err != nil {
		return 0, err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	seq := e.seq
	f := Frame{Type: m.Type(), Seq: seq, AckRequested: ack, Payload: payload}
	if err := e.writeFrameLocked(f); err != nil {
		return 0, err
	}
	e.seq++
	return seq, nil
}

// WriteFrame sends f as it is, with its own sequence number; the encoder's
// counter does not move.
func (e *Encoder) WriteFrame(f Frame) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.writeFrameLocked(f)
}

func (e *Encoder) writeFrameLocked(f Frame) error {
	b := e.buf[:0]
	if !e.started {
		b = append(b, Delimiter)
	}
	b, err := AppendFrame(b, f)
	if err != nil {
		return err
	}
	if _, err := e.w.Write(b); err != nil {
		return fmt.Errorf("protocol: write %s seq %d: %w", f.Type, f.Seq, err)
	}
	e.started = true
	e.buf = b
	return nil
}

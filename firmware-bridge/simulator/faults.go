package simulator

import (
	"fmt"
	"io"
	"math/rand/v2"

	"github.com/mocoedge/mocoedge/firmware-bridge/protocol"
)

// RebootMidFrame starts sending jpeg, stops after the first sent chunks and
// half of the next chunk's bytes on the wire, and reboots as a brown-out
// would: the host sees a torn frame, then the boot's 0x00 and HELLO. It
// returns the id of the frame left incomplete.
func (b *Board) RebootMidFrame(jpeg []byte, sent int) (uint16, error) {
	id, chunks, err := b.chunk(jpeg)
	if err != nil {
		return 0, err
	}
	if sent < 0 || sent >= len(chunks) {
		return id, fmt.Errorf("simulator: frame %d has %d chunks, cannot stop after %d", id, len(chunks), sent)
	}
	b.wmu.Lock()
	defer b.wmu.Unlock()
	for i := range chunks[:sent] {
		if err := b.writeLocked(&chunks[i]); err != nil {
			return id, err
		}
	}
	b.mu.Lock()
	seq := b.nextSeqLocked()
	b.mu.Unlock()
	torn, err := protocol.AppendMessage(nil, seq, false, &chunks[sent])
	if err != nil {
		return id, fmt.Errorf("simulator: %w", err)
	}
	if _, err := b.out.Write(torn[:len(torn)/2]); err != nil {
		return id, fmt.Errorf("simulator: torn frame: %w", err)
	}
	return id, b.rebootLocked()
}

// InjectNoise writes p to the line as it is, between frames.
func (b *Board) InjectNoise(p []byte) error {
	b.wmu.Lock()
	defer b.wmu.Unlock()
	if _, err := b.port.Write(p); err != nil {
		return fmt.Errorf("simulator: noise: %w", err)
	}
	return nil
}

// noisyWriter flips each bit written with probability ber. It is used under
// the board's write lock, which also guards rng.
type noisyWriter struct {
	w   io.Writer
	ber float64
	rng *rand.Rand
}

// Write writes a corrupted copy of p; p itself is left alone.
func (n *noisyWriter) Write(p []byte) (int, error) {
	q := append([]byte(nil), p...)
	for i := range q {
		for bit := range 8 {
			if n.rng.Float64() < n.ber {
				q[i] ^= 1 << bit
			}
		}
	}
	return n.w.Write(q)
}

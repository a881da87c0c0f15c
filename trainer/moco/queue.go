package moco

import (
	"fmt"

	"github.com/mocoedge/mocoedge/trainer/engine"
)

// Queue is MoCo's dictionary: K L2-normalised keys of D values, stored as
// rows of a [K, D] buffer. Enqueue overwrites the oldest keys, so after the
// first K keys it is a FIFO of the K most recent ones.
type Queue struct {
	be   engine.Backend[float32]
	Keys engine.Buffer[float32] // [K, D]
	K, D int
	Ptr  int // row that the next key goes to
}

// NewQueue returns a queue of k random unit vectors of d values (the
// official code starts from normalised Gaussian noise).
func NewQueue(be engine.Backend[float32], k, d int, init []float32) (*Queue, error) {
	if len(init) != k*d {
		return nil, fmt.Errorf("queue init has %d values, want %d", len(init), k*d)
	}
	q := &Queue{be: be, Keys: be.Alloc(k * d), K: k, D: d}
	be.Upload(q.Keys, init)
	return q, nil
}

// Enqueue writes n keys [n, D] over the oldest ones. n must divide K, as the
// official implementation asserts, so a batch never wraps around the end.
func (q *Queue) Enqueue(keys engine.Buffer[float32], n int) error {
	if q.K%n != 0 {
		return fmt.Errorf("enqueue %d keys: the queue size %d is not a multiple", n, q.K)
	}
	q.be.Copy(q.be.Slice(q.Keys, q.Ptr*q.D, n*q.D), q.be.Slice(keys, 0, n*q.D))
	q.Ptr = (q.Ptr + n) % q.K
	return nil
}

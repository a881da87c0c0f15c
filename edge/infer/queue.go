package infer

import (
	"fmt"
	"slices"
	"sync"
)

// queue is the bounded FIFO of requests, counted in images not yet handed
// to a batch.
type queue struct {
	mu     sync.Mutex
	reqs   []*request
	images int  // images queued, not yet taken
	cap    int  // capacity in images
	closed bool // no new requests; the batcher drains and exits
	abort  bool // fail what is queued instead of draining
	wake   chan struct{}
}

func newQueue(capacity int) *queue {
	return &queue{cap: capacity, wake: make(chan struct{}, 1)}
}

// signal wakes the batcher if it waits.
func (q *queue) signal() {
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

// push appends r, or fails at once with ErrQueueFull or ErrClosed.
func (q *queue) push(r *request) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	switch {
	case q.closed:
		return ErrClosed
	case q.images+r.b.N > q.cap:
		return fmt.Errorf("%w: %d of %d images queued, no room for %d more", ErrQueueFull, q.images, q.cap, r.b.N)
	}
	q.reqs = append(q.reqs, r)
	q.images += r.b.N
	q.signal()
	return nil
}

// drop removes r's untaken images from the queue; q.mu must be held.
func (q *queue) drop(r *request) {
	if r.taken >= r.b.N {
		return
	}
	q.images -= r.b.N - r.taken
	r.taken = r.b.N
	if i := slices.Index(q.reqs, r); i >= 0 {
		q.reqs = slices.Delete(q.reqs, i, i+1)
	}
}

// cancel drops what is left of r (its caller stopped waiting, or it failed).
func (q *queue) cancel(r *request) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.drop(r)
}

// close stops new requests; abort also makes the batcher fail what is
// queued rather than run it.
func (q *queue) close(abort bool) {
	q.mu.Lock()
	q.closed = true
	q.abort = q.abort || abort
	q.mu.Unlock()
	q.signal()
}

// isClosed reports whether close was called.
func (q *queue) isClosed() bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.closed
}

// queued returns the number of images waiting.
func (q *queue) queued() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.images
}

package bridge

import "sync/atomic"

// dropQueue is a bounded channel whose producer never waits: when it is
// full, the oldest entry is dropped and counted to make room. There is one
// producer (the bridge's Run goroutine) and one consumer; the producer
// closes it.
type dropQueue[T any] struct {
	ch      chan T
	dropped atomic.Uint64
	pushed  atomic.Uint64
}

func newDropQueue[T any](capacity int) *dropQueue[T] {
	return &dropQueue[T]{ch: make(chan T, max(capacity, 1))}
}

// push adds v, dropping the oldest entries while the queue is full.
func (q *dropQueue[T]) push(v T) {
	q.pushed.Add(1)
	for {
		select {
		case q.ch <- v:
			return
		default:
		}
		select {
		case <-q.ch:
			q.dropped.Add(1)
		default: // the consumer took one meanwhile
		}
	}
}

// close ends the queue; the consumer still receives what is queued.
func (q *dropQueue[T]) close() { close(q.ch) }

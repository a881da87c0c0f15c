package bridge

import (
	"sync"
	"testing"
)

func TestDropQueueDropsOldest(t *testing.T) {
	q := newDropQueue[int](3)
	for i := range 10 {
		q.push(i)
	}
	q.close()
	var got []int
	for v := range q.ch {
		got = append(got, v)
	}
	if len(got) != 3 || got[0] != 7 || got[2] != 9 {
		t.Fatalf("kept %v, want the newest [7 8 9]", got)
	}
	if d, p := q.dropped.Load(), q.pushed.Load(); d != 7 || p != 10 {
		t.Fatalf("dropped %d of %d, want 7 of 10", d, p)
	}
}

func TestDropQueueConcurrentConsumer(t *testing.T) {
	q := newDropQueue[int](4)
	var got int
	var wg sync.WaitGroup
	wg.Go(func() {
		for range q.ch {
			got++
		}
	})
	const n = 100000
	for i := range n {
		q.push(i)
	}
	q.close()
	wg.Wait()
	if uint64(got)+q.dropped.Load() != n {
		t.Fatalf("received %d + dropped %d != pushed %d", got, q.dropped.Load(), n)
	}
}

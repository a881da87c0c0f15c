package keyqueue

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
)

// TestOneWriterManyReaders runs a writer (appends, labels, compactions)
// against readers of every kind; run it with -race.
func TestOneWriterManyReaders(t *testing.T) {
	g := genSpec{dim: 16, thumb: 200}
	q := mustOpen(t, t.TempDir(), Options{Capacity: 300, SegmentBytes: 16 << 10, SyncInterval: 5_000_000})
	model := g.gen(1).Model
	var done atomic.Bool
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	report := func(err error) {
		select {
		case errs <- err:
		default:
		}
	}
	wg.Add(1)
	go func() { // the writer
		defer wg.Done()
		defer done.Store(true)
		for i := range 3000 {
			id := q.Stats().NextID
			if _, err := q.Append(g.gen(id)); err != nil {
				report(err)
				return
			}
			if i%7 == 0 {
				if err := q.SetLabel(id, genLabel(id)); err != nil {
					report(err)
					return
				}
			}
			if i%1000 == 999 {
				if err := q.Compact(context.Background()); err != nil {
					report(err)
					return
				}
			}
		}
	}()
	readers := []func() error{
		func() error { // Get and Thumbnail of the newest entry
			id := q.Stats().NextID - 1
			if id == 0 {
				return nil
			}
			e, err := q.Get(id)
			if errors.Is(err, ErrNotFound) {
				return nil
			}
			if err != nil {
				return err
			}
			if e.ID != id {
				return errors.New("wrong entry")
			}
			th, err := q.Thumbnail(id)
			if err != nil && !errors.Is(err, ErrNotFound) {
				return err
			}
			if err == nil && (len(th) != e.ThumbnailSize || th[0] != 0xFF) {
				return errors.New("bad thumbnail")
			}
			return nil
		},
		func() error { // the matrix: rows must match their ids' generated vectors
			m, err := q.Vectors(model)
			if err != nil || m.Len() == 0 {
				return err
			}
			want, _ := normalized(g.gen(m.IDs[0]).Vector, 64)
			for i, x := range m.Row(0) {
				if x != want[i] {
					return errors.New("matrix row does not match its id")
				}
			}
			return nil
		},
		func() error { // iteration in FIFO order
			prev := uint64(0)
			return q.ForEach(context.Background(), func(e Entry) error {
				if e.ID <= prev {
					return errors.New("ForEach out of order")
				}
				prev = e.ID
				return nil
			})
		},
		func() error { // label index and stats
			ids, err := q.LabeledIDs("person")
			if err != nil {
				return err
			}
			_, err = q.Labels(ids)
			_ = q.Stats()
			_ = q.Models()
			return err
		},
	}
	for _, read := range readers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !done.Load() {
				if err := read(); err != nil {
					report(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if q.Len() != 300 {
		t.Fatalf("Len %d", q.Len())
	}
}

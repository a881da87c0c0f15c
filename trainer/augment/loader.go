package augment

import (
	"context"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
)

// Source is the dataset a Loader reads: uint8 HWC RGB images and labels.
// *data.Dataset satisfies it.
type Source interface {
	Len() int
	Image(i int) (pix []uint8, h, w int)
	Label(i int) int
}

// LoaderOptions configures a Loader.
type LoaderOptions struct {
	// BatchSize is the number of samples in a batch (required).
	BatchSize int
	// Workers is the number of augmenting goroutines; zero means
	// runtime.GOMAXPROCS(0).
	Workers int
	// Prefetch is the number of finished batches kept ready ahead of the
	// consumer; zero means 2.
	Prefetch int
	// Seed fixes the shuffle and every augmentation.
	Seed uint64
	// DropLast drops the last, smaller batch of an epoch (MoCo's training
	// loader does).
	DropLast bool
	// SingleView makes only the query view (Batch.K stays nil).
	SingleView bool
	// NoShuffle keeps the dataset order instead of a per-epoch permutation.
	NoShuffle bool
}

// Batch is one batch of augmented samples.
type Batch struct {
	// Epoch and Step (the batch's number within the epoch) locate it.
	Epoch, Step int
	// N is the number of samples; H and W the size of each view.
	N, H, W int
	// Q and K are the query and key views, N*3*H*W float32 values each in
	// NCHW order; K is nil with SingleView.
	Q, K []float32
	// Index holds the samples' dataset indices, Label their labels.
	Index, Label []int

	remaining atomic.Int64
	done      chan struct{}
	failed    atomic.Pointer[error]
	pool      *sync.Pool
}

// Release hands the batch's buffers back to the Loader for reuse. The batch
// must not be used afterwards. Calling it is optional.
func (b *Batch) Release() {
	if b.pool != nil {
		p := b.pool
		b.pool = nil
		p.Put(b)
	}
}

// Loader runs a Pipeline over a Source on worker goroutines and delivers
// shuffled batches of views. The batches of an epoch are a function of
// (Seed, epoch) only: the same seed gives byte-identical batches whatever
// the number of workers.
type Loader struct {
	src  Source
	pipe *Pipeline
	opts LoaderOptions
	pool sync.Pool
}

// NewLoader makes a loader.
func NewLoader(src Source, p *Pipeline, opts LoaderOptions) (*Loader, error) {
	if opts.BatchSize <= 0 {
		return nil, fmt.Errorf("augment: loader batch size %d", opts.BatchSize)
	}
	if src.Len() == 0 {
		return nil, fmt.Errorf("augment: loader: empty dataset")
	}
	if opts.Workers <= 0 {
		opts.Workers = runtime.GOMAXPROCS(0)
	}
	if opts.Prefetch <= 0 {
		opts.Prefetch = 2
	}
	return &Loader{src: src, pipe: p, opts: opts}, nil
}

// Batches is the number of batches in an epoch.
func (l *Loader) Batches() int {
	n, bs := l.src.Len(), l.opts.BatchSize
	if l.opts.DropLast {
		return n / bs
	}
	return (n + bs - 1) / bs
}

// Order is the epoch's sample order (a seeded permutation unless NoShuffle).
func (l *Loader) Order(epoch int) []int {
	if l.opts.NoShuffle {
		order := make([]int, l.src.Len())
		for i := range order {
			order[i] = i
		}
		return order
	}
	return Permutation(l.opts.Seed, epoch, l.src.Len())
}

// chunk is a worker's share of one batch.
type chunk struct {
	b      *Batch
	lo, hi int
}

// Epoch starts producing the batches of one epoch and returns the channel
// that delivers them in order. The channel is closed after the last batch,
// when ctx ends, or after a batch whose Err is set; every goroutine has
// stopped by the time it is closed. To stop before the end, cancel ctx: a
// consumer that merely stops reading leaves the epoch's goroutines blocked.
func (l *Loader) Epoch(ctx context.Context, epoch int) <-chan *Batch {
	out := make(chan *Batch)
	ctx, cancel := context.WithCancel(ctx)
	order := l.Order(epoch)
	chunks := make(chan chunk, 4*l.opts.Workers)
	pending := make(chan *Batch, l.opts.Prefetch)

	var wg sync.WaitGroup
	for range l.opts.Workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			l.work(ctx, epoch, chunks)
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer close(pending)
		defer close(chunks)
		l.dispatch(ctx, epoch, order, chunks, pending)
	}()
	go func() {
		defer close(out)
		defer wg.Wait()
		defer cancel()
		for b := range pending {
			select {
			case <-b.done:
			case <-ctx.Done():
				return
			}
			select {
			case out <- b:
			case <-ctx.Done():
				return
			}
			if b.Err() != nil {
				return
			}
		}
	}()
	return out
}

// Err reports an augmentation failure in the batch (an image the pipeline
// could not take); the epoch ends after such a batch.
func (b *Batch) Err() error {
	if e := b.failed.Load(); e != nil {
		return *e
	}
	return nil
}

// dispatch cuts the epoch into batches and the batches into chunks.
func (l *Loader) dispatch(ctx context.Context, epoch int, order []int, chunks chan<- chunk, pending chan<- *Batch) {
	bs := l.opts.BatchSize
	per := max(1, bs/(4*l.opts.Workers))
	for step := range l.Batches() {
		lo := step * bs
		hi := min(lo+bs, len(order))
		b := l.newBatch(epoch, step, order[lo:hi])
		select {
		case pending <- b:
		case <-ctx.Done():
			return
		}
		for s := 0; s < b.N; s += per {
			select {
			case chunks <- chunk{b: b, lo: s, hi: min(s+per, b.N)}:
			case <-ctx.Done():
				return
			}
		}
	}
}

// newBatch takes a batch from the pool and sets it up for idx.
func (l *Loader) newBatch(epoch, step int, idx []int) *Batch {
	b, _ := l.pool.Get().(*Batch)
	if b == nil {
		b = &Batch{}
	}
	h, w := l.pipe.OutputSize()
	n, view := len(idx), l.pipe.ViewLen()
	b.Epoch, b.Step, b.N, b.H, b.W = epoch, step, n, h, w
	b.Q = grow(b.Q, n*view)
	if l.opts.SingleView {
		b.K = nil
	} else {
		b.K = grow(b.K, n*view)
	}
	b.Index = append(b.Index[:0], idx...)
	b.Label = b.Label[:0]
	for _, i := range idx {
		b.Label = append(b.Label, l.src.Label(i))
	}
	b.remaining.Store(int64(n))
	b.done = make(chan struct{})
	b.failed.Store(nil)
	b.pool = &l.pool
	return b
}

// grow returns s resized to n, reallocating only when too small.
func grow(s []float32, n int) []float32 {
	if cap(s) < n {
		return make([]float32, n)
	}
	return s[:n]
}

// work augments chunks until there are none or ctx ends.
func (l *Loader) work(ctx context.Context, epoch int, chunks <-chan chunk) {
	scratch := &Image{}
	rng := newSampleRNG()
	view := l.pipe.ViewLen()
	for c := range chunks {
		b := c.b
		for j := c.lo; j < c.hi; j++ {
			if ctx.Err() != nil {
				break
			}
			i := b.Index[j]
			pix, h, w := l.src.Image(i)
			r := rng.at(l.opts.Seed, epoch, i)
			q := b.Q[j*view : (j+1)*view]
			var err error
			if b.K == nil {
				err = l.pipe.Apply(q, pix, h, w, r, scratch)
			} else {
				err = l.pipe.TwoViews(q, b.K[j*view:(j+1)*view], pix, h, w, r, scratch)
			}
			if err != nil {
				err = fmt.Errorf("augment: epoch %d, image %d: %w", epoch, i, err)
				b.failed.CompareAndSwap(nil, &err)
			}
		}
		if b.remaining.Add(int64(c.lo-c.hi)) == 0 {
			close(b.done)
		}
	}
}

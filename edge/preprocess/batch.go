package preprocess

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
)

// BatchError reports which images of a batch failed; the others were
// written. errors.Is and errors.As look through it to each image's error.
type BatchError struct {
	// Errs has one entry per image of the batch, nil where it succeeded.
	Errs []error
}

// Failed returns the indices of the images that failed.
func (e *BatchError) Failed() []int {
	var out []int
	for i, err := range e.Errs {
		if err != nil {
			out = append(out, i)
		}
	}
	return out
}

// Error lists the failures, at most three of them in full.
func (e *BatchError) Error() string {
	failed := e.Failed()
	var b strings.Builder
	fmt.Fprintf(&b, "preprocess: %d of %d images failed", len(failed), len(e.Errs))
	for i, idx := range failed {
		if i == 3 {
			fmt.Fprintf(&b, "; and %d more", len(failed)-3)
			break
		}
		fmt.Fprintf(&b, "; image %d: %v", idx, e.Errs[idx])
	}
	return b.String()
}

// Unwrap returns the failures, for errors.Is and errors.As.
func (e *BatchError) Unwrap() []error {
	var out []error
	for _, err := range e.Errs {
		if err != nil {
			out = append(out, err)
		}
	}
	return out
}

// Batch decodes and preprocesses len(images) JPEG or PNG images into dst
// (len(images)×Len values, image i at i×Len) on up to WithWorkers
// goroutines. When some images fail the rest are still written and the
// error is a *BatchError; when ctx ends first the error wraps ctx.Err().
func (p *Preprocessor) Batch(ctx context.Context, dst []float32, images [][]byte) error {
	n, per := len(images), p.Len()
	if len(dst) != n*per {
		return fmt.Errorf("preprocess: batch: %w: %d values for %d images of %d", ErrDestination, len(dst), n, per)
	}
	errs := make([]error, n)
	var next atomic.Int64
	work := func() {
		for {
			i := int(next.Add(1) - 1)
			if i >= n || ctx.Err() != nil {
				return
			}
			errs[i] = p.Bytes(dst[i*per:(i+1)*per], images[i])
		}
	}
	workers := min(p.cfg.workers, n)
	if workers <= 1 {
		work()
	} else {
		var wg sync.WaitGroup
		for range workers {
			wg.Go(work)
		}
		wg.Wait()
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("preprocess: batch of %d images: %w", n, err)
	}
	for _, err := range errs {
		if err != nil {
			return &BatchError{Errs: errs}
		}
	}
	return nil
}

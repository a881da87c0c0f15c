package infer

import (
	"errors"
	"fmt"
	"sync"
	"time"
)

// part is the slice [off, off+k) of one request's images in a batch.
type part struct {
	r      *request
	off, k int
}

// batch is what the batcher runs: parts of requests whose pixels were
// copied, back to back, into x.
type batch struct {
	m     *model
	parts []part
	n     int
	x     []float32
	bad   []refusal // requests refused while forming the batch
}

// refusal is a request to fail and why.
type refusal struct {
	r   *request
	err error
}

// loop starts the runners and closes e.done when all have exited.
func (e *Engine) loop() {
	defer close(e.done)
	var wg sync.WaitGroup
	for range e.cfg.runners {
		wg.Go(e.runner)
	}
	wg.Wait()
}

// runner is one batcher goroutine: it forms batches and runs them until
// the queue is closed and drained (or aborted). Runners share the queue;
// each has its own input buffer.
func (e *Engine) runner() {
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	var buf []float32
	for {
		b, ok := e.next(timer, &buf)
		if !ok {
			return
		}
		for _, f := range b.bad {
			e.fail(f.r, f.err)
		}
		if b.n > 0 {
			e.run(b)
		}
	}
}

// next blocks until a batch is due: batchMax images are queued, the oldest
// queued request has waited batchWait, or the queue is closed (then what
// is left is run without waiting). ok is false when the batcher should
// exit.
func (e *Engine) next(timer *time.Timer, buf *[]float32) (b batch, ok bool) {
	q := e.q
	for {
		m := e.cur.Load()
		if m != nil {
			if need := e.cfg.batchMax * m.info.ImageLen(); cap(*buf) < need {
				*buf = make([]float32, need)
			}
		}
		q.mu.Lock()
		if q.abort {
			left := q.reqs
			for _, r := range left {
				r.taken = r.b.N
			}
			q.reqs, q.images = nil, 0
			q.mu.Unlock()
			q.signal() // let the other runners see the abort too
			for _, r := range left {
				e.fail(r, fmt.Errorf("%w: the request was still queued when the engine shut down", ErrClosed))
			}
			return batch{}, false
		}
		if q.images == 0 {
			closed := q.closed
			q.mu.Unlock()
			if closed {
				q.signal() // let the other runners see the close too
				return batch{}, false
			}
			<-q.wake
			continue
		}
		due := q.reqs[0].enqueued.Add(e.cfg.batchWait)
		wait := time.Until(due)
		if q.images >= e.cfg.batchMax || q.closed || wait <= 0 {
			b = e.take(m, *buf)
			if q.images > 0 {
				q.signal() // more is queued: wake another runner
			}
			q.mu.Unlock()
			return b, true
		}
		q.mu.Unlock()
		timer.Reset(wait)
		select {
		case <-q.wake:
			timer.Stop()
		case <-timer.C:
		}
	}
}

// take moves up to batchMax images from the head of the queue into a
// batch for m, copying their pixels into buf; requests that cannot run
// on m are removed and returned as refusals. q.mu must be held.
func (e *Engine) take(m *model, buf []float32) batch {
	q := e.q
	b := batch{m: m}
	for len(q.reqs) > 0 && b.n < e.cfg.batchMax {
		r := q.reqs[0]
		if err := fits(m, r); err != nil {
			q.drop(r)
			b.bad = append(b.bad, refusal{r, err})
			continue
		}
		per := m.info.ImageLen()
		k := min(r.b.N-r.taken, e.cfg.batchMax-b.n)
		copy(buf[b.n*per:(b.n+k)*per], r.b.Pixels[r.taken*per:(r.taken+k)*per])
		b.parts = append(b.parts, part{r: r, off: r.taken, k: k})
		b.n += k
		r.taken += k
		q.images -= k
		if r.taken == r.b.N {
			q.reqs[0] = nil
			q.reqs = q.reqs[1:]
		}
	}
	if b.n > 0 {
		b.x = buf[:b.n*m.info.ImageLen()]
	}
	return b
}

// fits says why r cannot run on m, or nil.
func fits(m *model, r *request) error {
	switch {
	case m == nil:
		return ErrModelNotLoaded
	case r.b.Model != "" && r.b.Model != m.info.SHA256:
		return fmt.Errorf("%w: prepared for %s, now serving %s (%s)", ErrModelChanged, r.b.Model, m.info.SHA256, m.info.Name)
	case len(r.b.Pixels) != r.b.N*m.info.ImageLen():
		return fmt.Errorf("%w: %d values for %d images; model %s takes 3x%dx%d per image", ErrInput,
			len(r.b.Pixels), r.b.N, m.info.Name, m.info.Input.Height, m.info.Input.Width)
	}
	return nil
}

// run runs a batch and answers its parts. If the model was replaced
// between forming the batch and running it, the batch runs on the new one
// when its requests fit it.
func (e *Engine) run(b batch) {
	m := b.m
	for {
		start := time.Now()
		out, err := m.run(b.x, b.n)
		if errors.Is(err, errRetired) {
			next := e.cur.Load()
			if next != nil && next.info.ImageLen() == m.info.ImageLen() && e.allFit(next, b.parts) {
				m = next
				continue
			}
			err = fmt.Errorf("%w: the model was replaced while the batch waited", ErrModelChanged)
		}
		if err != nil {
			e.cfg.log.Error("inference failed", "model", m.info.Name, "images", b.n, "error", err.Error())
			for _, p := range b.parts {
				e.fail(p.r, err)
			}
			return
		}
		e.stats.batch.add(time.Since(start))
		e.stats.batchDone(b.n)
		e.answer(m, b.parts, out.Features, out.Embedding)
		return
	}
}

// allFit reports whether every part's request may run on m.
func (e *Engine) allFit(m *model, parts []part) bool {
	for _, p := range parts {
		if p.r.b.Model != "" && p.r.b.Model != m.info.SHA256 {
			return false
		}
	}
	return true
}

// answer copies each part's rows into its request and completes the
// requests whose images are all done. A request split over two batches may
// be answered by two runners, so requests are updated under e.answerMu.
func (e *Engine) answer(m *model, parts []part, features, embedding []float32) {
	e.answerMu.Lock()
	defer e.answerMu.Unlock()
	c, d := m.info.Features, m.info.Embedding
	row := 0
	for _, p := range parts {
		r := p.r
		if r.answered {
			row += p.k
			continue
		}
		if r.res.Features == nil {
			r.res = Result{
				Features: make([]float32, r.b.N*c), Embedding: make([]float32, r.b.N*d),
				FeaturesDim: c, EmbeddingDim: d, Model: m.info.SHA256,
			}
		} else if r.res.Model != m.info.SHA256 {
			row += p.k
			e.fail(r, fmt.Errorf("%w: the request's images ran on two models", ErrModelChanged))
			continue
		}
		copy(r.res.Features[p.off*c:(p.off+p.k)*c], features[row*c:(row+p.k)*c])
		copy(r.res.Embedding[p.off*d:(p.off+p.k)*d], embedding[row*d:(row+p.k)*d])
		row += p.k
		r.finished += p.k
		if r.finished == r.b.N {
			r.answered = true
			close(r.done)
		}
	}
}

// fail answers r with err (once) and drops what is left of it.
func (e *Engine) fail(r *request, err error) {
	e.answerMu.Lock()
	defer e.answerMu.Unlock()
	e.q.cancel(r)
	if r.answered {
		return
	}
	r.err = err
	r.answered = true
	close(r.done)
}

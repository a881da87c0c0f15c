package infer

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// Engine serves embedding requests from the current model; see the
// package documentation. Its methods are safe for concurrent use.
type Engine struct {
	cfg   *config
	cur   atomic.Pointer[model]
	q     *queue
	stats counters
	// answerMu serialises answering requests (a request split over two
	// batches may be answered by two runners).
	answerMu sync.Mutex

	reloadMu  sync.Mutex // serialises Reload and the final close
	done      chan struct{}
	closeOnce sync.Once
	closeErr  error
}

// New starts an engine serving the model at path (with its manifest
// beside it, NAME.manifest.json): the manifest is verified, a session is
// opened with the first execution provider that works, and dry runs check
// and warm it up before New returns. With an empty path the engine starts
// without a model; Embed returns ErrModelNotLoaded until a Reload
// succeeds. ctx bounds the loading only.
func New(ctx context.Context, path string, opts ...Option) (*Engine, error) {
	cfg, err := newConfig(opts)
	if err != nil {
		return nil, err
	}
	e := &Engine{cfg: cfg, q: newQueue(cfg.queue), done: make(chan struct{})}
	if path != "" {
		m, err := cfg.load(ctx, path)
		if err != nil {
			return nil, err
		}
		e.cur.Store(m)
	}
	go e.loop()
	return e, nil
}

// Embed queues b and waits for its result. It returns at once with an
// error wrapping ErrQueueFull when the queue has no room (nothing was
// queued: drop the frame), ErrInput when b does not hold N images of the
// serving model's input, ErrModelNotLoaded or ErrClosed. When ctx ends
// first the request is withdrawn and ctx's error returned.
func (e *Engine) Embed(ctx context.Context, b Batch) (Result, error) {
	start := time.Now()
	res, err := e.embed(ctx, b, start)
	switch {
	case err == nil:
		e.stats.requests.Add(1)
		e.stats.request.add(time.Since(start))
	case errors.Is(err, ErrQueueFull):
		e.stats.rejected.Add(1)
	default:
		e.stats.failed.Add(1)
	}
	return res, err
}

func (e *Engine) embed(ctx context.Context, b Batch, start time.Time) (Result, error) {
	if e.q.isClosed() {
		return Result{}, fmt.Errorf("infer: %w", ErrClosed)
	}
	m := e.cur.Load()
	if m == nil {
		return Result{}, fmt.Errorf("infer: %w", ErrModelNotLoaded)
	}
	r := &request{b: b, enqueued: start, done: make(chan struct{})}
	if b.N < 1 {
		return Result{}, fmt.Errorf("infer: %w: a request of %d images", ErrInput, b.N)
	}
	if err := fits(m, r); err != nil {
		return Result{}, fmt.Errorf("infer: %w", err)
	}
	if b.N > e.cfg.queue {
		return Result{}, fmt.Errorf("infer: %w: a request of %d images can never fit the queue of %d", ErrInput, b.N, e.cfg.queue)
	}
	if err := ctx.Err(); err != nil {
		return Result{}, fmt.Errorf("infer: %w", err)
	}
	if err := e.q.push(r); err != nil {
		return Result{}, fmt.Errorf("infer: %w", err)
	}
	select {
	case <-r.done:
	case <-ctx.Done():
		e.q.cancel(r)
		return Result{}, fmt.Errorf("infer: request withdrawn: %w", ctx.Err())
	}
	if r.err != nil {
		return Result{}, fmt.Errorf("infer: %w", r.err)
	}
	return r.res, nil
}

// Reload loads the model at path as New does (manifest, provider, dry
// runs) and, only when all of that succeeds, swaps it in atomically:
// batches formed after the swap run on the new model, and the old session
// is closed once the batch using it finishes. On failure the previous
// model keeps serving and the error (wrapping ErrModelRefused and its
// cause) is returned. Reloads are serialised.
func (e *Engine) Reload(ctx context.Context, path string) (ModelInfo, error) {
	e.reloadMu.Lock()
	defer e.reloadMu.Unlock()
	if e.q.isClosed() {
		return ModelInfo{}, fmt.Errorf("infer: reload %s: %w", path, ErrClosed)
	}
	m, err := e.cfg.load(ctx, path)
	if err != nil {
		if old := e.cur.Load(); old != nil {
			e.cfg.log.Error("model refused; the previous model keeps serving", "path", path, "error", err.Error(),
				"serving", old.info.Name, "sha256", old.info.SHA256)
		} else {
			e.cfg.log.Error("model refused", "path", path, "error", err.Error())
		}
		return ModelInfo{}, err
	}
	old := e.cur.Swap(m)
	if old != nil {
		if err := old.retire(); err != nil {
			e.cfg.log.Warn("closing the previous model's session", "model", old.info.Name, "error", err.Error())
		}
		e.cfg.log.Info("model swapped", "from", old.info.Name, "from_sha256", old.info.SHA256,
			"to", m.info.Name, "to_sha256", m.info.SHA256, "provider", string(m.info.Provider))
	}
	return m.info, nil
}

// Model returns the serving model's description; ok is false when there
// is none.
func (e *Engine) Model() (info ModelInfo, ok bool) {
	m := e.cur.Load()
	if m == nil {
		return ModelInfo{}, false
	}
	return m.info, true
}

// Provider returns the execution provider serving the current model, ""
// when no model is loaded.
func (e *Engine) Provider() Provider {
	if m := e.cur.Load(); m != nil {
		return m.info.Provider
	}
	return ""
}

// Stats returns the engine's counters and latencies.
func (e *Engine) Stats() Stats {
	s := e.stats.snapshot()
	s.Queued = e.q.queued()
	if m := e.cur.Load(); m != nil {
		s.Model, s.Provider = m.info.SHA256, m.info.Provider
	}
	return s
}

// Close stops accepting requests, runs everything already queued, then
// closes the session: Shutdown without a deadline.
func (e *Engine) Close() error { return e.Shutdown(context.Background()) }

// Shutdown stops accepting requests (Embed returns ErrClosed) and drains
// the queue: every queued request is run and answered. If ctx ends first,
// the requests still queued are answered with ErrClosed instead, the batch
// running finishes, and ctx's error is returned. The session is closed in
// both cases. Later calls return the first call's session error.
func (e *Engine) Shutdown(ctx context.Context) error {
	e.q.close(false)
	var err error
	select {
	case <-e.done:
	case <-ctx.Done():
		e.q.close(true)
		<-e.done
		err = fmt.Errorf("infer: shutdown: %w", ctx.Err())
	}
	e.closeOnce.Do(func() {
		e.reloadMu.Lock()
		defer e.reloadMu.Unlock()
		if m := e.cur.Swap(nil); m != nil {
			e.closeErr = m.retire()
		}
	})
	return errors.Join(err, e.closeErr)
}

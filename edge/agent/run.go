package agent

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mocoedge/mocoedge/edge/keyqueue"
	"github.com/mocoedge/mocoedge/edge/source"
)

// Run runs the sources and the pipeline until ctx ends, then shuts down
// in order: the sources stop, the frames already taken are finished, the
// engine drains, the key queue is synced and closed. It returns nil after a
// clean shutdown. Extra functions (the HTTP server, MQTT, the bridge) run
// alongside and get a context that ends first; an error from one of them
// ends the agent and is returned.
func (a *Agent) Run(ctx context.Context, extra ...func(ctx context.Context) error) error {
	defer a.Close()
	runCtx, stop := context.WithCancel(ctx)
	defer stop()

	var errMu sync.Mutex
	var firstErr error
	fail := func(err error) {
		errMu.Lock()
		if firstErr == nil {
			firstErr = err
		}
		errMu.Unlock()
		stop()
	}

	var sources sync.WaitGroup
	sources.Add(1)
	go func() {
		defer sources.Done()
		if err := a.hub.Run(runCtx); err != nil && !errors.Is(err, context.Canceled) {
			fail(fmt.Errorf("sources: %w", err))
		}
	}()

	var workers sync.WaitGroup
	n := max(cap(a.cpu), 2*a.cfg.Batch.Max)
	for range n {
		workers.Add(1)
		go func() {
			defer workers.Done()
			a.work(runCtx)
		}()
	}

	var others sync.WaitGroup
	for _, f := range extra {
		others.Add(1)
		go func() {
			defer others.Done()
			if err := f(runCtx); err != nil && !errors.Is(err, context.Canceled) {
				fail(err)
			}
		}()
	}

	<-runCtx.Done()
	a.log.Info("stopping: draining frames in flight")
	sources.Wait()
	workers.Wait()
	others.Wait()
	a.reembed.cancelAndWait()
	err := a.Close()
	if err == nil {
		a.log.Info("stopped", "queue_entries", a.queue.Len())
	}
	errMu.Lock()
	defer errMu.Unlock()
	return errors.Join(firstErr, err)
}

// work is one pipeline goroutine: it takes frames until ctx ends and
// finishes the one it holds even then.
func (a *Agent) work(ctx context.Context) {
	finish := context.WithoutCancel(ctx)
	for {
		f, err := a.hub.Next(ctx)
		if err != nil {
			return
		}
		a.process(finish, f)
	}
}

// process embeds one frame from a source, appends it to the key queue when
// every frame is kept, and tells the observers.
func (a *Agent) process(ctx context.Context, f source.Frame) {
	c := a.counts.of(f.Source)
	keep := a.cfg.Queue.EveryFrame
	e, err := a.embedFrame(ctx, f, true)
	switch {
	case errors.Is(err, ErrBusy):
		c.busy.Add(1)
		return
	case errors.Is(err, ErrNoModel):
		c.noModel.Add(1)
		return
	case err != nil:
		if n := c.bad.Add(1); n == 1 || n%100 == 0 {
			a.log.Warn("frame skipped", "source", f.Source, "seq", f.Seq, "path", f.Path, "bad_frames", n, "err", err)
		}
		return
	}
	if keep {
		id, err := a.append(e, "")
		if err != nil {
			if n := c.appendErr.Add(1); n == 1 || n%100 == 0 {
				a.log.Error("key queue append failed", "source", f.Source, "failures", n, "err", err)
			}
		}
		e.ID = id
	}
	c.embedded.Add(1)
	a.predict(&e)
	a.latest.set(e)
	for _, o := range a.observers {
		o.Embedded(ctx, e)
	}
}

// append stores an embedded frame in the key queue with an optional label.
func (a *Agent) append(e Embedded, label string) (uint64, error) {
	id, err := keyqueue.ParseModelID(e.Model)
	if err != nil {
		return 0, fmt.Errorf("model id %q: %w", e.Model, err)
	}
	return a.queue.Append(keyqueue.Entry{
		Time: e.Time, Source: e.Source, Model: id, Label: label,
		Vector: e.Features, Thumbnail: e.Thumbnail,
	})
}

// sourceCounts are the pipeline's per-source counters.
type sourceCounts struct {
	embedded  atomic.Uint64 // frames embedded
	bad       atomic.Uint64 // frames that could not be decoded or preprocessed
	busy      atomic.Uint64 // frames dropped because the inference queue was full
	noModel   atomic.Uint64 // frames dropped because no model served
	appendErr atomic.Uint64 // key queue appends that failed
}

// frameCounts holds sourceCounts by source name.
type frameCounts struct {
	m sync.Map // string -> *sourceCounts
}

// of returns the counters of source, creating them on first use.
func (f *frameCounts) of(source string) *sourceCounts {
	if c, ok := f.m.Load(source); ok {
		return c.(*sourceCounts)
	}
	c, _ := f.m.LoadOrStore(source, &sourceCounts{})
	return c.(*sourceCounts)
}

// PipelineStats are one source's pipeline counters.
type PipelineStats struct {
	// Embedded counts frames embedded.
	Embedded uint64 `json:"embedded"`
	// BadFrames counts frames that could not be decoded or preprocessed.
	BadFrames uint64 `json:"bad_frames"`
	// Busy counts frames dropped because the inference queue was full.
	Busy uint64 `json:"dropped_busy"`
	// NoModel counts frames dropped because no model was serving.
	NoModel uint64 `json:"dropped_no_model"`
	// AppendErrors counts key queue appends that failed.
	AppendErrors uint64 `json:"append_errors"`
}

// snapshot returns every source's counters.
func (f *frameCounts) snapshot() map[string]PipelineStats {
	out := map[string]PipelineStats{}
	f.m.Range(func(k, v any) bool {
		c := v.(*sourceCounts)
		out[k.(string)] = PipelineStats{
			Embedded: c.embedded.Load(), BadFrames: c.bad.Load(), Busy: c.busy.Load(),
			NoModel: c.noModel.Load(), AppendErrors: c.appendErr.Load(),
		}
		return true
	})
	return out
}

// latestFrames keeps each source's most recent embedded frame, for "label
// the latest frame of source S".
type latestFrames struct {
	mu sync.Mutex
	m  map[string]Embedded
}

func (l *latestFrames) init() { l.m = map[string]Embedded{} }

// set records e as its source's latest frame (copying the features).
func (l *latestFrames) set(e Embedded) {
	e.Features = append([]float32(nil), e.Features...)
	l.mu.Lock()
	defer l.mu.Unlock()
	if old, ok := l.m[e.Source]; ok && old.Time.After(e.Time) {
		return
	}
	l.m[e.Source] = e
}

// get returns source's latest embedded frame.
func (l *latestFrames) get(source string) (Embedded, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	e, ok := l.m[source]
	return e, ok
}

// update replaces the stored frame of e.Source when it is the same frame.
func (l *latestFrames) update(e Embedded) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if old, ok := l.m[e.Source]; ok && old.Seq == e.Seq && old.Time.Equal(e.Time) {
		l.m[e.Source] = e
	}
}

// sinceStart is the agent's uptime.
func (a *Agent) sinceStart() time.Duration { return time.Since(a.started) }

package agent

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mocoedge/mocoedge/edge/config"
	"github.com/mocoedge/mocoedge/edge/infer"
	"github.com/mocoedge/mocoedge/edge/keyqueue"
	"github.com/mocoedge/mocoedge/edge/retrieval"
	"github.com/mocoedge/mocoedge/edge/source"
	"github.com/mocoedge/mocoedge/internal/blas"
	"github.com/mocoedge/mocoedge/internal/onnxrt"
)

// Options are what New needs besides the configuration.
type Options struct {
	// Logger receives the agent's logs (default: discarded).
	Logger *slog.Logger
	// Version is the daemon's version, reported in /healthz and status.
	Version string
	// GEMM multiplies for retrieval (default: blas.Load with the
	// environment's options).
	GEMM blas.GEMM
	// Observers are told about every embedded frame (the probe's
	// predictions, MQTT reports).
	Observers []Observer
	// OnLabel, when set, is called after every label applied through
	// ApplyLabel (the probe counts new labels with it).
	OnLabel func(id uint64, label string)
}

// Agent is the running edge daemon's state; see the package documentation.
// Its methods are safe for concurrent use.
type Agent struct {
	cfg     config.Config
	log     *slog.Logger
	version string
	started time.Time

	engine *infer.Engine
	queue  *keyqueue.Queue
	search *retrieval.Searcher
	hub    *source.Hub
	preps  *prepCache
	cpu    chan struct{} // bounds the goroutines decoding at once

	gemm       blas.GEMM
	probe      probeState
	retrievalK atomic.Int64

	observers []Observer
	onLabel   func(id uint64, label string)
	counts    frameCounts
	latest    latestFrames
	reembed   reembedJob

	closeOnce sync.Once
	closeErr  error
}

// New opens everything the configuration names: the key queue in
// data_dir/queue, the model (verified against its manifest and warmed up)
// and the sources. It starts no goroutine that does work; Run does. A model
// path may be empty: the agent then serves no embeddings until a Reload
// succeeds.
func New(ctx context.Context, cfg config.Config, o Options) (*Agent, error) {
	log := o.Logger
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	a := &Agent{cfg: cfg, log: log, version: o.Version, started: time.Now(), observers: o.Observers, onLabel: o.OnLabel}
	workers := cfg.Preproc.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	a.cpu = make(chan struct{}, workers)
	a.retrievalK.Store(int64(cfg.Retrieval.K))
	a.latest.init()

	ok := false
	defer func() {
		if !ok {
			a.Close()
		}
	}()

	gemm := o.GEMM
	if gemm == nil {
		var err error
		if gemm, err = blas.Load(blas.OptionsFromEnv()); err != nil {
			return nil, fmt.Errorf("load GEMM for retrieval: %w", err)
		}
	}
	a.gemm = gemm
	var err error
	qdir := filepath.Join(cfg.DataDir, "queue")
	a.queue, err = keyqueue.Open(qdir, keyqueue.Options{
		Capacity:     cfg.Queue.Capacity,
		SyncEvery:    cfg.Queue.SyncEvery,
		SyncInterval: cfg.Queue.SyncInterval.D(),
		Logger:       log.With("component", "keyqueue"),
	})
	if err != nil {
		return nil, fmt.Errorf("open key queue %s: %w", qdir, err)
	}
	if r := a.queue.Recovery(); len(r.Damage) > 0 {
		log.Warn("key queue repaired at open", "damaged_records", len(r.Damage), "discarded_bytes", r.DiscardedBytes)
	}
	log.Info("key queue open", "dir", qdir, "entries", a.queue.Len(), "capacity", cfg.Queue.Capacity,
		"took", a.queue.Recovery().Duration.Round(time.Millisecond))
	if a.search, err = retrieval.New(a.queue, gemm); err != nil {
		return nil, fmt.Errorf("retrieval: %w", err)
	}
	if err := a.openProbe(); err != nil {
		return nil, err
	}
	if a.preps, err = newPrepCache(cfg.Preproc); err != nil {
		return nil, err
	}

	if cfg.Model.Library != "" {
		if err := onnxrt.InitLibrary(cfg.Model.Library); err != nil {
			return nil, fmt.Errorf("model.ort_library: %w", err)
		}
	}
	opts, err := engineOptions(cfg, log)
	if err != nil {
		return nil, err
	}
	if a.engine, err = infer.New(ctx, cfg.Model.Path, opts...); err != nil {
		return nil, fmt.Errorf("model.path %s: %w", cfg.Model.Path, err)
	}
	if m, ok := a.engine.Model(); ok {
		log.Info("model serving", "name", m.Name, "sha256", m.SHA256, "provider", m.Provider,
			"input", fmt.Sprintf("%dx%d", m.Input.Width, m.Input.Height), "features", m.Features)
	} else {
		log.Warn("no model configured: frames are not embedded until a reload (model.path)")
	}

	if a.hub, err = source.New(cfg.Sources, source.WithLogger(log.With("component", "sources"))); err != nil {
		return nil, fmt.Errorf("sources: %w", err)
	}
	ok = true
	return a, nil
}

// engineOptions turns the configuration into inference engine options.
func engineOptions(cfg config.Config, log *slog.Logger) ([]infer.Option, error) {
	var providers []infer.Provider
	for _, p := range cfg.Model.Providers {
		ps, err := infer.ParseProviders(p)
		if err != nil {
			return nil, fmt.Errorf("model.providers: %w", err)
		}
		providers = append(providers, ps...)
	}
	opts := []infer.Option{
		infer.WithLogger(log.With("component", "infer")),
		infer.WithBatch(cfg.Batch.Max, cfg.Batch.MaxWait.D()),
		infer.WithQueueSize(cfg.Batch.Queue),
		infer.WithRunners(cfg.Batch.Runners),
		infer.WithThreads(RunnerThreads(cfg.Model.Threads, cfg.Batch.Runners)),
		infer.WithCUDA(infer.CUDAOptions{DeviceID: cfg.Model.CUDADevice}),
		infer.WithTensorRT(infer.TensorRTOptions{
			DeviceID:       cfg.Model.CUDADevice,
			FP16:           cfg.Model.TensorRT.FP16,
			CacheDir:       cfg.Model.TensorRT.EngineCacheDir(),
			TimingCache:    cfg.Model.TensorRT.TimingCache && cfg.Model.TensorRT.EngineCacheDir() != "",
			WorkspaceBytes: int64(cfg.Model.TensorRT.WorkspaceMB) << 20,
		}),
	}
	if len(providers) > 0 {
		opts = append(opts, infer.WithProviders(providers...))
	}
	return opts, nil
}

// RunnerThreads divides the CPU threads (model.threads; 0: one per core)
// among the runners, at least one each; with one runner it leaves the
// choice to ONNX Runtime.
func RunnerThreads(threads, runners int) int {
	if runners <= 1 {
		return threads
	}
	if threads <= 0 {
		threads = runtime.NumCPU()
	}
	return max(1, threads/runners)
}

// Engine returns the inference engine (for benchmarks and stats).
func (a *Agent) Engine() *infer.Engine { return a.engine }

// Queue returns the key queue.
func (a *Agent) Queue() *keyqueue.Queue { return a.queue }

// Sources returns the frame sources.
func (a *Agent) Sources() *source.Hub { return a.hub }

// Config returns the configuration the agent runs with.
func (a *Agent) Config() config.Config { return a.cfg }

// Close releases what New opened: the engine (after draining it), the
// preprocessors and the key queue (synced). Run calls it on its way out;
// calling it again is harmless.
func (a *Agent) Close() error {
	a.closeOnce.Do(func() {
		var errs []error
		a.reembed.cancelAndWait()
		a.probe.trainMu.Lock() // wait for a training in progress
		defer a.probe.trainMu.Unlock()
		if a.engine != nil {
			if err := a.engine.Close(); err != nil {
				errs = append(errs, fmt.Errorf("close inference engine: %w", err))
			}
		}
		if a.preps != nil {
			a.preps.close()
		}
		if a.queue != nil {
			if err := a.queue.Close(); err != nil && !errors.Is(err, keyqueue.ErrClosed) {
				errs = append(errs, fmt.Errorf("close key queue: %w", err))
			}
		}
		a.closeErr = errors.Join(errs...)
	})
	return a.closeErr
}

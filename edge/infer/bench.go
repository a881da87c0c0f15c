package infer

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mocoedge/mocoedge/edge/preprocess"
)

// BenchOptions configure Bench.
type BenchOptions struct {
	// Batches are the batch sizes to measure (default 1 and 8).
	Batches []int
	// Duration is the length of one measurement (default 3s).
	Duration time.Duration
	// Rounds is how many times the raw and the pipeline measurements
	// alternate; the median of each is reported, which keeps a noisy
	// machine from favouring either side (default 3).
	Rounds int
	// Images are the JPEG or PNG files the pipeline decodes, cycled
	// through (required).
	Images [][]byte
	// Producers is the number of goroutines feeding the pipeline, each
	// decoding, preprocessing and submitting one image at a time, like
	// camera sources (default 2×batch, so that a full batch is ready when
	// the previous one ends).
	Producers int
	// BatchWait is the batcher's max_wait (default DefaultBatchWait).
	BatchWait time.Duration
	// Engine holds further engine options (providers, threads, ...).
	Engine []Option
	// Preprocess holds the options of the pipeline's Preprocessor, for
	// example preprocess.WithTurboJPEG (default: none).
	Preprocess []preprocess.Option
	// Sink, when set, receives every answered image's result, its encoded
	// bytes and its preprocessed pixels (valid only during the call) inside
	// the timed
	// pipeline, on the producer's goroutine: `edge bench` makes the
	// thumbnail and appends to a key queue there, so the pipeline figure
	// includes what the daemon does with each frame.
	Sink func(r Result, image []byte, pixels []float32) error
}

// BenchReport is what Bench measured.
type BenchReport struct {
	// Model is the model measured.
	Model ModelInfo `json:"model"`
	// CPUs is GOMAXPROCS during the run.
	CPUs int `json:"cpus"`
	// PreprocessImagesPerSec is JPEG decoding plus preprocessing alone,
	// one image at a time, over the same images.
	PreprocessImagesPerSec float64 `json:"preprocess_img_per_s"`
	// Results has one entry per batch size.
	Results []BenchResult `json:"results"`
}

// BenchResult is one batch size's figures.
type BenchResult struct {
	// Batch is the batch size: the raw runs' and the batcher's maximum.
	Batch int `json:"batch"`
	// RawImagesPerSec is ONNX Runtime alone on a pre-made tensor: the
	// limit (median of the rounds).
	RawImagesPerSec float64 `json:"raw_img_per_s"`
	// PipelineImagesPerSec is the whole path from JPEG bytes through
	// decoding, preprocessing, the batcher and inference to each caller's
	// result (median of the rounds).
	PipelineImagesPerSec float64 `json:"pipeline_img_per_s"`
	// PipelineRatio is PipelineImagesPerSec ÷ RawImagesPerSec: 1 means
	// the pipeline costs nothing over inference.
	PipelineRatio float64 `json:"pipeline_ratio"`
	// PreprocessPerInference is one image's decoding and preprocessing
	// time over its share of a raw batch's inference time: the fraction
	// preprocessing adds when both share the same cores.
	PreprocessPerInference float64 `json:"preprocess_per_inference"`
	// RawRounds and PipelineRounds are every round's img/s.
	RawRounds      []float64 `json:"raw_rounds"`
	PipelineRounds []float64 `json:"pipeline_rounds"`
	// MeanBatch is the mean batch the batcher formed in the pipeline.
	MeanBatch float64 `json:"mean_batch"`
	// Request is the pipeline's request latency (queueing, batching and
	// inference; not decoding).
	Request Latency `json:"request_latency"`
	// Dropped counts requests refused with ErrQueueFull (retried).
	Dropped uint64 `json:"dropped"`
}

// Bench measures, for each batch size, raw ONNX Runtime throughput on a
// pre-made tensor (the same session, provider and options the pipeline
// uses) and the full pipeline from JPEG bytes; see BenchResult.
func Bench(ctx context.Context, modelPath string, o BenchOptions) (*BenchReport, error) {
	if len(o.Images) == 0 {
		return nil, errors.New("infer: bench: no images given")
	}
	if len(o.Batches) == 0 {
		o.Batches = []int{1, 8}
	}
	if o.Duration <= 0 {
		o.Duration = 3 * time.Second
	}
	if o.Rounds <= 0 {
		o.Rounds = 3
	}
	if o.BatchWait == 0 {
		o.BatchWait = DefaultBatchWait
	}
	rep := &BenchReport{CPUs: runtime.GOMAXPROCS(0)}
	for _, b := range o.Batches {
		if b < 1 {
			return nil, fmt.Errorf("infer: bench: batch size %d", b)
		}
		res, err := benchBatch(ctx, modelPath, o, b, rep)
		if err != nil {
			return nil, err
		}
		rep.Results = append(rep.Results, res)
	}
	return rep, nil
}

// benchBatch measures one batch size on a fresh engine.
func benchBatch(ctx context.Context, path string, o BenchOptions, b int, rep *BenchReport) (BenchResult, error) {
	opts := append(slices.Clone(o.Engine), WithBatch(b, o.BatchWait), WithQueueSize(max(4*b, DefaultQueueSize)))
	e, err := New(ctx, path, opts...)
	if err != nil {
		return BenchResult{}, fmt.Errorf("infer: bench: %w", err)
	}
	defer e.Close()
	info, _ := e.Model()
	rep.Model = info
	p, err := preprocess.New(info.Input, o.Preprocess...)
	if err != nil {
		return BenchResult{}, fmt.Errorf("infer: bench: %w", err)
	}
	defer p.Close()
	if rep.PreprocessImagesPerSec == 0 {
		if rep.PreprocessImagesPerSec, err = benchPreprocess(ctx, p, o.Images, min(o.Duration, time.Second)); err != nil {
			return BenchResult{}, err
		}
	}
	// The raw input: the first b images, preprocessed.
	per := p.Len()
	x := make([]float32, b*per)
	for i := range b {
		if err := p.Bytes(x[i*per:(i+1)*per], o.Images[i%len(o.Images)]); err != nil {
			return BenchResult{}, fmt.Errorf("infer: bench: image %d: %w", i%len(o.Images), err)
		}
	}
	producers := o.Producers
	if producers <= 0 {
		producers = max(2*b, 2)
	}
	res := BenchResult{Batch: b}
	// A short untimed pipeline run settles the allocator and the threads.
	if _, _, err := benchPipeline(ctx, e, p, o.Images, producers, o.Duration/10, o.Sink); err != nil {
		return BenchResult{}, err
	}
	before := e.Stats()
	for range o.Rounds {
		raw, err := benchRaw(ctx, e, x, b, o.Duration)
		if err != nil {
			return BenchResult{}, err
		}
		pipe, dropped, err := benchPipeline(ctx, e, p, o.Images, producers, o.Duration, o.Sink)
		if err != nil {
			return BenchResult{}, err
		}
		res.RawRounds = append(res.RawRounds, raw)
		res.PipelineRounds = append(res.PipelineRounds, pipe)
		res.Dropped += dropped
	}
	after := e.Stats()
	res.RawImagesPerSec, res.PipelineImagesPerSec = median(res.RawRounds), median(res.PipelineRounds)
	res.PipelineRatio = res.PipelineImagesPerSec / res.RawImagesPerSec
	res.PreprocessPerInference = res.RawImagesPerSec / rep.PreprocessImagesPerSec
	if n := after.Batches - before.Batches; n > 0 {
		res.MeanBatch = float64(after.Images-before.Images) / float64(n)
	}
	res.Request = after.Request
	return res, nil
}

// benchRaw runs the model on x (n images) for d and returns images/s,
// with as many concurrent runs as the engine has runners (the limit the
// pipeline could reach).
func benchRaw(ctx context.Context, e *Engine, x []float32, n int, d time.Duration) (float64, error) {
	var images atomic.Int64
	var firstErr error
	var errOnce sync.Once
	var wg sync.WaitGroup
	start := time.Now()
	for range e.cfg.runners {
		wg.Go(func() {
			for time.Since(start) < d && ctx.Err() == nil {
				m := e.cur.Load()
				if m == nil {
					errOnce.Do(func() { firstErr = ErrModelNotLoaded })
					return
				}
				if _, err := m.run(x, n); err != nil {
					errOnce.Do(func() { firstErr = fmt.Errorf("infer: bench: raw run: %w", err) })
					return
				}
				images.Add(int64(n))
			}
		})
	}
	wg.Wait()
	if firstErr != nil {
		return 0, firstErr
	}
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	return float64(images.Load()) / time.Since(start).Seconds(), nil
}

// benchPipeline runs producers that each decode, preprocess and embed one
// image at a time, for d, handing each result to sink (when set); it
// returns answered images/s and how many requests the queue refused.
func benchPipeline(ctx context.Context, e *Engine, p *preprocess.Preprocessor, images [][]byte, producers int, d time.Duration, sink func(Result, []byte, []float32) error) (float64, uint64, error) {
	info, ok := e.Model()
	if !ok {
		return 0, 0, ErrModelNotLoaded
	}
	var next, done, dropped atomic.Uint64
	var stop atomic.Bool
	var firstErr error
	var errOnce sync.Once
	var wg sync.WaitGroup
	start := time.Now()
	timer := time.AfterFunc(d, func() { stop.Store(true) })
	defer timer.Stop()
	for range producers {
		wg.Go(func() {
			buf := make([]float32, p.Len())
			for !stop.Load() && ctx.Err() == nil {
				img := images[next.Add(1)%uint64(len(images))]
				if err := p.Bytes(buf, img); err != nil {
					errOnce.Do(func() { firstErr = err })
					return
				}
				res, err := e.Embed(ctx, Batch{Pixels: buf, N: 1, Model: info.SHA256})
				if err == nil && sink != nil {
					err = sink(res, img, buf)
				}
				switch {
				case errors.Is(err, ErrQueueFull):
					dropped.Add(1)
				case err != nil:
					errOnce.Do(func() { firstErr = err })
					return
				default:
					done.Add(1)
				}
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	if firstErr != nil {
		return 0, 0, fmt.Errorf("infer: bench: pipeline: %w", firstErr)
	}
	if err := ctx.Err(); err != nil {
		return 0, 0, err
	}
	return float64(done.Load()) / elapsed.Seconds(), dropped.Load(), nil
}

// benchPreprocess measures decoding plus preprocessing, one image at a
// time.
func benchPreprocess(ctx context.Context, p *preprocess.Preprocessor, images [][]byte, d time.Duration) (float64, error) {
	buf := make([]float32, p.Len())
	n := 0
	start := time.Now()
	for time.Since(start) < d {
		if err := ctx.Err(); err != nil {
			return 0, err
		}
		if err := p.Bytes(buf, images[n%len(images)]); err != nil {
			return 0, fmt.Errorf("infer: bench: image %d: %w", n%len(images), err)
		}
		n++
	}
	return float64(n) / time.Since(start).Seconds(), nil
}

// median of a non-empty list.
func median(v []float64) float64 {
	s := slices.Sorted(slices.Values(v))
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

package infer

import (
	"fmt"
	"log/slog"
	"time"
)

// Defaults of the options.
const (
	// DefaultBatchMax is the largest batch the batcher forms.
	DefaultBatchMax = 8
	// DefaultBatchWait is how long the batcher waits for a batch to fill
	// after the oldest queued request arrived.
	DefaultBatchWait = 10 * time.Millisecond
	// DefaultQueueSize is the queue's capacity in images.
	DefaultQueueSize = 64
	// DefaultWorkspace is TensorRT's default builder workspace, 1 GiB.
	DefaultWorkspace = 1 << 30
)

// TensorRTOptions configure the TensorRT execution provider. INT8 is
// always off: the exported models carry no calibration table.
type TensorRTOptions struct {
	// DeviceID is the GPU to use.
	DeviceID int
	// FP16 lets TensorRT run layers in half precision.
	FP16 bool
	// CacheDir is the root of the engine cache: the engines of a model are
	// kept in CacheDir/<model sha256>/, so a changed model never picks up
	// a stale engine, and the first (slow) build is done once per model.
	// Empty disables engine caching.
	CacheDir string
	// TimingCache keeps TensorRT's layer timing cache in
	// CacheDir/timing/, shared by all models on the device (it speeds up
	// building the engines of later models). Needs CacheDir.
	TimingCache bool
	// WorkspaceBytes bounds the builder's scratch memory (DefaultWorkspace
	// when 0).
	WorkspaceBytes int64
	// Extra holds further ONNX Runtime TensorRT provider options by their
	// documented names (e.g. "trt_builder_optimization_level"); they
	// override the fields above.
	Extra map[string]string
}

// CUDAOptions configure the CUDA execution provider.
type CUDAOptions struct {
	// DeviceID is the GPU to use.
	DeviceID int
	// Extra holds further ONNX Runtime CUDA provider options by their
	// documented names (e.g. "gpu_mem_limit"); they override DeviceID.
	Extra map[string]string
}

// config collects the options of New.
type config struct {
	providers []Provider
	trt       TensorRTOptions
	cuda      CUDAOptions
	threads   int
	spinning  bool
	batchMax  int
	batchWait time.Duration
	runners   int
	queue     int
	log       *slog.Logger
}

// Option adjusts an Engine.
type Option func(*config)

// WithProviders sets the execution providers to try, in order (default
// DefaultProviders).
func WithProviders(p ...Provider) Option {
	return func(c *config) { c.providers = append([]Provider(nil), p...) }
}

// WithTensorRT sets the TensorRT provider's options.
func WithTensorRT(o TensorRTOptions) Option { return func(c *config) { c.trt = o } }

// WithCUDA sets the CUDA provider's options.
func WithCUDA(o CUDAOptions) Option { return func(c *config) { c.cuda = o } }

// WithThreads sets ONNX Runtime's intra-op threads for the CPU provider
// (and the CPU part of GPU sessions); 0, the default, lets ONNX Runtime
// choose (one per physical core).
func WithThreads(n int) Option { return func(c *config) { c.threads = n } }

// WithRunners sets how many batches may run at once (default 1), each
// on its own goroutine calling the same session. With the CPU provider, a
// small model runs faster as two one-thread runs than as one two-thread
// run (its operators are too small to split well); give WithThreads the
// cores divided by the runners. On a GPU a second runner overlaps one
// batch's copies with another's compute.
func WithRunners(n int) Option { return func(c *config) { c.runners = n } }

// WithSpinning lets ONNX Runtime's worker threads spin while waiting for
// work (ONNX Runtime's own default). It is off by default here: spinning
// threads take the cores that decoding and preprocessing need between
// runs, and on the 2-core development machine turning it off did not make
// inference alone slower (in one measurement it made it faster).
func WithSpinning(on bool) Option { return func(c *config) { c.spinning = on } }

// WithBatch sets the largest batch the batcher forms and how long it waits
// for one to fill after the oldest queued request arrived (defaults
// DefaultBatchMax and DefaultBatchWait). Larger requests are split.
func WithBatch(max int, maxWait time.Duration) Option {
	return func(c *config) { c.batchMax, c.batchWait = max, maxWait }
}

// WithQueueSize sets the queue's capacity in images (default
// DefaultQueueSize); it must hold at least one full batch.
func WithQueueSize(images int) Option { return func(c *config) { c.queue = images } }

// WithLogger sets the logger (default slog.Default()).
func WithLogger(l *slog.Logger) Option { return func(c *config) { c.log = l } }

// newConfig applies opts over the defaults and validates the result.
func newConfig(opts []Option) (*config, error) {
	c := &config{
		providers: DefaultProviders(),
		batchMax:  DefaultBatchMax,
		batchWait: DefaultBatchWait,
		queue:     DefaultQueueSize,
		runners:   1,
	}
	for _, o := range opts {
		o(c)
	}
	if c.log == nil {
		c.log = slog.Default()
	}
	if c.trt.WorkspaceBytes == 0 {
		c.trt.WorkspaceBytes = DefaultWorkspace
	}
	if err := checkProviders(c.providers); err != nil {
		return nil, err
	}
	switch {
	case c.batchMax < 1:
		return nil, fmt.Errorf("infer: batch max %d: want at least 1", c.batchMax)
	case c.batchWait < 0:
		return nil, fmt.Errorf("infer: batch max_wait %v is negative", c.batchWait)
	case c.queue < c.batchMax:
		return nil, fmt.Errorf("infer: queue of %d images cannot hold one batch of %d", c.queue, c.batchMax)
	case c.threads < 0:
		return nil, fmt.Errorf("infer: %d threads", c.threads)
	case c.runners < 1:
		return nil, fmt.Errorf("infer: %d runners: want at least 1", c.runners)
	case c.queue < c.runners*c.batchMax:
		return nil, fmt.Errorf("infer: queue of %d images cannot feed %d runners batches of %d", c.queue, c.runners, c.batchMax)
	case c.trt.WorkspaceBytes < 0:
		return nil, fmt.Errorf("infer: TensorRT workspace of %d bytes", c.trt.WorkspaceBytes)
	case c.trt.TimingCache && c.trt.CacheDir == "":
		return nil, fmt.Errorf("infer: the TensorRT timing cache needs a cache directory")
	case c.trt.DeviceID < 0 || c.cuda.DeviceID < 0:
		return nil, fmt.Errorf("infer: negative GPU device id")
	}
	return c, nil
}

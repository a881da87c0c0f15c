package infer

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	ort "github.com/yalue/onnxruntime_go"

	"github.com/mocoedge/mocoedge/models/manifest"
	"github.com/mocoedge/mocoedge/models/onnxrun"
)

// buildProgressEvery is how often a slow session creation (a TensorRT
// engine build) is reported in the log.
const buildProgressEvery = 30 * time.Second

// opened is a session and the provider that serves it.
type opened struct {
	sess     *onnxrun.Session
	provider Provider
	skipped  []ProviderFailure
}

// openSession opens the model at path (whose bytes must hash to m.SHA256)
// with the first execution provider in the configured order that works.
// Each provider that fails is logged with ONNX Runtime's reason and
// recorded; when all fail the error wraps ErrNoProvider and lists them.
func (c *config) openSession(ctx context.Context, path string, m *manifest.Manifest) (*opened, error) {
	res := &opened{}
	for i, p := range c.providers {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		sess, err := c.openWith(path, m, p, c.providers[i+1:])
		if errors.Is(err, manifest.ErrHash) {
			// The file changed since it was verified: no provider will do
			// better.
			return nil, err
		}
		if err != nil {
			c.log.Warn("execution provider failed, trying the next",
				"provider", string(p), "model", m.Name, "sha256", m.SHA256, "reason", err.Error())
			res.skipped = append(res.skipped, ProviderFailure{Provider: p, Reason: err.Error()})
			continue
		}
		res.sess, res.provider = sess, p
		return res, nil
	}
	reasons := make([]string, len(res.skipped))
	for i, f := range res.skipped {
		reasons[i] = string(f.Provider) + ": " + f.Reason
	}
	return nil, fmt.Errorf("%w %s: %s", ErrNoProvider, path, strings.Join(reasons, "; "))
}

// openWith opens a session with provider p. later are the providers after
// p in the order: a TensorRT session also appends CUDA when it comes
// later, as ONNX Runtime recommends, so that nodes TensorRT does not take
// run on the GPU rather than the CPU.
func (c *config) openWith(path string, m *manifest.Manifest, p Provider, later []Provider) (*onnxrun.Session, error) {
	opts := []onnxrun.Option{
		onnxrun.WithThreads(c.threads),
		onnxrun.WithSHA256(m.SHA256),
		onnxrun.WithSessionOptions(c.commonOptions),
	}
	var appendErr error
	appendProvider := func(f func(*ort.SessionOptions) error) onnxrun.Option {
		return onnxrun.WithSessionOptions(func(so *ort.SessionOptions) error {
			appendErr = f(so)
			return appendErr
		})
	}
	switch p {
	case ProviderTensorRT:
		dir, err := c.trtCacheDir(m.SHA256)
		if err != nil {
			return nil, err
		}
		// Session creation is where TensorRT builds its engine: report it
		// once the provider is in.
		var stop func(error)
		opts = append(opts, appendProvider(func(so *ort.SessionOptions) error {
			if err := c.appendTensorRT(so, m, dir); err != nil {
				return err
			}
			stop = c.reportBuild(m, dir)
			return nil
		}))
		if slices.Contains(later, ProviderCUDA) {
			opts = append(opts, onnxrun.WithSessionOptions(func(so *ort.SessionOptions) error {
				if err := c.appendCUDA(so); err != nil {
					c.log.Warn("CUDA not added behind TensorRT; nodes TensorRT rejects will run on the CPU", "reason", err.Error())
				}
				return nil
			}))
		}
		sess, err := c.open(path, opts, &appendErr)
		if stop != nil {
			stop(err)
		}
		return sess, err
	case ProviderCUDA:
		opts = append(opts, appendProvider(c.appendCUDA))
	case ProviderCPU:
		// ONNX Runtime's CPU provider is always there.
	}
	return c.open(path, opts, &appendErr)
}

// open opens the session; when appending the provider failed, the error is
// ONNX Runtime's own, without onnxrun's wrapping.
func (c *config) open(path string, opts []onnxrun.Option, appendErr *error) (*onnxrun.Session, error) {
	sess, err := onnxrun.Open(path, opts...)
	if err != nil && *appendErr != nil {
		return nil, *appendErr
	}
	return sess, err
}

// commonOptions are the session options of every provider.
func (c *config) commonOptions(so *ort.SessionOptions) error {
	spin := "0"
	if c.spinning {
		spin = "1"
	}
	if err := so.AddSessionConfigEntry("session.intra_op.allow_spinning", spin); err != nil {
		return fmt.Errorf("allow_spinning: %w", err)
	}
	return nil
}

// trtCacheDir creates and returns CacheDir/<sha256>, or "" when engine
// caching is off.
func (c *config) trtCacheDir(sha string) (string, error) {
	if c.trt.CacheDir == "" {
		return "", nil
	}
	dir := filepath.Join(c.trt.CacheDir, sha)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("TensorRT engine cache: %w", err)
	}
	if c.trt.TimingCache {
		if err := os.MkdirAll(filepath.Join(c.trt.CacheDir, "timing"), 0o755); err != nil {
			return "", fmt.Errorf("TensorRT timing cache: %w", err)
		}
	}
	return dir, nil
}

// tensorRTSettings returns the TensorRT provider options for model m with
// engines cached in dir ("" for none). The optimisation profile covers
// batches of 1 to the batcher's maximum, tuned for the maximum, so that no
// batch size triggers a rebuild.
func (c *config) tensorRTSettings(m *manifest.Manifest, dir string) map[string]string {
	shape := func(n int) string {
		return fmt.Sprintf("%s:%dx3x%dx%d", manifest.InputName, n, m.Input.Height, m.Input.Width)
	}
	b := func(on bool) string {
		if on {
			return "1"
		}
		return "0"
	}
	s := map[string]string{
		"device_id":               strconv.Itoa(c.trt.DeviceID),
		"trt_fp16_enable":         b(c.trt.FP16),
		"trt_int8_enable":         "0",
		"trt_max_workspace_size":  strconv.FormatInt(c.trt.WorkspaceBytes, 10),
		"trt_engine_cache_enable": b(dir != ""),
		"trt_profile_min_shapes":  shape(1),
		"trt_profile_opt_shapes":  shape(c.batchMax),
		"trt_profile_max_shapes":  shape(c.batchMax),
	}
	if dir != "" {
		s["trt_engine_cache_path"] = dir
		s["trt_timing_cache_enable"] = b(c.trt.TimingCache)
		if c.trt.TimingCache {
			s["trt_timing_cache_path"] = filepath.Join(c.trt.CacheDir, "timing")
		}
	}
	maps.Copy(s, c.trt.Extra)
	return s
}

// appendTensorRT adds the TensorRT provider to so. With a CPU-only build
// of ONNX Runtime (the npm one), setting the options already fails with
// ONNX Runtime's "Failed to load library .../libonnxruntime_providers_shared.so
// with error: ... cannot open shared object file", and appending would say
// "Failed to load shared library": the fallback logs that reason verbatim.
func (c *config) appendTensorRT(so *ort.SessionOptions, m *manifest.Manifest, dir string) error {
	o, err := ort.NewTensorRTProviderOptions()
	if err != nil {
		return err
	}
	defer o.Destroy()
	if err := o.Update(c.tensorRTSettings(m, dir)); err != nil {
		return err
	}
	return so.AppendExecutionProviderTensorRT(o)
}

// cudaSettings returns the CUDA provider options.
func (c *config) cudaSettings() map[string]string {
	s := map[string]string{"device_id": strconv.Itoa(c.cuda.DeviceID)}
	maps.Copy(s, c.cuda.Extra)
	return s
}

// appendCUDA adds the CUDA provider to so.
func (c *config) appendCUDA(so *ort.SessionOptions) error {
	o, err := ort.NewCUDAProviderOptions()
	if err != nil {
		return err
	}
	defer o.Destroy()
	if err := o.Update(c.cudaSettings()); err != nil {
		return err
	}
	return so.AppendExecutionProviderCUDA(o)
}

// reportBuild logs that a TensorRT session is being created and, while it
// lasts, how long it has taken: the first engine build of a model takes
// minutes on a Jetson. It returns the function that stops the reports,
// given the session's error.
func (c *config) reportBuild(m *manifest.Manifest, dir string) (stop func(error)) {
	cached := false
	if dir != "" {
		if entries, err := os.ReadDir(dir); err == nil && len(entries) > 0 {
			cached = true
		}
	}
	if cached {
		c.log.Info("opening TensorRT session from the engine cache", "model", m.Name, "cache", dir)
	} else {
		c.log.Info("opening TensorRT session; building an engine can take minutes on a Jetson",
			"model", m.Name, "sha256", m.SHA256, "cache", dir, "fp16", c.trt.FP16)
	}
	start := time.Now()
	done := make(chan struct{})
	go func() {
		t := time.NewTicker(buildProgressEvery)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				c.log.Info("still building the TensorRT engine", "model", m.Name, "elapsed", time.Since(start).Round(time.Second).String())
			}
		}
	}()
	return func(err error) {
		close(done)
		if d := time.Since(start); err == nil && d > time.Second {
			c.log.Info("TensorRT session ready", "model", m.Name, "took", d.Round(time.Millisecond).String())
		}
	}
}

package infer

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sync"
	"time"

	"github.com/mocoedge/mocoedge/models/manifest"
	"github.com/mocoedge/mocoedge/models/onnxrun"
)

// ModelInfo describes the model an Engine serves, so that callers can
// preprocess for it and tell models apart (embeddings of different models
// are not comparable).
type ModelInfo struct {
	// Path is the ONNX file the model was loaded from.
	Path string `json:"path"`
	// SHA256 is the ONNX file's hex SHA-256, the model's identity.
	SHA256 string `json:"sha256"`
	// Name, Arch and Method come from the manifest.
	Name   string `json:"name"`
	Arch   string `json:"arch"`
	Method string `json:"method"`
	// Input is the preprocessing the model expects: size, resize, crop,
	// mean and std (see package preprocess).
	Input manifest.Input `json:"input"`
	// Features is C, the width of the features output.
	Features int `json:"features"`
	// Embedding is D, the width of the embedding output.
	Embedding int `json:"embedding"`
	// Provider is the execution provider that serves the model.
	Provider Provider `json:"provider"`
	// Skipped lists the providers tried before Provider, with the reasons
	// they failed.
	Skipped []ProviderFailure `json:"skipped,omitempty"`
	// Loaded is when the model started serving.
	Loaded time.Time `json:"loaded"`
}

// ImageLen is the number of float32 values one preprocessed image holds:
// 3×Height×Width.
func (m ModelInfo) ImageLen() int { return 3 * m.Input.Height * m.Input.Width }

// errRetired is returned by model.run after the model was replaced and
// closed; the batcher then runs on the new one.
var errRetired = errors.New("model retired")

// model is a loaded, validated model and its session. Runs hold mu for
// reading; retire takes it for writing, so the session is closed only
// when no run uses it.
type model struct {
	info    ModelInfo
	sess    *onnxrun.Session
	mu      sync.RWMutex
	retired bool
}

// run runs n images on the session.
func (m *model) run(x []float32, n int) (onnxrun.Output, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	if m.retired {
		return onnxrun.Output{}, errRetired
	}
	return m.sess.Run(x, n)
}

// retire waits for runs in flight, then closes the session.
func (m *model) retire() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.retired {
		return nil
	}
	m.retired = true
	return m.sess.Close()
}

// load reads and verifies the manifest beside path, opens a session with
// the first provider that works, and validates it with dry runs of zeros
// (at the largest batch and at one image), which also warm it up. Every
// refusal wraps ErrModelRefused and the cause.
func (c *config) load(ctx context.Context, path string) (*model, error) {
	refuse := func(err error) error {
		if errors.Is(err, ErrModelRefused) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
			return err
		}
		return fmt.Errorf("%w: %s: %w", ErrModelRefused, path, err)
	}
	man, err := manifest.Load(path)
	if err != nil {
		return nil, refuse(err)
	}
	start := time.Now()
	op, err := c.openSession(ctx, path, man)
	if err != nil {
		return nil, refuse(err)
	}
	m := &model{sess: op.sess, info: ModelInfo{
		Path: path, SHA256: man.SHA256, Name: man.Name, Arch: man.Arch, Method: man.Method,
		Input: man.Input, Features: man.Outputs.Features, Embedding: man.Outputs.Embedding,
		Provider: op.provider, Skipped: op.skipped,
	}}
	if err := c.validate(ctx, m); err != nil {
		m.retire()
		return nil, refuse(err)
	}
	m.info.Loaded = time.Now()
	c.log.Info("model ready", "model", man.Name, "sha256", man.SHA256, "path", path,
		"provider", string(op.provider), "input", fmt.Sprintf("%dx%d", man.Input.Width, man.Input.Height),
		"features", man.Outputs.Features, "embedding", man.Outputs.Embedding,
		"took", time.Since(start).Round(time.Millisecond).String())
	return m, nil
}

// validate checks the session against the manifest and dry-runs batches
// of zeros: both outputs must have the promised shapes, be finite, and
// every embedding row must be L2-normalised (length 1, or 0 for an
// all-zero row).
func (c *config) validate(ctx context.Context, m *model) error {
	in := m.info.Input
	if h, w := m.sess.Input(); h != in.Height || w != in.Width {
		return fmt.Errorf("the session takes %dx%d images, the manifest says %dx%d", w, h, in.Width, in.Height)
	}
	if f, e := m.sess.Widths(); f != m.info.Features || e != m.info.Embedding {
		return fmt.Errorf("the session outputs features %d and embedding %d, the manifest says %d and %d", f, e, m.info.Features, m.info.Embedding)
	}
	sizes := []int{c.batchMax}
	if c.batchMax > 1 {
		sizes = append(sizes, 1)
	}
	x := make([]float32, c.batchMax*m.info.ImageLen())
	for _, n := range sizes {
		if err := ctx.Err(); err != nil {
			return err
		}
		out, err := m.run(x[:n*m.info.ImageLen()], n)
		if err != nil {
			return fmt.Errorf("dry run of %d images: %w", n, err)
		}
		if err := checkOutput(out, n, m.info.Features, m.info.Embedding); err != nil {
			return fmt.Errorf("dry run of %d images: %w", n, err)
		}
	}
	return nil
}

// checkOutput checks one batch's outputs.
func checkOutput(out onnxrun.Output, n, c, d int) error {
	if len(out.Features) != n*c || len(out.Embedding) != n*d {
		return fmt.Errorf("outputs of %d and %d values, want %d×%d and %d×%d", len(out.Features), len(out.Embedding), n, c, n, d)
	}
	for _, o := range []struct {
		name string
		v    []float32
	}{{manifest.FeaturesName, out.Features}, {manifest.EmbeddingName, out.Embedding}} {
		for i, x := range o.v {
			if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
				return fmt.Errorf("%s value %d is %v", o.name, i, x)
			}
		}
	}
	for r := range n {
		var s float64
		for _, x := range out.Embedding[r*d : (r+1)*d] {
			s += float64(x) * float64(x)
		}
		if norm := math.Sqrt(s); norm > 1e-6 && math.Abs(norm-1) > 1e-3 {
			return fmt.Errorf("embedding row %d has length %.6g; the contract is L2-normalised rows", r, norm)
		}
	}
	return nil
}

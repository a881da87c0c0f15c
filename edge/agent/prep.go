package agent

import (
	"fmt"
	"sync"

	"github.com/mocoedge/mocoedge/edge/config"
	"github.com/mocoedge/mocoedge/edge/preprocess"
	"github.com/mocoedge/mocoedge/models/manifest"
)

// prepCache keeps one Preprocessor per model input description, so that a
// reload to a model with the same input reuses it and frames prepared for
// either model stay valid.
type prepCache struct {
	opts []preprocess.Option

	mu    sync.Mutex
	preps map[manifest.Input]*preprocess.Preprocessor
	bufs  map[int]*sync.Pool // pixel buffers by length
}

// newPrepCache checks the preprocessing configuration, loading
// libjpeg-turbo once to see whether it is there when asked for.
func newPrepCache(c config.Preprocess) (*prepCache, error) {
	opts, err := PreprocessOptions(c)
	if err != nil {
		return nil, err
	}
	return &prepCache{opts: opts, preps: map[manifest.Input]*preprocess.Preprocessor{}, bufs: map[int]*sync.Pool{}}, nil
}

// PreprocessOptions turns the preprocess section into preprocess options.
// turbojpeg "auto" uses libjpeg-turbo when its library loads, "on" requires
// it, "off" decodes with the standard library, and anything else is the
// library's path.
func PreprocessOptions(c config.Preprocess) ([]preprocess.Option, error) {
	opts := []preprocess.Option{preprocess.WithMaxPixels(c.MaxPixels), preprocess.WithWorkers(c.Workers)}
	probe := func(path string) error {
		p, err := preprocess.New(manifest.Input{Height: 1, Width: 1, Resize: 1, Crop: 1, Std: [3]float32{1, 1, 1}, Color: "RGB"},
			preprocess.WithTurboJPEG(path))
		if err != nil {
			return err
		}
		return p.Close()
	}
	switch c.TurboJPEG {
	case "", "off":
	case "auto":
		if probe("") == nil {
			opts = append(opts, preprocess.WithTurboJPEG(""))
		}
	case "on":
		if err := probe(""); err != nil {
			return nil, fmt.Errorf("preprocess.turbojpeg on: %w", err)
		}
		opts = append(opts, preprocess.WithTurboJPEG(""))
	default:
		if err := probe(c.TurboJPEG); err != nil {
			return nil, fmt.Errorf("preprocess.turbojpeg: %w", err)
		}
		opts = append(opts, preprocess.WithTurboJPEG(c.TurboJPEG))
	}
	return opts, nil
}

// get returns the Preprocessor for in, creating it on first use.
func (c *prepCache) get(in manifest.Input) (*preprocess.Preprocessor, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if p, ok := c.preps[in]; ok {
		return p, nil
	}
	p, err := preprocess.New(in, c.opts...)
	if err != nil {
		return nil, fmt.Errorf("preprocessing for the model's input: %w", err)
	}
	c.preps[in] = p
	if _, ok := c.bufs[p.Len()]; !ok {
		n := p.Len()
		c.bufs[n] = &sync.Pool{New: func() any { b := make([]float32, n); return &b }}
	}
	return p, nil
}

// buffer returns a pixel buffer of n values and the function that gives it
// back.
func (c *prepCache) buffer(n int) ([]float32, func()) {
	c.mu.Lock()
	pool, ok := c.bufs[n]
	if !ok {
		pool = &sync.Pool{New: func() any { b := make([]float32, n); return &b }}
		c.bufs[n] = pool
	}
	c.mu.Unlock()
	b := pool.Get().(*[]float32)
	return *b, func() { pool.Put(b) }
}

// close releases the preprocessors.
func (c *prepCache) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, p := range c.preps {
		p.Close()
	}
	c.preps = nil
}

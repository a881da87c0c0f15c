package preprocess

import "runtime"

// Default limits on the images Bytes accepts.
const (
	// DefaultMaxPixels is the default limit on width×height: 40
	// megapixels, above 8K UHD (33 MP), while the decoded RGBA of the
	// largest accepted image stays at 160 MB.
	DefaultMaxPixels = 40_000_000
	// DefaultMaxSide is the default limit on the longer side, in pixels.
	DefaultMaxSide = 16384
)

// config collects the options of New.
type config struct {
	maxPixels int
	maxSide   int
	workers   int
	turbo     bool
	turboPath string
}

// Option adjusts a Preprocessor.
type Option func(*config)

// WithMaxPixels sets the largest width×height accepted (DefaultMaxPixels
// when n <= 0).
func WithMaxPixels(n int) Option { return func(c *config) { c.maxPixels = n } }

// WithMaxSide sets the longest side accepted, in pixels (DefaultMaxSide
// when n <= 0).
func WithMaxSide(n int) Option { return func(c *config) { c.maxSide = n } }

// WithWorkers sets how many goroutines Batch uses (GOMAXPROCS when n <= 0).
func WithWorkers(n int) Option { return func(c *config) { c.workers = n } }

// WithTurboJPEG decodes JPEG with libjpeg-turbo (its TurboJPEG API, from
// the shared library at path, TurboJPEGLibrary when empty), loaded at run
// time without cgo; New fails when it cannot be loaded. It decodes several
// times faster than image/jpeg, but its integer IDCT and colour conversion
// round differently: pixels differ by a grey level or so from image/jpeg's,
// which the training side uses, so embeddings are close to, not equal to,
// `trainer embed`'s. PNG is always decoded by image/png.
func WithTurboJPEG(path string) Option {
	return func(c *config) { c.turbo, c.turboPath = true, path }
}

// defaults fills unset options.
func (c *config) defaults() {
	if c.maxPixels <= 0 {
		c.maxPixels = DefaultMaxPixels
	}
	if c.maxSide <= 0 {
		c.maxSide = DefaultMaxSide
	}
	if c.workers <= 0 {
		c.workers = runtime.GOMAXPROCS(0)
	}
}

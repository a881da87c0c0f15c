package source

import (
	"fmt"
	"log/slog"
	"net/http"
	"time"
)

// Defaults of the options and of zero fields of config.Source.
const (
	// DefaultBuffer is a source's mailbox size in frames.
	DefaultBuffer = 2
	// DefaultWidth and DefaultHeight are the size ffmpeg and gstreamer
	// sources scale frames to.
	DefaultWidth  = 640
	DefaultHeight = 480
	// DefaultFFmpeg and DefaultGStreamer are the binaries run, looked up on
	// PATH.
	DefaultFFmpeg    = "ffmpeg"
	DefaultGStreamer = "gst-launch-1.0"
	// DefaultBackoffMin is the first delay before a failed source starts
	// again; it doubles up to DefaultBackoffMax.
	DefaultBackoffMin = 500 * time.Millisecond
	// DefaultBackoffMax caps the restart delay.
	DefaultBackoffMax = 30 * time.Second
	// DefaultHealthyRun is how long a run must deliver frames for the
	// back-off to start over from the minimum.
	DefaultHealthyRun = 10 * time.Second
	// DefaultMaxFileBytes bounds the files read by files and watch sources.
	DefaultMaxFileBytes = 50 << 20
	// DefaultMaxPartBytes bounds one part of an MJPEG stream.
	DefaultMaxPartBytes = 16 << 20
	// DefaultSettle is how long a watched file must stay unchanged to be
	// taken as completely written.
	DefaultSettle = time.Second
	// DefaultStallTimeout is how long a subprocess or an MJPEG stream may go
	// without delivering a frame before it is restarted.
	DefaultStallTimeout = 30 * time.Second
	// maxDimension bounds width and height.
	maxDimension = 8192
)

// Option configures a Hub.
type Option func(*options)

// options collects the options of New.
type options struct {
	log          *slog.Logger
	backoffMin   time.Duration
	backoffMax   time.Duration
	healthyRun   time.Duration
	maxFileBytes int64
	maxPartBytes int64
	settle       time.Duration
	stall        time.Duration
	client       *http.Client
}

func defaultOptions() options {
	return options{
		log:          slog.Default(),
		backoffMin:   DefaultBackoffMin,
		backoffMax:   DefaultBackoffMax,
		healthyRun:   DefaultHealthyRun,
		maxFileBytes: DefaultMaxFileBytes,
		maxPartBytes: DefaultMaxPartBytes,
		settle:       DefaultSettle,
		stall:        DefaultStallTimeout,
		client:       &http.Client{},
	}
}

func (o *options) validate() error {
	switch {
	case o.log == nil:
		return fmt.Errorf("%w: nil logger", ErrInvalid)
	case o.backoffMin <= 0 || o.backoffMax < o.backoffMin:
		return fmt.Errorf("%w: back-off from %s to %s: want 0 < min <= max", ErrInvalid, o.backoffMin, o.backoffMax)
	case o.healthyRun < 0:
		return fmt.Errorf("%w: negative healthy run %s", ErrInvalid, o.healthyRun)
	case o.maxFileBytes <= 0:
		return fmt.Errorf("%w: file size limit %d bytes", ErrInvalid, o.maxFileBytes)
	case o.maxPartBytes <= 0:
		return fmt.Errorf("%w: part size limit %d bytes", ErrInvalid, o.maxPartBytes)
	case o.settle <= 0:
		return fmt.Errorf("%w: settle time %s", ErrInvalid, o.settle)
	case o.stall <= 0:
		return fmt.Errorf("%w: stall timeout %s", ErrInvalid, o.stall)
	case o.client == nil:
		return fmt.Errorf("%w: nil HTTP client", ErrInvalid)
	}
	return nil
}

// WithLogger sets the logger (default slog.Default()); every line carries
// the source's name and kind.
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.log = l } }

// WithBackoff sets the restart delays of failed sources: the first delay
// and the cap it doubles up to (defaults DefaultBackoffMin and
// DefaultBackoffMax).
func WithBackoff(lo, hi time.Duration) Option {
	return func(o *options) { o.backoffMin, o.backoffMax = lo, hi }
}

// WithHealthyRun sets how long a run must deliver frames for the next
// failure to start the back-off over from its minimum (default
// DefaultHealthyRun).
func WithHealthyRun(d time.Duration) Option { return func(o *options) { o.healthyRun = d } }

// WithMaxFileBytes bounds the image files that files and watch sources read
// (default DefaultMaxFileBytes); bigger ones are counted as errors and
// passed over.
func WithMaxFileBytes(n int64) Option { return func(o *options) { o.maxFileBytes = n } }

// WithMaxPartBytes bounds one part of an MJPEG stream (default
// DefaultMaxPartBytes); a bigger part breaks the connection, which is made
// again after the back-off.
func WithMaxPartBytes(n int64) Option { return func(o *options) { o.maxPartBytes = n } }

// WithSettle sets how long a watched file must stay unchanged before it is
// read (default DefaultSettle).
func WithSettle(d time.Duration) Option { return func(o *options) { o.settle = d } }

// WithStallTimeout sets how long an ffmpeg, gstreamer or MJPEG source may
// deliver no frame before it is restarted (default DefaultStallTimeout).
func WithStallTimeout(d time.Duration) Option { return func(o *options) { o.stall = d } }

// WithHTTPClient sets the client of MJPEG sources (default a client without
// a timeout: streams do not end; stalls are caught by WithStallTimeout).
func WithHTTPClient(c *http.Client) Option { return func(o *options) { o.client = c } }

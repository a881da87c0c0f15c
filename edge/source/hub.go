package source

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"path/filepath"
	"regexp"
	"sync"
	"time"

	"github.com/mocoedge/mocoedge/edge/config"
)

// Kinds of sources (config.Source.Kind), as the configuration names them.
const (
	KindFiles     = config.KindFiles
	KindWatch     = config.KindWatch
	KindFFmpeg    = config.KindFFmpeg
	KindGStreamer = config.KindGStreamer
	KindMJPEG     = config.KindMJPEG
	KindBridge    = config.KindBridge
)

// States a source reports in Stats.State.
const (
	// StateIdle: Run has not started yet.
	StateIdle = "idle"
	// StateStarting: the source is opening its input (starting its process,
	// connecting, adding its watch).
	StateStarting = "starting"
	// StateRunning: the source delivers frames (or waits for them).
	StateRunning = "running"
	// StateBackoff: the source failed and waits to start again.
	StateBackoff = "backoff"
	// StateFinished: a finite source is done, without error.
	StateFinished = "finished"
	// StateStopped: Run's context ended.
	StateStopped = "stopped"
)

// Frame is one captured frame.
type Frame struct {
	// Source is the source's name.
	Source string
	// Seq numbers the frames a source captured, from 1; a gap in what Next
	// returns is a frame skipped by the rate cap or dropped from a full
	// mailbox.
	Seq uint64
	// Time is the capture time (when the frame was read).
	Time time.Time
	// Image holds the encoded image bytes (JPEG, PNG) of frames from files,
	// watch, mjpeg and bridge sources, undecoded; nil for raw frames.
	Image []byte
	// RGB holds packed RGB24 rows, Width*Height*3 bytes, when Image is nil
	// (ffmpeg and gstreamer sources).
	RGB []byte
	// Width and Height are RGB's size.
	Width, Height int
	// Path is the file the frame came from, when it did.
	Path string
}

// Stats describes one source.
type Stats struct {
	// Name and Kind are the source's.
	Name, Kind string
	// State is one of the State constants.
	State string
	// Running is true while the source is up and delivering (StateRunning).
	Running bool
	// Frames counts the frames captured (the last Seq).
	Frames uint64
	// Skipped counts the frames the fps cap or the interval left out.
	Skipped uint64
	// Dropped counts the frames pushed out of a full mailbox (oldest first).
	Dropped uint64
	// Errors counts failures: of the source (each followed by a restart) and
	// of single files or frames passed over.
	Errors uint64
	// Restarts counts the times the source was started again after a
	// failure.
	Restarts uint64
	// Queued is the number of frames waiting in the mailbox.
	Queued int
	// LastError is the text of the latest error, LastErrorTime its time.
	LastError     string
	LastErrorTime time.Time
	// PID is the process id of the running ffmpeg or gst-launch-1.0, else 0.
	PID int
	// FPS is the measured rate of captured frames over the last few
	// seconds.
	FPS float64
	// LastFrame is the capture time of the latest frame.
	LastFrame time.Time
}

// Hub runs the configured sources and hands their frames to the pipeline.
// Its methods are safe for concurrent use.
type Hub struct {
	opts   options
	srcs   []*src
	byName map[string]*src

	mu      sync.Mutex // guards what follows and every src's mutable fields
	rr      int        // the mailbox Next looks at first
	wake    chan struct{}
	waiting int           // goroutines in Next waiting on wake
	room    chan struct{} // closed and replaced when Next takes a frame
	roomers int           // files sources waiting on room
	started bool          // Run was called
	ended   bool          // Run returned
	live    int           // sources that can still produce frames (during Run)
}

// src is one source: its configuration (read-only after New) and, under
// Hub.mu, its mailbox and counters.
type src struct {
	h    *Hub
	cfg  config.Source
	log  *slog.Logger
	gate gate // skips frames before the mailbox; period 0 for files (paced)

	box       mailbox
	latest    Frame
	hasLatest bool
	seq       uint64
	skipped   uint64
	dropped   uint64
	errors    uint64
	restarts  uint64
	state     string
	lastErr   string
	lastErrAt time.Time
	pid       int
	meter     meter
}

var namePattern = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)

// New checks the source specifications, applies the defaults to their zero
// fields (buffer 2, 640x480, the ffmpeg and gst-launch-1.0 binaries) and
// returns a Hub ready to Run. Every problem found is reported, wrapped
// around ErrInvalid.
func New(specs []config.Source, opts ...Option) (*Hub, error) {
	o := defaultOptions()
	for _, opt := range opts {
		opt(&o)
	}
	if err := o.validate(); err != nil {
		return nil, err
	}
	h := &Hub{opts: o, byName: make(map[string]*src, len(specs)), wake: make(chan struct{}), room: make(chan struct{})}
	var errs []error
	for i, spec := range specs {
		c, err := withDefaults(spec)
		if err != nil {
			errs = append(errs, fmt.Errorf("source %d (%q): %w", i, spec.Name, err))
			continue
		}
		if _, dup := h.byName[c.Name]; dup {
			errs = append(errs, fmt.Errorf("source %d: %w: name %q used twice", i, ErrInvalid, c.Name))
			continue
		}
		s := &src{
			h:     h,
			cfg:   c,
			log:   o.log.With("source", c.Name, "kind", c.Kind),
			box:   mailbox{buf: make([]Frame, c.Buffer)},
			state: StateIdle,
		}
		if c.Kind != KindFiles {
			s.gate.period = period(c)
		}
		h.srcs = append(h.srcs, s)
		h.byName[c.Name] = s
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return h, nil
}

// period is the shortest time between kept frames: the longer of 1/fps and
// the interval (0: keep every frame).
func period(c config.Source) time.Duration {
	var p time.Duration
	if c.FPS > 0 {
		p = time.Duration(float64(time.Second) / c.FPS)
	}
	return max(p, c.Interval.D())
}

// withDefaults checks one specification and fills its zero fields.
func withDefaults(c config.Source) (config.Source, error) {
	bad := func(format string, a ...any) (config.Source, error) {
		return c, fmt.Errorf("%w: %s", ErrInvalid, fmt.Sprintf(format, a...))
	}
	if !namePattern.MatchString(c.Name) {
		return bad("name %q: want letters, digits, - and _", c.Name)
	}
	if c.Buffer == 0 {
		c.Buffer = DefaultBuffer
	}
	if c.Width == 0 {
		c.Width = DefaultWidth
	}
	if c.Height == 0 {
		c.Height = DefaultHeight
	}
	switch {
	case c.Buffer < 0:
		return bad("buffer %d", c.Buffer)
	case c.Width < 0 || c.Height < 0 || c.Width > maxDimension || c.Height > maxDimension:
		return bad("size %dx%d: want 1 to %d pixels a side", c.Width, c.Height, maxDimension)
	case c.FPS < 0 || c.FPS != c.FPS:
		return bad("fps %v", c.FPS)
	case c.Interval < 0:
		return bad("interval %s", c.Interval)
	}
	switch c.Kind {
	case KindFiles, KindWatch:
		if c.Path == "" {
			return bad("kind %s needs a path", c.Kind)
		}
		if _, err := filepath.Match(c.Path, ""); err != nil {
			return bad("path %q: %v", c.Path, err)
		}
	case KindFFmpeg:
		if c.Input == "" {
			return bad("kind ffmpeg needs an input")
		}
		if c.Command == "" {
			c.Command = DefaultFFmpeg
		}
	case KindGStreamer:
		if c.Command == "" {
			c.Command = DefaultGStreamer
		}
		if _, err := gstreamerCommand(c); err != nil {
			return bad("%v", err)
		}
	case KindMJPEG:
		u, err := url.Parse(c.URL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return bad("url %q: want an http:// or https:// URL", c.URL)
		}
	case KindBridge:
	case "":
		return bad("no kind (want files, watch, ffmpeg, gstreamer, mjpeg or bridge)")
	default:
		return bad("kind %q (want files, watch, ffmpeg, gstreamer, mjpeg or bridge)", c.Kind)
	}
	return c, nil
}

// Run runs every source until ctx ends, each in its own goroutine, and
// returns when all have stopped (processes killed and waited for). It
// returns earlier when every source is done for good (finite inputs without
// loop) and none is a bridge source. Run may be called once; later calls
// return ErrAlreadyRunning. It returns nil.
func (h *Hub) Run(ctx context.Context) error {
	h.mu.Lock()
	if h.started {
		h.mu.Unlock()
		return ErrAlreadyRunning
	}
	h.started = true
	bridges := 0
	for _, s := range h.srcs {
		h.live++
		s.state = StateStarting
		if s.cfg.Kind == KindBridge {
			s.state = StateRunning
			bridges++
		}
	}
	h.mu.Unlock()

	var wg sync.WaitGroup
	for _, s := range h.srcs {
		run := s.runner()
		if run == nil {
			continue
		}
		wg.Go(func() {
			run(ctx)
			s.end(ctx)
		})
	}
	wg.Wait()
	if bridges > 0 {
		<-ctx.Done()
	}

	h.mu.Lock()
	defer h.mu.Unlock()
	h.ended = true
	for _, s := range h.srcs {
		if s.state != StateFinished {
			s.state = StateStopped
		}
		s.pid = 0
	}
	h.broadcast()
	return nil
}

// runner returns the goroutine body of a source, nil for bridge sources.
func (s *src) runner() func(context.Context) {
	switch s.cfg.Kind {
	case KindFiles:
		return func(ctx context.Context) { s.supervise(ctx, s.filesOnce) }
	case KindWatch:
		return func(ctx context.Context) { s.supervise(ctx, s.watchOnce) }
	case KindFFmpeg:
		return func(ctx context.Context) { s.supervise(ctx, s.rawOnce(ffmpegCommand)) }
	case KindGStreamer:
		return func(ctx context.Context) { s.supervise(ctx, s.rawOnce(gstreamerCommand)) }
	case KindMJPEG:
		return func(ctx context.Context) { s.supervise(ctx, s.mjpegOnce) }
	}
	return nil
}

// end records that a source's goroutine returned.
func (s *src) end(ctx context.Context) {
	h := s.h
	h.mu.Lock()
	defer h.mu.Unlock()
	h.live--
	if ctx.Err() != nil && s.state != StateFinished {
		s.state = StateStopped
	}
	s.pid = 0
	h.broadcast()
}

// broadcast wakes every goroutine waiting in Next. Call with h.mu held.
func (h *Hub) broadcast() {
	if h.waiting > 0 {
		close(h.wake)
		h.wake = make(chan struct{})
		h.waiting = 0
	}
}

// Next returns the next frame for the pipeline: it visits the sources'
// mailboxes round robin, one frame per source per turn, and blocks until a
// frame is ready or ctx ends (ctx's error). Once every source has ended and
// every mailbox is empty it returns ErrEnded. Several goroutines may call
// Next at once; each frame goes to one of them.
func (h *Hub) Next(ctx context.Context) (Frame, error) {
	for {
		h.mu.Lock()
		n := len(h.srcs)
		for i := range n {
			k := (h.rr + i) % n
			if f, ok := h.srcs[k].box.pop(); ok {
				h.rr = (k + 1) % n
				if h.roomers > 0 {
					close(h.room)
					h.room = make(chan struct{})
					h.roomers = 0
				}
				h.mu.Unlock()
				return f, nil
			}
		}
		if h.ended || (h.started && h.live == 0) {
			h.mu.Unlock()
			return Frame{}, ErrEnded
		}
		wake := h.wake
		h.waiting++
		h.mu.Unlock()
		select {
		case <-ctx.Done():
			return Frame{}, ctx.Err()
		case <-wake:
		}
	}
}

// Latest returns the most recent frame the named source captured, even if
// it was consumed, skipped or dropped; false when the source is unknown or
// has captured nothing yet. The frame's byte slices are shared: do not
// modify them.
func (h *Hub) Latest(name string) (Frame, bool) {
	s, ok := h.byName[name]
	if !ok {
		return Frame{}, false
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	return s.latest, s.hasLatest
}

// Push enters a frame of a bridge source (a camera frame from the firmware
// bridge): it gets the source's name and next Seq, the current time when
// its Time is zero, and goes through the rate cap into the mailbox like
// any other frame. Push never blocks. It fails for an unknown name
// (ErrUnknownSource), a source of another kind (ErrNotBridge) and a frame
// without bytes (ErrEmptyFrame).
func (h *Hub) Push(name string, f Frame) error {
	s, ok := h.byName[name]
	switch {
	case !ok:
		return fmt.Errorf("push to %q: %w", name, ErrUnknownSource)
	case s.cfg.Kind != KindBridge:
		return fmt.Errorf("push to %q (kind %s): %w", name, s.cfg.Kind, ErrNotBridge)
	case f.Image == nil && f.RGB == nil:
		return fmt.Errorf("push to %q: %w", name, ErrEmptyFrame)
	case f.Image == nil && len(f.RGB) != f.Width*f.Height*3:
		return fmt.Errorf("push to %q: %d RGB bytes for %dx%d: %w", name, len(f.RGB), f.Width, f.Height, ErrInvalid)
	}
	s.emit(f)
	return nil
}

// Stats returns the state and counters of every source, in configuration
// order.
func (h *Hub) Stats() []Stats {
	now := time.Now()
	h.mu.Lock()
	defer h.mu.Unlock()
	out := make([]Stats, len(h.srcs))
	for i, s := range h.srcs {
		out[i] = Stats{
			Name:          s.cfg.Name,
			Kind:          s.cfg.Kind,
			State:         s.state,
			Running:       s.state == StateRunning,
			Frames:        s.seq,
			Skipped:       s.skipped,
			Dropped:       s.dropped,
			Errors:        s.errors,
			Restarts:      s.restarts,
			Queued:        s.box.n,
			LastError:     s.lastErr,
			LastErrorTime: s.lastErrAt,
			PID:           s.pid,
			FPS:           s.meter.rate(now),
			LastFrame:     s.latest.Time,
		}
	}
	return out
}

// emit numbers a captured frame, makes it the latest, and puts it into the
// mailbox unless the rate cap skips it; a full mailbox drops its oldest
// frame. It never blocks.
func (s *src) emit(f Frame) {
	now := time.Now()
	if f.Time.IsZero() {
		f.Time = now
	}
	h := s.h
	h.mu.Lock()
	defer h.mu.Unlock()
	s.seq++
	f.Seq = s.seq
	f.Source = s.cfg.Name
	s.latest, s.hasLatest = f, true
	s.meter.add(now)
	if !s.gate.allow(f.Time) {
		s.skipped++
		return
	}
	if s.box.push(f) {
		s.dropped++
	}
	h.broadcast()
}

// waitRoom blocks until the source's mailbox has room for a frame; it
// reports false when ctx ended first. Files sources call it before reading
// the next file: they are not live, so instead of dropping frames the
// pipeline cannot take yet, they wait for it (back-pressure).
func (s *src) waitRoom(ctx context.Context) bool {
	h := s.h
	for {
		h.mu.Lock()
		if s.box.n < len(s.box.buf) {
			h.mu.Unlock()
			return true
		}
		room := h.room
		h.roomers++
		h.mu.Unlock()
		select {
		case <-ctx.Done():
			return false
		case <-room:
		}
	}
}

// setState records the source's state.
func (s *src) setState(state string) {
	s.h.mu.Lock()
	s.state = state
	s.h.mu.Unlock()
}

// setPID records the process id of the source's subprocess (0: none).
func (s *src) setPID(pid int) {
	s.h.mu.Lock()
	s.pid = pid
	s.h.mu.Unlock()
}

// fail counts and logs an error; the source carries on.
func (s *src) fail(err error) {
	s.h.mu.Lock()
	s.errors++
	s.lastErr = err.Error()
	s.lastErrAt = time.Now()
	s.h.mu.Unlock()
	s.log.Warn("source error", "err", err)
}

// frames returns the number of frames captured so far.
func (s *src) frames() uint64 {
	s.h.mu.Lock()
	defer s.h.mu.Unlock()
	return s.seq
}

// mailbox is a ring of frames; when full, a push drops the oldest.
type mailbox struct {
	buf     []Frame
	head, n int
}

// push appends f, dropping the oldest frame when full; it reports whether
// it dropped one.
func (m *mailbox) push(f Frame) (dropped bool) {
	if len(m.buf) == 0 {
		return true
	}
	if m.n == len(m.buf) {
		m.buf[m.head] = Frame{}
		m.head = (m.head + 1) % len(m.buf)
		m.n--
		dropped = true
	}
	m.buf[(m.head+m.n)%len(m.buf)] = f
	m.n++
	return dropped
}

// pop takes the oldest frame.
func (m *mailbox) pop() (Frame, bool) {
	if m.n == 0 {
		return Frame{}, false
	}
	f := m.buf[m.head]
	m.buf[m.head] = Frame{}
	m.head = (m.head + 1) % len(m.buf)
	m.n--
	return f, true
}

// gate keeps at most one frame per period, judged on the frames' capture
// times. A tolerance of half the gap between captured frames (at most a
// quarter period) absorbs jitter: from a 30 fps camera capped at 15 fps
// every other frame is kept, not every third, and an interval of 1 s keeps
// frames 1 s apart, not a frame early.
type gate struct {
	period time.Duration
	next   time.Time // when the next frame is due
	prev   time.Time // the last frame's capture time
}

// allow reports whether a frame captured at t is kept.
func (g *gate) allow(t time.Time) bool {
	if g.period <= 0 {
		return true
	}
	slack := g.period / 4
	if gap := t.Sub(g.prev); !g.prev.IsZero() && gap > 0 {
		slack = min(slack, gap/2)
	}
	g.prev = t
	if !g.next.IsZero() && t.Add(slack).Before(g.next) {
		return false
	}
	if g.next.IsZero() || t.Sub(g.next) >= g.period {
		g.next = t.Add(g.period) // first frame, or after a pause: restart the schedule
	} else {
		g.next = g.next.Add(g.period)
	}
	return true
}

// meterWindow is the span the frame rate is measured over.
const meterWindow = 5 * time.Second

// meter measures a frame rate from the arrival times of the last frames.
type meter struct {
	t    [64]time.Time
	n, i int
}

func (m *meter) add(t time.Time) {
	m.t[m.i] = t
	m.i = (m.i + 1) % len(m.t)
	m.n = min(m.n+1, len(m.t))
}

// rate returns frames per second over the frames of the last meterWindow,
// measured up to now, so that it falls when frames stop coming.
func (m *meter) rate(now time.Time) float64 {
	count := 0
	var oldest time.Time
	for k := range m.n {
		t := m.t[k]
		if now.Sub(t) > meterWindow {
			continue
		}
		count++
		if oldest.IsZero() || t.Before(oldest) {
			oldest = t
		}
	}
	span := now.Sub(oldest)
	if count < 2 || span <= 0 {
		return 0
	}
	return float64(count-1) / span.Seconds()
}

// SetFPS changes the frame-rate cap of a live source at run time (0: no
// cap); the sampling interval still applies. A files source's pace is fixed
// when it starts, so it is refused, as is an unknown source or a negative
// rate.
func (h *Hub) SetFPS(name string, fps float64) error {
	s, ok := h.byName[name]
	switch {
	case !ok:
		return fmt.Errorf("%w: %q", ErrUnknownSource, name)
	case fps < 0:
		return fmt.Errorf("%w: fps %v is negative", ErrInvalid, fps)
	case s.cfg.Kind == KindFiles:
		return fmt.Errorf("%w: the pace of files source %q is set at start (sources[].fps in the file)", ErrInvalid, name)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	s.cfg.FPS = fps
	s.gate.period = period(s.cfg)
	return nil
}

package protocol

import (
	"bytes"
	"sync"
	"time"
)

// Assembler defaults.
const (
	// DefaultMaxFrameBytes bounds one JPEG. A UART camera's VGA JPEG is
	// 20-80 KB; 512 KiB takes over 5 s at 921600 baud.
	DefaultMaxFrameBytes = 512 << 10
	// DefaultMaxChunks bounds the chunks of one JPEG, and with it the
	// bookkeeping memory: 4096 chunks of 128 bytes hold 512 KiB.
	DefaultMaxChunks = 4096
	// DefaultMaxInFlight is how many incomplete JPEGs are kept at once.
	DefaultMaxInFlight = 4
	// DefaultFrameTimeout drops an incomplete JPEG that got no chunk for this
	// long.
	DefaultFrameTimeout = 2 * time.Second
)

// JPEGFrame is a reassembled camera frame.
type JPEGFrame struct {
	// ID is the board's frame id.
	ID uint16
	// Data is the JPEG.
	Data []byte
	// Chunks is how many chunks it came in.
	Chunks int
	// Started is when its first chunk arrived, Completed when its last did.
	Started, Completed time.Time
}

// AssemblerStats counts an Assembler's work.
type AssemblerStats struct {
	// Chunks is chunks offered to Add.
	Chunks uint64
	// Frames is JPEGs completed.
	Frames uint64
	// Duplicates is chunks identical to one already held, ignored.
	Duplicates uint64
	// Invalid is chunks with an impossible header (count 0, index >= count,
	// no data).
	Invalid uint64
	// Expired is incomplete JPEGs dropped after the frame timeout.
	Expired uint64
	// Evicted is incomplete JPEGs dropped to make room for a newer one.
	Evicted uint64
	// Oversize is JPEGs dropped for passing the byte or chunk limit.
	Oversize uint64
	// Restarted is incomplete JPEGs dropped because a chunk with their id
	// disagreed with them (another count, other bytes at the same index):
	// the board restarted its frame ids.
	Restarted uint64
	// Abandoned is incomplete JPEGs dropped by Reset.
	Abandoned uint64
	// InFlight is incomplete JPEGs held now, Buffered their bytes.
	InFlight, Buffered int
}

// Dropped is incomplete JPEGs dropped for any reason.
func (s AssemblerStats) Dropped() uint64 {
	return s.Expired + s.Evicted + s.Oversize + s.Restarted + s.Abandoned
}

// AssemblerOption changes an Assembler's limits.
type AssemblerOption func(*Assembler)

// WithMaxFrameBytes bounds one JPEG's size (values < 1 keep the default).
func WithMaxFrameBytes(n int) AssemblerOption {
	return func(a *Assembler) {
		if n >= 1 {
			a.maxBytes = n
		}
	}
}

// WithMaxChunks bounds one JPEG's chunk count (values < 1 keep the default).
func WithMaxChunks(n int) AssemblerOption {
	return func(a *Assembler) {
		if n >= 1 {
			a.maxChunks = n
		}
	}
}

// WithMaxInFlight bounds how many incomplete JPEGs are held (values < 1 keep
// the default).
func WithMaxInFlight(n int) AssemblerOption {
	return func(a *Assembler) {
		if n >= 1 {
			a.maxInFlight = n
		}
	}
}

// WithFrameTimeout sets how long an incomplete JPEG waits for its next chunk
// (values <= 0 keep the default).
func WithFrameTimeout(d time.Duration) AssemblerOption {
	return func(a *Assembler) {
		if d > 0 {
			a.timeout = d
		}
	}
}

// Assembler puts CAMERA_FRAME chunks back together into JPEGs. Chunks may
// come in any order and more than once. Memory is bounded: at most
// max-in-flight incomplete JPEGs of at most max-frame-bytes and max-chunks
// each; the oldest incomplete JPEG is evicted for a new one. Time comes from
// the caller, so tests need no clock. It is safe for concurrent use.
type Assembler struct {
	mu          sync.Mutex
	maxBytes    int
	maxChunks   int
	maxInFlight int
	timeout     time.Duration
	frames      map[uint16]*partialFrame
	serial      uint64 // orders frames that arrive at the same instant
	stats       AssemblerStats
}

type partialFrame struct {
	id      uint16
	count   uint16
	chunks  map[uint16][]byte
	size    int
	started time.Time
	updated time.Time
	serial  uint64
}

// NewAssembler returns an Assembler with the default limits changed by opts.
func NewAssembler(opts ...AssemblerOption) *Assembler {
	a := &Assembler{
		maxBytes:    DefaultMaxFrameBytes,
		maxChunks:   DefaultMaxChunks,
		maxInFlight: DefaultMaxInFlight,
		timeout:     DefaultFrameTimeout,
		frames:      make(map[uint16]*partialFrame),
	}
	for _, o := range opts {
		o(a)
	}
	return a
}

// Add takes one chunk received at now and returns the JPEG it completes, if
// it does. Add keeps c.Data; do not change it afterwards. Incomplete JPEGs
// idle past the timeout are dropped first. A chunk that arrives after its
// JPEG completed starts a new incomplete one, which expires; the assembler
// does not remember finished ids, so that a board that restarts its ids is
// never mistaken for a repeat.
func (a *Assembler) Add(now time.Time, c *CameraChunk) (JPEGFrame, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.expireLocked(now)
	a.stats.Chunks++
	if c.Count == 0 || c.Index >= c.Count || len(c.Data) == 0 {
		a.stats.Invalid++
		return JPEGFrame{}, false
	}
	p := a.frames[c.FrameID]
	if p != nil && p.count != c.Count {
		a.dropLocked(p, &a.stats.Restarted)
		p = nil
	}
	if p != nil {
		if held, ok := p.chunks[c.Index]; ok {
			if bytes.Equal(held, c.Data) {
				a.stats.Duplicates++
				return JPEGFrame{}, false
			}
			a.dropLocked(p, &a.stats.Restarted)
			p = nil
		}
	}
	if p == nil {
		if int(c.Count) > a.maxChunks {
			a.stats.Oversize++
			return JPEGFrame{}, false
		}
		if len(a.frames) >= a.maxInFlight {
			a.dropLocked(a.oldestLocked(), &a.stats.Evicted)
		}
		a.serial++
		p = &partialFrame{id: c.FrameID, count: c.Count, chunks: make(map[uint16][]byte), started: now, serial: a.serial}
		a.frames[c.FrameID] = p
	}
	if p.size+len(c.Data) > a.maxBytes {
		a.dropLocked(p, &a.stats.Oversize)
		return JPEGFrame{}, false
	}
	p.chunks[c.Index] = c.Data
	p.size += len(c.Data)
	a.stats.Buffered += len(c.Data)
	p.updated = now
	if len(p.chunks) < int(p.count) {
		return JPEGFrame{}, false
	}
	data := make([]byte, 0, p.size)
	for i := range p.count {
		data = append(data, p.chunks[i]...)
	}
	a.removeLocked(p)
	a.stats.Frames++
	return JPEGFrame{ID: p.id, Data: data, Chunks: int(p.count), Started: p.started, Completed: now}, true
}

// Expire drops incomplete JPEGs that got no chunk for the timeout before now
// and returns how many. Add does this too; call Expire on a ticker so that
// a stalled stream does not hold memory.
func (a *Assembler) Expire(now time.Time) int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.expireLocked(now)
}

// Reset drops every incomplete JPEG, as when the board reboots.
func (a *Assembler) Reset() {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, p := range a.frames {
		a.dropLocked(p, &a.stats.Abandoned)
	}
}

// Stats returns the counters so far.
func (a *Assembler) Stats() AssemblerStats {
	a.mu.Lock()
	defer a.mu.Unlock()
	s := a.stats
	s.InFlight = len(a.frames)
	return s
}

func (a *Assembler) expireLocked(now time.Time) int {
	n := 0
	for _, p := range a.frames {
		if now.Sub(p.updated) > a.timeout {
			a.dropLocked(p, &a.stats.Expired)
			n++
		}
	}
	return n
}

func (a *Assembler) oldestLocked() *partialFrame {
	var oldest *partialFrame
	for _, p := range a.frames {
		if oldest == nil || p.updated.Before(oldest.updated) ||
			(p.updated.Equal(oldest.updated) && p.serial < oldest.serial) {
			oldest = p
		}
	}
	return oldest
}

// dropLocked removes an incomplete frame and counts it in reason.
func (a *Assembler) dropLocked(p *partialFrame, reason *uint64) {
	a.removeLocked(p)
	*reason++
}

func (a *Assembler) removeLocked(p *partialFrame) {
	delete(a.frames, p.id)
	a.stats.Buffered -= p.size
}

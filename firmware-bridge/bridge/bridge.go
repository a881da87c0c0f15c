package bridge

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mocoedge/mocoedge/firmware-bridge/protocol"
)

// Bridge links one board to its host. Create it with New, run it with Run;
// its other methods are safe for concurrent use, before, during and after
// Run.
type Bridge struct {
	cfg    Config
	sink   Sink
	log    *slog.Logger
	opener Opener
	asm    *protocol.Assembler
	events *dropQueue[Event]
	frames *dropQueue[Frame]
	start  time.Time // for the uptime in the bridge's heartbeats

	running atomic.Bool
	count   counters

	mu    sync.Mutex
	state State
	port  string
	board BoardInfo
	link  *protocol.Link // the current session's, nil between sessions
	ready bool           // the current session has had its handshake
	past  Stats          // link counters of ended sessions
}

// New returns a Bridge that reports to sink. Errors wrap ErrInvalidConfig.
func New(cfg Config, sink Sink) (*Bridge, error) {
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	if sink == nil {
		sink = FuncSink{}
	}
	opener := cfg.Opener
	if opener == nil {
		opener = &SerialOpener{Spec: cfg.Port, Baud: cfg.Baud}
	}
	return &Bridge{
		cfg:    cfg,
		sink:   sink,
		log:    cfg.Logger,
		opener: opener,
		asm: protocol.NewAssembler(
			protocol.WithFrameTimeout(cfg.FrameTimeout),
			protocol.WithMaxFrameBytes(cfg.MaxFrameBytes),
		),
		events: newDropQueue[Event](cfg.EventQueue),
		frames: newDropQueue[Frame](cfg.FrameQueue),
		start:  time.Now(),
	}, nil
}

// Run opens the port and keeps the board linked until ctx ends, re-opening
// the port with back-off after every failure; it returns ctx's error. It
// hands events and frames to the Sink from two goroutines of its own, and
// returns after the last was delivered (a StateStopped Status). Run may be
// called once; later calls return ErrAlreadyRunning.
func (b *Bridge) Run(ctx context.Context) error {
	if !b.running.CompareAndSwap(false, true) {
		return ErrAlreadyRunning
	}
	var wg sync.WaitGroup
	wg.Go(func() {
		for e := range b.events.ch {
			b.sink.HandleEvent(ctx, e)
		}
	})
	wg.Go(func() {
		for f := range b.frames.ch {
			b.sink.HandleFrame(ctx, f)
		}
	})
	err := b.connectLoop(ctx)
	b.emitStatus(Status{State: StateStopped, Err: stopCause(err)})
	b.events.close()
	b.frames.close()
	wg.Wait()
	return err
}

// stopCause is the error a StateStopped status carries: nil when Run's
// context simply ended.
func stopCause(err error) error {
	if errors.Is(err, context.Canceled) {
		return nil
	}
	return err
}

// connectLoop opens the port and runs sessions until ctx ends.
func (b *Bridge) connectLoop(ctx context.Context) error {
	bo := newBackoff(b.cfg.Backoff)
	attempt := 0
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		attempt++
		b.emitStatus(Status{State: StateConnecting, Port: b.currentPort(), Attempt: attempt})
		port, name, err := b.opener.Open(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			b.count.openFailures.Add(1)
			if err := b.wait(ctx, bo.Next(), Status{Port: name, Attempt: attempt, Err: err}); err != nil {
				return err
			}
			continue
		}
		if b.count.opens.Add(1) > 1 {
			b.count.reconnects.Add(1)
		}
		res := b.runSession(ctx, port, name)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if res.handshake {
			attempt = 0
		}
		if bo.Healthy(res.readyFor) {
			bo.Reset()
		}
		if err := b.wait(ctx, bo.Next(), Status{Port: name, Attempt: attempt, Err: res.err}); err != nil {
			return err
		}
	}
}

// wait reports a disconnection and sleeps for delay or until ctx ends.
func (b *Bridge) wait(ctx context.Context, delay time.Duration, st Status) error {
	st.State = StateDisconnected
	st.Retry = delay
	b.emitStatus(st)
	t := time.NewTimer(delay)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// emitStatus records a state change, logs it and queues it for the Sink.
func (b *Bridge) emitStatus(st Status) {
	st.At = time.Now()
	b.mu.Lock()
	b.state = st.State
	if st.Port != "" {
		b.port = st.Port
	}
	if st.Board.DeviceID != "" {
		b.board = st.Board
	}
	b.mu.Unlock()
	b.logStatus(st)
	b.events.push(st)
}

func (b *Bridge) logStatus(st Status) {
	attrs := []any{slog.String("state", st.State.String())}
	if st.Port != "" {
		attrs = append(attrs, slog.String("port", st.Port))
	}
	switch st.State {
	case StateConnecting:
		b.log.Debug("opening serial port", append(attrs, slog.Int("attempt", st.Attempt))...)
	case StateHandshake:
		b.log.Debug("port open, waiting for HELLO", attrs...)
	case StateReady:
		b.log.Info("board ready", append(attrs,
			slog.String("device", st.Board.DeviceID),
			slog.String("firmware", st.Board.FirmwareVersion),
			slog.Uint64("capabilities", uint64(st.Board.Capabilities)))...)
	case StateSilent:
		b.log.Warn("board silent", append(attrs, slog.Duration("silence", st.Silence))...)
	case StateDisconnected:
		b.log.Warn("board disconnected", append(attrs,
			slog.Any("err", st.Err), slog.Duration("retry", st.Retry), slog.Int("attempt", st.Attempt))...)
	case StateStopped:
		b.log.Info("bridge stopped", append(attrs, slog.Any("err", st.Err))...)
	}
}

func (b *Bridge) currentPort() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.port
}

// State returns the current state.
func (b *Bridge) State() State {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.state
}

// Board returns the board's last HELLO and whether the current session has
// completed its handshake.
func (b *Bridge) Board() (BoardInfo, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.board, b.ready && b.link != nil
}

// Stats returns the counters so far.
func (b *Bridge) Stats() Stats {
	b.mu.Lock()
	s := b.past
	s.State, s.Port, s.Board = b.state, b.port, b.board
	if b.link != nil {
		addLinkStats(&s, b.link.Stats())
	}
	b.mu.Unlock()

	c := &b.count
	s.Opens, s.OpenFailures, s.Reconnects = c.opens.Load(), c.openFailures.Load(), c.reconnects.Load()
	s.Handshakes, s.Reboots = c.handshakes.Load(), c.reboots.Load()
	s.Silences, s.Recycles = c.silences.Load(), c.recycles.Load()
	s.HeartbeatsIn, s.Unexpected = c.heartbeatsIn.Load(), c.unexpected.Load()
	s.Commands, s.CommandFailures = c.commands.Load(), c.commandFailures.Load()
	s.Events, s.DroppedEvents = b.events.pushed.Load(), b.events.dropped.Load()
	s.DroppedFrames = b.frames.dropped.Load()
	a := b.asm.Stats()
	s.CameraChunks, s.CameraFrames, s.IncompleteFrames = a.Chunks, a.Frames, a.Dropped()
	return s
}

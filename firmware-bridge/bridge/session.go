package bridge

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mocoedge/mocoedge/firmware-bridge/protocol"
)

// sessionResult is how a session on one opened port ended.
type sessionResult struct {
	err       error         // why it ended
	handshake bool          // whether the board's HELLO arrived
	readyFor  time.Duration // how long it ran after the handshake
}

// session is one opened port: a protocol.Link plus the handshake, the
// watchdog and the routing of what arrives. Its fields belong to the
// goroutine that runs loop, except handshaken.
type session struct {
	b     *Bridge
	link  *protocol.Link
	port  string
	start time.Time

	lastRx     time.Time // last intact message
	ready      bool      // HELLO received
	readyAt    time.Time
	silent     bool // flagged by the watchdog, not yet heard from again
	board      BoardInfo
	lastUptime uint32
	haveUptime bool

	handshaken atomic.Bool // ready, for the sender goroutine
}

// runSession runs the link on an opened port until it fails, the watchdog
// recycles it, or ctx ends; it closes the port.
func (b *Bridge) runSession(ctx context.Context, port io.ReadWriteCloser, name string) (res sessionResult) {
	link := protocol.NewLink(port, b.cfg.LinkOptions...)
	s := &session{b: b, link: link, port: name, start: time.Now()}
	s.lastRx = s.start
	b.asm.Reset() // chunks of a previous session never complete
	b.mu.Lock()
	b.link, b.ready = link, false
	b.mu.Unlock()
	b.emitStatus(Status{State: StateHandshake, Port: name})

	sctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Go(func() { s.sendLoop(sctx) })
	defer func() {
		cancel()
		if err := link.Close(); err != nil {
			b.log.Debug("close port", slog.String("port", name), slog.Any("err", err))
		}
		wg.Wait()
		b.mu.Lock()
		addLinkStats(&b.past, link.Stats())
		b.link, b.ready = nil, false
		b.mu.Unlock()
		res.handshake = s.ready
		if s.ready {
			res.readyFor = time.Since(s.readyAt)
		}
	}()
	res.err = s.loop(ctx)
	return res
}

// loop routes what arrives and runs the watchdog.
func (s *session) loop(ctx context.Context) error {
	cfg := &s.b.cfg
	watch := time.NewTicker(max(cfg.Heartbeat/4, 5*time.Millisecond))
	defer watch.Stop()
	expire := time.NewTicker(max(cfg.FrameTimeout/2, 10*time.Millisecond))
	defer expire.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case p, ok := <-s.link.Incoming():
			if !ok {
				return fmt.Errorf("bridge: %s: %w", s.port, s.link.Err())
			}
			if err := s.handle(p); err != nil {
				return err
			}
		case now := <-watch.C:
			if err := s.watchdog(now); err != nil {
				return err
			}
		case now := <-expire.C:
			if n := s.b.asm.Expire(now); n > 0 {
				s.b.log.Debug("incomplete camera frames expired", slog.Int("frames", n))
			}
		}
	}
}

// sendLoop sends the bridge's HELLO, then a heartbeat per interval, with
// HELLO again until the board has answered.
func (s *session) sendLoop(ctx context.Context) {
	cfg := &s.b.cfg
	hello := &protocol.Hello{Protocol: protocol.ProtocolVersion, DeviceID: cfg.HostID, FirmwareVersion: cfg.HostVersion}
	s.send(ctx, hello)
	t := time.NewTicker(cfg.Heartbeat)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-s.link.Done():
			return
		case <-t.C:
		}
		s.send(ctx, &protocol.Heartbeat{UptimeMS: uint32(time.Since(s.b.start).Milliseconds())})
		if !s.handshaken.Load() {
			s.send(ctx, hello)
		}
	}
}

// send queues m; a failure other than the session ending is logged, and the
// watchdog deals with a port that stays stuck.
func (s *session) send(ctx context.Context, m protocol.Message) {
	if err := s.link.Send(ctx, m); err != nil && ctx.Err() == nil && s.link.Err() == nil {
		s.b.log.Debug("send failed", slog.String("type", m.Type().String()), slog.Any("err", err))
	}
}

// handle routes one message. Only a HELLO of another protocol version ends
// the session.
func (s *session) handle(p protocol.Packet) error {
	s.lastRx = p.Time
	if s.silent {
		s.recovered()
	}
	b, dev := s.b, s.board.DeviceID
	switch m := p.Msg.(type) {
	case *protocol.Hello:
		return s.hello(p.Time, m)
	case *protocol.Heartbeat:
		s.heartbeat(m)
	case *protocol.CameraChunk:
		if f, ok := b.asm.Add(p.Time, m); ok {
			b.frames.push(Frame{At: f.Completed, Started: f.Started, Device: dev, ID: f.ID, Chunks: f.Chunks, JPEG: f.Data})
		}
	case *protocol.Trigger:
		b.events.push(Trigger{At: p.Time, Device: dev, Source: m.Source, BoardTimeMS: m.BoardTimeMS})
	case *protocol.Button:
		b.events.push(Button{At: p.Time, Device: dev, ID: m.ID, Press: m.Press})
	case *protocol.Sensor:
		b.events.push(Sensor{At: p.Time, Device: dev, ID: m.ID, Value: m.Value})
	case *protocol.Log:
		b.events.push(Log{At: p.Time, Device: dev, Level: m.Level, Text: m.Text})
	default:
		b.count.unexpected.Add(1)
		b.log.Debug("unexpected message from the board", slog.String("type", m.Type().String()))
	}
	return nil
}

// hello completes the handshake, or notes a HELLO again (the board
// rebooted, or answered a HELLO of ours). Either way the board's frame ids
// start over, so incomplete camera frames are dropped.
func (s *session) hello(now time.Time, m *protocol.Hello) error {
	if m.Protocol != protocol.ProtocolVersion {
		return fmt.Errorf("%w: board %q on %s speaks version %d, this bridge %d",
			ErrProtocolVersion, m.DeviceID, s.port, m.Protocol, protocol.ProtocolVersion)
	}
	s.b.asm.Reset()
	info := boardInfo(m)
	if s.ready && info == s.board {
		s.b.log.Debug("HELLO again", slog.String("device", info.DeviceID))
		return nil
	}
	if !s.ready {
		s.ready, s.readyAt = true, now
		s.handshaken.Store(true)
		s.b.count.handshakes.Add(1)
	}
	s.board = info
	s.b.mu.Lock()
	s.b.ready = true
	s.b.mu.Unlock()
	s.b.emitStatus(Status{State: StateReady, Port: s.port, Board: info})
	return nil
}

// heartbeat counts the board's heartbeat and notices a reboot: its uptime
// going back (other than wrapping at 2^32 ms).
func (s *session) heartbeat(m *protocol.Heartbeat) {
	s.b.count.heartbeatsIn.Add(1)
	if s.haveUptime && m.UptimeMS < s.lastUptime && s.lastUptime-m.UptimeMS < 1<<31 {
		s.b.count.reboots.Add(1)
		s.b.log.Warn("board rebooted", slog.String("device", s.board.DeviceID),
			slog.Uint64("uptime_ms_before", uint64(s.lastUptime)), slog.Uint64("uptime_ms", uint64(m.UptimeMS)))
	}
	s.lastUptime, s.haveUptime = m.UptimeMS, true
}

// watchdog ends a session whose board never said HELLO, flags a silent
// board, and ends the session when the silence lasts.
func (s *session) watchdog(now time.Time) error {
	cfg := &s.b.cfg
	if !s.ready {
		if now.Sub(s.start) < cfg.HandshakeTimeout {
			return nil
		}
		s.b.count.recycles.Add(1)
		return fmt.Errorf("%w within %v on %s", ErrHandshakeTimeout, cfg.HandshakeTimeout, s.port)
	}
	// ACKs and NACKs never reach handle; the link saw them.
	if last := s.link.Stats().LastFrame; last.After(s.lastRx) {
		s.lastRx = last
	}
	silence := now.Sub(s.lastRx)
	if s.silent && silence < time.Duration(cfg.SilentAfter)*cfg.Heartbeat {
		s.recovered()
	}
	if silence >= time.Duration(cfg.RecycleAfter)*cfg.Heartbeat {
		s.b.count.recycles.Add(1)
		return fmt.Errorf("%w for %v (%d heartbeat intervals) on %s",
			ErrSilent, silence.Round(time.Millisecond), cfg.RecycleAfter, s.port)
	}
	if !s.silent && silence >= time.Duration(cfg.SilentAfter)*cfg.Heartbeat {
		s.silent = true
		s.b.count.silences.Add(1)
		s.b.emitStatus(Status{State: StateSilent, Port: s.port, Board: s.board, Silence: silence})
	}
	return nil
}

// recovered ends a silent spell: the board is heard from again.
func (s *session) recovered() {
	s.silent = false
	s.b.log.Info("board talking again", slog.String("port", s.port))
	s.b.emitStatus(Status{State: StateReady, Port: s.port, Board: s.board})
}

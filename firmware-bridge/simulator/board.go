package simulator

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/mocoedge/mocoedge/firmware-bridge/protocol"
)

// Config describes the simulated board. Zero fields take the defaults noted.
type Config struct {
	// FirmwareVersion goes in HELLO ("sim-1.0.0").
	FirmwareVersion string
	// DeviceID goes in HELLO ("sim-0001").
	DeviceID string
	// Capabilities goes in HELLO (every capability).
	Capabilities protocol.Capability
	// LEDs and Relays are how many the board has, ids from 0 (4 and 2).
	LEDs, Relays int
	// HeartbeatInterval is the time between heartbeats (1 s); negative
	// disables them.
	HeartbeatInterval time.Duration
	// ChunkSize is the JPEG bytes per CAMERA_FRAME chunk
	// (protocol.MaxChunkData).
	ChunkSize int
	// AckTimeout is how long an event sent as a request waits for ACK
	// before it is resent (250 ms).
	AckTimeout time.Duration
	// Retries is how many times such an event is resent (3).
	Retries int
	// BitErrorRate, when above zero, flips each bit the board sends with
	// this probability, simulating a noisy line.
	BitErrorRate float64
	// Seed seeds the noise, so that a failing run can be repeated.
	Seed uint64
}

func (c Config) withDefaults() Config {
	if c.FirmwareVersion == "" {
		c.FirmwareVersion = "sim-1.0.0"
	}
	if c.DeviceID == "" {
		c.DeviceID = "sim-0001"
	}
	if c.Capabilities == 0 {
		c.Capabilities = protocol.CapLED | protocol.CapRelay | protocol.CapButton | protocol.CapTrigger |
			protocol.CapSensor | protocol.CapCamera | protocol.CapLog
	}
	if c.LEDs == 0 {
		c.LEDs = 4
	}
	if c.Relays == 0 {
		c.Relays = 2
	}
	if c.HeartbeatInterval == 0 {
		c.HeartbeatInterval = time.Second
	}
	if c.ChunkSize == 0 {
		c.ChunkSize = protocol.MaxChunkData
	}
	if c.AckTimeout == 0 {
		c.AckTimeout = protocol.DefaultAckTimeout
	}
	if c.Retries == 0 {
		c.Retries = protocol.DefaultRetries
	}
	return c
}

// Stats counts what the board saw.
type Stats struct {
	// Decoder is the board's receive counters.
	Decoder protocol.DecoderStats
	// Boots is how many times the board started (1 after Run began).
	Boots int
	// Commands is LED and RELAY commands applied.
	Commands int
	// Duplicates is retransmitted commands re-ACKed without acting again.
	Duplicates int
	// Retries is events the board had to resend.
	Retries int
}

// Board is a simulated firmware board. Its methods are safe for concurrent
// use.
type Board struct {
	cfg  Config
	port io.ReadWriteCloser
	dec  *protocol.Decoder

	wmu sync.Mutex // serialises everything written to the port
	out io.Writer  // the port, through the noise when configured
	enc *protocol.Encoder

	mu        sync.Mutex
	seq       uint8
	boot      time.Time
	nextFrame uint16
	leds      map[uint8]protocol.SetLED
	relays    map[uint8]*relay
	pending   map[uint8]chan protocol.Message
	dedup     *protocol.Dedup
	stats     Stats
}

// relay is one relay's state; gen orders pulses so that an old pulse's
// revert does not undo a newer command.
type relay struct {
	on  bool
	gen uint64
}

// New returns a board on port. Nothing is sent until Run.
func New(port io.ReadWriteCloser, cfg Config) *Board {
	cfg = cfg.withDefaults()
	b := &Board{
		cfg:     cfg,
		port:    port,
		dec:     protocol.NewDecoder(port),
		out:     port,
		pending: make(map[uint8]chan protocol.Message),
		dedup:   protocol.NewDedup(0),
	}
	if cfg.BitErrorRate > 0 {
		rng := rand.New(rand.NewPCG(cfg.Seed, cfg.Seed^0x9E3779B97F4A7C15))
		b.out = &noisyWriter{w: port, ber: cfg.BitErrorRate, rng: rng}
	}
	b.enc = protocol.NewEncoder(b.out)
	b.resetLocked()
	return b
}

// Run boots the board (a 0x00, then HELLO), then sends heartbeats and
// answers the host until ctx ends or the port fails. It closes the port when
// it returns, and returns ctx's error or the port's. Call it once.
func (b *Board) Run(ctx context.Context) error {
	readErr := make(chan error, 1)
	go func() { readErr <- b.readLoop() }()
	stop := func(err error) error {
		b.port.Close()
		<-readErr
		return err
	}
	if err := b.Reboot(); err != nil {
		return stop(err)
	}
	var tick <-chan time.Time
	if b.cfg.HeartbeatInterval > 0 {
		t := time.NewTicker(b.cfg.HeartbeatInterval)
		defer t.Stop()
		tick = t.C
	}
	for {
		select {
		case <-ctx.Done():
			return stop(ctx.Err())
		case err := <-readErr:
			b.port.Close()
			return fmt.Errorf("simulator: read: %w", err)
		case <-tick:
			if err := b.send(&protocol.Heartbeat{UptimeMS: b.UptimeMS()}); err != nil {
				return stop(err)
			}
		}
	}
}

// Reboot restarts the board: state, sequence numbers and frame ids start
// over, and it sends a 0x00 and HELLO as after power-on. Events waiting for
// ACK fail.
func (b *Board) Reboot() error {
	b.wmu.Lock()
	defer b.wmu.Unlock()
	return b.rebootLocked()
}

// rebootLocked reboots with wmu held.
func (b *Board) rebootLocked() error {
	b.mu.Lock()
	b.resetLocked()
	b.stats.Boots++
	b.mu.Unlock()
	b.enc = protocol.NewEncoder(b.out)
	return b.writeLocked(b.hello())
}

// resetLocked puts the board in its power-on state; mu held (or b unshared).
func (b *Board) resetLocked() {
	b.seq = 0
	b.boot = time.Now()
	b.nextFrame = 0
	b.leds = make(map[uint8]protocol.SetLED)
	for i := range b.cfg.LEDs {
		b.leds[uint8(i)] = protocol.SetLED{ID: uint8(i), Mode: protocol.LEDOff}
	}
	b.relays = make(map[uint8]*relay)
	for i := range b.cfg.Relays {
		b.relays[uint8(i)] = &relay{}
	}
	for _, ch := range b.pending {
		select {
		case ch <- nil: // tells the waiting request the board rebooted
		default:
		}
	}
	b.pending = make(map[uint8]chan protocol.Message)
	b.dedup.Reset()
}

func (b *Board) hello() *protocol.Hello {
	return &protocol.Hello{
		Protocol:        protocol.ProtocolVersion,
		Capabilities:    b.cfg.Capabilities,
		FirmwareVersion: b.cfg.FirmwareVersion,
		DeviceID:        b.cfg.DeviceID,
	}
}

// UptimeMS is milliseconds since the last boot, as the board reports it.
func (b *Board) UptimeMS() uint32 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return uint32(time.Since(b.boot).Milliseconds())
}

// Stats returns the counters so far.
func (b *Board) Stats() Stats {
	b.mu.Lock()
	s := b.stats
	b.mu.Unlock()
	s.Decoder = b.dec.Stats()
	return s
}

// nextSeqLocked takes the board's next sequence number; mu held.
func (b *Board) nextSeqLocked() uint8 {
	s := b.seq
	b.seq++
	return s
}

// send writes m without asking for ACK.
func (b *Board) send(m protocol.Message) error {
	b.wmu.Lock()
	defer b.wmu.Unlock()
	return b.writeLocked(m)
}

// writeLocked frames m with the next sequence number, without asking for
// ACK, and writes it; wmu held.
func (b *Board) writeLocked(m protocol.Message) error {
	payload, err := m.MarshalBinary()
	if err != nil {
		return fmt.Errorf("simulator: %s: %w", m.Type(), err)
	}
	b.mu.Lock()
	seq := b.nextSeqLocked()
	b.mu.Unlock()
	return b.writeFrameLocked(protocol.Frame{Type: m.Type(), Seq: seq, Payload: payload})
}

func (b *Board) writeFrameLocked(f protocol.Frame) error {
	if err := b.enc.WriteFrame(f); err != nil {
		return fmt.Errorf("simulator: %w", err)
	}
	return nil
}

// ErrRebooted is returned by Trigger and Press when the board rebooted while
// the event waited for its ACK.
var ErrRebooted = errors.New("simulator: board rebooted")

package board

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mocoedge/mocoedge/edge/agent"
	"github.com/mocoedge/mocoedge/edge/config"
	"github.com/mocoedge/mocoedge/edge/mqtt"
	"github.com/mocoedge/mocoedge/edge/source"
	"github.com/mocoedge/mocoedge/firmware-bridge/bridge"
)

// DefaultSource is the source name of the board's camera frames stored on a
// trigger when no source of kind bridge is configured.
const DefaultSource = "board"

// Report kinds in events/trigger.
const (
	// KindTrigger reports a TRIGGER and what it captured.
	KindTrigger = "trigger"
	// KindButton reports a short press that labelled the last trigger.
	KindButton = "button"
	// KindTrain reports the probe training a long press started.
	KindTrain = "train"
)

var (
	// ErrNoFrame means a trigger found no camera frame from the board to
	// capture (bridge.snapshot is empty and the board has sent none).
	ErrNoFrame = errors.New("board: no camera frame from the board yet")
	// ErrNoTrigger means a label button was pressed with no captured
	// trigger to label (none yet, or the last one captured nothing).
	ErrNoTrigger = errors.New("board: no captured trigger to label")
	// ErrTraining means a long press came while a training it started was
	// still running.
	ErrTraining = errors.New("board: the probe is already training")
	// ErrNotAttached means Run was called before Attach.
	ErrNotAttached = errors.New("board: Run before Attach")
)

// Agent is what the Board needs from the edge agent; *agent.Agent
// implements it.
type Agent interface {
	// Snapshot embeds and stores the current frame of a source.
	Snapshot(ctx context.Context, source string) (agent.Embedded, error)
	// Store embeds and stores an image as a frame of source.
	Store(ctx context.Context, source string, image []byte, t time.Time) (agent.Embedded, error)
	// ApplyLabel labels a key queue entry.
	ApplyLabel(id uint64, source, label string) (uint64, error)
	// TrainProbe trains the probe on the labels so far.
	TrainProbe(ctx context.Context) (agent.ProbeInfo, error)
	// Sources returns the frame sources, for pushing the board's frames.
	Sources() *source.Hub
}

// Publisher sends events/trigger reports; *mqtt.Client implements it.
type Publisher interface {
	Trigger(t mqtt.Trigger)
}

// Options are what New needs besides the configuration.
type Options struct {
	// Logger receives the Board's and the bridge's logs (default:
	// discarded).
	Logger *slog.Logger
	// Bridge tunes the bridge: heartbeat, watchdog, back-off, queues, or
	// an Opener in tests. Its Port and Baud are taken from bridge.port and
	// bridge.baud when left zero, and its Logger from Logger.
	Bridge bridge.Config
}

// Board is the firmware board inside the daemon; see the package
// documentation. Its methods are safe for concurrent use.
type Board struct {
	log       *slog.Logger
	bridge    *bridge.Bridge
	cmd       *countingCommander
	leds      *bridge.PredictionMapper // nil when no LED is mapped
	buttons   *bridge.Mapping
	snapshot  string // bridge.snapshot: the source a trigger snapshots
	push      string // the bridge-kind source frames are pushed to ("" for none)
	store     string // the source a stored board frame is filed under
	ledSource string // the source whose predictions drive the LEDs

	mu        sync.Mutex
	a         Agent
	pub       Publisher
	latest    bridge.Frame // the board's most recent complete camera frame
	lastEntry uint64       // the key queue entry of the last trigger (0: none)
	seen      map[string]seenPrediction
	want      *wantedPrediction // the prediction the LEDs should show
	// pipelined is the latest board frame the pipeline itself stored (with
	// queue.every_frame): a trigger for that frame reuses its entry instead
	// of storing the frame a second time.
	pipelined agent.Embedded
	// pipelineStores is true when pushed board frames are stored by the
	// pipeline (a bridge-kind source and queue.every_frame).
	pipelineStores bool

	wake     chan struct{} // wakes the LED loop
	training atomic.Bool
	workers  sync.WaitGroup // trainings in flight
	count    counters
}

// seenPrediction is the probe's last prediction for one source's frame.
type seenPrediction struct {
	seq   uint64
	label string
}

// wantedPrediction is what the LEDs should show.
type wantedPrediction struct {
	label string
	score float64
}

// New builds a Board, and its bridge, from cfg's bridge section and
// sources. Errors wrap bridge.ErrInvalidConfig.
func New(cfg config.Config, o Options) (*Board, error) {
	log := o.Logger
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	link := cfg.Bridge
	bc := o.Bridge
	if bc.Opener == nil && bc.Port.Path == "" && bc.Port.USB == nil {
		spec, err := ParsePort(link.Port)
		if err != nil {
			return nil, fmt.Errorf("bridge.port: %w", err)
		}
		bc.Port = spec
	}
	if bc.Baud == 0 {
		bc.Baud = link.Baud
	}
	if bc.Logger == nil {
		bc.Logger = log
	}
	buttons, err := buttonMapping(link.Buttons)
	if err != nil {
		return nil, err
	}
	b := &Board{
		log: log, buttons: buttons, snapshot: link.Snapshot, store: DefaultSource,
		seen: map[string]seenPrediction{}, wake: make(chan struct{}, 1),
	}
	for _, s := range cfg.Sources {
		if s.Kind == config.KindBridge {
			b.push, b.store = s.Name, s.Name
			b.pipelineStores = cfg.Queue.EveryFrame
			break
		}
	}
	b.ledSource = b.store
	if b.snapshot != "" {
		b.ledSource = b.snapshot
	}
	if b.bridge, err = bridge.New(bc, b); err != nil {
		return nil, err
	}
	b.cmd = &countingCommander{c: b.bridge, count: &b.count}
	if len(link.LEDs) > 0 {
		m, err := ledMapping(link.LEDs)
		if err != nil {
			return nil, err
		}
		b.leds = bridge.NewPredictionMapper(m, b.cmd)
	}
	return b, nil
}

// ParsePort reads bridge.port: "usb:VID:PID[:SERIAL]" (hex ids) names a USB
// serial device, anything else is a device path. Errors wrap
// bridge.ErrInvalidConfig.
func ParsePort(s string) (bridge.PortSpec, error) {
	if rest, ok := strings.CutPrefix(s, "usb:"); ok {
		id, err := bridge.ParseUSBID(rest)
		if err != nil {
			return bridge.PortSpec{}, err
		}
		return bridge.PortSpec{USB: &id}, nil
	}
	if s == "" {
		return bridge.PortSpec{}, fmt.Errorf("%w: no serial port given", bridge.ErrInvalidConfig)
	}
	return bridge.PortSpec{Path: s}, nil
}

// buttonMapping turns bridge.buttons (button id -> label) into short-press
// label rules. (A long press of any button trains; see button.)
func buttonMapping(buttons map[string]string) (*bridge.Mapping, error) {
	m := &bridge.Mapping{}
	for key, label := range buttons {
		id, err := strconv.ParseUint(strings.TrimSpace(key), 10, 8)
		if err != nil {
			return nil, fmt.Errorf("%w: bridge.buttons: %q is not a button id from 0 to 255", bridge.ErrInvalidConfig, key)
		}
		m.Buttons = append(m.Buttons, bridge.ButtonRule{Button: uint8(id), Press: "short", Action: bridge.ActionLabel, Label: label})
	}
	if err := m.Validate(); err != nil {
		return nil, fmt.Errorf("bridge.buttons: %w", err)
	}
	return m, nil
}

// Attach joins the Board to the agent and to the publisher of
// events/trigger (the MQTT client). Call it before Run.
func (b *Board) Attach(a Agent, p Publisher) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.a, b.pub = a, p
}

// parts returns what Attach gave (nil before).
func (b *Board) parts() (Agent, Publisher) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.a, b.pub
}

// Bridge returns the Board's bridge, for its state and board info.
func (b *Board) Bridge() *bridge.Bridge { return b.bridge }

// Run runs the bridge and the LED updates until ctx ends, waits for a
// training a long press started, and returns nil. It fails at once with
// ErrNotAttached before Attach.
func (b *Board) Run(ctx context.Context) error {
	if a, p := b.parts(); a == nil || p == nil {
		return ErrNotAttached
	}
	var loops sync.WaitGroup
	if b.leds != nil {
		loops.Go(func() { b.driveLEDs(ctx) })
	}
	err := b.bridge.Run(ctx)
	loops.Wait()
	b.workers.Wait()
	if err != nil && ctx.Err() == nil {
		return fmt.Errorf("firmware bridge: %w", err)
	}
	return nil
}

// The Board is the bridge's Sink and the agent's Observer; the agent is
// what the Board drives; the MQTT client is its Publisher.
var (
	_ bridge.Sink    = (*Board)(nil)
	_ agent.Observer = (*Board)(nil)
	_ Agent          = (*agent.Agent)(nil)
	_ Publisher      = (*mqtt.Client)(nil)
)

//go:build linux

package board_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/mocoedge/mocoedge/edge/mqtt/mqtttest"

	"github.com/mocoedge/mocoedge/edge/agent"
	"github.com/mocoedge/mocoedge/edge/agent/agenttest"
	"github.com/mocoedge/mocoedge/edge/board"
	"github.com/mocoedge/mocoedge/edge/config"
	"github.com/mocoedge/mocoedge/edge/mqtt"
	"github.com/mocoedge/mocoedge/edge/mqttlink"
	"github.com/mocoedge/mocoedge/firmware-bridge/bridge"
	"github.com/mocoedge/mocoedge/firmware-bridge/bridge/bridgetest"
)

// wait bounds each wait in these tests.
const wait = 15 * time.Second

// device is the test daemon's device id: topics are mocoedge/dev1/...
const device = "dev1"

// reports returns the events/trigger reports of kind so far.
func reports(in *mqtttest.Inbox, kind string) []map[string]any {
	var out []map[string]any
	for _, m := range in.Get("events/trigger") {
		if m["kind"] == kind {
			out = append(out, m)
		}
	}
	return out
}

// awaitReport waits for the n-th events/trigger report of kind (from 1).
func awaitReport(t *testing.T, in *mqtttest.Inbox, kind string, n int) map[string]any {
	t.Helper()
	agenttest.WaitFor(t, "events/trigger report "+kind, wait, func() bool { return len(reports(in, kind)) >= n })
	return reports(in, kind)[n-1]
}

// predictions records the probe's predictions for the board's frames.
type predictions struct {
	mu   sync.Mutex
	last map[string]string // source -> label
	n    int
}

// Embedded records e's prediction.
func (p *predictions) Embedded(_ context.Context, e agent.Embedded) {
	if e.Prediction == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.last[e.Source] = e.Prediction.Label
	p.n++
}

// latest returns the last label predicted for source and how many
// predictions were made in all.
func (p *predictions) latest(source string) (string, int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.last[source], p.n
}

// daemon is the edge daemon's parts as runDaemon wires them: an agent with a
// bridge source, the embedded broker, the MQTT client and link, and the
// Board; plus a dashboard subscribed to everything.
type daemon struct {
	*agenttest.Running
	board *board.Board
	in    *mqtttest.Inbox
	preds *predictions
}

// startDaemon starts the daemon's parts with the board on port and the
// bridge tuned by bc.
func startDaemon(t *testing.T, port string, bc bridge.Config) *daemon {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	log, _ := agenttest.Logger(t)
	broker, err := mqtt.StartBroker(ctx, "127.0.0.1:0", "", "", log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { broker.Close() })

	cfg := agenttest.Config(t, agenttest.ExportCIFAR(t))
	cfg.DeviceID = device
	cfg.Sources = []config.Source{{Name: "cam", Kind: config.KindBridge}}
	cfg.Bridge = config.BridgeLink{Enabled: true, Port: port, Baud: bridge.DefaultBaud,
		Buttons: map[string]string{"0": "cat", "1": "dog"}, LEDs: map[string]int{"cat": 0, "dog": 1}}
	cfg.MQTT.Broker = broker.URL()
	cfg.MQTT.Predictions.MinInterval = 0
	cfg.Probe.AutoTrain = 0
	if err := cfg.Resolve(); err != nil {
		t.Fatal(err)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}

	bc.Logger = log.With("component", "bridge")
	brd, err := board.New(cfg, board.Options{Logger: log, Bridge: bc})
	if err != nil {
		t.Fatal(err)
	}
	link := mqttlink.New(log, 200*time.Millisecond)
	link.AddCounters(brd.Counters)
	preds := &predictions{last: map[string]string{}}
	r := agenttest.Start(t, cfg, agent.Options{Observers: []agent.Observer{link, brd, preds}})
	client, err := mqtt.New(mqtt.Options{Config: cfg.MQTT, DeviceID: device, DataDir: cfg.DataDir, Logger: log, Handler: link})
	if err != nil {
		t.Fatal(err)
	}
	link.Attach(r.Agent, client)
	brd.Attach(r.Agent, client)
	if err := client.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { client.Close(context.Background()) })

	in := mqtttest.Subscribe(t, broker.URL(), device)

	// The link and the board run as agent.Run's extra functions would: they
	// stop before the agent does (cleanups run last first).
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 2)
	go func() { done <- link.Run(runCtx) }()
	go func() { done <- brd.Run(runCtx) }()
	t.Cleanup(func() {
		stop()
		for range 2 {
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("Run: %v", err)
				}
			case <-time.After(wait):
				t.Fatal("Run did not return after cancel")
			}
		}
	})
	return &daemon{Running: r, board: brd, in: in, preds: preds}
}

// fastBridge is a bridge configuration with short periods for tests.
func fastBridge(heartbeat time.Duration) bridge.Config {
	return bridge.Config{
		Heartbeat: heartbeat,
		Backoff:   bridge.Backoff{Initial: 20 * time.Millisecond, Max: 200 * time.Millisecond, Seed: 1},
	}
}

// awaitState waits for the bridge to reach state st.
func (d *daemon) awaitState(t *testing.T, st bridge.State) {
	t.Helper()
	agenttest.WaitFor(t, "bridge state "+st.String(), wait, func() bool { return d.board.Bridge().State() == st })
}

// sendFrame sends jpeg from the board and waits until the Board has it.
func (d *daemon) sendFrame(t *testing.T, sb *bridgetest.Board, jpeg []byte) {
	t.Helper()
	before := d.board.Stats().Frames
	if _, err := sb.SendJPEG(jpeg); err != nil {
		t.Fatal(err)
	}
	agenttest.WaitFor(t, "the board's camera frame", wait, func() bool { return d.board.Stats().Frames > before })
}

// embedded is how many frames of the board's source the pipeline embedded.
func (d *daemon) embedded() uint64 { return d.Health().Pipeline["cam"].Embedded }

// telemetryCounters waits for a telemetry report whose counters satisfy
// ok, and returns them.
func (d *daemon) telemetryCounters(t *testing.T, ok func(c map[string]any) bool) map[string]any {
	t.Helper()
	var got map[string]any
	agenttest.WaitFor(t, "telemetry with the board's counters", wait, func() bool {
		for _, m := range d.in.Get("telemetry") {
			if c, _ := m["counters"].(map[string]any); c != nil && ok(c) {
				got = c
				return true
			}
		}
		return false
	})
	return got
}

//go:build linux

package board_test

import (
	"context"
	"testing"
	"time"

	"github.com/mocoedge/mocoedge/edge/agent"
	"github.com/mocoedge/mocoedge/edge/agent/agenttest"
	"github.com/mocoedge/mocoedge/edge/board"
	"github.com/mocoedge/mocoedge/edge/config"
	"github.com/mocoedge/mocoedge/edge/mqtt"
	"github.com/mocoedge/mocoedge/edge/probe"
	"github.com/mocoedge/mocoedge/edge/source"
	"github.com/mocoedge/mocoedge/firmware-bridge/bridge"
	"github.com/mocoedge/mocoedge/firmware-bridge/bridge/bridgetest"
	"github.com/mocoedge/mocoedge/firmware-bridge/protocol"
	"github.com/mocoedge/mocoedge/firmware-bridge/simulator"
)

// noAgent is an Agent for tests that only exercise the LEDs.
type noAgent struct{}

func (noAgent) Snapshot(context.Context, string) (agent.Embedded, error) {
	return agent.Embedded{}, nil
}
func (noAgent) Store(context.Context, string, []byte, time.Time) (agent.Embedded, error) {
	return agent.Embedded{}, nil
}
func (noAgent) ApplyLabel(uint64, string, string) (uint64, error)   { return 0, nil }
func (noAgent) TrainProbe(context.Context) (agent.ProbeInfo, error) { return agent.ProbeInfo{}, nil }
func (noAgent) Sources() *source.Hub                                { return nil }

type noPublisher struct{}

func (noPublisher) Trigger(mqtt.Trigger) {}

// TestRefusedLEDBacksOff maps a label to an LED the board lacks: the board
// NACKs it, and a stream of predictions does not turn into a stream of
// commands; the LED it has is still set.
func TestRefusedLEDBacksOff(t *testing.T) {
	sim := bridgetest.Plug(t, simulator.Config{HeartbeatInterval: 20 * time.Millisecond, LEDs: 4})
	cfg := config.Config{Bridge: config.BridgeLink{Port: sim.Path, LEDs: map[string]int{"cat": 2, "dog": 9}}}
	b, err := board.New(cfg, board.Options{Bridge: fastBridge(50 * time.Millisecond)})
	if err != nil {
		t.Fatal(err)
	}
	b.Attach(noAgent{}, noPublisher{})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- b.Run(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	}()
	agenttest.WaitFor(t, "ready", wait, func() bool { return b.Bridge().State() == bridge.StateReady })

	predict := func(label string) {
		b.Embedded(ctx, agent.Embedded{Source: board.DefaultSource, Seq: 1, Prediction: &probe.Prediction{Label: label, Score: 0.9}})
	}
	predict("cat")
	agenttest.WaitFor(t, "LED 2 on", wait, func() bool { s, _ := sim.LED(2); return s.Mode == protocol.LEDOn })
	for range 60 { // 1.2 s of a 50 fps camera
		predict("dog")
		time.Sleep(20 * time.Millisecond)
	}
	s := b.Stats()
	if s.LEDFailures == 0 || s.LEDCommands > 2+2*2 {
		t.Fatalf("%d LED commands, %d failed, for 60 predictions of a refused LED", s.LEDCommands, s.LEDFailures)
	}
	if st, _ := sim.LED(2); st.Mode != protocol.LEDOff {
		t.Fatalf("LED 2 is %v while dog is predicted", st.Mode)
	}
	t.Logf("%d LED commands, %d refused", s.LEDCommands, s.LEDFailures)
}

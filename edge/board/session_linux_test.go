//go:build linux

package board_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/mocoedge/mocoedge/edge/agent"
	"github.com/mocoedge/mocoedge/edge/agent/agenttest"
	"github.com/mocoedge/mocoedge/firmware-bridge/bridge"
	"github.com/mocoedge/mocoedge/firmware-bridge/bridge/bridgetest"
	"github.com/mocoedge/mocoedge/firmware-bridge/protocol"
	"github.com/mocoedge/mocoedge/firmware-bridge/simulator"
	"github.com/mocoedge/mocoedge/internal/testmodel"
)

// TestSession drives the daemon from a simulated board over a real PTY:
// handshake; CIFAR-10 JPEGs from the board's camera become queue entries;
// each trigger stores the board's frame and reports its entry on MQTT; the
// buttons label those entries and a long press trains the probe; the
// probe's predictions light the simulated LEDs, only on change, and again
// after the board reboots; the counters reach telemetry.
func TestSession(t *testing.T) {
	const n = 8 // triggers, labelled alternately cat (button 0) and dog (button 1)
	images := testmodel.CIFARJPEGs(t, n)
	sim := bridgetest.Plug(t, simulator.Config{HeartbeatInterval: 20 * time.Millisecond, ChunkSize: 256})
	d := startDaemon(t, sim.Path, fastBridge(50*time.Millisecond))
	d.awaitState(t, bridge.StateReady)
	if info, ok := d.board.Bridge().Board(); !ok || info.DeviceID != "sim-0001" {
		t.Fatalf("handshake: %+v %v", info, ok)
	}
	ctx := context.Background()

	// Before any camera frame a trigger captures nothing, and a label
	// button then has nothing to label: both say so, neither acts.
	if err := sim.Trigger(ctx, 2); err != nil {
		t.Fatal(err)
	}
	if r := awaitReport(t, d.in, "trigger", 1); r["entry"] != nil || !strings.Contains(fmt.Sprint(r["error"]), "no camera frame") {
		t.Fatalf("trigger before any frame: %v", r)
	}
	if err := sim.Press(ctx, 0, protocol.PressShort); err != nil {
		t.Fatal(err)
	}
	if r := awaitReport(t, d.in, "button", 1); r["entry"] != nil || !strings.Contains(fmt.Sprint(r["error"]), "no captured trigger") {
		t.Fatalf("button before any capture: %v", r)
	}

	entries := make([]uint64, n)
	for i, img := range images {
		d.sendFrame(t, sim, img)
		if err := sim.Trigger(ctx, 2); err != nil {
			t.Fatal(err)
		}
		r := awaitReport(t, d.in, "trigger", i+2)
		id, _ := r["entry"].(float64)
		if id == 0 || r["source"] != "cam" || r["input"] != "2" || r["error"] != nil || r["board_time"].(float64) == 0 {
			t.Fatalf("trigger %d report: %v", i, r)
		}
		entries[i] = uint64(id)
		button, label := uint8(i%2), []string{"cat", "dog"}[i%2]
		if err := sim.Press(ctx, button, protocol.PressShort); err != nil {
			t.Fatal(err)
		}
		if r := awaitReport(t, d.in, "button", i+2); r["entry"] != id || r["label"] != label || r["input"] != fmt.Sprint(button) || r["error"] != nil {
			t.Fatalf("button %d report: %v", i, r)
		}
		if e, err := d.Entry(entries[i]); err != nil || e.Label != label || e.Source != "cam" {
			t.Fatalf("entry %d after the button: %+v, %v", entries[i], e, err)
		}
	}
	// Every camera frame also went through the pipeline as the bridge
	// source's frame, and a trigger reuses that entry rather than storing
	// the frame twice: n entries for n frames.
	agenttest.WaitFor(t, "the camera frames embedded", wait, func() bool { return d.embedded() >= n })
	if got := d.Queue().Len(); got != n {
		t.Fatalf("queue holds %d entries for %d camera frames, want %d (one per frame)", got, n, n)
	}
	// The entry of a trigger is the frame the board had just sent.
	res, err := d.Query(ctx, agent.QueryRequest{Image: images[3], K: 3})
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, x := range res.Results {
		found = found || (x.ID == entries[3] && x.Score > 0.999)
	}
	if !found {
		t.Fatalf("image 3 does not find trigger entry %d: %+v", entries[3], res.Results)
	}

	// A long press trains the probe on the button labels.
	if err := sim.Press(ctx, 1, protocol.PressLong); err != nil {
		t.Fatal(err)
	}
	if r := awaitReport(t, d.in, "train", 1); r["error"] != nil || r["input"] != "1" {
		t.Fatalf("train report: %v", r)
	}
	if p := d.ProbeInfo(); p.Version != 1 || len(p.Classes) != 2 || p.Counts[0] != n/2 || p.Counts[1] != n/2 {
		t.Fatalf("probe after the long press: %+v", p)
	}

	// Predictions reach the LEDs: image 0 was labelled cat (LED 0), image 1
	// dog (LED 1).
	led := func(id uint8) protocol.LEDMode { s, _ := sim.LED(id); return s.Mode }
	for i, want := range []struct {
		label   string
		on, off uint8
	}{{"cat", 0, 1}, {"dog", 1, 0}} {
		d.sendFrame(t, sim, images[i])
		agenttest.WaitFor(t, "LED "+fmt.Sprint(want.on)+" on for "+want.label, wait, func() bool {
			return led(want.on) == protocol.LEDOn && led(want.off) == protocol.LEDOff
		})
		if got, _ := d.preds.latest("cam"); got != want.label {
			t.Fatalf("image %d predicted %q, want %q", i, got, want.label)
		}
	}
	// The same prediction again sends nothing.
	cmds := d.board.Stats().LEDCommands
	before := d.embedded()
	for range 3 {
		d.sendFrame(t, sim, images[1])
	}
	agenttest.WaitFor(t, "3 more frames embedded", wait, func() bool { return d.embedded() >= before+3 })
	time.Sleep(300 * time.Millisecond) // more than the LED loop's poll
	if s := d.board.Stats(); s.LEDCommands != cmds || cmds != 4 || s.LEDFailures != 0 {
		t.Fatalf("LED commands: %d after 2 changes, %d after 3 equal predictions (failures %d)", cmds, s.LEDCommands, s.LEDFailures)
	}
	// A trigger now reports the probe's label for its capture.
	if err := sim.Trigger(ctx, 5); err != nil {
		t.Fatal(err)
	}
	if r := awaitReport(t, d.in, "trigger", n+2); r["label"] != "dog" || r["entry"] == nil {
		t.Fatalf("trigger after training: %v", r)
	}

	// A reboot turns the board's LEDs off; the Board shows the prediction
	// again.
	if err := sim.Reboot(); err != nil {
		t.Fatal(err)
	}
	agenttest.WaitFor(t, "LED 1 on again after the reboot", wait, func() bool {
		return d.board.Bridge().Stats().Reboots == 1 && led(1) == protocol.LEDOn && led(0) == protocol.LEDOff
	})

	c := d.telemetryCounters(t, func(c map[string]any) bool { return c["board.triggers"] == float64(n+2) })
	s := d.board.Stats()
	if c["board.captures"] != float64(n+1) || c["board.capture_failures"] != 1.0 || c["board.labels"] != float64(n) ||
		c["board.label_failures"] != 1.0 || c["board.trainings"] != 1.0 || c["bridge.frames_in"].(float64) == 0 ||
		c["bridge.state"] != "ready" || s.Bridge.BadFrames.Total() != 0 || s.Frames != n+5 || s.Pushed != s.Frames {
		t.Fatalf("counters: telemetry %v, stats %+v", c, s)
	}
	t.Logf("%d camera frames (%d chunks), %d triggers, %d labels, probe %+v, %d LED commands; bridge frames in %d out %d",
		s.Frames, s.Bridge.CameraChunks, s.Triggers, s.Labels, d.ProbeInfo().Counts, s.LEDCommands, s.Bridge.FramesIn, s.Bridge.FramesOut)
}

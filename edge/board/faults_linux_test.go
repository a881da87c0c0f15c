//go:build linux

package board_test

import (
	"context"
	"math/rand/v2"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/mocoedge/mocoedge/edge/agent/agenttest"
	"github.com/mocoedge/mocoedge/firmware-bridge/bridge"
	"github.com/mocoedge/mocoedge/firmware-bridge/bridge/bridgetest"
	"github.com/mocoedge/mocoedge/firmware-bridge/protocol"
	"github.com/mocoedge/mocoedge/firmware-bridge/simulator"
	"github.com/mocoedge/mocoedge/internal/testmodel"
)

// TestFaults runs the daemon's board through what a serial line does: bursts
// of garbage, truncated and corrupted frames (among them a TRIGGER and a
// BUTTON that must not act), a reboot in the middle of a camera frame, an
// unplug (the PTY closed, and a new one behind the same path), then a line
// that flips 1% of the bits. No invalid message is acted on, every trigger
// the board got ACKed is reported exactly once, the bridge recovers by itself,
// and its counters reach telemetry.
func TestFaults(t *testing.T) {
	images := testmodel.CIFARJPEGs(t, 3)
	port := bridgetest.LinkPath(t)
	first := bridgetest.Plug(t, simulator.Config{DeviceID: "first", HeartbeatInterval: 10 * time.Millisecond, ChunkSize: 256})
	bridgetest.Relink(t, port, first.Path)
	bc := fastBridge(100 * time.Millisecond)
	bc.HandshakeTimeout = 10 * time.Second // a HELLO crosses the 1% line intact once in 15 tries
	d := startDaemon(t, port, bc)
	d.awaitState(t, bridge.StateReady)
	ctx := context.Background()
	triggers, presses := 0, 0 // ACKed by the bridge

	trigger := func(sb *bridgetest.Board, input uint8) bool {
		t.Helper()
		if err := sb.Trigger(ctx, input); err != nil {
			t.Logf("trigger %d not ACKed: %v", input, err)
			return false
		}
		triggers++
		awaitReport(t, d.in, "trigger", triggers)
		return true
	}
	press := func(sb *bridgetest.Board, button uint8) {
		t.Helper()
		if err := sb.Press(ctx, button, protocol.PressShort); err != nil {
			t.Logf("button %d not ACKed: %v", button, err)
			return
		}
		presses++
		awaitReport(t, d.in, "button", presses)
	}

	// Garbage, truncated frames and corrupted frames, each followed by a
	// delimiter as a glitch on an idle line would be.
	d.sendFrame(t, first, images[0])
	rng := rand.New(rand.NewPCG(3, 3))
	garbage := make([]byte, 3000)
	for i := range garbage {
		garbage[i] = byte(rng.UintN(256))
	}
	wire := func(seq uint8, m protocol.Message) []byte {
		b, err := protocol.AppendMessage(nil, seq, true, m)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	truncTrigger := wire(200, &protocol.Trigger{Source: 200, BoardTimeMS: 1})
	truncTrigger = append(truncTrigger[:len(truncTrigger)/2:len(truncTrigger)/2], 0)
	flipTrigger := wire(201, &protocol.Trigger{Source: 201, BoardTimeMS: 2})
	flipTrigger[5] ^= 0x10
	truncButton := wire(202, &protocol.Button{ID: 0, Press: protocol.PressShort})
	truncButton = append(truncButton[:len(truncButton)-3:len(truncButton)-3], 0)
	chunks, err := protocol.SplitJPEG(999, images[1], 256)
	if err != nil {
		t.Fatal(err)
	}
	truncChunk := wire(203, &chunks[0])
	truncChunk = append(truncChunk[:len(truncChunk)/3:len(truncChunk)/3], 0)
	for _, noise := range [][]byte{garbage, truncTrigger, flipTrigger, truncButton, truncChunk, garbage[:500]} {
		if err := first.InjectNoise(noise); err != nil {
			t.Fatal(err)
		}
	}
	trigger(first, 3)
	press(first, 0)

	// A reboot in the middle of a camera frame: the torn frame is dropped
	// and counted, the next one arrives.
	if _, err := first.RebootMidFrame(images[1], 1); err != nil {
		t.Fatal(err)
	}
	d.sendFrame(t, first, images[2])
	agenttest.WaitFor(t, "the reboot noticed", wait, func() bool { return d.board.Bridge().Stats().Reboots == 1 })
	trigger(first, 3)
	press(first, 1)
	if s := d.board.Stats(); s.Frames != 2 || s.Bridge.IncompleteFrames == 0 || s.Bridge.BadFrames.Total() == 0 {
		t.Fatalf("after the reboot: %+v", s)
	}

	// Unplugged: the device node and its link go; the bridge keeps trying.
	if err := os.Remove(port); err != nil {
		t.Fatal(err)
	}
	first.Unplug()
	agenttest.WaitFor(t, "failed opens while unplugged", wait, func() bool {
		s := d.board.Bridge().Stats()
		return s.State == bridge.StateDisconnected && s.OpenFailures >= 2
	})

	// Plugged in again on a line that flips 1% of the bits the board sends.
	// The board resends each event until ACKed; corrupt copies are dropped,
	// repeated ones recognised.
	second := bridgetest.Plug(t, simulator.Config{DeviceID: "second", HeartbeatInterval: 10 * time.Millisecond,
		BitErrorRate: 0.01, Seed: 9, AckTimeout: 30 * time.Millisecond, Retries: 30})
	bridgetest.Relink(t, port, second.Path)
	agenttest.WaitFor(t, "the second board's handshake", wait, func() bool {
		info, ok := d.board.Bridge().Board()
		return ok && info.DeviceID == "second"
	})
	const noisy = 8
	for i := range noisy {
		if trigger(second, 4) {
			press(second, uint8(i%2))
		}
	}
	if triggers < 2+noisy-1 {
		t.Fatalf("only %d of %d triggers got through", triggers, 2+noisy)
	}

	// Exactly the ACKed events were acted on, once each; none of the
	// invalid ones.
	time.Sleep(200 * time.Millisecond) // late duplicates would show now
	triggered := reports(d.in, "trigger")
	buttons := reports(d.in, "button")
	if len(triggered) != triggers || len(buttons) != presses {
		t.Fatalf("%d trigger reports for %d triggers, %d button reports for %d presses", len(triggered), triggers, len(buttons), presses)
	}
	for _, r := range triggered {
		if !slices.Contains([]any{"3", "4"}, r["input"]) || r["error"] != nil || r["entry"] == nil {
			t.Fatalf("trigger report %v", r)
		}
	}
	// Triggers with no new camera frame capture the same frame, so the
	// same entry: it carries the label of the last press that labelled it.
	labelled := 0
	last := map[uint64]any{}
	for _, r := range buttons {
		if r["error"] != nil {
			t.Fatalf("button report %v", r)
		}
		last[uint64(r["entry"].(float64))] = r["label"]
		labelled++
	}
	for id, label := range last {
		e, err := d.Entry(id)
		if err != nil || e.Label != label {
			t.Fatalf("entry %d: %+v, %v; its last label was %v", id, e, err, label)
		}
	}
	s := d.board.Stats()
	if s.Triggers != uint64(triggers) || s.Buttons != uint64(presses) || s.Labels != uint64(labelled) || s.Frames != 2 {
		t.Fatalf("stats %+v for %d triggers, %d presses", s, triggers, presses)
	}

	c := d.telemetryCounters(t, func(c map[string]any) bool {
		return c["board.triggers"] == float64(triggers) && c["bridge.reconnects"] == 1.0
	})
	for _, key := range []string{"bridge.bad_frames", "bridge.bad_frames.crc", "bridge.incomplete_frames", "bridge.reboots",
		"bridge.open_failures", "bridge.frames_in", "bridge.camera_frames"} {
		if v, _ := c[key].(float64); v == 0 {
			t.Errorf("telemetry counter %s = %v", key, c[key])
		}
	}
	t.Logf("triggers %d, presses %d, board retries %d; telemetry: bad frames %v (crc %v, cobs %v, length %v), duplicates %v, incomplete %v, reboots %v, reconnects %v, open failures %v",
		triggers, presses, second.Stats().Retries, c["bridge.bad_frames"], c["bridge.bad_frames.crc"], c["bridge.bad_frames.cobs"],
		c["bridge.bad_frames.length"], c["bridge.duplicates"], c["bridge.incomplete_frames"], c["bridge.reboots"],
		c["bridge.reconnects"], c["bridge.open_failures"])
}

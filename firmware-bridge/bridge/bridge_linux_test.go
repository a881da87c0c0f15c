//go:build linux

package bridge_test

import (
	"context"
	"errors"
	"math/rand/v2"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mocoedge/mocoedge/firmware-bridge/bridge"
	"github.com/mocoedge/mocoedge/firmware-bridge/bridge/bridgetest"
	"github.com/mocoedge/mocoedge/firmware-bridge/protocol"
	"github.com/mocoedge/mocoedge/firmware-bridge/simulator"
)

func TestHandshakeAndHeartbeats(t *testing.T) {
	board := bridgetest.Plug(t, simulator.Config{DeviceID: "cam-door", FirmwareVersion: "2.3.1", HeartbeatInterval: 20 * time.Millisecond})
	rec := bridgetest.NewRecorder()
	b := bridgetest.Run(t, fastConfig(t, board.Path), rec)

	ready := rec.AwaitStatus(t, bridge.StateReady)
	if ready.Port != board.Path || ready.Board.DeviceID != "cam-door" || ready.Board.FirmwareVersion != "2.3.1" ||
		ready.Board.Protocol != protocol.ProtocolVersion || !ready.Board.Capabilities.Has(protocol.CapCamera|protocol.CapLED) {
		t.Fatalf("ready status %+v", ready)
	}
	if info, ok := b.Board(); !ok || info != ready.Board {
		t.Fatalf("Board() = %+v, %v", info, ok)
	}
	// Heartbeats both ways: the bridge counts the board's, the board
	// decodes the bridge's (and its HELLO).
	eventually(t, "heartbeats from the board", func() bool { return b.Stats().HeartbeatsIn >= 5 })
	eventually(t, "heartbeats from the bridge", func() bool { return board.Stats().Decoder.Messages >= 4 })
	rec.NoStatus(t, bridge.StateSilent, 200*time.Millisecond)

	s := b.Stats()
	if s.State != bridge.StateReady || s.Opens != 1 || s.Handshakes != 1 || s.Reconnects != 0 || s.BadFrames.Total() != 0 ||
		s.FramesIn == 0 || s.FramesOut == 0 || s.BytesIn == 0 || s.Silences != 0 || s.Reboots != 0 {
		t.Fatalf("stats %+v", s)
	}
	if err := b.Run(context.Background()); !errors.Is(err, bridge.ErrAlreadyRunning) {
		t.Fatalf("second Run = %v", err)
	}
}

func TestEvents(t *testing.T) {
	board := bridgetest.Plug(t, simulator.Config{DeviceID: "gate-2", HeartbeatInterval: -1})
	rec := bridgetest.NewRecorder()
	b := bridgetest.Run(t, fastConfig(t, board.Path), rec)
	rec.AwaitStatus(t, bridge.StateReady)

	ctx := context.Background()
	if err := board.Trigger(ctx, 3); err != nil {
		t.Fatalf("Trigger not ACKed: %v", err)
	}
	if err := board.Press(ctx, 1, protocol.PressLong); err != nil {
		t.Fatalf("Press not ACKed: %v", err)
	}
	if err := board.Sensor(2, 21.5); err != nil {
		t.Fatal(err)
	}
	if err := board.Log(protocol.LogWarn, "battery low"); err != nil {
		t.Fatal(err)
	}
	want := []bridge.Event{
		bridge.Trigger{Device: "gate-2", Source: 3},
		bridge.Button{Device: "gate-2", ID: 1, Press: protocol.PressLong},
		bridge.Sensor{Device: "gate-2", ID: 2, Value: 21.5},
		bridge.Log{Device: "gate-2", Level: protocol.LogWarn, Text: "battery low"},
	}
	for _, w := range want {
		got := bridgetest.Recv(t, rec.Events, string(w.Kind()))
		if got.When().IsZero() || time.Since(got.When()) > wait {
			t.Fatalf("%s at %v", got.Kind(), got.When())
		}
		switch g := got.(type) {
		case bridge.Trigger:
			g.At, g.BoardTimeMS = time.Time{}, 0
			got = g
		case bridge.Button:
			g.At = time.Time{}
			got = g
		case bridge.Sensor:
			g.At = time.Time{}
			got = g
		case bridge.Log:
			g.At = time.Time{}
			got = g
		}
		if got != w {
			t.Fatalf("got %#v, want %#v", got, w)
		}
	}
	if s := b.Stats(); s.Events < 4 || s.DroppedEvents != 0 || s.Duplicates != 0 {
		t.Fatalf("stats %+v", s)
	}
}

func TestCameraFrames(t *testing.T) {
	board := bridgetest.Plug(t, simulator.Config{HeartbeatInterval: 20 * time.Millisecond, ChunkSize: 700})
	rec := bridgetest.NewRecorder()
	b := bridgetest.Run(t, fastConfig(t, board.Path), rec)
	rec.AwaitStatus(t, bridge.StateReady)

	pics := [][]byte{bridgetest.Picture(t, 320, 240, 1), bridgetest.Picture(t, 64, 48, 2), bridgetest.Picture(t, 200, 150, 3)}
	for _, pic := range pics {
		if _, err := board.SendJPEG(pic); err != nil {
			t.Fatal(err)
		}
	}
	for i, pic := range pics {
		f := bridgetest.Recv(t, rec.Frames, "camera frame")
		if f.ID != uint16(i) || f.Device != "sim-0001" || f.Chunks != (len(pic)+699)/700 || f.At.Before(f.Started) {
			t.Fatalf("frame %+v", f)
		}
		checkFrame(t, f, pic)
	}
	if s := b.Stats(); s.CameraFrames != 3 || s.IncompleteFrames != 0 || s.DroppedFrames != 0 {
		t.Fatalf("stats %+v", s)
	}
}

func TestCommands(t *testing.T) {
	tests := []struct {
		name string
		caps protocol.Capability
		run  func(context.Context, *bridge.Bridge) error
		want error
		led  *protocol.SetLED // expected on the board afterwards
	}{
		{
			name: "LED blink",
			run: func(ctx context.Context, b *bridge.Bridge) error {
				return b.SetLED(ctx, protocol.SetLED{ID: 1, Mode: protocol.LEDBlink, Brightness: 200, OnMS: 100, OffMS: 400})
			},
			led: &protocol.SetLED{ID: 1, Mode: protocol.LEDBlink, Brightness: 200, OnMS: 100, OffMS: 400},
		},
		{
			name: "relay",
			run: func(ctx context.Context, b *bridge.Bridge) error {
				return b.SetRelay(ctx, protocol.SetRelay{ID: 0, On: true})
			},
		},
		{
			name: "LED the board lacks",
			run: func(ctx context.Context, b *bridge.Bridge) error {
				return b.SetLED(ctx, protocol.SetLED{ID: 9, Mode: protocol.LEDOn})
			},
			want: protocol.ErrNacked,
		},
		{
			name: "malformed",
			run: func(ctx context.Context, b *bridge.Bridge) error {
				return b.SetLED(ctx, protocol.SetLED{ID: 0, Mode: protocol.LEDBlink})
			},
			want: protocol.ErrMalformed,
		},
		{
			name: "no relay capability",
			caps: protocol.CapLED,
			run: func(ctx context.Context, b *bridge.Bridge) error {
				return b.SetRelay(ctx, protocol.SetRelay{ID: 0, On: true})
			},
			want: bridge.ErrUnsupported,
		},
		{
			name: "canceled",
			run: func(ctx context.Context, b *bridge.Bridge) error {
				ctx, cancel := context.WithCancel(ctx)
				cancel()
				return b.SetLED(ctx, protocol.SetLED{ID: 0, Mode: protocol.LEDOn})
			},
			want: context.Canceled,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			board := bridgetest.Plug(t, simulator.Config{HeartbeatInterval: -1, Capabilities: tt.caps})
			rec := bridgetest.NewRecorder()
			b := bridgetest.Run(t, fastConfig(t, board.Path), rec)
			rec.AwaitStatus(t, bridge.StateReady)
			err := tt.run(context.Background(), b)
			if tt.want == nil && err != nil || tt.want != nil && !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			if tt.led != nil {
				if got, _ := board.LED(tt.led.ID); got != *tt.led {
					t.Fatalf("board LED = %+v, want %+v", got, *tt.led)
				}
			}
			s := b.Stats()
			if tt.want == nil && (s.Commands != 1 || s.CommandFailures != 0) {
				t.Fatalf("stats %+v", s)
			}
		})
	}

	b, err := bridge.New(bridge.Config{Port: bridge.PortSpec{Path: "/nonexistent"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := b.SetLED(context.Background(), protocol.SetLED{Mode: protocol.LEDOn}); !errors.Is(err, bridge.ErrNotConnected) {
		t.Fatalf("before Run: %v", err)
	}
}

func TestSlowConsumer(t *testing.T) {
	board := bridgetest.Plug(t, simulator.Config{HeartbeatInterval: 20 * time.Millisecond, ChunkSize: 512})
	sink := newGatedSink()
	defer sink.release()
	cfg := fastConfig(t, board.Path)
	cfg.FrameQueue = 2
	b := bridgetest.Run(t, cfg, sink)
	sink.AwaitStatus(t, bridge.StateReady)

	const n = 12
	pic := bridgetest.Picture(t, 160, 120, 5)
	if _, err := board.SendJPEG(pic); err != nil {
		t.Fatal(err)
	}
	if id := bridgetest.Recv(t, sink.blocked, "consumer stuck on the first frame"); id != 0 {
		t.Fatalf("consumer got frame %d first", id)
	}
	for range n - 1 {
		if _, err := board.SendJPEG(pic); err != nil {
			t.Fatal(err)
		}
	}
	// The frame consumer is stuck, yet events and their ACKs flow.
	start := time.Now()
	if err := board.Trigger(context.Background(), 7); err != nil {
		t.Fatalf("trigger behind a stuck frame consumer: %v", err)
	}
	if tr := bridgetest.Recv(t, sink.Events, "trigger").(bridge.Trigger); tr.Source != 7 {
		t.Fatalf("trigger %+v", tr)
	}
	if d := time.Since(start); d > time.Second {
		t.Fatalf("trigger took %v behind a stuck frame consumer", d)
	}
	eventually(t, "all frames reassembled", func() bool { return b.Stats().CameraFrames == n })

	sink.release()
	// One frame is held by the blocked consumer, FrameQueue more wait; the
	// rest were dropped oldest first.
	s := b.Stats()
	delivered := n - int(s.DroppedFrames)
	if delivered != 1+cfg.FrameQueue {
		t.Fatalf("%d frames dropped of %d with a queue of %d", s.DroppedFrames, n, cfg.FrameQueue)
	}
	var ids []uint16
	for range delivered {
		f := bridgetest.Recv(t, sink.Frames, "frame")
		checkFrame(t, f, pic)
		ids = append(ids, f.ID)
	}
	if ids[0] != 0 || ids[len(ids)-1] != n-1 || ids[1] != n-2 {
		t.Fatalf("delivered frame ids %v: want the first (held) and the newest", ids)
	}
	if s.InboxDropped != 0 || s.IncompleteFrames != 0 {
		t.Fatalf("the serial side lost data: %+v", s)
	}
}

func TestSilentBoard(t *testing.T) {
	// The board answers HELLO, then says nothing: no heartbeats.
	board := bridgetest.Plug(t, simulator.Config{HeartbeatInterval: -1})
	rec := bridgetest.NewRecorder()
	cfg := fastConfig(t, board.Path)
	cfg.Heartbeat = 30 * time.Millisecond
	cfg.SilentAfter = 3
	cfg.RecycleAfter = 10
	b := bridgetest.Run(t, cfg, rec)

	rec.AwaitStatus(t, bridge.StateReady)
	silent := rec.AwaitStatus(t, bridge.StateSilent)
	if silent.Silence < 90*time.Millisecond || silent.Board.DeviceID != "sim-0001" {
		t.Fatalf("silent status %+v", silent)
	}
	// A message brings it back before the recycle period.
	if err := board.Sensor(1, 3); err != nil {
		t.Fatal(err)
	}
	rec.AwaitStatus(t, bridge.StateReady)
	bridgetest.Recv(t, rec.Events, "sensor")

	// Silent for the whole recycle period: the port is closed and opened
	// again, and the board answers the new HELLO.
	rec.AwaitStatus(t, bridge.StateSilent)
	disc := rec.AwaitStatus(t, bridge.StateDisconnected)
	if !errors.Is(disc.Err, bridge.ErrSilent) || disc.Retry <= 0 {
		t.Fatalf("disconnected status %+v", disc)
	}
	rec.AwaitStatus(t, bridge.StateReady)
	s := b.Stats()
	if s.Silences < 2 || s.Recycles < 1 || s.Reconnects < 1 || s.Handshakes < 2 {
		t.Fatalf("stats %+v", s)
	}
}

func TestReplug(t *testing.T) {
	// The board goes away (its PTY closed) and comes back on another PTY,
	// found again through a symlink that is re-pointed, or through its USB
	// id that resolves to the new path.
	tests := []struct {
		name string
		cfg  func(t *testing.T, path *atomic.Value) bridge.Config
	}{
		{"symlink", func(t *testing.T, path *atomic.Value) bridge.Config {
			return fastConfig(t, path.Load().(string))
		}},
		{"usb id", func(t *testing.T, path *atomic.Value) bridge.Config {
			id := bridge.USBID{VID: 0x2E8A, PID: 0x000A, Serial: "E661"}
			cfg := fastConfig(t, "")
			cfg.Port = bridge.PortSpec{USB: &id}
			cfg.Opener = &bridge.SerialOpener{Spec: cfg.Port, List: fakeUSBList(path)}
			return cfg
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			first := bridgetest.Plug(t, simulator.Config{DeviceID: "first", HeartbeatInterval: 20 * time.Millisecond})
			path := bridgetest.LinkPath(t)
			bridgetest.Relink(t, path, first.Path)
			var current atomic.Value // the path the USB list shows
			current.Store(path)
			rec := bridgetest.NewRecorder()
			b := bridgetest.Run(t, tt.cfg(t, &current), rec)
			if r := rec.AwaitStatus(t, bridge.StateReady); r.Board.DeviceID != "first" {
				t.Fatalf("ready %+v", r)
			}

			// Unplugged: the device node goes, and with it udev's link and
			// the enumerator's entry. (A link left pointing at the old
			// /dev/pts/N could reach another test's terminal once the number
			// is reused.)
			if err := os.Remove(path); err != nil {
				t.Fatal(err)
			}
			current.Store("")
			first.Unplug()
			disc := rec.AwaitStatus(t, bridge.StateDisconnected)
			if disc.Err == nil {
				t.Fatalf("disconnected without a reason: %+v", disc)
			}
			// Opening fails while the board is away.
			eventually(t, "failed opens", func() bool { return b.Stats().OpenFailures >= 2 })
			if _, ok := b.Board(); ok {
				t.Fatal("Board() reports a connected board while unplugged")
			}

			second := bridgetest.Plug(t, simulator.Config{DeviceID: "second", HeartbeatInterval: 20 * time.Millisecond})
			bridgetest.Relink(t, path, second.Path)
			current.Store(path)
			if r := rec.AwaitStatus(t, bridge.StateReady); r.Board.DeviceID != "second" {
				t.Fatalf("ready after replug %+v", r)
			}
			if err := second.Trigger(context.Background(), 4); err != nil {
				t.Fatal(err)
			}
			if tr := bridgetest.Recv(t, rec.Events, "trigger").(bridge.Trigger); tr.Device != "second" || tr.Source != 4 {
				t.Fatalf("trigger %+v", tr)
			}
			if s := b.Stats(); s.Reconnects != 1 || s.Opens != 2 || s.Handshakes != 2 || s.Board.DeviceID != "second" {
				t.Fatalf("stats %+v", s)
			}
		})
	}
}

func TestGarbage(t *testing.T) {
	board := bridgetest.Plug(t, simulator.Config{HeartbeatInterval: 20 * time.Millisecond})
	rec := bridgetest.NewRecorder()
	b := bridgetest.Run(t, fastConfig(t, board.Path), rec)
	rec.AwaitStatus(t, bridge.StateReady)

	rng := rand.New(rand.NewPCG(7, 7))
	noise := make([]byte, 4000)
	for i := range noise {
		noise[i] = byte(rng.UintN(256))
	}
	if err := board.InjectNoise(noise); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := board.Trigger(ctx, 9); err != nil {
		t.Fatalf("trigger after noise: %v", err)
	}
	if tr := bridgetest.Recv(t, rec.Events, "trigger").(bridge.Trigger); tr.Source != 9 {
		t.Fatalf("trigger %+v", tr)
	}
	if err := b.SetLED(ctx, protocol.SetLED{ID: 0, Mode: protocol.LEDOn, Brightness: 1}); err != nil {
		t.Fatalf("LED after noise: %v", err)
	}
	pic := bridgetest.Picture(t, 64, 48, 9)
	if _, err := board.SendJPEG(pic); err != nil {
		t.Fatal(err)
	}
	checkFrame(t, bridgetest.Recv(t, rec.Frames, "frame after noise"), pic)
	select {
	case e := <-rec.Events:
		t.Fatalf("noise produced an event: %#v", e)
	default:
	}
	s := b.Stats()
	if s.BadFrames.Total() == 0 || s.Reconnects != 0 {
		t.Fatalf("4000 bytes of noise: stats %+v", s)
	}
	t.Logf("noise: bad frames %+v", s.BadFrames)
}

func TestRebootMidFrame(t *testing.T) {
	board := bridgetest.Plug(t, simulator.Config{HeartbeatInterval: 20 * time.Millisecond, ChunkSize: 512})
	rec := bridgetest.NewRecorder()
	b := bridgetest.Run(t, fastConfig(t, board.Path), rec)
	rec.AwaitStatus(t, bridge.StateReady)
	eventually(t, "board heartbeats", func() bool { return b.Stats().HeartbeatsIn >= 2 })

	pic := bridgetest.Picture(t, 160, 120, 4)
	if _, err := board.SendJPEG(pic); err != nil {
		t.Fatal(err)
	}
	checkFrame(t, bridgetest.Recv(t, rec.Frames, "frame before the reboot"), pic)
	if _, err := board.RebootMidFrame(pic, 2); err != nil {
		t.Fatal(err)
	}
	if id, err := board.SendJPEG(pic); err != nil || id != 0 {
		t.Fatalf("first frame after reboot: id %d, %v", id, err)
	}
	f := bridgetest.Recv(t, rec.Frames, "frame after the reboot")
	if f.ID != 0 {
		t.Fatalf("frame id %d after the reboot", f.ID)
	}
	checkFrame(t, f, pic)
	eventually(t, "reboot noticed", func() bool { return b.Stats().Reboots == 1 })
	s := b.Stats()
	if s.IncompleteFrames != 1 || s.CameraFrames != 2 || s.BadFrames.Total() != 1 || s.Reconnects != 0 {
		t.Fatalf("stats %+v", s)
	}
}

func TestNoisyLine(t *testing.T) {
	// One bit in a thousand flips on the way from the board. Every event
	// still arrives once: corrupt frames are dropped and counted, the
	// board's retries fill the gaps, and repeats are recognised.
	board := bridgetest.Plug(t, simulator.Config{BitErrorRate: 1e-3, Seed: 11, HeartbeatInterval: -1,
		AckTimeout: 40 * time.Millisecond, Retries: 8})
	rec := bridgetest.NewRecorder()
	cfg := fastConfig(t, board.Path)
	cfg.Heartbeat = 200 * time.Millisecond
	b := bridgetest.Run(t, cfg, rec)
	rec.AwaitStatus(t, bridge.StateReady)
	const n = 40
	for i := range n {
		if err := board.Trigger(context.Background(), uint8(i)); err != nil {
			t.Fatalf("trigger %d: %v", i, err)
		}
	}
	for i := range n {
		if tr := bridgetest.Recv(t, rec.Events, "trigger").(bridge.Trigger); tr.Source != uint8(i) {
			t.Fatalf("event %d is trigger %d", i, tr.Source)
		}
	}
	select {
	case e := <-rec.Events:
		t.Fatalf("extra event %#v", e)
	case <-time.After(100 * time.Millisecond):
	}
	s := b.Stats()
	if s.BadFrames.Total() == 0 {
		t.Fatalf("no corrupt frame counted: %+v", s)
	}
	t.Logf("bad frames %+v, duplicates %d, board retries %d", s.BadFrames, s.Duplicates, board.Stats().Retries)
}

func TestHandshakeFailures(t *testing.T) {
	tests := []struct {
		name  string
		hello *protocol.Hello // what the raw board answers; nil for nothing
		want  error
	}{
		{"mute board", nil, bridge.ErrHandshakeTimeout},
		{"protocol version 2", &protocol.Hello{Protocol: 2, DeviceID: "future"}, bridge.ErrProtocolVersion},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			enc, path := rawBoard(t)
			if tt.hello != nil {
				if _, err := enc.WriteMessage(tt.hello); err != nil {
					t.Fatal(err)
				}
			}
			rec := bridgetest.NewRecorder()
			cfg := fastConfig(t, path)
			cfg.HandshakeTimeout = 150 * time.Millisecond
			b := bridgetest.Run(t, cfg, rec)
			disc := rec.AwaitStatus(t, bridge.StateDisconnected)
			if !errors.Is(disc.Err, tt.want) {
				t.Fatalf("disconnected: %v, want %v", disc.Err, tt.want)
			}
			if _, ok := b.Board(); ok {
				t.Fatal("handshake reported done")
			}
		})
	}
}

func TestOpenFailureBackoff(t *testing.T) {
	rec := bridgetest.NewRecorder()
	cfg := fastConfig(t, "/dev/nonexistent-board")
	cfg.Backoff = bridge.Backoff{Initial: 10 * time.Millisecond, Max: 40 * time.Millisecond, Jitter: -1}
	b := bridgetest.Run(t, cfg, rec)
	var retries []time.Duration
	for len(retries) < 4 {
		s := rec.AwaitStatus(t, bridge.StateDisconnected)
		if s.Err == nil || s.Port != "/dev/nonexistent-board" || s.Attempt != len(retries)+1 {
			t.Fatalf("status %+v", s)
		}
		retries = append(retries, s.Retry)
	}
	want := []time.Duration{10 * time.Millisecond, 20 * time.Millisecond, 40 * time.Millisecond, 40 * time.Millisecond}
	for i := range want {
		if retries[i] != want[i] {
			t.Fatalf("retry delays %v, want %v", retries, want)
		}
	}
	if s := b.Stats(); s.Opens != 0 || s.OpenFailures < 4 || s.State == bridge.StateReady {
		t.Fatalf("stats %+v", s)
	}
}

// fakeUSBList lists one USB serial port at the path stored in path (none while it is empty),
// as the enumerator would for a board at 2E8A:000A with serial E661.
func fakeUSBList(path *atomic.Value) bridge.ListFunc {
	return func() ([]*enumeratorPortDetails, error) {
		ports := []*enumeratorPortDetails{{Name: "/dev/ttyS0"}}
		if p := path.Load().(string); p != "" {
			ports = append(ports, &enumeratorPortDetails{Name: p, IsUSB: true, VID: "2E8A", PID: "000A", SerialNumber: "E661"})
		}
		return ports, nil
	}
}

func TestIncompleteFrameExpires(t *testing.T) {
	// Two chunks of a three-chunk frame, then nothing: the expiry ticker
	// drops it without waiting for another chunk, and counts it.
	board := bridgetest.Plug(t, simulator.Config{HeartbeatInterval: 20 * time.Millisecond})
	rec := bridgetest.NewRecorder()
	cfg := fastConfig(t, board.Path)
	cfg.FrameTimeout = 100 * time.Millisecond
	b := bridgetest.Run(t, cfg, rec)
	rec.AwaitStatus(t, bridge.StateReady)
	pic := bridgetest.Picture(t, 64, 48, 3)
	chunks, err := protocol.SplitJPEG(42, pic, (len(pic)+2)/3)
	if err != nil || len(chunks) != 3 {
		t.Fatalf("%d chunks, %v", len(chunks), err)
	}
	for i := range chunks[:2] {
		if err := board.SendChunk(&chunks[i]); err != nil {
			t.Fatal(err)
		}
	}
	eventually(t, "incomplete frame expired", func() bool { return b.Stats().IncompleteFrames == 1 })
	if s := b.Stats(); s.CameraChunks != 2 || s.CameraFrames != 0 {
		t.Fatalf("stats %+v", s)
	}
	// The last chunk alone, late, completes nothing.
	if err := board.SendChunk(&chunks[2]); err != nil {
		t.Fatal(err)
	}
	select {
	case f := <-rec.Frames:
		t.Fatalf("a frame was made of an expired one: %d", f.ID)
	case <-time.After(300 * time.Millisecond):
	}
}

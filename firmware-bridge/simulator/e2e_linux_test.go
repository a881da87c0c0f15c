//go:build linux

package simulator_test

import (
	"bytes"
	"context"
	"errors"
	"image/jpeg"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/mocoedge/mocoedge/firmware-bridge/bridge/bridgetest"
	"github.com/mocoedge/mocoedge/firmware-bridge/simulator"

	"github.com/mocoedge/mocoedge/firmware-bridge/protocol"
)

const wait = 5 * time.Second

// host is the bridge side of a test: a Link on the PTY's terminal side and a
// loop that sorts what arrives, as the fwbridge daemon will.
type host struct {
	link       *protocol.Link
	asm        *protocol.Assembler
	hellos     chan *protocol.Hello
	heartbeats chan *protocol.Heartbeat
	events     chan protocol.Message
	frames     chan protocol.JPEGFrame
}

// setup starts a board on a fresh PTY and a host Link on its other side.
func setup(t *testing.T, cfg simulator.Config, opts ...protocol.LinkOption) (*simulator.Board, *host) {
	t.Helper()
	boardEnd, hostEnd, err := simulator.OpenPTY()
	if err != nil {
		t.Fatal(err)
	}
	board := simulator.New(boardEnd, cfg)
	ctx, cancel := context.WithCancel(context.Background())
	runErr := make(chan error, 1)
	go func() { runErr <- board.Run(ctx) }()

	h := &host{
		link:       protocol.NewLink(hostEnd, opts...),
		asm:        protocol.NewAssembler(),
		hellos:     make(chan *protocol.Hello, 16),
		heartbeats: make(chan *protocol.Heartbeat, 1),
		events:     make(chan protocol.Message, 256),
		frames:     make(chan protocol.JPEGFrame, 16),
	}
	loopDone := make(chan struct{})
	go func() {
		defer close(loopDone)
		for p := range h.link.Incoming() {
			switch m := p.Msg.(type) {
			case *protocol.Hello:
				h.asm.Reset() // the board rebooted: its frame ids start over
				h.hellos <- m
			case *protocol.Heartbeat:
				select {
				case h.heartbeats <- m:
				default:
				}
			case *protocol.CameraChunk:
				if f, ok := h.asm.Add(p.Time, m); ok {
					h.frames <- f
				}
			default:
				h.events <- m
			}
		}
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-runErr:
			if !errors.Is(err, context.Canceled) {
				t.Errorf("board Run: %v", err)
			}
		case <-time.After(wait):
			t.Error("board Run did not return")
		}
		h.link.Close()
		<-loopDone
	})
	return board, h
}

func checkJPEG(t *testing.T, f protocol.JPEGFrame, want []byte) {
	t.Helper()
	if !bytes.Equal(f.Data, want) {
		t.Fatalf("frame %d: %d bytes differ from the %d sent", f.ID, len(f.Data), len(want))
	}
	img, err := jpeg.Decode(bytes.NewReader(f.Data))
	if err != nil {
		t.Fatalf("frame %d does not decode: %v", f.ID, err)
	}
	if img.Bounds().Dx() == 0 {
		t.Fatal("empty image")
	}
}

func TestHandshakeAndHeartbeat(t *testing.T) {
	_, h := setup(t, simulator.Config{DeviceID: "cam-door", FirmwareVersion: "2.3.1", HeartbeatInterval: 20 * time.Millisecond})
	hello := bridgetest.Recv(t, h.hellos, "HELLO at boot")
	every := protocol.CapLED | protocol.CapRelay | protocol.CapButton | protocol.CapTrigger |
		protocol.CapSensor | protocol.CapCamera | protocol.CapLog // the default: every capability
	want := &protocol.Hello{Protocol: protocol.ProtocolVersion, DeviceID: "cam-door", FirmwareVersion: "2.3.1", Capabilities: every}
	if *hello != *want {
		t.Fatalf("HELLO %+v, want %+v", hello, want)
	}
	first := bridgetest.Recv(t, h.heartbeats, "heartbeat")
	time.Sleep(50 * time.Millisecond)
	if hb := bridgetest.Recv(t, h.heartbeats, "later heartbeat"); hb.UptimeMS <= first.UptimeMS {
		t.Fatalf("uptime went from %d to %d ms", first.UptimeMS, hb.UptimeMS)
	}

	// A host that opens the port after the boot asks again.
	ctx := context.Background()
	if err := h.link.Request(ctx, &protocol.Hello{Protocol: protocol.ProtocolVersion, DeviceID: "edge"}); err != nil {
		t.Fatalf("HELLO request: %v", err)
	}
	if again := bridgetest.Recv(t, h.hellos, "HELLO answer"); again.DeviceID != "cam-door" {
		t.Fatalf("answer %+v", again)
	}
	if err := h.link.Request(ctx, &protocol.Trigger{Source: 1}); !errors.Is(err, protocol.ErrNacked) {
		t.Fatalf("TRIGGER to the board: %v, want NACK unsupported", err)
	}
}

func TestEvents(t *testing.T) {
	board, h := setup(t, simulator.Config{HeartbeatInterval: -1})
	bridgetest.Recv(t, h.hellos, "HELLO")
	ctx := context.Background()
	if err := board.Trigger(ctx, 3); err != nil {
		t.Fatalf("Trigger: %v", err)
	}
	if err := board.Press(ctx, 1, protocol.PressLong); err != nil {
		t.Fatalf("Press: %v", err)
	}
	if err := board.Sensor(2, 21.5); err != nil {
		t.Fatal(err)
	}
	if err := board.Log(protocol.LogWarn, "battery low"); err != nil {
		t.Fatal(err)
	}
	trig, ok := bridgetest.Recv(t, h.events, "TRIGGER").(*protocol.Trigger)
	if !ok || trig.Source != 3 {
		t.Fatalf("got %#v, want TRIGGER from source 3", trig)
	}
	wantRest := []protocol.Message{
		&protocol.Button{ID: 1, Press: protocol.PressLong},
		&protocol.Sensor{ID: 2, Value: 21.5},
		&protocol.Log{Level: protocol.LogWarn, Text: "battery low"},
	}
	for _, want := range wantRest {
		got := bridgetest.Recv(t, h.events, want.Type().String())
		a, _ := got.MarshalBinary()
		b, _ := want.MarshalBinary()
		if got.Type() != want.Type() || !bytes.Equal(a, b) {
			t.Fatalf("got %#v, want %#v", got, want)
		}
	}
	if s := h.link.Stats(); s.Decoder.Dropped() != 0 || s.Delivered != 5 {
		t.Fatalf("host stats %+v", s)
	}
}

func TestCameraFrameOverPTY(t *testing.T) {
	board, h := setup(t, simulator.Config{HeartbeatInterval: 10 * time.Millisecond})
	bridgetest.Recv(t, h.hellos, "HELLO")
	pic := bridgetest.Picture(t, 320, 240, 1)
	id, err := board.SendJPEG(pic)
	if err != nil {
		t.Fatal(err)
	}
	f := bridgetest.Recv(t, h.frames, "JPEG")
	if f.ID != id || f.Chunks < 5 {
		t.Fatalf("frame %d in %d chunks (sent %d, %d bytes)", f.ID, f.Chunks, id, len(pic))
	}
	checkJPEG(t, f, pic)

	// Out of order and repeated chunks still make the picture.
	chunks, err := protocol.SplitJPEG(500, pic, 700)
	if err != nil {
		t.Fatal(err)
	}
	order := []int{3, 0, 3, 0}
	for i := len(chunks) - 1; i >= 1; i-- {
		if i != 3 {
			order = append(order, i)
		}
	}
	for _, i := range order {
		if err := board.SendChunk(&chunks[i]); err != nil {
			t.Fatal(err)
		}
	}
	f = bridgetest.Recv(t, h.frames, "reordered JPEG")
	if f.ID != 500 {
		t.Fatalf("frame id %d", f.ID)
	}
	checkJPEG(t, f, pic)
	if s := h.asm.Stats(); s.Duplicates != 2 || s.Frames != 2 || s.InFlight != 0 {
		t.Fatalf("assembler stats %+v", s)
	}
}

func TestCommands(t *testing.T) {
	board, h := setup(t, simulator.Config{LEDs: 2, Relays: 1, HeartbeatInterval: -1})
	bridgetest.Recv(t, h.hellos, "HELLO")
	ctx := context.Background()

	led := &protocol.SetLED{ID: 1, Mode: protocol.LEDBlink, Brightness: 200, OnMS: 100, OffMS: 400}
	if err := h.link.Request(ctx, led); err != nil {
		t.Fatalf("LED request: %v", err)
	}
	if got, ok := board.LED(1); !ok || got != *led {
		t.Fatalf("board LED 1 = %+v, want %+v", got, *led)
	}
	if got, _ := board.LED(0); got.Mode != protocol.LEDOff {
		t.Fatalf("untouched LED 0 = %+v", got)
	}

	err := h.link.Request(ctx, &protocol.SetLED{ID: 7, Mode: protocol.LEDOn})
	var nack *protocol.NackError
	if !errors.As(err, &nack) || nack.Reason != protocol.ReasonInvalid {
		t.Fatalf("LED 7: %v, want NACK invalid", err)
	}

	if err := h.link.Request(ctx, &protocol.SetRelay{ID: 0, On: true, PulseMS: 80}); err != nil {
		t.Fatalf("relay request: %v", err)
	}
	if on, ok := board.Relay(0); !ok || !on {
		t.Fatal("relay 0 not on during its pulse")
	}
	deadline := time.Now().Add(wait)
	for on, _ := board.Relay(0); on; on, _ = board.Relay(0) {
		if time.Now().After(deadline) {
			t.Fatal("relay pulse never ended")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if s := board.Stats(); s.Commands != 2 || s.Duplicates != 0 {
		t.Fatalf("board stats %+v", s)
	}
}

func TestGarbageThenRecovery(t *testing.T) {
	board, h := setup(t, simulator.Config{HeartbeatInterval: -1})
	bridgetest.Recv(t, h.hellos, "HELLO")
	rng := rand.New(rand.NewPCG(7, 7))
	noise := make([]byte, 3000)
	for i := range noise {
		noise[i] = byte(rng.UintN(256))
	}
	if err := board.InjectNoise(noise); err != nil {
		t.Fatal(err)
	}
	// The first frame after the garbage may be lost with it; TRIGGER is
	// retried until ACKed.
	ctx := context.Background()
	if err := board.Trigger(ctx, 9); err != nil {
		t.Fatalf("Trigger after noise: %v", err)
	}
	if m := bridgetest.Recv(t, h.events, "TRIGGER"); m.(*protocol.Trigger).Source != 9 {
		t.Fatalf("got %#v", m)
	}
	if err := h.link.Request(ctx, &protocol.SetLED{ID: 0, Mode: protocol.LEDOn, Brightness: 1}); err != nil {
		t.Fatalf("LED after noise: %v", err)
	}
	pic := bridgetest.Picture(t, 64, 48, 1)
	if _, err := board.SendJPEG(pic); err != nil {
		t.Fatal(err)
	}
	checkJPEG(t, bridgetest.Recv(t, h.frames, "JPEG after noise"), pic)
	if s := h.link.Stats().Decoder; s.Dropped() == 0 {
		t.Fatalf("3000 bytes of noise dropped no frame: %+v", s)
	}
}

func TestRebootMidFrame(t *testing.T) {
	board, h := setup(t, simulator.Config{ChunkSize: 512, HeartbeatInterval: -1})
	bridgetest.Recv(t, h.hellos, "HELLO")
	ctx := context.Background()
	if err := h.link.Request(ctx, &protocol.SetLED{ID: 2, Mode: protocol.LEDOn, Brightness: 9}); err != nil {
		t.Fatal(err)
	}
	pic := bridgetest.Picture(t, 160, 120, 1)
	if _, err := board.SendJPEG(pic); err != nil {
		t.Fatal(err)
	}
	checkJPEG(t, bridgetest.Recv(t, h.frames, "JPEG before reboot"), pic)
	badBefore := h.link.Stats().Decoder.Dropped()

	torn, err := board.RebootMidFrame(pic, 2)
	if err != nil {
		t.Fatal(err)
	}
	if torn != 1 {
		t.Fatalf("torn frame id %d, want 1", torn)
	}
	bridgetest.Recv(t, h.hellos, "HELLO after reboot")
	if got := h.link.Stats().Decoder.Dropped(); got != badBefore+1 {
		t.Fatalf("decoder dropped %d frames over the reboot, want the torn one", got-badBefore)
	}
	if s := h.asm.Stats(); s.Abandoned != 1 || s.InFlight != 0 {
		t.Fatalf("assembler kept the torn frame: %+v", s)
	}
	if l, _ := board.LED(2); l.Mode != protocol.LEDOff {
		t.Fatal("LED state survived the reboot")
	}
	if s := board.Stats(); s.Boots != 2 {
		t.Fatalf("boots %d", s.Boots)
	}
	// Frame ids start over at 0 and the stream is in step again.
	id, err := board.SendJPEG(pic)
	if err != nil || id != 0 {
		t.Fatalf("first frame after reboot: id %d, %v", id, err)
	}
	checkJPEG(t, bridgetest.Recv(t, h.frames, "JPEG after reboot"), pic)
	if err := board.Trigger(ctx, 1); err != nil {
		t.Fatal(err)
	}
}

func TestNoisyLine(t *testing.T) {
	// One bit in a thousand flips on the way to the host: about one small
	// frame in ten is lost. Requests and events get through by retrying,
	// and retransmitted events are delivered once.
	board, h := setup(t, simulator.Config{BitErrorRate: 1e-3, Seed: 42, HeartbeatInterval: -1, AckTimeout: 50 * time.Millisecond, Retries: 8},
		protocol.WithAckTimeout(50*time.Millisecond), protocol.WithRetries(8))
	ctx := context.Background()
	const n = 40
	for i := range n {
		if err := h.link.Request(ctx, &protocol.SetLED{ID: uint8(i % 4), Mode: protocol.LEDOn, Brightness: uint8(i)}); err != nil {
			t.Fatalf("LED request %d: %v", i, err)
		}
		if err := board.Trigger(ctx, uint8(i)); err != nil {
			t.Fatalf("trigger %d: %v", i, err)
		}
	}
	for i := range n {
		m := bridgetest.Recv(t, h.events, "TRIGGER")
		if trig, ok := m.(*protocol.Trigger); !ok || trig.Source != uint8(i) {
			t.Fatalf("event %d is %#v", i, m)
		}
	}
	select {
	case m := <-h.events:
		t.Fatalf("extra event %#v: a retransmission was delivered twice", m)
	case <-time.After(100 * time.Millisecond):
	}
	hs, bs := h.link.Stats(), board.Stats()
	if hs.Decoder.BadCRC+hs.Decoder.BadCOBS+hs.Decoder.BadLength == 0 {
		t.Fatalf("no corrupt frame seen: %+v", hs.Decoder)
	}
	if hs.Retries+uint64(bs.Retries) == 0 {
		t.Fatal("nothing was retried on a noisy line")
	}
	t.Logf("host: %d retries, %d duplicates, decoder %+v; board: %d retries, %d duplicates",
		hs.Retries, hs.Duplicates, hs.Decoder, bs.Retries, bs.Duplicates)
}

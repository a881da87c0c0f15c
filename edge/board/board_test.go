package board

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/mocoedge/mocoedge/edge/config"
	"github.com/mocoedge/mocoedge/firmware-bridge/bridge"
	"github.com/mocoedge/mocoedge/firmware-bridge/protocol"
)

func TestParsePort(t *testing.T) {
	if s, err := ParsePort("/dev/ttyACM0"); err != nil || s.Path != "/dev/ttyACM0" || s.USB != nil {
		t.Errorf("path: %+v, %v", s, err)
	}
	s, err := ParsePort("usb:2e8a:000a:E661")
	if err != nil || s.Path != "" || s.USB == nil || s.USB.VID != 0x2E8A || s.USB.PID != 0x000A || s.USB.Serial != "E661" {
		t.Errorf("usb: %+v, %v", s, err)
	}
	for _, bad := range []string{"", "usb:", "usb:xyz:1", "usb:12345:1"} {
		if _, err := ParsePort(bad); !errors.Is(err, bridge.ErrInvalidConfig) {
			t.Errorf("ParsePort(%q) = %v, want ErrInvalidConfig", bad, err)
		}
	}
}

func TestNewRefusesBadMaps(t *testing.T) {
	for name, link := range map[string]config.BridgeLink{
		"button id":  {Port: "/dev/null", Buttons: map[string]string{"zero": "cat"}},
		"button 256": {Port: "/dev/null", Buttons: map[string]string{"256": "cat"}},
		"LED id":     {Port: "/dev/null", LEDs: map[string]int{"cat": 300}},
		"LED label":  {Port: "/dev/null", LEDs: map[string]int{"*": 1}},
		"no port":    {},
	} {
		if _, err := New(config.Config{Bridge: link}, Options{}); !errors.Is(err, bridge.ErrInvalidConfig) {
			t.Errorf("%s: New = %v, want ErrInvalidConfig", name, err)
		}
	}
}

func TestNewSources(t *testing.T) {
	cfg := config.Config{
		Bridge:  config.BridgeLink{Port: "usb:1234:5678", Buttons: map[string]string{"3": "cat"}},
		Sources: []config.Source{{Name: "door", Kind: config.KindFiles}, {Name: "uart", Kind: config.KindBridge}},
	}
	b, err := New(cfg, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if b.push != "uart" || b.store != "uart" || b.ledSource != "uart" || b.leds != nil {
		t.Errorf("push %q store %q leds follow %q, mapper %v", b.push, b.store, b.ledSource, b.leds)
	}
	if a, ok := b.buttons.ButtonAction(3, protocol.PressShort); !ok || a.Kind != bridge.ActionLabel || a.Label != "cat" {
		t.Errorf("button 3 short: %+v %v", a, ok)
	}
	cfg.Sources, cfg.Bridge.Snapshot = cfg.Sources[:1], "door"
	if b, err = New(cfg, Options{}); err != nil || b.push != "" || b.store != DefaultSource || b.ledSource != "door" {
		t.Errorf("snapshot door: %+v, %v", b, err)
	}
	if err := b.Run(context.Background()); !errors.Is(err, ErrNotAttached) {
		t.Errorf("Run before Attach = %v", err)
	}
}

// fakeLEDs records the LED commands it gets.
type fakeLEDs struct {
	mu  sync.Mutex
	cmd []protocol.SetLED
}

func (f *fakeLEDs) SetLED(_ context.Context, c protocol.SetLED) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.cmd = append(f.cmd, c)
	return nil
}

func (f *fakeLEDs) SetRelay(context.Context, protocol.SetRelay) error { return nil }

func TestLEDMapping(t *testing.T) {
	// Two labels share LED 2; "dog" has LED 0.
	m, err := ledMapping(map[string]int{"cat": 2, "tabby": 2, "dog": 0})
	if err != nil {
		t.Fatal(err)
	}
	f := &fakeLEDs{}
	var count counters
	p := bridge.NewPredictionMapper(m, &countingCommander{c: f, count: &count})
	for _, tt := range []struct {
		label string
		sent  bool
		want  map[uint8]protocol.LEDMode
	}{
		{"cat", true, map[uint8]protocol.LEDMode{0: protocol.LEDOff, 2: protocol.LEDOn}},
		{"cat", false, nil},
		{"dog", true, map[uint8]protocol.LEDMode{0: protocol.LEDOn, 2: protocol.LEDOff}},
		{"unknown", true, map[uint8]protocol.LEDMode{0: protocol.LEDOff, 2: protocol.LEDOff}},
		{"bird", false, nil}, // the same catch-all rule
		{"tabby", true, map[uint8]protocol.LEDMode{0: protocol.LEDOff, 2: protocol.LEDOn}},
	} {
		f.cmd = nil
		sent, err := p.Apply(context.Background(), tt.label, 0.9)
		if err != nil || sent != tt.sent || len(f.cmd) != len(tt.want) {
			t.Fatalf("%s: sent %v (%v), commands %+v", tt.label, sent, err, f.cmd)
		}
		for _, c := range f.cmd {
			if c.Mode != tt.want[c.ID] {
				t.Errorf("%s: LED %d mode %v, want %v", tt.label, c.ID, c.Mode, tt.want[c.ID])
			}
		}
	}
	if n := count.ledCommands.Load(); n != 8 {
		t.Errorf("counted %d LED commands, want 8", n)
	}
}

package bridge_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/mocoedge/mocoedge/firmware-bridge/bridge"
	"github.com/mocoedge/mocoedge/firmware-bridge/protocol"
)

const exampleMapping = `{
  "predictions": [
    {"label": "person", "min_score": 0.8,
     "leds": [{"id": 0, "mode": "on"}, {"id": 1, "mode": "off"}],
     "relays": [{"id": 0, "on": true, "pulse_ms": 500}]},
    {"label": "person", "leds": [{"id": 0, "mode": "blink", "brightness": 64, "on_ms": 100, "off_ms": 100}]},
    {"label": "*", "leds": [{"id": 0, "mode": "off"}, {"id": 1, "mode": "blink", "on_ms": 100, "off_ms": 900}]}
  ],
  "buttons": [
    {"button": 0, "press": "short", "action": "label", "label": "person"},
    {"button": 1, "press": "short", "action": "label", "label": "empty"},
    {"button": 0, "press": "long", "action": "train"}
  ]
}`

func TestParseMapping(t *testing.T) {
	tests := []struct {
		name string
		json string
		err  string // substring of the error; "" for success
	}{
		{"example", exampleMapping, ""},
		{"empty", `{}`, ""},
		{"unknown field", `{"predictons": []}`, "unknown field"},
		{"trailing data", `{} {}`, "after the JSON"},
		{"no label", `{"predictions": [{"leds": [{"id": 0, "mode": "on"}]}]}`, "no label"},
		{"no outputs", `{"predictions": [{"label": "a"}]}`, "sets no LED"},
		{"bad mode", `{"predictions": [{"label": "a", "leds": [{"id": 0, "mode": "dim"}]}]}`, "not off, on or blink"},
		{"blink without times", `{"predictions": [{"label": "a", "leds": [{"id": 0, "mode": "blink"}]}]}`, "blink needs"},
		{"score above 1", `{"predictions": [{"label": "a", "min_score": 1.5, "leds": [{"id": 0, "mode": "on"}]}]}`, "min_score"},
		{"bad press", `{"buttons": [{"button": 0, "press": "triple", "action": "train"}]}`, "not short, long or double"},
		{"duplicate button", `{"buttons": [{"button": 0, "press": "long", "action": "train"}, {"button": 0, "press": "long", "action": "train"}]}`, "both map"},
		{"label without label", `{"buttons": [{"button": 0, "press": "short", "action": "label"}]}`, "needs a label"},
		{"train with label", `{"buttons": [{"button": 0, "press": "short", "action": "train", "label": "x"}]}`, "takes no label"},
		{"bad action", `{"buttons": [{"button": 0, "press": "short", "action": "delete"}]}`, "not label or train"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := bridge.ParseMapping([]byte(tt.json))
			if tt.err == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if !errors.Is(err, bridge.ErrInvalidConfig) || !strings.Contains(err.Error(), tt.err) {
				t.Fatalf("err = %v, want ErrInvalidConfig with %q", err, tt.err)
			}
		})
	}
}

func TestMappingRulesAndButtons(t *testing.T) {
	m, err := bridge.ParseMapping([]byte(exampleMapping))
	if err != nil {
		t.Fatal(err)
	}
	rules := []struct {
		label string
		score float64
		want  int // number of LEDs of the chosen rule, -1 for none
		mode  protocol.LEDMode
	}{
		{"person", 0.9, 2, protocol.LEDOn},
		{"person", 0.5, 1, protocol.LEDBlink},
		{"car", 0.99, 2, protocol.LEDOff},
		{"unknown", 0, 2, protocol.LEDOff},
	}
	for _, tt := range rules {
		r, ok := m.Rule(tt.label, tt.score)
		if !ok || len(r.LEDs) != tt.want {
			t.Fatalf("Rule(%q, %v) = %+v, %v", tt.label, tt.score, r, ok)
		}
		if cmd, err := r.LEDs[0].Command(); err != nil || cmd.Mode != tt.mode {
			t.Fatalf("Rule(%q, %v) first LED %+v, %v; want mode %s", tt.label, tt.score, cmd, err, tt.mode)
		}
	}
	if on, _ := m.Predictions[0].LEDs[0].Command(); on.Brightness != 255 {
		t.Fatalf("omitted brightness = %d, want 255", on.Brightness)
	}
	if _, ok := (&bridge.Mapping{}).Rule("x", 1); ok {
		t.Fatal("empty mapping matched")
	}

	buttons := []struct {
		id    uint8
		press protocol.PressKind
		want  bridge.Action
		ok    bool
	}{
		{0, protocol.PressShort, bridge.Action{Kind: bridge.ActionLabel, Label: "person"}, true},
		{1, protocol.PressShort, bridge.Action{Kind: bridge.ActionLabel, Label: "empty"}, true},
		{0, protocol.PressLong, bridge.Action{Kind: bridge.ActionTrain}, true},
		{1, protocol.PressLong, bridge.Action{}, false},
		{0, protocol.PressDouble, bridge.Action{}, false},
	}
	for _, tt := range buttons {
		got, ok := m.ButtonAction(tt.id, tt.press)
		if got != tt.want || ok != tt.ok {
			t.Errorf("ButtonAction(%d, %s) = %+v, %v; want %+v, %v", tt.id, tt.press, got, ok, tt.want, tt.ok)
		}
	}
}

// fakeCommander records commands and fails the LEDs listed in fail.
type fakeCommander struct {
	mu   sync.Mutex
	log  []string
	fail map[uint8]bool
}

func (f *fakeCommander) SetLED(_ context.Context, c protocol.SetLED) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.log = append(f.log, fmt.Sprintf("led%d=%s", c.ID, c.Mode))
	if f.fail[c.ID] {
		return bridge.ErrNotConnected
	}
	return nil
}

func (f *fakeCommander) SetRelay(_ context.Context, c protocol.SetRelay) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.log = append(f.log, fmt.Sprintf("relay%d=%v", c.ID, c.On))
	return nil
}

func (f *fakeCommander) take() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	s := strings.Join(f.log, " ")
	f.log = nil
	return s
}

func TestPredictionMapper(t *testing.T) {
	m, err := bridge.ParseMapping([]byte(exampleMapping))
	if err != nil {
		t.Fatal(err)
	}
	c := &fakeCommander{fail: map[uint8]bool{}}
	p := bridge.NewPredictionMapper(m, c)
	ctx := context.Background()
	steps := []struct {
		label string
		score float64
		sent  string
	}{
		{"person", 0.9, "led0=on led1=off relay0=true"},
		{"person", 0.95, ""}, // same rule: nothing sent
		{"car", 0.7, "led0=off led1=blink"},
		{"truck", 0.7, ""}, // the same catch-all rule
		{"person", 0.3, "led0=blink"},
		{"person", 0.9, "led0=on led1=off relay0=true"},
	}
	for i, s := range steps {
		if _, err := p.Apply(ctx, s.label, s.score); err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
		if got := c.take(); got != s.sent {
			t.Fatalf("step %d (%s %.2f): sent %q, want %q", i, s.label, s.score, got, s.sent)
		}
	}
	p.Reset()
	if sent, _ := p.Apply(ctx, "person", 0.9); !sent || c.take() == "" {
		t.Fatal("Reset did not make the mapper send again")
	}

	// A failure is reported, every command is still tried, and the next
	// prediction retries.
	c.fail[1] = true
	if _, err := p.Apply(ctx, "car", 0.5); !errors.Is(err, bridge.ErrNotConnected) {
		t.Fatalf("err = %v", err)
	}
	if got := c.take(); got != "led0=off led1=blink" {
		t.Fatalf("sent %q", got)
	}
	c.fail[1] = false
	if sent, err := p.Apply(ctx, "car", 0.5); !sent || err != nil {
		t.Fatalf("retry: sent %v, %v", sent, err)
	}
}

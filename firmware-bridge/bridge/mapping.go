package bridge

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"

	"github.com/mocoedge/mocoedge/firmware-bridge/protocol"
)

// Mapping is the host's configuration for what the board's outputs and
// inputs mean: which LED/RELAY commands show a probe prediction, and which
// action a button press asks for. The edge daemon loads it from its config
// (the JSON below) and applies it; the bridge itself does not.
//
//	{
//	  "predictions": [
//	    {"label": "person", "min_score": 0.8,
//	     "leds": [{"id": 0, "mode": "on"}, {"id": 1, "mode": "off"}],
//	     "relays": [{"id": 0, "on": true, "pulse_ms": 500}]},
//	    {"label": "*", "leds": [{"id": 0, "mode": "off"}, {"id": 1, "mode": "blink", "on_ms": 100, "off_ms": 900}]}
//	  ],
//	  "buttons": [
//	    {"button": 0, "press": "short", "action": "label", "label": "person"},
//	    {"button": 1, "press": "short", "action": "label", "label": "empty"},
//	    {"button": 0, "press": "long", "action": "train"}
//	  ]
//	}
type Mapping struct {
	// Predictions are tried in order; see Mapping.Rule.
	Predictions []PredictionRule `json:"predictions,omitempty"`
	// Buttons map a press to an action; one rule per button and press.
	Buttons []ButtonRule `json:"buttons,omitempty"`
}

// AnyLabel is the PredictionRule label that matches every label.
const AnyLabel = "*"

// PredictionRule is the outputs to set for one predicted label.
type PredictionRule struct {
	// Label is a label of the probe, "unknown" for a prediction below the
	// probe's threshold, or AnyLabel.
	Label string `json:"label"`
	// MinScore is the lowest score the rule applies to (0: any).
	MinScore float64 `json:"min_score,omitempty"`
	// LEDs are sent first, in order.
	LEDs []LEDCommand `json:"leds,omitempty"`
	// Relays are sent after the LEDs, in order.
	Relays []RelayCommand `json:"relays,omitempty"`
}

// LEDCommand is one LED setting in a mapping.
type LEDCommand struct {
	// ID is the LED's id.
	ID uint8 `json:"id"`
	// Mode is "off", "on" or "blink".
	Mode string `json:"mode"`
	// Brightness is 0-255; omitted means 255 when on or blinking.
	Brightness *uint8 `json:"brightness,omitempty"`
	// OnMS is the blink's on phase, non-zero in blink mode only.
	OnMS uint16 `json:"on_ms,omitempty"`
	// OffMS is the blink's off phase, non-zero in blink mode only.
	OffMS uint16 `json:"off_ms,omitempty"`
}

// Command is the LED request this setting sends; errors wrap
// protocol.ErrMalformed or ErrInvalidConfig.
func (c LEDCommand) Command() (protocol.SetLED, error) {
	mode, err := ParseLEDMode(c.Mode)
	if err != nil {
		return protocol.SetLED{}, err
	}
	cmd := protocol.SetLED{ID: c.ID, Mode: mode, OnMS: c.OnMS, OffMS: c.OffMS}
	switch {
	case c.Brightness != nil:
		cmd.Brightness = *c.Brightness
	case mode != protocol.LEDOff:
		cmd.Brightness = 255
	}
	if _, err := cmd.MarshalBinary(); err != nil {
		return protocol.SetLED{}, err
	}
	return cmd, nil
}

// ParseLEDMode reads "off", "on" or "blink"; errors wrap ErrInvalidConfig.
func ParseLEDMode(s string) (protocol.LEDMode, error) {
	for _, m := range []protocol.LEDMode{protocol.LEDOff, protocol.LEDOn, protocol.LEDBlink} {
		if s == m.String() {
			return m, nil
		}
	}
	return 0, fmt.Errorf("%w: LED mode %q is not off, on or blink", ErrInvalidConfig, s)
}

// RelayCommand is one relay setting in a mapping.
type RelayCommand struct {
	// ID is the relay's id.
	ID uint8 `json:"id"`
	// On is the state to set.
	On bool `json:"on"`
	// PulseMS, when non-zero, holds the state that long, then reverts it.
	PulseMS uint16 `json:"pulse_ms,omitempty"`
}

// Command is the RELAY request this setting sends.
func (c RelayCommand) Command() protocol.SetRelay {
	return protocol.SetRelay{ID: c.ID, On: c.On, PulseMS: c.PulseMS}
}

// ActionKind is what a button asks the host to do.
type ActionKind string

// Button actions: the same as the MQTT commands label and train.
const (
	// ActionLabel labels the last trigger's capture with the rule's label.
	ActionLabel ActionKind = "label"
	// ActionTrain trains the probe on the labels so far.
	ActionTrain ActionKind = "train"
)

// ButtonRule maps one button and press kind to an action.
type ButtonRule struct {
	// Button is the button's id.
	Button uint8 `json:"button"`
	// Press is "short", "long" or "double".
	Press string `json:"press"`
	// Action is "label" or "train".
	Action ActionKind `json:"action"`
	// Label is the label to apply (ActionLabel only).
	Label string `json:"label,omitempty"`
}

// Action is what a button press asks for.
type Action struct {
	// Kind is label or train.
	Kind ActionKind `json:"action"`
	// Label is the label, for ActionLabel.
	Label string `json:"label,omitempty"`
}

// ParsePressKind reads "short", "long" or "double"; errors wrap
// ErrInvalidConfig.
func ParsePressKind(s string) (protocol.PressKind, error) {
	for _, k := range []protocol.PressKind{protocol.PressShort, protocol.PressLong, protocol.PressDouble} {
		if s == k.String() {
			return k, nil
		}
	}
	return 0, fmt.Errorf("%w: press %q is not short, long or double", ErrInvalidConfig, s)
}

// ParseMapping reads a Mapping from JSON, refusing unknown fields, and
// validates it. Errors wrap ErrInvalidConfig.
func ParseMapping(data []byte) (*Mapping, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var m Mapping
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("%w: mapping: %w", ErrInvalidConfig, err)
	}
	if dec.More() {
		return nil, fmt.Errorf("%w: mapping: data after the JSON object", ErrInvalidConfig)
	}
	if err := m.Validate(); err != nil {
		return nil, err
	}
	return &m, nil
}

// LoadMapping reads and validates a JSON mapping file.
func LoadMapping(path string) (*Mapping, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("bridge: mapping: %w", err)
	}
	m, err := ParseMapping(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return m, nil
}

// Validate checks every rule; the error lists every problem and wraps
// ErrInvalidConfig.
func (m *Mapping) Validate() error {
	var errs []error
	bad := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("%w: mapping: %s", ErrInvalidConfig, fmt.Sprintf(format, args...)))
	}
	for i, r := range m.Predictions {
		if r.Label == "" {
			bad("prediction rule %d has no label", i)
		}
		if r.MinScore < 0 || r.MinScore > 1 {
			bad("prediction rule %d (%q): min_score %v outside 0..1", i, r.Label, r.MinScore)
		}
		if len(r.LEDs)+len(r.Relays) == 0 {
			bad("prediction rule %d (%q) sets no LED or relay", i, r.Label)
		}
		for j, l := range r.LEDs {
			if _, err := l.Command(); err != nil {
				bad("prediction rule %d (%q) LED %d: %v", i, r.Label, j, err)
			}
		}
	}
	type key struct {
		button uint8
		press  protocol.PressKind
	}
	seen := make(map[key]int)
	for i, r := range m.Buttons {
		press, err := ParsePressKind(r.Press)
		if err != nil {
			bad("button rule %d: %v", i, err)
			continue
		}
		if j, dup := seen[key{r.Button, press}]; dup {
			bad("button rules %d and %d both map button %d %s", j, i, r.Button, r.Press)
		}
		seen[key{r.Button, press}] = i
		switch r.Action {
		case ActionLabel:
			if r.Label == "" {
				bad("button rule %d: action label needs a label", i)
			}
		case ActionTrain:
			if r.Label != "" {
				bad("button rule %d: action train takes no label", i)
			}
		default:
			bad("button rule %d: action %q is not label or train", i, r.Action)
		}
	}
	return errors.Join(errs...)
}

package jsonl

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"

	"github.com/mocoedge/mocoedge/firmware-bridge/bridge"
	"github.com/mocoedge/mocoedge/firmware-bridge/protocol"
)

// Command verbs.
const (
	CmdLED        = "led"
	CmdRelay      = "relay"
	CmdPrediction = "prediction"
	CmdStats      = "stats"
)

// ErrBadCommand means a command line cannot be run as written.
var ErrBadCommand = errors.New("jsonl: bad command")

// Command is one command line. Which fields apply depends on Cmd; see the
// package documentation.
type Command struct {
	Cmd     string `json:"cmd"`               // led, relay, prediction or stats
	Request string `json:"request,omitempty"` // echoed in the answer

	ID         *uint8   `json:"id,omitempty"`         // led, relay: the output's id
	Mode       string   `json:"mode,omitempty"`       // led: off, on or blink
	Brightness *uint8   `json:"brightness,omitempty"` // led: 0-255, default 255 when lit
	OnMS       uint16   `json:"on_ms,omitempty"`      // led: blink on phase
	OffMS      uint16   `json:"off_ms,omitempty"`     // led: blink off phase
	On         bool     `json:"on,omitempty"`         // relay: state
	PulseMS    uint16   `json:"pulse_ms,omitempty"`   // relay: revert after this long
	Label      string   `json:"label,omitempty"`      // prediction: the probe's label
	Score      *float64 `json:"score,omitempty"`      // prediction: its score, 0..1
}

// ParseCommand reads one command line, refusing unknown fields and fields
// that do not belong to the verb. Errors wrap ErrBadCommand; the command is
// returned as far as it was read, so that its request id can be echoed.
func ParseCommand(line []byte) (Command, error) {
	var c Command
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		// Read the request id alone, so that the answer can carry it.
		var id struct {
			Cmd     string `json:"cmd"`
			Request string `json:"request"`
		}
		_ = json.Unmarshal(line, &id)
		return Command{Cmd: id.Cmd, Request: id.Request}, fmt.Errorf("%w: %w", ErrBadCommand, err)
	}
	if dec.More() {
		return c, fmt.Errorf("%w: more than one JSON value on the line", ErrBadCommand)
	}
	return c, c.check()
}

// check refuses fields that the verb does not take and missing ones.
func (c Command) check() error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s: %s", ErrBadCommand, c.Cmd, fmt.Sprintf(format, args...))
	}
	led := c.Mode != "" || c.Brightness != nil || c.OnMS != 0 || c.OffMS != 0
	relay := c.On || c.PulseMS != 0
	pred := c.Label != "" || c.Score != nil
	switch c.Cmd {
	case CmdLED:
		if c.ID == nil || c.Mode == "" {
			return bad("needs id and mode")
		}
		if relay || pred {
			return bad("takes id, mode, brightness, on_ms and off_ms only")
		}
	case CmdRelay:
		if c.ID == nil {
			return bad("needs id")
		}
		if led || pred {
			return bad("takes id, on and pulse_ms only")
		}
	case CmdPrediction:
		if c.Label == "" || c.Score == nil {
			return bad("needs label and score")
		}
		if s := *c.Score; math.IsNaN(s) || s < 0 || s > 1 {
			return bad("score %v outside 0..1", s)
		}
		if c.ID != nil || led || relay {
			return bad("takes label and score only")
		}
	case CmdStats:
		if c.ID != nil || led || relay || pred {
			return bad("takes no arguments")
		}
	case "":
		return fmt.Errorf("%w: no cmd", ErrBadCommand)
	default:
		return fmt.Errorf("%w: unknown cmd %q (led, relay, prediction, stats)", ErrBadCommand, c.Cmd)
	}
	return nil
}

// LED is the LED command of a led line.
func (c Command) LED() (protocol.SetLED, error) {
	lc := bridge.LEDCommand{Mode: c.Mode, Brightness: c.Brightness, OnMS: c.OnMS, OffMS: c.OffMS}
	if c.ID != nil {
		lc.ID = *c.ID
	}
	cmd, err := lc.Command()
	if err != nil {
		return cmd, fmt.Errorf("%w: %w", ErrBadCommand, err)
	}
	return cmd, nil
}

// Relay is the RELAY command of a relay line.
func (c Command) Relay() protocol.SetRelay {
	rc := bridge.RelayCommand{On: c.On, PulseMS: c.PulseMS}
	if c.ID != nil {
		rc.ID = *c.ID
	}
	return rc.Command()
}

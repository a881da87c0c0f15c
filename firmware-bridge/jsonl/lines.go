package jsonl

import (
	"time"

	"github.com/mocoedge/mocoedge/firmware-bridge/bridge"
)

// FormatVersion is the "v" of every output line.
const FormatVersion = 1

// Event names of the output lines that are not bridge event kinds.
const (
	EventFrame  = "frame"
	EventResult = "result"
	EventStats  = "stats"
)

// Header starts every output line.
type Header struct {
	// V is FormatVersion.
	V int `json:"v"`
	// Event is the line's kind: a bridge.Kind, or EventFrame, EventResult,
	// EventStats.
	Event string `json:"event"`
	// Time is when the bridge received the message or the change happened.
	Time time.Time `json:"time"`
}

func header(event string, at time.Time) Header {
	return Header{V: FormatVersion, Event: event, Time: at}
}

// StatusLine is a bridge.Status.
type StatusLine struct {
	Header
	State        string   `json:"state"`                  // bridge.State name
	Port         string   `json:"port,omitempty"`         // path opened or tried
	Attempt      int      `json:"attempt,omitempty"`      // opens tried since the last handshake
	Device       string   `json:"device,omitempty"`       // HELLO device id, from ready on
	Firmware     string   `json:"firmware,omitempty"`     // HELLO firmware version
	Protocol     uint8    `json:"protocol,omitempty"`     // HELLO protocol version
	Capabilities []string `json:"capabilities,omitempty"` // bridge.CapabilityNames
	Error        string   `json:"error,omitempty"`        // why disconnected or stopped
	RetryMS      int64    `json:"retry_ms,omitempty"`     // delay before the next open
	SilenceMS    int64    `json:"silence_ms,omitempty"`   // silence so far (silent)
}

// TriggerLine is a bridge.Trigger.
type TriggerLine struct {
	Header
	Device  string `json:"device"`   // board's device id
	Source  uint8  `json:"source"`   // trigger input
	BoardMS uint32 `json:"board_ms"` // board uptime when it fired
}

// ButtonLine is a bridge.Button, with the mapped action if any.
type ButtonLine struct {
	Header
	Device string `json:"device"`           // board's device id
	Button uint8  `json:"button"`           // button id
	Press  string `json:"press"`            // short, long or double
	Action string `json:"action,omitempty"` // mapped action: label or train
	Label  string `json:"label,omitempty"`  // mapped label, for label
}

// SensorLine is a bridge.Sensor.
type SensorLine struct {
	Header
	Device string  `json:"device"` // board's device id
	Sensor uint8   `json:"sensor"` // sensor id
	Value  float32 `json:"value"`  // reading in the sensor's unit
}

// LogLine is a bridge.Log.
type LogLine struct {
	Header
	Device string `json:"device"` // board's device id
	Level  string `json:"level"`  // debug, info, warn or error
	Text   string `json:"text"`   // the line as received
}

// FrameLine is a bridge.Frame.
type FrameLine struct {
	Header
	Device     string  `json:"device"`      // board's device id
	Frame      uint16  `json:"frame"`       // board's frame id
	Bytes      int     `json:"bytes"`       // JPEG size
	Chunks     int     `json:"chunks"`      // CAMERA_FRAME chunks it came in
	AssemblyMS float64 `json:"assembly_ms"` // first chunk to last
	// JPEG is the picture (base64 in JSON), with FramesData.
	JPEG []byte `json:"jpeg,omitempty"`
	// File is where the picture was written, with a frame directory.
	File string `json:"file,omitempty"`
}

// ResultLine answers a command.
type ResultLine struct {
	Header
	Request string `json:"request"`         // the command's request id
	Cmd     string `json:"cmd"`             // the command's verb
	OK      bool   `json:"ok"`              // whether it succeeded
	Error   string `json:"error,omitempty"` // why not
	// Changed says whether a prediction sent commands.
	Changed bool `json:"changed,omitempty"`
}

// StatsLine reports the bridge's counters.
type StatsLine struct {
	Header
	Request string       `json:"request,omitempty"` // the stats command's request id
	Stats   bridge.Stats `json:"stats"`             // the counters
}

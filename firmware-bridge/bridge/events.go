package bridge

import (
	"time"

	"github.com/mocoedge/mocoedge/firmware-bridge/protocol"
)

// Kind names an event type. The names are those of the "event" field in
// fwbridge's JSON lines.
type Kind string

// Event kinds.
const (
	KindStatus  Kind = "status"
	KindTrigger Kind = "trigger"
	KindButton  Kind = "button"
	KindSensor  Kind = "sensor"
	KindLog     Kind = "log"
)

// Event is something the bridge reports to its Sink: a Status, Trigger,
// Button, Sensor or Log value. Switch on the concrete type.
type Event interface {
	// Kind names the event type.
	Kind() Kind
	// When is when the bridge received it (or, for Status, when the change
	// happened).
	When() time.Time
}

// Trigger is a TRIGGER from the board: capture now.
type Trigger struct {
	// At is when the bridge received it.
	At time.Time
	// Device is the board's device id (empty before its HELLO).
	Device string
	// Source is the trigger input's id.
	Source uint8
	// BoardTimeMS is the board's uptime when it fired.
	BoardTimeMS uint32
}

// Kind is KindTrigger.
func (Trigger) Kind() Kind { return KindTrigger }

// When is At.
func (e Trigger) When() time.Time { return e.At }

// Button is a BUTTON press on the board.
type Button struct {
	// At is when the bridge received it.
	At time.Time
	// Device is the board's device id.
	Device string
	// ID is the button's id.
	ID uint8
	// Press is short, long or double.
	Press protocol.PressKind
}

// Kind is KindButton.
func (Button) Kind() Kind { return KindButton }

// When is At.
func (e Button) When() time.Time { return e.At }

// Sensor is one SENSOR reading.
type Sensor struct {
	// At is when the bridge received it.
	At time.Time
	// Device is the board's device id.
	Device string
	// ID is the sensor's id.
	ID uint8
	// Value is the reading in the sensor's unit.
	Value float32
}

// Kind is KindSensor.
func (Sensor) Kind() Kind { return KindSensor }

// When is At.
func (e Sensor) When() time.Time { return e.At }

// Log is a LOG line from the firmware.
type Log struct {
	// At is when the bridge received it.
	At time.Time
	// Device is the board's device id.
	Device string
	// Level is the severity.
	Level protocol.LogLevel
	// Text is the line as received.
	Text string
}

// Kind is KindLog.
func (Log) Kind() Kind { return KindLog }

// When is At.
func (e Log) When() time.Time { return e.At }

// Frame is a JPEG from the board's camera, reassembled from its
// CAMERA_FRAME chunks. The receiver owns JPEG.
type Frame struct {
	// At is when its last chunk arrived.
	At time.Time
	// Started is when its first chunk arrived.
	Started time.Time
	// Device is the board's device id.
	Device string
	// ID is the board's frame id.
	ID uint16
	// Chunks is how many chunks it came in.
	Chunks int
	// JPEG is the picture.
	JPEG []byte
}

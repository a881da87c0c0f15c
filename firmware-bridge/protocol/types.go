package protocol

import "fmt"

// Type is a message type: bits 0-6 of a frame's type byte.
type Type uint8

// Message types. Their payload layouts are in the package documentation.
const (
	TypeHello       Type = 0x01
	TypeHeartbeat   Type = 0x02
	TypeAck         Type = 0x03
	TypeNack        Type = 0x04
	TypeTrigger     Type = 0x05
	TypeButton      Type = 0x06
	TypeSensor      Type = 0x07
	TypeLED         Type = 0x08
	TypeRelay       Type = 0x09
	TypeCameraFrame Type = 0x0A
	TypeLog         Type = 0x0B
)

// maxType is the largest value a Type can have on the wire; bit 7 of the type
// byte is the ACK-request flag.
const maxType = 0x7F

// ackRequestFlag is bit 7 of the type byte.
const ackRequestFlag = 0x80

// String is the type's protocol name, or its code when unknown.
func (t Type) String() string {
	switch t {
	case TypeHello:
		return "HELLO"
	case TypeHeartbeat:
		return "HEARTBEAT"
	case TypeAck:
		return "ACK"
	case TypeNack:
		return "NACK"
	case TypeTrigger:
		return "TRIGGER"
	case TypeButton:
		return "BUTTON"
	case TypeSensor:
		return "SENSOR"
	case TypeLED:
		return "LED"
	case TypeRelay:
		return "RELAY"
	case TypeCameraFrame:
		return "CAMERA_FRAME"
	case TypeLog:
		return "LOG"
	}
	return fmt.Sprintf("TYPE(0x%02x)", uint8(t))
}

// NackReason says why a receiver refused a request.
type NackReason uint8

// NACK reasons. A receiver may send codes not listed here; they keep their
// number.
const (
	// ReasonUnspecified is a refusal without a stated reason.
	ReasonUnspecified NackReason = 0
	// ReasonUnknownType: the receiver does not know the message type.
	ReasonUnknownType NackReason = 1
	// ReasonMalformed: the payload does not follow the type's layout.
	ReasonMalformed NackReason = 2
	// ReasonInvalid: the message is well formed but names something the
	// receiver does not have (an LED id out of range, for instance).
	ReasonInvalid NackReason = 3
	// ReasonBusy: the receiver cannot take the message now; the sender may
	// retry. Link.Request retries it within its attempts.
	ReasonBusy NackReason = 4
	// ReasonUnsupported: the receiver knows the type but does not accept it
	// in this direction or lacks the capability.
	ReasonUnsupported NackReason = 5
)

// String names the reason.
func (r NackReason) String() string {
	switch r {
	case ReasonUnspecified:
		return "unspecified"
	case ReasonUnknownType:
		return "unknown type"
	case ReasonMalformed:
		return "malformed"
	case ReasonInvalid:
		return "invalid"
	case ReasonBusy:
		return "busy"
	case ReasonUnsupported:
		return "unsupported"
	}
	return fmt.Sprintf("reason %d", uint8(r))
}

// Capability is a bit in HELLO's capabilities mask.
type Capability uint32

// Capabilities a board can announce. Bits 8-31 are reserved and kept as
// received.
const (
	CapLED Capability = 1 << iota
	CapRelay
	CapButton
	CapTrigger
	CapSensor
	CapCamera
	CapLog
)

// Has reports whether every bit of want is set in c.
func (c Capability) Has(want Capability) bool { return c&want == want }

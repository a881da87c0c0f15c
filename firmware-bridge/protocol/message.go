package protocol

import (
	"fmt"
	"time"
)

// Message is a typed payload. The concrete types are pointers to the structs
// in this package (*Hello, *SetLED, ...). MarshalBinary and AppendBinary
// refuse values that break the layout; UnmarshalBinary refuses payloads that
// do not follow it. Both errors wrap ErrMalformed.
type Message interface {
	// Type is the message's type code.
	Type() Type
	// AppendBinary appends the payload to b.
	AppendBinary(b []byte) ([]byte, error)
	// MarshalBinary returns the payload.
	MarshalBinary() ([]byte, error)
	// UnmarshalBinary replaces the message with the one in payload. It does
	// not keep payload.
	UnmarshalBinary(payload []byte) error
}

// Packet is one message received from a stream, with its frame header.
type Packet struct {
	// Seq is the sender's sequence number for the frame.
	Seq uint8
	// AckRequested says the sender wants ACK or NACK for this frame.
	AckRequested bool
	// CRC is the frame's checksum; with Seq it identifies a retransmission.
	CRC uint32
	// Time is when the decoder finished reading the frame.
	Time time.Time
	// Msg is the decoded message.
	Msg Message
}

// NewMessage returns a zero message of type t, ready for UnmarshalBinary.
// An unknown type is ErrUnknownType.
func NewMessage(t Type) (Message, error) {
	switch t {
	case TypeHello:
		return new(Hello), nil
	case TypeHeartbeat:
		return new(Heartbeat), nil
	case TypeAck:
		return new(Ack), nil
	case TypeNack:
		return new(Nack), nil
	case TypeTrigger:
		return new(Trigger), nil
	case TypeButton:
		return new(Button), nil
	case TypeSensor:
		return new(Sensor), nil
	case TypeLED:
		return new(SetLED), nil
	case TypeRelay:
		return new(SetRelay), nil
	case TypeCameraFrame:
		return new(CameraChunk), nil
	case TypeLog:
		return new(Log), nil
	}
	return nil, fmt.Errorf("%w: 0x%02x", ErrUnknownType, uint8(t))
}

// Decode returns the message in f. Errors wrap ErrUnknownType or
// ErrMalformed. The message does not keep f.Payload.
func Decode(f Frame) (Message, error) {
	m, err := NewMessage(f.Type)
	if err != nil {
		return nil, err
	}
	if err := m.UnmarshalBinary(f.Payload); err != nil {
		return nil, err
	}
	return m, nil
}

// AppendMessage appends m, framed with seq and the ACK-request flag, as it
// goes on the wire (COBS-encoded, delimiter included) to dst.
func AppendMessage(dst []byte, seq uint8, ackRequested bool, m Message) ([]byte, error) {
	var buf [MaxPayload]byte
	payload, err := m.AppendBinary(buf[:0])
	if err != nil {
		return dst, err
	}
	return AppendFrame(dst, Frame{Type: m.Type(), Seq: seq, AckRequested: ackRequested, Payload: payload})
}

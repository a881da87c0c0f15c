package protocol

import "fmt"

// PressKind is how a button was pressed.
type PressKind uint8

// Press kinds; 0 and values above PressDouble are malformed.
const (
	PressShort  PressKind = 1
	PressLong   PressKind = 2
	PressDouble PressKind = 3
)

// String names the press kind.
func (k PressKind) String() string {
	switch k {
	case PressShort:
		return "short"
	case PressLong:
		return "long"
	case PressDouble:
		return "double"
	}
	return fmt.Sprintf("press(%d)", uint8(k))
}

// Button reports a button press: BUTTON, 0x06.
type Button struct {
	// ID is the button's id.
	ID uint8
	// Press is the kind of press.
	Press PressKind
}

// Type is TypeButton.
func (m *Button) Type() Type { return TypeButton }

func (m *Button) check() error {
	if m.Press < PressShort || m.Press > PressDouble {
		return malformed(TypeButton, "press kind %d out of range 1..3", uint8(m.Press))
	}
	return nil
}

// AppendBinary appends the payload to b.
func (m *Button) AppendBinary(b []byte) ([]byte, error) {
	if err := m.check(); err != nil {
		return b, err
	}
	return append(b, m.ID, uint8(m.Press)), nil
}

// MarshalBinary returns the payload.
func (m *Button) MarshalBinary() ([]byte, error) { return m.AppendBinary(nil) }

// UnmarshalBinary decodes payload into m.
func (m *Button) UnmarshalBinary(payload []byte) error {
	r := newPayloadReader(TypeButton, payload)
	v := Button{ID: r.u8("button id"), Press: PressKind(r.u8("press kind"))}
	if err := r.done(); err != nil {
		return err
	}
	if err := v.check(); err != nil {
		return err
	}
	*m = v
	return nil
}

package protocol

import "fmt"

// LEDMode is what an LED does.
type LEDMode uint8

// LED modes; values above LEDBlink are malformed.
const (
	LEDOff   LEDMode = 0
	LEDOn    LEDMode = 1
	LEDBlink LEDMode = 2
)

// String names the mode.
func (m LEDMode) String() string {
	switch m {
	case LEDOff:
		return "off"
	case LEDOn:
		return "on"
	case LEDBlink:
		return "blink"
	}
	return fmt.Sprintf("mode(%d)", uint8(m))
}

// SetLED sets one LED on the board: LED, 0x08. The host sends it as a
// request; the board answers ACK, or NACK ReasonInvalid for an LED it lacks.
type SetLED struct {
	// ID is the LED's id.
	ID uint8
	// Mode is off, on or blink.
	Mode LEDMode
	// Brightness is 0-255 (PWM duty) while on or blinking.
	Brightness uint8
	// OnMS and OffMS are the blink pattern's phases in milliseconds; both are
	// non-zero in blink mode and zero otherwise.
	OnMS, OffMS uint16
}

// Type is TypeLED.
func (m *SetLED) Type() Type { return TypeLED }

func (m *SetLED) check() error {
	switch m.Mode {
	case LEDOff, LEDOn:
		if m.OnMS != 0 || m.OffMS != 0 {
			return malformed(TypeLED, "blink times %d/%d ms in mode %s", m.OnMS, m.OffMS, m.Mode)
		}
	case LEDBlink:
		if m.OnMS == 0 || m.OffMS == 0 {
			return malformed(TypeLED, "blink needs non-zero on and off times, got %d/%d ms", m.OnMS, m.OffMS)
		}
	default:
		return malformed(TypeLED, "mode %d out of range 0..2", uint8(m.Mode))
	}
	return nil
}

// AppendBinary appends the payload to b.
func (m *SetLED) AppendBinary(b []byte) ([]byte, error) {
	if err := m.check(); err != nil {
		return b, err
	}
	b = append(b, m.ID, uint8(m.Mode), m.Brightness)
	return appendU16(appendU16(b, m.OnMS), m.OffMS), nil
}

// MarshalBinary returns the payload.
func (m *SetLED) MarshalBinary() ([]byte, error) { return m.AppendBinary(nil) }

// UnmarshalBinary decodes payload into m.
func (m *SetLED) UnmarshalBinary(payload []byte) error {
	r := newPayloadReader(TypeLED, payload)
	v := SetLED{ID: r.u8("led id"), Mode: LEDMode(r.u8("mode")), Brightness: r.u8("brightness")}
	v.OnMS = r.u16("on ms")
	v.OffMS = r.u16("off ms")
	if err := r.done(); err != nil {
		return err
	}
	if err := v.check(); err != nil {
		return err
	}
	*m = v
	return nil
}

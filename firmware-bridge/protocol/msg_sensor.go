package protocol

import "math"

// Sensor reports one sensor reading: SENSOR, 0x07.
type Sensor struct {
	// ID is the sensor's id.
	ID uint8
	// Value is the reading in the sensor's unit; NaN and infinities are
	// malformed.
	Value float32
}

// Type is TypeSensor.
func (m *Sensor) Type() Type { return TypeSensor }

func (m *Sensor) check() error {
	if v := float64(m.Value); math.IsNaN(v) || math.IsInf(v, 0) {
		return malformed(TypeSensor, "value %v is not finite", m.Value)
	}
	return nil
}

// AppendBinary appends the payload to b.
func (m *Sensor) AppendBinary(b []byte) ([]byte, error) {
	if err := m.check(); err != nil {
		return b, err
	}
	return appendU32(append(b, m.ID), math.Float32bits(m.Value)), nil
}

// MarshalBinary returns the payload.
func (m *Sensor) MarshalBinary() ([]byte, error) { return m.AppendBinary(nil) }

// UnmarshalBinary decodes payload into m.
func (m *Sensor) UnmarshalBinary(payload []byte) error {
	r := newPayloadReader(TypeSensor, payload)
	v := Sensor{ID: r.u8("sensor id"), Value: math.Float32frombits(r.u32("value"))}
	if err := r.done(); err != nil {
		return err
	}
	if err := v.check(); err != nil {
		return err
	}
	*m = v
	return nil
}

package protocol

// SetRelay switches one relay on the board: RELAY, 0x09. The host sends it as
// a request; the board answers ACK, or NACK ReasonInvalid for a relay it
// lacks.
type SetRelay struct {
	// ID is the relay's id.
	ID uint8
	// On is the state to set.
	On bool
	// PulseMS, when non-zero, holds the state for that many milliseconds and
	// then reverts it.
	PulseMS uint16
}

// Type is TypeRelay.
func (m *SetRelay) Type() Type { return TypeRelay }

// AppendBinary appends the payload to b.
func (m *SetRelay) AppendBinary(b []byte) ([]byte, error) {
	state := uint8(0)
	if m.On {
		state = 1
	}
	return appendU16(append(b, m.ID, state), m.PulseMS), nil
}

// MarshalBinary returns the payload.
func (m *SetRelay) MarshalBinary() ([]byte, error) { return m.AppendBinary(nil) }

// UnmarshalBinary decodes payload into m.
func (m *SetRelay) UnmarshalBinary(payload []byte) error {
	r := newPayloadReader(TypeRelay, payload)
	id, state, pulse := r.u8("relay id"), r.u8("state"), r.u16("pulse ms")
	if err := r.done(); err != nil {
		return err
	}
	if state > 1 {
		return malformed(TypeRelay, "state %d is neither 0 nor 1", state)
	}
	*m = SetRelay{ID: id, On: state == 1, PulseMS: pulse}
	return nil
}

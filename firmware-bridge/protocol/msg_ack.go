package protocol

// Ack accepts the request whose frame had sequence number Seq: ACK, 0x03.
type Ack struct {
	// Seq is the acknowledged frame's sequence number.
	Seq uint8
}

// Type is TypeAck.
func (m *Ack) Type() Type { return TypeAck }

// AppendBinary appends the payload to b.
func (m *Ack) AppendBinary(b []byte) ([]byte, error) { return append(b, m.Seq), nil }

// MarshalBinary returns the payload.
func (m *Ack) MarshalBinary() ([]byte, error) { return m.AppendBinary(nil) }

// UnmarshalBinary decodes payload into m.
func (m *Ack) UnmarshalBinary(payload []byte) error {
	r := newPayloadReader(TypeAck, payload)
	v := Ack{Seq: r.u8("seq")}
	if err := r.done(); err != nil {
		return err
	}
	*m = v
	return nil
}

// Nack refuses the request whose frame had sequence number Seq: NACK, 0x04.
type Nack struct {
	// Seq is the refused frame's sequence number.
	Seq uint8
	// Reason says why.
	Reason NackReason
}

// Type is TypeNack.
func (m *Nack) Type() Type { return TypeNack }

// AppendBinary appends the payload to b.
func (m *Nack) AppendBinary(b []byte) ([]byte, error) { return append(b, m.Seq, uint8(m.Reason)), nil }

// MarshalBinary returns the payload.
func (m *Nack) MarshalBinary() ([]byte, error) { return m.AppendBinary(nil) }

// UnmarshalBinary decodes payload into m.
func (m *Nack) UnmarshalBinary(payload []byte) error {
	r := newPayloadReader(TypeNack, payload)
	v := Nack{Seq: r.u8("seq"), Reason: NackReason(r.u8("reason"))}
	if err := r.done(); err != nil {
		return err
	}
	*m = v
	return nil
}

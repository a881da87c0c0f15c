package protocol

// Trigger reports a hardware trigger on the board: TRIGGER, 0x05.
type Trigger struct {
	// Source is the trigger input's id.
	Source uint8
	// BoardTimeMS is the board's uptime in milliseconds when it fired (the
	// clock of Heartbeat.UptimeMS).
	BoardTimeMS uint32
}

// Type is TypeTrigger.
func (m *Trigger) Type() Type { return TypeTrigger }

// AppendBinary appends the payload to b.
func (m *Trigger) AppendBinary(b []byte) ([]byte, error) {
	return appendU32(append(b, m.Source), m.BoardTimeMS), nil
}

// MarshalBinary returns the payload.
func (m *Trigger) MarshalBinary() ([]byte, error) { return m.AppendBinary(nil) }

// UnmarshalBinary decodes payload into m.
func (m *Trigger) UnmarshalBinary(payload []byte) error {
	r := newPayloadReader(TypeTrigger, payload)
	v := Trigger{Source: r.u8("source"), BoardTimeMS: r.u32("board time")}
	if err := r.done(); err != nil {
		return err
	}
	*m = v
	return nil
}

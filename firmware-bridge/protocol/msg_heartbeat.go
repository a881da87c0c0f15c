package protocol

// Heartbeat says the sender is alive: HEARTBEAT, 0x02.
type Heartbeat struct {
	// UptimeMS is milliseconds since the sender booted, wrapping at 2^32
	// (49.7 days).
	UptimeMS uint32
}

// Type is TypeHeartbeat.
func (m *Heartbeat) Type() Type { return TypeHeartbeat }

// AppendBinary appends the payload to b.
func (m *Heartbeat) AppendBinary(b []byte) ([]byte, error) { return appendU32(b, m.UptimeMS), nil }

// MarshalBinary returns the payload.
func (m *Heartbeat) MarshalBinary() ([]byte, error) { return m.AppendBinary(nil) }

// UnmarshalBinary decodes payload into m.
func (m *Heartbeat) UnmarshalBinary(payload []byte) error {
	r := newPayloadReader(TypeHeartbeat, payload)
	v := Heartbeat{UptimeMS: r.u32("uptime")}
	if err := r.done(); err != nil {
		return err
	}
	*m = v
	return nil
}

package protocol

// ProtocolVersion is the protocol version this package speaks, sent in HELLO.
const ProtocolVersion = 1

// Hello introduces a board (or the host): HELLO, 0x01. A board sends it when
// it boots and in answer to a HELLO.
type Hello struct {
	// Protocol is the sender's protocol version (ProtocolVersion); 0 is invalid.
	Protocol uint8
	// Capabilities says what the board has.
	Capabilities Capability
	// FirmwareVersion is free text, at most 255 bytes of UTF-8.
	FirmwareVersion string
	// DeviceID names the board, 1 to 255 bytes of UTF-8.
	DeviceID string
}

// Type is TypeHello.
func (m *Hello) Type() Type { return TypeHello }

func (m *Hello) check() error {
	if m.Protocol == 0 {
		return malformed(TypeHello, "protocol version 0")
	}
	if m.DeviceID == "" {
		return malformed(TypeHello, "empty device id")
	}
	if err := checkText(TypeHello, "firmware version", m.FirmwareVersion); err != nil {
		return err
	}
	return checkText(TypeHello, "device id", m.DeviceID)
}

// AppendBinary appends the payload to b.
func (m *Hello) AppendBinary(b []byte) ([]byte, error) {
	if err := m.check(); err != nil {
		return b, err
	}
	b = append(b, m.Protocol)
	b = appendU32(b, uint32(m.Capabilities))
	b = append(b, uint8(len(m.FirmwareVersion)))
	b = append(b, m.FirmwareVersion...)
	b = append(b, uint8(len(m.DeviceID)))
	return append(b, m.DeviceID...), nil
}

// MarshalBinary returns the payload.
func (m *Hello) MarshalBinary() ([]byte, error) { return m.AppendBinary(nil) }

// UnmarshalBinary decodes payload into m.
func (m *Hello) UnmarshalBinary(payload []byte) error {
	r := newPayloadReader(TypeHello, payload)
	v := Hello{Protocol: r.u8("protocol"), Capabilities: Capability(r.u32("capabilities"))}
	v.FirmwareVersion = string(r.take(int(r.u8("firmware version length")), "firmware version"))
	v.DeviceID = string(r.take(int(r.u8("device id length")), "device id"))
	if err := r.done(); err != nil {
		return err
	}
	if err := v.check(); err != nil {
		return err
	}
	*m = v
	return nil
}

package protocol

import "fmt"

// LogLevel is a LOG message's severity.
type LogLevel uint8

// Log levels; values above LogError are malformed.
const (
	LogDebug LogLevel = 0
	LogInfo  LogLevel = 1
	LogWarn  LogLevel = 2
	LogError LogLevel = 3
)

// String names the level.
func (l LogLevel) String() string {
	switch l {
	case LogDebug:
		return "debug"
	case LogInfo:
		return "info"
	case LogWarn:
		return "warn"
	case LogError:
		return "error"
	}
	return fmt.Sprintf("level(%d)", uint8(l))
}

// MaxLogText is the longest LOG text in bytes.
const MaxLogText = MaxPayload - 1

// Log is a line from the firmware's log: LOG, 0x0B.
type Log struct {
	// Level is the severity.
	Level LogLevel
	// Text is the line, expected to be UTF-8 but passed on as received; at
	// most MaxLogText bytes.
	Text string
}

// Type is TypeLog.
func (m *Log) Type() Type { return TypeLog }

func (m *Log) check() error {
	if m.Level > LogError {
		return malformed(TypeLog, "level %d out of range 0..3", uint8(m.Level))
	}
	if len(m.Text) > MaxLogText {
		return malformed(TypeLog, "text of %d bytes, max %d", len(m.Text), MaxLogText)
	}
	return nil
}

// AppendBinary appends the payload to b.
func (m *Log) AppendBinary(b []byte) ([]byte, error) {
	if err := m.check(); err != nil {
		return b, err
	}
	return append(append(b, uint8(m.Level)), m.Text...), nil
}

// MarshalBinary returns the payload.
func (m *Log) MarshalBinary() ([]byte, error) { return m.AppendBinary(nil) }

// UnmarshalBinary decodes payload into m.
func (m *Log) UnmarshalBinary(payload []byte) error {
	r := newPayloadReader(TypeLog, payload)
	v := Log{Level: LogLevel(r.u8("level"))}
	v.Text = string(r.rest())
	if err := r.done(); err != nil {
		return err
	}
	if err := v.check(); err != nil {
		return err
	}
	*m = v
	return nil
}

package bridge

import (
	"fmt"
	"time"

	"github.com/mocoedge/mocoedge/firmware-bridge/protocol"
)

// State is where the bridge stands with the board.
type State uint8

// States, in the order a session goes through them.
const (
	// StateIdle is before Run.
	StateIdle State = iota
	// StateConnecting is while the port is being opened.
	StateConnecting
	// StateHandshake is with the port open, waiting for the board's HELLO.
	StateHandshake
	// StateReady is after the handshake, with the board talking.
	StateReady
	// StateSilent is after the handshake, with the board silent for the
	// silent period; the port is still open.
	StateSilent
	// StateDisconnected is between sessions: the port failed, was closed,
	// or could not be opened, and the bridge waits to try again.
	StateDisconnected
	// StateStopped is after Run returned.
	StateStopped
)

// String names the state as the JSON lines and the logs do.
func (s State) String() string {
	switch s {
	case StateIdle:
		return "idle"
	case StateConnecting:
		return "connecting"
	case StateHandshake:
		return "handshake"
	case StateReady:
		return "ready"
	case StateSilent:
		return "silent"
	case StateDisconnected:
		return "disconnected"
	case StateStopped:
		return "stopped"
	}
	return fmt.Sprintf("state(%d)", uint8(s))
}

// MarshalText writes the state's name, so that it reads well in JSON.
func (s State) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// BoardInfo is what the board said about itself in HELLO.
type BoardInfo struct {
	// Protocol is the board's protocol version.
	Protocol uint8 `json:"protocol"`
	// FirmwareVersion is the firmware's free-text version.
	FirmwareVersion string `json:"firmware"`
	// DeviceID names the board.
	DeviceID string `json:"device"`
	// Capabilities is what the board has.
	Capabilities protocol.Capability `json:"capabilities"`
}

// boardInfo converts a HELLO.
func boardInfo(h *protocol.Hello) BoardInfo {
	return BoardInfo{Protocol: h.Protocol, FirmwareVersion: h.FirmwareVersion, DeviceID: h.DeviceID, Capabilities: h.Capabilities}
}

// Status is a change in the connection, delivered to the Sink as an Event
// and logged.
type Status struct {
	// At is when it happened.
	At time.Time
	// State is the new state.
	State State
	// Port is the path opened (or last tried); empty before the first
	// attempt resolves one.
	Port string
	// Board is the board's HELLO, from the handshake on.
	Board BoardInfo
	// Attempt counts the attempts to open the port since the last session
	// that reached the handshake (1 for the first).
	Attempt int
	// Err is why the bridge is disconnected (StateDisconnected), or what
	// stopped it (StateStopped, nil after a clean stop).
	Err error
	// Retry is the delay before the next attempt (StateDisconnected).
	Retry time.Duration
	// Silence is how long the board has been silent (StateSilent).
	Silence time.Duration
}

// Kind is KindStatus.
func (Status) Kind() Kind { return KindStatus }

// When is At.
func (s Status) When() time.Time { return s.At }

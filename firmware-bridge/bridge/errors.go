package bridge

import "errors"

// Errors a caller can test for with errors.Is.
var (
	// ErrInvalidConfig means a Config or a port specification is unusable.
	ErrInvalidConfig = errors.New("bridge: invalid configuration")
	// ErrPortNotFound means no serial port matches the USB VID:PID (and
	// serial number) asked for: the board is unplugged or enumerates
	// differently.
	ErrPortNotFound = errors.New("bridge: no serial port matches")
	// ErrAmbiguousPort means several serial ports match the USB VID:PID; add
	// the serial number to pick one.
	ErrAmbiguousPort = errors.New("bridge: several serial ports match")
	// ErrHandshakeTimeout means the board sent no HELLO within the
	// handshake timeout; the bridge recycles the port.
	ErrHandshakeTimeout = errors.New("bridge: no HELLO from the board")
	// ErrProtocolVersion means the board's HELLO carries a protocol version
	// this bridge does not speak.
	ErrProtocolVersion = errors.New("bridge: board speaks another protocol version")
	// ErrSilent means the board sent nothing for the recycle period; the
	// bridge recycles the port.
	ErrSilent = errors.New("bridge: board silent")
	// ErrNotConnected means a command found no board that has completed its
	// handshake.
	ErrNotConnected = errors.New("bridge: no board connected")
	// ErrUnsupported means the board's HELLO does not announce the
	// capability a command needs.
	ErrUnsupported = errors.New("bridge: board lacks the capability")
	// ErrAlreadyRunning means Run was called on a Bridge that already ran.
	ErrAlreadyRunning = errors.New("bridge: Run called twice")
)

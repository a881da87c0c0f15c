package protocol

import (
	"errors"
	"fmt"
)

// Errors a caller can test for with errors.Is.
var (
	// ErrCOBS means the bytes between two delimiters are not valid COBS.
	ErrCOBS = errors.New("protocol: invalid COBS encoding")
	// ErrLength means a frame is too short, or its length field disagrees
	// with its size.
	ErrLength = errors.New("protocol: bad frame length")
	// ErrTooLarge means a payload exceeds MaxPayload (or a frame exceeds
	// MaxEncodedFrame on the wire).
	ErrTooLarge = errors.New("protocol: frame too large")
	// ErrCRC means the frame's CRC-32 does not match its contents.
	ErrCRC = errors.New("protocol: CRC mismatch")
	// ErrUnknownType means a well-formed frame carries a type this package
	// does not know.
	ErrUnknownType = errors.New("protocol: unknown message type")
	// ErrMalformed means a payload does not follow its message's layout, or a
	// field is out of range.
	ErrMalformed = errors.New("protocol: malformed message")
	// ErrTimeout means a request got no ACK within its attempts.
	ErrTimeout = errors.New("protocol: no ACK before timeout")
	// ErrNacked means the peer answered a request with NACK; the error is a
	// *NackError with the reason.
	ErrNacked = errors.New("protocol: request NACKed")
	// ErrClosed means the link was closed.
	ErrClosed = errors.New("protocol: link closed")
	// ErrQueueFull means the link's write queue stayed full for the whole
	// write timeout, which happens when the port drains slower than frames
	// are sent.
	ErrQueueFull = errors.New("protocol: write queue full")
	// ErrWriteStalled means one write to the port took longer than the write
	// timeout; the link shuts down so that its owner can reopen the port.
	ErrWriteStalled = errors.New("protocol: write to port stalled")
)

// NackError is the error Link.Request returns when the peer answers NACK.
// errors.Is(err, ErrNacked) holds for it.
type NackError struct {
	// Seq is the sequence number of the refused request.
	Seq uint8
	// Reason is the peer's reason code.
	Reason NackReason
}

// Error describes the refusal.
func (e *NackError) Error() string {
	return fmt.Sprintf("protocol: request seq %d NACKed: %s", e.Seq, e.Reason)
}

// Is reports whether target is ErrNacked.
func (e *NackError) Is(target error) bool { return target == ErrNacked }

// FrameError is returned by Decoder.ReadMessage for a frame that arrived
// intact (its CRC matched) but whose message cannot be decoded: an unknown
// type or a malformed payload. The stream stays in sync, so the caller may go
// on reading; the frame's header lets it answer with NACK.
type FrameError struct {
	// Frame is the offending frame.
	Frame Frame
	// Err wraps ErrUnknownType or ErrMalformed.
	Err error
}

// Error describes the frame and the cause.
func (e *FrameError) Error() string {
	return fmt.Sprintf("protocol: frame type 0x%02x seq %d: %v", uint8(e.Frame.Type), e.Frame.Seq, e.Err)
}

// Unwrap returns the cause.
func (e *FrameError) Unwrap() error { return e.Err }

// Reason maps the cause to the NACK reason a receiver should answer with.
func (e *FrameError) Reason() NackReason {
	if errors.Is(e.Err, ErrUnknownType) {
		return ReasonUnknownType
	}
	return ReasonMalformed
}

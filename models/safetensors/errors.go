package safetensors

import "errors"

// ErrInvalid is wrapped by every error about a malformed file or a tensor
// that cannot be written.
var ErrInvalid = errors.New("invalid safetensors data")

// ErrTruncated is wrapped when a file is shorter than its header says:
// typically a copy or download that stopped early. It wraps ErrInvalid.
var ErrTruncated error = invalidKind("truncated file")

// ErrNotSafetensors is wrapped when a file does not start like a
// safetensors file at all. It wraps ErrInvalid.
var ErrNotSafetensors error = invalidKind("not a safetensors file")

// ErrDType is returned when a tensor is read as an element type it cannot
// be converted from.
var ErrDType = errors.New("unsupported dtype")

// invalidKind is a specific kind of ErrInvalid with its own message.
type invalidKind string

// Error returns the kind's message.
func (k invalidKind) Error() string { return string(k) }

// Unwrap makes every kind an ErrInvalid.
func (k invalidKind) Unwrap() error { return ErrInvalid }

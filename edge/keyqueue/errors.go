package keyqueue

import (
	"errors"
	"fmt"
)

// Sentinel errors; test with errors.Is.
var (
	// ErrClosed is returned by every method after Close.
	ErrClosed = errors.New("keyqueue: queue is closed")
	// ErrLocked means another process (or another Queue) has the folder open.
	ErrLocked = errors.New("keyqueue: folder is in use by another queue")
	// ErrNotFound means no live entry has the id (never appended, or evicted).
	ErrNotFound = errors.New("keyqueue: no such entry")
	// ErrNoThumbnail means the entry exists but was stored without a thumbnail.
	ErrNoThumbnail = errors.New("keyqueue: entry has no thumbnail")
	// ErrInvalidEntry wraps every reason an entry or a label is refused.
	ErrInvalidEntry = errors.New("keyqueue: invalid entry")
	// ErrDimMismatch means a vector's dimension differs from the one the
	// queue already holds for the same model. It also matches ErrInvalidEntry.
	ErrDimMismatch = fmt.Errorf("%w: vector dimension differs from the model's", ErrInvalidEntry)
	// ErrThumbnailTooLarge means a thumbnail exceeds Options.MaxThumbnailBytes.
	// It also matches ErrInvalidEntry.
	ErrThumbnailTooLarge = fmt.Errorf("%w: thumbnail too large", ErrInvalidEntry)
	// ErrInvalidOptions wraps every reason Open refuses its Options.
	ErrInvalidOptions = errors.New("keyqueue: invalid options")
	// ErrCorrupt means a record failed its checksum or structure checks.
	ErrCorrupt = errors.New("keyqueue: corrupt record")
	// ErrTorn means a record is incomplete at the end of a file (a torn write).
	ErrTorn = errors.New("keyqueue: incomplete record")
	// ErrBroken means an fsync failed earlier; the queue refuses writes until
	// it is reopened (see the package doc's sync policy).
	ErrBroken = errors.New("keyqueue: a sync failed, reopen the queue")
)

// CorruptionError reports a damaged record found while opening the queue:
// which segment file, at which byte offset, why, and what was done about it.
// It wraps ErrCorrupt or ErrTorn.
type CorruptionError struct {
	// Segment is the path of the segment file.
	Segment string
	// Offset is the byte offset of the first damaged record in the file.
	Offset int64
	// Action says what Open did: "truncated", "removed" (an empty or headless
	// last segment) or "skipped rest of segment" (a sealed segment).
	Action string
	// Err is the reason; it wraps ErrCorrupt or ErrTorn.
	Err error
}

// Error describes the damage, naming the file and the offset.
func (e *CorruptionError) Error() string {
	msg := fmt.Sprintf("keyqueue: segment %s at offset %d: %v", e.Segment, e.Offset, e.Err)
	if e.Action != "" {
		msg += " (" + e.Action + ")"
	}
	return msg
}

// Unwrap returns the reason, so errors.Is(err, ErrCorrupt) and
// errors.Is(err, ErrTorn) work.
func (e *CorruptionError) Unwrap() error { return e.Err }

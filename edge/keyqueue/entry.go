package keyqueue

import (
	"fmt"
	"math"
	"time"
	"unicode/utf8"
)

// Entry is one embedding in the queue.
//
// For Append, ID is ignored (the queue assigns it), a zero Time means now,
// Label may be empty, Thumbnail may be nil, and Vector is copied and
// L2-normalised. Entries returned by Get, ForEach and Snapshot have ID set,
// Vector is a copy of the stored (normalised) vector, Thumbnail is nil and
// ThumbnailSize tells how many bytes Queue.Thumbnail will return.
type Entry struct {
	// ID is assigned by Append: 1, 2, 3, ... never reused.
	ID uint64
	// Time is when the frame was captured.
	Time time.Time
	// Source names the camera or other source of the frame (1..255 bytes).
	Source string
	// Model is the sha256 of the model that computed Vector.
	Model ModelID
	// Label is the optional class label (0..255 bytes); see Queue.SetLabel.
	Label string
	// Vector is the embedding.
	Vector []float32
	// Thumbnail is a small JPEG of the frame (starts with FF D8), or nil.
	Thumbnail []byte
	// ThumbnailSize is the stored thumbnail's length (read side only).
	ThumbnailSize int
}

// validateName checks a source name or label.
func validateName(what, s string, allowEmpty bool) error {
	switch {
	case s == "" && !allowEmpty:
		return fmt.Errorf("%w: %s is empty", ErrInvalidEntry, what)
	case len(s) > MaxNameBytes:
		return fmt.Errorf("%w: %s is %d bytes, at most %d allowed", ErrInvalidEntry, what, len(s), MaxNameBytes)
	case !utf8.ValidString(s):
		return fmt.Errorf("%w: %s %q is not valid UTF-8", ErrInvalidEntry, what, s)
	}
	return nil
}

// validateThumbnail checks a thumbnail's size and JPEG start-of-image marker.
func validateThumbnail(b []byte, max int) error {
	if len(b) == 0 {
		return nil
	}
	if len(b) > max {
		return fmt.Errorf("%w: %d bytes, at most %d allowed", ErrThumbnailTooLarge, len(b), max)
	}
	if len(b) < 2 || b[0] != 0xFF || b[1] != 0xD8 {
		return fmt.Errorf("%w: thumbnail is not a JPEG (no FF D8 start marker)", ErrInvalidEntry)
	}
	return nil
}

// normalized returns v scaled to unit L2 norm (computed in float64), or an
// error for an empty, too long, zero or non-finite vector.
func normalized(v []float32, maxDim int) ([]float32, error) {
	if len(v) == 0 {
		return nil, fmt.Errorf("%w: empty vector", ErrInvalidEntry)
	}
	if len(v) > maxDim {
		return nil, fmt.Errorf("%w: vector dimension %d exceeds the maximum %d", ErrInvalidEntry, len(v), maxDim)
	}
	var ss float64
	for i, x := range v {
		if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
			return nil, fmt.Errorf("%w: vector element %d is %v", ErrInvalidEntry, i, x)
		}
		ss += float64(x) * float64(x)
	}
	if ss == 0 {
		return nil, fmt.Errorf("%w: vector is all zeros", ErrInvalidEntry)
	}
	inv := 1 / math.Sqrt(ss)
	out := make([]float32, len(v))
	for i, x := range v {
		out[i] = float32(float64(x) * inv)
	}
	return out, nil
}

package keyqueue

import (
	"fmt"
	"log/slog"
	"time"
)

// Defaults applied by Open to zero Options fields.
const (
	DefaultSegmentBytes      = 32 << 20
	DefaultSyncEvery         = 64
	DefaultSyncInterval      = time.Second
	DefaultMaxThumbnailBytes = 64 << 10
	DefaultMaxDim            = 8192
	DefaultCompactRatio      = 2.0

	// MinSegmentBytes is the smallest accepted Options.SegmentBytes.
	MinSegmentBytes = 4 << 10
	// MaxNameBytes bounds a source name or a label, in bytes of UTF-8.
	MaxNameBytes = 255

	// Hard limits of the record format, whatever the options say.
	maxDimLimit       = 1 << 16
	maxThumbnailLimit = 16 << 20
)

// Options configure a Queue. Only Capacity is required.
type Options struct {
	// Capacity is K, the number of entries kept; appending beyond it evicts
	// the oldest. Reopening with a smaller capacity evicts at once.
	Capacity int
	// SegmentBytes is the size at which a segment is sealed and a new one
	// started (default DefaultSegmentBytes, at least MinSegmentBytes).
	SegmentBytes int64
	// SyncEvery fsyncs after this many records (default DefaultSyncEvery);
	// 1 syncs every record; negative turns the count off.
	SyncEvery int
	// SyncInterval bounds how long a written record may stay unsynced
	// (default DefaultSyncInterval); negative turns the timer off.
	SyncInterval time.Duration
	// MaxThumbnailBytes bounds a thumbnail (default DefaultMaxThumbnailBytes).
	MaxThumbnailBytes int
	// MaxDim bounds a vector's dimension (default DefaultMaxDim).
	MaxDim int
	// CompactRatio triggers a compaction when the segment files exceed
	// CompactRatio × the bytes of the live entries + 2 × SegmentBytes
	// (default DefaultCompactRatio, at least 1.5); negative turns automatic
	// compaction off (Compact still works).
	CompactRatio float64
	// Strict makes Open fail with the *CorruptionError instead of repairing
	// a damaged segment; for checking tools. The folder is left unchanged.
	Strict bool
	// FS is the file system; nil means the operating system's (OSFS).
	FS FS
	// Logger receives recovery warnings and background sync errors; nil
	// discards them.
	Logger *slog.Logger
}

// withDefaults returns o with zero fields defaulted, or an error wrapping
// ErrInvalidOptions that names the bad field.
func (o Options) withDefaults() (Options, error) {
	if o.Capacity <= 0 {
		return o, fmt.Errorf("%w: Capacity must be positive, got %d", ErrInvalidOptions, o.Capacity)
	}
	if o.SegmentBytes == 0 {
		o.SegmentBytes = DefaultSegmentBytes
	}
	if o.SegmentBytes < MinSegmentBytes {
		return o, fmt.Errorf("%w: SegmentBytes must be at least %d, got %d", ErrInvalidOptions, MinSegmentBytes, o.SegmentBytes)
	}
	if o.SyncEvery == 0 {
		o.SyncEvery = DefaultSyncEvery
	}
	if o.SyncInterval == 0 {
		o.SyncInterval = DefaultSyncInterval
	}
	if o.MaxThumbnailBytes == 0 {
		o.MaxThumbnailBytes = DefaultMaxThumbnailBytes
	}
	if o.MaxThumbnailBytes < 0 || o.MaxThumbnailBytes > maxThumbnailLimit {
		return o, fmt.Errorf("%w: MaxThumbnailBytes must be in 1..%d, got %d", ErrInvalidOptions, maxThumbnailLimit, o.MaxThumbnailBytes)
	}
	if o.MaxDim == 0 {
		o.MaxDim = DefaultMaxDim
	}
	if o.MaxDim < 0 || o.MaxDim > maxDimLimit {
		return o, fmt.Errorf("%w: MaxDim must be in 1..%d, got %d", ErrInvalidOptions, maxDimLimit, o.MaxDim)
	}
	if o.CompactRatio == 0 {
		o.CompactRatio = DefaultCompactRatio
	}
	if o.CompactRatio > 0 && o.CompactRatio < 1.5 {
		return o, fmt.Errorf("%w: CompactRatio must be at least 1.5 (or negative to disable), got %g", ErrInvalidOptions, o.CompactRatio)
	}
	if o.FS == nil {
		o.FS = OSFS()
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o, nil
}

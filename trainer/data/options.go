package data

import (
	"log/slog"
	"runtime"
)

// DefaultMaxBadFraction is the fraction of unreadable image files a load
// tolerates when Options.MaxBadFraction is zero.
const DefaultMaxBadFraction = 0.01

// DefaultMemoryFraction is the fraction of the machine's memory (the smaller
// of MemTotal in /proc/meminfo and the cgroup limit) that a load may use when
// Options.MemoryBudget is zero.
const DefaultMemoryFraction = 0.5

// fallbackMemoryBudget is the budget used when the machine's memory cannot be
// read (not Linux, no /proc).
const fallbackMemoryBudget = 4 << 30

// Options controls Load and Inspect. The zero value is ready to use.
type Options struct {
	// Workers is the number of decoding goroutines; zero means
	// runtime.GOMAXPROCS(0).
	Workers int

	// Limit, when positive, loads a class-balanced subset of Limit images:
	// the images are spread evenly over the classes (a class with too few
	// images gives its share to the others) and chosen at random with Seed.
	// Images not chosen are never decoded.
	Limit int

	// Seed makes the Limit subset deterministic.
	Seed uint64

	// MaxBadFraction is the largest fraction of unreadable image files the
	// load tolerates before failing. Zero selects DefaultMaxBadFraction; a
	// negative value tolerates none.
	MaxBadFraction float64

	// MemoryBudget is the most memory, in bytes, the load may take (pixel
	// cache, index and decoding buffers). Zero selects DefaultMemoryFraction
	// of the machine's memory; a negative value disables the check.
	MemoryBudget int64

	// Logger receives the estimate, the summary and the one warning about
	// skipped files. Nil means slog.Default().
	Logger *slog.Logger

	// Progress, when not nil, is called with the number of images decoded so
	// far and the number to decode: at least every 0.5% of the work and once
	// at the end. It is called from one goroutine at a time and should return
	// quickly.
	Progress func(done, total int)
}

func (o Options) workers() int {
	if o.Workers > 0 {
		return o.Workers
	}
	return runtime.GOMAXPROCS(0)
}

func (o Options) logger() *slog.Logger {
	if o.Logger != nil {
		return o.Logger
	}
	return slog.Default()
}

func (o Options) maxBadFraction() float64 {
	switch {
	case o.MaxBadFraction < 0:
		return 0
	case o.MaxBadFraction == 0:
		return DefaultMaxBadFraction
	default:
		return o.MaxBadFraction
	}
}

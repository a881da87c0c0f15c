package bridge

import (
	"math/rand/v2"
	"time"
)

// Back-off defaults.
const (
	// DefaultBackoffInitial is the first delay before re-opening the port. A
	// USB board's device node comes back within about a second of a
	// re-plug.
	DefaultBackoffInitial = 250 * time.Millisecond
	// DefaultBackoffMax caps the delay.
	DefaultBackoffMax = 15 * time.Second
	// DefaultBackoffMultiplier is the growth per failed attempt.
	DefaultBackoffMultiplier = 2.0
	// DefaultBackoffJitter is the fraction of each delay taken off at random,
	// so that boxes that lost the same hub do not retry in step.
	DefaultBackoffJitter = 0.2
	// DefaultBackoffResetAfter is how long a session must stay up after its
	// handshake for the next failure to start from the initial delay again.
	DefaultBackoffResetAfter = 30 * time.Second
)

// Backoff configures the delays between attempts to open the port. Zero
// fields take the defaults.
type Backoff struct {
	// Initial is the first delay.
	Initial time.Duration
	// Max caps the delay.
	Max time.Duration
	// Multiplier grows the delay after each failure (> 1).
	Multiplier float64
	// Jitter in [0, 1) is the largest fraction taken off a delay at random;
	// negative means none.
	Jitter float64
	// ResetAfter is how long a healthy session (handshake done) must last
	// for the delay to start over from Initial.
	ResetAfter time.Duration
	// Seed seeds the jitter; 0 seeds from the clock.
	Seed uint64
}

func (b Backoff) withDefaults() Backoff {
	if b.Initial <= 0 {
		b.Initial = DefaultBackoffInitial
	}
	if b.Max <= 0 {
		b.Max = DefaultBackoffMax
	}
	if b.Max < b.Initial {
		b.Max = b.Initial
	}
	if b.Multiplier <= 1 {
		b.Multiplier = DefaultBackoffMultiplier
	}
	switch {
	case b.Jitter == 0:
		b.Jitter = DefaultBackoffJitter
	case b.Jitter < 0: // none; it stays negative so that defaults apply once
	case b.Jitter >= 1:
		b.Jitter = 0.99
	}
	if b.ResetAfter <= 0 {
		b.ResetAfter = DefaultBackoffResetAfter
	}
	if b.Seed == 0 {
		b.Seed = uint64(time.Now().UnixNano())
	}
	return b
}

// backoff hands out the delays of one Backoff configuration. It is for one
// goroutine.
type backoff struct {
	cfg  Backoff
	next time.Duration
	rng  *rand.Rand
}

func newBackoff(cfg Backoff) *backoff {
	cfg = cfg.withDefaults()
	return &backoff{cfg: cfg, next: cfg.Initial, rng: rand.New(rand.NewPCG(cfg.Seed, cfg.Seed^0x5DEECE66D))}
}

// Next returns the delay before the next attempt and grows the one after:
// the base delay doubles (by Multiplier) up to Max, and each returned delay
// is the base less a random fraction up to Jitter.
func (b *backoff) Next() time.Duration {
	d := b.next
	grown := time.Duration(float64(b.next) * b.cfg.Multiplier)
	if grown > b.cfg.Max || grown < b.next { // overflow guard
		grown = b.cfg.Max
	}
	b.next = grown
	if b.cfg.Jitter > 0 {
		d -= time.Duration(b.rng.Float64() * b.cfg.Jitter * float64(d))
	}
	return d
}

// Reset starts the delays over from Initial.
func (b *backoff) Reset() { b.next = b.cfg.Initial }

// Healthy reports whether a session that was ready for up has earned a
// reset.
func (b *backoff) Healthy(up time.Duration) bool { return up >= b.cfg.ResetAfter }

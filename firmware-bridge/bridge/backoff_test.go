package bridge

import (
	"testing"
	"time"
)

func TestBackoffSequence(t *testing.T) {
	ms := time.Millisecond
	tests := []struct {
		name string
		cfg  Backoff
		want []time.Duration // base delays before jitter
	}{
		{"doubles to the cap", Backoff{Initial: 100 * ms, Max: 1000 * ms, Jitter: -1}, []time.Duration{100 * ms, 200 * ms, 400 * ms, 800 * ms, 1000 * ms, 1000 * ms}},
		{"triples", Backoff{Initial: 10 * ms, Max: time.Second, Multiplier: 3, Jitter: -1}, []time.Duration{10 * ms, 30 * ms, 90 * ms, 270 * ms, 810 * ms, 1000 * ms}},
		{"cap below initial", Backoff{Initial: 500 * ms, Max: 100 * ms, Jitter: -1}, []time.Duration{500 * ms, 500 * ms}},
		{"defaults", Backoff{Jitter: -1}, []time.Duration{DefaultBackoffInitial, 2 * DefaultBackoffInitial, 4 * DefaultBackoffInitial}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := newBackoff(tt.cfg)
			for i, want := range tt.want {
				if got := b.Next(); got != want {
					t.Fatalf("delay %d = %v, want %v", i, got, want)
				}
			}
			b.Reset()
			if got := b.Next(); got != tt.want[0] {
				t.Fatalf("after Reset: %v, want %v", got, tt.want[0])
			}
		})
	}
}

func TestBackoffJitter(t *testing.T) {
	b := newBackoff(Backoff{Initial: time.Second, Max: time.Second, Jitter: 0.25, Seed: 3})
	lo, hi := time.Hour, time.Duration(0)
	for range 1000 {
		d := b.Next()
		lo, hi = min(lo, d), max(hi, d)
	}
	if lo < 750*time.Millisecond || hi > time.Second {
		t.Fatalf("delays in [%v, %v], want within [750ms, 1s]", lo, hi)
	}
	if hi-lo < 200*time.Millisecond {
		t.Fatalf("delays in [%v, %v]: too little jitter", lo, hi)
	}
}

func TestBackoffHealthy(t *testing.T) {
	b := newBackoff(Backoff{ResetAfter: time.Minute})
	for _, tt := range []struct {
		up   time.Duration
		want bool
	}{{0, false}, {59 * time.Second, false}, {time.Minute, true}, {time.Hour, true}} {
		if got := b.Healthy(tt.up); got != tt.want {
			t.Errorf("Healthy(%v) = %v, want %v", tt.up, got, tt.want)
		}
	}
}

package infer

import (
	"math"
	"slices"
	"sync"
	"time"
)

// latencyWindow is how many recent samples the percentiles are taken over.
const latencyWindow = 2048

// Latency summarises recent durations. The percentiles are exact
// (nearest rank) over the last latencyWindow samples, so they follow the
// current load rather than the whole uptime; Count and Max cover every
// sample since start.
type Latency struct {
	// Count is the number of samples since start.
	Count uint64 `json:"count"`
	// P50, P95 and P99 are percentiles over the recent window.
	P50 time.Duration `json:"p50_ns"`
	P95 time.Duration `json:"p95_ns"`
	P99 time.Duration `json:"p99_ns"`
	// Max is the largest sample since start.
	Max time.Duration `json:"max_ns"`
}

// window is a ring of the last latencyWindow durations (a sliding-window
// reservoir); safe for concurrent use.
type window struct {
	mu    sync.Mutex
	ring  []time.Duration
	next  int
	count uint64
	max   time.Duration
}

// add records one sample.
func (w *window) add(d time.Duration) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.ring) < latencyWindow {
		w.ring = append(w.ring, d)
	} else {
		w.ring[w.next] = d
		w.next = (w.next + 1) % latencyWindow
	}
	w.count++
	w.max = max(w.max, d)
}

// snapshot returns the summary.
func (w *window) snapshot() Latency {
	w.mu.Lock()
	s := slices.Clone(w.ring)
	l := Latency{Count: w.count, Max: w.max}
	w.mu.Unlock()
	if len(s) == 0 {
		return l
	}
	slices.Sort(s)
	l.P50, l.P95, l.P99 = percentile(s, 50), percentile(s, 95), percentile(s, 99)
	return l
}

// percentile is the nearest-rank percentile p of sorted, non-empty s.
func percentile(s []time.Duration, p float64) time.Duration {
	i := int(math.Ceil(p/100*float64(len(s)))) - 1
	return s[min(max(i, 0), len(s)-1)]
}

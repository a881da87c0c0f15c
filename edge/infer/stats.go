package infer

import (
	"sync"
	"sync/atomic"
)

// Stats is a snapshot of an Engine's counters, for telemetry and /metrics.
type Stats struct {
	// Model is the serving model's SHA-256 ("" when none).
	Model string `json:"model"`
	// Provider is the serving execution provider ("" when none).
	Provider Provider `json:"provider"`
	// Requests is the number of requests answered successfully.
	Requests uint64 `json:"requests"`
	// Images is the number of images run, in all batches.
	Images uint64 `json:"images"`
	// Batches is the number of batches run.
	Batches uint64 `json:"batches"`
	// BatchSizes[n] counts the batches of n images (index 0 unused).
	BatchSizes []uint64 `json:"batch_sizes"`
	// Rejected counts requests refused with ErrQueueFull: dropped frames.
	Rejected uint64 `json:"rejected"`
	// Failed counts requests that ended with another error (including
	// the caller's context ending).
	Failed uint64 `json:"failed"`
	// Queued is the number of images waiting now.
	Queued int `json:"queued"`
	// Batch is the inference time of one batch.
	Batch Latency `json:"batch_latency"`
	// Request is a request's time from Embed to its answer: queueing,
	// batching and inference.
	Request Latency `json:"request_latency"`
}

// MeanBatch is the mean number of images a batch held.
func (s Stats) MeanBatch() float64 {
	if s.Batches == 0 {
		return 0
	}
	return float64(s.Images) / float64(s.Batches)
}

// counters are an Engine's running totals.
type counters struct {
	requests, images, batches, rejected, failed atomic.Uint64
	sizesMu                                     sync.Mutex
	sizes                                       []uint64
	batch, request                              window
}

// batchDone records a batch of n images.
func (c *counters) batchDone(n int) {
	c.batches.Add(1)
	c.images.Add(uint64(n))
	c.sizesMu.Lock()
	for len(c.sizes) <= n {
		c.sizes = append(c.sizes, 0)
	}
	c.sizes[n]++
	c.sizesMu.Unlock()
}

// snapshot copies the counters into a Stats.
func (c *counters) snapshot() Stats {
	c.sizesMu.Lock()
	sizes := append([]uint64(nil), c.sizes...)
	c.sizesMu.Unlock()
	return Stats{
		Requests: c.requests.Load(), Images: c.images.Load(), Batches: c.batches.Load(),
		BatchSizes: sizes, Rejected: c.rejected.Load(), Failed: c.failed.Load(),
		Batch: c.batch.snapshot(), Request: c.request.snapshot(),
	}
}

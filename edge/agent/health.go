package agent

import (
	"github.com/mocoedge/mocoedge/edge/infer"
	"github.com/mocoedge/mocoedge/edge/source"
)

// Health is the daemon's state, as GET /healthz returns it.
type Health struct {
	// Status is "ok", or "no_model" when nothing can be embedded.
	Status string `json:"status"`
	// Version and DeviceID identify the daemon.
	Version  string `json:"version"`
	DeviceID string `json:"device_id"`
	// UptimeSeconds is the time since New.
	UptimeSeconds float64 `json:"uptime_s"`
	// Model is the serving model, with the provider that serves it and
	// the providers that failed before it; nil when none.
	Model *infer.ModelInfo `json:"model"`
	// Provider is the execution provider serving the model.
	Provider infer.Provider `json:"provider"`
	// Inference is the engine's counters and latencies.
	Inference infer.Stats `json:"inference"`
	// Queue is the key queue's size and storage.
	Queue QueueStats `json:"queue"`
	// Sources are the frame sources' counters.
	Sources []source.Stats `json:"sources"`
	// Pipeline is the pipeline's counters per source.
	Pipeline map[string]PipelineStats `json:"pipeline"`
	// Reembed is the latest re-embedding job after a model change.
	Reembed ReembedProgress `json:"reembed"`
}

// QueueStats is the key queue part of Health.
type QueueStats struct {
	Entries   int   `json:"entries"`
	Capacity  int   `json:"capacity"`
	Models    int   `json:"models"`
	DiskBytes int64 `json:"disk_bytes"`
}

// Health returns the daemon's current state.
func (a *Agent) Health() Health {
	h := Health{
		Status: "ok", Version: a.version, DeviceID: a.cfg.DeviceID,
		UptimeSeconds: a.sinceStart().Seconds(),
		Provider:      a.engine.Provider(),
		Inference:     a.engine.Stats(),
		Sources:       a.hub.Stats(),
		Pipeline:      a.counts.snapshot(),
		Reembed:       a.ReembedProgress(),
	}
	if m, ok := a.engine.Model(); ok {
		h.Model = &m
	} else {
		h.Status = "no_model"
	}
	qs := a.queue.Stats()
	h.Queue = QueueStats{Entries: qs.Len, Capacity: qs.Capacity, Models: qs.Models, DiskBytes: qs.DiskBytes}
	return h
}

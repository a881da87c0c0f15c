package mqtt

import "time"

// Status is the retained payload of PREFIX/DEVICE/status.
type Status struct {
	// State is "online", "offline" (the will message, set by the broker when
	// the connection drops without a clean disconnect) or "stopped" (a clean
	// Close).
	State string `json:"state"`
	// Version is the daemon's version.
	Version string `json:"version"`
	// Model is the name (or sha256) of the model being served.
	Model string `json:"model"`
	// Provider is the execution provider serving it: tensorrt, cuda or cpu.
	Provider string `json:"provider"`
	// Since is when the state began. The will message has none: the broker
	// sends it later, at a time the client cannot know.
	Since *time.Time `json:"since,omitempty"`
}

// Latency holds latency percentiles in milliseconds.
type Latency struct {
	// P50 is the median in milliseconds.
	P50 float64 `json:"p50"`
	// P95 is the 95th percentile in milliseconds.
	P95 float64 `json:"p95"`
	// P99 is the 99th percentile in milliseconds.
	P99 float64 `json:"p99"`
}

// Telemetry is the payload of PREFIX/DEVICE/telemetry, published whenever the
// daemon calls Client.Telemetry (every mqtt.telemetry_interval).
type Telemetry struct {
	// ID is the event id; the client sets it.
	ID string `json:"id"`
	// Time is when the report was made; the client sets it when zero.
	Time time.Time `json:"time"`
	// FPS is frames per second embedded, per source name.
	FPS map[string]float64 `json:"fps"`
	// Latency is the frame-to-embedding latency.
	Latency Latency `json:"latency_ms"`
	// QueueSize is the number of entries in the key queue.
	QueueSize int `json:"queue_size"`
	// DroppedFrames counts frames dropped by sources and the batcher.
	DroppedFrames uint64 `json:"dropped_frames"`
	// Provider is the execution provider serving the model.
	Provider string `json:"provider"`
	// Model is the model being served.
	Model string `json:"model,omitempty"`
	// ProbeVersion is the version of the linear probe (0: none trained).
	ProbeVersion int `json:"probe_version"`
	// ProbeAccuracy is the probe's held-out accuracy in [0, 1].
	ProbeAccuracy float64 `json:"probe_accuracy"`
	// UptimeS is the daemon's uptime in seconds.
	UptimeS float64 `json:"uptime_s"`
	// Counters holds free-form counters, e.g. the firmware bridge's.
	Counters map[string]any `json:"counters,omitempty"`
	// MQTT holds the client's own counters; the client fills it.
	MQTT *StatsReport `json:"mqtt,omitempty"`
}

// StatsReport is the part of Stats carried in telemetry.
type StatsReport struct {
	// Outbox is the number of reports waiting for the broker.
	Outbox int `json:"outbox"`
	// Delivered counts reports acknowledged by the broker since start.
	Delivered uint64 `json:"delivered"`
	// Dropped counts reports dropped (outbox full or too old), by kind.
	Dropped map[string]uint64 `json:"dropped,omitempty"`
	// Suppressed counts predictions not published because of
	// mqtt.predictions.min_interval or on_change.
	Suppressed uint64 `json:"suppressed"`
	// Reconnects counts connections lost after being established.
	Reconnects uint64 `json:"reconnects"`
}

// Score is one label with its calibrated score.
type Score struct {
	// Label is the class label.
	Label string `json:"label"`
	// Score is the calibrated probability in [0, 1].
	Score float64 `json:"score"`
}

// Prediction is the payload of PREFIX/DEVICE/events/prediction.
type Prediction struct {
	// ID is the event id; the client sets it.
	ID string `json:"id"`
	// Frame is the key queue id of the frame (0 when it was not kept).
	Frame uint64 `json:"frame"`
	// Time is when the frame was captured.
	Time time.Time `json:"time"`
	// Source is the frame's source name.
	Source string `json:"source"`
	// Label is the predicted label ("unknown" below probe.unknown_below).
	Label string `json:"label"`
	// Score is the predicted label's calibrated score.
	Score float64 `json:"score"`
	// Top holds the best labels, best first.
	Top []Score `json:"top"`
}

// RetrievalResult is one neighbour found by a query.
type RetrievalResult struct {
	// ID is the key queue entry id.
	ID uint64 `json:"id"`
	// Score is the cosine similarity to the query.
	Score float64 `json:"score"`
	// Time is when the entry's frame was captured.
	Time time.Time `json:"time"`
	// Source is the entry's source name.
	Source string `json:"source"`
	// Label is the entry's label, if any.
	Label string `json:"label,omitempty"`
}

// Retrieval is the payload of PREFIX/DEVICE/events/retrieval.
type Retrieval struct {
	// ID is the event id; the client sets it.
	ID string `json:"id"`
	// Time is when the query ran; the client sets it when zero.
	Time time.Time `json:"time"`
	// Request is the request id of the query command (or of the CLI/HTTP call).
	Request string `json:"request"`
	// Results holds the neighbours, best first.
	Results []RetrievalResult `json:"results"`
}

// Trigger is the payload of PREFIX/DEVICE/events/trigger: a firmware bridge
// trigger (or button) and what it captured.
type Trigger struct {
	// ID is the event id; the client sets it.
	ID string `json:"id"`
	// Time is when the daemon received the trigger; the client sets it when zero.
	Time time.Time `json:"time"`
	// Kind is what happened: "trigger", "button", ...
	Kind string `json:"kind"`
	// Input is the board's trigger source or button id.
	Input string `json:"input,omitempty"`
	// BoardTime is the board's clock at the trigger, in milliseconds.
	BoardTime uint64 `json:"board_time"`
	// Source is the frame source that was snapshotted.
	Source string `json:"source,omitempty"`
	// Entry is the key queue id of the captured frame (0: none).
	Entry uint64 `json:"entry,omitempty"`
	// Label is the label given (buttons) or predicted for the capture.
	Label string `json:"label,omitempty"`
	// Error says why nothing was captured.
	Error string `json:"error,omitempty"`
}

// Result is the payload of PREFIX/DEVICE/cmd/VERB/result. The handler's
// result map is merged into it at the top level.
type Result struct {
	// ID is the event id; the client sets it.
	ID string
	// Request echoes the command's request id ("" when it could not be read).
	Request string
	// OK tells whether the command succeeded.
	OK bool
	// Error says why it did not.
	Error string
	// Fields holds the handler's result fields.
	Fields map[string]any
}

package agent

import (
	"github.com/prometheus/client_golang/prometheus"
)

// Collector exposes the agent's state as Prometheus metrics, read at
// scrape time from the same counters as Health (nothing is counted twice).
type Collector struct {
	a *Agent

	up, uptime, model                         *prometheus.Desc
	frames, dropped, skipped, errors, restart *prometheus.Desc
	sourceUp, sourceFPS                       *prometheus.Desc
	embedded, bad                             *prometheus.Desc
	images, batches, requests, rejected       *prometheus.Desc
	batchLatency, requestLatency              *prometheus.Desc
	queueEntries, queueCapacity, queueBytes   *prometheus.Desc
	reembedDone, reembedTotal                 *prometheus.Desc
}

// NewCollector returns a Collector for a; register it with a
// prometheus.Registry.
func NewCollector(a *Agent) *Collector {
	d := func(name, help string, labels ...string) *prometheus.Desc {
		return prometheus.NewDesc("mocoedge_"+name, help, labels, nil)
	}
	return &Collector{
		a:              a,
		up:             d("model_up", "1 when a model is serving, 0 when none is."),
		uptime:         d("uptime_seconds", "Seconds since the daemon started."),
		model:          d("model_info", "The serving model (value 1).", "name", "sha256", "provider"),
		frames:         d("source_frames_total", "Frames a source produced.", "source"),
		dropped:        d("source_frames_dropped_total", "Frames dropped, by reason: mailbox (the pipeline was behind), busy (inference queue full), no_model.", "source", "reason"),
		skipped:        d("source_frames_skipped_total", "Frames skipped by a source's fps cap or sampling interval.", "source"),
		errors:         d("source_errors_total", "Errors a source met (unreadable files, failed connections).", "source"),
		restart:        d("source_restarts_total", "Restarts of a source's subprocess or connection.", "source"),
		sourceUp:       d("source_up", "1 while a source is running.", "source", "kind"),
		sourceFPS:      d("source_fps", "Frames per second a source produced recently.", "source"),
		embedded:       d("frames_embedded_total", "Frames embedded by the pipeline.", "source"),
		bad:            d("frames_bad_total", "Frames that could not be decoded or preprocessed.", "source"),
		images:         d("inference_images_total", "Images run through the model."),
		batches:        d("inference_batches_total", "Inference batches run."),
		requests:       d("inference_requests_total", "Inference requests answered."),
		rejected:       d("inference_rejected_total", "Inference requests refused because the queue was full."),
		batchLatency:   d("inference_batch_seconds", "Inference time of one batch over the recent window.", "quantile"),
		requestLatency: d("inference_request_seconds", "Time from submitting a frame to its embedding over the recent window.", "quantile"),
		queueEntries:   d("queue_entries", "Entries in the key queue."),
		queueCapacity:  d("queue_capacity", "Capacity of the key queue."),
		queueBytes:     d("queue_disk_bytes", "Bytes of the key queue's files."),
		reembedDone:    d("reembed_done", "Entries re-embedded by the latest re-embedding job."),
		reembedTotal:   d("reembed_total", "Entries the latest re-embedding job has to re-embed."),
	}
}

// Describe sends every metric's description.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.up, c.uptime, c.model, c.frames, c.dropped, c.skipped, c.errors,
		c.restart, c.sourceUp, c.sourceFPS, c.embedded, c.bad, c.images, c.batches, c.requests, c.rejected,
		c.batchLatency, c.requestLatency, c.queueEntries, c.queueCapacity, c.queueBytes, c.reembedDone, c.reembedTotal} {
		ch <- d
	}
}

// Collect reads the agent's state and sends the metrics.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	h := c.a.Health()
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	counter := func(d *prometheus.Desc, v uint64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), labels...)
	}
	gauge(c.uptime, h.UptimeSeconds)
	if h.Model != nil {
		gauge(c.up, 1)
		gauge(c.model, 1, h.Model.Name, h.Model.SHA256, string(h.Model.Provider))
	} else {
		gauge(c.up, 0)
	}
	for _, s := range h.Sources {
		counter(c.frames, s.Frames, s.Name)
		counter(c.dropped, s.Dropped, s.Name, "mailbox")
		counter(c.skipped, s.Skipped, s.Name)
		counter(c.errors, s.Errors, s.Name)
		counter(c.restart, s.Restarts, s.Name)
		up := 0.0
		if s.Running {
			up = 1
		}
		gauge(c.sourceUp, up, s.Name, s.Kind)
		gauge(c.sourceFPS, s.FPS, s.Name)
	}
	for name, p := range h.Pipeline {
		counter(c.embedded, p.Embedded, name)
		counter(c.bad, p.BadFrames, name)
		counter(c.dropped, p.Busy, name, "busy")
		counter(c.dropped, p.NoModel, name, "no_model")
	}
	in := h.Inference
	counter(c.images, in.Images)
	counter(c.batches, in.Batches)
	counter(c.requests, in.Requests)
	counter(c.rejected, in.Rejected)
	for _, q := range []struct {
		name     string
		batch, r float64
	}{
		{"0.5", in.Batch.P50.Seconds(), in.Request.P50.Seconds()},
		{"0.95", in.Batch.P95.Seconds(), in.Request.P95.Seconds()},
		{"0.99", in.Batch.P99.Seconds(), in.Request.P99.Seconds()},
	} {
		gauge(c.batchLatency, q.batch, q.name)
		gauge(c.requestLatency, q.r, q.name)
	}
	gauge(c.queueEntries, float64(h.Queue.Entries))
	gauge(c.queueCapacity, float64(h.Queue.Capacity))
	gauge(c.queueBytes, float64(h.Queue.DiskBytes))
	gauge(c.reembedDone, float64(h.Reembed.Done))
	gauge(c.reembedTotal, float64(h.Reembed.Total))
}

// Package mqttlink connects the edge agent to MQTT: commands received on
// cmd/<verb> become calls on the agent (label, train, query, reload,
// snapshot, config), and what the agent does becomes reports: a prediction
// event per predicted frame (rate-limited by the client), retrieval events
// for queries, and telemetry every mqtt.telemetry_interval.
//
// The Link is built before the agent and the client (each needs the other:
// the agent reports to the Link as an Observer, the client hands commands to
// it as its Handler) and joined to both with Attach.
package mqttlink

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mocoedge/mocoedge/edge/agent"
	"github.com/mocoedge/mocoedge/edge/mqtt"
	"github.com/mocoedge/mocoedge/edge/retrieval"
)

// Link joins one agent and one MQTT client.
type Link struct {
	log      *slog.Logger
	interval atomic.Int64 // telemetry interval in nanoseconds

	mu    sync.Mutex
	a     *agent.Agent
	c     *mqtt.Client
	ready chan struct{}
	once  sync.Once
	tick  chan struct{} // wakes the telemetry loop after an interval change

	lastFrames map[string]uint64
	lastTime   time.Time
	counters   []func() map[string]any // extra telemetry counters
}

// New returns a Link that sends telemetry every interval once attached.
func New(log *slog.Logger, interval time.Duration) *Link {
	l := &Link{log: log, ready: make(chan struct{}), tick: make(chan struct{}, 1), lastFrames: map[string]uint64{}}
	l.interval.Store(int64(interval))
	return l
}

// Attach joins the link to the agent and the client; reports and commands
// before it are dropped (commands answered ok:false).
func (l *Link) Attach(a *agent.Agent, c *mqtt.Client) {
	l.mu.Lock()
	l.a, l.c = a, c
	l.mu.Unlock()
	l.once.Do(func() { close(l.ready) })
}

// AddCounters adds f's counters (the firmware bridge's, say) to every
// telemetry report's counters; f is called once per report and must be
// safe for concurrent use.
func (l *Link) AddCounters(f func() map[string]any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.counters = append(l.counters, f)
}

// parts returns the attached agent and client (nil before Attach).
func (l *Link) parts() (*agent.Agent, *mqtt.Client) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.a, l.c
}

// Embedded publishes the frame's prediction, if it has one.
func (l *Link) Embedded(ctx context.Context, e agent.Embedded) {
	_, c := l.parts()
	if c == nil || e.Prediction == nil {
		return
	}
	p := mqtt.Prediction{Frame: e.ID, Time: e.Time, Source: e.Source, Label: e.Prediction.Label, Score: e.Prediction.Score}
	for _, s := range e.Prediction.Top {
		p.Top = append(p.Top, mqtt.Score{Label: s.Label, Score: s.Score})
	}
	c.Prediction(p)
}

// HandleCommand runs one MQTT command on the agent.
func (l *Link) HandleCommand(ctx context.Context, cmd mqtt.Command) (map[string]any, error) {
	a, c := l.parts()
	if a == nil {
		return nil, fmt.Errorf("the daemon is still starting")
	}
	switch {
	case cmd.Label != nil:
		var id uint64
		if cmd.Label.ID != nil {
			id = *cmd.Label.ID
		}
		got, err := a.ApplyLabel(id, cmd.Label.Source, cmd.Label.Label)
		if err != nil {
			return nil, err
		}
		return map[string]any{"entry": got, "label": cmd.Label.Label}, nil
	case cmd.Train != nil:
		p, err := a.TrainProbe(ctx)
		if err != nil {
			return nil, err
		}
		return map[string]any{"version": p.Version, "classes": p.Classes, "counts": p.Counts,
			"accuracy": p.Accuracy, "accuracy_method": p.AccuracyMethod}, nil
	case cmd.Query != nil:
		return l.query(ctx, a, c, cmd.Request, cmd.Query)
	case cmd.Reload != nil:
		m, err := a.Reload(ctx, cmd.Reload.Path)
		if err != nil {
			return nil, err
		}
		return map[string]any{"model": m.SHA256, "name": m.Name, "provider": string(m.Provider)}, nil
	case cmd.Snapshot != nil:
		e, err := a.Snapshot(ctx, cmd.Snapshot.Source)
		if err != nil {
			return nil, err
		}
		return map[string]any{"entry": e.ID, "source": e.Source, "time": e.Time}, nil
	case cmd.Config != nil:
		return l.config(a, c, cmd.Config.Set)
	}
	return nil, fmt.Errorf("verb %q is not handled", cmd.Verb)
}

// query runs a retrieval command; the neighbours go to events/retrieval
// and their count to the command result.
func (l *Link) query(ctx context.Context, a *agent.Agent, c *mqtt.Client, request string, q *mqtt.QueryCommand) (map[string]any, error) {
	r := agent.QueryRequest{Image: q.Image, K: q.K}
	if q.ID != nil {
		r.ID = *q.ID
	}
	if q.Source != "" {
		r.Filter.Sources = []string{q.Source}
	}
	if q.Label != "" {
		r.Filter.Labels = []string{q.Label}
	}
	if q.Since != nil {
		r.Filter.From = *q.Since
	}
	if q.Until != nil {
		r.Filter.To = *q.Until
	}
	res, err := a.Query(ctx, r)
	if err != nil {
		return nil, err
	}
	c.Retrieval(Retrieval(request, res.Results))
	return map[string]any{"results": len(res.Results), "model": res.Model}, nil
}

// Retrieval turns search results into an events/retrieval payload.
func Retrieval(request string, results []retrieval.Result) mqtt.Retrieval {
	out := mqtt.Retrieval{Request: request, Results: []mqtt.RetrievalResult{}}
	for _, r := range results {
		out.Results = append(out.Results, mqtt.RetrievalResult{ID: r.ID, Score: float64(r.Score), Time: r.Time, Source: r.Source, Label: r.Label})
	}
	return out
}

// config applies a config command's settings, all or (on the first bad
// one) those before it, and reports what was set.
func (l *Link) config(a *agent.Agent, c *mqtt.Client, set map[string]any) (map[string]any, error) {
	applied := map[string]any{}
	for key, v := range set {
		var err error
		switch {
		case key == mqtt.ConfigProbeUnknownBelow:
			err = a.SetUnknownBelow(v.(float64))
		case key == mqtt.ConfigRetrievalK:
			err = a.SetRetrievalK(v.(int))
		case key == mqtt.ConfigTelemetryInterval:
			l.interval.Store(int64(v.(time.Duration)))
			select {
			case l.tick <- struct{}{}:
			default:
			}
		case key == mqtt.ConfigPredictionsMinInterval || key == mqtt.ConfigPredictionsOnChange:
			minInterval, onChange := c.PredictionPolicy()
			if d, ok := v.(time.Duration); ok {
				minInterval = d
			}
			if b, ok := v.(bool); ok {
				onChange = b
			}
			c.SetPredictionPolicy(minInterval, onChange)
		case strings.HasPrefix(key, mqtt.ConfigSourceFPSPrefix):
			name := strings.TrimSuffix(strings.TrimPrefix(key, mqtt.ConfigSourceFPSPrefix), ".fps")
			err = a.SetSourceFPS(name, v.(float64))
		default:
			err = fmt.Errorf("setting %s cannot change at run time", key)
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w (applied before it: %v)", key, err, applied)
		}
		applied[key] = v
		l.log.Info("setting changed by an MQTT config command", "key", key, "value", v)
	}
	return map[string]any{"applied": applied}, nil
}

// Run publishes the status and, every telemetry interval, telemetry, until
// ctx ends.
func (l *Link) Run(ctx context.Context) error {
	select {
	case <-l.ready:
	case <-ctx.Done():
		return nil
	}
	for {
		t := time.NewTimer(time.Duration(l.interval.Load()))
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-l.tick:
			t.Stop()
			continue
		case <-t.C:
		}
		a, c := l.parts()
		c.Telemetry(l.telemetry(a))
	}
}

// telemetry builds one telemetry report: frames per second embedded per
// source since the last report, latency percentiles, queue, drops, probe.
func (l *Link) telemetry(a *agent.Agent) mqtt.Telemetry {
	h := a.Health()
	p := a.ProbeInfo()
	now := time.Now()
	t := mqtt.Telemetry{
		FPS:       map[string]float64{},
		QueueSize: h.Queue.Entries, Provider: string(h.Provider),
		ProbeVersion: p.Version, ProbeAccuracy: p.Accuracy, UptimeS: h.UptimeSeconds,
		Latency: mqtt.Latency{
			P50: ms(h.Inference.Request.P50), P95: ms(h.Inference.Request.P95), P99: ms(h.Inference.Request.P99),
		},
		Counters: map[string]any{},
	}
	if h.Model != nil {
		t.Model = h.Model.SHA256
	}
	l.mu.Lock()
	dt := now.Sub(l.lastTime).Seconds()
	for name, ps := range h.Pipeline {
		if !l.lastTime.IsZero() && dt > 0 {
			t.FPS[name] = float64(ps.Embedded-l.lastFrames[name]) / dt
		}
		l.lastFrames[name] = ps.Embedded
		t.DroppedFrames += ps.Busy + ps.NoModel
		t.Counters["bad_frames."+name] = ps.BadFrames
	}
	l.lastTime = now
	extra := append([]func() map[string]any(nil), l.counters...)
	l.mu.Unlock()
	for _, f := range extra {
		maps.Copy(t.Counters, f())
	}
	for _, s := range h.Sources {
		t.DroppedFrames += s.Dropped
		if _, ok := t.FPS[s.Name]; !ok {
			t.FPS[s.Name] = 0
		}
		t.Counters["restarts."+s.Name] = s.Restarts
	}
	return t
}

// ms converts a duration to milliseconds.
func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

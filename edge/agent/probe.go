package agent

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mocoedge/mocoedge/edge/keyqueue"
	"github.com/mocoedge/mocoedge/edge/probe"
)

// ProbeInfo describes the serving linear probe, for `edge probe`, the HTTP
// API and telemetry.
type ProbeInfo struct {
	// Version is the probe's version (0: none trained yet).
	Version int `json:"version"`
	// Model is the SHA-256 of the encoder whose features it reads.
	Model string `json:"model,omitempty"`
	// Serving is true when the probe matches the serving model, so frames
	// get predictions.
	Serving bool `json:"serving"`
	// Classes and Counts are the labels it knows and how many examples
	// each had.
	Classes []string `json:"classes"`
	Counts  []int    `json:"counts"`
	// Accuracy is the held-out top-1 accuracy, estimated as
	// AccuracyMethod says on HeldOut labels.
	Accuracy       float64 `json:"accuracy"`
	AccuracyMethod string  `json:"accuracy_method,omitempty"`
	HeldOut        int     `json:"held_out"`
	// Temperature is the calibration temperature of its scores.
	Temperature float64 `json:"temperature"`
	// Unknown is the score below which a prediction is "unknown".
	Unknown float64 `json:"unknown_below"`
	// Trained is when it was trained; TrainSeconds how long it took.
	Trained      time.Time `json:"trained,omitzero"`
	TrainSeconds float64   `json:"train_seconds,omitempty"`
	// NewLabels counts labels applied since it was trained.
	NewLabels int64 `json:"new_labels"`
	// Training is true while a training runs.
	Training bool `json:"training"`
	// LastError is why the latest training failed, if it did.
	LastError string `json:"last_error,omitempty"`
}

// probeState holds the serving probe, its store and its training.
type probeState struct {
	store *probe.Store

	cur       atomic.Pointer[probe.Model]
	unknown   atomic.Uint64 // math.Float64bits of the unknown threshold
	newLabels atomic.Int64
	training  atomic.Bool
	trainMu   sync.Mutex // one training at a time

	mu        sync.Mutex
	lastErr   string
	trainTook time.Duration
}

// openProbe opens the probe store in data_dir/probe and loads the newest
// valid probe, if any.
func (a *Agent) openProbe() error {
	dir := filepath.Join(a.cfg.DataDir, "probe")
	s, err := probe.OpenStore(dir, probe.StoreOptions{GEMM: a.gemm, Logger: a.log.With("component", "probe")})
	if err != nil {
		return fmt.Errorf("open probe store %s: %w", dir, err)
	}
	a.probe.store = s
	a.SetUnknownBelow(a.cfg.Probe.Unknown)
	m, err := s.Latest()
	switch {
	case errors.Is(err, probe.ErrNoProbe):
		return nil
	case err != nil:
		a.log.Warn("no usable stored probe; train one with `edge train` or a train command", "dir", dir, "err", err)
		return nil
	}
	a.probe.cur.Store(m)
	a.log.Info("probe loaded", "version", m.Version, "classes", len(m.Classes), "accuracy", m.Accuracy, "model", m.Model)
	return nil
}

// TrainProbe trains the probe now on every labelled key queue entry of the
// serving model, stores it as a new version and starts predicting with it.
// Trainings are serialised. It fails with an error wrapping
// probe.ErrTooFewLabels when classes lack labels.
func (a *Agent) TrainProbe(ctx context.Context) (ProbeInfo, error) {
	a.probe.trainMu.Lock()
	defer a.probe.trainMu.Unlock()
	a.probe.training.Store(true)
	defer a.probe.training.Store(false)
	start := time.Now()
	m, err := a.trainProbe(ctx)
	a.probe.mu.Lock()
	if err != nil {
		a.probe.lastErr = err.Error()
	} else {
		a.probe.lastErr = ""
		a.probe.trainTook = time.Since(start)
	}
	a.probe.mu.Unlock()
	if err != nil {
		return a.ProbeInfo(), err
	}
	a.log.Info("probe trained", "version", m.Version, "classes", m.Classes, "counts", m.Counts,
		"accuracy", m.Accuracy, "method", m.AccuracyMethod, "took", time.Since(start).Round(time.Millisecond))
	return a.ProbeInfo(), nil
}

func (a *Agent) trainProbe(ctx context.Context) (*probe.Model, error) {
	info, ok := a.engine.Model()
	if !ok {
		return nil, ErrNoModel
	}
	mid, err := keyqueue.ParseModelID(info.SHA256)
	if err != nil {
		return nil, err
	}
	entries, err := a.queue.Snapshot(ctx)
	if err != nil {
		return nil, fmt.Errorf("read key queue: %w", err)
	}
	var examples []probe.Example
	for _, e := range entries {
		if e.Label != "" && e.Model == mid {
			examples = append(examples, probe.Example{Features: e.Vector, Label: e.Label})
		}
	}
	labels := a.probe.newLabels.Load()
	m, err := probe.Train(ctx, examples, probe.Options{
		L2: a.cfg.Probe.L2, Unknown: a.unknownBelow(), Folds: a.cfg.Probe.Folds,
		MinPerClass: a.cfg.Probe.MinPerClass, MaxEpochs: a.cfg.Probe.MaxEpochs, GEMM: a.gemm,
	})
	if err != nil {
		return nil, fmt.Errorf("train probe on %d labelled entries: %w", len(examples), err)
	}
	m.Model = info.SHA256
	if _, err := a.probe.store.Save(m); err != nil {
		return nil, fmt.Errorf("store probe: %w", err)
	}
	a.probe.cur.Store(m)
	a.probe.newLabels.Add(-labels)
	return m, nil
}

// ProbeInfo describes the serving probe.
func (a *Agent) ProbeInfo() ProbeInfo {
	p := ProbeInfo{Unknown: a.unknownBelow(), NewLabels: a.probe.newLabels.Load(), Training: a.probe.training.Load(),
		Classes: []string{}, Counts: []int{}}
	a.probe.mu.Lock()
	p.LastError = a.probe.lastErr
	p.TrainSeconds = a.probe.trainTook.Seconds()
	a.probe.mu.Unlock()
	m := a.probe.cur.Load()
	if m == nil {
		return p
	}
	p.Version, p.Model, p.Classes, p.Counts = m.Version, m.Model, m.Classes, m.Counts
	p.Accuracy, p.AccuracyMethod, p.HeldOut, p.Temperature, p.Trained = m.Accuracy, m.AccuracyMethod, m.HeldOut, m.Temperature, m.Trained
	if info, ok := a.engine.Model(); ok {
		p.Serving = info.SHA256 == m.Model
	}
	return p
}

// predict runs the probe on a frame's features when a probe for the
// frame's model serves.
func (a *Agent) predict(e *Embedded) {
	m := a.probe.cur.Load()
	if m == nil || m.Model != e.Model {
		return
	}
	p, err := m.Predict(e.Features)
	if err != nil {
		return
	}
	if t := a.unknownBelow(); p.Score < t {
		p.Label = probe.Unknown
	}
	e.Prediction, e.ProbeVersion = &p, m.Version
}

// labelApplied counts a new label and, after probe.auto_train_after of
// them, trains the probe in the background.
func (a *Agent) labelApplied() {
	n := a.probe.newLabels.Add(1)
	every := int64(a.cfg.Probe.AutoTrain)
	if every <= 0 || n < every || a.probe.training.Load() {
		return
	}
	go func() {
		if _, err := a.TrainProbe(context.Background()); err != nil {
			a.log.Info("automatic probe training skipped", "new_labels", n, "err", err)
		}
	}()
}

// Prediction is the probe's answer for one image.
type Prediction struct {
	probe.Prediction
	// ProbeVersion is the version of the probe that answered.
	ProbeVersion int `json:"probe_version"`
	// Model is the SHA-256 of the encoder that embedded the image.
	Model string `json:"model"`
}

// Predict embeds an image (JPEG or PNG bytes) and names it with the
// serving probe. It fails with ErrNotFound when no probe for the serving
// model has been trained, and as EmbedImage does.
func (a *Agent) Predict(ctx context.Context, image []byte) (Prediction, error) {
	features, model, err := a.EmbedImage(ctx, image)
	if err != nil {
		return Prediction{}, err
	}
	e := Embedded{Model: model, Features: features}
	a.predict(&e)
	if e.Prediction == nil {
		return Prediction{}, fmt.Errorf("%w: no probe trained for the serving model yet (label frames, then train)", ErrNotFound)
	}
	return Prediction{Prediction: *e.Prediction, ProbeVersion: e.ProbeVersion, Model: model}, nil
}

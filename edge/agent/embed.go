package agent

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/mocoedge/mocoedge/edge/infer"
	"github.com/mocoedge/mocoedge/edge/probe"
	"github.com/mocoedge/mocoedge/edge/source"
)

// Embedded is one frame after inference: what observers receive.
type Embedded struct {
	// Source, Seq, Time and Path describe the frame (see source.Frame).
	Source string
	Seq    uint64
	Time   time.Time
	Path   string
	// Model is the SHA-256 of the model that embedded the frame.
	Model string
	// Features is the model's features output for the frame (not
	// normalised): what the key queue stores and the probe reads.
	Features []float32
	// Thumbnail is a small JPEG of what the model saw, or nil.
	Thumbnail []byte
	// ID is the frame's key queue id, 0 when it was not appended.
	ID uint64
	// Prediction is the probe's answer for the frame, nil when no probe
	// for the frame's model serves; ProbeVersion is that probe's version.
	Prediction   *probe.Prediction
	ProbeVersion int
}

// Observer is told about every frame the pipeline embedded. Embedded runs
// on the pipeline's goroutines: it must return quickly and must not keep
// e.Features beyond the call without copying it.
type Observer interface {
	Embedded(ctx context.Context, e Embedded)
}

// embedFrame decodes and preprocesses f for the serving model, runs it
// through the engine and returns its features; with thumb it also makes
// the thumbnail. A model swap between preprocessing and inference is
// retried on the new model.
func (a *Agent) embedFrame(ctx context.Context, f source.Frame, thumb bool) (Embedded, error) {
	e := Embedded{Source: f.Source, Seq: f.Seq, Time: f.Time, Path: f.Path}
	if e.Time.IsZero() {
		e.Time = time.Now()
	}
	for attempt := 0; ; attempt++ {
		m, ok := a.engine.Model()
		if !ok {
			return e, ErrNoModel
		}
		p, err := a.preps.get(m.Input)
		if err != nil {
			return e, err
		}
		px, put := a.preps.buffer(p.Len())
		select {
		case a.cpu <- struct{}{}:
		case <-ctx.Done():
			put()
			return e, ctx.Err()
		}
		if f.Image != nil {
			err = p.Bytes(px, f.Image)
		} else {
			err = p.RGB(px, f.RGB, f.Width, f.Height)
		}
		if err == nil && thumb && a.cfg.Queue.ThumbnailSize > 0 {
			e.Thumbnail, err = MakeThumbnail(f.Image, px, m.Input, a.cfg.Queue.ThumbnailSize, a.cfg.Queue.ThumbnailQuality)
		}
		<-a.cpu
		if err != nil {
			put()
			return e, fmt.Errorf("%w: %w", ErrBadImage, err)
		}
		res, err := a.engine.Embed(ctx, infer.Batch{Pixels: px, N: 1, Model: m.SHA256})
		put()
		switch {
		case errors.Is(err, infer.ErrModelChanged) && attempt < 3:
			continue
		case errors.Is(err, infer.ErrQueueFull):
			return e, fmt.Errorf("%w: %w", ErrBusy, err)
		case errors.Is(err, infer.ErrModelNotLoaded):
			return e, ErrNoModel
		case err != nil:
			return e, err
		}
		features, _ := res.Row(0)
		e.Features = features
		e.Model = res.Model
		return e, nil
	}
}

// EmbedImage embeds encoded image bytes (JPEG or PNG) with the serving
// model and returns its features and the model's SHA-256. Errors wrap
// ErrBadImage, ErrBusy or ErrNoModel.
func (a *Agent) EmbedImage(ctx context.Context, data []byte) ([]float32, string, error) {
	e, err := a.embedFrame(ctx, source.Frame{Source: "upload", Image: data}, false)
	if err != nil {
		return nil, "", err
	}
	return e.Features, e.Model, nil
}

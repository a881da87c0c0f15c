package board

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/mocoedge/mocoedge/edge/agent"
	"github.com/mocoedge/mocoedge/edge/mqtt"
	"github.com/mocoedge/mocoedge/edge/source"
	"github.com/mocoedge/mocoedge/firmware-bridge/bridge"
	"github.com/mocoedge/mocoedge/firmware-bridge/protocol"
)

// HandleEvent acts on one event of the board: a trigger captures a frame,
// a button labels or trains, a status wakes the LED loop. The bridge calls
// it from one goroutine, in the board's order, so a button press always
// sees the capture of the trigger before it.
func (b *Board) HandleEvent(ctx context.Context, e bridge.Event) {
	switch e := e.(type) {
	case bridge.Trigger:
		b.trigger(ctx, e)
	case bridge.Button:
		b.button(ctx, e)
	case bridge.Status:
		if e.State == bridge.StateReady {
			b.wakeLEDs()
		}
	case bridge.Log:
		b.log.Debug("firmware log", "device", e.Device, "level", e.Level, "text", e.Text)
	}
}

// HandleFrame keeps a camera frame from the board as the latest one and
// pushes it into the board's source, if one is configured.
func (b *Board) HandleFrame(ctx context.Context, f bridge.Frame) {
	b.count.frames.Add(1)
	b.mu.Lock()
	b.latest = f
	a := b.a
	b.mu.Unlock()
	if b.push == "" || a == nil {
		return
	}
	if err := a.Sources().Push(b.push, source.Frame{Time: f.At, Image: f.JPEG}); err != nil {
		if n := b.count.pushFailures.Add(1); n == 1 || n%100 == 0 {
			b.log.Warn("board frame not pushed", "source", b.push, "failures", n, "err", err)
		}
		return
	}
	b.count.pushed.Add(1)
}

// trigger captures a frame for a TRIGGER and reports it.
func (b *Board) trigger(ctx context.Context, e bridge.Trigger) {
	b.count.triggers.Add(1)
	a, pub := b.parts()
	r := mqtt.Trigger{Time: e.At, Kind: KindTrigger, Input: strconv.Itoa(int(e.Source)), BoardTime: uint64(e.BoardTimeMS)}
	emb, src, err := b.capture(ctx, a)
	r.Source = src
	b.mu.Lock()
	if err != nil {
		b.lastEntry = 0 // a button must not label an older capture
	} else {
		b.lastEntry = emb.ID
	}
	b.mu.Unlock()
	if err != nil {
		b.count.captureFailures.Add(1)
		r.Error = err.Error()
		b.log.Warn("trigger captured nothing", "input", e.Source, "source", src, "err", err)
	} else {
		b.count.captures.Add(1)
		r.Entry = emb.ID
		r.Label = b.predicted(emb)
		b.log.Debug("trigger captured", "input", e.Source, "source", src, "entry", emb.ID, "label", r.Label)
	}
	pub.Trigger(r)
}

// capture snapshots bridge.snapshot's source, or stores the board's latest
// camera frame, and returns the stored frame and its source.
func (b *Board) capture(ctx context.Context, a Agent) (agent.Embedded, string, error) {
	if err := ctx.Err(); err != nil {
		return agent.Embedded{}, b.store, fmt.Errorf("stopping: %w", err)
	}
	if b.snapshot != "" {
		e, err := a.Snapshot(ctx, b.snapshot)
		if err != nil {
			return e, b.snapshot, fmt.Errorf("snapshot %s: %w", b.snapshot, err)
		}
		return e, b.snapshot, nil
	}
	b.mu.Lock()
	f := b.latest
	b.mu.Unlock()
	if f.JPEG == nil {
		return agent.Embedded{}, b.store, ErrNoFrame
	}
	if e, ok := b.pipelinedEntry(ctx, f); ok {
		return e, b.store, nil
	}
	e, err := a.Store(ctx, b.store, f.JPEG, f.At)
	if err != nil {
		return e, b.store, fmt.Errorf("store board frame %d: %w", f.ID, err)
	}
	return e, b.store, nil
}

// pipelinedEntry returns the queue entry the pipeline made of board frame
// f, when the pipeline stores board frames; it gives the pipeline a moment
// (the frame was pushed just before the trigger) before giving up.
func (b *Board) pipelinedEntry(ctx context.Context, f bridge.Frame) (agent.Embedded, bool) {
	if !b.pipelineStores {
		return agent.Embedded{}, false
	}
	deadline := time.Now().Add(250 * time.Millisecond)
	for {
		b.mu.Lock()
		e := b.pipelined
		b.mu.Unlock()
		if e.ID != 0 && e.Time.Equal(f.At) {
			return e, true
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return agent.Embedded{}, false
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// predicted is the probe's label for a captured frame: its own prediction,
// or (a snapshot is not predicted again) the one the pipeline made for the
// same frame.
func (b *Board) predicted(e agent.Embedded) string {
	if e.Prediction != nil {
		return e.Prediction.Label
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if p, ok := b.seen[e.Source]; ok && p.seq == e.Seq && e.Seq != 0 {
		return p.label
	}
	return ""
}

// button runs the action of a press: a short press of a mapped button
// labels the last trigger's entry, a long press of any button trains.
func (b *Board) button(ctx context.Context, e bridge.Button) {
	b.count.buttons.Add(1)
	act, ok := b.buttons.ButtonAction(e.ID, e.Press)
	if !ok && e.Press == protocol.PressLong {
		act, ok = bridge.Action{Kind: bridge.ActionTrain}, true
	}
	if !ok {
		b.count.ignored.Add(1)
		b.log.Debug("button press maps to nothing", "button", e.ID, "press", e.Press)
		return
	}
	a, pub := b.parts()
	r := mqtt.Trigger{Time: e.At, Kind: KindButton, Input: strconv.Itoa(int(e.ID)), Label: act.Label}
	switch act.Kind {
	case bridge.ActionLabel:
		b.mu.Lock()
		id := b.lastEntry
		b.mu.Unlock()
		r.Entry = id
		err := ErrNoTrigger
		if id != 0 {
			_, err = a.ApplyLabel(id, "", act.Label)
		}
		if err != nil {
			b.count.labelFailures.Add(1)
			r.Error = fmt.Errorf("label entry %d %q: %w", id, act.Label, err).Error()
			b.log.Warn("button label failed", "button", e.ID, "entry", id, "label", act.Label, "err", err)
		} else {
			b.count.labels.Add(1)
			b.log.Info("labelled by a button", "button", e.ID, "entry", id, "label", act.Label)
		}
		pub.Trigger(r)
	case bridge.ActionTrain:
		r.Kind = KindTrain
		b.train(ctx, a, pub, r)
	}
}

// train trains the probe in the background (one training at a time) and
// reports the outcome.
func (b *Board) train(ctx context.Context, a Agent, pub Publisher, r mqtt.Trigger) {
	if !b.training.CompareAndSwap(false, true) {
		b.count.trainFailures.Add(1)
		r.Error = ErrTraining.Error()
		pub.Trigger(r)
		return
	}
	b.workers.Go(func() {
		defer b.training.Store(false)
		info, err := a.TrainProbe(ctx)
		if err != nil {
			b.count.trainFailures.Add(1)
			r.Error = fmt.Sprintf("train the probe: %v", err)
			b.log.Warn("training from a button failed", "button", r.Input, "err", err)
		} else {
			b.count.trainings.Add(1)
			b.log.Info("probe trained from a button", "button", r.Input, "version", info.Version, "accuracy", info.Accuracy)
		}
		pub.Trigger(r)
	})
}

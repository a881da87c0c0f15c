package board

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"time"

	"github.com/mocoedge/mocoedge/edge/agent"
	"github.com/mocoedge/mocoedge/firmware-bridge/bridge"
	"github.com/mocoedge/mocoedge/firmware-bridge/protocol"
)

// ledPoll is how often the LED loop checks, without a new prediction,
// whether the board rebooted or reconnected (its LEDs then start off) and
// retries a command that failed.
const ledPoll = 250 * time.Millisecond

// After a failed LED command (a NACKed LED id, say) the loop waits
// ledRetryMin before it tries again, doubling up to ledRetryMax, so that a
// fast camera does not flood the line with commands the board refuses.
const (
	ledRetryMin = time.Second
	ledRetryMax = 30 * time.Second
)

// ledMapping turns bridge.leds (label -> LED id) into prediction rules:
// each label lights its LED and turns the other mapped LEDs off; any other
// label ("unknown" included) turns them all off.
func ledMapping(leds map[string]int) (*bridge.Mapping, error) {
	var ids []int
	labels := make([]string, 0, len(leds))
	for label, id := range leds {
		if id < 0 || id > 255 {
			return nil, fmt.Errorf("%w: bridge.leds.%s: LED id %d is not from 0 to 255", bridge.ErrInvalidConfig, label, id)
		}
		if label == bridge.AnyLabel {
			return nil, fmt.Errorf("%w: bridge.leds: %q is not a label", bridge.ErrInvalidConfig, label)
		}
		labels = append(labels, label)
		if !slices.Contains(ids, id) {
			ids = append(ids, id)
		}
	}
	sort.Strings(labels)
	sort.Ints(ids)
	set := func(on int) []bridge.LEDCommand {
		out := make([]bridge.LEDCommand, 0, len(ids))
		for _, id := range ids {
			mode := "off"
			if id == on {
				mode = "on"
			}
			out = append(out, bridge.LEDCommand{ID: uint8(id), Mode: mode})
		}
		return out
	}
	m := &bridge.Mapping{}
	for _, label := range labels {
		m.Predictions = append(m.Predictions, bridge.PredictionRule{Label: label, LEDs: set(leds[label])})
	}
	m.Predictions = append(m.Predictions, bridge.PredictionRule{Label: bridge.AnyLabel, LEDs: set(-1)})
	if err := m.Validate(); err != nil {
		return nil, fmt.Errorf("bridge.leds: %w", err)
	}
	return m, nil
}

// Embedded notes the probe's prediction for a frame: for the LEDs when the
// frame is of the source they follow, and for trigger reports. It never
// waits on the board.
func (b *Board) Embedded(ctx context.Context, e agent.Embedded) {
	if b.pipelineStores && e.Source == b.push && e.ID != 0 {
		e.Features = nil // not kept past the call
		b.mu.Lock()
		if !e.Time.Before(b.pipelined.Time) {
			b.pipelined = e
		}
		b.mu.Unlock()
	}
	if e.Prediction == nil {
		return
	}
	b.mu.Lock()
	b.seen[e.Source] = seenPrediction{seq: e.Seq, label: e.Prediction.Label}
	follow := e.Source == b.ledSource && b.leds != nil
	if follow {
		b.want = &wantedPrediction{label: e.Prediction.Label, score: e.Prediction.Score}
	}
	b.mu.Unlock()
	if follow {
		b.wakeLEDs()
	}
}

// wakeLEDs asks the LED loop to look at the wanted prediction again.
func (b *Board) wakeLEDs() {
	select {
	case b.wake <- struct{}{}:
	default:
	}
}

// driveLEDs sends the LED commands of the latest prediction until ctx
// ends. Predictions that arrive while a command is on the line are
// coalesced: only the latest counts. When the board rebooted or a new
// session began, the mapper forgets what it sent, so the prediction is
// shown again.
func (b *Board) driveLEDs(ctx context.Context) {
	t := time.NewTicker(ledPoll)
	defer t.Stop()
	epoch := ^uint64(0)
	var retryAt time.Time // after a failure, no command before this
	delay := ledRetryMin
	for {
		select {
		case <-ctx.Done():
			return
		case <-b.wake:
		case <-t.C:
		}
		s := b.bridge.Stats()
		if e := s.Handshakes + s.Reboots; e != epoch {
			b.leds.Reset()
			epoch, retryAt, delay = e, time.Time{}, ledRetryMin
		}
		info, ok := b.bridge.Board()
		if !ok || info.Capabilities&protocol.CapLED == 0 || time.Now().Before(retryAt) {
			continue
		}
		b.mu.Lock()
		w := b.want
		b.mu.Unlock()
		if w == nil {
			continue
		}
		_, err := b.leds.Apply(ctx, w.label, w.score)
		switch {
		case err == nil:
			retryAt, delay = time.Time{}, ledRetryMin
		case ctx.Err() == nil:
			b.log.Warn("LED command failed", "label", w.label, "retry_in", delay, "err", err)
			retryAt, delay = time.Now().Add(delay), min(2*delay, ledRetryMax)
		}
	}
}

// countingCommander counts the LED and relay commands sent through it.
type countingCommander struct {
	c     bridge.Commander
	count *counters
}

// SetLED sends cmd and counts it.
func (c *countingCommander) SetLED(ctx context.Context, cmd protocol.SetLED) error {
	c.count.ledCommands.Add(1)
	err := c.c.SetLED(ctx, cmd)
	if err != nil {
		c.count.ledFailures.Add(1)
	}
	return err
}

// SetRelay sends cmd and counts it.
func (c *countingCommander) SetRelay(ctx context.Context, cmd protocol.SetRelay) error {
	c.count.ledCommands.Add(1)
	err := c.c.SetRelay(ctx, cmd)
	if err != nil {
		c.count.ledFailures.Add(1)
	}
	return err
}

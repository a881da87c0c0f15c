package bridge

import (
	"context"
	"errors"
	"sync"

	"github.com/mocoedge/mocoedge/firmware-bridge/protocol"
)

// Rule returns the prediction rule for label at score: the first rule
// naming label whose MinScore the score reaches, else the first AnyLabel
// rule it reaches, else false.
func (m *Mapping) Rule(label string, score float64) (PredictionRule, bool) {
	i := m.ruleIndex(label, score)
	if i < 0 {
		return PredictionRule{}, false
	}
	return m.Predictions[i], true
}

// ruleIndex is Rule's choice as an index into Predictions, or -1.
func (m *Mapping) ruleIndex(label string, score float64) int {
	if m == nil {
		return -1
	}
	for i, r := range m.Predictions {
		if r.Label == label && score >= r.MinScore {
			return i
		}
	}
	for i, r := range m.Predictions {
		if r.Label == AnyLabel && score >= r.MinScore {
			return i
		}
	}
	return -1
}

// ButtonAction returns the action mapped to a press of button id, or false.
func (m *Mapping) ButtonAction(id uint8, press protocol.PressKind) (Action, bool) {
	if m == nil {
		return Action{}, false
	}
	for _, r := range m.Buttons {
		if r.Button == id && r.Press == press.String() {
			return Action{Kind: r.Action, Label: r.Label}, true
		}
	}
	return Action{}, false
}

// Apply sends the rule's LED commands, then its relay commands, through c.
// It sends them all even when one fails and returns the failures joined.
func (r PredictionRule) Apply(ctx context.Context, c Commander) error {
	var errs []error
	for _, l := range r.LEDs {
		cmd, err := l.Command()
		if err == nil {
			err = c.SetLED(ctx, cmd)
		}
		errs = append(errs, err)
	}
	for _, rc := range r.Relays {
		errs = append(errs, c.SetRelay(ctx, rc.Command()))
	}
	return errors.Join(errs...)
}

// PredictionMapper applies a Mapping to a stream of predictions, sending
// commands only when the rule changes: a probe predicting ten frames a
// second does not flood the serial line. Call Reset when the board
// reconnects (its outputs start off), so the next prediction is sent again.
// It is safe for concurrent use.
type PredictionMapper struct {
	m *Mapping
	c Commander

	mu   sync.Mutex
	last int // index of the rule applied last, -1 for none
}

// NewPredictionMapper returns a mapper sending m's commands through c.
func NewPredictionMapper(m *Mapping, c Commander) *PredictionMapper {
	return &PredictionMapper{m: m, c: c, last: -1}
}

// Apply sends the commands of the rule for label at score, unless that rule
// was the last one applied successfully. It reports whether it sent
// anything; a failure is retried on the next call.
func (p *PredictionMapper) Apply(ctx context.Context, label string, score float64) (bool, error) {
	idx := p.m.ruleIndex(label, score)
	if idx < 0 {
		return false, nil
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if idx == p.last {
		return false, nil
	}
	if err := p.m.Predictions[idx].Apply(ctx, p.c); err != nil {
		p.last = -1
		return true, err
	}
	p.last = idx
	return true, nil
}

// Reset forgets the last rule applied.
func (p *PredictionMapper) Reset() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.last = -1
}

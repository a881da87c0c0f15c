package agent

import (
	"fmt"
	"math"
)

// The settings below may change while the daemon runs (MQTT config
// commands); the rest of the configuration is fixed at start.

// SetUnknownBelow sets probe.unknown_below: predictions whose calibrated
// score is below t are reported as "unknown".
func (a *Agent) SetUnknownBelow(t float64) error {
	if t < 0 || t > 1 || math.IsNaN(t) {
		return fmt.Errorf("%w: probe.unknown_below must be in [0, 1] (got %v)", ErrBadRequest, t)
	}
	a.probe.unknown.Store(math.Float64bits(t))
	return nil
}

// unknownBelow returns probe.unknown_below.
func (a *Agent) unknownBelow() float64 { return math.Float64frombits(a.probe.unknown.Load()) }

// SetRetrievalK sets retrieval.k, the number of results of a query that
// does not say.
func (a *Agent) SetRetrievalK(k int) error {
	if k < 1 || k > a.cfg.Retrieval.MaxK {
		return fmt.Errorf("%w: retrieval.k must be in [1, %d] (got %d)", ErrBadRequest, a.cfg.Retrieval.MaxK, k)
	}
	a.retrievalK.Store(int64(k))
	return nil
}

// SetSourceFPS changes a live source's frame-rate cap (0: none).
func (a *Agent) SetSourceFPS(name string, fps float64) error {
	if err := a.hub.SetFPS(name, fps); err != nil {
		return fmt.Errorf("%w: %w", ErrBadRequest, err)
	}
	return nil
}

// Package optim holds the optimiser's learning-rate schedules and settings.
// The SGD update itself is a Backend kernel (engine.Backend.SGDStep), so it
// runs where the parameters live.
package optim

import (
	"fmt"
	"math"
	"sort"
	"strings"
)

// Schedule gives the learning rate at a point of training measured in
// epochs (fractional: 2.5 is half-way through the third epoch).
type Schedule struct {
	// Base is the peak learning rate.
	Base float64
	// Kind is "cosine", "step" or "constant".
	Kind string
	// Epochs is the length of training (the cosine's period).
	Epochs float64
	// Milestones are the epochs at which "step" multiplies the rate by Gamma.
	Milestones []float64
	// Gamma is the step factor (0.1 in the MoCo recipes).
	Gamma float64
	// Warmup is a linear ramp from 0 over this many epochs (0 for none).
	Warmup float64
	// PerEpoch evaluates the schedule at whole epochs only, as the official
	// MoCo code does (adjust_learning_rate at each epoch start).
	PerEpoch bool
}

// Kinds lists the accepted schedule kinds.
func Kinds() []string { return []string{"constant", "cosine", "step"} }

// Validate reports a schedule that cannot run, naming the field.
func (s Schedule) Validate() error {
	switch {
	case !(s.Base > 0):
		return fmt.Errorf("learning rate %v: must be positive", s.Base)
	case s.Kind != "cosine" && s.Kind != "step" && s.Kind != "constant":
		return fmt.Errorf("schedule %q: accepted are %s", s.Kind, strings.Join(Kinds(), ", "))
	case s.Kind == "cosine" && !(s.Epochs > 0):
		return fmt.Errorf("cosine schedule needs a positive number of epochs, got %v", s.Epochs)
	case s.Kind == "step" && !(s.Gamma > 0):
		return fmt.Errorf("step schedule needs a positive gamma, got %v", s.Gamma)
	case s.Warmup < 0:
		return fmt.Errorf("warm-up %v: must not be negative", s.Warmup)
	}
	return nil
}

// At returns the learning rate at epoch (fractional). The warm-up ramp
// always follows the fractional epoch, even for a per-epoch schedule.
func (s Schedule) At(epoch float64) float64 {
	e := epoch
	if s.PerEpoch {
		e = math.Floor(epoch)
	}
	lr := s.Base
	switch s.Kind {
	case "cosine":
		lr *= 0.5 * (1 + math.Cos(math.Pi*math.Min(e, s.Epochs)/s.Epochs))
	case "step":
		ms := append([]float64(nil), s.Milestones...)
		sort.Float64s(ms)
		for _, m := range ms {
			if e >= m {
				lr *= s.Gamma
			}
		}
	}
	if s.Warmup > 0 && epoch < s.Warmup {
		lr *= epoch / s.Warmup
	}
	return lr
}

package probe

import (
	"fmt"
	"math"

	"github.com/mocoedge/mocoedge/internal/blas"
)

// Defaults for the zero fields of Options.
const (
	// DefaultL2 is λ, the weight of the L2 penalty (λ/2)·‖W‖².
	DefaultL2 = 1e-3
	// DefaultUnknown is the calibrated score below which a prediction is
	// Unknown.
	DefaultUnknown = 0.5
	// DefaultFolds is k of the stratified k-fold held-out estimate.
	DefaultFolds = 5
	// DefaultMinPerClass is the fewest labels a class needs.
	DefaultMinPerClass = 2
	// DefaultMaxEpochs bounds the optimiser's iterations (each one at least
	// one full pass over the labels).
	DefaultMaxEpochs = 300
)

// KFoldBelow is the per-class label count under which the held-out
// accuracy comes from k-fold cross-validation rather than a 20% holdout:
// when the smallest class has fewer labels than this, k-fold is used.
const KFoldBelow = 50

// holdoutFraction is the share of each class held out when there are
// enough labels.
const holdoutFraction = 0.2

// Options tune Train. The zero value of every field means its default.
type Options struct {
	// L2 is λ in (λ/2)·‖W‖² (default DefaultL2); negative means no penalty.
	L2 float64
	// Unknown is the threshold stored in the model: a prediction whose best
	// calibrated score is below it is labelled Unknown (default
	// DefaultUnknown); negative means never Unknown.
	Unknown float64
	// Folds is k for the stratified k-fold estimate (default DefaultFolds,
	// at least 2).
	Folds int
	// MinPerClass is the fewest labels each class needs (default
	// DefaultMinPerClass).
	MinPerClass int
	// MaxEpochs bounds the L-BFGS iterations of each fit (default
	// DefaultMaxEpochs).
	MaxEpochs int
	// GEMM runs the matrix products; nil uses the pure-Go gonum GEMM.
	// Pass the daemon's blas.Load result for OpenBLAS speed.
	GEMM blas.GEMM
	// Seed drives the stratified split; the same examples, options and seed
	// give the same model.
	Seed uint64
}

// withDefaults fills the zero fields and checks the rest.
func (o Options) withDefaults() (Options, error) {
	switch {
	case o.L2 == 0:
		o.L2 = DefaultL2
	case o.L2 < 0:
		o.L2 = 0
	}
	switch {
	case o.Unknown == 0:
		o.Unknown = DefaultUnknown
	case o.Unknown < 0:
		o.Unknown = 0
	}
	if o.Folds == 0 {
		o.Folds = DefaultFolds
	}
	if o.MinPerClass == 0 {
		o.MinPerClass = DefaultMinPerClass
	}
	if o.MaxEpochs == 0 {
		o.MaxEpochs = DefaultMaxEpochs
	}
	if o.GEMM == nil {
		o.GEMM = blas.Gonum{}
	}
	switch {
	case math.IsNaN(o.L2) || math.IsInf(o.L2, 0):
		return o, fmt.Errorf("%w: L2 is %v", ErrInvalidOptions, o.L2)
	case math.IsNaN(o.Unknown) || o.Unknown > 1:
		return o, fmt.Errorf("%w: Unknown is %v, want a score in [0, 1]", ErrInvalidOptions, o.Unknown)
	case o.Folds < 2:
		return o, fmt.Errorf("%w: Folds is %d, want at least 2", ErrInvalidOptions, o.Folds)
	case o.MinPerClass < 1:
		return o, fmt.Errorf("%w: MinPerClass is %d, want at least 1", ErrInvalidOptions, o.MinPerClass)
	case o.MaxEpochs < 1:
		return o, fmt.Errorf("%w: MaxEpochs is %d, want at least 1", ErrInvalidOptions, o.MaxEpochs)
	}
	return o, nil
}

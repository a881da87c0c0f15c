package onnxrun

import (
	"errors"
	"fmt"
	"math"
	"strings"

	"github.com/mocoedge/mocoedge/models/manifest"
)

// Tolerance is the largest relative difference an exported model may show
// against the reference for `trainer export` to accept it.
const Tolerance = 1e-4

// ErrParity is wrapped by Check when an output differs from the reference
// by more than the tolerance.
var ErrParity = errors.New("ONNX Runtime and the reference disagree")

// Diff is how far one output is from its reference.
type Diff struct {
	// Output names the output ("features" or "embedding").
	Output string `json:"output"`
	// MaxAbs is max |got − want| over the tensor.
	MaxAbs float64 `json:"max_abs_diff"`
	// MaxRel is MaxAbs / max |want| over the tensor: the error relative to
	// the tensor's scale, not element by element (which would blow up near
	// zero). When want is all zeros it equals MaxAbs. It is +Inf when the
	// lengths differ or a value is NaN or infinite.
	MaxRel float64 `json:"max_rel_diff"`
}

// Compare measures got against the reference want.
func Compare(output string, got, want []float32) Diff {
	d := Diff{Output: output}
	if len(got) != len(want) {
		d.MaxAbs, d.MaxRel = math.Inf(1), math.Inf(1)
		return d
	}
	var scale float64
	for i := range got {
		a, b := float64(got[i]), float64(want[i])
		diff := math.Abs(a - b)
		if math.IsNaN(diff) || math.IsInf(diff, 0) {
			d.MaxAbs, d.MaxRel = math.Inf(1), math.Inf(1)
			return d
		}
		d.MaxAbs = max(d.MaxAbs, diff)
		scale = max(scale, math.Abs(b))
	}
	d.MaxRel = d.MaxAbs
	if scale > 0 {
		d.MaxRel = d.MaxAbs / scale
	}
	return d
}

// Check compares both outputs with the reference and returns the two
// Diffs (features, embedding); the error wraps ErrParity and names each
// output whose MaxRel exceeds tol.
func Check(got, want Output, tol float64) ([]Diff, error) {
	diffs := []Diff{
		Compare(manifest.FeaturesName, got.Features, want.Features),
		Compare(manifest.EmbeddingName, got.Embedding, want.Embedding),
	}
	var bad []string
	for _, d := range diffs {
		if !(d.MaxRel <= tol) {
			bad = append(bad, fmt.Sprintf("%s max_rel_diff %.3g > %.3g (max_abs_diff %.3g)", d.Output, d.MaxRel, tol, d.MaxAbs))
		}
	}
	if len(bad) > 0 {
		return diffs, fmt.Errorf("%w: %s", ErrParity, strings.Join(bad, "; "))
	}
	return diffs, nil
}

package augment

import (
	"math"
	"testing"
)

// imageOf builds a planar Image from per-channel rows.
func imageOf(h, w int, r, g, b []float32) *Image {
	m := NewImage(h, w)
	copy(m.Plane(0), r)
	copy(m.Plane(1), g)
	copy(m.Plane(2), b)
	return m
}

// closeTo fails the test at the first value that differs by more than tol,
// and reports the largest difference.
func closeTo(t *testing.T, what string, got, want []float32, tol float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, want %d", what, len(got), len(want))
	}
	worst, at := 0.0, -1
	for i := range got {
		if d := math.Abs(float64(got[i] - want[i])); d > worst || math.IsNaN(d) {
			worst, at = d, i
		}
	}
	if worst > tol {
		t.Fatalf("%s: largest difference %g at %d (got %v, want %v), tolerance %g", what, worst, at, got[at], want[at], tol)
	}
}

// scaled divides values by 255.
func scaled(v ...float32) []float32 {
	out := make([]float32, len(v))
	for i, x := range v {
		out[i] = x / 255
	}
	return out
}

// hwc builds a uint8 HWC RGB image whose channels are fr, fg, fb of (y, x).
func hwc(h, w int, fr, fg, fb func(y, x int) uint8) []uint8 {
	pix := make([]uint8, 0, 3*h*w)
	for y := range h {
		for x := range w {
			pix = append(pix, fr(y, x), fg(y, x), fb(y, x))
		}
	}
	return pix
}

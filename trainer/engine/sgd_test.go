package engine

import (
	"math"
	"testing"
)

// TestSGDStepMatchesPyTorch checks two steps against torch.optim.SGD's update
// rule written out by hand (lr 0.1, momentum 0.9, weight decay 0.01).
func TestSGDStepMatchesPyTorch(t *testing.T) {
	be := cpu64(t)
	p := Host[float64]{1, -2}
	v := Host[float64]{0, 0}
	g1 := Host[float64]{0.5, 0.25}
	// Step 1: g = grad + wd·p = {0.51, 0.23}; v = g; p -= 0.1·v.
	be.SGDStep(p, g1, v, 0.1, 0.9, 0.01)
	want := []float64{1 - 0.1*0.51, -2 - 0.1*0.23}
	for i := range want {
		if math.Abs(p[i]-want[i]) > 1e-15 {
			t.Fatalf("step 1: p = %v, want %v", p, want)
		}
	}
	// Step 2 with the same gradient: v = 0.9·v + (grad + wd·p).
	v1 := []float64{0.51, 0.23}
	g := []float64{0.5 + 0.01*want[0], 0.25 + 0.01*want[1]}
	be.SGDStep(p, g1, v, 0.1, 0.9, 0.01)
	for i := range want {
		vi := 0.9*v1[i] + g[i]
		if w := want[i] - 0.1*vi; math.Abs(p[i]-w) > 1e-15 {
			t.Fatalf("step 2: p[%d] = %v, want %v", i, p[i], w)
		}
	}
}

func TestAxpbyIsMomentumUpdate(t *testing.T) {
	be := cpu64(t)
	q := Host[float64]{1, 2, 3}
	k := Host[float64]{0, 0, 6}
	// θk ← m·θk + (1−m)·θq with m = 0.99.
	be.Axpby(0.01, q, 0.99, k)
	want := []float64{0.01, 0.02, 0.99*6 + 0.03}
	for i := range want {
		if math.Abs(k[i]-want[i]) > 1e-15 {
			t.Fatalf("k = %v, want %v", k, want)
		}
	}
}

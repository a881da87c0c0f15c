package engine

import (
	"math"
	"testing"
)

func TestRowOps(t *testing.T) {
	be := cpu64(t)
	a := Host[float64]{1, 2, 3, 4, 5, 6}
	b := Host[float64]{1, 0, -1, 2, 2, 2}
	out := Host[float64](make([]float64, 4))
	be.RowDot(out, 2, a, b, 2, 3, 0.5) // rows {1,2,3}·{1,0,-1} = -2, {4,5,6}·{2,2,2} = 30
	if out[0] != -1 || out[2] != 15 || out[1] != 0 || out[3] != 0 {
		t.Fatalf("RowDot = %v", out)
	}
	dst := Host[float64]{1, 1, 1, 1, 1, 1}
	coef := Host[float64]{2, 99, -1, 99}
	be.RowAxpy(dst, 0.5, coef, 2, a, 2, 3) // row0 += 1·{1,2,3}; row1 += -0.5·{4,5,6}
	want := []float64{2, 3, 4, -1, -1.5, -2}
	for i := range want {
		if math.Abs(dst[i]-want[i]) > 1e-15 {
			t.Fatalf("RowAxpy = %v, want %v", dst, want)
		}
	}
	// Gemm into a strided view: c[:, 1:] = a·bᵀ with ldc 3.
	c := Host[float64](make([]float64, 6))
	be.Gemm(false, true, 2, 2, 3, 1, a, 3, Host[float64]{1, 0, 0, 0, 1, 0}, 3, 0, be.Slice(c, 1, 5), 3)
	if c[1] != 1 || c[2] != 2 || c[4] != 4 || c[5] != 5 || c[0] != 0 || c[3] != 0 {
		t.Fatalf("strided Gemm = %v", c)
	}
}

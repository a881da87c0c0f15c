package blas

import "time"

// Peak measures the SGEMM rate of g in GFLOP/s on square n×n matrices: the
// best of reps timed calls after one warm-up. It is the reference that the
// engine's benchmarks report their ratio against.
func Peak(g GEMM, n, reps int) float64 {
	a := make([]float32, n*n)
	b := make([]float32, n*n)
	c := make([]float32, n*n)
	for i := range a {
		a[i] = float32(i%7) * 0.25
		b[i] = float32(i%5) * 0.5
	}
	g.Sgemm(false, false, n, n, n, 1, a, n, b, n, 0, c, n)
	best := time.Duration(1 << 62)
	for r := 0; r < reps; r++ {
		start := time.Now()
		g.Sgemm(false, false, n, n, n, 1, a, n, b, n, 0, c, n)
		if d := time.Since(start); d < best {
			best = d
		}
	}
	return 2 * float64(n) * float64(n) * float64(n) / best.Seconds() / 1e9
}

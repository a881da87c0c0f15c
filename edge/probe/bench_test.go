package probe_test

import (
	"context"
	"testing"
	"time"

	"github.com/mocoedge/mocoedge/edge/probe"
	"github.com/mocoedge/mocoedge/internal/blas"
)

// BenchmarkTrain10kx512 trains on 10,000 synthetic 512-dimensional
// features in 10 overlapping clusters (a 20% holdout fit, calibration and
// the final fit) with the default GEMM. Besides the time per Train it
// reports the final fit's iterations, the held-out accuracy, and the time
// per Train as a multiple of one gradient evaluation's two products
// (logits X·Wᵀ and Gᵀ·X over all 10,000 rows) measured in the same run.
func BenchmarkTrain10kx512(b *testing.B) {
	const n, d, c = 10000, 512, 10
	g, err := blas.Load(blas.Options{})
	if err != nil {
		b.Fatal(err)
	}
	counts := make([]int, c)
	for k := range counts {
		counts[k] = n / c
	}
	examples, _ := clusters(42, counts, d, 0.3)
	pass := productsTime(g, examples, c)
	var m *probe.Model
	start := time.Now()
	for b.Loop() {
		m, err = probe.Train(context.Background(), examples, probe.Options{GEMM: g})
		if err != nil {
			b.Fatal(err)
		}
	}
	perTrain := time.Since(start) / time.Duration(b.N)
	b.ReportMetric(float64(m.Iterations), "final-iters")
	b.ReportMetric(m.Accuracy, "heldout-acc")
	b.ReportMetric(float64(perTrain)/float64(pass), "x-products")
	b.Logf("GEMM %s: %v per Train, one evaluation's products %v; %s accuracy %.3f, T %.3f, final fit %d iterations",
		g.Name(), perTrain, pass, m.AccuracyMethod, m.Accuracy, m.Temperature, m.Iterations)
}

// productsTime is the best time of the two products of one gradient
// evaluation over all examples.
func productsTime(g blas.GEMM, examples []probe.Example, c int) time.Duration {
	n, d := len(examples), len(examples[0].Features)
	x := make([]float32, 0, n*d)
	for _, e := range examples {
		x = append(x, e.Features...)
	}
	w := make([]float32, c*d)
	z := make([]float32, n*c)
	best := time.Duration(1 << 62)
	for range 5 {
		start := time.Now()
		g.Sgemm(false, true, n, c, d, 1, x, d, w, d, 0, z, c)
		g.Sgemm(true, false, c, d, n, 1, z, c, x, d, 0, w, d)
		best = min(best, time.Since(start))
	}
	return best
}

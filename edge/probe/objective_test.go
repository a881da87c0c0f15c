package probe

import (
	"context"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/mocoedge/mocoedge/internal/blas"
	"github.com/mocoedge/mocoedge/internal/blas/blastest"
)

// referenceLoss is an independent float64 implementation of the
// class-balanced, L2-regularised softmax cross-entropy.
func referenceLoss(x []float32, y []int, n, d, c int, l2 float64, theta []float64) float64 {
	counts := make([]int, c)
	for _, k := range y {
		counts[k]++
	}
	present := 0
	for _, k := range counts {
		if k > 0 {
			present++
		}
	}
	var loss float64
	for i := range n {
		logits := make([]float64, c)
		for j := range c {
			logits[j] = theta[c*d+j]
			for k := range d {
				logits[j] += theta[j*d+k] * float64(x[i*d+k])
			}
		}
		var s float64
		for _, l := range logits {
			s += math.Exp(l)
		}
		loss += (math.Log(s) - logits[y[i]]) / float64(present*counts[y[i]])
	}
	var reg float64
	for _, v := range theta[:c*d] {
		reg += v * v
	}
	return loss + l2/2*reg
}

// randomProblem returns n normalised rows of dimension d with classes
// among c (class 0 rare) and random parameters.
func randomProblem(seed uint64, n, d, c int) ([]float32, []int, []float64) {
	rng := rand.New(rand.NewPCG(seed, 1))
	x := make([]float32, n*d)
	y := make([]int, n)
	for i := range n {
		v := make([]float32, d)
		for k := range v {
			v[k] = float32(rng.NormFloat64())
		}
		normalize(x[i*d:(i+1)*d], v)
		y[i] = 1 + rng.IntN(c-1)
		if i%7 == 0 {
			y[i] = 0
		}
	}
	theta := make([]float64, c*d+c)
	for i := range theta {
		theta[i] = rng.NormFloat64()
	}
	return x, y, theta
}

// TestGradient holds the analytic gradient (float32 products) against
// central differences of the independent float64 reference loss.
func TestGradient(t *testing.T) {
	const n, d, c, l2 = 40, 9, 4, 0.01
	x, y, theta := randomProblem(3, n, d, c)
	for name, g := range blastest.Backends(t) {
		t.Run(name, func(t *testing.T) {
			f := newObjective(x, y, n, d, c, l2, true, g)
			grad := make([]float64, f.size())
			loss := f.eval(theta, grad)
			ref := referenceLoss(x, y, n, d, c, l2, theta)
			if math.Abs(loss-ref) > 1e-5*math.Abs(ref) {
				t.Errorf("loss %.9g, reference %.9g", loss, ref)
			}
			const eps = 1e-5
			var worst, worstAt float64
			for i := range theta {
				p := append([]float64(nil), theta...)
				p[i] += eps
				up := referenceLoss(x, y, n, d, c, l2, p)
				p[i] -= 2 * eps
				down := referenceLoss(x, y, n, d, c, l2, p)
				num := (up - down) / (2 * eps)
				if diff := math.Abs(num - grad[i]); diff > worst {
					worst, worstAt = diff, float64(i)
				}
			}
			t.Logf("largest |analytic - numeric| over %d parameters: %.3g (parameter %v)", len(theta), worst, worstAt)
			if worst > 1e-6 {
				t.Errorf("gradient differs from central differences by up to %.3g", worst)
			}
		})
	}
}

// TestMinimizeReachesOptimum checks that L-BFGS drives the gradient to
// (nearly) zero on a non-separable problem.
func TestMinimizeReachesOptimum(t *testing.T) {
	const n, d, c, l2 = 200, 16, 5, 1e-3
	x, y, _ := randomProblem(5, n, d, c)
	f := newObjective(x, y, n, d, c, l2, true, blas.Gonum{})
	theta := make([]float64, f.size())
	res, err := minimize(context.Background(), f, theta, 1000)
	if err != nil {
		t.Fatal(err)
	}
	grad := make([]float64, f.size())
	f.eval(theta, grad)
	t.Logf("loss %.6f after %d iterations (%d evaluations), ‖∇‖∞ %.2g", res.loss, res.iterations, res.evals, normInf(grad))
	if normInf(grad) > 1e-4 {
		t.Errorf("‖∇L‖∞ = %.3g at the end, want < 1e-4", normInf(grad))
	}
}

// TestClassBalancing trains on 300 examples of one class and 15 of an
// overlapping one: balancing must raise the rare class's recall.
func TestClassBalancing(t *testing.T) {
	const d = 8
	rng := rand.New(rand.NewPCG(11, 2))
	centre := func(sign float64) []float32 {
		v := make([]float32, d)
		v[0] = float32(sign)
		v[1] = 1
		return v
	}
	sample := func(k, n int) ([]float32, []int) {
		var x []float32
		var y []int
		for range n {
			v := centre(float64(2*k - 1))
			for i := range v {
				v[i] += float32(0.9 * rng.NormFloat64())
			}
			row := make([]float32, d)
			normalize(row, v)
			x = append(x, row...)
			y = append(y, k)
		}
		return x, y
	}
	x0, y0 := sample(0, 300)
	x1, y1 := sample(1, 15)
	x, y := append(x0, x1...), append(y0, y1...)
	tx, ty := sample(1, 2000) // the rare class's test set
	recall := func(balance bool) float64 {
		f := newObjective(x, y, len(y), d, 2, 1e-3, balance, blas.Gonum{})
		theta := make([]float64, f.size())
		if _, err := minimize(context.Background(), f, theta, 300); err != nil {
			t.Fatal(err)
		}
		return top1(logitsOf(blas.Gonum{}, tx, len(ty), d, theta), ty, 2)
	}
	balanced, plain := recall(true), recall(false)
	t.Logf("rare-class recall: balanced %.3f, unbalanced %.3f", balanced, plain)
	if balanced < plain+0.2 {
		t.Errorf("balancing raised the rare class's recall from %.3f to %.3f only", plain, balanced)
	}
}

// TestCalibrateRecoversTemperature draws labels from softmax(z/2) and
// expects calibrate to find T ≈ 2.
func TestCalibrateRecoversTemperature(t *testing.T) {
	const n, c, trueT = 20000, 6, 2.0
	rng := rand.New(rand.NewPCG(4, 4))
	logits := make([]float64, n*c)
	y := make([]int, n)
	for i := range n {
		row := logits[i*c : (i+1)*c]
		var s float64
		for j := range row {
			row[j] = 3 * rng.NormFloat64()
			s += math.Exp(row[j] / trueT)
		}
		u := rng.Float64() * s
		for j := range row {
			u -= math.Exp(row[j] / trueT)
			if u <= 0 || j == c-1 {
				y[i] = j
				break
			}
		}
	}
	cal := calibrate(logits, y, c)
	t.Logf("T = %.3f, NLL %.4f (T=1: %.4f)", cal.temperature, cal.nll, cal.nllAtOne)
	if math.Abs(cal.temperature-trueT) > 0.1 {
		t.Errorf("temperature %.3f, want about %.1f", cal.temperature, trueT)
	}
	if cal.nll > cal.nllAtOne {
		t.Errorf("calibrated NLL %.4f worse than at T=1 (%.4f)", cal.nll, cal.nllAtOne)
	}
}

// TestSplit checks the stratified folds and the holdout.
func TestSplit(t *testing.T) {
	mk := func(counts ...int) *dataset {
		ds := &dataset{counts: counts}
		for k, n := range counts {
			ds.classes = append(ds.classes, string(rune('a'+k)))
			for range n {
				ds.y = append(ds.y, k)
			}
		}
		ds.n = len(ds.y)
		return ds
	}
	o, _ := Options{}.withDefaults()

	folds, method := mk(10, 7, 3).split(o)
	if method != "5-fold" || len(folds) != 5 {
		t.Fatalf("method %q with %d folds", method, len(folds))
	}
	seen := map[int]bool{}
	for _, f := range folds {
		if len(f) != 4 {
			t.Errorf("fold of %d examples, want 4", len(f))
		}
		for _, i := range f {
			if seen[i] {
				t.Errorf("example %d in two folds", i)
			}
			seen[i] = true
		}
	}
	if len(seen) != 20 {
		t.Errorf("folds cover %d of 20 examples", len(seen))
	}

	folds, method = mk(2, 1).split(o) // fewer examples than folds
	if method != "3-fold" || len(folds) != 3 {
		t.Errorf("3 examples: method %q with %d folds", method, len(folds))
	}

	ds := mk(100, 60)
	folds, method = ds.split(o)
	if method != "holdout 20%" || len(folds) != 1 {
		t.Fatalf("method %q with %d sets", method, len(folds))
	}
	per := map[int]int{}
	for _, i := range folds[0] {
		per[ds.y[i]]++
	}
	if per[0] != 20 || per[1] != 12 {
		t.Errorf("holdout per class %v, want 20 and 12", per)
	}
}

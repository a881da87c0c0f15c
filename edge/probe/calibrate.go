package probe

import "math"

// Temperature search range and precision (golden-section search on log T).
const (
	minTemperature = 1e-2
	maxTemperature = 1e2
	goldenSteps    = 80
)

// calibration is the fitted temperature and the held-out NLL at it and at
// T = 1.
type calibration struct {
	temperature float64
	nll         float64
	nllAtOne    float64
}

// calibrate fits the temperature T of the held-out logits (n×c) that
// minimises their mean negative log-likelihood under softmax(logits/T).
// The objective is convex in 1/T, so unimodal in log T, and golden-section
// search finds its minimum on [minTemperature, maxTemperature]; T = 1 is
// kept when it is at least as good, so the held-out NLL at T is never worse
// than at T = 1.
//
// When every held-out label is predicted right the NLL keeps falling as
// T → 0, which would make every score 1 and nothing Unknown. In that case
// alone each held-out label is trusted with probability 1−ε, ε = 1/(n+2)
// (Laplace's rule of succession for an error rate after n successes), the
// rest spread over the other classes, which gives the NLL a finite
// minimiser. That T may be above 1 (less confident than the raw probe).
func calibrate(logits []float64, y []int, c int) calibration {
	one := nll(logits, y, c, 1, 0)
	best := calibration{temperature: 1, nll: one, nllAtOne: one}
	if len(y) == 0 {
		return best
	}
	var eps float64
	if top1(logits, y, c) == 1 {
		eps = 1 / float64(len(y)+2)
	}
	f := func(u float64) float64 { return nll(logits, y, c, math.Exp(u), eps) }
	lo, hi := math.Log(minTemperature), math.Log(maxTemperature)
	ratio := (math.Sqrt(5) - 1) / 2
	a, b := hi-ratio*(hi-lo), lo+ratio*(hi-lo)
	fa, fb := f(a), f(b)
	for range goldenSteps {
		if fa <= fb {
			hi, b, fb = b, a, fa
			a = hi - ratio*(hi-lo)
			fa = f(a)
		} else {
			lo, a, fa = a, b, fb
			b = lo + ratio*(hi-lo)
			fb = f(b)
		}
	}
	u := (lo + hi) / 2
	if f(u) < f(0) {
		best.temperature = math.Exp(u)
		best.nll = nll(logits, y, c, best.temperature, 0)
	}
	return best
}

// nll is the mean cross-entropy of softmax(logits/t) (n×c) against targets
// that give class y_i probability 1−eps and each other class eps/(c−1);
// with eps = 0 it is the negative log-likelihood of y.
func nll(logits []float64, y []int, c int, t, eps float64) float64 {
	if len(y) == 0 {
		return 0
	}
	other := eps / float64(c-1)
	var sum float64
	for i, k := range y {
		row := logits[i*c : (i+1)*c]
		m := math.Inf(-1)
		var total float64
		for _, l := range row {
			m = max(m, l/t)
			total += l / t
		}
		var s float64
		for _, l := range row {
			s += math.Exp(l/t - m)
		}
		target := (1-eps-other)*row[k]/t + other*total
		sum += m + math.Log(s) - target
	}
	return sum / float64(len(y))
}

package probe

import (
	"context"
	"math"
)

// L-BFGS settings.
const (
	lbfgsMemory = 10    // correction pairs kept
	armijoC1    = 1e-4  // sufficient decrease constant
	maxHalvings = 40    // line search step halvings before giving up
	gradTol     = 1e-5  // stop when ‖∇L‖∞ falls below this
	lossTol     = 1e-10 // stop when an iteration improves L by less than this (relative)
)

// fitResult summarises one minimisation.
type fitResult struct {
	loss       float64
	iterations int
	evals      int
}

// minimize runs L-BFGS on f from theta (updated in place) for at most
// maxIter iterations, checking ctx before each one. It stops early when the
// gradient is small, the loss stops improving, or the line search cannot
// improve it further (float32 products limit the attainable precision);
// none of those is an error.
func minimize(ctx context.Context, f *objective, theta []float64, maxIter int) (fitResult, error) {
	p := len(theta)
	g := make([]float64, p)
	gNew := make([]float64, p)
	dir := make([]float64, p)
	trial := make([]float64, p)
	s := make([][]float64, lbfgsMemory)
	y := make([][]float64, lbfgsMemory)
	for i := range s {
		s[i], y[i] = make([]float64, p), make([]float64, p)
	}
	rho := make([]float64, lbfgsMemory)
	alpha := make([]float64, lbfgsMemory)
	stored, head := 0, 0 // pairs held; next slot to write

	res := fitResult{loss: f.eval(theta, g), evals: 1}
	for res.iterations < maxIter {
		if err := ctx.Err(); err != nil {
			return res, err
		}
		if normInf(g) < gradTol {
			break
		}
		// dir = -H·g by the two-loop recursion.
		for i, v := range g {
			dir[i] = -v
		}
		for k := range stored {
			j := (head - 1 - k + lbfgsMemory) % lbfgsMemory
			alpha[j] = rho[j] * dot(s[j], dir)
			axpy(-alpha[j], y[j], dir)
		}
		if stored > 0 {
			j := (head - 1 + lbfgsMemory) % lbfgsMemory
			scale(dot(s[j], y[j])/dot(y[j], y[j]), dir)
		} else {
			scale(1/max(1, norm2(g)), dir) // first step: unit length at most
		}
		for k := stored - 1; k >= 0; k-- {
			j := (head - 1 - k + lbfgsMemory) % lbfgsMemory
			beta := rho[j] * dot(y[j], dir)
			axpy(alpha[j]-beta, s[j], dir)
		}
		slope := dot(g, dir)
		if slope >= 0 { // not a descent direction: restart from steepest descent
			stored = 0
			for i, v := range g {
				dir[i] = -v / max(1, norm2(g))
			}
			slope = dot(g, dir)
		}

		// Backtracking line search (Armijo).
		step, loss, ok := 1.0, 0.0, false
		for range maxHalvings {
			for i := range trial {
				trial[i] = theta[i] + step*dir[i]
			}
			loss = f.eval(trial, gNew)
			res.evals++
			if loss <= res.loss+armijoC1*step*slope {
				ok = true
				break
			}
			step /= 2
		}
		res.iterations++
		if !ok {
			break
		}
		// Store the correction pair when it keeps H positive definite.
		sj, yj := s[head], y[head]
		for i := range theta {
			sj[i] = trial[i] - theta[i]
			yj[i] = gNew[i] - g[i]
		}
		if sy := dot(sj, yj); sy > 1e-12*dot(yj, yj) && sy > 0 {
			rho[head] = 1 / sy
			head = (head + 1) % lbfgsMemory
			stored = min(stored+1, lbfgsMemory)
		}
		prev := res.loss
		copy(theta, trial)
		copy(g, gNew)
		res.loss = loss
		if prev-loss <= lossTol*max(1, math.Abs(prev)) {
			break
		}
	}
	return res, nil
}

func dot(a, b []float64) float64 {
	var s float64
	for i, v := range a {
		s += v * b[i]
	}
	return s
}

func axpy(a float64, x, y []float64) {
	for i, v := range x {
		y[i] += a * v
	}
}

func scale(a float64, x []float64) {
	for i := range x {
		x[i] *= a
	}
}

func norm2(x []float64) float64 { return math.Sqrt(dot(x, x)) }

func normInf(x []float64) float64 {
	var m float64
	for _, v := range x {
		m = max(m, math.Abs(v))
	}
	return m
}

package engine

import "math"

// Batch norm over [N,C,HW]. Statistics are per (group, channel), where image
// n is in group n mod Splits; gamma and beta are shared by the groups. The
// running statistics follow PyTorch: r = (1-m)·r + m·s, with the unbiased
// variance, and with Splits > 1 the groups' updates are averaged, as the
// official MoCo SplitBatchNorm does.
//
// Sums run in float32 over one plane and in float64 across planes, which
// keeps float32 results within 1e-6 of the float64 path at these sizes.

// BatchNorm normalises in into out.
func (c *CPU[T]) BatchNorm(out, in Buffer[T], s BNState[T], g BNGeom, train, relu bool) {
	x, y := HostData[T](in), HostData[T](out)
	gamma, beta := HostData[T](s.Gamma), HostData[T](s.Beta)
	rmean, rvar := HostData[T](s.RunMean), HostData[T](s.RunVar)
	if !train {
		c.parallel(g.C, func(lo, hi int) {
			for ch := lo; ch < hi; ch++ {
				scale := float64(gamma[ch]) / math.Sqrt(float64(rvar[ch])+g.Eps)
				shift := float64(beta[ch]) - float64(rmean[ch])*scale
				for n := 0; n < g.N; n++ {
					off := (n*g.C + ch) * g.HW
					affine(y[off:off+g.HW], x[off:off+g.HW], T(scale), T(shift), relu)
				}
			}
		})
		return
	}
	smean, sinv := HostData[T](s.SaveMean), HostData[T](s.SaveInvStd)
	splits := max(1, g.Splits)
	c.parallel(g.C, func(lo, hi int) {
		for ch := lo; ch < hi; ch++ {
			var runMean, runVar float64
			for sp := 0; sp < splits; sp++ {
				var sum float64
				count := 0
				for n := sp; n < g.N; n += splits {
					off := (n*g.C + ch) * g.HW
					sum += float64(planeSum(x[off : off+g.HW]))
					count += g.HW
				}
				mean := sum / float64(count)
				var sq float64
				for n := sp; n < g.N; n += splits {
					off := (n*g.C + ch) * g.HW
					sq += float64(planeSqDev(x[off:off+g.HW], T(mean)))
				}
				variance := sq / float64(count)
				inv := 1 / math.Sqrt(variance+g.Eps)
				smean[sp*g.C+ch], sinv[sp*g.C+ch] = T(mean), T(inv)
				unbiased := variance
				if count > 1 {
					unbiased = sq / float64(count-1)
				}
				runMean += mean
				runVar += unbiased
				scale := float64(gamma[ch]) * inv
				shift := float64(beta[ch]) - mean*scale
				for n := sp; n < g.N; n += splits {
					off := (n*g.C + ch) * g.HW
					affine(y[off:off+g.HW], x[off:off+g.HW], T(scale), T(shift), relu)
				}
			}
			m := g.Momentum
			rmean[ch] = T((1-m)*float64(rmean[ch]) + m*runMean/float64(splits))
			rvar[ch] = T((1-m)*float64(rvar[ch]) + m*runVar/float64(splits))
		}
	})
}

func planeSum[T Float](p []T) T {
	var s T
	for _, v := range p {
		s += v
	}
	return s
}

func planeSqDev[T Float](p []T, mean T) T {
	var s T
	for _, v := range p {
		d := v - mean
		s += d * d
	}
	return s
}

// affine writes dst = src·scale + shift, clamped at zero when relu is set.
func affine[T Float](dst, src []T, scale, shift T, relu bool) {
	dst = dst[:len(src)]
	if relu {
		for i, v := range src {
			dst[i] = max(0, v*scale+shift)
		}
		return
	}
	for i, v := range src {
		dst[i] = v*scale + shift
	}
}

// BatchNormBackward writes din and accumulates DGamma and DBeta.
//
// With x̂ = (x−μ)·inv over a group of M values and dy already masked by the
// ReLU (zero where the output was clamped), training mode gives
// din = γ·inv·(dy − Σdy/M − x̂·Σ(dy·x̂)/M), which is an affine map of dy and x:
// din = a·dy + b·(x−μ) + c. In eval mode μ and inv are the running statistics,
// constants, and din = γ·inv·dy. Centring x on μ before multiplying keeps
// float32 accurate when |μ| is large next to the spread.
func (c *CPU[T]) BatchNormBackward(din, dout, in, out Buffer[T], s BNState[T], g BNGeom, train, relu bool) {
	x, dy, dx := HostData[T](in), HostData[T](dout), HostData[T](din)
	var y []T
	if relu {
		y = HostData[T](out)
	}
	gamma := HostData[T](s.Gamma)
	dgamma, dbeta := HostData[T](s.DGamma), HostData[T](s.DBeta)
	splits := max(1, g.Splits)
	var mean, inv []T
	if train {
		mean, inv = HostData[T](s.SaveMean), HostData[T](s.SaveInvStd)
	} else {
		splits = 1
	}
	rmean, rvar := HostData[T](s.RunMean), HostData[T](s.RunVar)
	c.parallel(g.C, func(lo, hi int) {
		for ch := lo; ch < hi; ch++ {
			var dgSum, dbSum float64
			for sp := 0; sp < splits; sp++ {
				var mu, is float64
				if train {
					mu, is = float64(mean[sp*g.C+ch]), float64(inv[sp*g.C+ch])
				} else {
					mu, is = float64(rmean[ch]), 1/math.Sqrt(float64(rvar[ch])+g.Eps)
				}
				var sumDy, sumDyXc float64
				count := 0
				for n := sp; n < g.N; n += splits {
					off := (n*g.C + ch) * g.HW
					var yp []T
					if relu {
						yp = y[off : off+g.HW]
					}
					sd, sdx := gradSums(dy[off:off+g.HW], x[off:off+g.HW], yp, T(mu))
					sumDy += float64(sd)
					sumDyXc += float64(sdx)
					count += g.HW
				}
				sumDyXhat := sumDyXc * is
				dgSum += sumDyXhat
				dbSum += sumDy
				gi := float64(gamma[ch]) * is
				a, b, cc := gi, 0.0, 0.0
				if train {
					m := float64(count)
					b = -gi * is * sumDyXhat / m
					cc = -gi * sumDy / m
				}
				for n := sp; n < g.N; n += splits {
					off := (n*g.C + ch) * g.HW
					var yp []T
					if relu {
						yp = y[off : off+g.HW]
					}
					bnInputGrad(dx[off:off+g.HW], dy[off:off+g.HW], x[off:off+g.HW], yp, T(mu), T(a), T(b), T(cc))
				}
			}
			dgamma[ch] += T(dgSum)
			dbeta[ch] += T(dbSum)
		}
	})
}

// gradSums returns Σdy and Σdy·(x−mu) over one plane, with dy masked where
// y <= 0 when y is given.
func gradSums[T Float](dy, x, y []T, mu T) (sd, sdx T) {
	x = x[:len(dy)]
	if y == nil {
		for i, d := range dy {
			sd += d
			sdx += d * (x[i] - mu)
		}
		return sd, sdx
	}
	y = y[:len(dy)]
	for i, d := range dy {
		if y[i] > 0 {
			sd += d
			sdx += d * (x[i] - mu)
		}
	}
	return sd, sdx
}

// bnInputGrad writes dx = a·dy + b·(x−mu) + c, with dy masked where y <= 0
// when y is given.
func bnInputGrad[T Float](dx, dy, x, y []T, mu, a, b, c T) {
	dy, x = dy[:len(dx)], x[:len(dx)]
	if y == nil {
		for i := range dx {
			dx[i] = a*dy[i] + b*(x[i]-mu) + c
		}
		return
	}
	y = y[:len(dx)]
	for i := range dx {
		d := dy[i]
		if y[i] <= 0 {
			d = 0
		}
		dx[i] = a*d + b*(x[i]-mu) + c
	}
}

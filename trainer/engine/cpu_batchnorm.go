package engine

import "math"

// Batch norm over [N,C,HW]. Statistics are per (group, channel), where image
// n is in group n mod Splits; gamma and beta are shared by the groups. The
// running statistics follow PyTorch: r = (1-m)·r + m·s, with the unbiased
// variance, and with Splits > 1 the groups' updates are averaged, as the
// official MoCo SplitBatchNorm does.

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
				sc, sh := T(scale), T(shift)
				for n := 0; n < g.N; n++ {
					src, dst := x[(n*g.C+ch)*g.HW:][:g.HW], y[(n*g.C+ch)*g.HW:][:g.HW]
					affine(dst, src, sc, sh, relu)
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
				count := 0
				var sum float64
				for n := sp; n < g.N; n += splits {
					for _, v := range x[(n*g.C+ch)*g.HW:][:g.HW] {
						sum += float64(v)
					}
					count += g.HW
				}
				mean := sum / float64(count)
				var sq float64
				for n := sp; n < g.N; n += splits {
					for _, v := range x[(n*g.C+ch)*g.HW:][:g.HW] {
						d := float64(v) - mean
						sq += d * d
					}
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
				sc, sh := T(scale), T(float64(beta[ch])-mean*scale)
				for n := sp; n < g.N; n += splits {
					affine(y[(n*g.C+ch)*g.HW:][:g.HW], x[(n*g.C+ch)*g.HW:][:g.HW], sc, sh, relu)
				}
			}
			m := g.Momentum
			rmean[ch] = T((1-m)*float64(rmean[ch]) + m*runMean/float64(splits))
			rvar[ch] = T((1-m)*float64(rvar[ch]) + m*runVar/float64(splits))
		}
	})
}

// affine writes dst = src·scale + shift, clamped at zero when relu is set.
func affine[T Float](dst, src []T, scale, shift T, relu bool) {
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

// BatchNormBackward writes din and accumulates DGamma and DBeta. In training
// mode: din = γ·inv/M · (M·dy − Σdy − x̂·Σ(dy·x̂)) per group of M values; in
// eval mode the statistics are constants and din = γ·dy/√(var+ε).
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
	// grad returns dy masked by the ReLU: zero where the output was clamped.
	grad := func(i int) float64 {
		if relu && y[i] <= 0 {
			return 0
		}
		return float64(dy[i])
	}
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
				var sumDy, sumDyXhat float64
				count := 0
				for n := sp; n < g.N; n += splits {
					base := (n*g.C + ch) * g.HW
					for j := 0; j < g.HW; j++ {
						d := grad(base + j)
						sumDy += d
						sumDyXhat += d * (float64(x[base+j]) - mu) * is
					}
					count += g.HW
				}
				dgSum += sumDyXhat
				dbSum += sumDy
				gi := float64(gamma[ch]) * is
				m := float64(count)
				for n := sp; n < g.N; n += splits {
					base := (n*g.C + ch) * g.HW
					for j := 0; j < g.HW; j++ {
						d := grad(base + j)
						if !train {
							dx[base+j] = T(gi * d)
							continue
						}
						xhat := (float64(x[base+j]) - mu) * is
						dx[base+j] = T(gi * (d - sumDy/m - xhat*sumDyXhat/m))
					}
				}
			}
			dgamma[ch] += T(dgSum)
			dbeta[ch] += T(dbSum)
		}
	})
}

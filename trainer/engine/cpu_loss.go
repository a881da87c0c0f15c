package engine

import "math"

// l2Eps is the smallest norm L2Normalize divides by (torch.nn.functional.normalize's eps).
const l2Eps = 1e-12

// L2Normalize writes out[r] = in[r] / max(‖in[r]‖, ε) for each of n rows of d.
func (c *CPU[T]) L2Normalize(out, in Buffer[T], n, d int) {
	x, y := HostData[T](in), HostData[T](out)
	c.parallel(n, func(lo, hi int) {
		for r := lo; r < hi; r++ {
			row, dst := x[r*d:(r+1)*d], y[r*d:(r+1)*d]
			inv := 1 / rowNorm(row)
			for j, v := range row {
				dst[j] = T(float64(v) * inv)
			}
		}
	})
}

// L2NormalizeBackward writes din = (dout − y·(y·dout)) / ‖x‖ per row (the
// Jacobian of x/‖x‖; below ε the norm is a constant and din = dout/ε).
func (c *CPU[T]) L2NormalizeBackward(din, dout, in, out Buffer[T], n, d int) {
	x, y, dy, dx := HostData[T](in), HostData[T](out), HostData[T](dout), HostData[T](din)
	c.parallel(n, func(lo, hi int) {
		for r := lo; r < hi; r++ {
			xr, yr, gr, dst := x[r*d:(r+1)*d], y[r*d:(r+1)*d], dy[r*d:(r+1)*d], dx[r*d:(r+1)*d]
			norm := rowNorm(xr)
			var dot float64
			if norm > l2Eps {
				for j := range yr {
					dot += float64(yr[j]) * float64(gr[j])
				}
			}
			for j := range dst {
				dst[j] = T((float64(gr[j]) - float64(yr[j])*dot) / norm)
			}
		}
	})
}

func rowNorm[T Float](row []T) float64 {
	var s float64
	for _, v := range row {
		s += float64(v) * float64(v)
	}
	return math.Max(math.Sqrt(s), l2Eps)
}

// SoftmaxCrossEntropy returns mean_r −log softmax(logits[r])[labels[r]] and,
// when dlogits is not nil, writes its gradient times scale.
func (c *CPU[T]) SoftmaxCrossEntropy(dlogits, logits Buffer[T], labels []int32, n, k int, scale T) float64 {
	z := HostData[T](logits)
	var dz []T
	if dlogits != nil {
		dz = HostData[T](dlogits)
	}
	if cap(c.losses) < n {
		c.losses = make([]float64, n)
	}
	losses := c.losses[:n]
	c.parallel(n, func(lo, hi int) {
		for r := lo; r < hi; r++ {
			row := z[r*k : (r+1)*k]
			mx := math.Inf(-1)
			for _, v := range row {
				mx = math.Max(mx, float64(v))
			}
			var sum float64
			for _, v := range row {
				sum += math.Exp(float64(v) - mx)
			}
			lse := mx + math.Log(sum)
			losses[r] = lse - float64(row[labels[r]])
			if dz == nil {
				continue
			}
			g := float64(scale) / float64(n)
			for j, v := range row {
				p := math.Exp(float64(v) - lse)
				if j == int(labels[r]) {
					p--
				}
				dz[r*k+j] = T(p * g)
			}
		}
	})
	var total float64
	for _, l := range losses {
		total += l
	}
	return total / float64(n)
}

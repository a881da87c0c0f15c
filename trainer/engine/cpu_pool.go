package engine

// MaxPool takes the maximum of each K×K window (padding never wins).
func (c *CPU[T]) MaxPool(out, in Buffer[T], g PoolGeom) {
	x, y := HostData[T](in), HostData[T](out)
	ihw, ohw := g.H*g.W, g.OH*g.OW
	c.parallel(g.N*g.C, func(lo, hi int) {
		for p := lo; p < hi; p++ {
			plane, dst := x[p*ihw:][:ihw], y[p*ohw:][:ohw]
			for oh := 0; oh < g.OH; oh++ {
				for ow := 0; ow < g.OW; ow++ {
					dst[oh*g.OW+ow] = plane[argmaxWindow(plane, g, oh, ow)]
				}
			}
		}
	})
}

// MaxPoolBackward adds each output gradient to the input that won its
// window (the first maximum, as PyTorch picks it). The winner is found again
// from the input rather than stored.
func (c *CPU[T]) MaxPoolBackward(din, dout, in Buffer[T], g PoolGeom) {
	x, dy, dx := HostData[T](in), HostData[T](dout), HostData[T](din)
	ihw, ohw := g.H*g.W, g.OH*g.OW
	c.parallel(g.N*g.C, func(lo, hi int) {
		for p := lo; p < hi; p++ {
			plane, grad, dst := x[p*ihw:][:ihw], dy[p*ohw:][:ohw], dx[p*ihw:][:ihw]
			clear(dst)
			for oh := 0; oh < g.OH; oh++ {
				for ow := 0; ow < g.OW; ow++ {
					dst[argmaxWindow(plane, g, oh, ow)] += grad[oh*g.OW+ow]
				}
			}
		}
	})
}

// argmaxWindow returns the index in plane of the first maximum of the window of output (oh, ow).
func argmaxWindow[T Float](plane []T, g PoolGeom, oh, ow int) int {
	best := -1
	for kh := 0; kh < g.K; kh++ {
		ih := oh*g.Stride - g.Pad + kh
		if ih < 0 || ih >= g.H {
			continue
		}
		for kw := 0; kw < g.K; kw++ {
			iw := ow*g.Stride - g.Pad + kw
			if iw < 0 || iw >= g.W {
				continue
			}
			i := ih*g.W + iw
			if best < 0 || plane[i] > plane[best] {
				best = i
			}
		}
	}
	return best
}

// GlobalAvgPool averages each [HW] plane.
func (c *CPU[T]) GlobalAvgPool(out, in Buffer[T], n, ch, hw int) {
	x, y := HostData[T](in), HostData[T](out)
	c.parallel(n*ch, func(lo, hi int) {
		for p := lo; p < hi; p++ {
			var s float64
			for _, v := range x[p*hw:][:hw] {
				s += float64(v)
			}
			y[p] = T(s / float64(hw))
		}
	})
}

// GlobalAvgPoolBackward spreads each gradient evenly over its plane.
func (c *CPU[T]) GlobalAvgPoolBackward(din, dout Buffer[T], n, ch, hw int) {
	dx, dy := HostData[T](din), HostData[T](dout)
	c.parallel(n*ch, func(lo, hi int) {
		for p := lo; p < hi; p++ {
			v := dy[p] / T(hw)
			dst := dx[p*hw:][:hw]
			for i := range dst {
				dst[i] = v
			}
		}
	})
}

package engine

// The convolution is im2col + GEMM. Images are processed in groups so that
// one GEMM sees many columns: for a group of G images the column matrix is
// [C·K·K, G·OH·OW] and out = W[OC, C·K·K] · col. A group of one image writes
// the GEMM result straight into the output; a 1x1 stride-1 convolution skips
// im2col and multiplies the input itself (the "plain GEMM" fast path).

// convGroup returns how many images go into one GEMM.
func convGroup(g ConvGeom) int {
	rows, cols := g.C*g.K*g.K, g.OH*g.OW
	return max(1, min(g.N, colBudget/max(1, rows*cols)))
}

func isPointwise(g ConvGeom) bool { return g.K == 1 && g.Stride == 1 && g.Pad == 0 }

// Conv2D computes out = conv(in, w).
func (c *CPU[T]) Conv2D(out, in, w Buffer[T], g ConvGeom) {
	x, wt, y := HostData[T](in), HostData[T](w), HostData[T](out)
	rows, ohw, ihw := g.C*g.K*g.K, g.OH*g.OW, g.H*g.W
	group := convGroup(g)
	if isPointwise(g) && ohw >= 256 {
		group = 1 // big planes: multiply each image in place, no copies
	}
	for n0 := 0; n0 < g.N; n0 += group {
		gn := min(group, g.N-n0)
		cols := gn * ohw
		var col []T
		if gn == 1 && isPointwise(g) {
			col = x[n0*ihw*g.C : (n0+1)*ihw*g.C]
		} else {
			col = c.workspace(0, rows*cols)
			c.im2col(col, x, g, n0, gn)
		}
		if gn == 1 {
			gemm(c.gemm, false, false, g.OC, ohw, rows, 1, wt, rows, col, ohw, 0, y[n0*g.OC*ohw:(n0+1)*g.OC*ohw], ohw)
			continue
		}
		tmp := c.workspace(1, g.OC*cols)
		gemm(c.gemm, false, false, g.OC, cols, rows, 1, wt, rows, col, cols, 0, tmp, cols)
		// Scatter [OC, G·OHW] into the NCHW output.
		c.parallel(g.OC, func(lo, hi int) {
			for oc := lo; oc < hi; oc++ {
				for i := 0; i < gn; i++ {
					copy(y[((n0+i)*g.OC+oc)*ohw:][:ohw], tmp[oc*cols+i*ohw:][:ohw])
				}
			}
		})
	}
}

// Conv2DBackward accumulates dw = dout·colᵀ and, when asked, writes or adds
// din = col2im(Wᵀ·dout). The column matrix is recomputed rather than kept
// from the forward pass: it is cheap next to the GEMMs and saves memory.
func (c *CPU[T]) Conv2DBackward(din, dw, dout, in, w Buffer[T], g ConvGeom) {
	x, wt, dy, dwt := HostData[T](in), HostData[T](w), HostData[T](dout), HostData[T](dw)
	var dx []T
	if g.NeedInputGrad {
		dx = HostData[T](din)
		if !g.AccumulateInput {
			c.parallel(len(dx), func(lo, hi int) { clear(dx[lo:hi]) })
		}
	}
	rows, ohw, ihw := g.C*g.K*g.K, g.OH*g.OW, g.H*g.W
	group := convGroup(g)
	if isPointwise(g) && ohw >= 256 {
		group = 1
	}
	for n0 := 0; n0 < g.N; n0 += group {
		gn := min(group, g.N-n0)
		cols := gn * ohw
		pointwise1 := gn == 1 && isPointwise(g)
		var col []T
		if pointwise1 {
			col = x[n0*ihw*g.C : (n0+1)*ihw*g.C]
		} else {
			col = c.workspace(0, rows*cols)
			c.im2col(col, x, g, n0, gn)
		}
		var d []T
		if gn == 1 {
			d = dy[n0*g.OC*ohw : (n0+1)*g.OC*ohw]
		} else {
			d = c.workspace(1, g.OC*cols)
			c.parallel(g.OC, func(lo, hi int) {
				for oc := lo; oc < hi; oc++ {
					for i := 0; i < gn; i++ {
						copy(d[oc*cols+i*ohw:][:ohw], dy[((n0+i)*g.OC+oc)*ohw:][:ohw])
					}
				}
			})
		}
		gemm(c.gemm, false, true, g.OC, rows, cols, 1, d, cols, col, cols, 1, dwt, rows)
		if !g.NeedInputGrad {
			continue
		}
		if pointwise1 {
			// din[n] (+)= Wᵀ·dout[n] straight into the input gradient.
			gemm(c.gemm, true, false, g.C, ohw, g.OC, 1, wt, g.C, d, ohw, 1, dx[n0*ihw*g.C:(n0+1)*ihw*g.C], ohw)
			continue
		}
		dcol := c.workspace(2, rows*cols)
		gemm(c.gemm, true, false, rows, cols, g.OC, 1, wt, rows, d, cols, 0, dcol, cols)
		c.col2im(dx, dcol, g, n0, gn)
	}
}

// im2col writes col[(c·K+kh)·K+kw, i·OHW + oh·OW + ow] = x[n0+i, c, oh·s-p+kh, ow·s-p+kw]
// (zero outside the image) for the gn images from n0.
func (c *CPU[T]) im2col(col, x []T, g ConvGeom, n0, gn int) {
	kk, ohw, ihw, cols := g.K*g.K, g.OH*g.OW, g.H*g.W, gn*g.OH*g.OW
	c.parallel(g.C*kk, func(lo, hi int) {
		for r := lo; r < hi; r++ {
			ch, kh, kw := r/kk, (r%kk)/g.K, r%g.K
			row := col[r*cols : (r+1)*cols]
			for i := 0; i < gn; i++ {
				plane := x[((n0+i)*g.C+ch)*ihw:][:ihw]
				dst := row[i*ohw : (i+1)*ohw]
				for oh := 0; oh < g.OH; oh++ {
					ih := oh*g.Stride - g.Pad + kh
					out := dst[oh*g.OW : (oh+1)*g.OW]
					if ih < 0 || ih >= g.H {
						clear(out)
						continue
					}
					src := plane[ih*g.W : (ih+1)*g.W]
					if g.Stride == 1 {
						// Valid ow: 0 <= ow - pad + kw < W.
						lo, hi := max(0, g.Pad-kw), min(g.OW, g.W+g.Pad-kw)
						clear(out[:max(lo, 0)])
						if hi > lo {
							copy(out[lo:hi], src[lo-g.Pad+kw:hi-g.Pad+kw])
						}
						if hi < g.OW {
							clear(out[max(hi, 0):])
						}
						continue
					}
					for ow := range out {
						iw := ow*g.Stride - g.Pad + kw
						if iw >= 0 && iw < g.W {
							out[ow] = src[iw]
						} else {
							out[ow] = 0
						}
					}
				}
			}
		}
	})
}

// col2im adds the column gradient back into dx; each goroutine owns whole
// input channels, so no two write the same element.
func (c *CPU[T]) col2im(dx, dcol []T, g ConvGeom, n0, gn int) {
	kk, ohw, ihw, cols := g.K*g.K, g.OH*g.OW, g.H*g.W, gn*g.OH*g.OW
	c.parallel(g.C, func(lo, hi int) {
		for ch := lo; ch < hi; ch++ {
			for i := 0; i < gn; i++ {
				plane := dx[((n0+i)*g.C+ch)*ihw:][:ihw]
				for k := 0; k < kk; k++ {
					kh, kw := k/g.K, k%g.K
					src := dcol[(ch*kk+k)*cols+i*ohw:][:ohw]
					for oh := 0; oh < g.OH; oh++ {
						ih := oh*g.Stride - g.Pad + kh
						if ih < 0 || ih >= g.H {
							continue
						}
						dst := plane[ih*g.W : (ih+1)*g.W]
						row := src[oh*g.OW : (oh+1)*g.OW]
						if g.Stride == 1 {
							lo, hi := max(0, g.Pad-kw), min(g.OW, g.W+g.Pad-kw)
							off := -g.Pad + kw
							for ow := lo; ow < hi; ow++ {
								dst[ow+off] += row[ow]
							}
							continue
						}
						for ow, v := range row {
							iw := ow*g.Stride - g.Pad + kw
							if iw >= 0 && iw < g.W {
								dst[iw] += v
							}
						}
					}
				}
			}
		}
	})
}

package engine

// Gemm computes c = alpha·op(a)·op(b) + beta·c on host buffers.
func (c *CPU[T]) Gemm(transA, transB bool, m, n, k int, alpha T, a Buffer[T], lda int, b Buffer[T], ldb int, beta T, cb Buffer[T], ldc int) {
	gemm(c.gemm, transA, transB, m, n, k, alpha, HostData[T](a), lda, HostData[T](b), ldb, beta, HostData[T](cb), ldc)
}

// RowDot writes out[i·stride] = scale·Σ_j a[i,j]·b[i,j].
func (c *CPU[T]) RowDot(out Buffer[T], stride int, a, b Buffer[T], n, d int, scale T) {
	o, x, y := HostData[T](out), HostData[T](a), HostData[T](b)
	c.parallel(n, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			var s float64
			xr, yr := x[i*d:(i+1)*d], y[i*d:(i+1)*d]
			for j := range xr {
				s += float64(xr[j]) * float64(yr[j])
			}
			o[i*stride] = T(s) * scale
		}
	})
}

// RowAxpy computes dst[i,:] += alpha·coef[i·stride]·x[i,:].
func (c *CPU[T]) RowAxpy(dst Buffer[T], alpha T, coef Buffer[T], stride int, x Buffer[T], n, d int) {
	o, k, xs := HostData[T](dst), HostData[T](coef), HostData[T](x)
	c.parallel(n, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			f := alpha * k[i*stride]
			or, xr := o[i*d:(i+1)*d], xs[i*d:(i+1)*d]
			for j := range or {
				or[j] += f * xr[j]
			}
		}
	})
}

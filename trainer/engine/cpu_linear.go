package engine

// Linear computes out[N,O] = in[N,I]·wᵀ + b with w stored [O,I] as in PyTorch.
func (c *CPU[T]) Linear(out, in, w, b Buffer[T], n, i, o int) {
	x, wt, y := HostData[T](in), HostData[T](w), HostData[T](out)
	gemm(c.gemm, false, true, n, o, i, 1, x, i, wt, i, 0, y, o)
	if b == nil {
		return
	}
	bias := HostData[T](b)
	for r := 0; r < n; r++ {
		row := y[r*o : (r+1)*o]
		for j := range row {
			row[j] += bias[j]
		}
	}
}

// LinearBackward accumulates dw += doutᵀ·in and db += Σ dout, and writes
// din = dout·w when din is not nil.
func (c *CPU[T]) LinearBackward(din, dw, db, dout, in, w Buffer[T], n, i, o int) {
	x, wt, dy := HostData[T](in), HostData[T](w), HostData[T](dout)
	gemm(c.gemm, true, false, o, i, n, 1, dy, o, x, i, 1, HostData[T](dw), i)
	if db != nil {
		bias := HostData[T](db)
		for r := 0; r < n; r++ {
			for j, v := range dy[r*o : (r+1)*o] {
				bias[j] += v
			}
		}
	}
	if din != nil {
		gemm(c.gemm, false, false, n, i, o, 1, dy, o, wt, i, 0, HostData[T](din), i)
	}
}

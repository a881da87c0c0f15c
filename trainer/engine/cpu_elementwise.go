package engine

// AddReLU computes out = max(0, a+b): the end of a residual block.
func (c *CPU[T]) AddReLU(out, a, b Buffer[T]) {
	y, x1, x2 := HostData[T](out), HostData[T](a), HostData[T](b)
	c.parallel(len(y), func(lo, hi int) {
		for i := lo; i < hi; i++ {
			y[i] = max(0, x1[i]+x2[i])
		}
	})
}

// ReLU computes out = max(0, in).
func (c *CPU[T]) ReLU(out, in Buffer[T]) {
	y, x := HostData[T](out), HostData[T](in)
	c.parallel(len(y), func(lo, hi int) {
		for i := lo; i < hi; i++ {
			y[i] = max(0, x[i])
		}
	})
}

// ReLUBackward writes din = dout where out > 0, else 0 (din may be dout).
func (c *CPU[T]) ReLUBackward(din, dout, out Buffer[T]) {
	dx, dy, y := HostData[T](din), HostData[T](dout), HostData[T](out)
	c.parallel(len(dx), func(lo, hi int) {
		for i := lo; i < hi; i++ {
			if y[i] > 0 {
				dx[i] = dy[i]
			} else {
				dx[i] = 0
			}
		}
	})
}

// Add computes dst += src.
func (c *CPU[T]) Add(dst, src Buffer[T]) {
	d, s := HostData[T](dst), HostData[T](src)
	c.parallel(len(d), func(lo, hi int) {
		for i := lo; i < hi; i++ {
			d[i] += s[i]
		}
	})
}

// SGDStep applies one SGD step with momentum and weight decay as
// torch.optim.SGD (dampening 0, not Nesterov): g = grad + wd·p,
// v = μ·v + g (v starts at zero, so the first step gives v = g), p -= lr·v.
func (c *CPU[T]) SGDStep(params, grads, velocity Buffer[T], lr, momentum, weightDecay T) {
	p, g, v := HostData[T](params), HostData[T](grads), HostData[T](velocity)
	c.parallel(len(p), func(lo, hi int) {
		for i := lo; i < hi; i++ {
			gi := g[i] + weightDecay*p[i]
			v[i] = momentum*v[i] + gi
			p[i] -= lr * v[i]
		}
	})
}

// Axpby computes y = a·x + b·y.
func (c *CPU[T]) Axpby(a T, x Buffer[T], b T, y Buffer[T]) {
	xs, ys := HostData[T](x), HostData[T](y)
	c.parallel(len(ys), func(lo, hi int) {
		for i := lo; i < hi; i++ {
			ys[i] = a*xs[i] + b*ys[i]
		}
	})
}

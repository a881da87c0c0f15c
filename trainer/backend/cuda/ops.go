package cuda

import (
	"fmt"
	"math"
	"runtime"
	"unsafe"

	"github.com/mocoedge/mocoedge/trainer/engine"
)

// blockSize is every kernel's block size (BLOCK in kernels.cu).
const blockSize = 256

// elementwiseGrid is the grid for n values with grid-stride loops: enough
// blocks to fill the device, capped so huge tensors loop instead.
func elementwiseGrid(n int) uint32 {
	return uint32(min(max(1, (n+blockSize-1)/blockSize), 1<<16))
}

// launch runs kernel name on a grid of blocks of blockSize threads. Each
// argument fills one 8-byte parameter slot: a DeviceBuffer or uint64 its
// device address, an int a long long, a float32 a float (low 4 bytes,
// little-endian), a float64 a double. The slots and the pointer array
// CUDA reads are pinned for the call.
func (b *Backend) launch(name string, grid [3]uint32, args ...any) {
	fn, ok := b.functions[name]
	if !ok {
		if b.fail(b.a.cuError("cuModuleGetFunction("+name+")", b.a.cuModuleGetFunction(&fn, b.module, name))) {
			return
		}
		b.functions[name] = fn
	}
	slots := make([]uint64, len(args))
	for i, arg := range args {
		switch v := arg.(type) {
		case DeviceBuffer:
			slots[i] = v.ptr
		case uint64:
			slots[i] = v
		case int:
			slots[i] = uint64(int64(v))
		case float32:
			slots[i] = uint64(math.Float32bits(v))
		case float64:
			slots[i] = math.Float64bits(v)
		default:
			panic(fmt.Sprintf("cuda: kernel %s: argument %d of type %T", name, i, arg))
		}
	}
	params := make([]unsafe.Pointer, len(slots))
	var pin runtime.Pinner
	defer pin.Unpin()
	if len(slots) > 0 {
		pin.Pin(&slots[0])
		for i := range slots {
			params[i] = unsafe.Pointer(&slots[i])
		}
		pin.Pin(&params[0])
	}
	var p unsafe.Pointer
	if len(params) > 0 {
		p = unsafe.Pointer(&params[0])
	}
	b.fail(b.a.cuError("cuLaunchKernel("+name+")", b.a.cuLaunchKernel(fn, grid[0], grid[1], grid[2], blockSize, 1, 1, 0, 0, p, nil)))
}

// elementwise launches a grid-stride kernel over n values.
func (b *Backend) elementwise(name string, n int, args ...any) {
	if n == 0 {
		return
	}
	b.do(func() { b.launch(name, [3]uint32{elementwiseGrid(n), 1, 1}, args...) })
}

// AddReLU computes out = max(0, a+b).
func (b *Backend) AddReLU(out, x, y engine.Buffer[float32]) {
	o := buf(out)
	b.elementwise("add_relu", o.n, o, buf(x), buf(y), o.n)
}

// ReLU computes out = max(0, in).
func (b *Backend) ReLU(out, in engine.Buffer[float32]) {
	o := buf(out)
	b.elementwise("relu", o.n, o, buf(in), o.n)
}

// ReLUBackward writes din = dout where out > 0, else 0.
func (b *Backend) ReLUBackward(din, dout, out engine.Buffer[float32]) {
	d := buf(din)
	b.elementwise("relu_backward", d.n, d, buf(dout), buf(out), d.n)
}

// Add computes dst += src.
func (b *Backend) Add(dst, src engine.Buffer[float32]) {
	d := buf(dst)
	b.elementwise("add", d.n, d, buf(src), d.n)
}

// SGDStep applies torch.optim.SGD's update (dampening 0, not Nesterov).
func (b *Backend) SGDStep(params, grads, velocity engine.Buffer[float32], lr, momentum, weightDecay float32) {
	p := buf(params)
	b.elementwise("sgd_step", p.n, p, buf(grads), buf(velocity), lr, momentum, weightDecay, p.n)
}

// Axpby computes y = a·x + b·y.
func (b *Backend) Axpby(a float32, x engine.Buffer[float32], c float32, y engine.Buffer[float32]) {
	yy := buf(y)
	b.elementwise("axpby", yy.n, a, buf(x), c, yy, yy.n)
}

// Linear computes out[N,O] = in[N,I]·wᵀ + b (b may be nil).
func (b *Backend) Linear(out, in, w, bias engine.Buffer[float32], n, i, o int) {
	y, x, wt := buf(out), buf(in), buf(w)
	b.do(func() {
		if n == 0 || o == 0 {
			return
		}
		b.gemm(false, true, n, o, i, 1, x.ptr, i, wt.ptr, i, 0, y.ptr, o)
		if bias != nil {
			b.launch("bias_add", [3]uint32{elementwiseGrid(n * o), 1, 1}, y, buf(bias), n, o)
		}
	})
}

// LinearBackward accumulates dw += doutᵀ·in and db += Σ dout, and writes
// din = dout·w when din is not nil.
func (b *Backend) LinearBackward(din, dw, db, dout, in, w engine.Buffer[float32], n, i, o int) {
	x, wt, dy := buf(in), buf(w), buf(dout)
	b.do(func() {
		if n == 0 || o == 0 {
			return
		}
		b.gemm(true, false, o, i, n, 1, dy.ptr, o, x.ptr, i, 1, buf(dw).ptr, i)
		if db != nil {
			b.launch("bias_grad", [3]uint32{elementwiseGrid(o), 1, 1}, buf(db), dy, n, o)
		}
		if din != nil {
			b.gemm(false, false, n, i, o, 1, dy.ptr, o, wt.ptr, i, 0, buf(din).ptr, i)
		}
	})
}

// MaxPool takes the first maximum of each window, as the CPU does.
func (b *Backend) MaxPool(out, in engine.Buffer[float32], g engine.PoolGeom) {
	planes := g.N * g.C
	b.elementwise("max_pool", planes*g.OH*g.OW, buf(out), buf(in), planes, g.H, g.W, g.K, g.Stride, g.Pad, g.OH, g.OW)
}

// MaxPoolBackward writes din: each input gets the gradients of the windows
// it won (a gather, so no atomics and the CPU's summation order).
func (b *Backend) MaxPoolBackward(din, dout, in engine.Buffer[float32], g engine.PoolGeom) {
	planes := g.N * g.C
	b.elementwise("max_pool_backward", planes*g.H*g.W, buf(din), buf(dout), buf(in), planes, g.H, g.W, g.K, g.Stride, g.Pad, g.OH, g.OW)
}

// GlobalAvgPool averages [N,C,HW] into [N,C].
func (b *Backend) GlobalAvgPool(out, in engine.Buffer[float32], n, c, hw int) {
	b.elementwise("global_avg_pool", n*c, buf(out), buf(in), n*c, hw)
}

// GlobalAvgPoolBackward spreads each gradient evenly over its plane.
func (b *Backend) GlobalAvgPoolBackward(din, dout engine.Buffer[float32], n, c, hw int) {
	b.elementwise("global_avg_pool_backward", n*c*hw, buf(din), buf(dout), n*c, hw)
}

// L2Normalize scales each row of in [N,D] to unit length.
func (b *Backend) L2Normalize(out, in engine.Buffer[float32], n, d int) {
	b.elementwise("l2_normalize", n, buf(out), buf(in), n, d)
}

// L2NormalizeBackward writes din from dout, the input and the output.
func (b *Backend) L2NormalizeBackward(din, dout, in, out engine.Buffer[float32], n, d int) {
	b.elementwise("l2_normalize_backward", n, buf(din), buf(dout), buf(in), buf(out), n, d)
}

// RowDot writes out[i·stride] = scale·(a[i]·b[i]).
func (b *Backend) RowDot(out engine.Buffer[float32], stride int, x, y engine.Buffer[float32], n, d int, scale float32) {
	b.elementwise("row_dot", n, buf(out), stride, buf(x), buf(y), n, d, scale)
}

// RowAxpy computes dst[i] += alpha·coef[i·stride]·x[i].
func (b *Backend) RowAxpy(dst engine.Buffer[float32], alpha float32, coef engine.Buffer[float32], stride int, x engine.Buffer[float32], n, d int) {
	b.elementwise("row_axpy", n*d, buf(dst), alpha, buf(coef), stride, buf(x), n, d)
}

// SoftmaxCrossEntropy returns the mean loss of logits [N,K] against labels
// and writes dlogits = (softmax − onehot)/N·scale when dlogits is not nil.
// It waits for the device (the loss is read back). NaN after an error.
func (b *Backend) SoftmaxCrossEntropy(dlogits, logits engine.Buffer[float32], labels []int32, n, k int, scale float32) float64 {
	if n == 0 {
		return 0
	}
	if len(labels) < n {
		panic(fmt.Sprintf("cuda: %d labels for %d rows", len(labels), n))
	}
	if cap(b.losses) < n {
		b.losses = make([]float64, n)
	}
	losses := b.losses[:n]
	b.do(func() {
		lab, loss := b.workspace(scratchLabels, uint64(4*n)), b.workspace(scratchLosses, uint64(8*n))
		if b.err != nil {
			return
		}
		if b.fail(b.a.cuError("cuMemcpyHtoD_v2(labels)", b.a.cuMemcpyHtoD(lab, unsafe.Pointer(&labels[0]), uint64(4*n)))) {
			return
		}
		var dz uint64
		if dlogits != nil {
			dz = buf(dlogits).ptr
		}
		b.launch("softmax_xent", [3]uint32{uint32(n), 1, 1}, dz, buf(logits), lab, loss, n, k, scale)
		if b.err != nil {
			return
		}
		b.fail(b.a.cuError("cuMemcpyDtoH_v2(losses)", b.a.cuMemcpyDtoH(unsafe.Pointer(&losses[0]), loss, uint64(8*n))))
	})
	runtime.KeepAlive(labels)
	if b.err != nil {
		return math.NaN()
	}
	var total float64
	for _, l := range losses {
		total += l
	}
	return total / float64(n)
}

// reductionGrid is the (C, splits, chunks) grid of the batch norm
// reductions: enough chunks that each thread sums about 16 values.
func reductionGrid(g engine.BNGeom, splits int) [3]uint32 {
	per := (g.N + splits - 1) / splits * g.HW
	chunks := min(max(1, per/(blockSize*16)), 1024)
	return [3]uint32{uint32(g.C), uint32(splits), uint32(chunks)}
}

// BatchNorm normalises in into out with batch statistics per split (train)
// or the running statistics; with relu, out = max(0, bn(in)). Training
// also saves the mean and 1/std per split and updates the running
// statistics, exactly as the CPU backend does.
func (b *Backend) BatchNorm(out, in engine.Buffer[float32], s engine.BNState[float32], g engine.BNGeom, train, relu bool) {
	if g.N*g.C*g.HW == 0 {
		return
	}
	y, x := buf(out), buf(in)
	gamma, beta, rmean, rvar := buf(s.Gamma), buf(s.Beta), buf(s.RunMean), buf(s.RunVar)
	r := 0
	if relu {
		r = 1
	}
	b.do(func() {
		splits := max(1, g.Splits)
		if !train {
			splits = 1
		}
		coef := b.workspace(scratchCoef, uint64(4*3*splits*g.C))
		if b.err != nil {
			return
		}
		if !train {
			b.launch("bn_eval_coef", [3]uint32{elementwiseGrid(g.C), 1, 1}, coef, rmean, rvar, gamma, beta, g.C, g.Eps)
		} else {
			sum, sq := b.workspace(scratchSums, uint64(8*splits*g.C)), b.workspace(scratchSq, uint64(8*splits*g.C))
			if b.err != nil || b.zero(sum, 2*splits*g.C) || b.zero(sq, 2*splits*g.C) {
				return
			}
			grid := reductionGrid(g, splits)
			b.launch("bn_sum", grid, sum, x, g.N, g.C, g.HW, splits)
			b.launch("bn_sqdev", grid, sq, sum, x, g.N, g.C, g.HW, splits)
			b.launch("bn_finalize", [3]uint32{elementwiseGrid(g.C), 1, 1}, buf(s.SaveMean), buf(s.SaveInvStd), coef, rmean, rvar,
				sum, sq, gamma, beta, g.N, g.C, g.HW, splits, g.Eps, g.Momentum)
		}
		n := g.N * g.C * g.HW
		b.launch("bn_apply", [3]uint32{elementwiseGrid(n), 1, 1}, y, x, coef, g.N, g.C, g.HW, splits, r)
	})
}

// zero clears words 32-bit words at p; it reports whether it failed.
func (b *Backend) zero(p uint64, words int) bool {
	return b.fail(b.a.cuError("cuMemsetD32_v2", b.a.cuMemsetD32(p, 0, uint64(words))))
}

// BatchNormBackward writes din and accumulates DGamma and DBeta; out is the
// forward output, whose sign masks dout when relu is set.
func (b *Backend) BatchNormBackward(din, dout, in, out engine.Buffer[float32], s engine.BNState[float32], g engine.BNGeom, train, relu bool) {
	if g.N*g.C*g.HW == 0 {
		return
	}
	dx, dy, x := buf(din), buf(dout), buf(in)
	var y uint64
	if relu {
		y = buf(out).ptr
	}
	b.do(func() {
		splits := max(1, g.Splits)
		mu, inv := buf(s.SaveMean), buf(s.SaveInvStd).ptr
		t := 1
		if !train {
			splits, mu, inv, t = 1, buf(s.RunMean), 0, 0
		}
		acc, coef := b.workspace(scratchSums, uint64(8*2*splits*g.C)), b.workspace(scratchCoef, uint64(4*3*splits*g.C))
		if b.err != nil || b.zero(acc, 4*splits*g.C) {
			return
		}
		b.launch("bn_grad_sums", reductionGrid(g, splits), acc, dy, x, y, mu, g.N, g.C, g.HW, splits)
		b.launch("bn_grad_coef", [3]uint32{elementwiseGrid(g.C), 1, 1}, coef, buf(s.DGamma), buf(s.DBeta), acc, buf(s.Gamma),
			inv, buf(s.RunVar), g.N, g.C, g.HW, splits, t, g.Eps)
		n := g.N * g.C * g.HW
		b.launch("bn_grad_apply", [3]uint32{elementwiseGrid(n), 1, 1}, dx, dy, x, y, mu, coef, g.N, g.C, g.HW, splits)
	})
}

package engine

// Float is the element type of the engine's buffers.
type Float interface{ float32 | float64 }

// Buffer is a flat array of elements owned by a Backend: host memory for the
// CPU backend, device memory for an accelerator.
type Buffer[T Float] interface {
	// Len returns the number of elements.
	Len() int
}

// ConvGeom describes one convolution over a batch: input [N,C,H,W], weight
// [OC,C,K,K], output [N,OC,OH,OW].
type ConvGeom struct {
	N, C, H, W      int
	OC, K, Stride   int
	Pad, OH, OW     int
	NeedInputGrad   bool // false for the first layer, whose input gradient nobody reads
	AccumulateInput bool // add the input gradient into din instead of overwriting it
}

// BNGeom describes a batch norm over [N,C,HW] with the batch normalised in
// Splits interleaved groups (image n belongs to group n mod Splits, as the
// official MoCo SplitBatchNorm's reshape does). Splits 1 is plain batch norm.
type BNGeom struct {
	N, C, HW int
	Splits   int
	Eps      float64
	Momentum float64 // running-stat momentum, PyTorch convention (0.1)
}

// BNState holds a batch norm's tensors. Gamma, Beta and the running
// statistics have C elements; SaveMean and SaveInvStd have Splits*C and are
// written by the training forward pass for the backward pass.
type BNState[T Float] struct {
	Gamma, Beta, DGamma, DBeta Buffer[T]
	RunMean, RunVar            Buffer[T]
	SaveMean, SaveInvStd       Buffer[T]
}

// Backend owns memory and runs the kernels. Model code calls only these
// methods, so it does not know which device runs it. Kernels that produce a
// parameter gradient accumulate into it (callers zero gradients once per
// step); activation outputs are overwritten unless a flag says otherwise.
type Backend[T Float] interface {
	// Name identifies the backend in logs and reports ("cpu", "cuda").
	Name() string
	// Alloc returns a zeroed buffer of n elements.
	Alloc(n int) Buffer[T]
	// Slice returns a view of n elements of b starting at off.
	Slice(b Buffer[T], off, n int) Buffer[T]
	// Upload copies host data into dst; Download copies src to host memory.
	Upload(dst Buffer[T], src []T)
	Download(dst []T, src Buffer[T])
	// Copy copies src into dst (same length).
	Copy(dst, src Buffer[T])
	// Fill sets every element of b to v.
	Fill(b Buffer[T], v T)

	// Conv2D computes out = conv(in, w) without bias.
	Conv2D(out, in, w Buffer[T], g ConvGeom)
	// Conv2DBackward accumulates dw and writes (or adds, see ConvGeom) din.
	Conv2DBackward(din, dw, dout, in, w Buffer[T], g ConvGeom)

	// BatchNorm normalises in into out with batch statistics (train) or the
	// running statistics (!train); with relu, out = max(0, bn(in)).
	BatchNorm(out, in Buffer[T], s BNState[T], g BNGeom, train, relu bool)
	// BatchNormBackward writes din and accumulates DGamma and DBeta; out is
	// the forward output (for the ReLU mask when relu is set).
	BatchNormBackward(din, dout, in, out Buffer[T], s BNState[T], g BNGeom, train, relu bool)

	// MaxPool is a K×K max-pool with stride and padding over [N,C,H,W].
	MaxPool(out, in Buffer[T], g PoolGeom)
	// MaxPoolBackward routes dout to the argmax of each window into din.
	MaxPoolBackward(din, dout, in Buffer[T], g PoolGeom)
	// GlobalAvgPool averages [N,C,HW] into [N,C]; the backward spreads it back.
	GlobalAvgPool(out, in Buffer[T], n, c, hw int)
	GlobalAvgPoolBackward(din, dout Buffer[T], n, c, hw int)

	// Linear computes out[N,O] = in[N,I]·wᵀ + b (b may be nil).
	Linear(out, in, w, b Buffer[T], n, i, o int)
	// LinearBackward accumulates dw and db, and writes din when it is not nil.
	LinearBackward(din, dw, db, dout, in, w Buffer[T], n, i, o int)

	// AddReLU computes out = max(0, a+b).
	AddReLU(out, a, b Buffer[T])
	// ReLU computes out = max(0, in); ReLUBackward masks dout where out <= 0.
	ReLU(out, in Buffer[T])
	ReLUBackward(din, dout, out Buffer[T])
	// Add computes dst += src.
	Add(dst, src Buffer[T])

	// L2Normalize scales each row of in [N,D] to unit length.
	L2Normalize(out, in Buffer[T], n, d int)
	// L2NormalizeBackward writes din from dout, the input and the output.
	L2NormalizeBackward(din, dout, in, out Buffer[T], n, d int)

	// SoftmaxCrossEntropy returns the mean loss of logits [N,K] against
	// labels and writes dlogits = (softmax - onehot)/N·scale when dlogits is not nil.
	SoftmaxCrossEntropy(dlogits, logits Buffer[T], labels []int32, n, k int, scale T) float64

	// Gemm computes c = alpha·op(a)·op(b) + beta·c on row-major buffers with
	// leading dimensions, like BLAS (op is a transpose when its flag is set).
	Gemm(transA, transB bool, m, n, k int, alpha T, a Buffer[T], lda int, b Buffer[T], ldb int, beta T, c Buffer[T], ldc int)
	// RowDot writes out[i·stride] = scale·(a[i]·b[i]) for n rows of d.
	RowDot(out Buffer[T], stride int, a, b Buffer[T], n, d int, scale T)
	// RowAxpy computes dst[i] += alpha·coef[i·stride]·x[i] for n rows of d.
	RowAxpy(dst Buffer[T], alpha T, coef Buffer[T], stride int, x Buffer[T], n, d int)

	// SGDStep applies one SGD step with momentum and weight decay, PyTorch
	// semantics: g = grad + wd·p; v = μ·v + g; p -= lr·v.
	SGDStep(params, grads, velocity Buffer[T], lr, momentum, weightDecay T)
	// Axpby computes y = a·x + b·y (the momentum update of MoCo's key encoder).
	Axpby(a T, x Buffer[T], b T, y Buffer[T])
}

// PoolGeom describes a K×K pooling window with stride and padding.
type PoolGeom struct {
	N, C, H, W, K, Stride, Pad, OH, OW int
}

package cuda

import (
	"fmt"
	"unsafe"

	"github.com/mocoedge/mocoedge/trainer/engine"
)

// convKey is a convolution's shape; one plan (descriptors and algorithms)
// is kept per shape.
type convKey struct{ N, C, H, W, OC, K, Stride, Pad, OH, OW int }

// Convolution directions, each with its own descriptor (the math type is
// set per chosen algorithm) and algorithm.
const (
	dirForward = iota
	dirBackwardData
	dirBackwardFilter
	numDirections
)

var directionNames = [numDirections]string{"forward", "backward data", "backward filter"}

// convPlan holds one shape's cuDNN descriptors and, once found, the
// fastest algorithm per direction with its workspace size.
type convPlan struct {
	x, y, w uintptr
	conv    [numDirections]uintptr
	algo    [numDirections]int32
	ws      [numDirections]uint64
	found   [numDirections]bool
}

// plan returns the plan of g's shape, creating its descriptors on first
// use; nil after an error.
func (b *Backend) plan(g engine.ConvGeom) *convPlan {
	key := convKey{g.N, g.C, g.H, g.W, g.OC, g.K, g.Stride, g.Pad, g.OH, g.OW}
	if p, ok := b.convs[key]; ok {
		return p
	}
	a, p := b.a, &convPlan{}
	math := int32(cudnnDefaultMath)
	if b.opts.DisableTF32 {
		math = cudnnFMAMath
	}
	check := func(call string, s int32) bool { return !b.fail(a.cudnnError(call, s)) }
	ok := check("cudnnCreateTensorDescriptor", a.cudnnCreateTensorDescriptor(&p.x)) &&
		check("cudnnSetTensor4dDescriptor(x)", a.cudnnSetTensor4dDescriptor(p.x, cudnnTensorNCHW, cudnnDataFloat, int32(g.N), int32(g.C), int32(g.H), int32(g.W))) &&
		check("cudnnCreateTensorDescriptor", a.cudnnCreateTensorDescriptor(&p.y)) &&
		check("cudnnSetTensor4dDescriptor(y)", a.cudnnSetTensor4dDescriptor(p.y, cudnnTensorNCHW, cudnnDataFloat, int32(g.N), int32(g.OC), int32(g.OH), int32(g.OW))) &&
		check("cudnnCreateFilterDescriptor", a.cudnnCreateFilterDescriptor(&p.w)) &&
		check("cudnnSetFilter4dDescriptor", a.cudnnSetFilter4dDescriptor(p.w, cudnnDataFloat, cudnnTensorNCHW, int32(g.OC), int32(g.C), int32(g.K), int32(g.K)))
	for d := range p.conv {
		ok = ok &&
			check("cudnnCreateConvolutionDescriptor", a.cudnnCreateConvolutionDescriptor(&p.conv[d])) &&
			check("cudnnSetConvolution2dDescriptor", a.cudnnSetConvolution2dDescriptor(p.conv[d], int32(g.Pad), int32(g.Pad), int32(g.Stride), int32(g.Stride), 1, 1, cudnnCrossCorrelation, cudnnDataFloat)) &&
			check("cudnnSetConvolutionMathType", a.cudnnSetConvolutionMathType(p.conv[d], math))
	}
	if !ok {
		return nil
	}
	b.convs[key] = p
	return p
}

// choose runs cuDNN's Find for direction d once per shape (it times the
// candidate algorithms on scratch buffers it allocates itself) and keeps
// the fastest that succeeded, with that algorithm's math type. It reports
// whether an algorithm is ready.
func (b *Backend) choose(p *convPlan, d int, g engine.ConvGeom) bool {
	if p.found[d] {
		return true
	}
	a := b.a
	var perf [8]algoPerf
	var n int32
	var s int32
	call := "cudnnFindConvolution"
	switch d {
	case dirForward:
		call += "ForwardAlgorithm"
		s = a.cudnnFindConvolutionForward(b.cudnn, p.x, p.w, p.conv[d], p.y, int32(len(perf)), &n, unsafe.Pointer(&perf[0]))
	case dirBackwardData:
		call += "BackwardDataAlgorithm"
		s = a.cudnnFindConvolutionBackwardData(b.cudnn, p.w, p.y, p.conv[d], p.x, int32(len(perf)), &n, unsafe.Pointer(&perf[0]))
	default:
		call += "BackwardFilterAlgorithm"
		s = a.cudnnFindConvolutionBackwardFilt(b.cudnn, p.x, p.y, p.conv[d], p.w, int32(len(perf)), &n, unsafe.Pointer(&perf[0]))
	}
	if b.fail(a.cudnnError(call, s)) {
		return false
	}
	for _, r := range perf[:min(int(n), len(perf))] {
		if r.Status != 0 {
			continue
		}
		if b.fail(a.cudnnError("cudnnSetConvolutionMathType", a.cudnnSetConvolutionMathType(p.conv[d], r.MathType))) {
			return false
		}
		p.algo[d], p.ws[d], p.found[d] = r.Algo, r.Memory, true
		return true
	}
	b.fail(fmt.Errorf("%s: no algorithm succeeded for the %s convolution %+v", call, directionNames[d], g))
	return false
}

// Conv2D computes out = conv(in, w) with cuDNN.
func (b *Backend) Conv2D(out, in, w engine.Buffer[float32], g engine.ConvGeom) {
	y, x, wt := buf(out), buf(in), buf(w)
	b.do(func() {
		p := b.plan(g)
		if p == nil || !b.choose(p, dirForward, g) {
			return
		}
		ws := b.workspace(scratchConv, p.ws[dirForward])
		if b.err != nil {
			return
		}
		one, zero := float32(1), float32(0)
		b.fail(b.a.cudnnError("cudnnConvolutionForward", b.a.cudnnConvolutionForward(b.cudnn, &one, p.x, x.ptr, p.w, wt.ptr,
			p.conv[dirForward], p.algo[dirForward], ws, p.ws[dirForward], &zero, p.y, y.ptr)))
	})
}

// Conv2DBackward accumulates dw (cuDNN's beta 1) and, when g asks for it,
// writes or adds din.
func (b *Backend) Conv2DBackward(din, dw, dout, in, w engine.Buffer[float32], g engine.ConvGeom) {
	dy, x, wt, dwt := buf(dout), buf(in), buf(w), buf(dw)
	b.do(func() {
		p := b.plan(g)
		if p == nil || !b.choose(p, dirBackwardFilter, g) {
			return
		}
		one, zero := float32(1), float32(0)
		ws := b.workspace(scratchConv, p.ws[dirBackwardFilter])
		if b.err != nil {
			return
		}
		if b.fail(b.a.cudnnError("cudnnConvolutionBackwardFilter", b.a.cudnnConvolutionBackwardFilter(b.cudnn, &one, p.x, x.ptr, p.y, dy.ptr,
			p.conv[dirBackwardFilter], p.algo[dirBackwardFilter], ws, p.ws[dirBackwardFilter], &one, p.w, dwt.ptr))) {
			return
		}
		if !g.NeedInputGrad || !b.choose(p, dirBackwardData, g) {
			return
		}
		ws = b.workspace(scratchConv, p.ws[dirBackwardData])
		if b.err != nil {
			return
		}
		beta := &zero
		if g.AccumulateInput {
			beta = &one
		}
		b.fail(b.a.cudnnError("cudnnConvolutionBackwardData", b.a.cudnnConvolutionBackwardData(b.cudnn, &one, p.w, wt.ptr, p.y, dy.ptr,
			p.conv[dirBackwardData], p.algo[dirBackwardData], ws, p.ws[dirBackwardData], beta, p.x, buf(din).ptr)))
	})
}

package engine

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/mocoedge/mocoedge/models"
)

// Net is a ResNet from a models.Arch, run by a Backend. All trainable
// parameters live in Params (gradients in Grads, same layout) and the batch
// norm running statistics in Stats, in torchvision's state_dict order.
// Activations are allocated once for MaxBatch images; nothing is allocated
// per step.
type Net[T Float] struct {
	Arch     *models.Arch
	MaxBatch int
	H, W     int

	// Params and Grads hold every trainable tensor back to back.
	Params, Grads Buffer[T]
	// Stats holds the batch norm running means and variances back to back.
	Stats Buffer[T]
	// BatchesTracked counts training forward passes (torchvision's
	// num_batches_tracked, the same for every batch norm layer).
	BatchesTracked int64

	// Train selects batch statistics (true) or running statistics (false).
	Train bool
	// Splits normalises the batch in this many interleaved groups in
	// training mode (MoCo's split/shuffled BN on one device); 1 is plain BN.
	Splits int

	be      Backend[T]
	tensors []Tensor

	input    Buffer[T] // the last Forward's images, for the stem's weight gradient
	stem     *conv[T]
	stemBN   *batchNorm[T]
	stemOut  Buffer[T] // stem conv output
	stemPost Buffer[T] // after batch norm and ReLU
	pool     PoolGeom
	poolOut  Buffer[T]
	blocks   []*block[T]
	finalHW  int
	features Buffer[T] // pooled [N, Features]
	head     []*linear[T]

	// Backward scratch: three buffers of the largest activation, rotated.
	gradP, gradQ, gradR Buffer[T]
	dFeatures, dHead    Buffer[T]
}

// Tensor locates one named tensor of a Net inside Params or Stats.
type Tensor struct {
	models.Param
	Offset int // element offset inside Params (trainable) or Stats (running statistics)
}

// NewNet allocates a network for batches of up to maxBatch images of h×w.
func NewNet[T Float](be Backend[T], arch *models.Arch, maxBatch, h, w int) (*Net[T], error) {
	if maxBatch < 1 {
		return nil, fmt.Errorf("batch %d: must be at least 1", maxBatch)
	}
	n := &Net[T]{Arch: arch, MaxBatch: maxBatch, H: h, W: w, be: be, Train: true, Splits: 1}
	var nParams, nStats int
	for _, p := range arch.StateDict() {
		switch p.Kind {
		case models.Weight, models.Bias:
			n.tensors = append(n.tensors, Tensor{p, nParams})
			nParams += p.Size()
		case models.RunningMean, models.RunningVar:
			n.tensors = append(n.tensors, Tensor{p, nStats})
			nStats += p.Size()
		}
	}
	n.Params, n.Grads, n.Stats = be.Alloc(nParams), be.Alloc(nParams), be.Alloc(nStats)

	maxAct := 0
	act := func(c, hh, ww int) Buffer[T] {
		size := maxBatch * c * hh * ww
		maxAct = max(maxAct, size)
		return be.Alloc(size)
	}
	newConv := func(s models.Conv, hh, ww int, needInput bool) (*conv[T], int, int) {
		oh, ow := s.OutSize(hh), s.OutSize(ww)
		if oh < 1 || ow < 1 {
			return nil, 0, 0
		}
		c := &conv[T]{spec: s, w: n.view(s.Name + ".weight"), dw: n.grad(s.Name + ".weight"),
			geom: ConvGeom{N: maxBatch, C: s.In, H: hh, W: ww, OC: s.Out, K: s.Kernel, Stride: s.Stride, Pad: s.Pad, OH: oh, OW: ow, NeedInputGrad: needInput}}
		return c, oh, ow
	}

	var oh, ow int
	n.stem, oh, ow = newConv(arch.Stem, h, w, false)
	if n.stem == nil {
		return nil, fmt.Errorf("input %dx%d is too small for %s", h, w, arch.Name)
	}
	n.stemBN = n.newBN(arch.StemBN, oh*ow)
	n.stemOut, n.stemPost = act(arch.Stem.Out, oh, ow), act(arch.Stem.Out, oh, ow)
	if arch.MaxPool {
		ph, pw := (oh+2-3)/2+1, (ow+2-3)/2+1
		n.pool = PoolGeom{N: maxBatch, C: arch.Stem.Out, H: oh, W: ow, K: 3, Stride: 2, Pad: 1, OH: ph, OW: pw}
		n.poolOut = act(arch.Stem.Out, ph, pw)
		oh, ow = ph, pw
	}
	for _, bs := range arch.Blocks {
		b := &block[T]{}
		hh, ww := oh, ow
		for i, cs := range bs.Convs {
			c, ch, cw := newConv(cs, hh, ww, true)
			if c == nil {
				return nil, fmt.Errorf("input %dx%d is too small for %s (at %s)", h, w, arch.Name, cs.Name)
			}
			b.convs = append(b.convs, c)
			b.bns = append(b.bns, n.newBN(bs.BNs[i], ch*cw))
			b.pre = append(b.pre, act(cs.Out, ch, cw))
			b.post = append(b.post, act(cs.Out, ch, cw))
			hh, ww = ch, cw
		}
		if bs.Down != nil {
			b.down, _, _ = newConv(*bs.Down, oh, ow, true)
			b.downBN = n.newBN(*bs.DownBN, hh*ww)
			b.downPre, b.downPost = act(bs.Down.Out, hh, ww), act(bs.Down.Out, hh, ww)
		}
		b.out = act(bs.Convs[len(bs.Convs)-1].Out, hh, ww)
		n.blocks = append(n.blocks, b)
		oh, ow = hh, ww
	}
	n.finalHW = oh * ow
	n.features = be.Alloc(maxBatch * arch.Features)
	maxHead := arch.Features
	for _, ls := range arch.Head {
		n.head = append(n.head, &linear[T]{spec: ls,
			w: n.view(ls.Name + ".weight"), b: n.view(ls.Name + ".bias"),
			dw: n.grad(ls.Name + ".weight"), db: n.grad(ls.Name + ".bias"),
			out: be.Alloc(maxBatch * ls.Out), post: be.Alloc(maxBatch * ls.Out)})
		maxHead = max(maxHead, ls.Out)
	}
	n.gradP, n.gradQ, n.gradR = be.Alloc(maxAct), be.Alloc(maxAct), be.Alloc(maxAct)
	n.dFeatures, n.dHead = be.Alloc(maxBatch*maxHead), be.Alloc(maxBatch*maxHead)
	n.ResetStats()
	return n, nil
}

func (n *Net[T]) newBN(s models.BatchNorm, hw int) *batchNorm[T] {
	return &batchNorm[T]{spec: s, hw: hw, state: BNState[T]{
		Gamma: n.view(s.Name + ".weight"), Beta: n.view(s.Name + ".bias"),
		DGamma: n.grad(s.Name + ".weight"), DBeta: n.grad(s.Name + ".bias"),
		RunMean: n.view(s.Name + ".running_mean"), RunVar: n.view(s.Name + ".running_var"),
		SaveMean: n.be.Alloc(n.MaxBatch * s.C), SaveInvStd: n.be.Alloc(n.MaxBatch * s.C),
	}}
}

// Tensors lists every named tensor with its place in Params or Stats.
func (n *Net[T]) Tensors() []Tensor { return n.tensors }

// Backend returns the backend that runs the network.
func (n *Net[T]) Backend() Backend[T] { return n.be }

// Lookup finds a tensor by its torchvision name.
func (n *Net[T]) Lookup(name string) (Tensor, bool) {
	for _, t := range n.tensors {
		if t.Name == name {
			return t, true
		}
	}
	return Tensor{}, false
}

// view returns the buffer of a named parameter or running statistic.
func (n *Net[T]) view(name string) Buffer[T] {
	t, ok := n.Lookup(name)
	if !ok {
		panic("engine: no tensor " + name) // the architecture and the net disagree: a bug
	}
	if t.Trainable() {
		return n.be.Slice(n.Params, t.Offset, t.Size())
	}
	return n.be.Slice(n.Stats, t.Offset, t.Size())
}

// grad returns the gradient buffer of a trainable parameter.
func (n *Net[T]) grad(name string) Buffer[T] {
	t, _ := n.Lookup(name)
	return n.be.Slice(n.Grads, t.Offset, t.Size())
}

// ResetStats sets running means to 0 and variances to 1.
func (n *Net[T]) ResetStats() {
	for _, t := range n.tensors {
		switch t.Kind {
		case models.RunningMean:
			n.be.Fill(n.be.Slice(n.Stats, t.Offset, t.Size()), 0)
		case models.RunningVar:
			n.be.Fill(n.be.Slice(n.Stats, t.Offset, t.Size()), 1)
		}
	}
	n.BatchesTracked = 0
}

// Init sets the parameters as torchvision does, from seed: convolutions
// Kaiming-normal (fan_out, ReLU gain), batch norm γ=1 and β=0, linear layers
// PyTorch's default uniform(±1/√fan_in) for weights and biases.
func (n *Net[T]) Init(seed uint64) {
	rng := rand.New(rand.NewPCG(seed, 0x6d6f636f))
	host := make([]T, n.Params.Len())
	for _, t := range n.tensors {
		if !t.Trainable() {
			continue
		}
		dst := host[t.Offset : t.Offset+t.Size()]
		switch {
		case len(t.Shape) == 4: // convolution
			std := math.Sqrt(2 / float64(t.Shape[0]*t.Shape[2]*t.Shape[3]))
			for i := range dst {
				dst[i] = T(rng.NormFloat64() * std)
			}
		case len(t.Shape) == 2 || (t.Kind == models.Bias && n.isHead(t.Name)):
			fanIn := n.headFanIn(t.Name)
			bound := 1 / math.Sqrt(float64(fanIn))
			for i := range dst {
				dst[i] = T((rng.Float64()*2 - 1) * bound)
			}
		case t.Kind == models.Weight: // batch norm γ
			for i := range dst {
				dst[i] = 1
			}
		default: // batch norm β
			clear(dst)
		}
	}
	n.be.Upload(n.Params, host)
	n.ResetStats()
}

func (n *Net[T]) isHead(name string) bool { return n.headFanIn(name) > 0 }

// headFanIn returns the input width of the head layer that owns name, or 0.
func (n *Net[T]) headFanIn(name string) int {
	for _, l := range n.Arch.Head {
		if name == l.Name+".weight" || name == l.Name+".bias" {
			return l.In
		}
	}
	return 0
}

// ZeroGrad clears every gradient.
func (n *Net[T]) ZeroGrad() { n.be.Fill(n.Grads, 0) }

// Outputs is the width of the network output: the head's, or Features without a head.
func (n *Net[T]) Outputs() int { return n.Arch.Outputs() }

// Features returns the pooled backbone features [batch, Arch.Features] of the last Forward.
func (n *Net[T]) Features(batch int) Buffer[T] {
	return n.be.Slice(n.features, 0, batch*n.Arch.Features)
}

// slice returns the first batch images' worth of an activation buffer.
func (n *Net[T]) slice(b Buffer[T], batch int) Buffer[T] {
	return n.be.Slice(b, 0, b.Len()/n.MaxBatch*batch)
}

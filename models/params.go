package models

// ParamKind says what a named tensor is.
type ParamKind int

// Trainable parameters first, then the batch-norm buffers.
const (
	Weight ParamKind = iota
	Bias
	RunningMean
	RunningVar
	NumBatchesTracked
)

// Param is one named tensor of the model, named as in torchvision's state_dict.
type Param struct {
	Name  string
	Shape []int
	Kind  ParamKind
}

// Size returns the number of elements.
func (p Param) Size() int {
	n := 1
	for _, d := range p.Shape {
		n *= d
	}
	return n
}

// Trainable reports whether the optimiser updates the tensor.
func (p Param) Trainable() bool { return p.Kind == Weight || p.Kind == Bias }

// Convs returns every convolution in forward order: the stem, then each
// block's convs followed by its projection shortcut.
func (a *Arch) Convs() []Conv {
	out := []Conv{a.Stem}
	for _, b := range a.Blocks {
		out = append(out, b.Convs...)
		if b.Down != nil {
			out = append(out, *b.Down)
		}
	}
	return out
}

// StateDict lists every tensor (parameters and buffers) in torchvision's
// state_dict order.
func (a *Arch) StateDict() []Param {
	var ps []Param
	conv := func(c Conv) {
		ps = append(ps, Param{c.Name + ".weight", []int{c.Out, c.In, c.Kernel, c.Kernel}, Weight})
	}
	bn := func(b BatchNorm) {
		ps = append(ps,
			Param{b.Name + ".weight", []int{b.C}, Weight},
			Param{b.Name + ".bias", []int{b.C}, Bias},
			Param{b.Name + ".running_mean", []int{b.C}, RunningMean},
			Param{b.Name + ".running_var", []int{b.C}, RunningVar},
			Param{b.Name + ".num_batches_tracked", []int{}, NumBatchesTracked},
		)
	}
	conv(a.Stem)
	bn(a.StemBN)
	for _, b := range a.Blocks {
		for i := range b.Convs {
			conv(b.Convs[i])
			bn(b.BNs[i])
		}
		if b.Down != nil {
			conv(*b.Down)
			bn(*b.DownBN)
		}
	}
	for _, l := range a.Head {
		ps = append(ps,
			Param{l.Name + ".weight", []int{l.Out, l.In}, Weight},
			Param{l.Name + ".bias", []int{l.Out}, Bias})
	}
	return ps
}

// Params lists the trainable tensors in state_dict order.
func (a *Arch) Params() []Param {
	var ps []Param
	for _, p := range a.StateDict() {
		if p.Trainable() {
			ps = append(ps, p)
		}
	}
	return ps
}

// NumParams counts trainable parameters as PyTorch's
// sum(p.numel() for p in model.parameters()) does.
func (a *Arch) NumParams() int {
	n := 0
	for _, p := range a.Params() {
		n += p.Size()
	}
	return n
}

// FLOPs returns the forward floating-point operations for one h×w image,
// counting a multiply-add as two and only convolutions and the head's linear layers
// (batch norm, ReLU and pooling are a rounding error and are left out, as
// in the usual published counts).
func (a *Arch) FLOPs(h, w int) int64 {
	var total int64
	conv := func(c Conv, h, w int) (int, int) {
		oh, ow := c.OutSize(h), c.OutSize(w)
		total += 2 * int64(c.In*c.Kernel*c.Kernel) * int64(c.Out) * int64(oh*ow)
		return oh, ow
	}
	h, w = conv(a.Stem, h, w)
	if a.MaxPool {
		h, w = (h+2-3)/2+1, (w+2-3)/2+1
	}
	for _, b := range a.Blocks {
		bh, bw := h, w
		for _, c := range b.Convs {
			bh, bw = conv(c, bh, bw)
		}
		if b.Down != nil {
			conv(*b.Down, h, w)
		}
		h, w = bh, bw
	}
	for _, l := range a.Head {
		total += 2 * int64(l.In) * int64(l.Out)
	}
	return total
}

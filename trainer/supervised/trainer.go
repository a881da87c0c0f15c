// Package supervised trains a network with softmax cross-entropy on
// labelled images: the engine's simplest end-to-end job, used by the
// benchmark and the demo before MoCo pretraining takes over.
package supervised

import (
	"fmt"

	"github.com/mocoedge/mocoedge/models"
	"github.com/mocoedge/mocoedge/trainer/engine"
	"github.com/mocoedge/mocoedge/trainer/optim"
)

// Options configure a Trainer.
type Options struct {
	Batch       int
	Height      int
	Width       int
	Momentum    float64
	WeightDecay float64
	Seed        uint64
}

// Trainer owns a classifier network, its optimiser and its loss gradient.
type Trainer struct {
	Net *engine.Net[float32]
	Opt *optim.SGD[float32]

	be      engine.Backend[float32]
	input   engine.Buffer[float32]
	dlogits engine.Buffer[float32]
	logits  []float32
}

// New builds a classifier of arch (which must have a head) on be.
func New(be engine.Backend[float32], arch *models.Arch, opts Options) (*Trainer, error) {
	if arch.Classes < 1 {
		return nil, fmt.Errorf("supervised training needs a classifier head (classes >= 1)")
	}
	net, err := engine.NewNet(be, arch, opts.Batch, opts.Height, opts.Width)
	if err != nil {
		return nil, err
	}
	net.Init(opts.Seed)
	return &Trainer{
		Net:     net,
		Opt:     optim.NewSGD(be, net.Params.Len(), opts.Momentum, opts.WeightDecay),
		be:      be,
		input:   be.Alloc(opts.Batch * 3 * opts.Height * opts.Width),
		dlogits: be.Alloc(opts.Batch * arch.Classes),
		logits:  make([]float32, opts.Batch*arch.Classes),
	}, nil
}

// Step trains on one batch (x is NCHW float32, one label per image) at
// learning rate lr and returns the batch's mean loss before the update.
func (t *Trainer) Step(x []float32, labels []int32, lr float64) (float64, error) {
	n := len(labels)
	t.Net.Train = true
	out, err := t.forward(x, n)
	if err != nil {
		return 0, err
	}
	k := t.Net.Arch.Classes
	d := t.be.Slice(t.dlogits, 0, n*k)
	loss := t.be.SoftmaxCrossEntropy(d, out, labels, n, k, 1)
	t.Net.ZeroGrad()
	t.Net.Backward(d, n)
	t.Opt.Step(t.Net.Params, t.Net.Grads, lr)
	return loss, nil
}

// Predict returns the arg-max class of each image, in eval mode.
func (t *Trainer) Predict(x []float32, n int) ([]int, error) {
	t.Net.Train = false
	defer func() { t.Net.Train = true }()
	out, err := t.forward(x, n)
	if err != nil {
		return nil, err
	}
	k := t.Net.Arch.Classes
	logits := t.logits[:n*k]
	t.be.Download(logits, out)
	pred := make([]int, n)
	for i := range pred {
		row := logits[i*k : (i+1)*k]
		for j := range row {
			if row[j] > row[pred[i]] {
				pred[i] = j
			}
		}
	}
	return pred, nil
}

func (t *Trainer) forward(x []float32, n int) (engine.Buffer[float32], error) {
	size := 3 * t.Net.H * t.Net.W
	if len(x) != n*size {
		return nil, fmt.Errorf("batch has %d values, want %d for %d images of 3x%dx%d", len(x), n*size, n, t.Net.H, t.Net.W)
	}
	in := t.be.Slice(t.input, 0, n*size)
	t.be.Upload(in, x)
	return t.Net.Forward(in, n)
}

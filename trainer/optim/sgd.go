package optim

import "github.com/mocoedge/mocoedge/trainer/engine"

// SGD is stochastic gradient descent with momentum and weight decay, with
// torch.optim.SGD's semantics. It owns the velocity buffer, which lives on
// the same backend as the parameters.
type SGD[T engine.Float] struct {
	Momentum    float64
	WeightDecay float64

	be       engine.Backend[T]
	velocity engine.Buffer[T]
}

// NewSGD returns an optimiser for n parameters on be.
func NewSGD[T engine.Float](be engine.Backend[T], n int, momentum, weightDecay float64) *SGD[T] {
	return &SGD[T]{Momentum: momentum, WeightDecay: weightDecay, be: be, velocity: be.Alloc(n)}
}

// Step updates params from grads at learning rate lr.
func (o *SGD[T]) Step(params, grads engine.Buffer[T], lr float64) {
	o.be.SGDStep(params, grads, o.velocity, T(lr), T(o.Momentum), T(o.WeightDecay))
}

// Velocity returns the momentum buffer (for checkpoints).
func (o *SGD[T]) Velocity() engine.Buffer[T] { return o.velocity }

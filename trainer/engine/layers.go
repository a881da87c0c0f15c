package engine

import "github.com/mocoedge/mocoedge/models"

// conv is a convolution layer: its weight, its gradient and its geometry at
// the network's full batch.
type conv[T Float] struct {
	spec  models.Conv
	w, dw Buffer[T]
	geom  ConvGeom
}

// batchNorm is a batch norm layer with its parameters, running statistics
// and the statistics saved by the training forward pass.
type batchNorm[T Float] struct {
	spec  models.BatchNorm
	state BNState[T]
	hw    int
}

// linear is a fully connected layer of the head.
type linear[T Float] struct {
	spec         models.Linear
	w, b, dw, db Buffer[T]
	out, post    Buffer[T] // pre-activation output and, between layers, its ReLU
}

// block is one residual block with the activations it keeps for backward:
// pre[i] is conv i's output (batch norm i's input), post[i] batch norm i's
// output (after ReLU for all but the last conv).
type block[T Float] struct {
	convs             []*conv[T]
	bns               []*batchNorm[T]
	down              *conv[T]
	downBN            *batchNorm[T]
	pre, post         []Buffer[T]
	downPre, downPost Buffer[T]
	out               Buffer[T]
}

// geomAt returns g with the batch set to n.
func (c *conv[T]) geomAt(n int) ConvGeom {
	g := c.geom
	g.N = n
	return g
}

func (b *batchNorm[T]) geomAt(n, splits int) BNGeom {
	return BNGeom{N: n, C: b.spec.C, HW: b.hw, Splits: splits, Eps: 1e-5, Momentum: 0.1}
}

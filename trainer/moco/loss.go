package moco

import "github.com/mocoedge/mocoedge/trainer/engine"

// infoNCE is the contrastive loss of Algorithm 1 for n queries q [n,D]
// against their positive keys pos [n,D] and k shared negatives neg [k,D]:
// logits = [q·pos, q·negᵀ] / T, cross-entropy with the positive at index 0.
// It returns the mean loss and adds scale·∂loss/∂q into dq. The keys are
// constants (no gradient), as in MoCo and the memory bank.
type infoNCE struct {
	be      engine.Backend[float32]
	logits  engine.Buffer[float32] // [n, 1+k]
	dlogits engine.Buffer[float32]
	labels  []int32 // all zero: the positive is at index 0
}

func newInfoNCE(be engine.Backend[float32], n, k int) *infoNCE {
	return &infoNCE{be: be, logits: be.Alloc(n * (1 + k)), dlogits: be.Alloc(n * (1 + k)), labels: make([]int32, n)}
}

// forwardBackward computes the loss and accumulates its gradient into dq.
func (l *infoNCE) forwardBackward(dq, q, pos, neg engine.Buffer[float32], n, k, d int, temperature, scale float64) float64 {
	be, w := l.be, 1+k
	inv := float32(1 / temperature)
	// l_pos into column 0, l_neg = q·negᵀ into columns 1..k, both divided by T.
	be.RowDot(l.logits, w, q, pos, n, d, inv)
	be.Gemm(false, true, n, k, d, inv, q, d, neg, d, 0, be.Slice(l.logits, 1, n*w-1), w)
	loss := be.SoftmaxCrossEntropy(l.dlogits, l.logits, l.labels[:n], n, w, float32(scale))
	// dq += (dl_pos ⊙ pos + dl_neg · neg) / T.
	be.Gemm(false, false, n, d, k, inv, be.Slice(l.dlogits, 1, n*w-1), w, neg, d, 1, dq, d)
	be.RowAxpy(dq, inv, l.dlogits, w, pos, n, d)
	return loss
}

// batchNCE is the end-to-end loss: each query's positive is its own key and
// the negatives are the other keys of the batch; logits = q·kᵀ/T with label
// i for query i. Gradients flow into both q and k.
type batchNCE struct {
	be      engine.Backend[float32]
	logits  engine.Buffer[float32] // [n, n]
	dlogits engine.Buffer[float32]
	labels  []int32
}

func newBatchNCE(be engine.Backend[float32], n int) *batchNCE {
	labels := make([]int32, n)
	for i := range labels {
		labels[i] = int32(i)
	}
	return &batchNCE{be: be, logits: be.Alloc(n * n), dlogits: be.Alloc(n * n), labels: labels}
}

// forwardBackward returns the mean loss and writes dq and dk.
func (l *batchNCE) forwardBackward(dq, dk, q, k engine.Buffer[float32], n, d int, temperature float64) float64 {
	be := l.be
	inv := float32(1 / temperature)
	be.Gemm(false, true, n, n, d, inv, q, d, k, d, 0, l.logits, n)
	loss := be.SoftmaxCrossEntropy(l.dlogits, l.logits, l.labels, n, n, 1)
	be.Gemm(false, false, n, d, n, inv, l.dlogits, n, k, d, 0, dq, d) // dq = dL·k/T
	be.Gemm(true, false, n, d, n, inv, l.dlogits, n, q, d, 0, dk, d)  // dk = dLᵀ·q/T
	return loss
}

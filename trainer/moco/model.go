package moco

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/mocoedge/mocoedge/trainer/engine"
	"github.com/mocoedge/mocoedge/trainer/optim"
)

// Model is a MoCo training run's state on a backend: the query encoder, the
// key encoder (moco mode), the queue or memory bank, and the optimiser.
type Model struct {
	Cfg Config
	// Query is f_q, trained by SGD; its eval-mode embeddings feed the kNN monitor.
	Query *engine.Net[float32]
	// Key is f_k, the momentum encoder (nil in end-to-end and memory-bank modes).
	Key *engine.Net[float32]
	// Queue holds the keys (moco mode) or, in memory-bank mode, the sampled negatives.
	Queue *Queue
	// Bank is the memory bank [images, dim] on the host (memory-bank mode only).
	Bank []float32
	Opt  *optim.SGD[float32]
	// Step counts optimiser steps.
	Step int64

	be        engine.Backend[float32]
	h, w, dim int
	rng       *rand.Rand
	pcg       *rand.PCG

	xq, xk       engine.Buffer[float32] // uploaded views (xk holds the shuffled key view)
	kn           [2]engine.Buffer[float32]
	qn, dq, dout engine.Buffer[float32]
	nce          *infoNCE
	bnce         *batchNCE
	host, rows   []float32 // scratch for shuffling and bank traffic
}

// StepStats reports one training step.
type StepStats struct {
	Loss float64 // the step's loss (the sum of both directions with --symmetric)
	LR   float64
}

// New builds the model for images of h×w. The query encoder is initialised
// from cfg.Seed; the key encoder starts as its copy (parameters and batch
// norm buffers), as in the official code.
func New(be engine.Backend[float32], cfg Config, h, w, bankSize int) (*Model, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	arch, err := cfg.Architecture()
	if err != nil {
		return nil, err
	}
	n := cfg.Batch
	qBatch := n
	if cfg.Keys == KeysEndToEnd {
		qBatch = 2 * n // both views go through the query encoder in one pass
	}
	pcg := rand.NewPCG(cfg.Seed, 0x4d6f436f)
	m := &Model{Cfg: cfg, be: be, h: h, w: w, dim: cfg.Dim, pcg: pcg, rng: rand.New(pcg)}
	if m.Query, err = engine.NewNet(be, arch, qBatch, h, w); err != nil {
		return nil, err
	}
	m.Query.Init(cfg.Seed)
	m.Query.Splits = cfg.BNSplits
	m.Opt = optim.NewSGD(be, m.Query.Params.Len(), cfg.SGDMomentum, cfg.WeightDecay)
	img := 3 * h * w
	m.xq, m.xk = be.Alloc(qBatch*img), be.Alloc(n*img)
	m.qn, m.dq, m.dout = be.Alloc(qBatch*m.dim), be.Alloc(qBatch*m.dim), be.Alloc(qBatch*m.dim)
	m.kn = [2]engine.Buffer[float32]{be.Alloc(n * m.dim), be.Alloc(n * m.dim)}
	m.host = make([]float32, max(n*img, cfg.QueueSize*m.dim, n*m.dim))
	m.rows = make([]float32, qBatch*m.dim)

	switch cfg.Keys {
	case KeysMoCo:
		if m.Key, err = engine.NewNet(be, arch, n, h, w); err != nil {
			return nil, err
		}
		m.Key.Splits = cfg.BNSplits
		be.Copy(m.Key.Params, m.Query.Params)
		be.Copy(m.Key.Stats, m.Query.Stats)
		if m.Queue, err = NewQueue(be, cfg.QueueSize, m.dim, m.randomUnit(cfg.QueueSize)); err != nil {
			return nil, err
		}
		m.nce = newInfoNCE(be, n, cfg.QueueSize)
	case KeysMemoryBank:
		if bankSize < 1 {
			return nil, fmt.Errorf("memory-bank mode needs the dataset size, got %d", bankSize)
		}
		m.Bank = m.randomUnit(bankSize)
		if m.Queue, err = NewQueue(be, cfg.QueueSize, m.dim, make([]float32, cfg.QueueSize*m.dim)); err != nil {
			return nil, err
		}
		m.nce = newInfoNCE(be, n, cfg.QueueSize)
	case KeysEndToEnd:
		m.bnce = newBatchNCE(be, n)
	}
	return m, nil
}

// randomUnit returns rows unit vectors of dim values from normalised Gaussian noise.
func (m *Model) randomUnit(rows int) []float32 {
	v := make([]float32, rows*m.dim)
	for r := 0; r < rows; r++ {
		row := v[r*m.dim : (r+1)*m.dim]
		var s float64
		for i := range row {
			x := m.rng.NormFloat64()
			row[i] = float32(x)
			s += x * x
		}
		inv := float32(1 / math.Max(math.Sqrt(s), 1e-12))
		for i := range row {
			row[i] *= inv
		}
	}
	return v
}

// TrainStep runs one step of Algorithm 1 on two augmented views of a batch
// (NCHW float32, Batch images each) at learning rate lr. idx are the images'
// dataset indices (used by the memory bank).
func (m *Model) TrainStep(x1, x2 []float32, idx []int, lr float64) (StepStats, error) {
	n, img := m.Cfg.Batch, 3*m.h*m.w
	if len(x1) != n*img || len(x2) != n*img {
		return StepStats{}, fmt.Errorf("views have %d and %d values, want %d (%d images of 3x%dx%d)", len(x1), len(x2), n*img, n, m.h, m.w)
	}
	m.Query.Train = true
	m.Query.ZeroGrad()
	var loss float64
	var err error
	switch m.Cfg.Keys {
	case KeysMoCo:
		loss, err = m.stepMoCo(x1, x2)
	case KeysEndToEnd:
		loss, err = m.stepEndToEnd(x1, x2)
	case KeysMemoryBank:
		loss, err = m.stepMemoryBank(x1, idx)
	}
	if err != nil {
		return StepStats{}, err
	}
	m.Opt.Step(m.Query.Params, m.Query.Grads, lr)
	m.Step++
	return StepStats{Loss: loss, LR: lr}, nil
}

// stepMoCo: momentum update, keys from the shuffled views, then the query
// loss (twice, views swapped, with the symmetric loss), then enqueue.
func (m *Model) stepMoCo(x1, x2 []float32) (float64, error) {
	n, be := m.Cfg.Batch, m.be
	mom := float32(m.Cfg.Momentum)
	be.Axpby(1-mom, m.Query.Params, mom, m.Key.Params) // θk ← m·θk + (1−m)·θq
	// Keys of x2 (and, symmetric, of x1) through the key encoder with Shuffle-BN.
	if err := m.keys(m.kn[0], x2); err != nil {
		return 0, err
	}
	loss, err := m.queryLoss(x1, m.kn[0])
	if err != nil {
		return 0, err
	}
	if m.Cfg.Symmetric {
		if err := m.keys(m.kn[1], x1); err != nil {
			return 0, err
		}
		l21, err := m.queryLoss(x2, m.kn[1])
		if err != nil {
			return 0, err
		}
		loss += l21
		// The official demo enqueues cat(k1, k2): keys of x1 first.
		if err := m.Queue.Enqueue(m.kn[1], n); err != nil {
			return 0, err
		}
	}
	return loss, m.Queue.Enqueue(m.kn[0], n)
}

// keys writes the normalised key-encoder embeddings of x into dst, with the
// batch shuffled before the encoder and un-shuffled after, so that split
// batch norm statistics do not leak which key belongs to which query.
func (m *Model) keys(dst engine.Buffer[float32], x []float32) error {
	n, img, be := m.Cfg.Batch, 3*m.h*m.w, m.be
	perm := m.rng.Perm(n)
	shuffled := m.host[:n*img]
	for i, p := range perm {
		copy(shuffled[i*img:(i+1)*img], x[p*img:(p+1)*img])
	}
	be.Upload(m.xk, shuffled)
	m.Key.Train = true
	out, err := m.Key.Forward(m.xk, n)
	if err != nil {
		return fmt.Errorf("key encoder: %w", err)
	}
	be.L2Normalize(dst, out, n, m.dim)
	// Un-shuffle: row i of the output belongs to image perm[i].
	rows, unshuffled := m.host[:n*m.dim], m.rows[:n*m.dim]
	be.Download(rows, dst)
	for i, p := range perm {
		copy(unshuffled[p*m.dim:(p+1)*m.dim], rows[i*m.dim:(i+1)*m.dim])
	}
	be.Upload(dst, unshuffled)
	return nil
}

// queryLoss runs the query encoder on x, the InfoNCE loss against pos and
// the queue, and the backward pass (gradients accumulate in Query.Grads).
func (m *Model) queryLoss(x []float32, pos engine.Buffer[float32]) (float64, error) {
	n, be, d := m.Cfg.Batch, m.be, m.dim
	be.Upload(m.xq, x)
	out, err := m.Query.Forward(m.xq, n)
	if err != nil {
		return 0, fmt.Errorf("query encoder: %w", err)
	}
	qn, dq, dout := be.Slice(m.qn, 0, n*d), be.Slice(m.dq, 0, n*d), be.Slice(m.dout, 0, n*d)
	be.L2Normalize(qn, out, n, d)
	be.Fill(dq, 0)
	loss := m.nce.forwardBackward(dq, qn, pos, m.Queue.Keys, n, m.Queue.K, d, m.Cfg.Temperature, 1)
	be.L2NormalizeBackward(dout, dq, out, qn, n, d)
	m.Query.Backward(dout, n)
	return loss, nil
}

// stepEndToEnd: both views through the query encoder in one batch of 2N;
// each query's negatives are the other keys; gradients reach both.
func (m *Model) stepEndToEnd(x1, x2 []float32) (float64, error) {
	n, img, d, be := m.Cfg.Batch, 3*m.h*m.w, m.dim, m.be
	be.Upload(be.Slice(m.xq, 0, n*img), x1)
	be.Upload(be.Slice(m.xq, n*img, n*img), x2)
	out, err := m.Query.Forward(m.xq, 2*n)
	if err != nil {
		return 0, fmt.Errorf("encoder: %w", err)
	}
	be.L2Normalize(m.qn, out, 2*n, d)
	q, k := be.Slice(m.qn, 0, n*d), be.Slice(m.qn, n*d, n*d)
	dq, dk := be.Slice(m.dq, 0, n*d), be.Slice(m.dq, n*d, n*d)
	loss := m.bnce.forwardBackward(dq, dk, q, k, n, d, m.Cfg.Temperature)
	be.L2NormalizeBackward(m.dout, m.dq, out, m.qn, 2*n, d)
	m.Query.Backward(m.dout, 2*n)
	return loss, nil
}

// stepMemoryBank: the positive is the bank's entry for the same image and
// the negatives are QueueSize entries drawn at random from the bank; after
// the step, each image's entry moves towards its new embedding (InstDisc's
// proximal update) and is renormalised.
func (m *Model) stepMemoryBank(x []float32, idx []int) (float64, error) {
	n, d, be := m.Cfg.Batch, m.dim, m.be
	if len(idx) != n {
		return 0, fmt.Errorf("memory bank: %d indices for a batch of %d", len(idx), n)
	}
	bankRows := len(m.Bank) / d
	pos := m.host[:n*d]
	for i, j := range idx {
		if j < 0 || j >= bankRows {
			return 0, fmt.Errorf("memory bank: index %d outside the bank of %d", j, bankRows)
		}
		copy(pos[i*d:(i+1)*d], m.Bank[j*d:(j+1)*d])
	}
	be.Upload(m.kn[0], pos)
	neg := m.host[:m.Queue.K*d]
	for r := 0; r < m.Queue.K; r++ {
		j := m.rng.IntN(bankRows)
		copy(neg[r*d:(r+1)*d], m.Bank[j*d:(j+1)*d])
	}
	be.Upload(m.Queue.Keys, neg)
	loss, err := m.queryLoss(x, m.kn[0])
	if err != nil {
		return 0, err
	}
	q := m.rows[:n*d]
	be.Download(q, be.Slice(m.qn, 0, n*d))
	mb := float32(m.Cfg.BankMomentum)
	for i, j := range idx {
		row := m.Bank[j*d : (j+1)*d]
		var s float64
		for c := range row {
			row[c] = mb*row[c] + (1-mb)*q[i*d+c]
			s += float64(row[c]) * float64(row[c])
		}
		inv := float32(1 / math.Max(math.Sqrt(s), 1e-12))
		for c := range row {
			row[c] *= inv
		}
	}
	return loss, nil
}

// RNGState returns the state of the model's random generator (Shuffle-BN
// permutations, memory-bank sampling) for a checkpoint.
func (m *Model) RNGState() ([]byte, error) { return m.pcg.MarshalBinary() }

// SetRNGState restores a state returned by RNGState.
func (m *Model) SetRNGState(b []byte) error {
	if err := m.pcg.UnmarshalBinary(b); err != nil {
		return fmt.Errorf("restore random state: %w", err)
	}
	return nil
}

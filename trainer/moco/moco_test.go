package moco

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/mocoedge/mocoedge/internal/blas"
	"github.com/mocoedge/mocoedge/trainer/engine"
)

func cpu(t testing.TB) *engine.CPU[float32] {
	t.Helper()
	g, err := blas.Load(blas.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return engine.NewCPU[float32](g, 2)
}

func TestQueueFIFOAndWrapAround(t *testing.T) {
	be := cpu(t)
	init := []float32{0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5}
	q, err := NewQueue(be, 6, 2, init)
	if err != nil {
		t.Fatal(err)
	}
	batch := func(a, b float32) engine.Buffer[float32] {
		buf := be.Alloc(4)
		be.Upload(buf, []float32{a, a, b, b})
		return buf
	}
	steps := []struct {
		a, b    float32
		want    []float32
		wantPtr int
	}{
		{10, 11, []float32{10, 10, 11, 11, 2, 2, 3, 3, 4, 4, 5, 5}, 2},
		{12, 13, []float32{10, 10, 11, 11, 12, 12, 13, 13, 4, 4, 5, 5}, 4},
		{14, 15, []float32{10, 10, 11, 11, 12, 12, 13, 13, 14, 14, 15, 15}, 0},
		{16, 17, []float32{16, 16, 17, 17, 12, 12, 13, 13, 14, 14, 15, 15}, 2}, // wrapped: oldest (10, 11) replaced
	}
	for i, s := range steps {
		if err := q.Enqueue(batch(s.a, s.b), 2); err != nil {
			t.Fatal(err)
		}
		got := make([]float32, 12)
		be.Download(got, q.Keys)
		for j := range got {
			if got[j] != s.want[j] {
				t.Fatalf("after enqueue %d: %v, want %v", i+1, got, s.want)
			}
		}
		if q.Ptr != s.wantPtr {
			t.Fatalf("after enqueue %d: ptr %d, want %d", i+1, q.Ptr, s.wantPtr)
		}
	}
	if err := q.Enqueue(be.Alloc(8), 4); err == nil {
		t.Fatal("a batch that does not divide the queue must be refused")
	}
}

// refInfoNCE is the loss written out in float64: −log(e^{q·p/T} / (e^{q·p/T} + Σ e^{q·n_j/T})), averaged.
func refInfoNCE(q, pos, neg []float64, n, k, d int, temp float64) float64 {
	var total float64
	for i := 0; i < n; i++ {
		dot := func(a, b []float64) float64 {
			var s float64
			for c := 0; c < d; c++ {
				s += a[c] * b[c]
			}
			return s
		}
		lp := dot(q[i*d:(i+1)*d], pos[i*d:(i+1)*d]) / temp
		denom := math.Exp(lp)
		for j := 0; j < k; j++ {
			denom += math.Exp(dot(q[i*d:(i+1)*d], neg[j*d:(j+1)*d]) / temp)
		}
		total += -(lp - math.Log(denom))
	}
	return total / float64(n)
}

func TestInfoNCEMatchesHandComputed(t *testing.T) {
	be := cpu(t)
	// Two queries, three negatives, D = 2, T = 0.5.
	q := []float64{1, 0, 0.6, 0.8}
	pos := []float64{0.8, 0.6, 0, 1}
	neg := []float64{-1, 0, 0, -1, 0.6, -0.8}
	// Query 0: l_pos = 0.8/0.5 = 1.6, l_neg = {-2, 0, 1.2};
	// query 1: l_pos = 0.8/0.5 = 1.6, l_neg = {-1.2, -1.6, -0.56}.
	want := 0.5 * ((-1.6 + math.Log(math.Exp(1.6)+math.Exp(-2)+math.Exp(0)+math.Exp(1.2))) +
		(-1.6 + math.Log(math.Exp(1.6)+math.Exp(-1.2)+math.Exp(-1.6)+math.Exp(-0.56))))
	if ref := refInfoNCE(q, pos, neg, 2, 3, 2, 0.5); math.Abs(ref-want) > 1e-12 {
		t.Fatalf("reference %v, hand %v", ref, want)
	}
	up := func(v []float64) engine.Buffer[float32] {
		b := be.Alloc(len(v))
		f := make([]float32, len(v))
		for i := range v {
			f[i] = float32(v[i])
		}
		be.Upload(b, f)
		return b
	}
	l := newInfoNCE(be, 2, 3)
	dq := be.Alloc(4)
	got := l.forwardBackward(dq, up(q), up(pos), up(neg), 2, 3, 2, 0.5, 1)
	if math.Abs(got-want) > 1e-6 {
		t.Fatalf("loss %v, want %v", got, want)
	}
	// The gradient against finite differences of the float64 reference.
	g := make([]float32, 4)
	be.Download(g, dq)
	for i := range q {
		h := 1e-6
		qp := append([]float64(nil), q...)
		qm := append([]float64(nil), q...)
		qp[i] += h
		qm[i] -= h
		num := (refInfoNCE(qp, pos, neg, 2, 3, 2, 0.5) - refInfoNCE(qm, pos, neg, 2, 3, 2, 0.5)) / (2 * h)
		if math.Abs(num-float64(g[i])) > 1e-5 {
			t.Errorf("dq[%d] = %v, finite differences %v", i, g[i], num)
		}
	}
}

func TestBatchNCEMatchesHandComputed(t *testing.T) {
	be := cpu(t)
	q := []float32{1, 0, 0, 1}
	k := []float32{0.6, 0.8, 1, 0}
	// logits = q·kᵀ / 0.5 = [[1.2, 2], [1.6, 0]]; labels 0 and 1.
	want := 0.5 * ((-1.2 + math.Log(math.Exp(1.2)+math.Exp(2))) + (-0 + math.Log(math.Exp(1.6)+1)))
	qb, kb := be.Alloc(4), be.Alloc(4)
	be.Upload(qb, q)
	be.Upload(kb, k)
	l := newBatchNCE(be, 2)
	got := l.forwardBackward(be.Alloc(4), be.Alloc(4), qb, kb, 2, 2, 0.5)
	if math.Abs(got-want) > 1e-6 {
		t.Fatalf("loss %v, want %v", got, want)
	}
}

func smallConfig(keys string) Config {
	c, _ := Recipe("cifar")
	c.Width, c.Batch, c.QueueSize, c.BNSplits, c.Epochs, c.Keys = 0.0625, 8, 32, 2, 1, keys
	return c
}

func views(rng *rand.Rand, n int) ([]float32, []float32) {
	a, b := make([]float32, n*3*32*32), make([]float32, n*3*32*32)
	for i := range a {
		a[i], b[i] = float32(rng.NormFloat64()), float32(rng.NormFloat64())
	}
	return a, b
}

func TestMomentumUpdateAndEnqueueInAStep(t *testing.T) {
	be := cpu(t)
	cfg := smallConfig(KeysMoCo)
	m, err := New(be, cfg, 32, 32, 0)
	if err != nil {
		t.Fatal(err)
	}
	// Make the encoders differ so the update is visible.
	kp := make([]float32, m.Key.Params.Len())
	for i := range kp {
		kp[i] = float32(i%7) * 0.01
	}
	be.Upload(m.Key.Params, kp)
	qp := make([]float32, m.Query.Params.Len())
	be.Download(qp, m.Query.Params)
	x1, x2 := views(rand.New(rand.NewPCG(1, 1)), cfg.Batch)
	if _, err := m.TrainStep(x1, x2, nil, 0.1); err != nil {
		t.Fatal(err)
	}
	got := make([]float32, len(kp))
	be.Download(got, m.Key.Params)
	for i := range got {
		want := 0.99*kp[i] + 0.01*qp[i] // θk ← m·θk + (1−m)·θq with the pre-step θq
		if math.Abs(float64(got[i]-want)) > 1e-6 {
			t.Fatalf("key param %d = %v, want %v", i, got[i], want)
		}
	}
	if m.Queue.Ptr != cfg.Batch {
		t.Fatalf("queue pointer %d after one step, want %d", m.Queue.Ptr, cfg.Batch)
	}
	// The enqueued keys are unit vectors.
	keys := make([]float32, cfg.Batch*cfg.Dim)
	be.Download(keys, be.Slice(m.Queue.Keys, 0, cfg.Batch*cfg.Dim))
	for r := 0; r < cfg.Batch; r++ {
		var s float64
		for _, v := range keys[r*cfg.Dim : (r+1)*cfg.Dim] {
			s += float64(v) * float64(v)
		}
		if math.Abs(s-1) > 1e-4 {
			t.Fatalf("key %d has squared norm %v", r, s)
		}
	}
}

// TestEveryModeTrains trains each mode on a pool of 64 random images in
// batches of 8, with the second view a noisy copy of the first: the
// encoders must learn to tell the 64 instances apart. Loss is compared
// between the first pass over the pool after the queue has filled with real
// keys and the last pass.
func TestEveryModeTrains(t *testing.T) {
	for _, tc := range []struct {
		keys      string
		symmetric bool
	}{{KeysMoCo, false}, {KeysMoCo, true}, {KeysEndToEnd, false}, {KeysMemoryBank, false}} {
		name := tc.keys
		if tc.symmetric {
			name += "+symmetric"
		}
		t.Run(name, func(t *testing.T) {
			be := cpu(t)
			cfg := smallConfig(tc.keys)
			cfg.Symmetric = tc.symmetric
			if tc.symmetric {
				cfg.QueueSize = 48 // a multiple of the 16 keys enqueued per step
			}
			const pool = 64
			passes := 8
			if testing.Short() {
				passes = 2 // the race pass exercises every mode; the full pass checks learning
			}
			m, err := New(be, cfg, 32, 32, pool)
			if err != nil {
				t.Fatal(err)
			}
			rng := rand.New(rand.NewPCG(2, 2))
			img := 3 * 32 * 32
			images, _ := views(rng, pool)
			batches := pool / cfg.Batch
			passLoss := make([]float64, passes)
			for p := 0; p < passes; p++ {
				for b := 0; b < batches; b++ {
					x1 := images[b*cfg.Batch*img : (b+1)*cfg.Batch*img]
					x2 := make([]float32, len(x1))
					for i := range x2 {
						x2[i] = x1[i] + 0.3*float32(rng.NormFloat64())
					}
					idx := make([]int, cfg.Batch)
					for i := range idx {
						idx[i] = b*cfg.Batch + i
					}
					st, err := m.TrainStep(x1, x2, idx, 0.05)
					if err != nil {
						t.Fatal(err)
					}
					if math.IsNaN(st.Loss) || math.IsInf(st.Loss, 0) {
						t.Fatalf("pass %d batch %d: loss %v", p, b, st.Loss)
					}
					passLoss[p] += st.Loss / float64(batches)
				}
			}
			t.Logf("mean loss per pass: %.3f", passLoss)
			if passes > 2 && !(passLoss[passes-1] < 0.9*passLoss[1]) {
				t.Errorf("loss did not fall: pass 2 %.3f, pass %d %.3f", passLoss[1], passes, passLoss[passes-1])
			}
		})
	}
}

func TestConfigValidation(t *testing.T) {
	base := smallConfig(KeysMoCo)
	bad := []func(*Config){
		func(c *Config) { c.Keys = "simclr" },
		func(c *Config) { c.QueueSize = 30 },
		func(c *Config) { c.BNSplits = 3 },
		func(c *Config) { c.Momentum = 1 },
		func(c *Config) { c.Temperature = 0 },
		func(c *Config) { c.Keys, c.Symmetric = KeysEndToEnd, true },
		func(c *Config) { c.Arch = "vgg" },
		func(c *Config) { c.ScheduleKind = "linear" },
	}
	for i, f := range bad {
		c := base
		f(&c)
		if c.Validate() == nil {
			t.Errorf("case %d: %+v accepted", i, c)
		}
	}
	for _, r := range Recipes() {
		c, err := Recipe(r)
		if err != nil || c.Validate() != nil {
			t.Errorf("recipe %s: %v / %v", r, err, c.Validate())
		}
	}
	if _, err := Recipe("simclr"); err == nil {
		t.Error("unknown recipe accepted")
	}
}

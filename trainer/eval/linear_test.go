package eval

import (
	"context"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"testing"

	"github.com/mocoedge/mocoedge/internal/blas"
)

func testGEMM(t testing.TB) blas.GEMM {
	t.Helper()
	g, err := blas.Load(blas.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return blas.NewThreaded(g, runtime.NumCPU())
}

// clusters returns n L2-normalised rows of d features around k random
// centres (noise of the given size per feature) and their labels; the
// features are positive and share a common offset, like pooled ReLU
// features. The centres come from seed alone, so sets drawn with the same
// seed and a different draw share them.
func clusters(seed, draw uint64, n, d, k int, noise float64) ([]float32, []int) {
	crng := rand.New(rand.NewPCG(seed, 1))
	centres := make([]float64, k*d)
	for i := range centres {
		centres[i] = crng.Float64()
	}
	rng := rand.New(rand.NewPCG(seed, 2+draw))
	x := make([]float32, n*d)
	labels := make([]int, n)
	for r := range n {
		y := r % k
		labels[r] = y
		row := x[r*d : (r+1)*d]
		var ss float64
		for j := range row {
			v := 1 + centres[y*d+j] + noise*rng.NormFloat64()
			row[j] = float32(v)
			ss += v * v
		}
		for j := range row {
			row[j] = float32(float64(row[j]) / math.Sqrt(ss))
		}
	}
	return x, labels
}

func TestLinearSeparable(t *testing.T) {
	g := testGEMM(t)
	// Ten well separated clusters in 32 dimensions: linearly separable.
	train, trainLabels := clusters(1, 0, 2000, 32, 10, 0.05)
	test, testLabels := clusters(1, 1, 500, 32, 10, 0.05)
	res, err := Linear{Classes: 10, Epochs: 20}.Evaluate(context.Background(), g, train, trainLabels, test, testLabels, 32)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%+v", res)
	if res.TrainTop1 != 100 || res.Top1 != 100 || res.Top5 != 100 {
		t.Errorf("separable data: train %.2f%%, test top-1 %.2f%% top-5 %.2f%%; want 100", res.TrainTop1, res.Top1, res.Top5)
	}
	if res.TrainLoss > 0.05 {
		t.Errorf("train loss %.4f after 20 epochs on separable data", res.TrainLoss)
	}
}

func TestLinearTop5AtLeastTop1(t *testing.T) {
	g := testGEMM(t)
	// Heavily overlapping clusters: far from perfect, but above chance.
	train, trainLabels := clusters(3, 0, 3000, 16, 10, 0.6)
	test, testLabels := clusters(3, 1, 1000, 16, 10, 0.6)
	res, err := Linear{Classes: 10, Epochs: 10}.Evaluate(context.Background(), g, train, trainLabels, test, testLabels, 16)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%+v", res)
	if !(res.Top1 > 10 && res.Top1 < 100 && res.Top5 >= res.Top1 && res.Top5 <= 100) {
		t.Errorf("top-1 %.2f%%, top-5 %.2f%%: want 10 < top-1 < 100 and top-1 <= top-5 <= 100", res.Top1, res.Top5)
	}
	// With fewer than five classes every prediction is in the top five.
	train, trainLabels = clusters(5, 0, 300, 8, 3, 0.6)
	res, err = Linear{Classes: 3, Epochs: 2}.Evaluate(context.Background(), g, train, trainLabels, train, trainLabels, 8)
	if err != nil || res.Top5 != 100 {
		t.Errorf("3 classes: top-5 %.2f%% (%v), want 100", res.Top5, err)
	}
}

// refLoss is an independent float64 implementation of the loss the solver
// minimises: mean softmax cross-entropy of logits ((x − mu)·inv)·wᵀ + b.
func refLoss(x []float64, y []int, mu, inv, w, b []float64, k, d int) float64 {
	var loss float64
	for r := range y {
		z := make([]float64, k)
		for c := range k {
			z[c] = b[c]
			for j := range d {
				z[c] += (x[r*d+j] - mu[j]) * inv[j] * w[c*d+j]
			}
		}
		var s float64
		for _, v := range z {
			s += math.Exp(v)
		}
		loss += math.Log(s) - z[y[r]]
	}
	return loss / float64(len(y))
}

func f64(v []float32) []float64 {
	out := make([]float64, len(v))
	for i, x := range v {
		out[i] = float64(x)
	}
	return out
}

func TestLinearGradientFiniteDifferences(t *testing.T) {
	g := blas.Gonum{}
	const n, d, k = 4, 3, 3
	x := []float32{
		0.9, 0.1, 0.3,
		0.2, 0.8, 0.5,
		0.4, 0.4, 0.7,
		0.6, 0.3, 0.1,
	}
	y := []int{0, 1, 2, 1}
	m := newLinearModel(k, d)
	m.standardise(x, n)
	// Column 0 is {0.9, 0.2, 0.4, 0.6}: mean 0.525, variance 0.066875.
	if math.Abs(float64(m.mu[0])-0.525) > 1e-6 || math.Abs(float64(m.inv[0])-1/math.Sqrt(0.066875)) > 1e-4 {
		t.Fatalf("standardise: mu %v inv %v", m.mu, m.inv)
	}
	z := make([]float32, n*k)
	gw, gb := make([]float32, k*d), make([]float32, k)

	// Hand-checked: at w = b = 0 every class has p = 1/3, so the loss is
	// ln 3 and gb_c = 1/3 − (share of class c) = {1/3−1/4, 1/3−1/2, 1/3−1/4}.
	loss := m.lossGrad(g, x, y, z, gw, gb)
	if math.Abs(loss-math.Log(3)) > 1e-6 {
		t.Errorf("loss at zero %v, want ln 3 = %v", loss, math.Log(3))
	}
	for c, want := range []float64{1.0/3 - 0.25, 1.0/3 - 0.5, 1.0/3 - 0.25} {
		if math.Abs(float64(gb[c])-want) > 1e-6 {
			t.Errorf("gb[%d] = %v at zero, want %v", c, gb[c], want)
		}
	}

	rng := rand.New(rand.NewPCG(7, 7))
	for i := range m.w {
		m.w[i] = float32(rng.NormFloat64())
	}
	for i := range m.b {
		m.b[i] = float32(rng.NormFloat64())
	}
	loss = m.lossGrad(g, x, y, z, gw, gb)
	xs, mu, inv := f64(x), f64(m.mu), f64(m.inv)
	w, b := f64(m.w), f64(m.b)
	if ref := refLoss(xs, y, mu, inv, w, b, k, d); math.Abs(loss-ref) > 1e-5 {
		t.Errorf("loss %v, reference %v", loss, ref)
	}
	const h = 1e-6
	check := func(name string, p []float64, grad []float32) {
		worst := 0.0
		for i := range p {
			orig := p[i]
			p[i] = orig + h
			up := refLoss(xs, y, mu, inv, w, b, k, d)
			p[i] = orig - h
			down := refLoss(xs, y, mu, inv, w, b, k, d)
			p[i] = orig
			num := (up - down) / (2 * h)
			worst = max(worst, math.Abs(num-float64(grad[i]))/max(math.Abs(num), 1e-2))
		}
		t.Logf("%s: largest relative difference %.3g", name, worst)
		if worst > 1e-4 {
			t.Errorf("%s: gradient differs from finite differences by %.3g relative", name, worst)
		}
	}
	check("w", w, gw)
	check("b", b, gb)

	// The folded classifier on raw rows gives the same logits.
	m.fold()
	c := &Classifier{Classes: k, Dim: d, W: m.v, B: m.c}
	raw := make([]float32, n*k)
	c.Logits(g, x, raw)
	for r := range n {
		for cl := range k {
			want := b[cl]
			for j := range d {
				want += (xs[r*d+j] - mu[j]) * inv[j] * w[cl*d+j]
			}
			if math.Abs(float64(raw[r*k+cl])-want) > 1e-5 {
				t.Errorf("logit [%d,%d] = %v, want %v", r, cl, raw[r*k+cl], want)
			}
		}
	}
}

func TestLinearDeterministic(t *testing.T) {
	g := testGEMM(t)
	x, y := clusters(9, 0, 1000, 24, 5, 0.4)
	fit := func(seed uint64) (*Classifier, LinearResult) {
		c, res, err := Linear{Classes: 5, Epochs: 3, Batch: 64, Seed: seed}.Fit(context.Background(), g, x, y, 24)
		if err != nil {
			t.Fatal(err)
		}
		return c, res
	}
	a, ra := fit(1)
	b, rb := fit(1)
	if !slices.Equal(a.W, b.W) || !slices.Equal(a.B, b.B) || ra != rb {
		t.Error("the same seed gave different classifiers")
	}
	c, _ := fit(2)
	if slices.Equal(a.W, c.W) {
		t.Error("seeds 1 and 2 gave the same classifier: the seed does not reach the row order")
	}
}

func TestLinearRejectsBadInput(t *testing.T) {
	g := blas.Gonum{}
	x := []float32{1, 0, 0, 1}
	ctx := context.Background()
	for _, tc := range []struct {
		l      Linear
		labels []int
	}{
		{Linear{Classes: 2}, []int{0, 2}},  // label out of range
		{Linear{Classes: 2}, []int{0, -1}}, // unlabelled row
		{Linear{Classes: 2}, []int{0}},     // rows and values disagree
		{Linear{Classes: 0}, []int{0, 0}},
		{Linear{Classes: 2, LR: -1}, []int{0, 1}},
	} {
		if _, _, err := tc.l.Fit(ctx, g, x, tc.labels, 2); err == nil {
			t.Errorf("%+v with labels %v accepted", tc.l, tc.labels)
		}
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, _, err := (Linear{Classes: 2}).Fit(cctx, g, x, []int{0, 1}, 2); err == nil {
		t.Error("a cancelled context did not stop training")
	}
}

// BenchmarkLinear trains on 50,000 rows of 512 features in 10 classes (the
// size of CIFAR-10's training set under a width-1 resnet18) for 10 epochs
// per iteration, and reports the time per epoch and the rate of the epochs'
// multiply-adds (4·n·d·k flops per epoch, set-up and scoring included).
func BenchmarkLinear(b *testing.B) {
	g := testGEMM(b)
	const n, d, k, epochs = 50000, 512, 10, 10
	x, y := clusters(1, 0, n, d, k, 0.5)
	b.ResetTimer()
	for range b.N {
		if _, _, err := (Linear{Classes: k, Epochs: epochs}).Fit(context.Background(), g, x, y, d); err != nil {
			b.Fatal(err)
		}
	}
	perEpoch := b.Elapsed().Seconds() / float64(b.N*epochs)
	b.ReportMetric(perEpoch*1e3, "ms/epoch")
	b.ReportMetric(float64(4*n*d*k)/perEpoch/1e9, "GFLOP/s")
}

package engine

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/mocoedge/mocoedge/internal/blas"
)

// The gradient checks run the engine's own kernels at float64 against
// central finite differences: every analytic gradient must agree with
// (f(x+h) − f(x−h)) / 2h to within atol + rtol·|g|. Deep networks are
// piecewise smooth (ReLU, max-pool), and a step can cross a kink; so each
// entry is differenced at two steps and the closer one counts. A wrong
// backward pass is wrong at both, which the planted-bug test proves.

var fdSteps = []float64{1e-6, 1e-7}

const (
	fdAtol = 1e-7
	fdRtol = 1e-5
)

func cpu64(t testing.TB) *CPU[float64] {
	t.Helper()
	g, err := blas.Load(blas.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return NewCPU[float64](g, 2)
}

// gradReport is the worst disagreement found for one tensor.
type gradReport struct {
	name             string
	probes           int
	maxAbs, maxScore float64 // score = |a−n| / (atol + rtol·max(|a|,|n|)); > 1 fails
	at               int
	analytic, numer  float64
}

func (r gradReport) String() string {
	return fmt.Sprintf("%-34s probes %3d  max|Δ| %.2e  worst score %.3f (index %d: analytic %.9g, numeric %.9g)",
		r.name, r.probes, r.maxAbs, r.maxScore, r.at, r.analytic, r.numer)
}

// probeGrad compares analytic[i] with the central difference of loss when
// x[i] moves, for up to probes indices of x (all when probes <= 0).
func probeGrad(name string, x, analytic []float64, loss func() float64, probes int, rng *rand.Rand) gradReport {
	idx := make([]int, len(x))
	for i := range idx {
		idx[i] = i
	}
	if probes > 0 && probes < len(x) {
		rng.Shuffle(len(idx), func(i, j int) { idx[i], idx[j] = idx[j], idx[i] })
		idx = idx[:probes]
	}
	rep := gradReport{name: name, probes: len(idx)}
	for _, i := range idx {
		old := x[i]
		score, diff, num := math.Inf(1), 0.0, 0.0
		for _, h := range fdSteps {
			x[i] = old + h
			fp := loss()
			x[i] = old - h
			fm := loss()
			x[i] = old
			n := (fp - fm) / (2 * h)
			d := math.Abs(n - analytic[i])
			if s := d / (fdAtol + fdRtol*math.Max(math.Abs(n), math.Abs(analytic[i]))); s < score {
				score, diff, num = s, d, n
			}
		}
		rep.maxAbs = math.Max(rep.maxAbs, diff)
		if score > rep.maxScore {
			rep.maxScore, rep.at, rep.analytic, rep.numer = score, i, analytic[i], num
		}
	}
	return rep
}

// requirePass logs every report and fails the test on any score above 1.
func requirePass(t *testing.T, reps []gradReport) {
	t.Helper()
	for _, r := range reps {
		t.Log(r)
		if r.maxScore > 1 {
			t.Errorf("gradient mismatch: %v", r)
		}
	}
}

func randVec(rng *rand.Rand, n int) []float64 {
	v := make([]float64, n)
	for i := range v {
		v[i] = rng.NormFloat64()
	}
	return v
}

// dot is the scalar test loss: a fixed random linear functional of the output.
func dot(a, b []float64) float64 {
	var s float64
	for i := range a {
		s += a[i] * b[i]
	}
	return s
}

func TestConvGradients(t *testing.T) {
	be := cpu64(t)
	cases := []struct {
		name                    string
		n, c, h, w, oc, k, s, p int
	}{
		{"3x3 s1 p1", 2, 3, 5, 6, 4, 3, 1, 1},
		{"3x3 s2 p1", 2, 3, 7, 7, 4, 3, 2, 1},
		{"7x7 s2 p3", 2, 2, 9, 8, 3, 7, 2, 3},
		{"1x1 s1 grouped", 3, 4, 4, 4, 5, 1, 1, 0},
		{"1x1 s1 per-image", 2, 3, 16, 17, 4, 1, 1, 0},
		{"1x1 s2", 2, 4, 6, 6, 3, 1, 2, 0},
		{"3x3 s1 p0", 2, 2, 5, 5, 3, 3, 1, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(7, 1))
			oh, ow := (tc.h+2*tc.p-tc.k)/tc.s+1, (tc.w+2*tc.p-tc.k)/tc.s+1
			g := ConvGeom{N: tc.n, C: tc.c, H: tc.h, W: tc.w, OC: tc.oc, K: tc.k, Stride: tc.s, Pad: tc.p, OH: oh, OW: ow, NeedInputGrad: true}
			x, w := randVec(rng, tc.n*tc.c*tc.h*tc.w), randVec(rng, tc.oc*tc.c*tc.k*tc.k)
			probe := randVec(rng, tc.n*tc.oc*oh*ow)
			out := make([]float64, len(probe))
			loss := func() float64 {
				be.Conv2D(Host[float64](out), Host[float64](x), Host[float64](w), g)
				return dot(out, probe)
			}
			dx, dw := make([]float64, len(x)), make([]float64, len(w))
			be.Conv2DBackward(Host[float64](dx), Host[float64](dw), Host[float64](probe), Host[float64](x), Host[float64](w), g)
			requirePass(t, []gradReport{
				probeGrad("input", x, dx, loss, 0, rng),
				probeGrad("weight", w, dw, loss, 0, rng),
			})
			// The naive definition of the output, as an independent forward check.
			loss()
			for n := 0; n < tc.n; n++ {
				for o := 0; o < tc.oc; o++ {
					for y := 0; y < oh; y++ {
						for z := 0; z < ow; z++ {
							var s float64
							for c := 0; c < tc.c; c++ {
								for kh := 0; kh < tc.k; kh++ {
									for kw := 0; kw < tc.k; kw++ {
										ih, iw := y*tc.s-tc.p+kh, z*tc.s-tc.p+kw
										if ih >= 0 && ih < tc.h && iw >= 0 && iw < tc.w {
											s += x[((n*tc.c+c)*tc.h+ih)*tc.w+iw] * w[((o*tc.c+c)*tc.k+kh)*tc.k+kw]
										}
									}
								}
							}
							if got := out[((n*tc.oc+o)*oh+y)*ow+z]; math.Abs(got-s) > 1e-12 {
								t.Fatalf("forward [%d,%d,%d,%d] = %g, naive %g", n, o, y, z, got, s)
							}
						}
					}
				}
			}
		})
	}
}

func TestBatchNormGradients(t *testing.T) {
	be := cpu64(t)
	for _, tc := range []struct {
		name        string
		n, splits   int
		train, relu bool
	}{
		{"train", 4, 1, true, false},
		{"train relu", 4, 1, true, true},
		{"train split 2", 4, 2, true, false},
		{"train split 4 relu", 8, 4, true, true},
		{"eval", 4, 1, false, false},
		{"eval relu", 4, 1, false, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(3, 9))
			c, hw := 3, 5
			x := randVec(rng, tc.n*c*hw)
			gamma, beta := randVec(rng, c), randVec(rng, c)
			rm, rv := randVec(rng, c), make([]float64, c)
			for i := range rv {
				rv[i] = 0.5 + rng.Float64()
			}
			st := BNState[float64]{Gamma: Host[float64](gamma), Beta: Host[float64](beta),
				DGamma: Host[float64](make([]float64, c)), DBeta: Host[float64](make([]float64, c)),
				RunMean: Host[float64](append([]float64(nil), rm...)), RunVar: Host[float64](append([]float64(nil), rv...)),
				SaveMean: Host[float64](make([]float64, tc.splits*c)), SaveInvStd: Host[float64](make([]float64, tc.splits*c))}
			g := BNGeom{N: tc.n, C: c, HW: hw, Splits: tc.splits, Eps: 1e-5, Momentum: 0.1}
			probe := randVec(rng, len(x))
			out := make([]float64, len(x))
			loss := func() float64 {
				copy(HostData[float64](st.RunMean), rm) // the running stats are not inputs of the loss
				copy(HostData[float64](st.RunVar), rv)
				be.BatchNorm(Host[float64](out), Host[float64](x), st, g, tc.train, tc.relu)
				return dot(out, probe)
			}
			loss()
			dx := make([]float64, len(x))
			be.BatchNormBackward(Host[float64](dx), Host[float64](probe), Host[float64](x), Host[float64](out), st, g, tc.train, tc.relu)
			requirePass(t, []gradReport{
				probeGrad("input", x, dx, loss, 0, rng),
				probeGrad("gamma", gamma, HostData[float64](st.DGamma), loss, 0, rng),
				probeGrad("beta", beta, HostData[float64](st.DBeta), loss, 0, rng),
			})
		})
	}
}

func TestBatchNormRunningStats(t *testing.T) {
	be := cpu64(t)
	// Two channels, batch of 4 with HW 1, split in 2 groups (n mod 2).
	x := []float64{1, 10, 2, 20, 3, 30, 6, 60}
	st := BNState[float64]{Gamma: Host[float64]{1, 1}, Beta: Host[float64]{0, 0},
		RunMean: Host[float64]{0, 0}, RunVar: Host[float64]{1, 1},
		SaveMean: Host[float64](make([]float64, 4)), SaveInvStd: Host[float64](make([]float64, 4))}
	out := make([]float64, len(x))
	be.BatchNorm(Host[float64](out), Host[float64](x), st, BNGeom{N: 4, C: 2, HW: 1, Splits: 2, Eps: 1e-5, Momentum: 0.1}, true, false)
	// Channel 0: group 0 = {1, 3} (mean 2, unbiased var 2), group 1 = {2, 6} (mean 4, var 8).
	wantMean := 0.9*0 + 0.1*(2+4)/2.0
	wantVar := 0.9*1 + 0.1*(2+8)/2.0
	if got := HostData[float64](st.RunMean)[0]; math.Abs(got-wantMean) > 1e-12 {
		t.Errorf("running mean %g, want %g", got, wantMean)
	}
	if got := HostData[float64](st.RunVar)[0]; math.Abs(got-wantVar) > 1e-12 {
		t.Errorf("running var %g, want %g", got, wantVar)
	}
	// Each group is normalised on its own: 1 and 3 become -1 and +1 (up to eps).
	if math.Abs(out[0]+1) > 1e-4 || math.Abs(out[4]-1) > 1e-4 {
		t.Errorf("split normalisation: got %v", out)
	}
}

func TestPoolLinearLossGradients(t *testing.T) {
	be := cpu64(t)
	rng := rand.New(rand.NewPCG(5, 5))
	var reps []gradReport

	// Max-pool 3x3 s2 p1.
	pg := PoolGeom{N: 2, C: 2, H: 7, W: 6, K: 3, Stride: 2, Pad: 1, OH: 4, OW: 3}
	x := randVec(rng, 2*2*7*6)
	probe := randVec(rng, 2*2*4*3)
	out := make([]float64, len(probe))
	loss := func() float64 { be.MaxPool(Host[float64](out), Host[float64](x), pg); return dot(out, probe) }
	dx := make([]float64, len(x))
	be.MaxPoolBackward(Host[float64](dx), Host[float64](probe), Host[float64](x), pg)
	reps = append(reps, probeGrad("maxpool input", x, dx, loss, 0, rng))

	// Global average pool.
	x2, probe2, out2 := randVec(rng, 3*4*5), randVec(rng, 3*4), make([]float64, 3*4)
	loss2 := func() float64 {
		be.GlobalAvgPool(Host[float64](out2), Host[float64](x2), 3, 4, 5)
		return dot(out2, probe2)
	}
	dx2 := make([]float64, len(x2))
	be.GlobalAvgPoolBackward(Host[float64](dx2), Host[float64](probe2), 3, 4, 5)
	reps = append(reps, probeGrad("avgpool input", x2, dx2, loss2, 0, rng))

	// Linear with bias.
	n, in, o := 3, 5, 4
	xl, w, b := randVec(rng, n*in), randVec(rng, o*in), randVec(rng, o)
	probe3, out3 := randVec(rng, n*o), make([]float64, n*o)
	loss3 := func() float64 {
		be.Linear(Host[float64](out3), Host[float64](xl), Host[float64](w), Host[float64](b), n, in, o)
		return dot(out3, probe3)
	}
	dxl, dw, db := make([]float64, len(xl)), make([]float64, len(w)), make([]float64, len(b))
	be.LinearBackward(Host[float64](dxl), Host[float64](dw), Host[float64](db), Host[float64](probe3), Host[float64](xl), Host[float64](w), n, in, o)
	reps = append(reps, probeGrad("linear input", xl, dxl, loss3, 0, rng),
		probeGrad("linear weight", w, dw, loss3, 0, rng), probeGrad("linear bias", b, db, loss3, 0, rng))

	// L2 normalise.
	x4, probe4, out4 := randVec(rng, 3*6), randVec(rng, 3*6), make([]float64, 3*6)
	loss4 := func() float64 { be.L2Normalize(Host[float64](out4), Host[float64](x4), 3, 6); return dot(out4, probe4) }
	loss4()
	dx4 := make([]float64, len(x4))
	be.L2NormalizeBackward(Host[float64](dx4), Host[float64](probe4), Host[float64](x4), Host[float64](out4), 3, 6)
	reps = append(reps, probeGrad("l2norm input", x4, dx4, loss4, 0, rng))

	// Softmax cross-entropy.
	labels := []int32{2, 0, 4}
	z := randVec(rng, 3*5)
	loss5 := func() float64 { return be.SoftmaxCrossEntropy(nil, Host[float64](z), labels, 3, 5, 1) }
	dz := make([]float64, len(z))
	be.SoftmaxCrossEntropy(Host[float64](dz), Host[float64](z), labels, 3, 5, 1)
	reps = append(reps, probeGrad("softmax-xent logits", z, dz, loss5, 0, rng))

	// ReLU and add-ReLU.
	x6, y6, probe6, out6 := randVec(rng, 20), randVec(rng, 20), randVec(rng, 20), make([]float64, 20)
	loss6 := func() float64 {
		be.AddReLU(Host[float64](out6), Host[float64](x6), Host[float64](y6))
		return dot(out6, probe6)
	}
	loss6()
	dx6 := make([]float64, 20)
	be.ReLUBackward(Host[float64](dx6), Host[float64](probe6), Host[float64](out6))
	reps = append(reps, probeGrad("add-relu input", x6, dx6, loss6, 0, rng))
	requirePass(t, reps)
}

// netGradients checks every trainable tensor of a whole network against
// finite differences, probing up to probes entries of each.
func netGradients(t *testing.T, be Backend[float64], arch string, width float64, classes, batch, size, splits int, mlp bool, probes int) []gradReport {
	t.Helper()
	a := mustArch(t, arch, width, classes)
	if mlp {
		a.WithMLPHead()
	}
	net, err := NewNet(be, a, batch, size, size)
	if err != nil {
		t.Fatal(err)
	}
	net.Init(11)
	net.Splits = splits
	rng := rand.New(rand.NewPCG(13, 17))
	x := randVec(rng, batch*3*size*size)
	probe := randVec(rng, batch*net.Outputs())
	params := HostData[float64](net.Params)
	loss := func() float64 {
		out, err := net.Forward(Host[float64](x), batch)
		if err != nil {
			t.Fatal(err)
		}
		return dot(HostData[float64](out), probe)
	}
	loss()
	net.ZeroGrad()
	net.Backward(Host[float64](probe), batch)
	grads := HostData[float64](net.Grads)
	var reps []gradReport
	for _, tn := range net.Tensors() {
		if !tn.Trainable() {
			continue
		}
		reps = append(reps, probeGrad(tn.Name, params[tn.Offset:tn.Offset+tn.Size()], grads[tn.Offset:tn.Offset+tn.Size()], loss, probes, rng))
	}
	return reps
}

func TestNetworkGradients(t *testing.T) {
	be := cpu64(t)
	cases := []struct {
		name                         string
		arch                         string
		width                        float64
		classes, batch, size, splits int
		mlp, train                   bool
	}{
		{"resnet18-cifar basic blocks, MLP head, split BN", "resnet18-cifar", 1.0 / 16, 5, 4, 8, 2, true, true},
		{"resnet50 bottlenecks and max-pool", "resnet50", 1.0 / 16, 3, 2, 64, 1, false, true},
		{"resnet18-cifar eval mode", "resnet18-cifar", 1.0 / 16, 4, 2, 8, 1, false, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if testing.Short() && tc.arch == "resnet50" {
				t.Skip("the resnet50 check takes a few seconds; run without -short")
			}
			if !tc.train {
				// Eval mode uses running statistics: give them non-trivial values first.
				requirePass(t, netGradientsEval(t, be))
				return
			}
			requirePass(t, netGradients(t, be, tc.arch, tc.width, tc.classes, tc.batch, tc.size, tc.splits, tc.mlp, 6))
		})
	}
}

// netGradientsEval checks a network in eval mode after one training forward
// has moved its running statistics away from 0 and 1.
func netGradientsEval(t *testing.T, be Backend[float64]) []gradReport {
	a := mustArch(t, "resnet18-cifar", 1.0/16, 4)
	net, err := NewNet(be, a, 2, 8, 8)
	if err != nil {
		t.Fatal(err)
	}
	net.Init(5)
	rng := rand.New(rand.NewPCG(1, 1))
	x := randVec(rng, 2*3*8*8)
	if _, err := net.Forward(Host[float64](x), 2); err != nil {
		t.Fatal(err)
	}
	net.Train = false
	probe := randVec(rng, 2*4)
	loss := func() float64 {
		out, err := net.Forward(Host[float64](x), 2)
		if err != nil {
			t.Fatal(err)
		}
		return dot(HostData[float64](out), probe)
	}
	loss()
	net.ZeroGrad()
	net.Backward(Host[float64](probe), 2)
	params, grads := HostData[float64](net.Params), HostData[float64](net.Grads)
	var reps []gradReport
	for _, tn := range net.Tensors() {
		if tn.Trainable() {
			reps = append(reps, probeGrad(tn.Name, params[tn.Offset:tn.Offset+tn.Size()], grads[tn.Offset:tn.Offset+tn.Size()], loss, 6, rng))
		}
	}
	return reps
}

// flippedBNBeta is the CPU backend with a planted bug: batch norm's β
// gradient has the wrong sign.
type flippedBNBeta struct{ *CPU[float64] }

func (f flippedBNBeta) BatchNormBackward(din, dout, in, out Buffer[float64], s BNState[float64], g BNGeom, train, relu bool) {
	db := HostData[float64](s.DBeta)
	before := append([]float64(nil), db...)
	f.CPU.BatchNormBackward(din, dout, in, out, s, g, train, relu)
	for i := range db {
		db[i] = before[i] - (db[i] - before[i])
	}
}

// skippedReLUMask is the CPU backend with another planted bug: the residual
// ReLU's mask is forgotten in backward.
type skippedReLUMask struct{ *CPU[float64] }

func (s skippedReLUMask) ReLUBackward(din, dout, out Buffer[float64]) { s.CPU.Copy(din, dout) }

func TestGradientCheckCatchesPlantedBugs(t *testing.T) {
	for _, tc := range []struct {
		name string
		be   Backend[float64]
	}{
		{"flipped BN beta gradient", flippedBNBeta{cpu64(t)}},
		{"missing ReLU mask", skippedReLUMask{cpu64(t)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			failed := 0
			for _, r := range netGradients(t, tc.be, "resnet18-cifar", 1.0/16, 5, 4, 8, 1, false, 6) {
				if r.maxScore > 1 {
					failed++
				}
			}
			if failed == 0 {
				t.Fatal("the gradient check passed a network with a planted backward bug")
			}
			t.Logf("the check flagged %d tensors", failed)
		})
	}
}

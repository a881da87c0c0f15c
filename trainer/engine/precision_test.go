package engine

import (
	"math"
	"math/rand/v2"
	"runtime"
	"testing"

	"github.com/mocoedge/mocoedge/internal/blas"
)

// TestFloat32AgreesWithFloat64 runs the same network, weights and batch at
// both precisions: the float32 path that trains must match the float64 path
// that the gradient checks verified.
func TestFloat32AgreesWithFloat64(t *testing.T) {
	g, err := blas.Load(blas.Options{})
	if err != nil {
		t.Fatal(err)
	}
	a := mustArch(t, "resnet18-cifar", 0.125, 10)
	batch, size := 8, 16
	n64, err := NewNet(NewCPU[float64](g, 2), a, batch, size, size)
	if err != nil {
		t.Fatal(err)
	}
	n32, err := NewNet(NewCPU[float32](g, 2), a, batch, size, size)
	if err != nil {
		t.Fatal(err)
	}
	n64.Init(3)
	n32.Init(3)
	rng := rand.New(rand.NewPCG(2, 2))
	x64 := randVec(rng, batch*3*size*size)
	labels := make([]int32, batch)
	for i := range labels {
		labels[i] = int32(rng.IntN(10))
	}
	x32 := make([]float32, len(x64))
	for i, v := range x64 {
		x32[i] = float32(v)
	}
	out64, err := n64.Forward(Host[float64](x64), batch)
	if err != nil {
		t.Fatal(err)
	}
	out32, err := n32.Forward(Host[float32](x32), batch)
	if err != nil {
		t.Fatal(err)
	}
	d64, d32 := Host[float64](make([]float64, batch*10)), Host[float32](make([]float32, batch*10))
	l64 := n64.Backend().SoftmaxCrossEntropy(d64, out64, labels, batch, 10, 1)
	l32 := n32.Backend().SoftmaxCrossEntropy(d32, out32, labels, batch, 10, 1)
	n64.ZeroGrad()
	n32.ZeroGrad()
	n64.Backward(d64, batch)
	n32.Backward(d32, batch)
	if rel := math.Abs(l64-l32) / math.Abs(l64); rel > 1e-5 {
		t.Errorf("loss %v (float32) vs %v (float64): relative %g", l32, l64, rel)
	}
	g64, g32 := HostData[float64](n64.Grads), HostData[float32](n32.Grads)
	for _, tn := range n64.Tensors() {
		if !tn.Trainable() {
			continue
		}
		var num, den float64
		for i := tn.Offset; i < tn.Offset+tn.Size(); i++ {
			d := float64(g32[i]) - g64[i]
			num += d * d
			den += g64[i] * g64[i]
		}
		// Relative error of the whole tensor (‖g32−g64‖ / ‖g64‖).
		if rel := math.Sqrt(num / math.Max(den, 1e-30)); rel > 1e-3 {
			t.Errorf("%s: float32 gradient differs by %.2e relative", tn.Name, rel)
		}
	}
}

// TestDeterministicOnOneThread trains three steps twice from the same seed
// on one thread and requires bit-identical parameters.
func TestDeterministicOnOneThread(t *testing.T) {
	run := func() []float32 {
		g, err := blas.Load(blas.Options{Threads: 1})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { g.SetThreads(runtime.NumCPU()) }) // OpenBLAS's setting is process-wide
		be := NewCPU[float32](g, 1)
		a := mustArch(t, "resnet18-cifar", 0.125, 10)
		net, err := NewNet(be, a, 4, 16, 16)
		if err != nil {
			t.Fatal(err)
		}
		net.Init(9)
		vel := be.Alloc(net.Params.Len())
		rng := rand.New(rand.NewPCG(4, 4))
		for step := 0; step < 3; step++ {
			x := make([]float32, 4*3*16*16)
			for i := range x {
				x[i] = float32(rng.NormFloat64())
			}
			labels := []int32{1, 2, 3, 4}
			out, err := net.Forward(Host[float32](x), 4)
			if err != nil {
				t.Fatal(err)
			}
			d := be.Alloc(40)
			be.SoftmaxCrossEntropy(d, out, labels, 4, 10, 1)
			net.ZeroGrad()
			net.Backward(d, 4)
			be.SGDStep(net.Params, net.Grads, vel, 0.1, 0.9, 5e-4)
		}
		return append([]float32(nil), HostData[float32](net.Params)...)
	}
	a, b := run(), run()
	for i := range a {
		if math.Float32bits(a[i]) != math.Float32bits(b[i]) {
			t.Fatalf("parameter %d differs between runs: %v vs %v", i, a[i], b[i])
		}
	}
}

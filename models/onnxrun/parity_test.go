package onnxrun_test

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/advancedclimatesystems/gonnx/onnx"

	"github.com/mocoedge/mocoedge/internal/blas"
	"github.com/mocoedge/mocoedge/models/onnxexport"
	"github.com/mocoedge/mocoedge/models/onnxrun"
	"github.com/mocoedge/mocoedge/models/weights"
	"github.com/mocoedge/mocoedge/trainer/engine"
	"github.com/mocoedge/mocoedge/trainer/supervised"
)

// The reference for the parity tests is the training engine's eval-mode
// forward (test-only import: the package itself does not use the trainer).

// How a test network's weights are prepared.
const (
	randomInit = "random init" // torchvision init: γ=1, β=0, running stats 0 and 1
	movedStats = "moved BN"    // random γ, β and running statistics moved by train-mode forwards
	sgdSteps   = "2 SGD steps" // two supervised SGD steps (needs a head)
)

type netCase struct {
	arch, head string
	dim        int
	width      float64
	size       int
	prep       string
}

func backend(t testing.TB) *engine.CPU[float32] {
	t.Helper()
	g, err := blas.Load(blas.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return engine.NewCPU[float32](g, 0)
}

func images(seed uint64, n int, shift float64) []float32 {
	rng := rand.New(rand.NewPCG(seed, 7))
	x := make([]float32, n)
	for i := range x {
		x[i] = float32(rng.NormFloat64() + shift)
	}
	return x
}

// prepare builds the network of tc for batches of up to batch images.
func prepare(t *testing.T, tc netCase, batch int) *engine.Net[float32] {
	t.Helper()
	a, err := weights.NewArch(tc.arch, tc.width, tc.head, tc.dim)
	if err != nil {
		t.Fatal(err)
	}
	be := backend(t)
	pixels := 3 * tc.size * tc.size
	if tc.prep == sgdSteps {
		tr, err := supervised.New(be, a, supervised.Options{Batch: batch, Height: tc.size, Width: tc.size, Momentum: 0.9, WeightDecay: 5e-4, Seed: 3})
		if err != nil {
			t.Fatal(err)
		}
		labels := make([]int32, batch)
		for step := range 2 {
			for i := range labels {
				labels[i] = int32((i + step) % tc.dim)
			}
			if _, err := tr.Step(images(uint64(step), batch*pixels, 0.2), labels, 0.05); err != nil {
				t.Fatal(err)
			}
		}
		return tr.Net
	}
	n, err := engine.NewNet(be, a, batch, tc.size, tc.size)
	if err != nil {
		t.Fatal(err)
	}
	n.Init(11)
	if tc.prep == movedStats {
		rng := rand.New(rand.NewPCG(5, 5))
		params := engine.HostData[float32](n.Params)
		for _, tt := range n.Tensors() {
			if len(tt.Shape) == 1 && !strings.HasPrefix(tt.Name, "fc") && tt.Trainable() { // batch-norm γ and β
				for i := range tt.Size() {
					v := rng.Float64()*0.6 - 0.3
					if strings.HasSuffix(tt.Name, ".weight") {
						v++ // γ around 1
					}
					params[tt.Offset+i] = float32(v)
				}
			}
		}
		n.Train = true
		for i := range 3 {
			if _, err := n.Forward(engine.Host[float32](images(uint64(10+i), batch*pixels, 0.5)), batch); err != nil {
				t.Fatal(err)
			}
		}
	}
	return n
}

// reference runs the engine in eval mode: pooled features and the
// L2-normalised output, as the exported graph computes them.
func reference(t *testing.T, n *engine.Net[float32], x []float32, batch int) onnxrun.Output {
	t.Helper()
	n.Train = false
	out, err := n.Forward(engine.Host[float32](x), batch)
	if err != nil {
		t.Fatal(err)
	}
	res := onnxrun.Output{
		Features:  slices.Clone(engine.HostData[float32](n.Features(batch))),
		Embedding: slices.Clone(engine.HostData[float32](out)),
	}
	d := len(res.Embedding) / batch
	for r := range batch {
		row := res.Embedding[r*d : (r+1)*d]
		var s float64
		for _, v := range row {
			s += float64(v) * float64(v)
		}
		inv := 1 / max(math.Sqrt(s), onnxexport.L2Eps)
		for j, v := range row {
			row[j] = float32(float64(v) * inv)
		}
	}
	return res
}

func export(t *testing.T, s *weights.State, size int) (string, *onnx.ModelProto) {
	t.Helper()
	m, err := onnxexport.Build(s, onnxexport.Options{Height: size, Width: size})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "model.onnx")
	if _, err := onnxexport.WriteFile(path, m); err != nil {
		t.Fatal(err)
	}
	return path, m
}

func open(t *testing.T, path string) *onnxrun.Session {
	t.Helper()
	s, err := onnxrun.Open(path, onnxrun.WithThreads(2))
	if err != nil {
		t.Fatalf("ONNX Runtime is required for this test: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// TestParityEveryArchitecture exports every architecture at 32x32 and at
// 224x224 (and one size between), random and trained, with every head, and
// holds ONNX Runtime's outputs to the engine's within onnxrun.Tolerance relative.
func TestParityEveryArchitecture(t *testing.T) {
	cases := []netCase{
		{"resnet18", weights.HeadMLP, 16, 0.125, 224, movedStats},
		{"resnet18", weights.HeadFC, 10, 0.125, 32, movedStats},
		{"resnet34", weights.HeadFC, 16, 0.125, 64, movedStats},
		{"resnet34", weights.HeadMLP, 16, 0.125, 224, movedStats},
		{"resnet34", weights.HeadNone, 0, 0.125, 32, randomInit},
		{"resnet50", weights.HeadMLP, 16, 0.125, 224, movedStats},
		{"resnet50", weights.HeadNone, 0, 0.125, 96, randomInit},
		{"resnet50", weights.HeadFC, 10, 0.125, 32, movedStats},
		{"resnet18-cifar", weights.HeadNone, 0, 0.125, 32, randomInit},
		{"resnet18-cifar", weights.HeadMLP, 32, 0.25, 32, movedStats},
		{"resnet18-cifar", weights.HeadFC, 10, 0.25, 32, sgdSteps},
		{"resnet18-cifar", weights.HeadMLP, 16, 0.125, 224, movedStats},
	}
	for _, tc := range cases {
		const batch = 4
		n := prepare(t, tc, batch)
		name := fmt.Sprintf("%s @%d, %s", weights.Describe(n.Arch), tc.size, tc.prep)
		t.Run(name, func(t *testing.T) {
			path, _ := export(t, engine.StateOf(n), tc.size)
			sess := open(t, path)
			if h, w := sess.Input(); h != tc.size || w != tc.size {
				t.Fatalf("session input %dx%d", h, w)
			}
			x := images(42, batch*3*tc.size*tc.size, 0)
			want := reference(t, n, x, batch)
			got, err := sess.Run(x, batch)
			if err != nil {
				t.Fatal(err)
			}
			diffs, err := onnxrun.Check(got, want, onnxrun.Tolerance)
			for _, d := range diffs {
				t.Logf("%-9s max_abs_diff %.3g  max_rel_diff %.3g", d.Output, d.MaxAbs, d.MaxRel)
			}
			if err != nil {
				t.Error(err)
			}
			// A batch of another size runs through the symbolic N.
			one, err := sess.Run(x[:3*tc.size*tc.size], 1)
			if err != nil {
				t.Fatal(err)
			}
			if d := onnxrun.Compare("embedding", one.Embedding, got.Embedding[:len(one.Embedding)]); d.MaxRel > onnxrun.Tolerance {
				t.Errorf("batch of 1 differs from the batch of %d: %+v", batch, d)
			}
		})
	}
}

// TestParityCatchesPerturbedWeight scales one convolution's folded weights
// by 1.001 in the exported file: the check must fail.
func TestParityCatchesPerturbedWeight(t *testing.T) {
	tc := netCase{"resnet18-cifar", weights.HeadMLP, 16, 0.125, 32, movedStats}
	const batch = 4
	n := prepare(t, tc, batch)
	_, m := export(t, engine.StateOf(n), tc.size)
	found := false
	for _, in := range m.Graph.Initializer {
		if in.Name != "layer2.0.conv1.weight" {
			continue
		}
		found = true
		for i := 0; i < len(in.RawData); i += 4 {
			v := math.Float32frombits(binary.LittleEndian.Uint32(in.RawData[i:]))
			binary.LittleEndian.PutUint32(in.RawData[i:], math.Float32bits(v*1.001))
		}
	}
	if !found {
		t.Fatal("no initializer layer2.0.conv1.weight")
	}
	path := filepath.Join(t.TempDir(), "perturbed.onnx")
	if _, err := onnxexport.WriteFile(path, m); err != nil {
		t.Fatal(err)
	}
	x := images(42, batch*3*tc.size*tc.size, 0)
	got, err := open(t, path).Run(x, batch)
	if err != nil {
		t.Fatal(err)
	}
	diffs, err := onnxrun.Check(got, reference(t, n, x, batch), onnxrun.Tolerance)
	if !errors.Is(err, onnxrun.ErrParity) || !strings.Contains(err.Error(), "features max_rel_diff") {
		t.Fatalf("perturbed weight: %v (diffs %+v), want ErrParity naming features", err, diffs)
	}
	t.Logf("perturbed: %v", err)
}

func TestCompare(t *testing.T) {
	inf := math.Inf(1)
	cases := []struct {
		name           string
		got, want      []float32
		maxAbs, maxRel float64
	}{
		{"equal", []float32{1, -2}, []float32{1, -2}, 0, 0},
		{"relative to the tensor's scale", []float32{1.5, 10}, []float32{1, 10}, 0.5, 0.05},
		{"all-zero reference", []float32{0, 1e-3}, []float32{0, 0}, float64(float32(1e-3)), float64(float32(1e-3))},
		{"nan", []float32{float32(math.NaN())}, []float32{1}, inf, inf},
		{"length", []float32{1}, []float32{1, 2}, inf, inf},
	}
	for _, tc := range cases {
		d := onnxrun.Compare("x", tc.got, tc.want)
		if d.MaxAbs != tc.maxAbs || d.MaxRel != tc.maxRel {
			t.Errorf("%s: %+v, want abs %g rel %g", tc.name, d, tc.maxAbs, tc.maxRel)
		}
	}
}

func TestOpenAndRunRejects(t *testing.T) {
	dir := t.TempDir()
	text := filepath.Join(dir, "readme.onnx")
	if err := os.WriteFile(text, []byte("not a model at all\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tc := netCase{"resnet18-cifar", weights.HeadNone, 0, 0.125, 32, randomInit}
	good, _ := export(t, engine.StateOf(prepare(t, tc, 1)), 32)
	raw, _ := os.ReadFile(good)
	truncated := filepath.Join(dir, "truncated.onnx")
	if err := os.WriteFile(truncated, raw[:len(raw)/2], 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name, path string
		want       error
	}{
		{"text file", text, onnxrun.ErrModel},
		{"truncated model", truncated, onnxrun.ErrModel},
		{"missing file", filepath.Join(dir, "gone.onnx"), os.ErrNotExist},
	} {
		_, err := onnxrun.Open(c.path)
		if !errors.Is(err, c.want) || !strings.Contains(err.Error(), filepath.Base(c.path)) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: %v, want a one-line %v naming the file", c.name, err, c.want)
		}
	}
	sess := open(t, good)
	if _, err := sess.Run(make([]float32, 10), 1); !errors.Is(err, onnxrun.ErrBatch) {
		t.Errorf("short batch: %v, want ErrBatch", err)
	}
	if c, d := sess.Widths(); c != 64 || d != 64 {
		t.Errorf("widths %d, %d; want 64, 64", c, d)
	}
}

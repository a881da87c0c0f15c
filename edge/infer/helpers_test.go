package infer_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"log/slog"
	"math"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mocoedge/mocoedge/edge/infer"
	"github.com/mocoedge/mocoedge/edge/preprocess"
	"github.com/mocoedge/mocoedge/internal/repo"
	"github.com/mocoedge/mocoedge/models"
	"github.com/mocoedge/mocoedge/models/manifest"
	"github.com/mocoedge/mocoedge/models/onnxexport"
	"github.com/mocoedge/mocoedge/models/weights"
)

// modelSpec describes a test model.
type modelSpec struct {
	name  string
	arch  string
	width float64
	size  int
	dim   int // MLP head width
	seed  uint64
}

// cifarSpec is a small CIFAR model (resnet18-cifar x0.25, 32x32).
var cifarSpec = modelSpec{name: "cifar", arch: "resnet18-cifar", width: 0.25, size: 32, dim: 64, seed: 1}

// randomState returns He-initialised weights: convolution and linear
// weights N(0, 2/fan_in), batch-norm γ = 1, biases and β 0, running
// statistics 0 and 1, so activations stay in range through the network.
func randomState(a *models.Arch, seed uint64) *weights.State {
	s := weights.New(a)
	rng := rand.New(rand.NewPCG(seed, 99))
	slots, _, _ := weights.Layout(a)
	for _, sl := range slots {
		if sl.Kind != models.Weight {
			continue
		}
		v := s.Params[sl.Offset : sl.Offset+sl.Size()]
		if len(sl.Shape) == 1 { // batch-norm γ
			for i := range v {
				v[i] = 1
			}
			continue
		}
		fanIn := sl.Size() / sl.Shape[0]
		std := math.Sqrt(2 / float64(fanIn))
		for i := range v {
			v[i] = float32(rng.NormFloat64() * std)
		}
	}
	return s
}

// exportModel writes spec's model and manifest into dir, as `trainer
// export` does, and returns the ONNX path and the manifest.
func exportModel(t testing.TB, dir string, spec modelSpec) (string, *manifest.Manifest) {
	t.Helper()
	return exportModelWith(t, dir, spec, nil)
}

// exportModelWith is exportModel with edit applied to the parameters first.
func exportModelWith(t testing.TB, dir string, spec modelSpec, edit func(params []float32)) (string, *manifest.Manifest) {
	t.Helper()
	a, err := weights.NewArch(spec.arch, spec.width, weights.HeadMLP, spec.dim)
	if err != nil {
		t.Fatal(err)
	}
	mean, std := [3]float32{0.4914, 0.4822, 0.4465}, [3]float32{0.2023, 0.1994, 0.2010}
	if spec.size > 64 {
		mean, std = [3]float32{0.485, 0.456, 0.406}, [3]float32{0.229, 0.224, 0.225}
	}
	m := &manifest.Manifest{
		Name: spec.name, Arch: a.Name, Width: a.Width, Head: weights.Head(a), Method: "random-init",
		Input:   manifest.Input{Height: spec.size, Width: spec.size, Mean: mean, Std: std, Color: "RGB", Resize: spec.size, Crop: spec.size},
		Outputs: manifest.Outputs{Features: a.Features, Embedding: a.Outputs()},
		Created: time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC),
	}
	state := randomState(a, spec.seed)
	if edit != nil {
		edit(state.Params)
	}
	model, err := onnxexport.Build(state, onnxexport.Options{Height: spec.size, Width: spec.size, Metadata: m.Props()})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, spec.name+".onnx")
	if m.SHA256, err = onnxexport.WriteFile(path, model); err != nil {
		t.Fatal(err)
	}
	if err := manifest.Write(manifest.PathFor(path), m); err != nil {
		t.Fatal(err)
	}
	return path, m
}

// cifarJPEGs returns the first n JPEG files of the CIFAR-10 test archive.
func cifarJPEGs(t testing.TB, n int) [][]byte {
	t.Helper()
	files, err := repo.CIFAR10Files("test.tar.gz", n)
	if err != nil {
		t.Fatal(err)
	}
	out := make([][]byte, len(files))
	for i, f := range files {
		out[i] = f.Data
	}
	return out
}

// pixels preprocesses images for in, back to back.
func pixels(t testing.TB, in manifest.Input, images [][]byte) []float32 {
	t.Helper()
	p, err := preprocess.New(in)
	if err != nil {
		t.Fatal(err)
	}
	x := make([]float32, len(images)*p.Len())
	if err := p.Batch(context.Background(), x, images); err != nil {
		t.Fatal(err)
	}
	return x
}

// logBuffer collects log lines from several goroutines.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// testLogger logs to the returned buffer (and to the test's log with -v).
func testLogger(t testing.TB) (*slog.Logger, *logBuffer) {
	buf := &logBuffer{}
	return slog.New(slog.NewTextHandler(io.MultiWriter(buf, tWriter{t}), &slog.HandlerOptions{Level: slog.LevelDebug})), buf
}

// tWriter writes to t.Log.
type tWriter struct{ t testing.TB }

func (w tWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// newEngine starts an engine on path with the CPU provider and 2 threads
// unless opts say otherwise, closed at the end of the test.
func newEngine(t testing.TB, path string, opts ...infer.Option) *infer.Engine {
	t.Helper()
	log, _ := testLogger(t)
	all := append([]infer.Option{infer.WithProviders(infer.ProviderCPU), infer.WithThreads(2), infer.WithLogger(log)}, opts...)
	e, err := infer.New(context.Background(), path, all...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := e.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	return e
}

// sha256Hex is the hex SHA-256 of b.
func sha256Hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

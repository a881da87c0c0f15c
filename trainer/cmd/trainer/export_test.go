package main

import (
	"encoding/json"
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mocoedge/mocoedge/internal/blas"
	"github.com/mocoedge/mocoedge/models/manifest"
	"github.com/mocoedge/mocoedge/models/onnxexport"
	"github.com/mocoedge/mocoedge/models/onnxrun"
	"github.com/mocoedge/mocoedge/models/weights"
	"github.com/mocoedge/mocoedge/trainer/engine"
)

// writeCheckpoint saves a network whose batch-norm statistics have moved
// (three training-mode forwards), with training provenance in the metadata.
func writeCheckpoint(t *testing.T, dir, arch, head string, dim int) string {
	t.Helper()
	a, err := weights.NewArch(arch, 0.125, head, dim)
	if err != nil {
		t.Fatal(err)
	}
	g, err := blas.Load(blas.Options{})
	if err != nil {
		t.Fatal(err)
	}
	const batch = 4
	size := a.InputSize
	if size > 64 {
		size = 64
	}
	net, err := engine.NewNet(engine.NewCPU[float32](g, 0), a, batch, size, size)
	if err != nil {
		t.Fatal(err)
	}
	net.Init(5)
	rng := rand.New(rand.NewPCG(1, 2))
	x := make([]float32, batch*3*size*size)
	for step := range 3 {
		for i := range x {
			x[i] = float32(rng.NormFloat64() + 0.1*float64(step))
		}
		if _, err := net.Forward(engine.Host[float32](x), batch); err != nil {
			t.Fatal(err)
		}
	}
	path := filepath.Join(dir, arch+"-"+head+".safetensors")
	md := map[string]string{weights.KeyMethod: "moco-v2", weights.KeyDataset: "cifar10-train", weights.KeyImages: "50000",
		weights.KeyEpochs: "200", weights.KeySeconds: "3600.5", weights.KeyKNN: "82.5"}
	if err := weights.Save(path, engine.StateOf(net), md); err != nil {
		t.Fatal(err)
	}
	return path
}

func exportJSON(t *testing.T, args ...string) exportResult {
	t.Helper()
	code, out, errs := runCLI(t, append([]string{"export", "--json"}, args...)...)
	if code != 0 {
		t.Fatalf("export %v: exit %d: %s", args, code, errs)
	}
	var res exportResult
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("%v in %q", err, out)
	}
	return res
}

func TestExport(t *testing.T) {
	dir := t.TempDir()
	cases := []struct {
		name     string
		args     []string
		arch     string
		input    int
		features int
		embed    int
		method   string
	}{
		{"random init, cifar", []string{"--random-init", "--arch", "resnet18-cifar", "--width", "0.125", "--dim", "32"},
			"resnet18-cifar", 32, 64, 32, "random-init"},
		{"random init at 224, no head", []string{"--random-init", "--arch", "resnet50", "--width", "0.125", "--head", "none", "--verify-images", "2"},
			"resnet50", 224, 256, 256, "random-init"},
		{"checkpoint with mlp head", []string{"--checkpoint", writeCheckpoint(t, dir, "resnet18-cifar", weights.HeadMLP, 16)},
			"resnet18-cifar", 32, 64, 16, "moco-v2"},
		{"checkpoint, head dropped, 64 px", []string{"--checkpoint", writeCheckpoint(t, dir, "resnet34", weights.HeadFC, 10), "--head", "none", "--input", "64"},
			"resnet34", 64, 64, 64, "moco-v2"},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			out := filepath.Join(dir, "model"+string(rune('a'+i))+".onnx")
			res := exportJSON(t, append(tc.args, "--out", out)...)
			if res.Arch != tc.arch || res.Input != tc.input || res.Features != tc.features || res.Embedding != tc.embed {
				t.Errorf("result %+v", res)
			}
			for _, d := range []onnxrun.Diff{res.Verify.Features, res.Verify.Embedding} {
				if d.MaxRel > onnxrun.Tolerance {
					t.Errorf("%s: max_rel_diff %g", d.Output, d.MaxRel)
				}
			}
			if res.Verify.Images < 1 || res.Verify.ONNXRuntime == "" || !strings.HasSuffix(res.Verify.Data, "test.tar.gz") {
				t.Errorf("verify %+v", res.Verify)
			}
			m, err := manifest.Load(out)
			if err != nil {
				t.Fatal(err)
			}
			if m.Method != tc.method || m.Name != strings.TrimSuffix(filepath.Base(out), ".onnx") || m.SHA256 != res.SHA256 {
				t.Errorf("manifest %+v", m)
			}
			if tc.method == "moco-v2" && (m.Trained.Dataset != "cifar10-train" || m.Trained.Images != 50000 || m.Trained.Epochs != 200 || m.Trained.KNN != 82.5) {
				t.Errorf("trained %+v", m.Trained)
			}
		})
	}
}

func TestExportErrors(t *testing.T) {
	dir := t.TempDir()
	ckpt := writeCheckpoint(t, dir, "resnet18-cifar", weights.HeadFC, 10)
	full, _ := os.ReadFile(ckpt)
	truncated := filepath.Join(dir, "truncated.safetensors")
	if err := os.WriteFile(truncated, full[:len(full)*2/3], 0o644); err != nil {
		t.Fatal(err)
	}
	notes := filepath.Join(dir, "notes.txt")
	if err := os.WriteFile(notes, []byte("shopping list: eggs, milk\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "out", "m.onnx")
	if err := os.Mkdir(filepath.Dir(out), 0o755); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		args []string
		code int
		msg  string
	}{
		{"not a checkpoint", []string{"--checkpoint", notes, "--out", out}, 1, "not a safetensors file"},
		{"truncated checkpoint", []string{"--checkpoint", truncated, "--out", out}, 1, "truncated"},
		{"missing checkpoint", []string{"--checkpoint", filepath.Join(dir, "gone.safetensors"), "--out", out}, 1, "no such file"},
		{"missing output folder", []string{"--random-init", "--out", filepath.Join(dir, "nope", "m.onnx")}, 1, "output folder " + filepath.Join(dir, "nope") + " does not exist"},
		{"missing verify data", []string{"--random-init", "--width", "0.125", "--out", out, "--verify-data", filepath.Join(dir, "none.tar")}, 1, "verification images"},
		{"head not in checkpoint", []string{"--checkpoint", ckpt, "--head", "mlp", "--out", out}, 2, "the checkpoint has a fc head"},
		{"no out", []string{"--random-init"}, 2, "--out is required"},
		{"not .onnx", []string{"--random-init", "--out", filepath.Join(dir, "m.bin")}, 2, "must end in .onnx"},
		{"both sources", []string{"--random-init", "--checkpoint", ckpt, "--out", out}, 2, "exactly one of"},
		{"bad head", []string{"--random-init", "--head", "transformer", "--out", out}, 2, "accepted are none, fc, mlp"},
		{"bad arch", []string{"--random-init", "--arch", "vgg16", "--out", out}, 2, "accepted are resnet18"},
		{"bad norm", []string{"--random-init", "--norm", "mnist", "--out", out}, 2, "accepted are auto, cifar10, imagenet"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			code, _, errs := runCLI(t, append([]string{"export"}, tc.args...)...)
			if code != tc.code || !strings.Contains(errs, tc.msg) {
				t.Fatalf("exit %d, stderr %q; want exit %d and %q", code, errs, tc.code, tc.msg)
			}
			last := strings.TrimSpace(errs[strings.LastIndex(strings.TrimSpace(errs), "\n")+1:])
			if !strings.HasPrefix(last, "trainer export: ") || !strings.Contains(last, tc.msg) {
				t.Errorf("the error is not one line: %q", errs)
			}
			if entries, _ := os.ReadDir(filepath.Dir(out)); len(entries) != 0 {
				t.Errorf("a failed export left %d files", len(entries))
			}
		})
	}
}

// TestFailedParityRemovesFiles hands writeVerified a reference that the
// model does not match: it must fail and leave neither file behind.
func TestFailedParityRemovesFiles(t *testing.T) {
	a, err := weights.NewArch("resnet18-cifar", 0.125, weights.HeadMLP, 16)
	if err != nil {
		t.Fatal(err)
	}
	s := weights.New(a)
	for i := range s.Params {
		s.Params[i] = float32(i%13)*0.01 - 0.05
	}
	env := &environment{settings: settingsFromEnv()}
	const n = 2
	net, err := newEngineNet(env, s, n, 32, 0)
	if err != nil {
		t.Fatal(err)
	}
	x := make([]float32, n*3*32*32)
	for i := range x {
		x[i] = float32(i%17) * 0.1
	}
	want, err := engineOutputs(net, x, n)
	if err != nil {
		t.Fatal(err)
	}
	m := &manifest.Manifest{Name: "m", Arch: a.Name, Width: a.Width, Head: weights.HeadMLP, Method: "test",
		Input:   manifest.Input{Height: 32, Width: 32, Mean: [3]float32{0.5, 0.5, 0.5}, Std: [3]float32{0.25, 0.25, 0.25}, Color: "RGB", Resize: 32, Crop: 32},
		Outputs: manifest.Outputs{Features: a.Features, Embedding: 16}, Created: time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)}
	model, err := onnxexport.Build(s, onnxexport.Options{Height: 32, Width: 32, Metadata: m.Props()})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	out := filepath.Join(dir, "m.onnx")
	if _, err := writeVerified(model, m, out, x, n, want, 0); err != nil {
		t.Fatalf("the matching reference fails: %v", err)
	}
	want.Features[3] *= 1.01
	_, err = writeVerified(model, m, out, x, n, want, 0)
	if !errors.Is(err, onnxrun.ErrParity) || !strings.Contains(err.Error(), "removed") {
		t.Fatalf("perturbed reference: %v, want ErrParity and the files removed", err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("%d files left after a failed parity check", len(entries))
	}
}

package main

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/advancedclimatesystems/gonnx/onnx"

	"github.com/mocoedge/mocoedge/internal/blas"
	"github.com/mocoedge/mocoedge/internal/onnxrt"
	"github.com/mocoedge/mocoedge/internal/repo"
	"github.com/mocoedge/mocoedge/models/manifest"
	"github.com/mocoedge/mocoedge/models/onnxexport"
	"github.com/mocoedge/mocoedge/models/onnxrun"
	"github.com/mocoedge/mocoedge/models/weights"
	"github.com/mocoedge/mocoedge/trainer/data"
	"github.com/mocoedge/mocoedge/trainer/engine"
)

// exportFlags are `trainer export`'s settings.
type exportFlags struct {
	checkpoint   string
	randomInit   bool
	arch         string
	width        float64
	head         string
	dim          int
	seed         uint64
	input        int
	norm         string
	out, name    string
	verifyData   string
	verifyImages int
	threads      int
	asJSON       bool
}

// exportResult is `trainer export --json`'s output.
type exportResult struct {
	ONNX      string       `json:"onnx"`
	Manifest  string       `json:"manifest"`
	SHA256    string       `json:"sha256"`
	Arch      string       `json:"arch"`
	Width     float64      `json:"width"`
	Head      string       `json:"head"`
	Input     int          `json:"input"`
	Features  int          `json:"features"`
	Embedding int          `json:"embedding"`
	Verify    verifyResult `json:"verify"`
}

// verifyResult reports the ONNX Runtime parity check.
type verifyResult struct {
	ONNXRuntime string       `json:"onnxruntime"`
	Data        string       `json:"data"`
	Images      int          `json:"images"`
	Tolerance   float64      `json:"tolerance"`
	Features    onnxrun.Diff `json:"features"`
	Embedding   onnxrun.Diff `json:"embedding"`
}

func runExport(ctx context.Context, env *environment, args []string) error {
	fs := newFlags(env, "export", "(--checkpoint FILE | --random-init [--arch A] [--width W]) --out NAME.onnx [flags]")
	var f exportFlags
	fs.StringVar(&f.checkpoint, "checkpoint", "", "state dict to export (a safetensors file with architecture metadata)")
	fs.BoolVar(&f.randomInit, "random-init", false, "export an untrained network instead of a checkpoint")
	fs.StringVar(&f.arch, "arch", "resnet18-cifar", "architecture with --random-init: "+archList())
	fs.Float64Var(&f.width, "width", 0.25, "channel width multiplier with --random-init, in (0, 4]")
	fs.StringVar(&f.head, "head", "", "head after pooling: none, fc or mlp (default: the checkpoint's; mlp with --random-init)")
	fs.IntVar(&f.dim, "dim", 128, "embedding width of the head with --random-init")
	fs.Uint64Var(&f.seed, "seed", 1, "weight seed with --random-init")
	fs.IntVar(&f.input, "input", 0, "image side in pixels (0: the architecture's usual size)")
	fs.StringVar(&f.norm, "norm", "auto", normHelp+"; written to the manifest")
	fs.StringVar(&f.out, "out", "", "ONNX file to write (NAME.onnx); NAME.manifest.json goes beside it (required)")
	fs.StringVar(&f.name, "name", "", "model name in the manifest (default: NAME)")
	fs.StringVar(&f.verifyData, "verify-data", "", "images to verify the export on (default: ../shared/datasets/cifar10/test.tar.gz from the repository root)")
	fs.IntVar(&f.verifyImages, "verify-images", 8, "how many images to verify on")
	fs.IntVar(&f.threads, "threads", env.settings.threads, "threads (0: all cores)")
	fs.BoolVar(&f.asJSON, "json", false, "print one JSON object")
	if err := parse(fs, args); err != nil {
		return err
	}
	if err := f.check(); err != nil {
		return err
	}
	if f.name == "" {
		f.name = strings.TrimSuffix(filepath.Base(f.out), ".onnx")
	}
	state, provenance, err := f.state()
	if err != nil {
		return err
	}
	size := f.input
	if size == 0 {
		size = state.Arch.InputSize
	}
	mean, std, _ := normalisation(provenance.norm)
	m := &manifest.Manifest{
		Name: f.name, Arch: state.Arch.Name, Width: state.Arch.Width, Head: weights.Head(state.Arch),
		Method:  provenance.method,
		Input:   manifest.Input{Height: size, Width: size, Mean: mean, Std: std, Color: "RGB", Resize: size, Crop: size},
		Outputs: manifest.Outputs{Features: state.Arch.Features, Embedding: state.Arch.Outputs()},
		Trained: provenance.trained,
		Created: time.Now().UTC().Truncate(time.Second),
	}

	// Everything that can fail cheaply fails before a file is written.
	verifyPath, err := f.verifyDataPath()
	if err != nil {
		return err
	}
	ds, err := data.Load(ctx, verifyPath, data.Options{Limit: f.verifyImages, Seed: 1, Logger: env.log})
	if err != nil {
		return fmt.Errorf("verification images: %w", err)
	}
	n := ds.Len()
	x := make([]float32, n*3*size*size)
	for i := range n {
		pix, h, w := ds.Image(i)
		if err := preprocess(x[i*3*size*size:(i+1)*3*size*size], pix, h, w, m.Input); err != nil {
			return fmt.Errorf("verification image %s: %w", ds.Name(i), err)
		}
	}
	net, err := newEngineNet(env, state, n, size, f.threads)
	if err != nil {
		return err
	}
	want, err := engineOutputs(net, x, n)
	if err != nil {
		return err
	}

	model, err := onnxexport.Build(state, onnxexport.Options{Height: size, Width: size, Metadata: m.Props()})
	if err != nil {
		return err
	}
	diffs, err := writeVerified(model, m, f.out, x, n, want, f.threads)
	if err != nil {
		return err
	}
	manifestPath := manifest.PathFor(f.out)

	res := exportResult{
		ONNX: f.out, Manifest: manifestPath, SHA256: m.SHA256,
		Arch: m.Arch, Width: m.Width, Head: m.Head, Input: size, Features: m.Outputs.Features, Embedding: m.Outputs.Embedding,
		Verify: verifyResult{ONNXRuntime: onnxrt.Version(), Data: verifyPath, Images: n, Tolerance: onnxrun.Tolerance,
			Features: diffs[0], Embedding: diffs[1]},
	}
	if f.asJSON {
		return json.NewEncoder(env.stdout).Encode(res)
	}
	fmt.Fprintf(env.stdout, "wrote %s (sha256 %s) and %s\n", res.ONNX, res.SHA256, res.Manifest)
	fmt.Fprintf(env.stdout, "  %s, input 3x%dx%d, features %d, embedding %d\n", weights.Describe(state.Arch), size, size, res.Features, res.Embedding)
	fmt.Fprintf(env.stdout, "  verified with ONNX Runtime %s on %d images of %s (tolerance %g relative):\n", res.Verify.ONNXRuntime, n, filepath.Base(verifyPath), onnxrun.Tolerance)
	for _, d := range diffs {
		fmt.Fprintf(env.stdout, "    %-9s max_abs_diff %.3g  max_rel_diff %.3g\n", d.Output, d.MaxAbs, d.MaxRel)
	}
	return nil
}

// check validates the flags' combination.
func (f *exportFlags) check() error {
	switch {
	case f.out == "":
		return usagef("--out is required, e.g. --out encoder.onnx")
	case !strings.HasSuffix(f.out, ".onnx") || filepath.Base(f.out) == ".onnx":
		return usagef("--out %q: the file name must end in .onnx", f.out)
	case (f.checkpoint == "") == !f.randomInit:
		return usagef("give exactly one of --checkpoint FILE and --random-init")
	case !slices.Contains([]string{"", weights.HeadNone, weights.HeadFC, weights.HeadMLP}, f.head):
		return usagef("--head %q: accepted are none, fc, mlp", f.head)
	case f.input < 0 || f.verifyImages < 1:
		return usagef("--input must be >= 0 and --verify-images >= 1")
	}
	if !validNorm(f.norm) {
		return usagef("--norm %q: accepted are auto, cifar10, imagenet", f.norm)
	}
	if dir := filepath.Dir(f.out); !isDir(dir) {
		return fmt.Errorf("output folder %s does not exist", dir)
	}
	return nil
}

// provenance is what a checkpoint says about its training.
type provenance struct {
	method  string
	trained manifest.Trained
	norm    string // the input normalisation, --norm with auto settled
}

// state returns the weights to export: a checkpoint's (with the head
// adjusted by --head) or a freshly initialised network's.
func (f *exportFlags) state() (*weights.State, provenance, error) {
	if f.randomInit {
		head := cmp.Or(f.head, weights.HeadMLP)
		a, err := weights.NewArch(f.arch, f.width, head, f.dim)
		if err != nil {
			return nil, provenance{}, usageError{Err: err}
		}
		g, err := blas.Load(blas.Options{Backend: "gonum"}) // no GEMM runs here
		if err != nil {
			return nil, provenance{}, err
		}
		// Init does not depend on the image size: a small net is enough.
		net, err := engine.NewNet(engine.NewCPU[float32](g, 1), a, 1, 32, 32)
		if err != nil {
			return nil, provenance{}, err
		}
		net.Init(f.seed)
		return engine.StateOf(net), provenance{method: "random-init", norm: resolveNorm(f.norm, nil, a)}, nil
	}
	s, md, err := weights.Load(f.checkpoint)
	if err != nil {
		return nil, provenance{}, err
	}
	have := weights.Head(s.Arch)
	switch {
	case f.head == "" || f.head == have:
	case f.head == weights.HeadNone:
		if s, err = s.Backbone(); err != nil {
			return nil, provenance{}, err
		}
	default:
		return nil, provenance{}, usagef("--head %s: the checkpoint has a %s head; accepted are none (drop it) or %s", f.head, have, have)
	}
	p := provenanceOf(md)
	p.norm = resolveNorm(f.norm, md, s.Arch)
	return s, p, nil
}

// provenanceOf reads the training record a checkpoint's metadata may hold
// (weights.KeyMethod and friends); missing or malformed numbers stay zero.
func provenanceOf(md map[string]string) provenance {
	num := func(k string) float64 {
		v, err := strconv.ParseFloat(md[k], 64)
		if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
			return 0
		}
		return v
	}
	return provenance{
		method: cmp.Or(md[weights.KeyMethod], "checkpoint"),
		trained: manifest.Trained{Dataset: md[weights.KeyDataset], Images: int(num(weights.KeyImages)),
			Epochs: num(weights.KeyEpochs), Seconds: num(weights.KeySeconds), KNN: num(weights.KeyKNN)},
	}
}

// verifyDataPath returns --verify-data or the CIFAR-10 test archive beside
// the repository.
func (f *exportFlags) verifyDataPath() (string, error) {
	if f.verifyData != "" {
		return f.verifyData, nil
	}
	p, err := repo.CIFAR10("test.tar.gz")
	if err != nil {
		return "", fmt.Errorf("default verification images: %w, or pass --verify-data PATH", err)
	}
	return p, nil
}

// writeVerified writes the model to out and its manifest beside it, checks
// the pair as the edge will (manifest.Verify), runs the model in ONNX
// Runtime on x and compares the outputs with want, the engine's. When any
// step fails both files are removed: a failed export leaves nothing behind.
func writeVerified(model *onnx.ModelProto, m *manifest.Manifest, out string, x []float32, n int, want onnxrun.Output, threads int) ([]onnxrun.Diff, error) {
	manifestPath := manifest.PathFor(out)
	sum, err := onnxexport.WriteFile(out, model)
	if err != nil {
		return nil, err
	}
	m.SHA256 = sum
	diffs, err := func() ([]onnxrun.Diff, error) {
		if err := manifest.Write(manifestPath, m); err != nil {
			return nil, err
		}
		if err := manifest.Verify(m, out); err != nil {
			return nil, err
		}
		sess, err := onnxrun.Open(out, onnxrun.WithThreads(threads))
		if err != nil {
			return nil, err
		}
		defer sess.Close()
		got, err := sess.Run(x, n)
		if err != nil {
			return nil, err
		}
		return onnxrun.Check(got, want, onnxrun.Tolerance)
	}()
	if err != nil {
		os.Remove(out)
		os.Remove(manifestPath)
		return nil, fmt.Errorf("%w; removed %s and %s", err, out, manifestPath)
	}
	return diffs, nil
}

// newEngineNet builds an eval-mode network holding s for batches of up to
// batch images of size×size.
func newEngineNet(env *environment, s *weights.State, batch, size, threads int) (*engine.Net[float32], error) {
	opts := env.settings.blas
	opts.Threads = threads
	g, err := blas.Load(opts)
	if err != nil {
		return nil, err
	}
	net, err := engine.NewNet(engine.NewCPU[float32](g, threads), s.Arch, batch, size, size)
	if err != nil {
		return nil, err
	}
	if err := engine.SetState(net, s); err != nil {
		return nil, err
	}
	net.Train = false
	return net, nil
}

// engineOutputs runs the engine in eval mode and returns what the exported
// graph computes: the pooled features and the L2-normalised output.
func engineOutputs(net *engine.Net[float32], x []float32, n int) (onnxrun.Output, error) {
	out, err := net.Forward(engine.Host[float32](x), n)
	if err != nil {
		return onnxrun.Output{}, err
	}
	be := net.Backend()
	res := onnxrun.Output{
		Features:  make([]float32, n*net.Arch.Features),
		Embedding: make([]float32, n*net.Outputs()),
	}
	be.Download(res.Features, net.Features(n))
	be.Download(res.Embedding, out)
	l2Normalize(res.Embedding, net.Outputs())
	return res, nil
}

// l2Normalize scales each row of d values to unit length, dividing by at
// least onnxexport.L2Eps, as the exported graph and F.normalize do.
func l2Normalize(v []float32, d int) {
	for r := 0; r+d <= len(v); r += d {
		row := v[r : r+d]
		var s float64
		for _, x := range row {
			s += float64(x) * float64(x)
		}
		inv := 1 / max(math.Sqrt(s), onnxexport.L2Eps)
		for j, x := range row {
			row[j] = float32(float64(x) * inv)
		}
	}
}

func isDir(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.IsDir()
}

func isFile(p string) bool {
	st, err := os.Stat(p)
	return err == nil && !st.IsDir()
}

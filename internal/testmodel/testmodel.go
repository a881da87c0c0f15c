// Package testmodel writes small exported encoders (ONNX + manifest, as
// `trainer export` lays them out) with random He-initialised weights, and
// reads CIFAR-10 test JPEGs, for the edge packages' tests and benchmarks.
// It builds on models/onnxexport directly, so tests need no trainer binary.
package testmodel

import (
	"bytes"
	"encoding/binary"
	"image"
	"image/jpeg"
	"math"
	"math/rand/v2"
	"path/filepath"
	"testing"
	"time"

	"github.com/mocoedge/mocoedge/internal/repo"
	"github.com/mocoedge/mocoedge/models"
	"github.com/mocoedge/mocoedge/models/manifest"
	"github.com/mocoedge/mocoedge/models/onnxexport"
	"github.com/mocoedge/mocoedge/models/weights"
)

// Spec describes a test model.
type Spec struct {
	Name  string  // file name without .onnx
	Arch  string  // architecture, e.g. resnet18-cifar
	Width float64 // channel width multiplier
	Size  int     // input side in pixels
	Dim   int     // MLP head width
	Seed  uint64  // weight seed
}

// CIFAR is a small CIFAR model: resnet18-cifar x0.25 at 32x32.
var CIFAR = Spec{Name: "cifar", Arch: "resnet18-cifar", Width: 0.25, Size: 32, Dim: 64, Seed: 1}

// ResNet18 is torchvision's resnet18 at 224x224.
var ResNet18 = Spec{Name: "resnet18", Arch: "resnet18", Width: 1, Size: 224, Dim: 128, Seed: 1}

// RandomState returns He-initialised weights: convolution and linear
// weights N(0, 2/fan_in), batch-norm γ = 1, biases and β 0, running
// statistics 0 and 1, so activations stay in range through the network.
func RandomState(a *models.Arch, seed uint64) *weights.State {
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

// Export writes spec's model and manifest into dir, as `trainer export`
// does, and returns the ONNX path and the manifest.
func Export(t testing.TB, dir string, spec Spec) (string, *manifest.Manifest) {
	t.Helper()
	return ExportWith(t, dir, spec, nil)
}

// ExportWith is Export with edit applied to the parameters first.
func ExportWith(t testing.TB, dir string, spec Spec, edit func(params []float32)) (string, *manifest.Manifest) {
	t.Helper()
	a, err := weights.NewArch(spec.Arch, spec.Width, weights.HeadMLP, spec.Dim)
	if err != nil {
		t.Fatal(err)
	}
	mean, std := [3]float32{0.4914, 0.4822, 0.4465}, [3]float32{0.2023, 0.1994, 0.2010}
	if spec.Size > 64 {
		mean, std = [3]float32{0.485, 0.456, 0.406}, [3]float32{0.229, 0.224, 0.225}
	}
	m := &manifest.Manifest{
		Name: spec.Name, Arch: a.Name, Width: a.Width, Head: weights.Head(a), Method: "random-init",
		Input:   manifest.Input{Height: spec.Size, Width: spec.Size, Mean: mean, Std: std, Color: "RGB", Resize: spec.Size, Crop: spec.Size},
		Outputs: manifest.Outputs{Features: a.Features, Embedding: a.Outputs()},
		Created: time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC),
	}
	state := RandomState(a, spec.Seed)
	if edit != nil {
		edit(state.Params)
	}
	model, err := onnxexport.Build(state, onnxexport.Options{Height: spec.Size, Width: spec.Size, Metadata: m.Props()})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, spec.Name+".onnx")
	if m.SHA256, err = onnxexport.WriteFile(path, model); err != nil {
		t.Fatal(err)
	}
	if err := manifest.Write(manifest.PathFor(path), m); err != nil {
		t.Fatal(err)
	}
	return path, m
}

// CIFARJPEGs returns the first n JPEG files of the CIFAR-10 test archive
// (read in place from ../shared/datasets/cifar10).
func CIFARJPEGs(t testing.TB, n int) [][]byte {
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

// HugeJPEG returns a real 8x8 JPEG whose frame header is patched to
// declare w×h: what a hostile upload looks like, refused by preprocessing
// before any pixel is decoded.
func HugeJPEG(t testing.TB, w, h int) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, image.NewGray(image.Rect(0, 0, 8, 8)), nil); err != nil {
		t.Fatal(err)
	}
	b := buf.Bytes()
	i := bytes.Index(b, []byte{0xff, 0xc0})
	if i < 0 {
		t.Fatal("no SOF0 marker")
	}
	binary.BigEndian.PutUint16(b[i+5:], uint16(h))
	binary.BigEndian.PutUint16(b[i+7:], uint16(w))
	return b
}

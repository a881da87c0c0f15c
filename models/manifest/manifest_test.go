package manifest_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mocoedge/mocoedge/models/manifest"
	"github.com/mocoedge/mocoedge/models/onnxexport"
	"github.com/mocoedge/mocoedge/models/weights"
)

// exported writes a small untrained model and its manifest into a temporary
// folder and returns the ONNX path and the manifest.
func exported(t *testing.T) (string, *manifest.Manifest) {
	t.Helper()
	a, err := weights.NewArch("resnet18-cifar", 0.125, weights.HeadMLP, 16)
	if err != nil {
		t.Fatal(err)
	}
	m := &manifest.Manifest{
		Name: "tiny", Arch: a.Name, Width: a.Width, Head: weights.Head(a), Method: "random-init",
		Input:   manifest.Input{Height: 32, Width: 32, Mean: [3]float32{0.4914, 0.4822, 0.4465}, Std: [3]float32{0.2023, 0.1994, 0.2010}, Color: "RGB", Resize: 32, Crop: 32},
		Outputs: manifest.Outputs{Features: a.Features, Embedding: a.Outputs()},
		Created: time.Date(2025, 1, 2, 3, 4, 5, 6, time.UTC),
	}
	model, err := onnxexport.Build(weights.New(a), onnxexport.Options{Height: 32, Width: 32, Metadata: m.Props()})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "tiny.onnx")
	if m.SHA256, err = onnxexport.WriteFile(path, model); err != nil {
		t.Fatal(err)
	}
	if err := manifest.Write(manifest.PathFor(path), m); err != nil {
		t.Fatal(err)
	}
	return path, m
}

func TestWriteReadLoad(t *testing.T) {
	path, m := exported(t)
	if got := manifest.PathFor(path); !strings.HasSuffix(got, "tiny.manifest.json") {
		t.Errorf("PathFor = %s", got)
	}
	back, err := manifest.Read(manifest.PathFor(path))
	if err != nil {
		t.Fatal(err)
	}
	if back.SHA256 != m.SHA256 || back.Input != m.Input || !back.Created.Equal(m.Created) {
		t.Errorf("read back %+v, want %+v", back, m)
	}
	if _, err := manifest.Load(path); err != nil {
		t.Errorf("Load of a fresh export: %v", err)
	}
	raw, _ := os.ReadFile(manifest.PathFor(path))
	for _, field := range []string{`"name"`, `"arch"`, `"method"`, `"input"`, `"height"`, `"mean"`, `"color": "RGB"`, `"resize"`, `"crop"`, `"outputs"`, `"features"`, `"embedding"`, `"trained"`, `"dataset"`, `"knn"`, `"sha256"`, `"created"`} {
		if !strings.Contains(string(raw), field) {
			t.Errorf("manifest JSON lacks %s:\n%s", field, raw)
		}
	}
}

func TestVerifyRejects(t *testing.T) {
	path, good := exported(t)
	data, _ := os.ReadFile(path)
	dir := filepath.Dir(path)
	notONNX := filepath.Join(dir, "notes.onnx")
	if err := os.WriteFile(notONNX, []byte("these are not the weights you are looking for\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	edited := func(f func(m *manifest.Manifest)) *manifest.Manifest {
		m := *good
		f(&m)
		return &m
	}
	cases := []struct {
		name string
		run  func() error
		want error
		msg  string
	}{
		{"other file", func() error {
			return manifest.Verify(good, notONNX)
		}, manifest.ErrHash, "the manifest says " + good.SHA256},
		{"not onnx", func() error {
			return manifest.VerifyModel(good, []byte("\x0a\x05hello"))
		}, manifest.ErrNotONNX, "not an ONNX model"},
		{"features width", func() error {
			return manifest.VerifyModel(edited(func(m *manifest.Manifest) { m.Outputs.Features = 512 }), data)
		}, manifest.ErrIO, "features has shape [N 64], the manifest says [N 512]"},
		{"input size", func() error {
			return manifest.VerifyModel(edited(func(m *manifest.Manifest) {
				m.Input.Height, m.Input.Width, m.Input.Crop, m.Input.Resize = 64, 64, 64, 64
			}), data)
		}, manifest.ErrIO, "images has shape [N 3 32 32], the manifest says [N 3 64 64]"},
		{"edited mean", func() error {
			return manifest.VerifyModel(edited(func(m *manifest.Manifest) { m.Input.Mean[0] = 0.5 }), data)
		}, manifest.ErrMetadata, "input is "},
		{"edited arch", func() error {
			return manifest.VerifyModel(edited(func(m *manifest.Manifest) { m.Arch = "resnet50" }), data)
		}, manifest.ErrMetadata, "arch is resnet18-cifar in the model, resnet50 in the manifest"},
		{"invalid manifest", func() error {
			return manifest.Verify(edited(func(m *manifest.Manifest) { m.SHA256 = "xyz" }), path)
		}, manifest.ErrInvalid, "sha256"},
		{"missing model", func() error {
			return manifest.Verify(good, filepath.Join(dir, "gone.onnx"))
		}, os.ErrNotExist, "gone.onnx"},
		{"missing manifest", func() error {
			_, err := manifest.Load(notONNX)
			return err
		}, os.ErrNotExist, "notes.manifest.json"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.run()
			if !errors.Is(err, tc.want) || !strings.Contains(err.Error(), tc.msg) {
				t.Fatalf("got %v, want %v saying %q", err, tc.want, tc.msg)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("multi-line error %q", err)
			}
		})
	}
}

func TestValidate(t *testing.T) {
	_, good := exported(t)
	cases := []struct {
		name string
		edit func(m *manifest.Manifest)
		msg  string
	}{
		{"no name", func(m *manifest.Manifest) { m.Name = "" }, "name is empty"},
		{"bgr", func(m *manifest.Manifest) { m.Input.Color = "BGR" }, `color "BGR"`},
		{"zero std", func(m *manifest.Manifest) { m.Input.Std[2] = 0 }, "std[2]"},
		{"crop bigger than resize", func(m *manifest.Manifest) { m.Input.Resize = 16 }, "resize 16 and crop 32"},
		{"no outputs", func(m *manifest.Manifest) { m.Outputs.Embedding = 0 }, "embedding 0"},
		{"no created", func(m *manifest.Manifest) { m.Created = time.Time{} }, "created"},
	}
	for _, tc := range cases {
		m := *good
		tc.edit(&m)
		if err := m.Validate(); !errors.Is(err, manifest.ErrInvalid) || !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("%s: %v, want ErrInvalid saying %q", tc.name, err, tc.msg)
		}
		if err := manifest.Write(filepath.Join(t.TempDir(), "x.manifest.json"), &m); !errors.Is(err, manifest.ErrInvalid) {
			t.Errorf("%s: Write accepted an invalid manifest: %v", tc.name, err)
		}
	}
}

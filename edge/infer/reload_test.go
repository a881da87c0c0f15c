package infer_test

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mocoedge/mocoedge/edge/infer"
	"github.com/mocoedge/mocoedge/models/manifest"
)

// editManifest rewrites the manifest beside path.
func editManifest(t *testing.T, path string, edit func(m *manifest.Manifest)) {
	t.Helper()
	m, err := manifest.Read(manifest.PathFor(path))
	if err != nil {
		t.Fatal(err)
	}
	edit(m)
	b, err := json.Marshal(m) // not manifest.Write: it refuses invalid manifests
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(manifest.PathFor(path), b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestReloadRefusedKeepsServing: every kind of bad model is refused by
// Reload with a clear error, and the previous model keeps serving.
func TestReloadRefusedKeepsServing(t *testing.T) {
	dir := t.TempDir()
	path, good := exportModel(t, dir, cifarSpec)
	log, lines := testLogger(t)
	e, err := infer.New(context.Background(), path, infer.WithProviders(infer.ProviderCPU), infer.WithLogger(log),
		infer.WithBatch(4, time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	x := pixels(t, good.Input, cifarJPEGs(t, 1))
	before, err := e.Embed(context.Background(), infer.Batch{Pixels: x, N: 1})
	if err != nil {
		t.Fatal(err)
	}

	// bad writes a fresh model named name, then breaks it with f.
	bad := func(name string, f func(path string)) string {
		spec := cifarSpec
		spec.Name, spec.Seed = name, 7
		p, _ := exportModel(t, dir, spec)
		f(p)
		return p
	}
	corrupt := bad("corrupt", func(p string) {
		b, _ := os.ReadFile(p)
		for i := len(b) / 2; i < len(b)/2+64; i++ {
			b[i] ^= 0x5a
		}
		os.WriteFile(p, b, 0o644)
	})
	garbage := bad("garbage", func(p string) {
		// Not ONNX at all, with a manifest whose sha256 matches it.
		b := []byte("\x0a\x03abc this is not a model")
		os.WriteFile(p, b, 0o644)
		editManifest(t, p, func(m *manifest.Manifest) { m.SHA256 = sha256Hex(b) })
	})
	cases := []struct {
		name string
		path string
		want error
		msg  string
	}{
		{"corrupt model file", corrupt, manifest.ErrHash, "the file hashes to"},
		{"garbage with a matching hash", garbage, manifest.ErrNotONNX, "not an ONNX model"},
		{"missing manifest", bad("nomanifest", func(p string) { os.Remove(manifest.PathFor(p)) }), os.ErrNotExist, "nomanifest.manifest.json"},
		{"missing model", filepath.Join(dir, "gone.onnx"), os.ErrNotExist, "gone.manifest.json"},
		{"embedding width", bad("wide", func(p string) {
			editManifest(t, p, func(m *manifest.Manifest) { m.Outputs.Embedding = 128 })
		}), manifest.ErrIO, "embedding has shape [N 64], the manifest says [N 128]"},
		{"input size", bad("big", func(p string) {
			editManifest(t, p, func(m *manifest.Manifest) {
				m.Input.Height, m.Input.Width, m.Input.Resize, m.Input.Crop = 64, 64, 64, 64
			})
		}), manifest.ErrIO, "images has shape [N 3 32 32], the manifest says [N 3 64 64]"},
		{"input name", bad("renamed", func(p string) {
			b, _ := os.ReadFile(p)
			b = []byte(strings.ReplaceAll(string(b), manifest.InputName, "pixels"))
			os.WriteFile(p, b, 0o644)
			editManifest(t, p, func(m *manifest.Manifest) { m.SHA256 = sha256Hex(b) })
		}), manifest.ErrIO, "inputs [pixels], want [images]"},
		{"manifest of another model", bad("other", func(p string) {
			editManifest(t, p, func(m *manifest.Manifest) { m.Arch = "resnet50" })
		}), manifest.ErrMetadata, "arch is resnet18-cifar in the model, resnet50 in the manifest"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := e.Reload(context.Background(), tc.path)
			if !errors.Is(err, infer.ErrModelRefused) || !errors.Is(err, tc.want) || !strings.Contains(err.Error(), tc.msg) {
				t.Fatalf("got %v, want ErrModelRefused and %v saying %q", err, tc.want, tc.msg)
			}
			t.Logf("refused: %v", err)
			info, _ := e.Model()
			if info.SHA256 != good.SHA256 || e.Provider() != infer.ProviderCPU {
				t.Fatalf("serving %s on %q after a refused reload, want %s", info.SHA256, e.Provider(), good.SHA256)
			}
			r, err := e.Embed(context.Background(), infer.Batch{Pixels: x, N: 1, Model: good.SHA256})
			if err != nil {
				t.Fatalf("the previous model stopped serving: %v", err)
			}
			if r.Model != good.SHA256 || r.Embedding[0] != before.Embedding[0] {
				t.Fatal("the previous model's answer changed")
			}
		})
	}
	if !strings.Contains(lines.String(), "model refused; the previous model keeps serving") {
		t.Errorf("refusals not logged:\n%s", lines)
	}
}

// TestReloadUnderLoad swaps models while callers keep submitting: no
// request is lost or answered by a model it was not prepared for, and
// after the swap results come from the new model.
func TestReloadUnderLoad(t *testing.T) {
	dir := t.TempDir()
	pathA, a := exportModel(t, dir, cifarSpec)
	specB := cifarSpec
	specB.Name, specB.Seed = "cifar-b", 2
	pathB, b := exportModel(t, dir, specB)
	specC := modelSpec{Name: "small48", Arch: "resnet18-cifar", Width: 0.125, Size: 48, Dim: 32, Seed: 3}
	pathC, c := exportModel(t, dir, specC)

	e := newEngine(t, pathA, infer.WithBatch(4, 2*time.Millisecond))
	per := 3 * a.Input.Height * a.Input.Width
	var stop atomic.Bool
	var answered, changed atomic.Int64
	var wg sync.WaitGroup
	for range 6 {
		wg.Go(func() {
			x := make([]float32, per)
			for !stop.Load() {
				r, err := e.Embed(context.Background(), infer.Batch{Pixels: x, N: 1})
				switch {
				case err == nil:
					if r.Model != a.SHA256 && r.Model != b.SHA256 {
						t.Errorf("answered by %s", r.Model)
					}
					answered.Add(1)
				case errors.Is(err, infer.ErrInput), errors.Is(err, infer.ErrModelChanged):
					changed.Add(1) // after the swap to the 48-pixel model
					time.Sleep(time.Millisecond)
				default:
					t.Error(err)
					return
				}
			}
		})
	}
	time.Sleep(50 * time.Millisecond)
	info, err := e.Reload(context.Background(), pathB)
	if err != nil {
		t.Fatal(err)
	}
	if info.SHA256 != b.SHA256 || info.Name != "cifar-b" {
		t.Fatalf("reloaded %+v", info)
	}
	time.Sleep(50 * time.Millisecond)
	r, err := e.Embed(context.Background(), infer.Batch{Pixels: make([]float32, per), N: 1})
	if err != nil || r.Model != b.SHA256 {
		t.Fatalf("after the reload: %v, answered by %s; want %s", err, r.Model, b.SHA256)
	}
	if _, err := e.Embed(context.Background(), infer.Batch{Pixels: make([]float32, per), N: 1, Model: a.SHA256}); !errors.Is(err, infer.ErrModelChanged) {
		t.Errorf("a request prepared for the old model: %v, want ErrModelChanged", err)
	}
	// A model of another input size: 32-pixel requests are refused.
	if _, err := e.Reload(context.Background(), pathC); err != nil {
		t.Fatal(err)
	}
	time.Sleep(30 * time.Millisecond)
	stop.Store(true)
	wg.Wait()
	t.Logf("%d answered, %d refused after the input size changed", answered.Load(), changed.Load())
	if answered.Load() == 0 {
		t.Error("no request answered")
	}
	info, _ = e.Model()
	if info.SHA256 != c.SHA256 || info.ImageLen() != 3*48*48 || info.Embedding != 32 {
		t.Errorf("serving %+v", info)
	}
	r, err = e.Embed(context.Background(), infer.Batch{Pixels: make([]float32, info.ImageLen()), N: 1, Model: c.SHA256})
	if err != nil || r.EmbeddingDim != 32 {
		t.Fatalf("48-pixel request: %v (dims %d)", err, r.EmbeddingDim)
	}
}

// TestDryRunRefusesNaN: a model that passes every manifest check but
// computes NaN is refused by the dry run.
func TestDryRunRefusesNaN(t *testing.T) {
	dir := t.TempDir()
	spec := cifarSpec
	spec.Name = "nan"
	path, _ := exportModelWith(t, dir, spec, func(s []float32) { s[0] = float32(math.NaN()) })
	log, _ := testLogger(t)
	_, err := infer.New(context.Background(), path, infer.WithProviders(infer.ProviderCPU), infer.WithLogger(log))
	if !errors.Is(err, infer.ErrModelRefused) || !strings.Contains(err.Error(), "dry run of 8 images: features value") {
		t.Fatalf("got %v, want a refusal from the dry run", err)
	}
	t.Log(err)
}

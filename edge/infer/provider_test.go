package infer_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/mocoedge/mocoedge/edge/infer"
)

// TestProviderFallback opens a model with several provider orders and the
// TensorRT and CUDA option structs fully built. The ONNX Runtime library
// here is the CPU build from npm, which has no GPU provider libraries:
// TensorRT and CUDA fail in ONNX Runtime with "Failed to load shared
// library", and the engine must log that reason, skip them and serve on
// the CPU. This exercises the same code path a Jetson takes (where
// TensorRT opens instead); it is the only check of it possible without
// one.
func TestProviderFallback(t *testing.T) {
	path, m := exportModel(t, t.TempDir(), cifarSpec)
	cases := []struct {
		name    string
		order   []infer.Provider
		serves  infer.Provider
		skipped []infer.Provider
	}{
		{"default order", nil, infer.ProviderCPU, []infer.Provider{infer.ProviderTensorRT, infer.ProviderCUDA}},
		{"cuda then cpu", []infer.Provider{infer.ProviderCUDA, infer.ProviderCPU}, infer.ProviderCPU, []infer.Provider{infer.ProviderCUDA}},
		{"tensorrt then cpu", []infer.Provider{infer.ProviderTensorRT, infer.ProviderCPU}, infer.ProviderCPU, []infer.Provider{infer.ProviderTensorRT}},
		{"cpu only", []infer.Provider{infer.ProviderCPU}, infer.ProviderCPU, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			log, lines := testLogger(t)
			cache := t.TempDir()
			opts := []infer.Option{
				infer.WithLogger(log), infer.WithThreads(1),
				infer.WithTensorRT(infer.TensorRTOptions{FP16: true, CacheDir: cache, TimingCache: true, WorkspaceBytes: 256 << 20}),
				infer.WithCUDA(infer.CUDAOptions{DeviceID: 0, Extra: map[string]string{"cudnn_conv_algo_search": "HEURISTIC"}}),
			}
			if tc.order != nil {
				opts = append(opts, infer.WithProviders(tc.order...))
			}
			e, err := infer.New(context.Background(), path, opts...)
			if err != nil {
				t.Fatal(err)
			}
			defer e.Close()
			if got := e.Provider(); got != tc.serves {
				t.Fatalf("Provider() = %q, want %q", got, tc.serves)
			}
			info, _ := e.Model()
			var skipped []infer.Provider
			for _, f := range info.Skipped {
				skipped = append(skipped, f.Provider)
				// ONNX Runtime's exact words, logged and reported.
				if !strings.Contains(f.Reason, "Failed to load") {
					t.Errorf("%s skipped for %q, want ONNX Runtime's \"Failed to load ...\"", f.Provider, f.Reason)
				}
				want := `msg="execution provider failed, trying the next" provider=` + string(f.Provider)
				if !strings.Contains(lines.String(), want) {
					t.Errorf("no log line %q in:\n%s", want, lines)
				}
			}
			if !slices.Equal(skipped, tc.skipped) {
				t.Errorf("skipped %v, want %v", skipped, tc.skipped)
			}
			if !strings.Contains(lines.String(), `msg="model ready"`) || !strings.Contains(lines.String(), "provider="+string(tc.serves)) {
				t.Errorf("the serving provider is not logged:\n%s", lines)
			}
			if s := e.Stats(); s.Provider != tc.serves || s.Model != m.SHA256 {
				t.Errorf("stats report provider %q model %s", s.Provider, s.Model)
			}
			// TensorRT's engine cache is keyed by the model's hash.
			_, statErr := os.Stat(filepath.Join(cache, m.SHA256))
			if tried := slices.Contains(tc.skipped, infer.ProviderTensorRT); tried != (statErr == nil) {
				t.Errorf("TensorRT tried %v, but the cache folder <cache>/<sha256> exists: %v", tried, statErr == nil)
			}
		})
	}
}

// TestNoProvider: when every provider in the order fails, New says so and
// lists ONNX Runtime's reasons.
func TestNoProvider(t *testing.T) {
	path, _ := exportModel(t, t.TempDir(), cifarSpec)
	log, _ := testLogger(t)
	_, err := infer.New(context.Background(), path, infer.WithLogger(log),
		infer.WithProviders(infer.ProviderTensorRT, infer.ProviderCUDA))
	if !errors.Is(err, infer.ErrNoProvider) || !errors.Is(err, infer.ErrModelRefused) {
		t.Fatalf("got %v, want ErrNoProvider and ErrModelRefused", err)
	}
	for _, want := range []string{"tensorrt: ", "cuda: ", "Failed to load library", "libonnxruntime_providers_shared.so"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
}

func TestParseProviders(t *testing.T) {
	cases := []struct {
		in   string
		want []infer.Provider
		msg  string
	}{
		{"tensorrt,cuda,cpu", infer.DefaultProviders(), ""},
		{" CUDA , cpu", []infer.Provider{infer.ProviderCUDA, infer.ProviderCPU}, ""},
		{"cpu", []infer.Provider{infer.ProviderCPU}, ""},
		{"cpu,openvino", nil, `unknown execution provider "openvino"; accepted are tensorrt, cuda, cpu`},
		{"cpu,cpu", nil, `"cpu" given twice`},
		{"", nil, `unknown execution provider ""`},
	}
	for _, tc := range cases {
		got, err := infer.ParseProviders(tc.in)
		if tc.msg != "" {
			if err == nil || !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("%q: %v, want an error saying %q", tc.in, err, tc.msg)
			}
			continue
		}
		if err != nil || !slices.Equal(got, tc.want) {
			t.Errorf("%q: %v, %v; want %v", tc.in, got, err, tc.want)
		}
	}
}

func TestOptionsRejected(t *testing.T) {
	path, _ := exportModel(t, t.TempDir(), cifarSpec)
	cases := []struct {
		name string
		opt  infer.Option
		msg  string
	}{
		{"no providers", infer.WithProviders(), "no execution providers"},
		{"unknown provider", infer.WithProviders("rocm"), `unknown execution provider "rocm"`},
		{"zero batch", infer.WithBatch(0, 0), "batch max 0"},
		{"negative wait", infer.WithBatch(4, -1), "max_wait -1ns is negative"},
		{"queue below a batch", infer.WithQueueSize(2), "queue of 2 images cannot hold one batch of 8"},
		{"negative threads", infer.WithThreads(-1), "-1 threads"},
		{"timing cache without a cache", infer.WithTensorRT(infer.TensorRTOptions{TimingCache: true}), "timing cache needs a cache directory"},
		{"negative device", infer.WithCUDA(infer.CUDAOptions{DeviceID: -1}), "negative GPU device id"},
	}
	for _, tc := range cases {
		if _, err := infer.New(context.Background(), path, tc.opt); err == nil || !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("%s: %v, want an error saying %q", tc.name, err, tc.msg)
		}
	}
}

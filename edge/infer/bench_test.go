package infer_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	ort "github.com/yalue/onnxruntime_go"

	"github.com/mocoedge/mocoedge/edge/infer"
	"github.com/mocoedge/mocoedge/edge/preprocess"
	"github.com/mocoedge/mocoedge/internal/testmodel"
	"github.com/mocoedge/mocoedge/models/onnxrun"
)

// resnet18Spec is torchvision's ResNet-18 at 224x224 (width 1).
var resnet18Spec = testmodel.ResNet18

// vgaJPEGs re-encodes CIFAR images as 640x480 JPEGs (nearest neighbour
// plus a fine pattern, so the files have detail to decode), the size of a
// typical camera frame.
func vgaJPEGs(t testing.TB, cifar [][]byte) [][]byte {
	t.Helper()
	var out [][]byte
	for _, c := range cifar {
		src, err := jpeg.Decode(bytes.NewReader(c))
		if err != nil {
			t.Fatal(err)
		}
		const w, h = 640, 480
		dst := image.NewRGBA(image.Rect(0, 0, w, h))
		for y := range h {
			for x := range w {
				r, g, b, _ := src.At(x*32/w, y*32/h).RGBA()
				d := uint32((x*7+y*13)%16) - 8
				dst.SetRGBA(x, y, color.RGBA{uint8(r>>8 + d), uint8(g>>8 + d), uint8(b>>8 + d), 255})
			}
		}
		var buf bytes.Buffer
		if err := jpeg.Encode(&buf, dst, &jpeg.Options{Quality: 85}); err != nil {
			t.Fatal(err)
		}
		out = append(out, buf.Bytes())
	}
	return out
}

// TestBench runs Bench briefly and checks that the report holds together.
func TestBench(t *testing.T) {
	path, m := exportModel(t, t.TempDir(), cifarSpec)
	log, _ := testLogger(t)
	rep, err := infer.Bench(context.Background(), path, infer.BenchOptions{
		Batches: []int{1, 4}, Duration: 150 * time.Millisecond, Rounds: 2, Images: cifarJPEGs(t, 16),
		Engine: []infer.Option{infer.WithProviders(infer.ProviderCPU), infer.WithLogger(log)},
	})
	if err != nil {
		t.Fatal(err)
	}
	js, _ := json.MarshalIndent(rep, "", "  ")
	t.Logf("%s", js)
	if rep.Model.SHA256 != m.SHA256 || rep.Model.Provider != infer.ProviderCPU || len(rep.Results) != 2 || rep.PreprocessImagesPerSec <= 0 {
		t.Fatalf("report %+v", rep)
	}
	for _, r := range rep.Results {
		if r.RawImagesPerSec <= 0 || r.PipelineImagesPerSec <= 0 || len(r.RawRounds) != 2 || len(r.PipelineRounds) != 2 {
			t.Errorf("batch %d: %+v", r.Batch, r)
		}
		if want := r.PipelineImagesPerSec / r.RawImagesPerSec; r.PipelineRatio != want {
			t.Errorf("batch %d: ratio %v, want %v", r.Batch, r.PipelineRatio, want)
		}
		if r.MeanBatch < 1 || r.MeanBatch > float64(r.Batch) || r.Request.Count == 0 {
			t.Errorf("batch %d: mean batch %v, %d requests", r.Batch, r.MeanBatch, r.Request.Count)
		}
	}
	if _, err := infer.Bench(context.Background(), path, infer.BenchOptions{}); err == nil {
		t.Error("Bench without images: no error")
	}
}

// TestBenchReport prints the `edge bench` figures for the two models the
// issue names: seven alternating rounds of one second each, raw and
// pipeline, per batch size. It takes about four minutes, so it runs only
// when MOCOEDGE_BENCH_REPORT is set:
//
//	MOCOEDGE_BENCH_REPORT=1 go test -run BenchReport -v ./edge/infer/
func TestBenchReport(t *testing.T) {
	if os.Getenv("MOCOEDGE_BENCH_REPORT") == "" {
		t.Skip("set MOCOEDGE_BENCH_REPORT=1 to run the benchmark report")
	}
	dir := t.TempDir()
	cifar := cifarJPEGs(t, 64)
	vga := vgaJPEGs(t, cifar[:16])
	log, _ := testLogger(t)
	for _, c := range []struct {
		name   string
		spec   modelSpec
		images [][]byte
		prep   []preprocess.Option
	}{
		{"resnet18-cifar x0.25 @32, CIFAR-10 JPEGs (32x32)", cifarSpec, cifar, nil},
		{"resnet18 @224, CIFAR-10 JPEGs (32x32, enlarged by preprocessing)", resnet18Spec, cifar, nil},
		{"resnet18 @224, 640x480 JPEGs", resnet18Spec, vga, nil},
		{"resnet18 @224, 640x480 JPEGs, libjpeg-turbo", resnet18Spec, vga, []preprocess.Option{preprocess.WithTurboJPEG("")}},
	} {
		path, _ := exportModel(t, dir, c.spec)
		rep, err := infer.Bench(context.Background(), path, infer.BenchOptions{
			Batches: []int{1, 8}, Duration: time.Second, Rounds: 7, Images: c.images,
			Engine: []infer.Option{infer.WithLogger(log)}, Preprocess: c.prep,
		})
		if err != nil {
			t.Fatal(err)
		}
		fmt.Printf("== %s: provider %s, %d CPUs, decode+preprocess alone %.0f img/s\n",
			c.name, rep.Model.Provider, rep.CPUs, rep.PreprocessImagesPerSec)
		for _, r := range rep.Results {
			fmt.Printf("   batch %d: raw %.1f img/s, pipeline %.1f img/s, pipeline_ratio %.3f (preprocess/inference %.3f, mean batch %.2f, request p50 %v p99 %v)\n",
				r.Batch, r.RawImagesPerSec, r.PipelineImagesPerSec, r.PipelineRatio, r.PreprocessPerInference, r.MeanBatch,
				r.Request.P50.Round(time.Microsecond), r.Request.P99.Round(time.Microsecond))
			fmt.Printf("      rounds raw %.0f\n      rounds pipeline %.0f\n", r.RawRounds, r.PipelineRounds)
		}
	}
}

// benchModels are the models the Go benchmarks measure, exported once.
var benchModels = struct {
	once  sync.Once
	dir   string
	paths map[string]string
}{}

func benchModel(b *testing.B, spec modelSpec) string {
	benchModels.once.Do(func() {
		dir, err := os.MkdirTemp("", "infer-bench-")
		if err != nil {
			b.Fatal(err)
		}
		benchModels.dir, benchModels.paths = dir, map[string]string{}
	})
	if p, ok := benchModels.paths[spec.Name]; ok {
		return p
	}
	p, _ := exportModel(b, benchModels.dir, spec)
	benchModels.paths[spec.Name] = p
	return p
}

// BenchmarkRaw is ONNX Runtime alone on a pre-made tensor: the limit.
func BenchmarkRaw(b *testing.B) {
	for _, spec := range []modelSpec{cifarSpec, resnet18Spec} {
		for _, batch := range []int{1, 8} {
			b.Run(fmt.Sprintf("%s/batch=%d", spec.Name, batch), func(b *testing.B) {
				sess, err := onnxrun.Open(benchModel(b, spec), onnxrun.WithSessionOptions(func(o *ort.SessionOptions) error {
					return o.AddSessionConfigEntry("session.intra_op.allow_spinning", "0")
				}))
				if err != nil {
					b.Fatal(err)
				}
				defer sess.Close()
				x := make([]float32, batch*3*spec.Size*spec.Size)
				if _, err := sess.Run(x, batch); err != nil {
					b.Fatal(err)
				}
				for b.Loop() {
					if _, err := sess.Run(x, batch); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(b.N*batch)/b.Elapsed().Seconds(), "img/s")
			})
		}
	}
}

// BenchmarkPipeline sends b.N CIFAR-10 JPEGs through decoding,
// preprocessing, the batcher and inference from 2×batch producers, and
// reports img/s and the ratio to raw throughput measured in the same run.
func BenchmarkPipeline(b *testing.B) {
	images := cifarJPEGs(b, 64)
	for _, spec := range []modelSpec{cifarSpec, resnet18Spec} {
		for _, batch := range []int{1, 8} {
			b.Run(fmt.Sprintf("%s/batch=%d", spec.Name, batch), func(b *testing.B) {
				path := benchModel(b, spec)
				log, _ := testLogger(b)
				e, err := infer.New(context.Background(), path, infer.WithLogger(log), infer.WithBatch(batch, infer.DefaultBatchWait))
				if err != nil {
					b.Fatal(err)
				}
				defer e.Close()
				info, _ := e.Model()
				p, err := preprocess.New(info.Input)
				if err != nil {
					b.Fatal(err)
				}
				// The reference: a whole batch of pre-made pixels at a time.
				x := make([]float32, batch*p.Len())
				raw, n := time.Now(), 0
				for time.Since(raw) < time.Second {
					if _, err := e.Embed(context.Background(), infer.Batch{Pixels: x, N: batch}); err != nil {
						b.Fatal(err)
					}
					n += batch
				}
				rawRate := float64(n) / time.Since(raw).Seconds()

				b.ResetTimer()
				var next atomic.Int64
				var wg sync.WaitGroup
				for range 2 * batch {
					wg.Go(func() {
						buf := make([]float32, p.Len())
						for {
							i := next.Add(1)
							if i > int64(b.N) {
								return
							}
							if err := p.Bytes(buf, images[i%int64(len(images))]); err != nil {
								b.Error(err)
								return
							}
							if _, err := e.Embed(context.Background(), infer.Batch{Pixels: buf, N: 1}); err != nil {
								b.Error(err)
								return
							}
						}
					})
				}
				wg.Wait()
				rate := float64(b.N) / b.Elapsed().Seconds()
				b.ReportMetric(rate, "img/s")
				b.ReportMetric(rate/rawRate, "pipeline_ratio")
			})
		}
	}
}

package bench

import (
	"context"
	"testing"

	"github.com/mocoedge/mocoedge/internal/blas"
	"github.com/mocoedge/mocoedge/trainer/engine"
)

func TestRunSmall(t *testing.T) {
	g, err := blas.Load(blas.Options{})
	if err != nil {
		t.Fatal(err)
	}
	res, err := Run(context.Background(), g, Options{Arch: "resnet18-cifar", Width: 0.125, Batch: 4, Steps: 1, GemmSize: 128})
	if err != nil {
		t.Fatal(err)
	}
	if res.GemmGFLOPS <= 0 || res.StepImgPerS <= 0 || res.RatioToGemm <= 0 || res.Input != 32 {
		t.Fatalf("implausible result %+v", res)
	}
	if _, err := Run(context.Background(), g, Options{Arch: "resnet18-cifar", Width: 1, Batch: 0}); err == nil {
		t.Fatal("batch 0 must be refused")
	}
}

// BenchmarkTrainStep measures a resnet18-cifar training step at batch 128
// and reports img/s and the ratio to this machine's SGEMM peak.
func BenchmarkTrainStep(b *testing.B) {
	g, err := blas.Load(blas.Options{})
	if err != nil {
		b.Fatal(err)
	}
	res, err := Run(context.Background(), g, Options{Arch: "resnet18-cifar", Width: 1, Batch: 128, Steps: b.N})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(res.StepImgPerS, "img/s")
	b.ReportMetric(res.GemmGFLOPS, "gemm_GFLOP/s")
	b.ReportMetric(res.RatioToGemm, "ratio_to_gemm")
}

// devicePeak stands in for a device backend (the CUDA one cannot run
// here): the CPU backend plus its own fixed GEMM peak.
type devicePeak struct {
	*engine.CPU[float32]
}

func (devicePeak) Name() string                { return "device" }
func (devicePeak) PeakGFLOPS(int, int) float64 { return 1000 }

// TestRunOnGivenBackend: a given backend runs the steps and its own peak
// is the ratio's reference; a given CPU backend uses its GEMM's.
func TestRunOnGivenBackend(t *testing.T) {
	g, err := blas.Load(blas.Options{})
	if err != nil {
		t.Fatal(err)
	}
	opts := Options{Arch: "resnet18-cifar", Width: 0.125, Batch: 4, Steps: 1, GemmSize: 128,
		Backend: devicePeak{engine.NewCPU[float32](g, 1)}}
	res, err := Run(context.Background(), g, opts)
	if err != nil {
		t.Fatal(err)
	}
	if res.GemmBackend != "device" || res.GemmGFLOPS != 1000 || res.RatioToGemm != res.StepGFLOPS/1000 {
		t.Fatalf("result %+v: want the device's peak as the reference", res)
	}
	opts.Backend = engine.NewCPU[float32](g, 1)
	if res, err = Run(context.Background(), g, opts); err != nil || res.Threads != 1 || res.GemmBackend != g.Name() {
		t.Fatalf("a given CPU backend: %+v, %v", res, err)
	}
}

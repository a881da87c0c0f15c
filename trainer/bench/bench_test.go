package bench

import (
	"context"
	"testing"

	"github.com/mocoedge/mocoedge/internal/blas"
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

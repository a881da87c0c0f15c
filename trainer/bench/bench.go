// Package bench measures the engine against the machine's own GEMM peak,
// in one run, so the result reads as a ratio rather than a bare time.
package bench

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/mocoedge/mocoedge/internal/blas"
	"github.com/mocoedge/mocoedge/models"
	"github.com/mocoedge/mocoedge/trainer/engine"
	"github.com/mocoedge/mocoedge/trainer/supervised"
)

// Options choose what to measure.
type Options struct {
	Arch    string
	Width   float64
	Batch   int
	Input   int // image side; 0 uses the architecture's usual size
	Steps   int // timed training steps (after one warm-up step)
	Threads int
	// GemmSize is the side of the square SGEMM that measures the peak.
	GemmSize int
	// Backend runs the steps instead of the CPU backend over g (nil: the
	// CPU). When it measures its own GEMM peak (PeakGFLOPS, as the CUDA
	// backend does), that is the ratio's reference.
	Backend engine.Backend[float32]
}

// peaker is a backend that measures its own SGEMM peak.
type peaker interface {
	PeakGFLOPS(size, reps int) float64
}

// Result is one benchmark run. FLOPs count a multiply-add as two and a
// training step as three forward passes (forward, input and weight
// gradients), the usual convention.
type Result struct {
	Arch          string  `json:"arch"`
	Width         float64 `json:"width"`
	Batch         int     `json:"batch"`
	Input         int     `json:"input"`
	Threads       int     `json:"threads"`
	GemmBackend   string  `json:"gemm_backend"`
	GemmSize      int     `json:"gemm_size"`
	GemmGFLOPS    float64 `json:"gemm_gflops"`
	StepSeconds   float64 `json:"step_seconds"`
	StepImgPerS   float64 `json:"step_img_per_s"`
	StepGFLOPS    float64 `json:"step_gflops"`
	RatioToGemm   float64 `json:"ratio_to_gemm"`
	FlopsPerImage int64   `json:"flops_per_image"`
	Steps         int     `json:"steps"`
}

// Run measures the SGEMM peak of g, then opts.Steps supervised training
// steps (forward, backward, SGD) of the network on random data.
func Run(ctx context.Context, g blas.GEMM, opts Options) (Result, error) {
	classes := 1000
	if opts.Arch == "resnet18-cifar" {
		classes = 10
	}
	arch, err := models.New(opts.Arch, opts.Width, classes)
	if err != nil {
		return Result{}, err
	}
	if opts.Batch < 1 {
		return Result{}, fmt.Errorf("batch %d: must be at least 1", opts.Batch)
	}
	size := opts.Input
	if size == 0 {
		size = arch.InputSize
	}
	steps := max(1, opts.Steps)
	gemmSize := opts.GemmSize
	if gemmSize == 0 {
		gemmSize = 2048
	}
	res := Result{Arch: opts.Arch, Width: opts.Width, Batch: opts.Batch, Input: size, GemmBackend: g.Name(),
		GemmSize: gemmSize, FlopsPerImage: arch.FLOPs(size, size), Steps: steps}
	// The peak is measured through the same GEMM the engine uses: the
	// CPU backend's threaded GEMM, or the device's own.
	var be engine.Backend[float32]
	cpu, isCPU := opts.Backend.(*engine.CPU[float32])
	switch p, ok := opts.Backend.(peaker); {
	case ok:
		be = opts.Backend
		res.GemmBackend = be.Name()
		res.GemmGFLOPS = p.PeakGFLOPS(gemmSize, 5)
	case opts.Backend == nil || isCPU:
		if cpu == nil {
			cpu = engine.NewCPU[float32](g, opts.Threads)
		}
		be = cpu
		res.Threads = cpu.Threads()
		res.GemmGFLOPS = blas.Peak(cpu.GEMM(), gemmSize, 5)
	default:
		return Result{}, fmt.Errorf("bench: backend %s cannot measure its GEMM peak", opts.Backend.Name())
	}
	tr, err := supervised.New(be, arch, supervised.Options{Batch: opts.Batch, Height: size, Width: size, Momentum: 0.9, WeightDecay: 5e-4, Seed: 1})
	if err != nil {
		return Result{}, err
	}
	rng := rand.New(rand.NewPCG(1, 2))
	x := make([]float32, opts.Batch*3*size*size)
	for i := range x {
		x[i] = float32(rng.NormFloat64())
	}
	labels := make([]int32, opts.Batch)
	for i := range labels {
		labels[i] = int32(rng.IntN(classes))
	}
	if _, err := tr.Step(x, labels, 0.01); err != nil { // warm-up: workspaces grow here
		return Result{}, err
	}
	start := time.Now()
	for s := 0; s < steps; s++ {
		if err := ctx.Err(); err != nil {
			return Result{}, err
		}
		if _, err := tr.Step(x, labels, 0.01); err != nil {
			return Result{}, err
		}
	}
	res.StepSeconds = time.Since(start).Seconds() / float64(steps)
	res.StepImgPerS = float64(opts.Batch) / res.StepSeconds
	res.StepGFLOPS = 3 * float64(res.FlopsPerImage) * res.StepImgPerS / 1e9
	res.RatioToGemm = res.StepGFLOPS / res.GemmGFLOPS
	return res, nil
}

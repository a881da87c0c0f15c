package main

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/mocoedge/mocoedge/internal/blas"
	"github.com/mocoedge/mocoedge/models"
	"github.com/mocoedge/mocoedge/trainer/bench"
)

func runBench(ctx context.Context, env *environment, args []string) error {
	fs := newFlags(env, "bench", "[--arch resnet18-cifar] [--width 1] [--batch 128] [--steps 5] [--device auto|cpu|cuda] [--json]")
	arch := fs.String("arch", "resnet18-cifar", "architecture: "+archList())
	width := fs.Float64("width", 1, "channel width multiplier, in (0, 4]")
	batch := fs.Int("batch", 128, "images per training step")
	input := fs.Int("input", 0, "image side (0: the architecture's usual size)")
	steps := fs.Int("steps", 5, "timed training steps after one warm-up step")
	threads := fs.Int("threads", env.settings.threads, "threads (0: all cores)")
	gemmSize := fs.Int("gemm-size", 2048, "side of the square SGEMM that measures the peak")
	backend := fs.String("blas", env.settings.blas.Backend, "GEMM backend: auto, openblas or gonum")
	asJSON := fs.Bool("json", false, "print one JSON object")
	device := fs.String("device", "auto", deviceFlagDoc)
	if err := parse(fs, args); err != nil {
		return err
	}
	if _, err := models.New(*arch, *width, 10); err != nil {
		return usageError{Err: err}
	}
	if *batch < 1 {
		return usagef("batch %d: accepted are positive integers, e.g. 64 or 128", *batch)
	}
	if *steps < 1 || *gemmSize < 64 {
		return usagef("steps must be >= 1 and gemm-size >= 64")
	}
	dev, closeDev, err := pickDevice(env, *device)
	if err != nil {
		return err
	}
	if closeDev != nil {
		defer func() {
			if cerr := closeDev(); cerr != nil {
				env.log.Error("device", "err", cerr)
			}
		}()
	}
	opts := env.settings.blas
	opts.Backend, opts.Threads, opts.Logger = *backend, *threads, env.log
	g, err := blas.Load(opts)
	if err != nil {
		return usageError{Err: err}
	}
	if !*asJSON {
		fmt.Fprintf(env.stderr, "measuring the %s SGEMM peak, then %d training steps of %s x%g at batch %d...\n", g.Name(), *steps, *arch, *width, *batch)
	}
	res, err := bench.Run(ctx, g, bench.Options{Arch: *arch, Width: *width, Batch: *batch, Input: *input, Steps: *steps, Threads: *threads, GemmSize: *gemmSize, Backend: dev})
	if err != nil {
		return err
	}
	if *asJSON {
		return json.NewEncoder(env.stdout).Encode(res)
	}
	fmt.Fprintf(env.stdout, "GEMM      %s, %.1f GFLOP/s on %dx%d SGEMM\n", res.GemmBackend, res.GemmGFLOPS, res.GemmSize, res.GemmSize)
	fmt.Fprintf(env.stdout, "training  %s x%g, batch %d, %dx%d: %.1f img/s, %.3f s/step, %.1f GFLOP/s\n", res.Arch, res.Width, res.Batch, res.Input, res.Input, res.StepImgPerS, res.StepSeconds, res.StepGFLOPS)
	fmt.Fprintf(env.stdout, "ratio     %.2f of the GEMM peak\n", res.RatioToGemm)
	return nil
}

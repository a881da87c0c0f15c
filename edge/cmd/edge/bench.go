package main

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/mocoedge/mocoedge/edge/agent"
	"github.com/mocoedge/mocoedge/edge/config"
	"github.com/mocoedge/mocoedge/edge/infer"
	"github.com/mocoedge/mocoedge/edge/keyqueue"
	"github.com/mocoedge/mocoedge/edge/retrieval"
	"github.com/mocoedge/mocoedge/internal/imagefiles"
	"github.com/mocoedge/mocoedge/internal/repo"
)

// benchReport is what `edge bench --json` prints.
type benchReport struct {
	Inference *infer.BenchReport     `json:"inference"`
	Retrieval *retrieval.BenchReport `json:"retrieval,omitempty"`
	Images    string                 `json:"images"`
}

// runBench is `edge bench`.
func runBench(ctx context.Context, env *environment, args []string) error {
	fs := newFlags(env, "bench", "--model NAME.onnx [--batch 1,8] [--images PATH] [--json]")
	model := fs.String("model", "", "exported model to measure (required)")
	batches := fs.String("batch", "1,8", "batch sizes, comma separated")
	images := fs.String("images", "", "JPEG/PNG files the pipeline decodes (default: the first 256 CIFAR-10 test images)")
	duration := fs.Duration("duration", 2*time.Second, "length of one measurement")
	rounds := fs.Int("rounds", 5, "raw and pipeline measurements alternate this many times; medians are reported")
	threads := fs.Int("threads", 0, "ONNX Runtime threads in all (0: one per core), divided among the runners")
	runners := fs.Int("runners", 2, "batches run at once (batch.runners)")
	providers := fs.String("providers", "tensorrt,cuda,cpu", "execution providers to try, in order")
	turbo := fs.String("turbojpeg", "auto", "decode JPEG with libjpeg-turbo: auto, on, off or a library path")
	sizes := fs.String("retrieval", "10000,100000", "key queue sizes for the retrieval benchmark (empty: skip it)")
	thumb := fs.Int("thumbnail", 64, "thumbnail size made for each frame in the pipeline, as the daemon does (0: none)")
	asJSON := fs.Bool("json", false, "print one JSON object")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *model == "" {
		return usagef("--model is required")
	}
	bs, err := intList(*batches)
	if err != nil {
		return usagef("--batch: %v", err)
	}
	order, err := infer.ParseProviders(*providers)
	if err != nil {
		return usageError{Err: err}
	}
	popts, err := agent.PreprocessOptions(config.Preprocess{TurboJPEG: *turbo})
	if err != nil {
		return usageError{Err: err}
	}
	imgs, from, err := benchImages(*images)
	if err != nil {
		return err
	}

	// The pipeline ends the way the daemon's does: a thumbnail of what the
	// model saw and an append to a key queue (in a temporary folder).
	qdir, err := os.MkdirTemp("", "edge-bench-queue-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(qdir)
	q, err := keyqueue.Open(qdir, keyqueue.Options{Capacity: 100_000})
	if err != nil {
		return err
	}
	defer q.Close()
	var info infer.ModelInfo
	sink := func(r infer.Result, image []byte, px []float32) error {
		var th []byte
		if *thumb > 0 {
			var err error
			if th, err = agent.MakeThumbnail(image, px, info.Input, *thumb, 80); err != nil {
				return err
			}
		}
		id, err := keyqueue.ParseModelID(r.Model)
		if err != nil {
			return err
		}
		f, _ := r.Row(0)
		_, err = q.Append(keyqueue.Entry{Source: "bench", Model: id, Vector: f, Thumbnail: th})
		return err
	}
	if *thumb > 0 {
		// The sink needs the model's input description before the first
		// frame: open the model once to read it.
		e, err := infer.New(ctx, *model, infer.WithProviders(order...), infer.WithThreads(*threads), infer.WithLogger(env.log))
		if err != nil {
			return err
		}
		info, _ = e.Model()
		e.Close()
	}
	env.log.Info("measuring inference: raw ONNX Runtime vs the full pipeline", "model", *model, "batches", bs, "images", from)
	inf, err := infer.Bench(ctx, *model, infer.BenchOptions{
		Batches: bs, Duration: *duration, Rounds: *rounds, Images: imgs, Sink: sink, Preprocess: popts,
		Engine: []infer.Option{infer.WithProviders(order...), infer.WithRunners(*runners),
			infer.WithThreads(agent.RunnerThreads(*threads, *runners)), infer.WithLogger(env.log)},
	})
	if err != nil {
		return err
	}
	rep := benchReport{Inference: inf, Images: from}
	if strings.TrimSpace(*sizes) != "" {
		ns, err := intList(*sizes)
		if err != nil {
			return usagef("--retrieval: %v", err)
		}
		env.log.Info("measuring top-k retrieval", "queue_sizes", ns, "dim", inf.Model.Features)
		r, err := retrieval.Bench(ctx, retrieval.BenchConfig{Sizes: ns, Dims: []int{inf.Model.Features}})
		if err != nil {
			return err
		}
		rep.Retrieval = &r
	}
	if *asJSON {
		return printJSON(env, rep)
	}
	printBench(env, rep)
	return nil
}

// printBench writes the report as a few readable lines.
func printBench(env *environment, rep benchReport) {
	in := rep.Inference
	fmt.Fprintf(env.stdout, "model %s (%s) on %s, %d CPUs; images: %s\n", in.Model.Name, in.Model.Arch, in.Model.Provider, in.CPUs, rep.Images)
	fmt.Fprintf(env.stdout, "decode+preprocess alone: %.0f img/s\n", in.PreprocessImagesPerSec)
	for _, r := range in.Results {
		fmt.Fprintf(env.stdout, "batch %d: raw ONNX Runtime %.1f img/s, pipeline %.1f img/s, pipeline_ratio %.3f (mean batch %.2f, request p50 %v p99 %v)\n",
			r.Batch, r.RawImagesPerSec, r.PipelineImagesPerSec, r.PipelineRatio, r.MeanBatch,
			r.Request.P50.Round(time.Microsecond), r.Request.P99.Round(time.Microsecond))
	}
	if rep.Retrieval != nil {
		for _, c := range rep.Retrieval.Cases {
			fmt.Fprintf(env.stdout, "retrieval top-%d over %d x %d: p50 %.3f ms, p99 %.3f ms, %.1f GB/s (ratio %.2f to a plain Go read of the same bytes, %.1f GB/s)\n",
				c.K, c.Entries, c.Dim, c.P50Ms, c.P99Ms, c.GBps, c.Ratio, c.RefGBps)
		}
	}
}

// benchImages reads the pipeline's images: the files PATH names, or the
// first 256 CIFAR-10 test images.
func benchImages(pattern string) ([][]byte, string, error) {
	if pattern == "" {
		files, err := repo.CIFAR10Files("test.tar.gz", 256)
		if err != nil {
			return nil, "", fmt.Errorf("default bench images (give --images PATH instead): %w", err)
		}
		var out [][]byte
		for _, f := range files {
			out = append(out, f.Data)
		}
		return out, "the first 256 CIFAR-10 test images (32x32 JPEG)", nil
	}
	paths, err := imagefiles.List(pattern)
	if err != nil {
		return nil, "", err
	}
	var out [][]byte
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			return nil, "", fmt.Errorf("images: %w", err)
		}
		out = append(out, b)
	}
	return out, fmt.Sprintf("%d files from %s", len(out), pattern), nil
}

// intList parses "1,8".
func intList(s string) ([]int, error) {
	var out []int
	for _, p := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(p))
		if err != nil || n < 1 {
			return nil, fmt.Errorf("%q is not a positive integer", p)
		}
		out = append(out, n)
	}
	return out, nil
}

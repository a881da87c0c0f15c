package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/mocoedge/mocoedge/edge/agent"
	"github.com/mocoedge/mocoedge/edge/config"
	"github.com/mocoedge/mocoedge/edge/infer"
	"github.com/mocoedge/mocoedge/edge/preprocess"
	"github.com/mocoedge/mocoedge/internal/imagefiles"
)

// embedLine is one image's line of `edge embed --json`, the same shape as
// `trainer embed --json`.
type embedLine struct {
	Path   string    `json:"path"`
	Vector []float32 `json:"vector"`
}

// runEmbed is `edge embed`: offline, the daemon's decoding, preprocessing
// and inference path on image files, printing one vector per image.
func runEmbed(ctx context.Context, env *environment, args []string) error {
	fs := newFlags(env, "embed", "--model NAME.onnx --images PATH [--output features|embedding] [--json]")
	model := fs.String("model", "", "exported model (its manifest NAME.manifest.json must sit beside it) (required)")
	images := fs.String("images", "", "an image file, a folder (searched recursively) or a glob pattern (required)")
	output := fs.String("output", "embedding", "which output to print: features or embedding")
	batch := fs.Int("batch", 32, "images per inference run")
	threads := fs.Int("threads", 0, "ONNX Runtime threads (0: one per physical core)")
	providers := fs.String("providers", "cpu", "execution providers to try, in order (e.g. tensorrt,cuda,cpu)")
	turbo := fs.String("turbojpeg", "off", "decode JPEG with libjpeg-turbo: off (bit-identical to trainer embed), auto, on or a library path")
	asJSON := fs.Bool("json", false, `print one JSON object per image: {"path":...,"vector":[...]}`)
	if err := parse(fs, args); err != nil {
		return err
	}
	switch {
	case *model == "" || *images == "":
		return usagef("--model and --images are required")
	case *output != "features" && *output != "embedding":
		return usagef("--output %q: accepted are features, embedding", *output)
	case *batch < 1:
		return usagef("--batch must be at least 1")
	}
	order, err := infer.ParseProviders(*providers)
	if err != nil {
		return usageError{Err: err}
	}
	paths, err := imagefiles.List(*images)
	if err != nil {
		return err
	}
	if !exists(*model) {
		return fmt.Errorf("model %s: no such file", *model)
	}
	e, err := infer.New(ctx, *model, infer.WithProviders(order...), infer.WithThreads(*threads),
		infer.WithBatch(*batch, 0), infer.WithQueueSize(*batch), infer.WithLogger(env.log))
	if err != nil {
		return err
	}
	defer e.Close()
	m, _ := e.Model()
	popts, err := agent.PreprocessOptions(config.Preprocess{TurboJPEG: *turbo})
	if err != nil {
		return usageError{Err: err}
	}
	p, err := preprocess.New(m.Input, popts...)
	if err != nil {
		return err
	}
	defer p.Close()

	per := p.Len()
	x := make([]float32, min(*batch, len(paths))*per)
	enc := json.NewEncoder(env.stdout)
	for lo := 0; lo < len(paths); lo += *batch {
		chunk := paths[lo:min(lo+*batch, len(paths))]
		for i, path := range chunk {
			data, err := os.ReadFile(path)
			if err != nil {
				return fmt.Errorf("images: %w", err)
			}
			if err := p.Bytes(x[i*per:(i+1)*per], data); err != nil {
				return fmt.Errorf("%s: %w", path, err)
			}
		}
		res, err := e.Embed(ctx, infer.Batch{Pixels: x[:len(chunk)*per], N: len(chunk), Model: m.SHA256})
		if err != nil {
			return err
		}
		for i, path := range chunk {
			features, embedding := res.Row(i)
			v := embedding
			if *output == "features" {
				v = features
			}
			if *asJSON {
				if err := enc.Encode(embedLine{Path: path, Vector: v}); err != nil {
					return err
				}
				continue
			}
			parts := make([]string, len(v))
			for j, f := range v {
				parts[j] = strconv.FormatFloat(float64(f), 'g', -1, 32)
			}
			fmt.Fprintf(env.stdout, "%s\t%s\n", path, strings.Join(parts, " "))
		}
	}
	return nil
}

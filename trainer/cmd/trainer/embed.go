package main

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"image"
	_ "image/jpeg" // decoders for image.Decode
	_ "image/png"
	"os"
	"strconv"
	"strings"

	"github.com/mocoedge/mocoedge/internal/imagefiles"
	"github.com/mocoedge/mocoedge/internal/imaging"
	"github.com/mocoedge/mocoedge/models/manifest"
	"github.com/mocoedge/mocoedge/models/onnxrun"
	"github.com/mocoedge/mocoedge/models/weights"
)

// embedLine is one line of `trainer embed --json`.
type embedLine struct {
	Path   string    `json:"path"`
	Vector []float32 `json:"vector"`
}

// encoder turns a preprocessed batch into both outputs.
type encoder func(x []float32, n int) (onnxrun.Output, error)

func runEmbed(ctx context.Context, env *environment, args []string) error {
	fs := newFlags(env, "embed", "(--checkpoint FILE | --model NAME.onnx) --images PATH [--output features|embedding] [--json]")
	checkpoint := fs.String("checkpoint", "", "state dict to run with the training engine")
	model := fs.String("model", "", "exported model to run with ONNX Runtime (its manifest must sit beside it)")
	images := fs.String("images", "", "an image file, a folder (searched recursively) or a glob pattern (required)")
	output := fs.String("output", "embedding", "which output to print: features or embedding")
	batch := fs.Int("batch", 32, "images per forward pass")
	input := fs.Int("input", 0, "image side with --checkpoint (0: the architecture's usual size)")
	norm := fs.String("norm", "auto", normHelp+" (with --checkpoint; a model takes its manifest's)")
	threads := fs.Int("threads", env.settings.threads, "threads (0: all cores)")
	asJSON := fs.Bool("json", false, `print one JSON object per image: {"path":...,"vector":[...]}`)
	if err := parse(fs, args); err != nil {
		return err
	}
	switch {
	case (*checkpoint == "") == (*model == ""):
		return usagef("give exactly one of --checkpoint FILE and --model NAME.onnx")
	case *images == "":
		return usagef("--images is required: a file, a folder or a glob pattern")
	case *output != "features" && *output != "embedding":
		return usagef("--output %q: accepted are features, embedding", *output)
	case *batch < 1 || *input < 0:
		return usagef("--batch must be >= 1 and --input >= 0")
	}
	if !validNorm(*norm) {
		return usagef("--norm %q: accepted are auto, cifar10, imagenet", *norm)
	}
	paths, err := imagefiles.List(*images)
	if err != nil {
		return err
	}

	var run encoder
	var in manifest.Input
	if *model != "" {
		if !isFile(*model) {
			return fmt.Errorf("model %s: no such file", *model)
		}
		m, err := manifest.Load(*model)
		if err != nil {
			return err
		}
		sess, err := onnxrun.Open(*model, onnxrun.WithThreads(*threads))
		if err != nil {
			return err
		}
		defer sess.Close()
		run, in = sess.Run, m.Input
	} else {
		s, md, err := weights.Load(*checkpoint)
		if err != nil {
			return err
		}
		mean, std, _ := normalisation(resolveNorm(*norm, md, s.Arch))
		size := cmp.Or(*input, s.Arch.InputSize)
		net, err := newEngineNet(env, s, min(*batch, len(paths)), size, *threads)
		if err != nil {
			return err
		}
		run = func(x []float32, n int) (onnxrun.Output, error) { return engineOutputs(net, x, n) }
		in = manifest.Input{Height: size, Width: size, Mean: mean, Std: std, Color: "RGB", Resize: size, Crop: size}
	}

	per := 3 * in.Height * in.Width
	x := make([]float32, min(*batch, len(paths))*per)
	enc := json.NewEncoder(env.stdout)
	for lo := 0; lo < len(paths); lo += *batch {
		if err := ctx.Err(); err != nil {
			return err
		}
		chunk := paths[lo:min(lo+*batch, len(paths))]
		for i, p := range chunk {
			pix, h, w, err := decodeRGB(p)
			if err != nil {
				return err
			}
			if err := preprocess(x[i*per:(i+1)*per], pix, h, w, in); err != nil {
				return fmt.Errorf("%s: %w", p, err)
			}
		}
		out, err := run(x[:len(chunk)*per], len(chunk))
		if err != nil {
			return err
		}
		vecs := out.Embedding
		if *output == "features" {
			vecs = out.Features
		}
		d := len(vecs) / len(chunk)
		for i, p := range chunk {
			v := vecs[i*d : (i+1)*d]
			if *asJSON {
				if err := enc.Encode(embedLine{Path: p, Vector: v}); err != nil {
					return err
				}
				continue
			}
			parts := make([]string, len(v))
			for j, f := range v {
				parts[j] = strconv.FormatFloat(float64(f), 'g', -1, 32)
			}
			fmt.Fprintf(env.stdout, "%s\t%s\n", p, strings.Join(parts, " "))
		}
	}
	return nil
}

// decodeRGB reads a JPEG or PNG file as HWC RGB bytes. Alpha is dropped, as
// PIL's convert("RGB") and the training data loader do.
func decodeRGB(path string) (pix []uint8, h, w int, err error) {
	file, err := os.Open(path)
	if err != nil {
		return nil, 0, 0, fmt.Errorf("images: %w", err)
	}
	defer file.Close()
	img, _, err := image.Decode(file)
	if err != nil {
		return nil, 0, 0, fmt.Errorf("images: %s: %w", path, err)
	}
	pix, h, w = imaging.RGB(img, nil)
	return pix, h, w, nil
}

// preprocess turns an HWC RGB image into the model's normalised CHW input,
// as the manifest describes: the shorter side resized to in.Resize with
// PIL's bilinear filter, a centred in.Crop square cut out, then
// (pixel/255 − mean)/std per channel. dst holds 3×Height×Width values.
func preprocess(dst []float32, pix []uint8, h, w int, in manifest.Input) error {
	if in.Crop != in.Height || in.Crop != in.Width {
		return fmt.Errorf("preprocess: crop %d into a %dx%d input", in.Crop, in.Height, in.Width)
	}
	ev, err := imaging.NewEval(in.Resize, in.Crop, in.Mean, in.Std)
	if err != nil {
		return err
	}
	var r imaging.Resampler
	return ev.Apply(&r, dst, pix, h, w)
}

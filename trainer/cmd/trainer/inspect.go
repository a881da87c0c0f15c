package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"strings"

	"github.com/mocoedge/mocoedge/models"
)

// inspectResult is `trainer inspect --json`'s output.
type inspectResult struct {
	Arch          string  `json:"arch"`
	Width         float64 `json:"width"`
	Classes       int     `json:"classes"`
	Params        int     `json:"params"`
	FlopsPerImage int64   `json:"flops_per_image"`
	Input         [3]int  `json:"input"`
	Features      int     `json:"features"`
}

func runInspect(_ context.Context, env *environment, args []string) error {
	fs := newFlags(env, "inspect", "(--arch NAME [--width W] [--classes N] [--input S] | FILE.safetensors | FILE.onnx) [--json]")
	arch := fs.String("arch", "resnet18", "architecture: "+archList())
	width := fs.Float64("width", 1, "channel width multiplier, in (0, 4]")
	classes := fs.Int("classes", 1000, "outputs of the fc layer (0: no fc)")
	input := fs.Int("input", 0, "image side in pixels (0: the architecture's usual size)")
	asJSON := fs.Bool("json", false, "print one JSON object")
	// A file to describe may come first or last: `inspect model.onnx --json`.
	var file string
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		file, args = args[0], args[1:]
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return usageError{Err: err}
	}
	switch {
	case fs.NArg() > 1 || (file != "" && fs.NArg() > 0):
		return usagef("inspect takes one file, got %q", append([]string{file}, fs.Args()...))
	case fs.NArg() == 1:
		file = fs.Arg(0)
	}
	if file != "" {
		return inspectFile(env, file, *asJSON)
	}
	a, err := models.New(*arch, *width, *classes)
	if err != nil {
		return usageError{Err: err}
	}
	size := *input
	if size == 0 {
		size = a.InputSize
	}
	if size < 1 {
		return usagef("input %d: must be a positive image side", size)
	}
	res := inspectResult{Arch: a.Name, Width: a.Width, Classes: a.Classes, Params: a.NumParams(),
		FlopsPerImage: a.FLOPs(size, size), Input: [3]int{3, size, size}, Features: a.Features}
	if *asJSON {
		return json.NewEncoder(env.stdout).Encode(res)
	}
	fmt.Fprintf(env.stdout, "%s (width %g, %d classes)\n  parameters  %d\n  features    %d\n  input       3x%dx%d\n  FLOPs/image %.3f G (forward)\n",
		res.Arch, res.Width, res.Classes, res.Params, res.Features, size, size, float64(res.FlopsPerImage)/1e9)
	return nil
}

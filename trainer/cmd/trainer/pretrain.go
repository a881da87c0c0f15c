package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/mocoedge/mocoedge/internal/blas"
	"github.com/mocoedge/mocoedge/trainer/moco"
	"github.com/mocoedge/mocoedge/trainer/pretrain"
)

func runPretrain(ctx context.Context, env *environment, args []string) error {
	fs := newFlags(env, "pretrain", "--recipe cifar|moco-v1|moco-v2 --data PATH [--eval PATH] --out DIR [overrides]\n   or: trainer pretrain --resume DIR [--epochs N] [--threads N] ...")
	recipe := fs.String("recipe", "cifar", "recipe: "+strings.Join(moco.Recipes(), ", ")+"; the flags below override its values")
	var o pretrain.Options
	fs.StringVar(&o.Data, "data", "", "unlabelled training images: a folder or a .tar/.tar.gz (required)")
	fs.StringVar(&o.Eval, "eval", "", "labelled held-out images for the kNN monitor (the training images' labels form its bank)")
	fs.StringVar(&o.Out, "out", "", "run folder for metrics.jsonl, curves.png and checkpoints (required)")
	fs.IntVar(&o.Limit, "limit", 0, "class-balanced subset of the training images (0: all)")
	fs.IntVar(&o.EvalLimit, "eval-limit", 0, "class-balanced subset of the held-out images (0: all)")
	fs.IntVar(&o.EvalEvery, "eval-every", 1, "run the kNN monitor every N epochs (and after the last)")
	fs.BoolVar(&o.KNNBeforeTraining, "knn-init", false, "also run the kNN monitor before training (the random-init baseline)")
	fs.IntVar(&o.MaxSteps, "max-steps", 0, "stop after this many steps (0: all epochs)")
	fs.IntVar(&o.LogEvery, "log-every", 10, "print and log the mean loss every N steps")
	fs.IntVar(&o.Threads, "threads", env.settings.threads, "threads for the engine (0: all cores)")
	fs.IntVar(&o.Workers, "workers", 0, "augmentation goroutines (0: all cores)")
	resume := fs.String("resume", "", "continue the run in this folder from its checkpoint, with the settings it was started with (flags given here override them; the shape of the model cannot change)")
	asJSON := fs.Bool("json", false, "print the summary as one JSON object on the last line")
	device := fs.String("device", "auto", deviceFlagDoc)

	arch := fs.String("arch", "", "architecture")
	width := fs.Float64("width", 0, "channel width multiplier")
	epochs := fs.Int("epochs", 0, "epochs")
	batch := fs.Int("batch", 0, "images per step")
	lr := fs.Float64("lr", 0, "learning rate")
	wd := fs.Float64("wd", 0, "weight decay")
	queue := fs.Int("queue", 0, "K, keys in the queue")
	momentum := fs.Float64("momentum", 0, "m, key encoder momentum")
	temperature := fs.Float64("temperature", 0, "T, softmax temperature")
	dim := fs.Int("dim", 0, "embedding size")
	mlp := fs.Bool("mlp", false, "MoCo v2's MLP head")
	keys := fs.String("keys", "", "where keys come from: moco, end-to-end or memory-bank")
	symmetric := fs.Bool("symmetric", false, "symmetric loss (views swapped too)")
	splits := fs.Int("bn-splits", 0, "split batch norm groups (Shuffle-BN on one device)")
	seed := fs.Uint64("seed", 0, "random seed")
	if err := parse(fs, args); err != nil {
		return err
	}
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	cfg, err := moco.Recipe(*recipe)
	if err != nil {
		return usageError{Err: err}
	}
	if *resume != "" {
		if cfg, err = resumeOptions(*resume, given, &o, cfg); err != nil {
			return err
		}
	}
	fs.Visit(func(f *flag.Flag) {
		switch f.Name {
		case "arch":
			cfg.Arch = *arch
		case "width":
			cfg.Width = *width
		case "epochs":
			cfg.Epochs = *epochs
		case "batch":
			cfg.Batch = *batch
		case "lr":
			cfg.LR = *lr
		case "wd":
			cfg.WeightDecay = *wd
		case "queue":
			cfg.QueueSize = *queue
		case "momentum":
			cfg.Momentum = *momentum
		case "temperature":
			cfg.Temperature = *temperature
		case "dim":
			cfg.Dim = *dim
		case "mlp":
			cfg.MLP = *mlp
		case "keys":
			cfg.Keys = *keys
		case "symmetric":
			cfg.Symmetric = *symmetric
		case "bn-splits":
			cfg.BNSplits = *splits
		case "seed":
			cfg.Seed = *seed
		}
	})
	if o.Data == "" || o.Out == "" {
		return usagef("--data and --out are required")
	}
	if err := cfg.Validate(); err != nil {
		return usageError{Err: err}
	}
	dev, closeDev, err := pickDevice(env, *device)
	if err != nil {
		return err
	}
	o.Backend = dev
	o.Config, o.Logger, o.Stdout, o.Progress = cfg, env.log, env.stdout, os.Stderr
	bopts := env.settings.blas
	bopts.Logger = env.log
	g, err := blas.Load(bopts)
	if err != nil {
		return err
	}
	sum, err := pretrain.Run(ctx, g, o)
	if closeDev != nil {
		err = errors.Join(err, closeDev())
	}
	if *asJSON {
		if jerr := json.NewEncoder(env.stdout).Encode(sum); jerr != nil && err == nil {
			err = jerr
		}
	} else if err == nil {
		fmt.Fprintf(env.stdout, "pretrained %d epochs (%d steps) in %.0f s, %.1f img/s; run folder %s\n", sum.Epochs, sum.Steps, sum.Seconds, sum.ImgPerS, o.Out)
	}
	return err
}

// resumeOptions points o at the run in dir and fills in, from the run's
// run.json, every setting not given as a flag; it returns the run's MoCo
// configuration, which the override flags then change. A run folder from
// before run.json keeps the flags as given (they must repeat the run's).
func resumeOptions(dir string, given map[string]bool, o *pretrain.Options, cfg moco.Config) (moco.Config, error) {
	if given["out"] && filepath.Clean(o.Out) != filepath.Clean(dir) {
		return cfg, usagef("--out %s and --resume %s name different run folders; give only --resume", o.Out, dir)
	}
	if _, err := os.Stat(filepath.Join(dir, pretrain.CheckpointName)); err != nil {
		return cfg, fmt.Errorf("resume %s: no %s there (%w); start a new run with --out", dir, pretrain.CheckpointName, err)
	}
	o.Out, o.Resume = dir, true
	spec, err := pretrain.ReadSpec(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return cfg, nil
	}
	if err != nil {
		return cfg, err
	}
	if given["recipe"] && spec.Config.Recipe != "" && cfg.Recipe != spec.Config.Recipe {
		return cfg, usagef("--recipe: the run in %s uses %s; a resumed run keeps its recipe", dir, spec.Config.Recipe)
	}
	for name, apply := range map[string]func(){
		"data":       func() { o.Data = spec.Data },
		"eval":       func() { o.Eval = spec.Eval },
		"limit":      func() { o.Limit = spec.Limit },
		"eval-limit": func() { o.EvalLimit = spec.EvalLimit },
		"eval-every": func() { o.EvalEvery = spec.EvalEvery },
		"knn-init":   func() { o.KNNBeforeTraining = spec.KNNBeforeTraining },
		"log-every":  func() { o.LogEvery = spec.LogEvery },
	} {
		if !given[name] {
			apply()
		}
	}
	return spec.Config, nil
}

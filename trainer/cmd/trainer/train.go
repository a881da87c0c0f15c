package main

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/mocoedge/mocoedge/internal/blas"
	"github.com/mocoedge/mocoedge/internal/progress"
	"github.com/mocoedge/mocoedge/models"
	"github.com/mocoedge/mocoedge/trainer/data"
	"github.com/mocoedge/mocoedge/trainer/engine"
	"github.com/mocoedge/mocoedge/trainer/optim"
	"github.com/mocoedge/mocoedge/trainer/supervised"
)

func archList() string { return strings.Join(models.Names(), ", ") }

// trainFlags are `trainer train`'s settings.
type trainFlags struct {
	data, eval       string
	arch             string
	width            float64
	batch, limit     int
	evalLimit        int
	epochs           int
	duration         time.Duration
	lr, momentum, wd float64
	threads          int
	seed             uint64
	logEvery         int
}

func runTrain(ctx context.Context, env *environment, args []string) error {
	fs := newFlags(env, "train", "--data PATH [--eval PATH] [flags]")
	var f trainFlags
	fs.StringVar(&f.data, "data", "", "training images: a <class>/<image> folder or a .tar/.tar.gz of one (required)")
	fs.StringVar(&f.eval, "eval", "", "held-out images to report accuracy on (optional)")
	fs.StringVar(&f.arch, "arch", "resnet18-cifar", "architecture: "+archList())
	fs.Float64Var(&f.width, "width", 0.25, "channel width multiplier, in (0, 4]")
	fs.IntVar(&f.batch, "batch", 128, "images per step")
	fs.IntVar(&f.limit, "limit", 10000, "class-balanced subset of the training images (0: all)")
	fs.IntVar(&f.evalLimit, "eval-limit", 1000, "class-balanced subset of the held-out images (0: all)")
	fs.IntVar(&f.epochs, "epochs", 0, "epochs to train with a cosine schedule (0: train for --duration at a constant rate)")
	fs.DurationVar(&f.duration, "duration", time.Minute, "how long to train when --epochs is 0")
	fs.Float64Var(&f.lr, "lr", 0.05, "learning rate")
	fs.Float64Var(&f.momentum, "momentum", 0.9, "SGD momentum")
	fs.Float64Var(&f.wd, "wd", 5e-4, "weight decay")
	fs.IntVar(&f.threads, "threads", env.settings.threads, "threads (0: all cores)")
	fs.Uint64Var(&f.seed, "seed", 1, "random seed for weights and batch order")
	fs.IntVar(&f.logEvery, "log-every", 10, "print the mean loss every this many steps")
	if err := parse(fs, args); err != nil {
		return err
	}
	if f.data == "" {
		return usagef("--data is required (e.g. --data ../shared/datasets/cifar10/train.tar.gz)")
	}
	if f.batch < 1 || f.epochs < 0 || f.logEvery < 1 || f.duration <= 0 {
		return usagef("--batch and --log-every must be positive, --epochs >= 0, --duration > 0")
	}
	if _, err := models.New(f.arch, f.width, 10); err != nil {
		return usageError{Err: err}
	}

	opts := env.settings.blas
	opts.Threads, opts.Logger = f.threads, env.log
	g, err := blas.Load(opts)
	if err != nil {
		return err
	}
	train, err := loadData(ctx, env, f.data, f.limit, f.seed)
	if err != nil {
		return err
	}
	var eval *data.Dataset
	if f.eval != "" {
		if eval, err = loadData(ctx, env, f.eval, f.evalLimit, f.seed); err != nil {
			return err
		}
	}
	h, w, ok := train.Size()
	if !ok {
		return fmt.Errorf("%s: images differ in size; `trainer train` needs one size (CIFAR-10 is 32x32)", f.data)
	}
	if f.batch > train.Len() {
		return usagef("batch %d is larger than the %d training images", f.batch, train.Len())
	}
	arch, err := models.New(f.arch, f.width, len(train.Classes()))
	if err != nil {
		return usageError{Err: err}
	}
	be := engine.NewCPU[float32](g, f.threads)
	tr, err := supervised.New(be, arch, supervised.Options{Batch: f.batch, Height: h, Width: w, Momentum: f.momentum, WeightDecay: f.wd, Seed: f.seed})
	if err != nil {
		return err
	}
	env.log.Info("training", "arch", arch.Name, "width", f.width, "params", arch.NumParams(), "images", train.Len(),
		"classes", len(train.Classes()), "batch", f.batch, "gemm", g.Name(), "threads", be.Threads())

	mean, std := data.CIFAR10Mean(), data.CIFAR10Std()
	steps := train.Len() / f.batch
	sched := optim.Schedule{Base: f.lr, Kind: "constant"}
	if f.epochs > 0 {
		sched = optim.Schedule{Base: f.lr, Kind: "cosine", Epochs: float64(f.epochs)}
	}
	if eval != nil {
		acc, err := accuracy(tr, eval, f.batch, mean, std)
		if err != nil {
			return err
		}
		fmt.Fprintf(env.stdout, "held-out accuracy before training: %.1f%%\n", acc)
	}

	rng := rand.New(rand.NewPCG(f.seed, 99))
	x := make([]float32, f.batch*3*h*w)
	labels := make([]int32, f.batch)
	idx := make([]int, f.batch)
	start := time.Now()
	var bar *progress.Bar
	if f.epochs > 0 {
		bar = progress.New(os.Stderr, env.log, "train", "img", f.epochs*steps*f.batch, 0)
	} else {
		bar = progress.New(os.Stderr, env.log, "train (seconds)", "s", int(f.duration.Seconds()), 0)
	}
	var sum float64
	var window, step int
	stopped := false
loop:
	for epoch := 0; f.epochs == 0 || epoch < f.epochs; epoch++ {
		perm := rng.Perm(train.Len())
		for s := 0; s < steps; s++ {
			if ctx.Err() != nil {
				stopped = true
				break loop
			}
			if f.epochs == 0 && time.Since(start) >= f.duration {
				break loop
			}
			for i := range idx {
				idx[i] = perm[s*f.batch+i]
				labels[i] = int32(train.Label(idx[i]))
			}
			if err := train.Batch(x, idx, mean, std); err != nil {
				return err
			}
			lr := sched.At(float64(epoch) + float64(s)/float64(steps))
			loss, err := tr.Step(x, labels, lr)
			if err != nil {
				return err
			}
			step++
			sum += loss
			window++
			imgs := step * f.batch
			rate := float64(imgs) / time.Since(start).Seconds()
			if window == f.logEvery {
				fmt.Fprintf(env.stdout, "epoch %d step %5d  loss %.4f  lr %.4f  %.1f img/s\n", epoch+1, step, sum/float64(window), lr, rate)
				sum, window = 0, 0
			}
			if f.epochs > 0 {
				bar.Update(imgs, fmt.Sprintf("loss %.3f", loss))
			} else {
				bar.Update(int(time.Since(start).Seconds()), fmt.Sprintf("loss %.3f", loss))
			}
		}
	}
	elapsed := time.Since(start)
	bar.Done(step*f.batch, "")
	fmt.Fprintf(env.stdout, "trained %d steps (%d images) in %.1f s: %.1f img/s\n", step, step*f.batch, elapsed.Seconds(), float64(step*f.batch)/elapsed.Seconds())
	if stopped {
		return errors.New("interrupted")
	}
	if eval != nil {
		acc, err := accuracy(tr, eval, f.batch, mean, std)
		if err != nil {
			return err
		}
		fmt.Fprintf(env.stdout, "held-out accuracy after training: %.1f%% (%d images, chance %.1f%%)\n", acc, eval.Len(), 100/float64(len(eval.Classes())))
	}
	return nil
}

// loadData loads a dataset with a progress bar.
func loadData(ctx context.Context, env *environment, path string, limit int, seed uint64) (*data.Dataset, error) {
	update, finish := progress.Lazy(os.Stderr, env.log, "decode "+filepath.Base(path), "img")
	ds, err := data.Load(ctx, path, data.Options{Limit: limit, Seed: seed, Logger: env.log, Progress: update})
	if err != nil {
		return nil, err
	}
	finish(ds.Len())
	return ds, nil
}

// accuracy returns the top-1 accuracy in percent of tr's network on ds.
func accuracy(tr *supervised.Trainer, ds *data.Dataset, batch int, mean, std [3]float32) (float64, error) {
	h, w, _ := ds.Size()
	x := make([]float32, batch*3*h*w)
	correct := 0
	for lo := 0; lo < ds.Len(); lo += batch {
		n := min(batch, ds.Len()-lo)
		idx := make([]int, n)
		for i := range idx {
			idx[i] = lo + i
		}
		if err := ds.Batch(x[:n*3*h*w], idx, mean, std); err != nil {
			return 0, err
		}
		pred, err := tr.Predict(x[:n*3*h*w], n)
		if err != nil {
			return 0, err
		}
		for i, p := range pred {
			if p == ds.Label(lo+i) {
				correct++
			}
		}
	}
	return 100 * float64(correct) / float64(ds.Len()), nil
}

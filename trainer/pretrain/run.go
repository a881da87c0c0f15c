// Package pretrain runs MoCo pretraining end to end: it loads the data,
// feeds augmented views from goroutine workers to the model, follows the
// learning-rate schedule, logs metrics, runs the kNN monitor, draws the
// curves and keeps checkpoints.
package pretrain

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"time"

	"github.com/mocoedge/mocoedge/internal/blas"
	"github.com/mocoedge/mocoedge/internal/progress"
	"github.com/mocoedge/mocoedge/models/weights"
	"github.com/mocoedge/mocoedge/trainer/augment"
	"github.com/mocoedge/mocoedge/trainer/data"
	"github.com/mocoedge/mocoedge/trainer/engine"
	"github.com/mocoedge/mocoedge/trainer/eval"
	"github.com/mocoedge/mocoedge/trainer/moco"
)

// ErrRunExists is returned when a new run is started in a folder that holds one.
var ErrRunExists = errors.New("run folder in use")

// Options configure a run.
type Options struct {
	Config moco.Config
	// Data is the training images (a folder or a .tar/.tar.gz); labels, if
	// any, are used only by the kNN monitor's bank.
	Data string
	// Eval is the held-out set of the kNN monitor; empty disables it.
	Eval string
	// Out is the run folder (metrics.jsonl, curves.png, checkpoints).
	Out string
	// Limit and EvalLimit take class-balanced subsets (0: everything).
	Limit, EvalLimit int
	// EvalEvery runs the kNN monitor every this many epochs (and after the last).
	EvalEvery int
	// KNNBeforeTraining also evaluates the untrained encoder (epoch 0), the
	// random-init baseline.
	KNNBeforeTraining bool
	// MaxSteps stops after this many steps in total (0: run all epochs).
	MaxSteps int
	// LogEvery writes a metrics line every this many steps.
	LogEvery int
	// Resume continues the run in Out from its checkpoint. The
	// configuration must match the checkpoint's in everything that shapes
	// the state; ReadSpec gives the options the run was started with.
	Resume bool
	// Backend trains the model instead of the CPU backend over the GEMM
	// (nil: the CPU, with Threads threads).
	Backend engine.Backend[float32]
	Threads int
	Workers int
	// Progress is where the progress bar is drawn (a terminal) or, if it is
	// not a terminal, ignored in favour of periodic log lines.
	Progress *os.File
	Logger   *slog.Logger
	// Stdout receives the per-log-step lines and the summary.
	Stdout io.Writer
}

// Summary is what a run reports at its end.
type Summary struct {
	Epochs      int       `json:"epochs"`
	Steps       int64     `json:"steps"`
	Images      int       `json:"images"`
	Seconds     float64   `json:"seconds"`
	ImgPerS     float64   `json:"img_per_s"`
	FinalLoss   float64   `json:"final_loss"`
	KNN         []float64 `json:"knn_top1,omitempty"` // per evaluation, in order
	KNNInitial  *float64  `json:"knn_random_init,omitempty"`
	Interrupted bool      `json:"interrupted,omitempty"`
}

// Normalisation returns the mean and std a recipe's augmentation uses.
func Normalisation(cfg moco.Config) (mean, std [3]float32) {
	if cfg.Augment == "cifar" {
		return data.CIFAR10Mean(), data.CIFAR10Std()
	}
	return data.ImageNetMean(), data.ImageNetStd()
}

// Pipeline returns the augmentation pipeline of cfg.Augment.
func Pipeline(cfg moco.Config) (*augment.Pipeline, error) {
	mean, std := Normalisation(cfg)
	var c augment.Config
	switch cfg.Augment {
	case "cifar":
		c = augment.CIFARDemoConfig()
		c.Size = cfg.Input
	case "moco-v1":
		c = augment.MoCoV1Config(cfg.Input, mean, std)
	case "moco-v2":
		c = augment.MoCoV2Config(cfg.Input, mean, std)
	default:
		return nil, fmt.Errorf("augmentation %q: accepted are cifar, moco-v1, moco-v2", cfg.Augment)
	}
	return c.Build()
}

// Run trains until the configured epochs (or MaxSteps) are done or ctx ends.
func Run(ctx context.Context, g blas.GEMM, opts Options) (Summary, error) {
	log := opts.Logger
	if log == nil {
		log = slog.Default()
	}
	out := opts.Stdout
	if out == nil {
		out = io.Discard
	}
	cfg := opts.Config
	if err := cfg.Validate(); err != nil {
		return Summary{}, err
	}
	if err := os.MkdirAll(opts.Out, 0o755); err != nil {
		return Summary{}, fmt.Errorf("create run folder: %w", err)
	}
	if _, err := os.Stat(filepath.Join(opts.Out, CheckpointName)); err == nil && !opts.Resume {
		return Summary{}, fmt.Errorf("%w: %s already holds a run; pass --resume to continue it, or choose another --out", ErrRunExists, opts.Out)
	}
	train, err := loadData(ctx, opts, opts.Data, opts.Limit)
	if err != nil {
		return Summary{}, err
	}
	if train.Len() < cfg.Batch {
		return Summary{}, fmt.Errorf("%d training images are fewer than one batch of %d", train.Len(), cfg.Batch)
	}
	var test *data.Dataset
	if opts.Eval != "" {
		if test, err = loadData(ctx, opts, opts.Eval, opts.EvalLimit); err != nil {
			return Summary{}, err
		}
		if !slices.Equal(train.Classes(), test.Classes()) {
			return Summary{}, fmt.Errorf("the kNN monitor needs the same classes in %s (%v) and %s (%v)", opts.Data, train.Classes(), opts.Eval, test.Classes())
		}
	}
	pipe, err := Pipeline(cfg)
	if err != nil {
		return Summary{}, err
	}
	loader, err := augment.NewLoader(train, pipe, augment.LoaderOptions{BatchSize: cfg.Batch, Workers: opts.Workers, Seed: cfg.Seed, DropLast: true})
	if err != nil {
		return Summary{}, err
	}
	// knnGEMM multiplies the kNN monitor's host matrices: the CPU backend's
	// threaded GEMM, or g when a device trains.
	var be engine.Backend[float32]
	var knnGEMM blas.GEMM = g
	threads := 0
	if opts.Backend != nil {
		be = opts.Backend
	} else {
		cpu := engine.NewCPU[float32](g, opts.Threads)
		be, knnGEMM, threads = cpu, cpu.GEMM(), cpu.Threads()
	}
	model, err := moco.New(be, cfg, cfg.Input, cfg.Input, train.Len())
	if err != nil {
		return Summary{}, err
	}
	start := time.Now()
	sum := Summary{}
	pos := position{}
	if opts.Resume {
		path := filepath.Join(opts.Out, CheckpointName)
		if pos, err = loadCheckpoint(path, model); err != nil {
			return Summary{}, err
		}
		log.Info("resuming", "checkpoint", path, "epoch", pos.epoch, "batch", pos.batch, "step", model.Step)
	}
	// elapsed is the run's wall time over all its starts: a resumed run's
	// clock continues from its checkpoint's.
	before := pos.seconds
	elapsed := func() float64 { return before + time.Since(start).Seconds() }
	provenance := func(knn float64) map[string]string {
		return map[string]string{
			weights.KeyMethod: "moco/" + cfg.Recipe, weights.KeyDataset: opts.Data, weights.KeyImages: strconv.Itoa(train.Len()),
			weights.KeyEpochs: strconv.Itoa(pos.epoch), weights.KeySeconds: strconv.FormatFloat(elapsed(), 'f', 1, 64),
			weights.KeyKNN: strconv.FormatFloat(knn, 'f', 2, 64),
		}
	}
	lastKNN := 0.0
	arch, _ := cfg.Architecture()
	if err := writeSpec(opts.Out, opts.Spec()); err != nil {
		return Summary{}, err
	}
	log.Info("pretraining", "recipe", cfg.Recipe, "arch", cfg.Arch, "width", cfg.Width, "params", arch.NumParams(),
		"keys", cfg.Keys, "queue", cfg.QueueSize, "batch", cfg.Batch, "images", train.Len(), "epochs", cfg.Epochs,
		"steps_per_epoch", loader.Batches(), "backend", be.Name(), "gemm", g.Name(), "threads", threads)

	metrics, err := openMetrics(filepath.Join(opts.Out, "metrics.jsonl"))
	if err != nil {
		return Summary{}, err
	}
	defer metrics.close()

	monitor := func(epoch int) error {
		if test == nil {
			return nil
		}
		update, finish := progress.Lazy(opts.Progress, log, fmt.Sprintf("kNN monitor (epoch %d)", epoch), "img")
		acc, err := KNNMonitor(ctx, knnGEMM, model.Query, train, test, cfg, update)
		if err != nil {
			return err
		}
		finish(train.Len() + test.Len())
		if epoch == 0 {
			sum.KNNInitial = &acc
		} else {
			sum.KNN = append(sum.KNN, acc)
			lastKNN = acc
		}
		fmt.Fprintf(out, "epoch %d: kNN top-1 %.2f%% (%d train features, %d test images)\n", epoch, acc, train.Len(), test.Len())
		return metrics.add(Record{Epoch: float64(epoch), Step: model.Step, KNNTop1: &acc, Elapsed: elapsed()})
	}
	if opts.KNNBeforeTraining && !opts.Resume {
		if err := monitor(0); err != nil {
			return sum, err
		}
	}

	sched := cfg.Schedule()
	steps := loader.Batches()
	logEvery := max(1, opts.LogEvery)
	bar := progress.New(opts.Progress, log, "pretrain", "img", cfg.Epochs*steps*cfg.Batch, 0)
	if opts.MaxSteps > 0 {
		bar = progress.New(opts.Progress, log, "pretrain", "img", min(cfg.Epochs*steps, opts.MaxSteps)*cfg.Batch, 0)
	}
	var window float64
	var windowN int
	trainStart := time.Now()
	epoch := pos.epoch
	for ; epoch < cfg.Epochs; epoch++ {
		lr := sched.At(float64(epoch))
		stopped, err := func() (bool, error) {
			ectx, cancel := context.WithCancel(ctx)
			defer cancel()
			for b := range loader.Epoch(ectx, epoch) {
				if err := b.Err(); err != nil {
					return false, err
				}
				if epoch == pos.epoch && b.Step < pos.batch {
					b.Release() // done before the run was stopped
					continue
				}
				st, err := model.TrainStep(b.Q, b.K, b.Index, lr)
				b.Release()
				if err != nil {
					return false, err
				}
				sum.Steps++
				sum.Images += cfg.Batch
				sum.FinalLoss = st.Loss
				window += st.Loss
				windowN++
				rate := float64(sum.Images) / time.Since(trainStart).Seconds()
				frac := float64(epoch) + float64(b.Step+1)/float64(steps)
				if windowN == logEvery {
					fmt.Fprintf(out, "epoch %d step %6d  loss %.4f  lr %.4f  %.1f img/s\n", epoch+1, model.Step, window/float64(windowN), lr, rate)
					if err := metrics.add(Record{Epoch: frac, Step: model.Step, Loss: window / float64(windowN), LR: lr, ImgPerS: rate, Elapsed: elapsed()}); err != nil {
						return false, err
					}
					window, windowN = 0, 0
				}
				bar.Update(sum.Images, fmt.Sprintf("epoch %d loss %.3f", epoch+1, st.Loss))
				pos = position{epoch: epoch, batch: b.Step + 1}
				if opts.MaxSteps > 0 && sum.Steps >= int64(opts.MaxSteps) {
					return true, nil
				}
			}
			return ctx.Err() != nil, nil
		}()
		if err != nil {
			return sum, err
		}
		if pos.batch >= steps {
			pos = position{epoch: epoch + 1}
		}
		interrupted := stopped && ctx.Err() != nil
		// A run that ends here (last epoch or --max-steps) writes its one final
		// checkpoint after the final kNN, below; saving here too would push the
		// real previous checkpoint out of checkpoint.prev.safetensors.
		if interrupted || !(stopped || epoch+1 == cfg.Epochs) {
			if err := saveCheckpoint(opts.Out, model, pos, provenance(lastKNN)); err != nil {
				return sum, err
			}
		}
		if stopped {
			if interrupted {
				sum.Interrupted = true
				log.Info("stopped; the run can continue with --resume", "checkpoint", filepath.Join(opts.Out, CheckpointName), "epoch", pos.epoch, "batch", pos.batch)
			}
			epoch = pos.epoch
			break
		}
		if opts.EvalEvery > 0 && (epoch+1)%opts.EvalEvery == 0 && epoch+1 < cfg.Epochs {
			if err := monitor(epoch + 1); err != nil {
				return sum, err
			}
		}
	}
	bar.Done(sum.Images, "")
	sum.Epochs = epoch
	sum.Seconds = time.Since(trainStart).Seconds()
	sum.ImgPerS = float64(sum.Images) / sum.Seconds
	if !sum.Interrupted {
		knnErr := monitor(epoch)
		// The final checkpoint carries the final kNN for `trainer export`'s
		// manifest; it is written even when that evaluation failed.
		if err := saveCheckpoint(opts.Out, model, pos, provenance(lastKNN)); err != nil {
			return sum, err
		}
		if knnErr != nil {
			return sum, knnErr
		}
	}
	if records, err := readMetrics(filepath.Join(opts.Out, "metrics.jsonl")); err == nil {
		if err := WriteCurves(filepath.Join(opts.Out, "curves.png"), records, cfg.Recipe+" "+cfg.Arch); err != nil {
			log.Warn("curves not drawn", "err", err)
		}
	}
	if sum.Interrupted {
		return sum, errors.New("interrupted")
	}
	return sum, nil
}

// KNNMonitor returns the kNN top-1 accuracy (percent) of net's normalised
// embeddings: the train set's embeddings are the bank, the test set is
// classified, as in the official CIFAR-10 demo (k 200, T 0.1). Give it the
// backend's GEMM (it splits work across the cores itself). report, when not
// nil, gets the images embedded so far out of both sets.
func KNNMonitor(ctx context.Context, g blas.GEMM, net *engine.Net[float32], train, test *data.Dataset, cfg moco.Config, report func(done, total int)) (float64, error) {
	mean, std := Normalisation(cfg)
	total := train.Len() + test.Len()
	var bankReport, queryReport func(done, total int)
	if report != nil {
		bankReport = func(done, _ int) { report(done, total) }
		queryReport = func(done, _ int) { report(train.Len()+done, total) }
	}
	bank, d, err := eval.EmbedProgress(ctx, net, train, eval.Embedding, mean, std, bankReport)
	if err != nil {
		return 0, fmt.Errorf("kNN bank: %w", err)
	}
	queries, _, err := eval.EmbedProgress(ctx, net, test, eval.Embedding, mean, std, queryReport)
	if err != nil {
		return 0, fmt.Errorf("kNN queries: %w", err)
	}
	bankLabels, testLabels := labels(train), labels(test)
	return eval.KNN{K: 200, Temperature: 0.1, Classes: len(train.Classes())}.Accuracy(g, bank, bankLabels, queries, testLabels, d)
}

func labels(ds *data.Dataset) []int {
	l := make([]int, ds.Len())
	for i := range l {
		l[i] = ds.Label(i)
	}
	return l
}

func loadData(ctx context.Context, opts Options, path string, limit int) (*data.Dataset, error) {
	update, finish := progress.Lazy(opts.Progress, opts.Logger, "decode "+filepath.Base(path), "img")
	ds, err := data.Load(ctx, path, data.Options{Limit: limit, Seed: opts.Config.Seed, Logger: opts.Logger, Progress: update})
	if err != nil {
		return nil, err
	}
	finish(ds.Len())
	return ds, nil
}

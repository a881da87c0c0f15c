package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/mocoedge/mocoedge/internal/blas"
	"github.com/mocoedge/mocoedge/internal/progress"
	"github.com/mocoedge/mocoedge/models/weights"
	"github.com/mocoedge/mocoedge/trainer/data"
	"github.com/mocoedge/mocoedge/trainer/engine"
	"github.com/mocoedge/mocoedge/trainer/eval"
)

// evalDataSeed picks the --limit subsets. It is fixed, not --seed, so that
// a checkpoint and its random-init baseline are always scored on the same
// images whatever their seeds.
const evalDataSeed = 1

// evalFlags are `trainer eval`'s settings.
type evalFlags struct {
	checkpoint string
	randomInit bool
	arch       string
	width      float64
	dim        int
	mlp        bool
	seed       uint64

	train, test      string
	limit, testLimit int
	protocol         string
	knnK             int
	knnT             float64
	linearEpochs     int
	linearBatch      int
	linearLR         float64
	linearWD         float64

	norm    string
	input   int
	batch   int
	threads int
	asJSON  bool
}

// evalResult is `trainer eval --json`'s output. Accuracies are in percent;
// a protocol's fields are absent when it did not run.
type evalResult struct {
	Weights   string  `json:"weights"` // the checkpoint, or "random-init"
	Seed      *uint64 `json:"seed,omitempty"`
	Arch      string  `json:"arch"`
	Width     float64 `json:"width"`
	Head      string  `json:"head"`
	Params    int     `json:"params"`
	Features  int     `json:"features"`
	Embedding int     `json:"embedding"`
	Input     int     `json:"input"`
	Norm      string  `json:"norm"`

	Train       string `json:"train"`
	Test        string `json:"test"`
	TrainImages int    `json:"train_images"`
	TestImages  int    `json:"test_images"`
	Classes     int    `json:"classes"`

	KNNTop1         *float64 `json:"knn_top1,omitempty"`          // on the embedding (the head's output)
	KNNFeaturesTop1 *float64 `json:"knn_features_top1,omitempty"` // on the pooled features
	KNNK            int      `json:"knn_k,omitempty"`
	KNNT            float64  `json:"knn_t,omitempty"`
	KNNSeconds      float64  `json:"knn_seconds,omitempty"`

	LinearTop1      *float64 `json:"linear_top1,omitempty"`
	LinearTop5      *float64 `json:"linear_top5,omitempty"`
	LinearTrainTop1 *float64 `json:"linear_train_top1,omitempty"`
	LinearTrainLoss *float64 `json:"linear_train_loss,omitempty"`
	LinearEpochs    int      `json:"linear_epochs,omitempty"`
	LinearStep      float64  `json:"linear_step,omitempty"`
	LinearSeconds   float64  `json:"linear_seconds,omitempty"`

	EmbedSeconds float64 `json:"embed_seconds"`
	GEMM         string  `json:"gemm"`
}

func runEval(ctx context.Context, env *environment, args []string) error {
	fs := newFlags(env, "eval", "(--checkpoint FILE | --random-init [--arch A] [--width W] [--dim D] [--mlp]) --train PATH --test PATH [flags]")
	var f evalFlags
	fs.StringVar(&f.checkpoint, "checkpoint", "", "encoder to evaluate: a state dict or a trainer pretrain checkpoint (its query encoder)")
	fs.BoolVar(&f.randomInit, "random-init", false, "evaluate an untrained network instead: the baseline every result is read against")
	fs.StringVar(&f.arch, "arch", "resnet18-cifar", "architecture with --random-init: "+archList())
	fs.Float64Var(&f.width, "width", 0.25, "channel width multiplier with --random-init, in (0, 4]")
	fs.IntVar(&f.dim, "dim", 128, "embedding width of the head with --random-init")
	fs.BoolVar(&f.mlp, "mlp", false, "MoCo v2's MLP head with --random-init (default: one fc layer, as the cifar and moco-v1 recipes)")
	fs.Uint64Var(&f.seed, "seed", 1, "weight seed with --random-init (the weights trainer pretrain --seed S starts from) and the linear protocol's row order")
	fs.StringVar(&f.train, "train", "", "labelled training images: the kNN bank and the linear classifier's training set (required)")
	fs.StringVar(&f.test, "test", "", "labelled test images that are classified (required)")
	fs.IntVar(&f.limit, "limit", 0, "class-balanced subset of the training images (0: all)")
	fs.IntVar(&f.testLimit, "test-limit", 0, "class-balanced subset of the test images (0: all)")
	fs.StringVar(&f.protocol, "protocol", "both", "knn, linear or both")
	fs.IntVar(&f.knnK, "knn-k", 200, "kNN: neighbours that vote")
	fs.Float64Var(&f.knnT, "knn-t", 0.1, "kNN: temperature of the exp(similarity/T) votes")
	fs.IntVar(&f.linearEpochs, "linear-epochs", eval.DefaultLinearEpochs, "linear: epochs of SGD")
	fs.IntVar(&f.linearBatch, "linear-batch", eval.DefaultLinearBatch, "linear: rows per SGD step")
	fs.Float64Var(&f.linearLR, "linear-lr", eval.DefaultLinearLR, "linear: step size in units of the loss's curvature bound (1 is safe; see trainer/eval.Linear)")
	fs.Float64Var(&f.linearWD, "linear-wd", 0, "linear: weight decay")
	fs.StringVar(&f.norm, "norm", "auto", normHelp)
	fs.IntVar(&f.input, "input", 0, "image side in pixels (0: the architecture's usual size)")
	fs.IntVar(&f.batch, "batch", 0, "images per forward pass (0: 128 for inputs up to 64 pixels, 16 otherwise)")
	fs.IntVar(&f.threads, "threads", env.settings.threads, "threads (0: all cores)")
	fs.BoolVar(&f.asJSON, "json", false, "print the result as one JSON object on the last line")
	if err := parse(fs, args); err != nil {
		return err
	}
	if err := f.check(fs); err != nil {
		return err
	}
	state, res, err := f.state()
	if err != nil {
		return err
	}
	res.Input = f.input
	if res.Input == 0 {
		res.Input = state.Arch.InputSize
	}
	mean, std, err := f.normalisation(state)
	if err != nil {
		return err
	}
	res.Norm = f.norm
	runKNN, runLinear := f.protocol != "linear", f.protocol != "knn"

	train, err := loadData(ctx, env, f.train, f.limit, evalDataSeed)
	if err != nil {
		return err
	}
	test, err := loadData(ctx, env, f.test, f.testLimit, evalDataSeed)
	if err != nil {
		return err
	}
	trainLabels, testLabels, classes, err := evalLabels(train, test)
	if err != nil {
		return err
	}
	res.Train, res.Test, res.TrainImages, res.TestImages, res.Classes = f.train, f.test, train.Len(), test.Len(), len(classes)

	batch := f.batch
	if batch == 0 {
		batch = 128
		if res.Input > 64 {
			batch = 16
		}
	}
	net, err := newEngineNet(env, state, min(batch, max(train.Len(), test.Len())), res.Input, f.threads)
	if err != nil {
		return err
	}
	if f.randomInit {
		net.Init(f.seed)
	}
	bopts := env.settings.blas
	bopts.Logger = env.log
	g, err := blas.Load(bopts)
	if err != nil {
		return err
	}
	threads := f.threads
	if threads <= 0 {
		threads = runtime.NumCPU()
	}
	gemm := blas.NewThreaded(g, threads)
	res.GEMM = g.Name()
	env.log.Info("evaluating", "weights", res.Weights, "arch", weights.Describe(state.Arch), "params", res.Params,
		"train", train.Len(), "test", test.Len(), "protocol", f.protocol, "gemm", g.Name(), "threads", threads)

	// Which outputs to embed: the kNN reads the embedding and the features,
	// the linear protocol the features. Without a head they are the same.
	outputs := []eval.Output{eval.Features}
	hasHead := state.Arch.Classes > 0
	if runKNN && hasHead {
		outputs = append(outputs, eval.Embedding)
	}
	emb := newSplitEmbedder(ctx, net, mean, std, len(outputs)*(train.Len()+test.Len()), env)
	start := time.Now()
	rows := map[eval.Output][2][]float32{}
	for _, out := range outputs {
		tr, err := emb.embed(train, out, "train")
		if err != nil {
			return err
		}
		te, err := emb.embed(test, out, "test")
		if err != nil {
			return err
		}
		rows[out] = [2][]float32{tr, te}
	}
	emb.done()
	res.EmbedSeconds = time.Since(start).Seconds()
	if !hasHead {
		rows[eval.Embedding] = rows[eval.Features]
	}

	if runKNN {
		kstart := time.Now()
		knn := eval.KNN{K: f.knnK, Temperature: f.knnT, Classes: len(classes)}
		e, feat := rows[eval.Embedding], rows[eval.Features]
		top1, err := knn.Accuracy(gemm, e[0], trainLabels, e[1], testLabels, res.Embedding)
		if err != nil {
			return err
		}
		ftop1 := top1
		if hasHead {
			if ftop1, err = knn.Accuracy(gemm, feat[0], trainLabels, feat[1], testLabels, res.Features); err != nil {
				return err
			}
		}
		res.KNNTop1, res.KNNFeaturesTop1, res.KNNK, res.KNNT = &top1, &ftop1, f.knnK, f.knnT
		res.KNNSeconds = time.Since(kstart).Seconds()
	}
	if runLinear {
		bar := progress.New(os.Stderr, env.log, "linear", "epoch", f.linearEpochs, 0)
		lin := eval.Linear{Classes: len(classes), Epochs: f.linearEpochs, Batch: f.linearBatch, LR: f.linearLR,
			WeightDecay: f.linearWD, Seed: f.seed,
			Progress: func(epoch int, loss float64) { bar.Update(epoch, fmt.Sprintf("loss %.4f", loss)) }}
		lstart := time.Now()
		feat := rows[eval.Features]
		lr, err := lin.Evaluate(ctx, gemm, feat[0], trainLabels, feat[1], testLabels, res.Features)
		if err != nil {
			return err
		}
		bar.Done(f.linearEpochs, "")
		res.LinearSeconds = time.Since(lstart).Seconds()
		res.LinearTop1, res.LinearTop5, res.LinearTrainTop1, res.LinearTrainLoss = &lr.Top1, &lr.Top5, &lr.TrainTop1, &lr.TrainLoss
		res.LinearEpochs, res.LinearStep = lr.Epochs, lr.Step
	}
	printEval(env, res)
	if f.asJSON {
		return json.NewEncoder(env.stdout).Encode(res)
	}
	return nil
}

// check validates the flags' combination.
func (f *evalFlags) check(fs *flag.FlagSet) error {
	var archFlags []string
	fs.Visit(func(fl *flag.Flag) {
		switch fl.Name {
		case "arch", "width", "dim", "mlp":
			archFlags = append(archFlags, "--"+fl.Name)
		}
	})
	switch {
	case (f.checkpoint == "") == !f.randomInit:
		return usagef("give exactly one of --checkpoint FILE and --random-init")
	case f.checkpoint != "" && len(archFlags) > 0:
		return usagef("%s describe a --random-init network; a checkpoint says its own architecture", strings.Join(archFlags, ", "))
	case f.train == "" || f.test == "":
		return usagef("--train and --test are required (e.g. ../shared/datasets/cifar10/train.tar.gz and test.tar.gz)")
	case !slices.Contains([]string{"knn", "linear", "both"}, f.protocol):
		return usagef("--protocol %q: accepted are knn, linear, both", f.protocol)
	case f.limit < 0 || f.testLimit < 0:
		return usagef("--limit and --test-limit must be >= 0 (0: all images)")
	case f.knnK < 1 || !(f.knnT > 0):
		return usagef("--knn-k must be >= 1 and --knn-t > 0")
	case f.linearEpochs < 1 || f.linearBatch < 1 || !(f.linearLR > 0) || f.linearWD < 0:
		return usagef("--linear-epochs, --linear-batch and --linear-lr must be positive and --linear-wd >= 0")
	case f.input < 0 || f.batch < 0:
		return usagef("--input and --batch must be >= 0")
	case !validNorm(f.norm):
		return usagef("--norm %q: accepted are auto, cifar10, imagenet", f.norm)
	}
	return nil
}

// state returns the encoder's weights (a random-init network's are filled
// in by Net.Init once the network exists) and the result's description of it.
func (f *evalFlags) state() (*weights.State, evalResult, error) {
	var s *weights.State
	res := evalResult{}
	if f.randomInit {
		head := weights.HeadFC
		if f.mlp {
			head = weights.HeadMLP
		}
		a, err := weights.NewArch(f.arch, f.width, head, f.dim)
		if err != nil {
			return nil, res, usageError{Err: err}
		}
		s = weights.New(a)
		res.Weights, res.Seed = "random-init", &f.seed
	} else {
		var md map[string]string
		var err error
		if s, md, err = weights.Load(f.checkpoint); err != nil {
			return nil, res, err
		}
		res.Weights = f.checkpoint
		f.norm = resolveNorm(f.norm, md, s.Arch)
	}
	a := s.Arch
	res.Arch, res.Width, res.Head, res.Params = a.Name, a.Width, weights.Head(a), a.NumParams()
	res.Features, res.Embedding = a.Features, a.Outputs()
	return s, res, nil
}

// normalisation settles --norm auto (for a random-init network; a
// checkpoint's was settled when it was loaded) and returns its mean and std.
func (f *evalFlags) normalisation(s *weights.State) (mean, std [3]float32, err error) {
	f.norm = resolveNorm(f.norm, nil, s.Arch)
	mean, std, _ = normalisation(f.norm)
	return mean, std, nil
}

// evalLabels returns both splits' labels and their common class list; both
// must be labelled with the same classes.
func evalLabels(train, test *data.Dataset) (trainLabels, testLabels []int, classes []string, err error) {
	classes = train.Classes()
	if len(classes) == 0 {
		return nil, nil, nil, fmt.Errorf("%s is unlabelled; evaluation needs <class>/<image> folders", train.Path())
	}
	if tc := test.Classes(); !slices.Equal(classes, tc) {
		return nil, nil, nil, fmt.Errorf("the splits' classes differ: %s has %d (%s), %s has %d (%s)",
			train.Path(), len(classes), brief(classes), test.Path(), len(tc), brief(tc))
	}
	labelsOf := func(ds *data.Dataset) ([]int, error) {
		l := make([]int, ds.Len())
		for i := range l {
			if l[i] = ds.Label(i); l[i] < 0 {
				return nil, fmt.Errorf("%s: image %s has no class", ds.Path(), ds.Name(i))
			}
		}
		return l, nil
	}
	if trainLabels, err = labelsOf(train); err != nil {
		return nil, nil, nil, err
	}
	if testLabels, err = labelsOf(test); err != nil {
		return nil, nil, nil, err
	}
	return trainLabels, testLabels, classes, nil
}

// brief lists up to five names.
func brief(names []string) string {
	if len(names) > 5 {
		return strings.Join(names[:5], ", ") + ", ..."
	}
	return strings.Join(names, ", ")
}

// splitEmbedder runs eval.Embed over datasets in chunks, so that one
// progress bar can follow every pass over both splits.
type splitEmbedder struct {
	ctx       context.Context
	net       *engine.Net[float32]
	mean, std [3]float32
	bar       *progress.Bar
	images    int
}

func newSplitEmbedder(ctx context.Context, net *engine.Net[float32], mean, std [3]float32, total int, env *environment) *splitEmbedder {
	return &splitEmbedder{ctx: ctx, net: net, mean: mean, std: std,
		bar: progress.New(os.Stderr, env.log, "embed", "img", total, 0)}
}

// embed returns ds's L2-normalised rows of out. A dataset of equal-sized
// images (CIFAR-10) is embedded a chunk at a time through zero-copy views of
// its pixels, for the progress bar; any other in one call.
func (e *splitEmbedder) embed(ds *data.Dataset, out eval.Output, split string) ([]float32, error) {
	name := "features"
	if out == eval.Embedding {
		name = "embedding"
	}
	h, w, uniform := ds.Size()
	if !uniform {
		rows, _, err := eval.Embed(e.ctx, e.net, ds, out, e.mean, e.std)
		if err != nil {
			return nil, fmt.Errorf("embed the %s split (%s): %w", split, name, err)
		}
		e.images += ds.Len()
		e.bar.Update(e.images, split+" "+name)
		return rows, nil
	}
	chunk := max(e.net.MaxBatch, 2048/e.net.MaxBatch*e.net.MaxBatch)
	per := h * w * 3
	pix := ds.Pixels()
	var rows []float32
	for lo := 0; lo < ds.Len(); lo += chunk {
		n := min(chunk, ds.Len()-lo)
		part, err := data.NewUniform(pix[lo*per:(lo+n)*per], h, w, make([]int, n), []string{""})
		if err != nil {
			return nil, err
		}
		r, _, err := eval.Embed(e.ctx, e.net, part, out, e.mean, e.std)
		if err != nil {
			return nil, fmt.Errorf("embed the %s split (%s): %w", split, name, err)
		}
		if rows == nil {
			rows = make([]float32, 0, ds.Len()*len(r)/n)
		}
		rows = append(rows, r...)
		e.images += n
		e.bar.Update(e.images, split+" "+name)
	}
	return rows, nil
}

func (e *splitEmbedder) done() { e.bar.Done(e.images, "") }

// printEval writes the readable summary.
func printEval(env *environment, r evalResult) {
	w := env.stdout
	who := "checkpoint " + r.Weights
	if r.Seed != nil {
		who = fmt.Sprintf("random init, seed %d", *r.Seed)
	}
	desc := fmt.Sprintf("%s x%g", r.Arch, r.Width)
	if r.Head != weights.HeadNone {
		desc += fmt.Sprintf(" + %s head %d", r.Head, r.Embedding)
	}
	fmt.Fprintf(w, "encoder: %s (%s), %d parameters, features %d, input %dx%d, norm %s\n", desc, who, r.Params, r.Features, r.Input, r.Input, r.Norm)
	fmt.Fprintf(w, "data: %d train and %d test images, %d classes (chance %.1f%%); embedded in %.1f s\n",
		r.TrainImages, r.TestImages, r.Classes, 100/float64(r.Classes), r.EmbedSeconds)
	if r.KNNTop1 != nil {
		fmt.Fprintf(w, "kNN (k %d, T %g): top-1 %.2f%% on the embedding, %.2f%% on the pooled features (%.1f s)\n", r.KNNK, r.KNNT, *r.KNNTop1, *r.KNNFeaturesTop1, r.KNNSeconds)
	}
	if r.LinearTop1 != nil {
		fmt.Fprintf(w, "linear (%d epochs, SGD step %.3g, cosine): top-1 %.2f%%, top-5 %.2f%% (train top-1 %.2f%%, loss %.4f) in %.1f s\n",
			r.LinearEpochs, r.LinearStep, *r.LinearTop1, *r.LinearTop5, *r.LinearTrainTop1, *r.LinearTrainLoss, r.LinearSeconds)
	}
}

package probe

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"github.com/mocoedge/mocoedge/internal/blas"
	"gorgonia.org/tensor"
)

// Example is one labelled feature vector.
type Example struct {
	// Features is the encoder's `features` output for the frame; Train
	// L2-normalises a copy.
	Features []float32
	// Label is the class name; not empty and not Unknown.
	Label string
}

// dataset is the examples as Train works on them.
type dataset struct {
	classes []string
	counts  []int
	x       []float32 // n×d normalised features
	y       []int
	n, d    int
}

// Train fits a probe to examples: the held-out estimate first (k-fold or a
// holdout, see the package documentation), the temperature from its
// held-out logits, then the final model on every example. It refuses a
// class with fewer than Options.MinPerClass labels or fewer than two
// classes with ErrTooFewLabels, and bad examples with ErrInvalidExample. ctx
// is checked between iterations; when it ends Train returns its error.
func Train(ctx context.Context, examples []Example, o Options) (*Model, error) {
	o, err := o.withDefaults()
	if err != nil {
		return nil, err
	}
	ds, err := prepare(examples, o.MinPerClass)
	if err != nil {
		return nil, err
	}
	c := len(ds.classes)
	folds, method := ds.split(o)

	// Held-out predictions from models that did not see them.
	var heldLogits []float64
	var heldY []int
	theta := make([]float64, c*ds.d+c)
	inTest := make([]bool, ds.n)
	for k, test := range folds {
		clear(inTest)
		for _, i := range test {
			inTest[i] = true
		}
		train := make([]int, 0, ds.n-len(test))
		for i := range ds.n {
			if !inTest[i] {
				train = append(train, i)
			}
		}
		clear(theta)
		if _, err := ds.fit(ctx, train, theta, o, true); err != nil {
			return nil, fmt.Errorf("probe: held-out fit %d of %d: %w", k+1, len(folds), err)
		}
		x, y := ds.rows(test)
		heldLogits = append(heldLogits, logitsOf(o.GEMM, x, len(test), ds.d, theta)...)
		heldY = append(heldY, y...)
	}
	accuracy := top1(heldLogits, heldY, c)
	cal := calibrate(heldLogits, heldY, c)

	// The final model, warm-started from the last held-out fit.
	all := make([]int, ds.n)
	for i := range all {
		all[i] = i
	}
	res, err := ds.fit(ctx, all, theta, o, true)
	if err != nil {
		return nil, fmt.Errorf("probe: final fit: %w", err)
	}
	w := make([]float32, c*ds.d)
	for i := range w {
		w[i] = float32(theta[i])
	}
	bias := make([]float32, c)
	for j := range bias {
		bias[j] = float32(theta[c*ds.d+j])
	}
	return &Model{
		Classes:         ds.classes,
		Counts:          ds.counts,
		Dim:             ds.d,
		Accuracy:        accuracy,
		AccuracyMethod:  method,
		HeldOut:         len(heldY),
		Temperature:     cal.temperature,
		NLL:             cal.nll,
		NLLUncalibrated: cal.nllAtOne,
		Unknown:         o.Unknown,
		L2:              o.L2,
		Iterations:      res.iterations,
		Trained:         time.Now().UTC().Round(0),
		Weights:         tensor.New(tensor.WithShape(c, ds.d), tensor.WithBacking(w)),
		Bias:            bias,
		gemm:            o.GEMM,
	}, nil
}

// prepare checks the examples, sorts the classes, counts their labels and
// normalises the features.
func prepare(examples []Example, minPerClass int) (*dataset, error) {
	if len(examples) == 0 {
		return nil, fmt.Errorf("%w: no examples", ErrTooFewLabels)
	}
	d := len(examples[0].Features)
	count := map[string]int{}
	for i, e := range examples {
		switch {
		case e.Label == "":
			return nil, fmt.Errorf("%w: example %d has no label", ErrInvalidExample, i)
		case e.Label == Unknown:
			return nil, fmt.Errorf("%w: example %d: %q is reserved for predictions below the threshold", ErrInvalidExample, i, Unknown)
		case len(e.Features) == 0:
			return nil, fmt.Errorf("%w: example %d has no features", ErrInvalidExample, i)
		case len(e.Features) != d:
			return nil, fmt.Errorf("%w: example %d has %d features, example 0 has %d", ErrInvalidExample, i, len(e.Features), d)
		}
		count[e.Label]++
	}
	ds := &dataset{n: len(examples), d: d}
	for label := range count {
		ds.classes = append(ds.classes, label)
	}
	slices.Sort(ds.classes)
	var short []string
	for _, label := range ds.classes {
		ds.counts = append(ds.counts, count[label])
		if count[label] < minPerClass {
			short = append(short, fmt.Sprintf("%q has %d", label, count[label]))
		}
	}
	switch {
	case len(ds.classes) < 2:
		return nil, fmt.Errorf("%w: only class %q has labels; label at least 2 classes with %d or more each", ErrTooFewLabels, ds.classes[0], minPerClass)
	case len(short) > 0:
		return nil, fmt.Errorf("%w: every class needs at least %d labels: %s", ErrTooFewLabels, minPerClass, strings.Join(short, ", "))
	}
	index := make(map[string]int, len(ds.classes))
	for k, label := range ds.classes {
		index[label] = k
	}
	ds.x = make([]float32, ds.n*d)
	ds.y = make([]int, ds.n)
	for i, e := range examples {
		if err := normalize(ds.x[i*d:(i+1)*d], e.Features); err != nil {
			return nil, fmt.Errorf("%w: example %d: %w", ErrInvalidExample, i, err)
		}
		ds.y[i] = index[e.Label]
	}
	return ds, nil
}

// split returns the held-out index sets (one per fold, or the one holdout)
// and the name of the method. Each class's examples are shuffled with the
// seed first; folds are stratified by dealing each class's examples round
// the folds, continuing where the previous class stopped so the folds have
// equal sizes.
func (ds *dataset) split(o Options) ([][]int, string) {
	rng := rand.New(rand.NewPCG(o.Seed, 0x70726f6265)) // "probe"
	perClass := make([][]int, len(ds.classes))
	for i, k := range ds.y {
		perClass[k] = append(perClass[k], i)
	}
	for _, idx := range perClass {
		rng.Shuffle(len(idx), func(i, j int) { idx[i], idx[j] = idx[j], idx[i] })
	}
	if slices.Min(ds.counts) < KFoldBelow {
		folds := make([][]int, o.Folds)
		next := 0
		for _, idx := range perClass {
			for _, i := range idx {
				folds[next] = append(folds[next], i)
				next = (next + 1) % o.Folds
			}
		}
		folds = slices.DeleteFunc(folds, func(f []int) bool { return len(f) == 0 })
		for _, f := range folds {
			slices.Sort(f)
		}
		return folds, fmt.Sprintf("%d-fold", len(folds))
	}
	var test []int
	for _, idx := range perClass {
		h := max(1, int(math.Round(holdoutFraction*float64(len(idx)))))
		test = append(test, idx[:h]...)
	}
	slices.Sort(test)
	return [][]int{test}, fmt.Sprintf("holdout %.0f%%", 100*holdoutFraction)
}

// rows copies the features and classes of the given examples.
func (ds *dataset) rows(idx []int) ([]float32, []int) {
	x := make([]float32, 0, len(idx)*ds.d)
	y := make([]int, 0, len(idx))
	for _, i := range idx {
		x = append(x, ds.x[i*ds.d:(i+1)*ds.d]...)
		y = append(y, ds.y[i])
	}
	return x, y
}

// fit minimises the loss over the given examples from theta (updated in
// place).
func (ds *dataset) fit(ctx context.Context, idx []int, theta []float64, o Options, balance bool) (fitResult, error) {
	x, y := ds.x, ds.y
	if len(idx) != ds.n {
		x, y = ds.rows(idx)
	}
	f := newObjective(x, y, len(idx), ds.d, len(ds.classes), o.L2, balance, o.GEMM)
	return minimize(ctx, f, theta, o.MaxEpochs)
}

// logitsOf returns X·Wᵀ + b (n×c, float64) for n normalised rows x of
// dimension d and parameters theta laid out as in objective.
func logitsOf(g blas.GEMM, x []float32, n, d int, theta []float64) []float64 {
	c := len(theta) / (d + 1)
	w := make([]float32, c*d)
	for i := range w {
		w[i] = float32(theta[i])
	}
	z := make([]float32, n*c)
	g.Sgemm(false, true, n, c, d, 1, x, d, w, d, 0, z, c)
	out := make([]float64, n*c)
	for i, v := range z {
		out[i] = float64(v) + theta[c*d+i%c]
	}
	return out
}

// top1 is the share of rows whose largest logit is their class's (the
// first class wins ties).
func top1(logits []float64, y []int, c int) float64 {
	if len(y) == 0 {
		return 0
	}
	correct := 0
	for i, k := range y {
		row := logits[i*c : (i+1)*c]
		best := 0
		for j, l := range row {
			if l > row[best] {
				best = j
			}
		}
		if best == k {
			correct++
		}
	}
	return float64(correct) / float64(len(y))
}

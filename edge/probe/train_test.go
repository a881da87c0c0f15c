package probe_test

import (
	"cmp"
	"context"
	"errors"
	"math"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/mocoedge/mocoedge/edge/probe"
	"github.com/mocoedge/mocoedge/internal/blas/blastest"
	"gorgonia.org/tensor"
)

// TestSeparable trains on three well-separated clusters: the held-out
// (k-fold) and training accuracies must be 100%.
func TestSeparable(t *testing.T) {
	for name, g := range blastest.Backends(t) {
		t.Run(name, func(t *testing.T) {
			examples, _ := clusters(1, []int{12, 10, 8}, 16, 0.05)
			m, err := probe.Train(context.Background(), examples, probe.Options{GEMM: g})
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("accuracy %.3f (%s over %d), T %.3f, NLL %.4f (T=1 %.4f), %d iterations",
				m.Accuracy, m.AccuracyMethod, m.HeldOut, m.Temperature, m.NLL, m.NLLUncalibrated, m.Iterations)
			if m.Accuracy != 1 || m.AccuracyMethod != "5-fold" || m.HeldOut != 30 {
				t.Errorf("held-out accuracy %v (%s over %d), want 1 (5-fold over 30)", m.Accuracy, m.AccuracyMethod, m.HeldOut)
			}
			if !slices.Equal(m.Classes, []string{"c0", "c1", "c2"}) || !slices.Equal(m.Counts, []int{12, 10, 8}) || m.Dim != 16 {
				t.Errorf("classes %v counts %v dim %d", m.Classes, m.Counts, m.Dim)
			}
			if !(m.Temperature > 0.05 && m.Temperature < 20) {
				t.Errorf("temperature %v: every held-out label right must not drive it to an extreme", m.Temperature)
			}
			if acc := accuracyOn(t, m, examples); acc != 1 {
				t.Errorf("training accuracy %v, want 1", acc)
			}
		})
	}
}

// TestHoldoutGeneralises uses enough labels for the 20% holdout and checks
// the estimate against fresh data from the same clusters.
func TestHoldoutGeneralises(t *testing.T) {
	all, _ := clusters(2, []int{600, 600, 600, 600}, 32, 0.25)
	var train, test []probe.Example
	for i, e := range all {
		if i%600 < 100 {
			train = append(train, e)
		} else {
			test = append(test, e)
		}
	}
	m, err := probe.Train(context.Background(), train, probe.Options{})
	if err != nil {
		t.Fatal(err)
	}
	acc := accuracyOn(t, m, test)
	t.Logf("held-out %.3f (%s over %d), fresh data %.3f, T %.3f", m.Accuracy, m.AccuracyMethod, m.HeldOut, acc, m.Temperature)
	if m.AccuracyMethod != "holdout 20%" || m.HeldOut != 80 {
		t.Errorf("method %q over %d, want holdout 20%% over 80", m.AccuracyMethod, m.HeldOut)
	}
	if math.Abs(m.Accuracy-acc) > 0.1 {
		t.Errorf("held-out estimate %.3f far from fresh-data accuracy %.3f", m.Accuracy, acc)
	}
}

// TestCalibration trains on overlapping classes: the fitted temperature is
// positive and its held-out NLL no worse than T = 1.
func TestCalibration(t *testing.T) {
	for _, counts := range [][]int{{30, 30, 30, 30}, {80, 60, 70, 90}} {
		examples, _ := clusters(3, counts, 24, 0.3)
		m, err := probe.Train(context.Background(), examples, probe.Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%s: accuracy %.3f, T %.3f, NLL %.4f (T=1 %.4f)", m.AccuracyMethod, m.Accuracy, m.Temperature, m.NLL, m.NLLUncalibrated)
		if !(m.Temperature > 0) || m.NLL > m.NLLUncalibrated {
			t.Errorf("temperature %v, NLL %v vs %v at T=1", m.Temperature, m.NLL, m.NLLUncalibrated)
		}
		if m.Accuracy < 0.5 || m.Accuracy == 1 {
			t.Errorf("accuracy %v: the problem should be hard but learnable", m.Accuracy)
		}
		// Scores are probabilities.
		p, err := m.Predict(examples[0].Features)
		if err != nil {
			t.Fatal(err)
		}
		var sum float64
		for _, s := range p.Top {
			sum += s.Score
		}
		if len(p.Top) != 4 || math.Abs(sum-1) > 1e-9 || p.Score != p.Top[0].Score {
			t.Errorf("prediction %+v: scores sum to %v", p, sum)
		}
	}
}

// TestUnknown checks the threshold: a point half-way between two classes
// is ambiguous and so Unknown under a 0.9 threshold, a point at a centre is
// its class; a negative threshold never says Unknown.
func TestUnknown(t *testing.T) {
	examples, centres := clusters(4, []int{20, 20, 20}, 16, 0.1)
	m, err := probe.Train(context.Background(), examples, probe.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if m.Unknown != probe.DefaultUnknown {
		t.Errorf("threshold %v, want the default %v", m.Unknown, probe.DefaultUnknown)
	}
	mid := make([]float32, 16)
	for i := range mid {
		mid[i] = (centres[0][i] + centres[1][i]) / 2
	}
	x := append(append([]float32(nil), centres[2]...), mid...)
	for _, threshold := range []float64{0.9, -1} {
		m, err := probe.Train(context.Background(), examples, probe.Options{Unknown: threshold})
		if err != nil {
			t.Fatal(err)
		}
		preds, err := m.PredictBatch(x, 2)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("threshold %v (T %.3f): centre %s %.3f, half-way %s %.3f (%s %.3f, %s %.3f)", threshold, m.Temperature,
			preds[0].Label, preds[0].Score, preds[1].Label, preds[1].Score, preds[1].Top[0].Label, preds[1].Top[0].Score, preds[1].Top[1].Label, preds[1].Top[1].Score)
		if preds[0].Label != "c2" || preds[0].Score < 0.9 {
			t.Errorf("at c2's centre: %+v", preds[0])
		}
		ambiguous := preds[1].Top[:2]
		if preds[1].Score > 0.9 || ambiguous[0].Label == "c2" || ambiguous[1].Label == "c2" {
			t.Errorf("half-way between c0 and c1: %+v", preds[1])
		}
		if want := probe.Unknown; threshold < 0 {
			if preds[1].Label == want {
				t.Errorf("threshold off, still %+v", preds[1])
			}
		} else if preds[1].Label != want || preds[1].Score != ambiguous[0].Score {
			t.Errorf("half-way: %+v, want %q with the best score", preds[1], want)
		}
	}
}

// TestTooFewLabels names the classes that lack labels.
func TestTooFewLabels(t *testing.T) {
	examples, _ := clusters(5, []int{5, 1, 4, 1}, 8, 0.1)
	_, err := probe.Train(context.Background(), examples, probe.Options{})
	if !errors.Is(err, probe.ErrTooFewLabels) || !strings.Contains(err.Error(), `"c1" has 1`) || !strings.Contains(err.Error(), `"c3" has 1`) || strings.Contains(err.Error(), `"c2"`) {
		t.Errorf("got %v", err)
	}
	_, err = probe.Train(context.Background(), examples[:5], probe.Options{})
	if !errors.Is(err, probe.ErrTooFewLabels) || !strings.Contains(err.Error(), `"c0"`) {
		t.Errorf("one class: %v", err)
	}
	if _, err := probe.Train(context.Background(), nil, probe.Options{}); !errors.Is(err, probe.ErrTooFewLabels) {
		t.Errorf("no examples: %v", err)
	}
	if _, err := probe.Train(context.Background(), examples, probe.Options{MinPerClass: 1}); err != nil {
		t.Errorf("MinPerClass 1: %v", err)
	}
}

// TestInvalid refuses bad examples and options.
func TestInvalid(t *testing.T) {
	good, _ := clusters(6, []int{3, 3}, 4, 0.1)
	bad := func(edit func(e []probe.Example)) []probe.Example {
		e := slices.Clone(good)
		edit(e)
		return e
	}
	for name, ex := range map[string][]probe.Example{
		"empty label": bad(func(e []probe.Example) { e[1].Label = "" }),
		"unknown":     bad(func(e []probe.Example) { e[1].Label = probe.Unknown }),
		"short":       bad(func(e []probe.Example) { e[2].Features = e[2].Features[:3] }),
		"nan":         bad(func(e []probe.Example) { e[2].Features = []float32{1, float32(math.NaN()), 0, 0} }),
		"no features": bad(func(e []probe.Example) { e[0].Features = nil }),
	} {
		if _, err := probe.Train(context.Background(), ex, probe.Options{}); !errors.Is(err, probe.ErrInvalidExample) {
			t.Errorf("%s: %v", name, err)
		}
	}
	for _, o := range []probe.Options{{Folds: 1}, {Unknown: 2}, {MaxEpochs: -1}, {L2: math.Inf(1)}} {
		if _, err := probe.Train(context.Background(), good, o); !errors.Is(err, probe.ErrInvalidOptions) {
			t.Errorf("%+v: %v", o, err)
		}
	}
}

// TestPredict checks batch and single predictions agree and bad input is
// refused.
func TestPredict(t *testing.T) {
	examples, _ := clusters(7, []int{10, 10, 10, 10, 10, 10, 10}, 12, 0.2)
	m, err := probe.Train(context.Background(), examples, probe.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var x []float32
	for _, e := range examples {
		x = append(x, e.Features...)
	}
	batch, err := m.PredictBatch(x, len(examples))
	if err != nil {
		t.Fatal(err)
	}
	for i, e := range examples {
		one, err := m.Predict(e.Features)
		if err != nil {
			t.Fatal(err)
		}
		if one.Label != batch[i].Label || math.Abs(one.Score-batch[i].Score) > 1e-6 || len(one.Top) != 5 {
			t.Fatalf("row %d: single %+v, batch %+v", i, one, batch[i])
		}
		if !slices.IsSortedFunc(one.Top, func(a, b probe.Scored) int { return -cmp.Compare(a.Score, b.Score) }) {
			t.Errorf("top not sorted: %+v", one.Top)
		}
	}
	if _, err := m.Predict(x[:11]); !errors.Is(err, probe.ErrDimMismatch) {
		t.Errorf("short vector: %v", err)
	}
	if _, err := m.PredictBatch(x[:24], 3); !errors.Is(err, probe.ErrDimMismatch) {
		t.Errorf("short batch: %v", err)
	}
	nan := slices.Clone(x[:12])
	nan[3] = float32(math.Inf(1))
	if _, err := m.Predict(nan); !errors.Is(err, probe.ErrInvalidFeatures) {
		t.Errorf("inf: %v", err)
	}
	dense, err := m.PredictDense(tensor.New(tensor.WithShape(len(examples), 12), tensor.WithBacking(x)))
	if err != nil || !reflect.DeepEqual(dense, batch) {
		t.Errorf("PredictDense differs from PredictBatch (%v)", err)
	}
	if _, err := m.PredictDense(tensor.New(tensor.WithShape(7, 10), tensor.WithBacking(x[:70]))); !errors.Is(err, probe.ErrDimMismatch) {
		t.Errorf("tensor of the wrong width: %v", err)
	}
	if p, err := m.PredictBatch(nil, 0); err != nil || len(p) != 0 {
		t.Errorf("empty batch: %v %v", p, err)
	}
	// Scaling features does not change the prediction (they are normalised).
	scaled := slices.Clone(x[:12])
	for i := range scaled {
		scaled[i] *= 40
	}
	if a, b := batch[0], must(m.Predict(scaled)); a.Label != b.Label || math.Abs(a.Score-b.Score) > 1e-6 {
		t.Errorf("scaled input: %+v vs %+v", b, a)
	}
}

// TestConcurrentPredict predicts from several goroutines (run with -race).
func TestConcurrentPredict(t *testing.T) {
	examples, _ := clusters(10, []int{10, 10, 10}, 8, 0.2)
	m, err := probe.Train(context.Background(), examples, probe.Options{})
	if err != nil {
		t.Fatal(err)
	}
	want := must(m.Predict(examples[0].Features))
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for range 50 {
				if got, err := m.Predict(examples[0].Features); err != nil || !reflect.DeepEqual(got, want) {
					t.Errorf("concurrent prediction %+v, %v; want %+v", got, err, want)
					return
				}
			}
		})
	}
	wg.Wait()
}

// TestDeterministic trains twice with the same seed.
func TestDeterministic(t *testing.T) {
	examples, _ := clusters(8, []int{15, 25, 20}, 10, 0.3)
	a, err := probe.Train(context.Background(), examples, probe.Options{Seed: 9})
	if err != nil {
		t.Fatal(err)
	}
	b, err := probe.Train(context.Background(), examples, probe.Options{Seed: 9})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(a.Weights.Data().([]float32), b.Weights.Data().([]float32)) || !slices.Equal(a.Bias, b.Bias) ||
		a.Temperature != b.Temperature || a.Accuracy != b.Accuracy {
		t.Error("two trainings with the same seed differ")
	}
}

// TestCancel stops training when the context ends.
func TestCancel(t *testing.T) {
	examples, _ := clusters(9, []int{50, 50}, 8, 0.5)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := probe.Train(ctx, examples, probe.Options{}); !errors.Is(err, context.Canceled) {
		t.Errorf("got %v, want context.Canceled", err)
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

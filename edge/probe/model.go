package probe

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/mocoedge/mocoedge/internal/blas"
	"gorgonia.org/tensor"
)

// Unknown is the label of a prediction whose best calibrated score is below
// the model's threshold. It cannot be a class name.
const Unknown = "unknown"

// topN is how many scored classes a Prediction carries at most.
const topN = 5

// Model is a trained probe: a linear classifier over L2-normalised
// features with its held-out accuracy and calibration. Its methods are safe
// for concurrent use as long as nobody modifies its fields.
type Model struct {
	// Version is the store version (1, 2, ...), set by Store.Save; 0 for a
	// model never saved.
	Version int
	// Classes are the class names, sorted; class i is row i of Weights.
	Classes []string
	// Counts is the number of labels each class was trained on.
	Counts []int
	// Dim is the feature dimension (the encoder's `features` width).
	Dim int
	// Accuracy is the top-1 accuracy on held-out labels, in [0, 1].
	Accuracy float64
	// AccuracyMethod says how Accuracy was estimated: "5-fold" (k-fold
	// cross-validation) or "holdout 20%".
	AccuracyMethod string
	// HeldOut is the number of held-out predictions Accuracy, Temperature
	// and the NLLs come from.
	HeldOut int
	// Temperature is T of the calibrated scores softmax(logits/T), > 0.
	Temperature float64
	// NLL is the held-out mean negative log-likelihood at Temperature.
	NLL float64
	// NLLUncalibrated is the held-out mean negative log-likelihood at T = 1.
	NLLUncalibrated float64
	// Unknown is the calibrated score below which a prediction is Unknown.
	Unknown float64
	// L2 is the penalty weight λ the model was trained with.
	L2 float64
	// Iterations is the number of L-BFGS iterations of the final fit.
	Iterations int
	// Trained is when training finished.
	Trained time.Time
	// Model identifies the encoder whose features the probe reads (the
	// ONNX file's SHA-256); Train leaves it empty for the caller to set.
	Model string
	// Weights is the C×Dim float32 weight matrix.
	Weights *tensor.Dense
	// Bias holds the C biases.
	Bias []float32

	gemm blas.GEMM // nil: gonum
}

// Scored is one class with its calibrated probability.
type Scored struct {
	// Label is the class name.
	Label string `json:"label"`
	// Score is the calibrated probability, in [0, 1].
	Score float64 `json:"score"`
}

// Prediction is the probe's answer for one feature vector; the JSON names
// are those of the events/prediction MQTT payload.
type Prediction struct {
	// Label is the best class, or Unknown when Score is below the model's
	// threshold.
	Label string `json:"label"`
	// Score is the best class's calibrated probability (also when Label is
	// Unknown).
	Score float64 `json:"score"`
	// Top lists up to five classes, best first.
	Top []Scored `json:"top"`
}

// SetGEMM makes the model's predictions multiply with g (nil: gonum). Call
// it before the model is shared between goroutines.
func (m *Model) SetGEMM(g blas.GEMM) { m.gemm = g }

// weights returns the backing C×Dim float32 slice of Weights.
func (m *Model) weights() []float32 { return m.Weights.Data().([]float32) }

// Predict classifies one feature vector (normalised here; features is not
// modified). A vector of the wrong dimension or with non-finite values is
// refused.
func (m *Model) Predict(features []float32) (Prediction, error) {
	p, err := m.PredictBatch(features, 1)
	if err != nil {
		return Prediction{}, err
	}
	return p[0], nil
}

// PredictBatch classifies n feature vectors laid out back to back in
// features (n×Dim, row-major) with one matrix product.
func (m *Model) PredictBatch(features []float32, n int) ([]Prediction, error) {
	if n < 0 || len(features) != n*m.Dim {
		return nil, fmt.Errorf("%w: %d values for %d rows of %d", ErrDimMismatch, len(features), n, m.Dim)
	}
	x := make([]float32, len(features))
	for i := range n {
		if err := normalize(x[i*m.Dim:(i+1)*m.Dim], features[i*m.Dim:(i+1)*m.Dim]); err != nil {
			return nil, fmt.Errorf("probe: predict row %d: %w", i, err)
		}
	}
	z := m.logits(x, n)
	c := len(m.Classes)
	out := make([]Prediction, n)
	probs := make([]float64, c)
	for i := range n {
		m.calibrated(probs, z[i*c:(i+1)*c])
		out[i] = m.prediction(probs)
	}
	return out, nil
}

// PredictDense classifies the rows of x, an (n, Dim) float32 tensor (or a
// Dim-vector for one row), such as a batch of the encoder's features; like
// PredictBatch it uses one matrix product. x is read, not modified.
func (m *Model) PredictDense(x *tensor.Dense) ([]Prediction, error) {
	if x == nil {
		return nil, fmt.Errorf("%w: no tensor", ErrDimMismatch)
	}
	if x.IsView() {
		x = x.Materialize().(*tensor.Dense)
	}
	data, ok := x.Data().([]float32)
	if !ok {
		return nil, fmt.Errorf("%w: features are %v, want float32", ErrInvalidFeatures, x.Dtype())
	}
	switch shape := x.Shape(); {
	case len(shape) == 1 && shape[0] == m.Dim:
		return m.PredictBatch(data, 1)
	case len(shape) == 2 && shape[1] == m.Dim:
		return m.PredictBatch(data, shape[0])
	default:
		return nil, fmt.Errorf("%w: features have shape %v, want (n, %d)", ErrDimMismatch, shape, m.Dim)
	}
}

// logits returns X·Wᵀ + b (n×C, float64) for normalised rows x.
func (m *Model) logits(x []float32, n int) []float64 {
	c := len(m.Classes)
	z := make([]float32, n*c)
	g := m.gemm
	if g == nil {
		g = blas.Gonum{}
	}
	g.Sgemm(false, true, n, c, m.Dim, 1, x, m.Dim, m.weights(), m.Dim, 0, z, c)
	out := make([]float64, n*c)
	for i, v := range z {
		out[i] = float64(v) + float64(m.Bias[i%c])
	}
	return out
}

// calibrated writes softmax(logits/T) into probs.
func (m *Model) calibrated(probs, logits []float64) {
	t := m.Temperature
	hi := math.Inf(-1)
	for _, l := range logits {
		hi = max(hi, l/t)
	}
	var s float64
	for j, l := range logits {
		probs[j] = math.Exp(l/t - hi)
		s += probs[j]
	}
	for j := range probs {
		probs[j] /= s
	}
}

// prediction ranks the classes by probability (ties: class order).
func (m *Model) prediction(probs []float64) Prediction {
	top := make([]Scored, len(probs))
	for j, p := range probs {
		top[j] = Scored{Label: m.Classes[j], Score: p}
	}
	slices.SortStableFunc(top, func(a, b Scored) int { return cmp.Compare(b.Score, a.Score) })
	top = top[:min(topN, len(top))]
	p := Prediction{Label: top[0].Label, Score: top[0].Score, Top: top}
	if p.Score < m.Unknown {
		p.Label = Unknown
	}
	return p
}

// normalize writes v/‖v‖ into dst (a zero vector stays zero), refusing
// non-finite values.
func normalize(dst, v []float32) error {
	var ss float64
	for i, x := range v {
		if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
			return fmt.Errorf("%w: feature %d is %v", ErrInvalidFeatures, i, x)
		}
		ss += float64(x) * float64(x)
	}
	if ss == 0 {
		clear(dst)
		return nil
	}
	inv := 1 / math.Sqrt(ss)
	for i, x := range v {
		dst[i] = float32(float64(x) * inv)
	}
	return nil
}

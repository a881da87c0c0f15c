package probe

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"time"

	"gorgonia.org/tensor"
)

// File format identification.
const (
	// FormatName is the "format" field of an encoded probe.
	FormatName = "mocoedge-probe"
	// FormatVersion is the "format_version" Encode writes and Decode reads.
	FormatVersion = 1
)

// Bounds Decode puts on a probe, far above any real one; they keep the
// size arithmetic from overflowing.
const (
	maxDim     = 1 << 20
	maxClasses = 1 << 16
)

// envelope is the outer JSON object of an encoded probe: the body and the
// SHA-256 of its compact JSON, so that a damaged number is caught too.
type envelope struct {
	Format        string          `json:"format"`
	FormatVersion int             `json:"format_version"`
	SHA256        string          `json:"sha256"`
	Probe         json.RawMessage `json:"probe"`
}

// body is a Model as JSON. Weights are the C×Dim matrix, row-major.
type body struct {
	Version         int       `json:"version"`
	Classes         []string  `json:"classes"`
	Counts          []int     `json:"counts"`
	Dim             int       `json:"dim"`
	Accuracy        float64   `json:"accuracy"`
	AccuracyMethod  string    `json:"accuracy_method"`
	HeldOut         int       `json:"held_out"`
	Temperature     float64   `json:"temperature"`
	NLL             float64   `json:"nll"`
	NLLUncalibrated float64   `json:"nll_uncalibrated"`
	Unknown         float64   `json:"unknown"`
	L2              float64   `json:"l2"`
	Iterations      int       `json:"iterations"`
	Trained         time.Time `json:"trained"`
	Model           string    `json:"model"`
	Weights         []float32 `json:"weights"`
	Bias            []float32 `json:"bias"`
}

// Encode writes m in the probe file format: one JSON object
//
//	{"format":"mocoedge-probe","format_version":1,"sha256":"…","probe":{…}}
//
// whose "probe" holds the model's fields (weights as a flat row-major
// C×Dim array) and "sha256" is the hex SHA-256 of that object's compact
// JSON. The output ends with a newline.
func Encode(m *Model) ([]byte, error) {
	if err := m.check(); err != nil {
		return nil, fmt.Errorf("probe: encode: %w", err)
	}
	b := body{
		Version: m.Version, Classes: m.Classes, Counts: m.Counts, Dim: m.Dim,
		Accuracy: m.Accuracy, AccuracyMethod: m.AccuracyMethod, HeldOut: m.HeldOut,
		Temperature: m.Temperature, NLL: m.NLL, NLLUncalibrated: m.NLLUncalibrated,
		Unknown: m.Unknown, L2: m.L2, Iterations: m.Iterations, Trained: m.Trained,
		Model: m.Model, Weights: m.weights(), Bias: m.Bias,
	}
	raw, err := json.Marshal(b)
	if err != nil {
		return nil, fmt.Errorf("probe: encode: %w", err)
	}
	sum := sha256.Sum256(raw)
	out, err := json.Marshal(envelope{Format: FormatName, FormatVersion: FormatVersion, SHA256: hex.EncodeToString(sum[:]), Probe: raw})
	if err != nil {
		return nil, fmt.Errorf("probe: encode: %w", err)
	}
	return append(out, '\n'), nil
}

// Decode reads a probe written by Encode. Anything that is not a complete,
// consistent probe of this format (bad JSON, another format or version, a
// checksum mismatch, inconsistent sizes, non-finite or out-of-range values)
// is refused with an error wrapping ErrCorrupt. The model predicts with the
// gonum GEMM until SetGEMM.
func Decode(data []byte) (*Model, error) {
	var env envelope
	if err := json.Unmarshal(data, &env); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrCorrupt, err)
	}
	if env.Format != FormatName {
		return nil, fmt.Errorf("%w: format %q, want %q", ErrCorrupt, env.Format, FormatName)
	}
	if env.FormatVersion != FormatVersion {
		return nil, fmt.Errorf("%w: format version %d, this build reads %d", ErrCorrupt, env.FormatVersion, FormatVersion)
	}
	var compact bytes.Buffer
	if err := json.Compact(&compact, env.Probe); err != nil || compact.Len() == 0 {
		return nil, fmt.Errorf("%w: no probe object", ErrCorrupt)
	}
	sum := sha256.Sum256(compact.Bytes())
	if hex.EncodeToString(sum[:]) != env.SHA256 {
		return nil, fmt.Errorf("%w: checksum mismatch (the file was damaged or edited)", ErrCorrupt)
	}
	var b body
	if err := json.Unmarshal(compact.Bytes(), &b); err != nil {
		return nil, fmt.Errorf("%w: probe object: %w", ErrCorrupt, err)
	}
	if b.Dim <= 0 || b.Dim > maxDim || len(b.Classes) > maxClasses || len(b.Weights) != len(b.Classes)*b.Dim {
		return nil, fmt.Errorf("%w: %d weights for %d classes of dimension %d", ErrCorrupt, len(b.Weights), len(b.Classes), b.Dim)
	}
	m := &Model{
		Version: b.Version, Classes: b.Classes, Counts: b.Counts, Dim: b.Dim,
		Accuracy: b.Accuracy, AccuracyMethod: b.AccuracyMethod, HeldOut: b.HeldOut,
		Temperature: b.Temperature, NLL: b.NLL, NLLUncalibrated: b.NLLUncalibrated,
		Unknown: b.Unknown, L2: b.L2, Iterations: b.Iterations, Trained: b.Trained,
		Model:   b.Model,
		Weights: tensor.New(tensor.WithShape(len(b.Classes), b.Dim), tensor.WithBacking(b.Weights)),
		Bias:    b.Bias,
	}
	if err := m.check(); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrCorrupt, err)
	}
	return m, nil
}

// check verifies that m is a usable model.
func (m *Model) check() error {
	c := len(m.Classes)
	switch {
	case m.Version < 0:
		return fmt.Errorf("version %d", m.Version)
	case c < 2:
		return fmt.Errorf("%d classes, want at least 2", c)
	case len(m.Counts) != c || len(m.Bias) != c:
		return fmt.Errorf("%d classes but %d counts and %d biases", c, len(m.Counts), len(m.Bias))
	case m.Dim <= 0:
		return fmt.Errorf("dimension %d", m.Dim)
	case m.Weights == nil || m.Weights.Dtype() != tensor.Float32:
		return fmt.Errorf("weights are not a float32 tensor")
	case !m.Weights.Shape().Eq(tensor.Shape{c, m.Dim}) || m.Weights.IsView() || len(m.weights()) != c*m.Dim:
		return fmt.Errorf("weights have shape %v, want (%d, %d)", m.Weights.Shape(), c, m.Dim)
	case !(m.Temperature > 0) || math.IsInf(m.Temperature, 0):
		return fmt.Errorf("temperature %v, want > 0", m.Temperature)
	case !(m.Unknown >= 0 && m.Unknown <= 1):
		return fmt.Errorf("unknown threshold %v, want [0, 1]", m.Unknown)
	case !(m.Accuracy >= 0 && m.Accuracy <= 1):
		return fmt.Errorf("accuracy %v, want [0, 1]", m.Accuracy)
	}
	seen := make(map[string]bool, c)
	for i, label := range m.Classes {
		if label == "" || label == Unknown || seen[label] {
			return fmt.Errorf("class %d is %q (empty, reserved or repeated)", i, label)
		}
		seen[label] = true
		if m.Counts[i] < 0 {
			return fmt.Errorf("class %q has count %d", label, m.Counts[i])
		}
	}
	for i, v := range m.weights() {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			return fmt.Errorf("weight %d is %v", i, v)
		}
	}
	for i, v := range m.Bias {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			return fmt.Errorf("bias %d is %v", i, v)
		}
	}
	return nil
}

package manifest

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"os"
	"slices"

	"github.com/advancedclimatesystems/gonnx/onnx"
	"google.golang.org/protobuf/proto"
)

// The model's input and output names, fixed by the hand-off contract.
const (
	InputName     = "images"
	FeaturesName  = "features"
	EmbeddingName = "embedding"
)

// Errors Verify wraps, one per kind of disagreement.
var (
	// ErrHash: the ONNX file's SHA-256 is not the manifest's.
	ErrHash = errors.New("ONNX file does not match the manifest's sha256")
	// ErrNotONNX: the file is not an ONNX model at all.
	ErrNotONNX = errors.New("not an ONNX model")
	// ErrIO: the model's inputs or outputs differ from the manifest's (names, types or shapes).
	ErrIO = errors.New("model inputs or outputs do not match the manifest")
	// ErrMetadata: the model's metadata_props disagree with the manifest.
	ErrMetadata = errors.New("model metadata does not match the manifest")
)

// Load reads the manifest beside onnxPath (PathFor) and verifies the model
// against it: what the edge calls before serving a model.
func Load(onnxPath string) (*Manifest, error) {
	m, err := Read(PathFor(onnxPath))
	if err != nil {
		return nil, err
	}
	if err := Verify(m, onnxPath); err != nil {
		return nil, err
	}
	return m, nil
}

// Verify checks the ONNX file at onnxPath against m: the manifest is valid,
// the file hashes to m.SHA256, and VerifyModel passes. Errors name the file
// and wrap ErrInvalid, ErrHash, ErrNotONNX, ErrIO or ErrMetadata.
func Verify(m *Manifest, onnxPath string) error {
	if err := m.Validate(); err != nil {
		return fmt.Errorf("verify %s: %w", onnxPath, err)
	}
	data, err := os.ReadFile(onnxPath)
	if err != nil {
		return fmt.Errorf("verify model: %w", err)
	}
	sum := sha256.Sum256(data)
	if got := hex.EncodeToString(sum[:]); got != m.SHA256 {
		return fmt.Errorf("verify %s: %w: the file hashes to %s, the manifest says %s", onnxPath, ErrHash, got, m.SHA256)
	}
	if err := VerifyModel(m, data); err != nil {
		return fmt.Errorf("verify %s: %w", onnxPath, err)
	}
	return nil
}

// VerifyModel checks a serialised ONNX model against m, leaving the hash
// aside: one input "images" float32 [N,3,H,W] with a symbolic N, outputs
// "features" [N,C] and "embedding" [N,D], and metadata_props equal to
// m.Props().
func VerifyModel(m *Manifest, data []byte) error {
	var model onnx.ModelProto
	if err := proto.Unmarshal(data, &model); err != nil {
		return fmt.Errorf("%w: %v", ErrNotONNX, err)
	}
	g := model.GetGraph()
	if g == nil || model.GetIrVersion() == 0 || len(model.GetOpsetImport()) == 0 {
		return fmt.Errorf("%w: no graph, IR version or opset", ErrNotONNX)
	}
	inits := map[string]bool{}
	for _, t := range g.GetInitializer() {
		inits[t.GetName()] = true
	}
	var inputs []*onnx.ValueInfoProto
	for _, in := range g.GetInput() {
		if !inits[in.GetName()] {
			inputs = append(inputs, in)
		}
	}
	if len(inputs) != 1 || inputs[0].GetName() != InputName {
		return fmt.Errorf("%w: inputs %v, want [%s]", ErrIO, names(inputs), InputName)
	}
	if err := checkTensor(inputs[0], 3, m.Input.Height, m.Input.Width); err != nil {
		return err
	}
	outs := g.GetOutput()
	if len(outs) != 2 || outs[0].GetName() != FeaturesName || outs[1].GetName() != EmbeddingName {
		return fmt.Errorf("%w: outputs %v, want [%s %s]", ErrIO, names(outs), FeaturesName, EmbeddingName)
	}
	if err := checkTensor(outs[0], m.Outputs.Features); err != nil {
		return err
	}
	if err := checkTensor(outs[1], m.Outputs.Embedding); err != nil {
		return err
	}

	props := map[string]string{}
	for _, p := range model.GetMetadataProps() {
		props[p.GetKey()] = p.GetValue()
	}
	want := m.Props()
	for _, k := range slices.Sorted(maps.Keys(want)) {
		got, ok := props[k]
		switch {
		case !ok:
			return fmt.Errorf("%w: the model has no %q entry in metadata_props", ErrMetadata, k)
		case got != want[k]:
			return fmt.Errorf("%w: %s is %s in the model, %s in the manifest", ErrMetadata, k, got, want[k])
		}
	}
	return nil
}

// checkTensor checks that v is a float32 tensor of shape [N, dims...] with
// a symbolic (or unknown) N.
func checkTensor(v *onnx.ValueInfoProto, dims ...int) error {
	tt := v.GetType().GetTensorType()
	if tt == nil || tt.GetElemType() != int32(onnx.TensorProto_FLOAT) {
		return fmt.Errorf("%w: %s is not a float32 tensor", ErrIO, v.GetName())
	}
	shape := describe(tt.GetShape())
	want := fmt.Sprint(append([]any{"N"}, anys(dims)...))
	got := tt.GetShape().GetDim()
	if len(got) != len(dims)+1 {
		return fmt.Errorf("%w: %s has shape %s, the manifest says %s", ErrIO, v.GetName(), shape, want)
	}
	if got[0].GetDimParam() == "" && got[0].GetDimValue() != 0 {
		return fmt.Errorf("%w: %s has a fixed batch size (shape %s), want a symbolic N", ErrIO, v.GetName(), shape)
	}
	for i, d := range dims {
		if got[i+1].GetDimValue() != int64(d) {
			return fmt.Errorf("%w: %s has shape %s, the manifest says %s", ErrIO, v.GetName(), shape, want)
		}
	}
	return nil
}

// describe writes a shape as [N 3 32 32].
func describe(s *onnx.TensorShapeProto) string {
	var parts []any
	for _, d := range s.GetDim() {
		if p := d.GetDimParam(); p != "" {
			parts = append(parts, p)
		} else {
			parts = append(parts, d.GetDimValue())
		}
	}
	return fmt.Sprint(parts)
}

func anys(v []int) []any {
	out := make([]any, len(v))
	for i, x := range v {
		out[i] = x
	}
	return out
}

func names(vs []*onnx.ValueInfoProto) []string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = v.GetName()
	}
	return out
}

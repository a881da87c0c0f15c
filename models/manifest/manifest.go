package manifest

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/mocoedge/mocoedge/models/internal/atomicfile"
)

// Suffix ends every manifest's file name.
const Suffix = ".manifest.json"

// ErrInvalid is wrapped when a manifest is malformed or lacks a field.
var ErrInvalid = errors.New("invalid manifest")

// Manifest is the description of one exported model.
type Manifest struct {
	// Name is the model's name, the ONNX file's base name.
	Name string `json:"name"`
	// Arch is the architecture name (models.Names()), e.g. "resnet18-cifar".
	Arch string `json:"arch"`
	// Width is the architecture's channel multiplier.
	Width float64 `json:"width"`
	// Head is the head kind after pooling: "none", "fc" or "mlp".
	Head string `json:"head"`
	// Method says how the weights were obtained: "moco-v2", "supervised",
	// "random-init", ...
	Method string `json:"method"`
	// Input says how to turn an image into the model's input.
	Input Input `json:"input"`
	// Outputs gives the width of each output.
	Outputs Outputs `json:"outputs"`
	// Trained records the training run; zero for an untrained model.
	Trained Trained `json:"trained"`
	// SHA256 is the hex SHA-256 of the ONNX file.
	SHA256 string `json:"sha256"`
	// Created is when the model was exported.
	Created time.Time `json:"created"`
}

// Input is the preprocessing the model expects, torchvision style: resize
// the shorter side to Resize pixels (bilinear), centre-crop Crop×Crop,
// scale to [0,1], then normalise each channel with (x − Mean)/Std. The
// network input is then Height×Width (equal to Crop).
type Input struct {
	// Height and Width are the network input's size in pixels.
	Height int `json:"height"`
	Width  int `json:"width"`
	// Mean and Std normalise each channel of the [0,1] pixels.
	Mean [3]float32 `json:"mean"`
	Std  [3]float32 `json:"std"`
	// Color is the channel order of the input planes, always "RGB".
	Color string `json:"color"`
	// Resize is the side the image's shorter side is resized to.
	Resize int `json:"resize"`
	// Crop is the side of the centred square cut from the resized image.
	Crop int `json:"crop"`
}

// Outputs are the widths of the model's two outputs.
type Outputs struct {
	// Features is C, the width of "features" [N,C].
	Features int `json:"features"`
	// Embedding is D, the width of "embedding" [N,D].
	Embedding int `json:"embedding"`
}

// Trained records how the weights were trained.
type Trained struct {
	// Dataset names what the weights were trained on.
	Dataset string `json:"dataset"`
	// Images is the number of training images.
	Images int `json:"images"`
	// Epochs is how many passes over the images the training made.
	Epochs float64 `json:"epochs"`
	// Seconds is the training's wall time.
	Seconds float64 `json:"seconds"`
	// KNN is the final kNN monitor's top-1 accuracy in percent (0: not measured).
	KNN float64 `json:"knn"`
}

// PathFor returns the manifest path that belongs to an ONNX file:
// "dir/NAME.onnx" gives "dir/NAME.manifest.json".
func PathFor(onnxPath string) string {
	return strings.TrimSuffix(onnxPath, ".onnx") + Suffix
}

// Validate checks that every field is present and sensible; the error
// wraps ErrInvalid and names the first bad field.
func (m *Manifest) Validate() error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s", ErrInvalid, fmt.Sprintf(format, args...))
	}
	in := m.Input
	switch {
	case m.Name == "":
		return bad("name is empty")
	case m.Arch == "":
		return bad("arch is empty")
	case !(m.Width > 0):
		return bad("width %v is not positive", m.Width)
	case m.Method == "":
		return bad("method is empty")
	case in.Height < 1 || in.Width < 1:
		return bad("input size %dx%d is not positive", in.Height, in.Width)
	case in.Color != "RGB":
		return bad("input color %q: only \"RGB\" is supported", in.Color)
	case in.Crop < 1 || in.Resize < in.Crop:
		return bad("input resize %d and crop %d: want resize >= crop >= 1", in.Resize, in.Crop)
	case in.Crop != in.Height || in.Crop != in.Width:
		return bad("input crop %d does not give the %dx%d input", in.Crop, in.Height, in.Width)
	case m.Outputs.Features < 1 || m.Outputs.Embedding < 1:
		return bad("outputs features %d and embedding %d must be positive", m.Outputs.Features, m.Outputs.Embedding)
	case len(m.SHA256) != 64 || strings.Trim(m.SHA256, "0123456789abcdef") != "":
		return bad("sha256 %q is not 64 lower-case hex digits", m.SHA256)
	case m.Created.IsZero():
		return bad("created is missing")
	}
	for c, s := range in.Std {
		if !(s > 0) {
			return bad("input std[%d] = %v is not positive", c, s)
		}
	}
	return nil
}

// Read reads and validates the manifest at path.
func Read(path string) (*Manifest, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("manifest: %w", err)
	}
	var m Manifest // unknown fields are ignored, so newer manifests still load
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("manifest %s: %w: %v", path, ErrInvalid, err)
	}
	if err := m.Validate(); err != nil {
		return nil, fmt.Errorf("manifest %s: %w", path, err)
	}
	return &m, nil
}

// Write validates m and writes it to path as indented JSON, atomically.
func Write(path string, m *Manifest) error {
	if err := m.Validate(); err != nil {
		return fmt.Errorf("manifest %s: %w", path, err)
	}
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return fmt.Errorf("manifest %s: %w", path, err)
	}
	if err := atomicfile.WriteBytes(path, 0o644, append(b, '\n')); err != nil {
		return fmt.Errorf("manifest: %w", err)
	}
	return nil
}

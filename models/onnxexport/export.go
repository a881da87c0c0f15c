package onnxexport

import (
	"errors"
	"fmt"
	"maps"
	"slices"

	"github.com/advancedclimatesystems/gonnx/onnx"

	"github.com/mocoedge/mocoedge/models"
	"github.com/mocoedge/mocoedge/models/manifest"
	"github.com/mocoedge/mocoedge/models/weights"
)

// The model's format; the input and output names are manifest.InputName,
// manifest.FeaturesName and manifest.EmbeddingName.
const (
	// Opset is the ONNX operator set version the model imports.
	Opset = 17
	// IRVersion is the ONNX IR version of the file.
	IRVersion = 8
	// BatchDim is the symbolic name of the batch dimension.
	BatchDim = "N"
	// Producer is the model's producer_name.
	Producer = "mocoedge"
)

// BNEps is the batch-norm ε folded into the convolutions (PyTorch's default).
const BNEps = 1e-5

// L2Eps is the smallest norm the embedding is divided by, as
// torch.nn.functional.normalize's default eps.
const L2Eps = 1e-12

// ErrInputSize is wrapped when the input size is too small for the
// architecture (a feature map would vanish) or not positive.
var ErrInputSize = errors.New("bad input size")

// Options describe the exported model beyond its weights.
type Options struct {
	// Height and Width are the image size the model takes.
	Height, Width int
	// GraphName names the graph; empty means the architecture's description.
	GraphName string
	// DocString describes the model; empty means one saying what made it.
	DocString string
	// ProducerVersion is written as producer_version (e.g. the build's version).
	ProducerVersion string
	// Metadata goes into metadata_props, sorted by key (the manifest's fields).
	Metadata map[string]string
}

// Build returns the ONNX model of s in eval mode, with every batch norm
// folded into its convolution.
func Build(s *weights.State, opts Options) (*onnx.ModelProto, error) {
	if err := s.Check(); err != nil {
		return nil, fmt.Errorf("onnx export: %w", err)
	}
	a := s.Arch
	if err := checkSize(a, opts.Height, opts.Width); err != nil {
		return nil, fmt.Errorf("onnx export: %w", err)
	}
	g := &graph{}
	x := manifest.InputName

	x = g.convBN(s, a.Stem, a.StemBN, x, true)
	if a.MaxPool {
		x = g.node("MaxPool", "maxpool", []string{x}, "maxpool.out",
			ints("kernel_shape", 3, 3), ints("strides", 2, 2), ints("pads", 1, 1, 1, 1))
	}
	for _, b := range a.Blocks {
		in, h := x, x
		for i, c := range b.Convs {
			h = g.convBN(s, c, b.BNs[i], h, i < len(b.Convs)-1)
		}
		shortcut := in
		if b.Down != nil {
			shortcut = g.convBN(s, *b.Down, *b.DownBN, in, false)
		}
		sum := g.node("Add", b.Name+".add", []string{h, shortcut}, b.Name+".add.out")
		x = g.node("Relu", b.Name+".relu", []string{sum}, b.Name+".out")
	}
	pooled := g.node("GlobalAveragePool", "avgpool", []string{x}, "avgpool.out")
	features := g.node("Flatten", "flatten", []string{pooled}, manifest.FeaturesName, intAttr("axis", 1))

	h := features
	for i, l := range a.Head {
		w, _ := s.Lookup(l.Name + ".weight")
		b, _ := s.Lookup(l.Name + ".bias")
		wn := g.init(l.Name+".weight", "", []int{l.Out, l.In}, w)
		bn := g.init(l.Name+".bias", "", []int{l.Out}, b)
		h = g.node("Gemm", l.Name, []string{h, wn, bn}, l.Name+".out", intAttr("transB", 1))
		if i < len(a.Head)-1 {
			h = g.node("Relu", l.Name+".relu", []string{h}, l.Name+".relu.out")
		}
	}
	// embedding = h / max(‖h‖₂, ε) per row, as F.normalize.
	norm := g.node("ReduceL2", "l2norm", []string{h}, "l2norm.out", ints("axes", 1), intAttr("keepdims", 1))
	eps := g.init("l2norm.eps", "smallest norm divided by (F.normalize's eps)", []int{1, 1}, []float32{L2Eps})
	clamped := g.node("Max", "l2norm.clamp", []string{norm, eps}, "l2norm.clamped")
	g.node("Div", "l2norm.div", []string{h, clamped}, manifest.EmbeddingName)

	desc := weights.Describe(a)
	graphName, doc := opts.GraphName, opts.DocString
	if graphName == "" {
		graphName = desc
	}
	if doc == "" {
		doc = fmt.Sprintf("%s exported by mocoedge (trainer export) in eval mode, batch norms folded into the convolutions; "+
			"input %s [N,3,%d,%d] normalised RGB; outputs %s [N,%d] pooled backbone features and %s [N,%d] L2-normalised head output",
			desc, manifest.InputName, opts.Height, opts.Width, manifest.FeaturesName, a.Features, manifest.EmbeddingName, a.Outputs())
	}
	m := &onnx.ModelProto{
		IrVersion:       IRVersion,
		OpsetImport:     []*onnx.OperatorSetIdProto{{Domain: "", Version: Opset}},
		ProducerName:    Producer,
		ProducerVersion: opts.ProducerVersion,
		DocString:       doc,
		Graph: &onnx.GraphProto{
			Name:        graphName,
			Node:        g.nodes,
			Initializer: g.inits,
			Input:       []*onnx.ValueInfoProto{{Name: manifest.InputName, Type: tensorType(3, opts.Height, opts.Width)}},
			Output: []*onnx.ValueInfoProto{
				{Name: manifest.FeaturesName, Type: tensorType(a.Features), DocString: "globally average-pooled backbone features"},
				{Name: manifest.EmbeddingName, Type: tensorType(a.Outputs()), DocString: "L2-normalised head output"},
			},
		},
	}
	for _, k := range slices.Sorted(maps.Keys(opts.Metadata)) {
		m.MetadataProps = append(m.MetadataProps, &onnx.StringStringEntryProto{Key: k, Value: opts.Metadata[k]})
	}
	return m, nil
}

// convBN adds a convolution with its batch norm folded in, followed by a
// ReLU when relu is set, and returns the output's name.
func (g *graph) convBN(s *weights.State, c models.Conv, bn models.BatchNorm, in string, relu bool) string {
	w, b := fold(s, c, bn)
	wn := g.init(c.Name+".weight", fmt.Sprintf("%s.weight with %s folded in", c.Name, bn.Name), []int{c.Out, c.In, c.Kernel, c.Kernel}, w)
	bn2 := g.init(c.Name+".bias", fmt.Sprintf("folded from %s", bn.Name), []int{c.Out}, b)
	k, st, p := int64(c.Kernel), int64(c.Stride), int64(c.Pad)
	out := g.node("Conv", c.Name, []string{in, wn, bn2}, c.Name+".out",
		ints("kernel_shape", k, k), ints("strides", st, st), ints("pads", p, p, p, p),
		ints("dilations", 1, 1), intAttr("group", 1))
	if relu {
		out = g.node("Relu", c.Name+".relu", []string{out}, c.Name+".relu.out")
	}
	return out
}

// checkSize walks the feature-map sizes and fails when one would vanish.
func checkSize(a *models.Arch, h, w int) error {
	if h < 1 || w < 1 {
		return fmt.Errorf("%w: %dx%d", ErrInputSize, h, w)
	}
	oh, ow := a.Stem.OutSize(h), a.Stem.OutSize(w)
	if a.MaxPool {
		oh, ow = (oh+2-3)/2+1, (ow+2-3)/2+1
	}
	for _, b := range a.Blocks {
		for _, c := range b.Convs {
			oh, ow = c.OutSize(oh), c.OutSize(ow)
			if oh < 1 || ow < 1 {
				return fmt.Errorf("%w: %dx%d is too small for %s (at %s)", ErrInputSize, h, w, a.Name, c.Name)
			}
		}
	}
	return nil
}

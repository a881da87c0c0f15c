package onnxexport_test

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/advancedclimatesystems/gonnx/onnx"
	"google.golang.org/protobuf/proto"

	"github.com/mocoedge/mocoedge/models"
	"github.com/mocoedge/mocoedge/models/onnxexport"
	"github.com/mocoedge/mocoedge/models/weights"
)

func build(t *testing.T, name, head string, size int) (*onnx.ModelProto, *weights.State) {
	t.Helper()
	a, err := weights.NewArch(name, 0.125, head, 16)
	if err != nil {
		t.Fatal(err)
	}
	s := weights.New(a)
	for i := range s.Params {
		s.Params[i] = float32(i%7) * 0.1
	}
	m, err := onnxexport.Build(s, onnxexport.Options{Height: size, Width: size, Metadata: map[string]string{"name": "x", "arch": name}})
	if err != nil {
		t.Fatal(err)
	}
	return m, s
}

// TestGraphUsesOnlyAllowedOps checks every architecture's graph: no
// BatchNormalization, only TensorRT-parsable ops, the I/O contract and the
// torchvision initializer names.
func TestGraphUsesOnlyAllowedOps(t *testing.T) {
	for _, name := range models.Names() {
		for _, head := range []string{weights.HeadNone, weights.HeadFC, weights.HeadMLP} {
			m, s := build(t, name, head, 64)
			desc := weights.Describe(s.Arch)
			ops := onnxexport.Ops(m)
			for _, op := range ops {
				if !slices.Contains(onnxexport.AllowedOps(), op) {
					t.Errorf("%s: op %s is not allowed", desc, op)
				}
			}
			if slices.Contains(ops, "BatchNormalization") {
				t.Errorf("%s: graph has a BatchNormalization node", desc)
			}
			if m.IrVersion != 8 || len(m.OpsetImport) != 1 || m.OpsetImport[0].Version != 17 || m.OpsetImport[0].Domain != "" {
				t.Errorf("%s: IR %d, opsets %v", desc, m.IrVersion, m.OpsetImport)
			}
			if m.ProducerName != "mocoedge" || !strings.Contains(m.DocString, "mocoedge") || !strings.Contains(m.DocString, desc) {
				t.Errorf("%s: producer %q, doc %q", desc, m.ProducerName, m.DocString)
			}
			g := m.Graph
			if len(g.Input) != 1 || g.Input[0].Name != "images" || g.Input[0].Type.GetTensorType().Shape.Dim[0].GetDimParam() != "N" {
				t.Errorf("%s: inputs %v", desc, g.Input)
			}
			if len(g.Output) != 2 || g.Output[0].Name != "features" || g.Output[1].Name != "embedding" ||
				g.Output[0].Type.GetTensorType().Shape.Dim[1].GetDimValue() != int64(s.Arch.Features) ||
				g.Output[1].Type.GetTensorType().Shape.Dim[1].GetDimValue() != int64(s.Arch.Outputs()) {
				t.Errorf("%s: outputs %v", desc, g.Output)
			}
			// One weight and one folded bias per conv, plus the head and the L2 eps.
			convs := len(s.Arch.Convs())
			if want := 2*convs + 2*len(s.Arch.Head) + 1; len(g.Initializer) != want {
				t.Errorf("%s: %d initializers, want %d", desc, len(g.Initializer), want)
			}
			if counts := countOps(g); counts["Conv"] != convs || counts["Gemm"] != len(s.Arch.Head) {
				t.Errorf("%s: op counts %v, want %d convs", desc, counts, convs)
			}
			if want := []string{"arch", "name"}; len(m.MetadataProps) != 2 || m.MetadataProps[0].Key != want[0] {
				t.Errorf("%s: metadata_props %v", desc, m.MetadataProps)
			}
		}
	}
}

func countOps(g *onnx.GraphProto) map[string]int {
	c := map[string]int{}
	for _, n := range g.Node {
		c[n.OpType]++
	}
	return c
}

func TestInitializerNames(t *testing.T) {
	m, _ := build(t, "resnet50", weights.HeadMLP, 64)
	byName := map[string]*onnx.TensorProto{}
	for _, in := range m.Graph.Initializer {
		byName[in.Name] = in
	}
	cases := []struct {
		name string
		dims []int64
		doc  string
	}{
		{"conv1.weight", []int64{8, 3, 7, 7}, "conv1.weight with bn1 folded in"},
		{"conv1.bias", []int64{8}, "folded from bn1"},
		{"layer1.0.conv1.bias", []int64{8}, "folded from layer1.0.bn1"},
		{"layer1.0.downsample.0.bias", []int64{32}, "folded from layer1.0.downsample.1"},
		{"layer4.2.conv3.weight", []int64{256, 64, 1, 1}, "layer4.2.bn3"},
		{"fc.0.weight", []int64{256, 256}, ""},
		{"fc.2.bias", []int64{16}, ""},
	}
	for _, tc := range cases {
		in, ok := byName[tc.name]
		if !ok {
			t.Errorf("no initializer %s", tc.name)
			continue
		}
		if !slices.Equal(in.Dims, tc.dims) || !strings.Contains(in.DocString, tc.doc) || len(in.RawData) != 4*int(product(tc.dims)) {
			t.Errorf("%s: dims %v doc %q (%d bytes), want %v, %q", tc.name, in.Dims, in.DocString, len(in.RawData), tc.dims, tc.doc)
		}
	}
	for name := range byName {
		if strings.Contains(name, ".bn") || strings.Contains(name, "downsample.1") {
			t.Errorf("batch-norm tensor %s survived the folding", name)
		}
	}
}

func product(d []int64) int64 {
	p := int64(1)
	for _, x := range d {
		p *= x
	}
	return p
}

func TestWriteFile(t *testing.T) {
	m, _ := build(t, "resnet18-cifar", weights.HeadNone, 32)
	dir := t.TempDir()
	path := filepath.Join(dir, "m.onnx")
	sum, err := onnxexport.WriteFile(path, m)
	if err != nil {
		t.Fatal(err)
	}
	again, err := onnxexport.WriteFile(filepath.Join(dir, "m2.onnx"), m)
	if err != nil || again != sum || len(sum) != 64 {
		t.Errorf("hashes %s and %s (%v): want the same 64 hex digits for the same model", sum, again, err)
	}
	var back onnx.ModelProto
	raw, _ := os.ReadFile(path)
	if err := proto.Unmarshal(raw, &back); err != nil || back.Graph.Name != "resnet18-cifar x0.125" {
		t.Errorf("read back: %v, graph %q", err, back.GetGraph().GetName())
	}

	missing := filepath.Join(dir, "no", "such", "m.onnx")
	_, err = onnxexport.WriteFile(missing, m)
	if err == nil || !strings.Contains(err.Error(), "folder does not exist") || strings.Contains(err.Error(), "\n") {
		t.Errorf("missing folder: %v", err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 2 {
		t.Errorf("folder holds %d entries, want the 2 models and nothing partial", len(entries))
	}
}

func TestBuildRejects(t *testing.T) {
	a, _ := weights.NewArch("resnet18", 0.125, weights.HeadNone, 0)
	cases := []struct {
		name string
		s    *weights.State
		size int
		want error
		msg  string
	}{
		{"negative", weights.New(a), -3, onnxexport.ErrInputSize, "-3x-3"},
		{"zero", weights.New(a), 0, onnxexport.ErrInputSize, "0x0"},
		{"short buffers", &weights.State{Arch: a}, 224, weights.ErrLayout, "0 parameters"},
	}
	for _, tc := range cases {
		_, err := onnxexport.Build(tc.s, onnxexport.Options{Height: tc.size, Width: tc.size})
		if !errors.Is(err, tc.want) || !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("%s: %v, want %v saying %q", tc.name, err, tc.want, tc.msg)
		}
	}
}

package onnxrt

import (
	"encoding/binary"
	"errors"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/advancedclimatesystems/gonnx/onnx"
	"github.com/mocoedge/mocoedge/internal/repo"
	ort "github.com/yalue/onnxruntime_go"
	"google.golang.org/protobuf/proto"
)

// mustInit initialises ONNX Runtime or fails the test with Init's error,
// which carries the fix (fetch script or MOCOEDGE_ORT_LIB). It never skips:
// CI installs the library before running the tests.
func mustInit(t *testing.T) {
	t.Helper()
	if err := Init(); err != nil {
		t.Fatalf("ONNX Runtime is required for this test: %v", err)
	}
}

// tensorType is an ONNX float tensor type; a negative dim is symbolic ("N").
func tensorType(dims ...int64) *onnx.TypeProto {
	shape := &onnx.TensorShapeProto{}
	for _, d := range dims {
		dim := &onnx.TensorShapeProto_Dimension{}
		if d < 0 {
			dim.Value = &onnx.TensorShapeProto_Dimension_DimParam{DimParam: "N"}
		} else {
			dim.Value = &onnx.TensorShapeProto_Dimension_DimValue{DimValue: d}
		}
		shape.Dim = append(shape.Dim, dim)
	}
	return &onnx.TypeProto{Value: &onnx.TypeProto_TensorType{TensorType: &onnx.TypeProto_Tensor{
		ElemType: int32(onnx.TensorProto_FLOAT),
		Shape:    shape,
	}}}
}

// oneNodeModel returns an opset-17, IR-8 model with a single node.
func oneNodeModel(node *onnx.NodeProto, inputs, outputs []*onnx.ValueInfoProto, inits []*onnx.TensorProto) *onnx.ModelProto {
	return &onnx.ModelProto{
		IrVersion:    int64(onnx.Version_IR_VERSION), // 8
		OpsetImport:  []*onnx.OperatorSetIdProto{{Domain: "", Version: 17}},
		ProducerName: "mocoedge-onnxrt-test",
		Graph: &onnx.GraphProto{
			Name:        node.OpType + "-graph",
			Node:        []*onnx.NodeProto{node},
			Input:       inputs,
			Output:      outputs,
			Initializer: inits,
		},
		MetadataProps: []*onnx.StringStringEntryProto{{Key: "mocoedge.test", Value: node.OpType}},
	}
}

// writeModel serialises m into dir and returns the file path.
func writeModel(t *testing.T, m *onnx.ModelProto) string {
	t.Helper()
	data, err := proto.Marshal(m)
	if err != nil {
		t.Fatalf("marshal model: %v", err)
	}
	path := filepath.Join(t.TempDir(), "model.onnx")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestInitConcurrentAndVersion(t *testing.T) {
	var wg sync.WaitGroup
	errs := make([]error, 8)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = Init()
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("Init in goroutine %d: %v", i, err)
		}
	}
	if !ort.IsInitialized() {
		t.Fatal("onnxruntime_go is not initialised after Init")
	}
	v := Version()
	if v == "" {
		t.Fatal("Version() is empty after Init")
	}
	lib := Library()
	t.Logf("ONNX Runtime %s from %s", v, lib)
	if strings.Contains(lib, filepath.Join("third_party", "onnxruntime")) && v != "1.24.1" {
		t.Errorf("library %s reports version %q, want 1.24.1 (the version deploy/fetch-onnxruntime.sh pins)", lib, v)
	}
	if err := InitLibrary(lib); err != nil {
		t.Errorf("InitLibrary with the loaded library: %v", err)
	}
	if err := InitLibrary(filepath.Join(t.TempDir(), "other.so")); err == nil {
		t.Error("InitLibrary with another library after Init: want an error")
	}
}

// TestReluModel builds a one-node Relu model in Go, with a symbolic batch
// dimension, and runs it with a DynamicAdvancedSession.
func TestReluModel(t *testing.T) {
	mustInit(t)
	model := oneNodeModel(
		&onnx.NodeProto{Name: "relu", OpType: "Relu", Input: []string{"x"}, Output: []string{"y"}},
		[]*onnx.ValueInfoProto{{Name: "x", Type: tensorType(-1, 4)}},
		[]*onnx.ValueInfoProto{{Name: "y", Type: tensorType(-1, 4)}},
		nil)
	path := writeModel(t, model)

	session, err := ort.NewDynamicAdvancedSession(path, []string{"x"}, []string{"y"}, nil)
	if err != nil {
		t.Fatalf("new session: %v", err)
	}
	defer session.Destroy()

	in := []float32{-2, -0.5, 0, 0.25, 3, -1e30, 1e30, 7.125, -7.125, 1, -1, 0.1}
	x, err := ort.NewTensor(ort.NewShape(3, 4), in)
	if err != nil {
		t.Fatal(err)
	}
	defer x.Destroy()
	outputs := []ort.Value{nil} // nil: onnxruntime allocates the output
	if err := session.Run([]ort.Value{x}, outputs); err != nil {
		t.Fatalf("run: %v", err)
	}
	defer outputs[0].Destroy()
	y, ok := outputs[0].(*ort.Tensor[float32])
	if !ok {
		t.Fatalf("output is %T, want *Tensor[float32]", outputs[0])
	}
	if got, want := y.GetShape(), ort.NewShape(3, 4); !got.Equals(want) {
		t.Fatalf("output shape %v, want %v", got, want)
	}
	for i, v := range y.GetData() {
		want := float32(math.Max(float64(in[i]), 0))
		if v != want {
			t.Errorf("y[%d] = %v, want %v", i, v, want)
		}
	}
}

// TestAddModel builds a one-node Add model whose second operand is an
// initializer stored as raw little-endian bytes, runs it with an
// AdvancedSession (preallocated input and output) and reads metadata_props.
func TestAddModel(t *testing.T) {
	mustInit(t)
	bias := []float32{0.5, -1.25, 100, 0}
	raw := make([]byte, 4*len(bias))
	for i, v := range bias {
		binary.LittleEndian.PutUint32(raw[4*i:], math.Float32bits(v))
	}
	model := oneNodeModel(
		&onnx.NodeProto{Name: "add", OpType: "Add", Input: []string{"x", "b"}, Output: []string{"y"}},
		[]*onnx.ValueInfoProto{{Name: "x", Type: tensorType(2, 4)}},
		[]*onnx.ValueInfoProto{{Name: "y", Type: tensorType(2, 4)}},
		[]*onnx.TensorProto{{Name: "b", Dims: []int64{4}, DataType: int32(onnx.TensorProto_FLOAT), RawData: raw}})
	path := writeModel(t, model)

	in := []float32{1, 2, 3, 4, -0.5, 1.25, -100, 8}
	x, err := ort.NewTensor(ort.NewShape(2, 4), in)
	if err != nil {
		t.Fatal(err)
	}
	defer x.Destroy()
	y, err := ort.NewEmptyTensor[float32](ort.NewShape(2, 4))
	if err != nil {
		t.Fatal(err)
	}
	defer y.Destroy()

	opts, err := ort.NewSessionOptions()
	if err != nil {
		t.Fatal(err)
	}
	defer opts.Destroy()
	if err := opts.SetIntraOpNumThreads(1); err != nil {
		t.Fatal(err)
	}
	session, err := ort.NewAdvancedSession(path, []string{"x"}, []string{"y"},
		[]ort.Value{x}, []ort.Value{y}, opts)
	if err != nil {
		t.Fatalf("new session: %v", err)
	}
	defer session.Destroy()
	if err := session.Run(); err != nil {
		t.Fatalf("run: %v", err)
	}
	want := []float32{1.5, 0.75, 103, 4, 0, 0, 0, 8}
	for i, v := range y.GetData() {
		if v != want[i] {
			t.Errorf("y[%d] = %v, want %v", i, v, want[i])
		}
	}

	meta, err := session.GetModelMetadata()
	if err != nil {
		t.Fatal(err)
	}
	defer meta.Destroy()
	if v, ok, err := meta.LookupCustomMetadataMap("mocoedge.test"); err != nil || !ok || v != "Add" {
		t.Errorf("metadata mocoedge.test = %q, %v, %v; want \"Add\", true, nil", v, ok, err)
	}
}

func TestLibraryPathEnv(t *testing.T) {
	t.Run("missing file", func(t *testing.T) {
		missing := filepath.Join(t.TempDir(), "no-such-libonnxruntime.so")
		t.Setenv(EnvLibrary, missing)
		_, err := LibraryPath()
		if err == nil {
			t.Fatal("want an error for a missing file")
		}
		if !errors.Is(err, ErrLibraryNotFound) || !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("error %v does not wrap ErrLibraryNotFound and fs.ErrNotExist", err)
		}
		for _, s := range []string{EnvLibrary, missing, "deploy/fetch-onnxruntime.sh"} {
			if !strings.Contains(err.Error(), s) {
				t.Errorf("error %q does not mention %q", err, s)
			}
		}
	})
	t.Run("directory", func(t *testing.T) {
		t.Setenv(EnvLibrary, t.TempDir())
		if _, err := LibraryPath(); !errors.Is(err, ErrLibraryNotFound) || !strings.Contains(err.Error(), "directory") {
			t.Errorf("want ErrLibraryNotFound saying it is a directory, got %v", err)
		}
	})
	t.Run("real library", func(t *testing.T) {
		// Use the library the environment names (a Jetson's JetPack build),
		// else the one the search finds with the variable unset.
		real := os.Getenv(EnvLibrary)
		if real == "" {
			t.Setenv(EnvLibrary, "") // empty counts as unset
			var err error
			if real, err = LibraryPath(); err != nil {
				t.Fatalf("the library must be installed for the tests: %v", err)
			}
		}
		t.Setenv(EnvLibrary, real)
		got, err := LibraryPath()
		if err != nil {
			t.Fatalf("%s=%s: %v", EnvLibrary, real, err)
		}
		if got != real {
			t.Errorf("LibraryPath() = %q, want %q", got, real)
		}
	})
}

func TestFindLibrarySearchOrder(t *testing.T) {
	tmp := t.TempDir()
	write := func(rel, content string) string {
		p := filepath.Join(tmp, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	write("repo/go.mod", "// comment\nmodule "+repo.ModulePath+" // trailing\n\ngo 1.26\n")
	write("repo/nested/go.mod", "module example.com/other\n")
	deep := filepath.Join(tmp, "repo", "nested", "a", "b")
	if err := os.MkdirAll(deep, 0o755); err != nil {
		t.Fatal(err)
	}
	sys := write("sys/libonnxruntime.so.1.2.3", "x")
	base := search{goos: "linux", goarch: "arm64", starts: []string{filepath.Join(tmp, "elsewhere"), deep}}

	t.Run("system fallback", func(t *testing.T) {
		s := base
		s.systems = []string{filepath.Join(tmp, "empty", "libonnxruntime.so*"), filepath.Join(tmp, "sys", "libonnxruntime.so*")}
		got, err := findLibrary(s)
		if err != nil || got != sys {
			t.Fatalf("findLibrary = %q, %v; want %q", got, err, sys)
		}
	})

	t.Run("not found", func(t *testing.T) {
		s := base
		s.systems = []string{filepath.Join(tmp, "empty", "libonnxruntime.so*")}
		_, err := findLibrary(s)
		if !errors.Is(err, ErrLibraryNotFound) {
			t.Fatalf("want ErrLibraryNotFound, got %v", err)
		}
		for _, want := range []string{
			"$" + EnvLibrary,
			filepath.Join(tmp, "repo", "third_party", "onnxruntime", "linux-arm64", LibraryFileName),
			"above " + filepath.Join(tmp, "elsewhere"),
			s.systems[0],
			"run deploy/fetch-onnxruntime.sh or set MOCOEDGE_ORT_LIB=/path/to/libonnxruntime.so",
		} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("error %q does not mention %q", err, want)
			}
		}
	})

	t.Run("repo before system", func(t *testing.T) {
		lib := write("repo/third_party/onnxruntime/linux-arm64/"+LibraryFileName, "x")
		s := base
		s.systems = []string{filepath.Join(tmp, "sys", "libonnxruntime.so*")}
		got, err := findLibrary(s)
		if err != nil || got != lib {
			t.Fatalf("findLibrary = %q, %v; want %q", got, err, lib)
		}
		s.env = sys
		if got, err := findLibrary(s); err != nil || got != sys {
			t.Fatalf("with %s set: findLibrary = %q, %v; want %q", EnvLibrary, got, err, sys)
		}
	})

	t.Run("unsupported arch", func(t *testing.T) {
		s := base
		s.goarch = "riscv64"
		_, err := findLibrary(s)
		if !errors.Is(err, ErrLibraryNotFound) || !strings.Contains(err.Error(), "GOARCH=riscv64") {
			t.Fatalf("want ErrLibraryNotFound naming GOARCH=riscv64, got %v", err)
		}
	})
}

package cuda

import (
	"go/ast"
	"go/importer"
	"go/parser"
	"go/token"
	"go/types"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// kernelParams parses kernels.cu's extern "C" kernels into their
// parameters' kinds: "ptr", "int" (long long), "f32" or "f64".
func kernelParams(t *testing.T) map[string][]string {
	t.Helper()
	re := regexp.MustCompile(`extern "C" __global__ void (\w+)\(([^)]*)\)`)
	kernels := map[string][]string{}
	for _, m := range re.FindAllStringSubmatch(kernelSource, -1) {
		var kinds []string
		for _, p := range strings.Split(m[2], ",") {
			p = strings.TrimSpace(p)
			switch {
			case strings.Contains(p, "*"):
				kinds = append(kinds, "ptr")
			case strings.HasPrefix(p, "i64 "):
				kinds = append(kinds, "int")
			case strings.HasPrefix(p, "float "):
				kinds = append(kinds, "f32")
			case strings.HasPrefix(p, "double "):
				kinds = append(kinds, "f64")
			default:
				t.Fatalf("kernel %s: parameter %q of an unexpected type", m[1], p)
			}
		}
		kernels[m[1]] = kinds
	}
	return kernels
}

// TestKernelLaunchesMatchSignatures type-checks this package and holds
// every launch and elementwise call against the kernel it names: the
// kernel exists, and the arguments match its parameters in number and kind
// (a DeviceBuffer or uint64 for a pointer, int for long long, float32 for
// float, float64 for double). A mismatch would otherwise only show on a
// GPU, as garbage.
func TestKernelLaunchesMatchSignatures(t *testing.T) {
	if testing.Short() {
		t.Skip("type-checks from source")
	}
	kernels := kernelParams(t)
	if len(kernels) < 20 {
		t.Fatalf("parsed only %d kernels from kernels.cu", len(kernels))
	}
	fset := token.NewFileSet()
	entries, err := os.ReadDir(".")
	if err != nil {
		t.Fatal(err)
	}
	var files []*ast.File
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), ".go") || strings.HasSuffix(e.Name(), "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, e.Name(), nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, f)
	}
	info := &types.Info{Types: map[ast.Expr]types.TypeAndValue{}}
	conf := types.Config{Importer: importer.ForCompiler(fset, "source", nil)}
	if _, err := conf.Check("cuda", fset, files, info); err != nil {
		t.Fatal(err)
	}
	kind := func(e ast.Expr) string {
		tv := info.Types[e]
		if named, ok := tv.Type.(*types.Named); ok && named.Obj().Name() == "DeviceBuffer" {
			return "ptr"
		}
		if b, ok := tv.Type.Underlying().(*types.Basic); ok {
			switch b.Kind() {
			case types.Uint64:
				return "ptr"
			case types.Int, types.UntypedInt:
				return "int"
			case types.Float32:
				return "f32"
			case types.Float64:
				return "f64"
			}
		}
		return tv.Type.String()
	}
	launched := map[string]bool{}
	for _, f := range files {
		ast.Inspect(f, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok {
				return true
			}
			sel, ok := call.Fun.(*ast.SelectorExpr)
			if !ok || (sel.Sel.Name != "launch" && sel.Sel.Name != "elementwise") || len(call.Args) < 2 {
				return true
			}
			lit, ok := call.Args[0].(*ast.BasicLit)
			if !ok {
				return true
			}
			name, _ := strconv.Unquote(lit.Value)
			launched[name] = true
			where := fset.Position(call.Pos()).String()
			want, ok := kernels[name]
			if !ok {
				t.Errorf("%s: no kernel %q in kernels.cu", where, name)
				return true
			}
			var got []string
			for _, a := range call.Args[2:] { // after the name and the grid (or n)
				got = append(got, kind(a))
			}
			if !slices.Equal(got, want) {
				t.Errorf("%s: %s(%s), but the kernel takes (%s)", where, name, strings.Join(got, ", "), strings.Join(want, ", "))
			}
			return true
		})
	}
	for name := range kernels {
		if !launched[name] {
			t.Errorf("kernel %s is never launched", name)
		}
	}
}

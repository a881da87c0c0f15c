package cuda

// An emulated device for testing the backend without a GPU: kernels.cu is
// compiled as C++ with testdata/emu.h (CUDA's built-ins on the CPU, each
// block's threads as user-level contexts) and loaded with purego, and the
// driver, cuBLAS and cuDNN calls are Go fakes over its memory, with
// reference (naive, double-accumulating) GEMM and convolutions. The fakes
// check the arguments the way the libraries document (leading dimensions,
// descriptor kinds and shapes) and return their error statuses.
//
// What it proves: the kernels' logic and the backend's orchestration
// (launch arguments, grids, scratch, zeroing, the row-major/column-major
// swap, descriptor set-up, beta blending) agree with the CPU reference.
// What it cannot: NVRTC accepting the source, real cuBLAS/cuDNN behaviour,
// warp timing, or anything about speed.

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"unsafe"

	"github.com/ebitengine/purego"
)

// emulator is the loaded libemu.so.
type emulator struct {
	launch   func(name string, gx, gy, gz, bx uint32, params unsafe.Pointer) int32
	malloc   func(bytes uint64) uint64
	free     func(p uint64)
	memset32 func(p uint64, v uint32, n uint64)
	copyIn   func(dst uint64, src unsafe.Pointer, n uint64)
	copyOut  func(dst unsafe.Pointer, src uint64, n uint64)
	copy     func(dst, src uint64, n uint64)
	sgemm    func(ta, tb, m, n, k int32, alpha float32, a uint64, lda int32, b uint64, ldb int32, beta float32, c uint64, ldc int32)
	conv     func(dir int32, x, w, y uint64, n, c, h, wd, oc, k, s, p, oh, ow int64, alpha, beta float32)
}

var (
	emuOnce sync.Once
	emuLib  *emulator
	emuErr  error
	emuDir  string
)

func TestMain(m *testing.M) {
	code := m.Run()
	if emuDir != "" {
		os.RemoveAll(emuDir)
	}
	os.Exit(code)
}

// loadEmulator builds and loads the emulator once per test binary, or skips
// the test when there is no C++ compiler.
func loadEmulator(t *testing.T) *emulator {
	t.Helper()
	cxx, err := exec.LookPath("g++")
	if err != nil {
		t.Fatal("no g++ to build the kernel emulator: make test installs it (deploy/install-deps.sh)")
	}
	emuOnce.Do(func() { emuLib, emuErr = buildEmulator(cxx) })
	if emuErr != nil {
		t.Fatal(emuErr)
	}
	return emuLib
}

func buildEmulator(cxx string) (*emulator, error) {
	dir, err := os.MkdirTemp("", "mocoedge-cuda-emu-")
	if err != nil {
		return nil, err
	}
	emuDir = dir
	here, err := filepath.Abs(".")
	if err != nil {
		return nil, err
	}
	table, err := kernelTable(kernelSource)
	if err != nil {
		return nil, err
	}
	gen := fmt.Sprintf("#include %q\n#include %q\n%s", filepath.Join(here, "testdata", "emu.h"), filepath.Join(here, "kernels.cu"), table)
	src := filepath.Join(dir, "gen.cpp")
	if err := os.WriteFile(src, []byte(gen), 0o644); err != nil {
		return nil, err
	}
	lib := filepath.Join(dir, "libemu.so")
	cmd := exec.Command(cxx, "-std=c++17", "-O1", "-ffp-contract=off", "-fno-fast-math", "-shared", "-fPIC",
		"-o", lib, src, filepath.Join(here, "testdata", "emu_runtime.cpp"))
	if out, err := cmd.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("compile the emulator: %v\n%s", err, out)
	}
	h, err := purego.Dlopen(lib, purego.RTLD_NOW|purego.RTLD_LOCAL)
	if err != nil {
		return nil, err
	}
	e := &emulator{}
	for sym, fp := range map[string]any{
		"emu_launch": &e.launch, "emu_malloc": &e.malloc, "emu_free": &e.free, "emu_memset32": &e.memset32,
		"emu_copy_in": &e.copyIn, "emu_copy_out": &e.copyOut, "emu_copy": &e.copy, "emu_sgemm": &e.sgemm, "emu_conv": &e.conv,
	} {
		purego.RegisterLibFunc(fp, h, sym)
	}
	return e, nil
}

// kernelTable generates the C++ table that calls each kernel of source
// from an array of parameter pointers, as cuLaunchKernel does; kernels that
// reduce across the block are marked cooperative.
func kernelTable(source string) (string, error) {
	re := regexp.MustCompile(`extern "C" __global__ void (\w+)\(([^)]*)\)`)
	ms := re.FindAllStringSubmatchIndex(source, -1)
	var b strings.Builder
	var entries []string
	for i, m := range ms {
		name, params := source[m[2]:m[3]], source[m[4]:m[5]]
		end := len(source)
		if i+1 < len(ms) {
			end = ms[i+1][0]
		}
		body := source[m[1]:end]
		var args []string
		for j, p := range strings.Split(params, ",") {
			p = strings.TrimSpace(p)
			k := strings.LastIndexAny(p, " *")
			if k < 0 {
				return "", fmt.Errorf("kernel %s: cannot parse parameter %q", name, p)
			}
			typ := strings.TrimSpace(p[:k+1])
			args = append(args, fmt.Sprintf("*(%s*)p[%d]", typ, j))
		}
		fmt.Fprintf(&b, "static void call_%s(void** p) { %s(%s); }\n", name, name, strings.Join(args, ", "))
		coop := strings.Contains(body, "block_sum(") || strings.Contains(body, "block_max(") || strings.Contains(body, "__syncthreads(")
		entries = append(entries, fmt.Sprintf("{%q, call_%s, %v}", name, name, coop))
	}
	fmt.Fprintf(&b, "struct EmuKernel { const char* name; void (*call)(void**); bool cooperative; };\n")
	fmt.Fprintf(&b, "extern const EmuKernel emu_kernels[] = {\n\t%s,\n};\n", strings.Join(entries, ",\n\t"))
	fmt.Fprintf(&b, "extern const int emu_num_kernels = %d;\n", len(entries))
	return b.String(), nil
}

// fakeDesc is a cuDNN descriptor as the fakes record it.
type fakeDesc struct {
	kind       string // "tensor", "filter" or "conv"
	dims       [4]int32
	pad, strd  int32
	mathType   int32
	configured bool
}

// cuDNN and cuBLAS status values the fakes return.
const (
	fakeCudnnBadParam   = 3
	fakeCublasInvalid   = 7
	fakeConvWorkspace   = 4096
	fakeCuLaunchFailure = 719
)

// newEmulated returns a Backend whose api runs on the emulator.
func newEmulated(t *testing.T, opts Options) *Backend {
	t.Helper()
	e := loadEmulator(t)
	var names []string
	descs := map[uintptr]*fakeDesc{}
	var allocs []uint64
	t.Cleanup(func() {
		for _, p := range allocs {
			e.free(p)
		}
	})
	newDesc := func(kind string) func(*uintptr) int32 {
		return func(d *uintptr) int32 {
			*d = uintptr(len(descs) + 1)
			descs[*d] = &fakeDesc{kind: kind}
			return 0
		}
	}
	get := func(d uintptr, kind string) *fakeDesc {
		if x, ok := descs[d]; ok && x.kind == kind && x.configured {
			return x
		}
		return nil
	}
	// convShape checks the four descriptors of one convolution against each
	// other (cuDNN's BAD_PARAM cases) and returns the geometry.
	convShape := func(xd, wd, cd, yd uintptr) ([14]int64, bool) {
		x, w, c, y := get(xd, "tensor"), get(wd, "filter"), get(cd, "conv"), get(yd, "tensor")
		if x == nil || w == nil || c == nil || y == nil {
			return [14]int64{}, false
		}
		n, ch, h, wi := x.dims[0], x.dims[1], x.dims[2], x.dims[3]
		oc, k := w.dims[0], w.dims[2]
		oh, ow := (h+2*c.pad-k)/c.strd+1, (wi+2*c.pad-k)/c.strd+1
		if w.dims[1] != ch || w.dims[3] != k || y.dims != [4]int32{n, oc, oh, ow} {
			return [14]int64{}, false
		}
		return [14]int64{int64(n), int64(ch), int64(h), int64(wi), int64(oc), int64(k), int64(c.strd), int64(c.pad), int64(oh), int64(ow)}, true
	}
	find := func(ok bool, cd uintptr, returned *int32, perf unsafe.Pointer) int32 {
		if !ok {
			return fakeCudnnBadParam
		}
		*(*algoPerf)(perf) = algoPerf{Algo: 1, Time: 1, Memory: fakeConvWorkspace, MathType: descs[cd].mathType}
		*returned = 1
		return 0
	}
	conv := func(dir int32, g [14]int64, ok bool, ws, wsSize uint64, alpha, beta *float32, x, w, y uint64) int32 {
		if !ok || ws == 0 || wsSize < fakeConvWorkspace {
			return fakeCudnnBadParam
		}
		e.conv(dir, x, w, y, g[0], g[1], g[2], g[3], g[4], g[5], g[6], g[7], g[8], g[9], *alpha, *beta)
		return 0
	}
	a := &api{
		cuCtxSetCurrent:  func(uintptr) int32 { return 0 },
		cuCtxSynchronize: func() int32 { return 0 },
		cuMemAlloc: func(p *uint64, size uint64) int32 {
			*p = e.malloc(size)
			if *p == 0 {
				return 2
			}
			allocs = append(allocs, *p)
			return 0
		},
		cuMemFree:    func(uint64) int32 { return 0 }, // freed at cleanup
		cuMemsetD32:  func(p uint64, v uint32, n uint64) int32 { e.memset32(p, v, n); return 0 },
		cuMemcpyHtoD: func(dst uint64, src unsafe.Pointer, n uint64) int32 { e.copyIn(dst, src, n); return 0 },
		cuMemcpyDtoH: func(dst unsafe.Pointer, src uint64, n uint64) int32 { e.copyOut(dst, src, n); return 0 },
		cuMemcpyDtoD: func(dst, src uint64, n uint64) int32 { e.copy(dst, src, n); return 0 },
		cuModuleGetFunction: func(fn *uintptr, _ uintptr, name string) int32 {
			names = append(names, name)
			*fn = uintptr(len(names))
			return 0
		},
		cuLaunchKernel: func(fn uintptr, gx, gy, gz, bx, by, bz, shared uint32, stream uintptr, params, extra unsafe.Pointer) int32 {
			if gx == 0 || gy == 0 || gz == 0 || by != 1 || bz != 1 || gy > 65535 || gz > 65535 {
				return 1 // CUDA_ERROR_INVALID_VALUE
			}
			if e.launch(names[fn-1], gx, gy, gz, bx, params) != 0 {
				return fakeCuLaunchFailure
			}
			return 0
		},
		cublasSgemm: func(h uintptr, ta, tb, m, n, k int32, alpha *float32, pa uint64, lda int32, pb uint64, ldb int32, beta *float32, pc uint64, ldc int32) int32 {
			rowsA, rowsB := m, k // column-major: op(A) is m×k, op(B) k×n
			if ta == cublasOpT {
				rowsA = k
			}
			if tb == cublasOpT {
				rowsB = n
			}
			if m < 0 || n < 0 || k < 0 || lda < max(1, rowsA) || ldb < max(1, rowsB) || ldc < max(1, m) {
				return fakeCublasInvalid
			}
			e.sgemm(ta, tb, m, n, k, *alpha, pa, lda, pb, ldb, *beta, pc, ldc)
			return 0
		},
		cudnnGetErrorString:              func(s int32) string { return fmt.Sprintf("CUDNN_STATUS_%d", s) },
		cudnnCreateTensorDescriptor:      newDesc("tensor"),
		cudnnCreateFilterDescriptor:      newDesc("filter"),
		cudnnCreateConvolutionDescriptor: newDesc("conv"),
		cudnnSetTensor4dDescriptor: func(d uintptr, format, dtype, n, c, h, w int32) int32 {
			x := descs[d]
			if x == nil || x.kind != "tensor" || format != cudnnTensorNCHW || dtype != cudnnDataFloat || min(n, c, h, w) < 1 {
				return fakeCudnnBadParam
			}
			x.dims, x.configured = [4]int32{n, c, h, w}, true
			return 0
		},
		cudnnSetFilter4dDescriptor: func(d uintptr, dtype, format, k, c, h, w int32) int32 {
			x := descs[d]
			if x == nil || x.kind != "filter" || format != cudnnTensorNCHW || dtype != cudnnDataFloat || min(k, c, h, w) < 1 {
				return fakeCudnnBadParam
			}
			x.dims, x.configured = [4]int32{k, c, h, w}, true
			return 0
		},
		cudnnSetConvolution2dDescriptor: func(d uintptr, padH, padW, u, v, dilH, dilW, mode, computeType int32) int32 {
			x := descs[d]
			if x == nil || x.kind != "conv" || padH != padW || u != v || u < 1 || dilH != 1 || dilW != 1 ||
				mode != cudnnCrossCorrelation || computeType != cudnnDataFloat {
				return fakeCudnnBadParam
			}
			x.pad, x.strd, x.configured = padH, u, true
			return 0
		},
		cudnnSetConvolutionMathType: func(d uintptr, mt int32) int32 {
			if x := descs[d]; x != nil && x.kind == "conv" {
				x.mathType = mt
				return 0
			}
			return fakeCudnnBadParam
		},
		cudnnFindConvolutionForward: func(h, x, w, c, y uintptr, requested int32, returned *int32, perf unsafe.Pointer) int32 {
			_, ok := convShape(x, w, c, y)
			return find(ok && requested >= 1, c, returned, perf)
		},
		cudnnFindConvolutionBackwardData: func(h, w, dy, c, dx uintptr, requested int32, returned *int32, perf unsafe.Pointer) int32 {
			_, ok := convShape(dx, w, c, dy)
			return find(ok && requested >= 1, c, returned, perf)
		},
		cudnnFindConvolutionBackwardFilt: func(h, x, dy, c, dw uintptr, requested int32, returned *int32, perf unsafe.Pointer) int32 {
			_, ok := convShape(x, dw, c, dy)
			return find(ok && requested >= 1, c, returned, perf)
		},
		cudnnConvolutionForward: func(h uintptr, alpha *float32, xd uintptr, x uint64, wd uintptr, w uint64, c uintptr, algo int32, ws, wsSize uint64, beta *float32, yd uintptr, y uint64) int32 {
			g, ok := convShape(xd, wd, c, yd)
			return conv(0, g, ok && algo == 1, ws, wsSize, alpha, beta, x, w, y)
		},
		cudnnConvolutionBackwardData: func(h uintptr, alpha *float32, wd uintptr, w uint64, dyd uintptr, dy uint64, c uintptr, algo int32, ws, wsSize uint64, beta *float32, dxd uintptr, dx uint64) int32 {
			g, ok := convShape(dxd, wd, c, dyd)
			return conv(1, g, ok && algo == 1, ws, wsSize, alpha, beta, dx, w, dy)
		},
		cudnnConvolutionBackwardFilter: func(h uintptr, alpha *float32, xd uintptr, x uint64, dyd uintptr, dy uint64, c uintptr, algo int32, ws, wsSize uint64, beta *float32, dwd uintptr, dw uint64) int32 {
			g, ok := convShape(xd, dwd, c, dyd)
			return conv(2, g, ok && algo == 1, ws, wsSize, alpha, beta, x, dw, dy)
		},
	}
	return &Backend{a: a, opts: opts, arch: Arch{8, 0}, name: "emulated", cublas: 1, cudnn: 1,
		functions: map[string]uintptr{}, convs: map[convKey]*convPlan{}}
}

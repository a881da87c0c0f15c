package cuda

import (
	"errors"
	"fmt"
	"math"
	"runtime"
	"time"
	"unsafe"

	"github.com/mocoedge/mocoedge/trainer/engine"
)

// Options configure New.
type Options struct {
	// Device is the CUDA device ordinal (0: the first GPU).
	Device int
	// DisableTF32 keeps cuBLAS and cuDNN at full FP32 precision. By default
	// they may use TF32 tensor cores, as PyTorch's convolutions do.
	DisableTF32 bool
	// CacheDir holds the NVRTC-compiled kernels; empty means
	// DefaultCacheDir(). A cache that cannot be written only costs a
	// recompile next time.
	CacheDir string
}

// DeviceBuffer is the backend's buffer: n float32 values at a device address.
type DeviceBuffer struct {
	ptr uint64
	n   int
}

// Len returns the number of elements.
func (d DeviceBuffer) Len() int { return d.n }

// Ptr returns the device address (a CUdeviceptr).
func (d DeviceBuffer) Ptr() uint64 { return d.ptr }

// Backend runs the engine on one CUDA device. All work is queued on the
// legacy default stream, so operations run in call order and Download
// waits for everything before it. A Backend is driven from one goroutine at
// a time, like the CPU backend; each method makes the device's context
// current on its (locked) OS thread.
//
// The first failing call is recorded (Err) and every later method is a
// no-op; see the package documentation.
type Backend struct {
	a    *api
	libs *Libraries
	opts Options

	dev       int32
	ctx       uintptr
	arch      Arch
	name      string
	cublas    uintptr
	cudnn     uintptr
	module    uintptr
	functions map[string]uintptr
	convs     map[convKey]*convPlan

	err     error
	allocs  []uint64
	scratch [numScratch]scratchBuf
	losses  []float64
}

var _ engine.Backend[float32] = (*Backend)(nil)

// Scratch slots: device workspaces grown on demand and reused.
const (
	scratchConv   = iota // cuDNN workspace
	scratchSums          // batch norm sums (doubles)
	scratchSq            // batch norm squared deviations (doubles)
	scratchCoef          // batch norm coefficients
	scratchLabels        // SoftmaxCrossEntropy labels (int32)
	scratchLosses        // SoftmaxCrossEntropy per-row losses (doubles)
	numScratch
)

type scratchBuf struct {
	ptr   uint64
	bytes uint64
}

// Open loads the libraries (Load) and creates a backend on the device
// (New). Its error is one line.
func Open(load LoadOptions, opts Options) (*Backend, error) {
	libs, err := Load(load)
	if err != nil {
		return nil, err
	}
	return New(libs, opts)
}

// New creates a backend on opts.Device: it binds the libraries' functions,
// initialises the driver, retains the device's primary context, creates the
// cuBLAS and cuDNN handles and loads the kernels (compiled by NVRTC, or
// read from the cache). Every error is one line.
func New(libs *Libraries, opts Options) (*Backend, error) {
	a, err := bind(libs)
	if err != nil {
		return nil, err
	}
	b := &Backend{a: a, libs: libs, opts: opts, functions: map[string]uintptr{}, convs: map[convKey]*convPlan{}}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	if err := a.cuError("cuInit", a.cuInit(0)); err != nil {
		return nil, err
	}
	var count int32
	if err := a.cuError("cuDeviceGetCount", a.cuDeviceGetCount(&count)); err != nil {
		return nil, err
	}
	if opts.Device < 0 || opts.Device >= int(count) {
		return nil, fmt.Errorf("cuda: device %d requested, %d present", opts.Device, count)
	}
	if err := a.cuError("cuDeviceGet", a.cuDeviceGet(&b.dev, int32(opts.Device))); err != nil {
		return nil, err
	}
	var major, minor int32
	if err := errors.Join(
		a.cuError("cuDeviceGetAttribute(major)", a.cuDeviceGetAttribute(&major, cuDeviceAttrCCMajor, b.dev)),
		a.cuError("cuDeviceGetAttribute(minor)", a.cuDeviceGetAttribute(&minor, cuDeviceAttrCCMinor, b.dev)),
	); err != nil {
		return nil, err
	}
	b.arch = Arch{int(major), int(minor)}
	if major < 6 {
		return nil, fmt.Errorf("cuda: device %d is %s; the kernels need sm_60 or newer (double atomicAdd)", opts.Device, b.arch)
	}
	name := make([]byte, 256)
	if err := a.cuError("cuDeviceGetName", a.cuDeviceGetName(&name[0], int32(len(name)), b.dev)); err != nil {
		return nil, err
	}
	b.name = cString(&name[0])
	if err := a.cuError("cuDevicePrimaryCtxRetain", a.cuDevicePrimaryCtxRetain(&b.ctx, b.dev)); err != nil {
		return nil, err
	}
	if err := a.cuError("cuCtxSetCurrent", a.cuCtxSetCurrent(b.ctx)); err != nil {
		return nil, err
	}
	if err := a.cublasError("cublasCreate_v2", a.cublasCreate(&b.cublas)); err != nil {
		return nil, err
	}
	mode := int32(cublasTF32TensorMath)
	if opts.DisableTF32 {
		mode = cublasDefaultMath
	}
	if err := a.cublasError("cublasSetMathMode", a.cublasSetMathMode(b.cublas, mode)); err != nil {
		return nil, err
	}
	if err := a.cudnnError("cudnnCreate", a.cudnnCreate(&b.cudnn)); err != nil {
		return nil, err
	}
	if err := b.loadKernels(); err != nil {
		return nil, err
	}
	return b, nil
}

// loadKernels reads the cubin for this device from the cache or compiles
// it with NVRTC (then caches it), and loads it as a module.
func (b *Backend) loadKernels() error {
	dir := b.opts.CacheDir
	if dir == "" {
		dir, _ = DefaultCacheDir() // no cache directory: compile every time
	}
	key := CacheKey(kernelSource, b.arch)
	cubin, err := readCache(dir, key)
	if err != nil {
		cubin = nil // a damaged cache entry is rebuilt
	}
	if cubin == nil {
		if cubin, err = b.a.compile(kernelSource, "kernels.cu", b.arch); err != nil {
			return err
		}
		_ = writeCache(dir, key, cubin) // best effort: the next run recompiles
	}
	return b.a.cuError("cuModuleLoadData", b.a.cuModuleLoadData(&b.module, unsafe.Pointer(&cubin[0])))
}

// Name returns "cuda".
func (*Backend) Name() string { return "cuda" }

// Device returns the GPU's name, e.g. "NVIDIA H100 80GB HBM3".
func (b *Backend) Device() string { return b.name }

// Arch returns the GPU's compute capability.
func (b *Backend) Arch() Arch { return b.arch }

// TF32 reports whether cuBLAS and cuDNN may use TF32.
func (b *Backend) TF32() bool { return !b.opts.DisableTF32 }

// Err returns the first error of any call so far (nil if none). After an
// error every method is a no-op, Download writes NaN and
// SoftmaxCrossEntropy returns NaN.
func (b *Backend) Err() error { return b.err }

// Sync waits for all queued work and returns Err.
func (b *Backend) Sync() error {
	b.do(func() { b.fail(b.a.cuError("cuCtxSynchronize", b.a.cuCtxSynchronize())) })
	return b.err
}

// Close frees every buffer the backend allocated; the backend must not be
// used afterwards. The context, handles and module live until the process
// ends (the primary context is shared with anything else in the process).
func (b *Backend) Close() error {
	b.do(func() {
		for _, p := range b.allocs {
			b.fail(b.a.cuError("cuMemFree_v2", b.a.cuMemFree(p)))
		}
		for i := range b.scratch {
			if b.scratch[i].ptr != 0 {
				b.fail(b.a.cuError("cuMemFree_v2", b.a.cuMemFree(b.scratch[i].ptr)))
			}
		}
	})
	b.allocs, b.scratch = nil, [numScratch]scratchBuf{}
	return b.err
}

// do runs f with the device's context current on a locked OS thread, unless
// an error has already been recorded.
func (b *Backend) do(f func()) {
	if b.err != nil {
		return
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	if b.fail(b.a.cuError("cuCtxSetCurrent", b.a.cuCtxSetCurrent(b.ctx))) {
		return
	}
	f()
}

// fail records err if it is the first; it reports whether err is not nil.
func (b *Backend) fail(err error) bool {
	if err == nil {
		return false
	}
	if b.err == nil {
		b.err = fmt.Errorf("cuda backend: %w", err)
	}
	return true
}

// buf returns the device buffer behind x (the zero buffer for nil). It
// panics when x belongs to another backend: that is a wiring bug.
func buf(x engine.Buffer[float32]) DeviceBuffer {
	if x == nil {
		return DeviceBuffer{}
	}
	d, ok := x.(DeviceBuffer)
	if !ok {
		panic(fmt.Sprintf("cuda: buffer of type %T given to the CUDA backend", x))
	}
	return d
}

// workspace returns scratch slot i with at least bytes bytes, growing it
// (free, then allocate) when needed; 0 after an error.
func (b *Backend) workspace(i int, bytes uint64) uint64 {
	s := &b.scratch[i]
	if s.bytes >= bytes && s.ptr != 0 {
		return s.ptr
	}
	if s.ptr != 0 {
		if b.fail(b.a.cuError("cuMemFree_v2", b.a.cuMemFree(s.ptr))) {
			return 0
		}
		*s = scratchBuf{}
	}
	bytes = max(bytes, 256)
	var p uint64
	if b.fail(b.a.cuError(fmt.Sprintf("cuMemAlloc_v2(%d bytes)", bytes), b.a.cuMemAlloc(&p, bytes))) {
		return 0
	}
	*s = scratchBuf{ptr: p, bytes: bytes}
	return p
}

// Alloc returns a zeroed device buffer of n float32 values.
func (b *Backend) Alloc(n int) engine.Buffer[float32] {
	d := DeviceBuffer{n: n}
	if n == 0 {
		return d
	}
	b.do(func() {
		var p uint64
		if b.fail(b.a.cuError(fmt.Sprintf("cuMemAlloc_v2(%d bytes)", 4*n), b.a.cuMemAlloc(&p, uint64(4*n)))) {
			return
		}
		b.allocs = append(b.allocs, p)
		d.ptr = p
		b.fail(b.a.cuError("cuMemsetD32_v2", b.a.cuMemsetD32(p, 0, uint64(n))))
	})
	return d
}

// Slice returns a view of n values of x from off (no copy).
func (b *Backend) Slice(x engine.Buffer[float32], off, n int) engine.Buffer[float32] {
	d := buf(x)
	if off < 0 || n < 0 || off+n > d.n {
		panic(fmt.Sprintf("cuda: slice [%d:%d] of a buffer of %d", off, off+n, d.n))
	}
	return DeviceBuffer{ptr: d.ptr + 4*uint64(off), n: n}
}

// Upload copies host values into dst (as many as fit).
func (b *Backend) Upload(dst engine.Buffer[float32], src []float32) {
	d := buf(dst)
	n := min(len(src), d.n)
	if n == 0 {
		return
	}
	b.do(func() {
		b.fail(b.a.cuError("cuMemcpyHtoD_v2", b.a.cuMemcpyHtoD(d.ptr, unsafe.Pointer(&src[0]), uint64(4*n))))
	})
	runtime.KeepAlive(src)
}

// Download waits for the queued work and copies src to host memory (as many
// values as fit). After an error it fills dst with NaN.
func (b *Backend) Download(dst []float32, src engine.Buffer[float32]) {
	s := buf(src)
	n := min(len(dst), s.n)
	if n == 0 {
		return
	}
	b.do(func() {
		b.fail(b.a.cuError("cuMemcpyDtoH_v2", b.a.cuMemcpyDtoH(unsafe.Pointer(&dst[0]), s.ptr, uint64(4*n))))
	})
	runtime.KeepAlive(dst)
	if b.err != nil {
		nan := float32(math.NaN())
		for i := range dst[:n] {
			dst[i] = nan
		}
	}
}

// Copy copies src into dst (as many values as fit).
func (b *Backend) Copy(dst, src engine.Buffer[float32]) {
	d, s := buf(dst), buf(src)
	n := min(d.n, s.n)
	if n == 0 {
		return
	}
	b.do(func() {
		b.fail(b.a.cuError("cuMemcpyDtoD_v2", b.a.cuMemcpyDtoD(d.ptr, s.ptr, uint64(4*n))))
	})
}

// Fill sets every value of x to v.
func (b *Backend) Fill(x engine.Buffer[float32], v float32) {
	d := buf(x)
	if d.n == 0 {
		return
	}
	b.do(func() {
		b.fail(b.a.cuError("cuMemsetD32_v2", b.a.cuMemsetD32(d.ptr, math.Float32bits(v), uint64(d.n))))
	})
}

// Gemm computes c = alpha·op(a)·op(b) + beta·c on row-major buffers with
// cuBLAS. A row-major product is the column-major product of the
// transposes, so the operands are passed swapped: cᵀ = op(b)ᵀ·op(a)ᵀ.
func (b *Backend) Gemm(transA, transB bool, m, n, k int, alpha float32, a engine.Buffer[float32], lda int, bb engine.Buffer[float32], ldb int, beta float32, c engine.Buffer[float32], ldc int) {
	if m == 0 || n == 0 {
		return
	}
	pa, pb, pc := buf(a), buf(bb), buf(c)
	b.do(func() { b.gemm(transA, transB, m, n, k, alpha, pa.ptr, lda, pb.ptr, ldb, beta, pc.ptr, ldc) })
}

// gemm is Gemm on device addresses; the caller holds the context.
func (b *Backend) gemm(transA, transB bool, m, n, k int, alpha float32, a uint64, lda int, bb uint64, ldb int, beta float32, c uint64, ldc int) {
	op := func(t bool) int32 {
		if t {
			return cublasOpT
		}
		return cublasOpN
	}
	b.fail(b.a.cublasError("cublasSgemm_v2", b.a.cublasSgemm(b.cublas, op(transB), op(transA), int32(n), int32(m), int32(k),
		&alpha, bb, int32(ldb), a, int32(lda), &beta, c, int32(ldc))))
}

// PeakGFLOPS measures the cuBLAS SGEMM rate on size×size matrices (the
// denominator of trainer bench's ratio): one warm-up product, then reps
// timed ones. It returns 0 after an error (see Err).
func (b *Backend) PeakGFLOPS(size, reps int) float64 {
	x, y, z := b.Alloc(size*size), b.Alloc(size*size), b.Alloc(size*size)
	b.Fill(x, 1)
	b.Fill(y, 1)
	b.Gemm(false, false, size, size, size, 1, x, size, y, size, 0, z, size)
	if b.Sync() != nil {
		return 0
	}
	start := time.Now()
	for range reps {
		b.Gemm(false, false, size, size, size, 1, x, size, y, size, 0, z, size)
	}
	if b.Sync() != nil {
		return 0
	}
	return 2 * float64(size) * float64(size) * float64(size) * float64(reps) / time.Since(start).Seconds() / 1e9
}

package cuda

import (
	"fmt"
	"strings"
	"unsafe"

	"github.com/ebitengine/purego"
)

// api holds the C functions the backend calls, bound with purego. Device
// pointers (CUdeviceptr, and cuBLAS's and cuDNN's void*) travel as uint64
// and handles as uintptr, so no device address is ever turned into a Go
// pointer. The signatures follow cuda.h (CUDA 11/12), cublas_api.h,
// cudnn (v8 and v9's legacy convolution API) and nvrtc.h; they have been
// checked against the documentation, never against a running library.
type api struct {
	// Driver API. CUresult is an int32.
	cuInit                   func(flags uint32) int32
	cuDriverGetVersion       func(v *int32) int32
	cuDeviceGetCount         func(n *int32) int32
	cuDeviceGet              func(dev *int32, ordinal int32) int32
	cuDeviceGetAttribute     func(v *int32, attr int32, dev int32) int32
	cuDeviceGetName          func(name *byte, n int32, dev int32) int32
	cuDevicePrimaryCtxRetain func(ctx *uintptr, dev int32) int32
	cuCtxSetCurrent          func(ctx uintptr) int32
	cuCtxSynchronize         func() int32
	cuMemAlloc               func(p *uint64, size uint64) int32
	cuMemFree                func(p uint64) int32
	cuMemsetD32              func(p uint64, v uint32, n uint64) int32
	cuMemcpyHtoD             func(dst uint64, src unsafe.Pointer, size uint64) int32
	cuMemcpyDtoH             func(dst unsafe.Pointer, src uint64, size uint64) int32
	cuMemcpyDtoD             func(dst, src uint64, size uint64) int32
	cuModuleLoadData         func(mod *uintptr, image unsafe.Pointer) int32
	cuModuleGetFunction      func(fn *uintptr, mod uintptr, name string) int32
	cuLaunchKernel           func(fn uintptr, gx, gy, gz, bx, by, bz, shared uint32, stream uintptr, params unsafe.Pointer, extra unsafe.Pointer) int32
	cuGetErrorName           func(r int32, s **byte) int32
	cuGetErrorString         func(r int32, s **byte) int32

	// cuBLAS (v2 API). cublasStatus_t is an int32.
	cublasCreate          func(h *uintptr) int32
	cublasSetMathMode     func(h uintptr, mode int32) int32
	cublasSgemm           func(h uintptr, ta, tb int32, m, n, k int32, alpha *float32, a uint64, lda int32, b uint64, ldb int32, beta *float32, c uint64, ldc int32) int32
	cublasGetStatusString func(s int32) string // cuBLAS 11.4+, optional

	// cuDNN. cudnnStatus_t is an int32; descriptors are opaque pointers.
	cudnnCreate                      func(h *uintptr) int32
	cudnnGetVersion                  func() uint64
	cudnnGetErrorString              func(s int32) string
	cudnnCreateTensorDescriptor      func(d *uintptr) int32
	cudnnSetTensor4dDescriptor       func(d uintptr, format, dtype, n, c, h, w int32) int32
	cudnnCreateFilterDescriptor      func(d *uintptr) int32
	cudnnSetFilter4dDescriptor       func(d uintptr, dtype, format, k, c, h, w int32) int32
	cudnnCreateConvolutionDescriptor func(d *uintptr) int32
	cudnnSetConvolution2dDescriptor  func(d uintptr, padH, padW, u, v, dilH, dilW, mode, computeType int32) int32
	cudnnSetConvolutionMathType      func(d uintptr, mathType int32) int32
	cudnnFindConvolutionForward      func(h, x, w, conv, y uintptr, requested int32, returned *int32, perf unsafe.Pointer) int32
	cudnnFindConvolutionBackwardData func(h, w, dy, conv, dx uintptr, requested int32, returned *int32, perf unsafe.Pointer) int32
	cudnnFindConvolutionBackwardFilt func(h, x, dy, conv, dw uintptr, requested int32, returned *int32, perf unsafe.Pointer) int32
	cudnnConvolutionForward          func(h uintptr, alpha *float32, xd uintptr, x uint64, wd uintptr, w uint64, conv uintptr, algo int32, ws, wsSize uint64, beta *float32, yd uintptr, y uint64) int32
	cudnnConvolutionBackwardData     func(h uintptr, alpha *float32, wd uintptr, w uint64, dyd uintptr, dy uint64, conv uintptr, algo int32, ws, wsSize uint64, beta *float32, dxd uintptr, dx uint64) int32
	cudnnConvolutionBackwardFilter   func(h uintptr, alpha *float32, xd uintptr, x uint64, dyd uintptr, dy uint64, conv uintptr, algo int32, ws, wsSize uint64, beta *float32, dwd uintptr, dw uint64) int32

	// NVRTC. nvrtcResult is an int32; a program is an opaque pointer.
	nvrtcVersion           func(major, minor *int32) int32
	nvrtcCreateProgram     func(prog *uintptr, src, name string, numHeaders int32, headers, includeNames unsafe.Pointer) int32
	nvrtcCompileProgram    func(prog uintptr, numOptions int32, options unsafe.Pointer) int32
	nvrtcGetProgramLogSize func(prog uintptr, size *uint64) int32
	nvrtcGetProgramLog     func(prog uintptr, log *byte) int32
	nvrtcGetCUBINSize      func(prog uintptr, size *uint64) int32
	nvrtcGetCUBIN          func(prog uintptr, cubin *byte) int32
	nvrtcDestroyProgram    func(prog *uintptr) int32
	nvrtcGetErrorString    func(s int32) string
}

// binding is one C function to bind: its library, symbol and the field.
type binding struct {
	lib      Library
	symbol   string
	fptr     any
	optional bool
}

func (a *api) bindings() []binding {
	return []binding{
		{Driver, "cuInit", &a.cuInit, false},
		{Driver, "cuDriverGetVersion", &a.cuDriverGetVersion, false},
		{Driver, "cuDeviceGetCount", &a.cuDeviceGetCount, false},
		{Driver, "cuDeviceGet", &a.cuDeviceGet, false},
		{Driver, "cuDeviceGetAttribute", &a.cuDeviceGetAttribute, false},
		{Driver, "cuDeviceGetName", &a.cuDeviceGetName, false},
		{Driver, "cuDevicePrimaryCtxRetain", &a.cuDevicePrimaryCtxRetain, false},
		{Driver, "cuCtxSetCurrent", &a.cuCtxSetCurrent, false},
		{Driver, "cuCtxSynchronize", &a.cuCtxSynchronize, false},
		{Driver, "cuMemAlloc_v2", &a.cuMemAlloc, false},
		{Driver, "cuMemFree_v2", &a.cuMemFree, false},
		{Driver, "cuMemsetD32_v2", &a.cuMemsetD32, false},
		{Driver, "cuMemcpyHtoD_v2", &a.cuMemcpyHtoD, false},
		{Driver, "cuMemcpyDtoH_v2", &a.cuMemcpyDtoH, false},
		{Driver, "cuMemcpyDtoD_v2", &a.cuMemcpyDtoD, false},
		{Driver, "cuModuleLoadData", &a.cuModuleLoadData, false},
		{Driver, "cuModuleGetFunction", &a.cuModuleGetFunction, false},
		{Driver, "cuLaunchKernel", &a.cuLaunchKernel, false},
		{Driver, "cuGetErrorName", &a.cuGetErrorName, false},
		{Driver, "cuGetErrorString", &a.cuGetErrorString, false},

		{Cublas, "cublasCreate_v2", &a.cublasCreate, false},
		{Cublas, "cublasSetMathMode", &a.cublasSetMathMode, false},
		{Cublas, "cublasSgemm_v2", &a.cublasSgemm, false},
		{Cublas, "cublasGetStatusString", &a.cublasGetStatusString, true},

		{Cudnn, "cudnnCreate", &a.cudnnCreate, false},
		{Cudnn, "cudnnGetVersion", &a.cudnnGetVersion, false},
		{Cudnn, "cudnnGetErrorString", &a.cudnnGetErrorString, false},
		{Cudnn, "cudnnCreateTensorDescriptor", &a.cudnnCreateTensorDescriptor, false},
		{Cudnn, "cudnnSetTensor4dDescriptor", &a.cudnnSetTensor4dDescriptor, false},
		{Cudnn, "cudnnCreateFilterDescriptor", &a.cudnnCreateFilterDescriptor, false},
		{Cudnn, "cudnnSetFilter4dDescriptor", &a.cudnnSetFilter4dDescriptor, false},
		{Cudnn, "cudnnCreateConvolutionDescriptor", &a.cudnnCreateConvolutionDescriptor, false},
		{Cudnn, "cudnnSetConvolution2dDescriptor", &a.cudnnSetConvolution2dDescriptor, false},
		{Cudnn, "cudnnSetConvolutionMathType", &a.cudnnSetConvolutionMathType, false},
		{Cudnn, "cudnnFindConvolutionForwardAlgorithm", &a.cudnnFindConvolutionForward, false},
		{Cudnn, "cudnnFindConvolutionBackwardDataAlgorithm", &a.cudnnFindConvolutionBackwardData, false},
		{Cudnn, "cudnnFindConvolutionBackwardFilterAlgorithm", &a.cudnnFindConvolutionBackwardFilt, false},
		{Cudnn, "cudnnConvolutionForward", &a.cudnnConvolutionForward, false},
		{Cudnn, "cudnnConvolutionBackwardData", &a.cudnnConvolutionBackwardData, false},
		{Cudnn, "cudnnConvolutionBackwardFilter", &a.cudnnConvolutionBackwardFilter, false},

		{NVRTC, "nvrtcVersion", &a.nvrtcVersion, false},
		{NVRTC, "nvrtcCreateProgram", &a.nvrtcCreateProgram, false},
		{NVRTC, "nvrtcCompileProgram", &a.nvrtcCompileProgram, false},
		{NVRTC, "nvrtcGetProgramLogSize", &a.nvrtcGetProgramLogSize, false},
		{NVRTC, "nvrtcGetProgramLog", &a.nvrtcGetProgramLog, false},
		{NVRTC, "nvrtcGetCUBINSize", &a.nvrtcGetCUBINSize, false},
		{NVRTC, "nvrtcGetCUBIN", &a.nvrtcGetCUBIN, false},
		{NVRTC, "nvrtcDestroyProgram", &a.nvrtcDestroyProgram, false},
		{NVRTC, "nvrtcGetErrorString", &a.nvrtcGetErrorString, false},
	}
}

// bind resolves every function in libs. A missing required symbol (a
// library too old, or the wrong file) is one error naming all of them.
func bind(libs *Libraries) (*api, error) {
	a := &api{}
	var missing []string
	for _, b := range a.bindings() {
		h := libs.Handle(b.lib)
		if _, err := purego.Dlsym(h, b.symbol); err != nil {
			if !b.optional {
				missing = append(missing, fmt.Sprintf("%s in %s", b.symbol, libs.Paths[b.lib]))
			}
			continue
		}
		purego.RegisterLibFunc(b.fptr, h, b.symbol)
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("cuda: libraries lack %s (too old? CUDA 11.1+, cuDNN 8+ are needed)", strings.Join(missing, ", "))
	}
	return a, nil
}

// C enum values used by the backend.
const (
	cuDeviceAttrCCMajor = 75 // CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR
	cuDeviceAttrCCMinor = 76 // CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR

	cublasOpN             = 0 // CUBLAS_OP_N
	cublasOpT             = 1 // CUBLAS_OP_T
	cublasDefaultMath     = 0 // CUBLAS_DEFAULT_MATH
	cublasPedanticMath    = 2 // CUBLAS_PEDANTIC_MATH: no TF32, no reduced precision
	cublasTF32TensorMath  = 3 // CUBLAS_TF32_TENSOR_OP_MATH
	cudnnTensorNCHW       = 0 // CUDNN_TENSOR_NCHW
	cudnnDataFloat        = 0 // CUDNN_DATA_FLOAT
	cudnnCrossCorrelation = 1 // CUDNN_CROSS_CORRELATION (what deep learning calls convolution)
	cudnnDefaultMath      = 0 // CUDNN_DEFAULT_MATH: TF32 allowed on Ampere and later
	cudnnFMAMath          = 3 // CUDNN_FMA_MATH: plain FP32 FMA only
)

// algoPerf mirrors cudnnConvolution{Fwd,BwdData,BwdFilter}AlgoPerf_t, which
// share one layout: algo, status, time, memory (size_t), determinism,
// mathType, reserved[3] — 48 bytes on LP64.
type algoPerf struct {
	Algo        int32
	Status      int32
	Time        float32
	_           int32
	Memory      uint64
	Determinism int32
	MathType    int32
	_           [3]int32
	_           int32
}

// The C layout is 48 bytes: both of these fail to compile otherwise.
var (
	_ [48 - unsafe.Sizeof(algoPerf{})]struct{}
	_ [unsafe.Sizeof(algoPerf{}) - 48]struct{}
)

package cuda

import (
	"fmt"
	"unsafe"
)

// StatusError is a CUDA driver, cuBLAS, cuDNN or NVRTC call that returned
// something other than success.
type StatusError struct {
	// Call is the C function, e.g. "cuMemAlloc_v2" or "cudnnConvolutionForward".
	Call string
	// Code is the status value the call returned.
	Code int
	// Name is the status's symbolic name, e.g. "CUDA_ERROR_OUT_OF_MEMORY"
	// (empty when the library could not say).
	Name string
	// Detail is the library's description, when it has one.
	Detail string
}

// Error formats the status as "call: NAME (code): detail".
func (e *StatusError) Error() string {
	s := e.Call + ": "
	if e.Name != "" {
		s += fmt.Sprintf("%s (%d)", e.Name, e.Code)
	} else {
		s += fmt.Sprintf("status %d", e.Code)
	}
	if e.Detail != "" && e.Detail != e.Name {
		s += ": " + e.Detail
	}
	return s
}

// cublasStatusNames are cuBLAS's cublasStatus_t values (cublas_api.h).
var cublasStatusNames = map[int]string{
	0:  "CUBLAS_STATUS_SUCCESS",
	1:  "CUBLAS_STATUS_NOT_INITIALIZED",
	3:  "CUBLAS_STATUS_ALLOC_FAILED",
	7:  "CUBLAS_STATUS_INVALID_VALUE",
	8:  "CUBLAS_STATUS_ARCH_MISMATCH",
	11: "CUBLAS_STATUS_MAPPING_ERROR",
	13: "CUBLAS_STATUS_EXECUTION_FAILED",
	14: "CUBLAS_STATUS_INTERNAL_ERROR",
	15: "CUBLAS_STATUS_NOT_SUPPORTED",
	16: "CUBLAS_STATUS_LICENSE_ERROR",
}

// cuResultNames are the driver's most common CUresult values (cuda.h), the
// fallback when cuGetErrorName itself is unavailable.
var cuResultNames = map[int]string{
	1:   "CUDA_ERROR_INVALID_VALUE",
	2:   "CUDA_ERROR_OUT_OF_MEMORY",
	3:   "CUDA_ERROR_NOT_INITIALIZED",
	4:   "CUDA_ERROR_DEINITIALIZED",
	100: "CUDA_ERROR_NO_DEVICE",
	101: "CUDA_ERROR_INVALID_DEVICE",
	200: "CUDA_ERROR_INVALID_IMAGE",
	201: "CUDA_ERROR_INVALID_CONTEXT",
	209: "CUDA_ERROR_NO_BINARY_FOR_GPU",
	218: "CUDA_ERROR_INVALID_PTX",
	222: "CUDA_ERROR_UNSUPPORTED_PTX_VERSION",
	400: "CUDA_ERROR_INVALID_HANDLE",
	500: "CUDA_ERROR_NOT_FOUND",
	700: "CUDA_ERROR_ILLEGAL_ADDRESS",
	701: "CUDA_ERROR_LAUNCH_OUT_OF_RESOURCES",
	702: "CUDA_ERROR_LAUNCH_TIMEOUT",
	719: "CUDA_ERROR_LAUNCH_FAILED",
	803: "CUDA_ERROR_SYSTEM_DRIVER_MISMATCH",
	804: "CUDA_ERROR_COMPAT_NOT_SUPPORTED_ON_DEVICE",
	999: "CUDA_ERROR_UNKNOWN",
}

// cuError turns a CUresult into an error (nil for CUDA_SUCCESS), naming
// the status with cuGetErrorName and cuGetErrorString when bound.
func (a *api) cuError(call string, r int32) error {
	if r == 0 {
		return nil
	}
	e := &StatusError{Call: call, Code: int(r), Name: cuResultNames[int(r)]}
	if a != nil && a.cuGetErrorName != nil {
		var p *byte
		if a.cuGetErrorName(r, &p) == 0 {
			e.Name = cString(p)
		}
		p = nil
		if a.cuGetErrorString(r, &p) == 0 {
			e.Detail = cString(p)
		}
	}
	return e
}

// cublasError turns a cublasStatus_t into an error (nil for success).
func (a *api) cublasError(call string, s int32) error {
	if s == 0 {
		return nil
	}
	e := &StatusError{Call: call, Code: int(s), Name: cublasStatusNames[int(s)]}
	if a != nil && a.cublasGetStatusString != nil {
		e.Detail = a.cublasGetStatusString(s)
	}
	return e
}

// cudnnError turns a cudnnStatus_t into an error (nil for success);
// cudnnGetErrorString gives the name (e.g. CUDNN_STATUS_BAD_PARAM).
func (a *api) cudnnError(call string, s int32) error {
	if s == 0 {
		return nil
	}
	e := &StatusError{Call: call, Code: int(s)}
	if a != nil && a.cudnnGetErrorString != nil {
		e.Name = a.cudnnGetErrorString(s)
	}
	return e
}

// nvrtcError turns an nvrtcResult into an error (nil for success);
// nvrtcGetErrorString gives the name (e.g. NVRTC_ERROR_COMPILATION).
func (a *api) nvrtcError(call string, s int32) error {
	if s == 0 {
		return nil
	}
	e := &StatusError{Call: call, Code: int(s)}
	if a != nil && a.nvrtcGetErrorString != nil {
		e.Name = a.nvrtcGetErrorString(s)
	}
	return e
}

// cString copies a NUL-terminated C string (nil gives "").
func cString(p *byte) string {
	if p == nil {
		return ""
	}
	n := 0
	for *(*byte)(unsafe.Add(unsafe.Pointer(p), n)) != 0 {
		n++
	}
	return string(unsafe.Slice(p, n))
}

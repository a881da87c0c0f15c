package cuda

import (
	"errors"
	"math"
	"testing"
)

func TestStatusErrors(t *testing.T) {
	// A fake driver whose cuGetErrorName/String answer from Go memory, and
	// fake cuDNN/NVRTC/cuBLAS string functions.
	name, desc := []byte("CUDA_ERROR_ILLEGAL_ADDRESS\x00"), []byte("an illegal memory access was encountered\x00")
	fake := &api{
		cuGetErrorName:        func(r int32, s **byte) int32 { *s = &name[0]; return 0 },
		cuGetErrorString:      func(r int32, s **byte) int32 { *s = &desc[0]; return 0 },
		cudnnGetErrorString:   func(s int32) string { return "CUDNN_STATUS_BAD_PARAM" },
		nvrtcGetErrorString:   func(s int32) string { return "NVRTC_ERROR_COMPILATION" },
		cublasGetStatusString: func(s int32) string { return "the GPU program failed to execute" },
	}
	var none *api // libraries that could not say
	cases := []struct {
		err  error
		want string
	}{
		{fake.cuError("cuLaunchKernel(relu)", 700), "cuLaunchKernel(relu): CUDA_ERROR_ILLEGAL_ADDRESS (700): an illegal memory access was encountered"},
		{none.cuError("cuMemAlloc_v2(64 bytes)", 2), "cuMemAlloc_v2(64 bytes): CUDA_ERROR_OUT_OF_MEMORY (2)"},
		{none.cuError("cuInit", 123456), "cuInit: status 123456"},
		{fake.cublasError("cublasSgemm_v2", 13), "cublasSgemm_v2: CUBLAS_STATUS_EXECUTION_FAILED (13): the GPU program failed to execute"},
		{none.cublasError("cublasCreate_v2", 1), "cublasCreate_v2: CUBLAS_STATUS_NOT_INITIALIZED (1)"},
		{fake.cudnnError("cudnnConvolutionForward", 3), "cudnnConvolutionForward: CUDNN_STATUS_BAD_PARAM (3)"},
		{none.cudnnError("cudnnCreate", 4), "cudnnCreate: status 4"},
		{fake.nvrtcError("nvrtcCompileProgram", 6), "nvrtcCompileProgram: NVRTC_ERROR_COMPILATION (6)"},
	}
	for _, c := range cases {
		if c.err == nil || c.err.Error() != c.want {
			t.Errorf("got %v\nwant %s", c.err, c.want)
		}
		var se *StatusError
		if !errors.As(c.err, &se) {
			t.Errorf("%v is not a *StatusError", c.err)
		}
	}
	for _, err := range []error{fake.cuError("x", 0), none.cublasError("x", 0), none.cudnnError("x", 0), none.nvrtcError("x", 0)} {
		if err != nil {
			t.Errorf("success gave %v", err)
		}
	}
}

func TestBackendRecordsFirstError(t *testing.T) {
	b := &Backend{a: &api{}}
	first := errors.New("first")
	if !b.fail(first) || b.fail(nil) || !b.fail(errors.New("second")) {
		t.Fatal("fail reports whether its error is not nil")
	}
	if !errors.Is(b.Err(), first) {
		t.Errorf("Err() = %v, want the first error", b.Err())
	}
	// Every later call is a no-op (the zero api has no functions: a call
	// would panic), Download gives NaN and the loss is NaN.
	x := DeviceBuffer{n: 3}
	b.Fill(x, 1)
	b.ReLU(x, x)
	dst := []float32{1, 2, 3}
	b.Download(dst, x)
	for _, v := range dst {
		if !math.IsNaN(float64(v)) {
			t.Fatalf("Download after an error gave %v, want NaN", dst)
		}
	}
	if l := b.SoftmaxCrossEntropy(nil, x, []int32{0}, 1, 3, 1); !math.IsNaN(l) {
		t.Errorf("loss after an error = %v, want NaN", l)
	}
}

// Package cuda is the training engine's CUDA backend: an engine.Backend[float32]
// on device memory, with GEMMs through cuBLAS, convolutions through cuDNN and
// every other kernel written in CUDA C (kernels.cu, embedded in the binary)
// and compiled by NVRTC for the device's compute capability on first use.
//
// Nothing here needs cgo, CUDA headers or nvcc at build time: the driver
// (libcuda.so.1), cuBLAS, cuBLASLt, cuDNN and NVRTC are opened at run time
// with purego, so `go build` works on any machine and the backend lights up
// where the libraries are. Load finds and opens them (see Load for the search
// order) and New creates a backend on one device.
//
// What has and has not been run: this package was written on a machine with
// no GPU and no CUDA libraries. Run here: the library search and its
// one-line errors, the status-to-error formatting, the NVRTC cache key, a
// check that every kernel launch matches its kernel's parameters, and an
// emulated device (emu_test.go): kernels.cu compiled as C++ by g++ with
// testdata/emu.h, its blocks run as user-level threads, with the driver,
// cuBLAS and cuDNN replaced by reference fakes that check arguments as the
// libraries document. On it every Backend method, and one whole MoCo step
// of two configurations, agree with the CPU backend (within 1e-5 relative,
// the CPU's own difference between thread counts). NEVER RUN: NVRTC
// compiling kernels.cu, the real driver/cuBLAS/cuDNN/NVRTC bindings
// (signatures checked against the documentation only), cuDNN's algorithm
// search, TF32, anything on a GPU, and any speed. devicecheck.sh runs all of
// that on a GPU machine; until it has passed there, treat the backend as
// untested on hardware.
//
// Not done yet: batches are uploaded synchronously from pageable memory (no
// pinned buffers overlapped with compute); cuBLASLt is opened (cuBLAS needs
// it) but not called; batch norm and pooling are this package's kernels
// rather than cuDNN's, to keep the CPU's exact split batch norm and
// first-maximum pooling. `trainer bench` and `trainer pretrain` take this
// backend through their Backend options (`--device cuda`, or `auto` when it
// opens); that path, too, has never run on a GPU.
//
// Errors: engine.Backend's methods return no errors, so the backend records
// the first failing call (see Backend.Err) and turns every later call into a
// no-op; after a failure Download fills its destination with NaN and
// SoftmaxCrossEntropy returns NaN, so a caller that only watches the loss
// still sees it. Wiring bugs (a buffer from another backend, a slice out of
// range) panic, as they do in the CPU backend.
package cuda

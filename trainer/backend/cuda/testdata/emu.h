// emu.h: just enough of CUDA C's device built-ins for kernels.cu to compile
// as C++ and run on the CPU, for emu_test.go. Each emulated block runs its
// threads as user-level contexts (ucontext) on one OS thread, switching at
// __syncthreads and warp shuffles, so block reductions behave as on a GPU
// (same block size, same shuffle pattern). Floating point follows IEEE with
// no contraction (compiled with -ffp-contract=off), like the __f*_rn
// intrinsics and NVRTC without fast math; exp, log and sqrt are the host
// libm's, which may differ from CUDA's in the last bit.
#pragma once
#include <math.h>
#include <stdint.h>
#include <string.h>

struct dim3 {
    unsigned x, y, z;
};

extern dim3 emu_tidx[1024];
extern int emu_cur;
extern dim3 blockIdx, blockDim, gridDim;
#define threadIdx (emu_tidx[emu_cur])

#define __global__
#define __device__
#define __shared__ static

void __syncthreads();
double emu_shfl_down(double v, int offset);
template <class T>
T __shfl_down_sync(unsigned, T v, int offset) { return (T)emu_shfl_down((double)v, offset); }
double atomicAdd(double* p, double v);

static inline float __fadd_rn(float a, float b) { return a + b; }
static inline float __fsub_rn(float a, float b) { return a - b; }
static inline float __fmul_rn(float a, float b) { return a * b; }
static inline double __longlong_as_double(long long x) {
    double d;
    memcpy(&d, &x, sizeof d);
    return d;
}

// emu_runtime.cpp: the emulator's launcher, memory and reference cuBLAS
// and cuDNN stand-ins (naive loops, double accumulation) for emu_test.go.
#include "emu.h"

#include <stdio.h>
#include <stdlib.h>
#include <ucontext.h>

#include <vector>

struct EmuKernel {
    const char* name;
    void (*call)(void** params);
    bool cooperative;  // uses __syncthreads or shuffles: needs contexts
};
extern const EmuKernel emu_kernels[];
extern const int emu_num_kernels;

dim3 emu_tidx[1024];
int emu_cur;
dim3 blockIdx, blockDim, gridDim;

namespace {

struct Barrier {
    int count = 0, arrived = 0;
    long gen = 0;
};

const size_t kStack = 64 << 10;
ucontext_t sched;
std::vector<ucontext_t> ctx;
std::vector<char> stacks;
std::vector<bool> done;
Barrier block_bar, warp_bar[32];
double shfl[1024];
long progress;
void (*current)(void**);
void** current_params;
bool cooperative;

void yield() { swapcontext(&ctx[emu_cur], &sched); }

void wait(Barrier& b) {
    if (!cooperative) {
        fprintf(stderr, "emu: barrier in a kernel not marked cooperative\n");
        abort();
    }
    long gen = b.gen;
    if (++b.arrived == b.count) {
        b.arrived = 0;
        b.gen++;
        progress++;
        return;
    }
    while (b.gen == gen) yield();
}

void entry() {
    current(current_params);
    done[emu_cur] = true;
    progress++;
}

// run_block runs one block's threads to completion; false on a deadlock.
bool run_block(unsigned bx) {
    block_bar = Barrier{(int)bx};
    for (unsigned w = 0; w < (bx + 31) / 32; w++) warp_bar[w] = Barrier{(int)(bx - 32 * w < 32 ? bx - 32 * w : 32)};
    if (!cooperative) {
        for (unsigned t = 0; t < bx; t++) {
            emu_cur = t;
            current(current_params);
        }
        return true;
    }
    for (unsigned t = 0; t < bx; t++) {
        done[t] = false;
        getcontext(&ctx[t]);
        ctx[t].uc_stack.ss_sp = &stacks[t * kStack];
        ctx[t].uc_stack.ss_size = kStack;
        ctx[t].uc_link = &sched;
        makecontext(&ctx[t], entry, 0);
    }
    for (;;) {
        long before = progress;
        bool alive = false;
        for (unsigned t = 0; t < bx; t++) {
            if (done[t]) continue;
            alive = true;
            emu_cur = t;
            swapcontext(&sched, &ctx[t]);
        }
        if (!alive) return true;
        if (progress == before) return false;
    }
}

}  // namespace

void __syncthreads() { wait(block_bar); }

double emu_shfl_down(double v, int offset) {
    int t = emu_cur, lane = t & 31, w = t >> 5;
    shfl[t] = v;
    wait(warp_bar[w]);
    double r = lane + offset < 32 ? shfl[t + offset] : v;
    wait(warp_bar[w]);
    return r;
}

double atomicAdd(double* p, double v) {  // one OS thread: no race
    double old = *p;
    *p = old + v;
    return old;
}

extern "C" {

// emu_launch runs kernel name; 0 on success, 1 unknown kernel, 2 deadlock.
int emu_launch(const char* name, unsigned gx, unsigned gy, unsigned gz, unsigned bx, void** params) {
    const EmuKernel* k = nullptr;
    for (int i = 0; i < emu_num_kernels; i++)
        if (strcmp(emu_kernels[i].name, name) == 0) k = &emu_kernels[i];
    if (k == nullptr || bx == 0 || bx > 1024) return 1;
    cooperative = k->cooperative;
    current = k->call;
    current_params = params;
    if (ctx.size() < bx) {
        ctx.resize(bx);
        done.resize(bx);
        stacks.assign(bx * kStack, 0);
    }
    gridDim = dim3{gx, gy, gz};
    blockDim = dim3{bx, 1, 1};
    for (unsigned t = 0; t < bx; t++) emu_tidx[t] = dim3{t, 0, 0};
    for (unsigned z = 0; z < gz; z++)
        for (unsigned y = 0; y < gy; y++)
            for (unsigned x = 0; x < gx; x++) {
                blockIdx = dim3{x, y, z};
                if (!run_block(bx)) return 2;
            }
    return 0;
}

uint64_t emu_malloc(uint64_t bytes) { return (uint64_t)aligned_alloc(256, (bytes + 255) / 256 * 256); }
void emu_free(uint64_t p) { free((void*)p); }
void emu_memset32(uint64_t p, uint32_t v, uint64_t n) {
    uint32_t* q = (uint32_t*)p;
    for (uint64_t i = 0; i < n; i++) q[i] = v;
}
void emu_copy_in(uint64_t dst, const void* src, uint64_t n) { memcpy((void*)dst, src, n); }
void emu_copy_out(void* dst, uint64_t src, uint64_t n) { memcpy(dst, (const void*)src, n); }
void emu_copy(uint64_t dst, uint64_t src, uint64_t n) { memmove((void*)dst, (const void*)src, n); }

// emu_sgemm is column-major SGEMM as cuBLAS defines it.
void emu_sgemm(int ta, int tb, int m, int n, int k, float alpha, uint64_t pa, int lda, uint64_t pb, int ldb, float beta, uint64_t pc, int ldc) {
    const float *A = (const float*)pa, *B = (const float*)pb;
    float* C = (float*)pc;
    for (int j = 0; j < n; j++)
        for (int i = 0; i < m; i++) {
            double s = 0;
            for (int l = 0; l < k; l++) {
                double a = ta ? A[l + (long)i * lda] : A[i + (long)l * lda];
                double b = tb ? B[j + (long)l * ldb] : B[l + (long)j * ldb];
                s += a * b;
            }
            float* c = &C[i + (long)j * ldc];
            *c = (float)(alpha * s + (beta == 0 ? 0.0 : (double)beta * *c));
        }
}

// The three convolutions (cross-correlation, NCHW, square kernels), with
// cuDNN's y = alpha·op + beta·y blending.
void emu_conv(int dir, uint64_t px, uint64_t pw, uint64_t py, long N, long C, long H, long W, long OC, long K, long S, long P,
              long OH, long OW, float alpha, float beta) {
    float *x = (float*)px, *w = (float*)pw, *y = (float*)py;
    auto blend = [&](float* dst, double v) { *dst = (float)(alpha * v + (beta == 0 ? 0.0 : (double)beta * *dst)); };
    if (dir == 0) {  // forward: y = conv(x, w)
        for (long n = 0; n < N; n++)
            for (long oc = 0; oc < OC; oc++)
                for (long oh = 0; oh < OH; oh++)
                    for (long ow = 0; ow < OW; ow++) {
                        double s = 0;
                        for (long c = 0; c < C; c++)
                            for (long kh = 0; kh < K; kh++)
                                for (long kw = 0; kw < K; kw++) {
                                    long ih = oh * S - P + kh, iw = ow * S - P + kw;
                                    if (ih >= 0 && ih < H && iw >= 0 && iw < W)
                                        s += (double)x[((n * C + c) * H + ih) * W + iw] * w[((oc * C + c) * K + kh) * K + kw];
                                }
                        blend(&y[((n * OC + oc) * OH + oh) * OW + ow], s);
                    }
        return;
    }
    if (dir == 1) {  // backward data: x = convᵀ(y, w)
        std::vector<double> acc(N * C * H * W, 0.0);
        for (long n = 0; n < N; n++)
            for (long oc = 0; oc < OC; oc++)
                for (long oh = 0; oh < OH; oh++)
                    for (long ow = 0; ow < OW; ow++) {
                        double g = y[((n * OC + oc) * OH + oh) * OW + ow];
                        for (long c = 0; c < C; c++)
                            for (long kh = 0; kh < K; kh++)
                                for (long kw = 0; kw < K; kw++) {
                                    long ih = oh * S - P + kh, iw = ow * S - P + kw;
                                    if (ih >= 0 && ih < H && iw >= 0 && iw < W)
                                        acc[((n * C + c) * H + ih) * W + iw] += g * w[((oc * C + c) * K + kh) * K + kw];
                                }
                    }
        for (long i = 0; i < N * C * H * W; i++) blend(&x[i], acc[i]);
        return;
    }
    // backward filter: w = Σ_n y ⋆ x
    for (long oc = 0; oc < OC; oc++)
        for (long c = 0; c < C; c++)
            for (long kh = 0; kh < K; kh++)
                for (long kw = 0; kw < K; kw++) {
                    double s = 0;
                    for (long n = 0; n < N; n++)
                        for (long oh = 0; oh < OH; oh++)
                            for (long ow = 0; ow < OW; ow++) {
                                long ih = oh * S - P + kh, iw = ow * S - P + kw;
                                if (ih >= 0 && ih < H && iw >= 0 && iw < W)
                                    s += (double)y[((n * OC + oc) * OH + oh) * OW + ow] * x[((n * C + c) * H + ih) * W + iw];
                            }
                    blend(&w[((oc * C + c) * K + kh) * K + kw], s);
                }
}

}  // extern "C"

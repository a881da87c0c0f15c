// Kernels of mocoedge's CUDA backend: everything that is not a GEMM (cuBLAS)
// or a convolution (cuDNN). Compiled at run time by NVRTC for the device's
// architecture; see nvrtc.go. Each kernel mirrors a method of the CPU
// reference backend (trainer/engine/cpu_*.go) and names it.
//
// Conventions: every integer parameter is a 64-bit long long and every
// pointer a device address, so the Go launcher packs each argument into one
// 8-byte slot. Blocks are 256 threads (BLOCK). Elementwise kernels use
// grid-stride loops. Where the CPU sums in float64 these kernels do too,
// and where it multiplies and adds in float32 they use __fmul_rn/__fadd_rn,
// which keeps the compiler from fusing them into an FMA the CPU does not do.
//
// Never compiled by NVRTC nor run on a GPU yet (written without one); run on
// the CPU, as C++, by the emulator of emu_test.go.

typedef long long i64;

#define BLOCK 256
#define NEG_INF __longlong_as_double(0xfff0000000000000ULL) // no <cmath> under NVRTC
#define FOR_EACH(i, n) for (i64 i = (i64)blockIdx.x * blockDim.x + threadIdx.x; i < (n); i += (i64)gridDim.x * blockDim.x)

// block_sum returns the sum of v over the block in thread 0 (other threads
// get partial sums). It may be called repeatedly in one kernel.
__device__ double block_sum(double v) {
    __shared__ double part[BLOCK / 32];
    int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    for (int o = 16; o > 0; o >>= 1) v += __shfl_down_sync(0xffffffffu, v, o);
    if (lane == 0) part[warp] = v;
    __syncthreads();
    v = threadIdx.x < blockDim.x / 32 ? part[threadIdx.x] : 0.0;
    if (warp == 0)
        for (int o = 16; o > 0; o >>= 1) v += __shfl_down_sync(0xffffffffu, v, o);
    __syncthreads();
    return v;
}

// block_max returns the maximum of v over the block in every thread.
__device__ double block_max(double v) {
    __shared__ double part[BLOCK / 32];
    __shared__ double result;
    int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    for (int o = 16; o > 0; o >>= 1) v = fmax(v, __shfl_down_sync(0xffffffffu, v, o));
    if (lane == 0) part[warp] = v;
    __syncthreads();
    if (warp == 0) {
        v = threadIdx.x < blockDim.x / 32 ? part[threadIdx.x] : NEG_INF;
        for (int o = 16; o > 0; o >>= 1) v = fmax(v, __shfl_down_sync(0xffffffffu, v, o));
        if (lane == 0) result = v;
    }
    __syncthreads();
    return result;
}

// ---- elementwise (cpu_elementwise.go) ----

// AddReLU: out = max(0, a+b).
extern "C" __global__ void add_relu(float* out, const float* a, const float* b, i64 n) {
    FOR_EACH(i, n) {
        float v = __fadd_rn(a[i], b[i]);
        out[i] = v > 0.f ? v : 0.f;
    }
}

// ReLU: out = max(0, in).
extern "C" __global__ void relu(float* out, const float* in, i64 n) {
    FOR_EACH(i, n) {
        float v = in[i];
        out[i] = v > 0.f ? v : 0.f;
    }
}

// ReLUBackward: din = dout where out > 0, else 0 (din may be dout).
extern "C" __global__ void relu_backward(float* din, const float* dout, const float* out, i64 n) {
    FOR_EACH(i, n) din[i] = out[i] > 0.f ? dout[i] : 0.f;
}

// Add: dst += src.
extern "C" __global__ void add(float* dst, const float* src, i64 n) {
    FOR_EACH(i, n) dst[i] = __fadd_rn(dst[i], src[i]);
}

// SGDStep, torch.optim.SGD: g = grad + wd·p; v = μ·v + g; p -= lr·v.
extern "C" __global__ void sgd_step(float* p, const float* grad, float* v, float lr, float momentum, float wd, i64 n) {
    FOR_EACH(i, n) {
        float g = __fadd_rn(grad[i], __fmul_rn(wd, p[i]));
        float vi = __fadd_rn(__fmul_rn(momentum, v[i]), g);
        v[i] = vi;
        p[i] = __fsub_rn(p[i], __fmul_rn(lr, vi));
    }
}

// Axpby: y = a·x + b·y (MoCo's momentum update of the key encoder).
extern "C" __global__ void axpby(float a, const float* x, float b, float* y, i64 n) {
    FOR_EACH(i, n) y[i] = __fadd_rn(__fmul_rn(a, x[i]), __fmul_rn(b, y[i]));
}

// ---- linear (cpu_linear.go) ----

// Linear's bias: out[r, j] += bias[j] for rows·cols values.
extern "C" __global__ void bias_add(float* out, const float* bias, i64 rows, i64 cols) {
    FOR_EACH(i, rows * cols) out[i] = __fadd_rn(out[i], bias[i % cols]);
}

// LinearBackward's bias gradient: db[j] += Σ_r dy[r, j], one thread per
// column, rows in order as the CPU adds them.
extern "C" __global__ void bias_grad(float* db, const float* dy, i64 rows, i64 cols) {
    FOR_EACH(j, cols) {
        float acc = db[j];
        for (i64 r = 0; r < rows; r++) acc = __fadd_rn(acc, dy[r * cols + j]);
        db[j] = acc;
    }
}

// ---- pooling (cpu_pool.go) ----

// GlobalAvgPool: out[p] = mean of plane p, summed in double in order.
extern "C" __global__ void global_avg_pool(float* out, const float* in, i64 planes, i64 hw) {
    FOR_EACH(p, planes) {
        double s = 0;
        const float* x = in + p * hw;
        for (i64 i = 0; i < hw; i++) s += (double)x[i];
        out[p] = (float)(s / (double)hw);
    }
}

// GlobalAvgPoolBackward: din[p, i] = dout[p] / hw.
extern "C" __global__ void global_avg_pool_backward(float* din, const float* dout, i64 planes, i64 hw) {
    FOR_EACH(i, planes * hw) din[i] = dout[i / hw] / (float)hw;
}

// argmax_window returns the index in plane of the first maximum of output
// (oh, ow)'s window; padding never wins; -1 if the window is all padding.
__device__ i64 argmax_window(const float* plane, i64 H, i64 W, i64 K, i64 S, i64 P, i64 oh, i64 ow) {
    i64 best = -1;
    for (i64 kh = 0; kh < K; kh++) {
        i64 ih = oh * S - P + kh;
        if (ih < 0 || ih >= H) continue;
        for (i64 kw = 0; kw < K; kw++) {
            i64 iw = ow * S - P + kw;
            if (iw < 0 || iw >= W) continue;
            i64 i = ih * W + iw;
            if (best < 0 || plane[i] > plane[best]) best = i;
        }
    }
    return best;
}

// MaxPool: one thread per output value.
extern "C" __global__ void max_pool(float* out, const float* in, i64 planes, i64 H, i64 W, i64 K, i64 S, i64 P, i64 OH, i64 OW) {
    FOR_EACH(o, planes * OH * OW) {
        i64 p = o / (OH * OW), r = o % (OH * OW);
        const float* plane = in + p * H * W;
        i64 best = argmax_window(plane, H, W, K, S, P, r / OW, r % OW);
        out[o] = best >= 0 ? plane[best] : 0.f;
    }
}

// MaxPoolBackward as a gather: each input value sums the gradients of the
// windows it won, visiting them in the CPU's (oh, ow) order, so the sums
// match the CPU's scatter bit for bit and no atomics are needed.
extern "C" __global__ void max_pool_backward(float* din, const float* dout, const float* in, i64 planes, i64 H, i64 W, i64 K, i64 S, i64 P, i64 OH, i64 OW) {
    FOR_EACH(e, planes * H * W) {
        i64 p = e / (H * W), i = e % (H * W), ih = i / W, iw = i % W;
        const float* plane = in + p * H * W;
        const float* grad = dout + p * OH * OW;
        // Windows containing ih: oh·S − P ≤ ih ≤ oh·S − P + K − 1.
        i64 lo_h = ih + P - K + 1, lo_w = iw + P - K + 1;
        i64 oh0 = lo_h <= 0 ? 0 : (lo_h + S - 1) / S, ow0 = lo_w <= 0 ? 0 : (lo_w + S - 1) / S;
        i64 oh1 = (ih + P) / S, ow1 = (iw + P) / S;
        if (oh1 > OH - 1) oh1 = OH - 1;
        if (ow1 > OW - 1) ow1 = OW - 1;
        float acc = 0.f;
        for (i64 oh = oh0; oh <= oh1; oh++)
            for (i64 ow = ow0; ow <= ow1; ow++)
                if (argmax_window(plane, H, W, K, S, P, oh, ow) == i) acc = __fadd_rn(acc, grad[oh * OW + ow]);
        din[e] = acc;
    }
}

// ---- rows (cpu_loss.go, cpu_rows.go) ----

// row_norm is max(‖row‖, 1e-12) with the squares summed in double in order.
__device__ double row_norm(const float* row, i64 d) {
    double s = 0;
    for (i64 j = 0; j < d; j++) s += (double)row[j] * (double)row[j];
    return fmax(sqrt(s), 1e-12);
}

// L2Normalize: one thread per row (rows are short: the embedding size).
extern "C" __global__ void l2_normalize(float* out, const float* in, i64 n, i64 d) {
    FOR_EACH(r, n) {
        const float* x = in + r * d;
        double inv = 1.0 / row_norm(x, d);
        for (i64 j = 0; j < d; j++) out[r * d + j] = (float)((double)x[j] * inv);
    }
}

// L2NormalizeBackward: din = (dout − y·(y·dout)) / ‖x‖ per row.
extern "C" __global__ void l2_normalize_backward(float* din, const float* dout, const float* in, const float* out, i64 n, i64 d) {
    FOR_EACH(r, n) {
        const float *x = in + r * d, *y = out + r * d, *g = dout + r * d;
        double norm = row_norm(x, d), dot = 0;
        if (norm > 1e-12)
            for (i64 j = 0; j < d; j++) dot += (double)y[j] * (double)g[j];
        for (i64 j = 0; j < d; j++) din[r * d + j] = (float)(((double)g[j] - (double)y[j] * dot) / norm);
    }
}

// RowDot: out[i·stride] = scale·(a[i]·b[i]), the dot in double.
extern "C" __global__ void row_dot(float* out, i64 stride, const float* a, const float* b, i64 n, i64 d, float scale) {
    FOR_EACH(i, n) {
        double s = 0;
        for (i64 j = 0; j < d; j++) s += (double)a[i * d + j] * (double)b[i * d + j];
        out[i * stride] = __fmul_rn((float)s, scale);
    }
}

// RowAxpy: dst[i, :] += (alpha·coef[i·stride])·x[i, :].
extern "C" __global__ void row_axpy(float* dst, float alpha, const float* coef, i64 stride, const float* x, i64 n, i64 d) {
    FOR_EACH(e, n * d) {
        float f = __fmul_rn(alpha, coef[(e / d) * stride]);
        dst[e] = __fadd_rn(dst[e], __fmul_rn(f, x[e]));
    }
}

// SoftmaxCrossEntropy: one block per row. losses[r] = logsumexp(row) −
// row[label] in double; when dlogits is not null it gets
// (softmax − onehot)·scale/n. The host sums losses in row order.
extern "C" __global__ void softmax_xent(float* dlogits, const float* logits, const int* labels, double* losses, i64 n, i64 k, float scale) {
    i64 r = blockIdx.x;
    if (r >= n) return;
    const float* row = logits + r * k;
    double mx = NEG_INF;
    for (i64 j = threadIdx.x; j < k; j += blockDim.x) mx = fmax(mx, (double)row[j]);
    mx = block_max(mx);
    double s = 0;
    for (i64 j = threadIdx.x; j < k; j += blockDim.x) s += exp((double)row[j] - mx);
    s = block_sum(s);
    __shared__ double lse;
    if (threadIdx.x == 0) {
        lse = mx + log(s);
        losses[r] = lse - (double)row[labels[r]];
    }
    __syncthreads();
    if (dlogits == 0) return;
    double g = (double)scale / (double)n;
    int label = labels[r];
    for (i64 j = threadIdx.x; j < k; j += blockDim.x) {
        double p = exp((double)row[j] - lse);
        if (j == label) p -= 1.0;
        dlogits[r * k + j] = (float)(p * g);
    }
}

// ---- batch norm (cpu_batchnorm.go) ----
//
// Statistics are per (split, channel): image n is in split n mod splits. A
// group's values are numbered e in [0, images·HW); e → image sp + (e/HW)·splits,
// position e mod HW. The reductions run on a (C, splits, chunks) grid and
// add each block's double sum into acc with atomicAdd (sm_60+); acc must be
// zeroed first.

__device__ i64 group_images(i64 N, i64 splits, i64 sp) { return (N - sp + splits - 1) / splits; }

__device__ i64 group_offset(i64 e, i64 sp, i64 splits, i64 ch, i64 C, i64 HW) {
    i64 n = sp + (e / HW) * splits;
    return (n * C + ch) * HW + e % HW;
}

// bn_sum: acc[sp·C+ch] += Σ x over the group.
extern "C" __global__ void bn_sum(double* acc, const float* x, i64 N, i64 C, i64 HW, i64 splits) {
    i64 ch = blockIdx.x, sp = blockIdx.y, count = group_images(N, splits, sp) * HW;
    double s = 0;
    for (i64 e = (i64)blockIdx.z * blockDim.x + threadIdx.x; e < count; e += (i64)gridDim.z * blockDim.x)
        s += (double)x[group_offset(e, sp, splits, ch, C, HW)];
    s = block_sum(s);
    if (threadIdx.x == 0) atomicAdd(&acc[sp * C + ch], s);
}

// bn_sqdev: sq[sp·C+ch] += Σ (x − mean)², with the float32 mean the CPU
// uses (mean = sum/count from bn_sum's acc).
extern "C" __global__ void bn_sqdev(double* sq, const double* sum, const float* x, i64 N, i64 C, i64 HW, i64 splits) {
    i64 ch = blockIdx.x, sp = blockIdx.y, count = group_images(N, splits, sp) * HW;
    float mean = (float)(sum[sp * C + ch] / (double)count);
    double s = 0;
    for (i64 e = (i64)blockIdx.z * blockDim.x + threadIdx.x; e < count; e += (i64)gridDim.z * blockDim.x) {
        float d = __fsub_rn(x[group_offset(e, sp, splits, ch, C, HW)], mean);
        s += (double)__fmul_rn(d, d);
    }
    s = block_sum(s);
    if (threadIdx.x == 0) atomicAdd(&sq[sp * C + ch], s);
}

// bn_finalize, one thread per channel: saves mean and 1/std per group,
// writes the affine coefficients coef[2·(sp·C+ch)] = (scale, shift), and
// updates the running statistics with the groups' mean statistics and the
// unbiased variance, PyTorch's momentum convention.
extern "C" __global__ void bn_finalize(float* save_mean, float* save_inv, float* coef, float* run_mean, float* run_var,
                                       const double* sum, const double* sq, const float* gamma, const float* beta,
                                       i64 N, i64 C, i64 HW, i64 splits, double eps, double momentum) {
    FOR_EACH(ch, C) {
        double rm = 0, rv = 0;
        for (i64 sp = 0; sp < splits; sp++) {
            i64 count = group_images(N, splits, sp) * HW;
            double mean = sum[sp * C + ch] / (double)count;
            double var = sq[sp * C + ch] / (double)count;
            double inv = 1.0 / sqrt(var + eps);
            save_mean[sp * C + ch] = (float)mean;
            save_inv[sp * C + ch] = (float)inv;
            rm += mean;
            rv += count > 1 ? sq[sp * C + ch] / (double)(count - 1) : var;
            double scale = (double)gamma[ch] * inv;
            coef[2 * (sp * C + ch)] = (float)scale;
            coef[2 * (sp * C + ch) + 1] = (float)((double)beta[ch] - mean * scale);
        }
        run_mean[ch] = (float)((1 - momentum) * (double)run_mean[ch] + momentum * rm / (double)splits);
        run_var[ch] = (float)((1 - momentum) * (double)run_var[ch] + momentum * rv / (double)splits);
    }
}

// bn_eval_coef: the eval-mode coefficients from the running statistics.
extern "C" __global__ void bn_eval_coef(float* coef, const float* run_mean, const float* run_var, const float* gamma, const float* beta, i64 C, double eps) {
    FOR_EACH(ch, C) {
        double scale = (double)gamma[ch] / sqrt((double)run_var[ch] + eps);
        coef[2 * ch] = (float)scale;
        coef[2 * ch + 1] = (float)((double)beta[ch] - (double)run_mean[ch] * scale);
    }
}

// bn_apply: y = x·scale + shift of x's group (ReLU'd when relu != 0).
extern "C" __global__ void bn_apply(float* y, const float* x, const float* coef, i64 N, i64 C, i64 HW, i64 splits, i64 relu) {
    FOR_EACH(e, N * C * HW) {
        i64 n = e / (C * HW), ch = (e / HW) % C, g = (n % splits) * C + ch;
        float v = __fadd_rn(__fmul_rn(x[e], coef[2 * g]), coef[2 * g + 1]);
        y[e] = relu && !(v > 0.f) ? 0.f : v;
    }
}

// bn_grad_sums: acc[2·(sp·C+ch)] += Σdy and acc[2·(sp·C+ch)+1] += Σdy·(x−μ)
// over the group, dy masked where y <= 0 when y is not null. mu is the saved
// mean per group (train) or the running mean (eval, splits 1).
extern "C" __global__ void bn_grad_sums(double* acc, const float* dy, const float* x, const float* y, const float* mu,
                                        i64 N, i64 C, i64 HW, i64 splits) {
    i64 ch = blockIdx.x, sp = blockIdx.y, count = group_images(N, splits, sp) * HW;
    float m = mu[sp * C + ch];
    double sd = 0, sdx = 0;
    for (i64 e = (i64)blockIdx.z * blockDim.x + threadIdx.x; e < count; e += (i64)gridDim.z * blockDim.x) {
        i64 o = group_offset(e, sp, splits, ch, C, HW);
        if (y != 0 && !(y[o] > 0.f)) continue;
        float d = dy[o];
        sd += (double)d;
        sdx += (double)__fmul_rn(d, __fsub_rn(x[o], m));
    }
    sd = block_sum(sd);
    sdx = block_sum(sdx);
    if (threadIdx.x == 0) {
        atomicAdd(&acc[2 * (sp * C + ch)], sd);
        atomicAdd(&acc[2 * (sp * C + ch) + 1], sdx);
    }
}

// bn_grad_coef, one thread per channel: the input gradient's coefficients
// din = a·dy + b·(x−μ) + c per group into coef[3·g..], and dgamma += Σdy·x̂,
// dbeta += Σdy. inv is the saved 1/std (train) or null (eval: from run_var).
extern "C" __global__ void bn_grad_coef(float* coef, float* dgamma, float* dbeta, const double* acc, const float* gamma,
                                        const float* inv, const float* run_var, i64 N, i64 C, i64 HW, i64 splits,
                                        i64 train, double eps) {
    FOR_EACH(ch, C) {
        double dg = 0, db = 0;
        for (i64 sp = 0; sp < splits; sp++) {
            i64 g = sp * C + ch;
            double is = train ? (double)inv[g] : 1.0 / sqrt((double)run_var[ch] + eps);
            double sum_dy = acc[2 * g], sum_dyxhat = acc[2 * g + 1] * is;
            dg += sum_dyxhat;
            db += sum_dy;
            double gi = (double)gamma[ch] * is, b = 0, c = 0;
            if (train) {
                double m = (double)(group_images(N, splits, sp) * HW);
                b = -gi * is * sum_dyxhat / m;
                c = -gi * sum_dy / m;
            }
            coef[3 * g] = (float)gi;
            coef[3 * g + 1] = (float)b;
            coef[3 * g + 2] = (float)c;
        }
        dgamma[ch] = __fadd_rn(dgamma[ch], (float)dg);
        dbeta[ch] = __fadd_rn(dbeta[ch], (float)db);
    }
}

// bn_grad_apply: din = a·dy + b·(x−μ) + c, dy masked where y <= 0 when y is
// not null.
extern "C" __global__ void bn_grad_apply(float* din, const float* dy, const float* x, const float* y, const float* mu,
                                         const float* coef, i64 N, i64 C, i64 HW, i64 splits) {
    FOR_EACH(e, N * C * HW) {
        i64 n = e / (C * HW), ch = (e / HW) % C, g = (n % splits) * C + ch;
        float d = dy[e];
        if (y != 0 && !(y[e] > 0.f)) d = 0.f;
        float v = __fadd_rn(__fmul_rn(coef[3 * g], d), __fmul_rn(coef[3 * g + 1], __fsub_rn(x[e], mu[g])));
        din[e] = __fadd_rn(v, coef[3 * g + 2]);
    }
}

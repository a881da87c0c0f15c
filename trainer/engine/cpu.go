package engine

import (
	"fmt"
	"runtime"
	"sync"

	"github.com/mocoedge/mocoedge/internal/blas"
)

// Host is the CPU backend's buffer: a plain slice.
type Host[T Float] []T

// Len returns the number of elements.
func (h Host[T]) Len() int { return len(h) }

// HostData returns the slice behind a CPU buffer (nil for a nil buffer). It
// panics when b belongs to another backend: that is a wiring bug.
func HostData[T Float](b Buffer[T]) []T {
	if b == nil {
		return nil
	}
	h, ok := b.(Host[T])
	if !ok {
		panic(fmt.Sprintf("engine: buffer of type %T given to the CPU backend", b))
	}
	return h
}

// CPU is the reference backend: Go kernels split across goroutines, with
// GEMMs through the shared fast GEMM (OpenBLAS or gonum). Its methods split
// work across goroutines themselves; a CPU value is driven from one
// goroutine at a time (it reuses its workspaces between calls).
type CPU[T Float] struct {
	gemm    blas.GEMM
	threads int

	scratch [3][]T    // im2col, GEMM output and column-gradient workspaces
	losses  []float64 // per-row losses of SoftmaxCrossEntropy
}

// colBudget bounds the im2col workspace (elements): big enough for GEMMs with
// thousands of columns, small enough (8 MiB) to stay cache-friendly. Measured
// on resnet18-cifar at batch 128: 2^21 gave 0.60-0.62 of the GEMM peak, 2^20
// 0.615, 2^22 0.55-0.59, 2^23 0.585, 2^24 0.57.
const colBudget = 1 << 21

// NewCPU returns a CPU backend with threads goroutines (0 means
// runtime.NumCPU()) for every kernel. Matrix products are split across the
// same goroutines as single-threaded calls of g (see blas.Threaded), so no
// library thread pool competes with the other kernels for the cores.
func NewCPU[T Float](g blas.GEMM, threads int) *CPU[T] {
	if threads <= 0 {
		threads = runtime.NumCPU()
	}
	if _, ok := g.(*blas.Threaded); !ok {
		g = blas.NewThreaded(g, threads)
	}
	return &CPU[T]{gemm: g, threads: threads}
}

// Name returns "cpu".
func (*CPU[T]) Name() string { return "cpu" }

// Threads returns the number of goroutines kernels are split across.
func (c *CPU[T]) Threads() int { return c.threads }

// GEMM returns the matrix multiply in use.
func (c *CPU[T]) GEMM() blas.GEMM { return c.gemm }

// Alloc returns a zeroed host buffer.
func (*CPU[T]) Alloc(n int) Buffer[T] { return Host[T](make([]T, n)) }

// Slice returns a view into b.
func (*CPU[T]) Slice(b Buffer[T], off, n int) Buffer[T] {
	return Host[T](HostData[T](b)[off : off+n : off+n])
}

// Upload copies src into dst.
func (*CPU[T]) Upload(dst Buffer[T], src []T) { copy(HostData[T](dst), src) }

// Download copies src into dst.
func (*CPU[T]) Download(dst []T, src Buffer[T]) { copy(dst, HostData[T](src)) }

// Copy copies src into dst.
func (*CPU[T]) Copy(dst, src Buffer[T]) { copy(HostData[T](dst), HostData[T](src)) }

// Fill sets every element to v.
func (*CPU[T]) Fill(b Buffer[T], v T) {
	d := HostData[T](b)
	if v == 0 {
		clear(d)
		return
	}
	for i := range d {
		d[i] = v
	}
}

// workspace returns scratch slot i with at least n elements, growing it on
// first use; after the first step nothing is allocated.
func (c *CPU[T]) workspace(i, n int) []T {
	if cap(c.scratch[i]) < n {
		c.scratch[i] = make([]T, n)
	}
	return c.scratch[i][:n]
}

// parallel splits [0,n) into contiguous ranges run on up to c.threads goroutines.
func (c *CPU[T]) parallel(n int, body func(lo, hi int)) {
	parallelFor(c.threads, n, body)
}

func parallelFor(workers, n int, body func(lo, hi int)) {
	if n <= 0 {
		return
	}
	if workers > n {
		workers = n
	}
	if workers <= 1 {
		body(0, n)
		return
	}
	var wg sync.WaitGroup
	chunk := (n + workers - 1) / workers
	for lo := 0; lo < n; lo += chunk {
		hi := min(lo+chunk, n)
		wg.Add(1)
		go func() {
			defer wg.Done()
			body(lo, hi)
		}()
	}
	wg.Wait()
}

// gemm dispatches a row-major C = alpha·op(A)·op(B) + beta·C to the fast
// GEMM at the element type's precision.
func gemm[T Float](g blas.GEMM, transA, transB bool, m, n, k int, alpha T, a []T, lda int, b []T, ldb int, beta T, c []T, ldc int) {
	switch cc := any(c).(type) {
	case []float32:
		g.Sgemm(transA, transB, m, n, k, float32(alpha), any(a).([]float32), lda, any(b).([]float32), ldb, float32(beta), cc, ldc)
	case []float64:
		g.Dgemm(transA, transB, m, n, k, float64(alpha), any(a).([]float64), lda, any(b).([]float64), ldb, float64(beta), cc, ldc)
	default:
		panic(fmt.Sprintf("engine: no GEMM for %T", c))
	}
}

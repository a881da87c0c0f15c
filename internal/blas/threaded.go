package blas

import "sync"

// minSplitFlops is the smallest multiply worth splitting across goroutines.
const minSplitFlops = 1 << 21

// Threaded is a GEMM that splits each multiply into up to Parts pieces
// along the larger of C's two dimensions and runs them on goroutines, each a
// single-threaded call of the wrapped GEMM.
//
// Owning the parallelism matters on small machines: OpenBLAS's own worker
// threads spin (sched_yield) between calls, which steals the cores from the
// engine's other kernels; one-thread calls on our goroutines leave nothing
// spinning. The wrapped GEMM is set to one thread.
type Threaded struct {
	g     GEMM
	parts int
}

// NewThreaded wraps g to split work into parts pieces (parts < 1 means 1).
func NewThreaded(g GEMM, parts int) *Threaded {
	g.SetThreads(1)
	return &Threaded{g: g, parts: max(1, parts)}
}

// Name returns the wrapped backend's name.
func (t *Threaded) Name() string { return t.g.Name() }

// SetThreads changes the number of pieces.
func (t *Threaded) SetThreads(n int) { t.parts = max(1, n) }

// Sgemm computes C = alpha*op(A)*op(B) + beta*C (row-major) in pieces.
func (t *Threaded) Sgemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	split(t.parts, m, n, k, func(i0, i1, j0, j1 int) {
		ao, bo := offsets(transA, transB, i0, j0, lda, ldb)
		t.g.Sgemm(transA, transB, i1-i0, j1-j0, k, alpha, a[ao:], lda, b[bo:], ldb, beta, c[i0*ldc+j0:], ldc)
	})
}

// Dgemm computes C = alpha*op(A)*op(B) + beta*C (row-major) in pieces.
func (t *Threaded) Dgemm(transA, transB bool, m, n, k int, alpha float64, a []float64, lda int, b []float64, ldb int, beta float64, c []float64, ldc int) {
	split(t.parts, m, n, k, func(i0, i1, j0, j1 int) {
		ao, bo := offsets(transA, transB, i0, j0, lda, ldb)
		t.g.Dgemm(transA, transB, i1-i0, j1-j0, k, alpha, a[ao:], lda, b[bo:], ldb, beta, c[i0*ldc+j0:], ldc)
	})
}

// offsets returns where the sub-problem for rows i0.. and columns j0.. of C
// starts in A and B: rows of op(A) and columns of op(B).
func offsets(transA, transB bool, i0, j0, lda, ldb int) (ao, bo int) {
	if transA {
		ao = i0 // op(A) row i is column i of A
	} else {
		ao = i0 * lda
	}
	if transB {
		bo = j0 * ldb // op(B) column j is row j of B
	} else {
		bo = j0
	}
	return ao, bo
}

// split cuts the m×n output into parts blocks of whole rows or whole columns
// (whichever dimension is larger) and runs do on each concurrently.
func split(parts, m, n, k int, do func(i0, i1, j0, j1 int)) {
	if m == 0 || n == 0 {
		return
	}
	if parts <= 1 || 2*m*n*k < minSplitFlops {
		do(0, m, 0, n)
		return
	}
	var wg sync.WaitGroup
	byRows := m >= n
	size := n
	if byRows {
		size = m
	}
	parts = min(parts, size)
	chunk := (size + parts - 1) / parts
	for lo := 0; lo < size; lo += chunk {
		hi := min(lo+chunk, size)
		wg.Add(1)
		go func() {
			defer wg.Done()
			if byRows {
				do(lo, hi, 0, n)
			} else {
				do(0, m, lo, hi)
			}
		}()
	}
	wg.Wait()
}

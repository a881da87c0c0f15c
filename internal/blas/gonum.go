package blas

import (
	gblas "gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"
)

// Gonum is the pure-Go GEMM fallback from gonum.org/v1/gonum/blas/gonum.
// It uses all cores on its own and ignores SetThreads.
type Gonum struct{}

// Name returns "gonum".
func (Gonum) Name() string { return "gonum" }

// SetThreads is a no-op: gonum sizes its own parallelism.
func (Gonum) SetThreads(int) {}

func gonumTranspose(t bool) gblas.Transpose {
	if t {
		return gblas.Trans
	}
	return gblas.NoTrans
}

// Sgemm computes C = alpha*op(A)*op(B) + beta*C in float32 (row-major).
func (Gonum) Sgemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	if m == 0 || n == 0 {
		return
	}
	gonum.Implementation{}.Sgemm(gonumTranspose(transA), gonumTranspose(transB), m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

// Dgemm computes C = alpha*op(A)*op(B) + beta*C in float64 (row-major).
func (Gonum) Dgemm(transA, transB bool, m, n, k int, alpha float64, a []float64, lda int, b []float64, ldb int, beta float64, c []float64, ldc int) {
	if m == 0 || n == 0 {
		return
	}
	gonum.Implementation{}.Dgemm(gonumTranspose(transA), gonumTranspose(transB), m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

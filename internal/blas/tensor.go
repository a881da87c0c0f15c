package blas

import (
	gblas "gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"
	"gorgonia.org/tensor"
)

// TensorBLAS adapts a GEMM to gorgonia.org/tensor's BLAS hook, so that
// tensor's matrix products (MatMul, MatVecMul, Inner) run on the same fast
// GEMM as the engine. Routines other than S/Dgemm come from gonum.
type TensorBLAS struct {
	gonum.Implementation
	gemm GEMM
}

var _ tensor.BLAS = TensorBLAS{}

// ForTensor wraps g for tensor.Use.
func ForTensor(g GEMM) TensorBLAS { return TensorBLAS{gemm: g} }

// UseForTensor routes gorgonia.org/tensor's BLAS through g. The hook is a
// process-wide setting of the tensor library; call it once at start.
func UseForTensor(g GEMM) { tensor.Use(ForTensor(g)) }

// Sgemm implements blas.Float32 through the wrapped GEMM.
func (t TensorBLAS) Sgemm(tA, tB gblas.Transpose, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	t.gemm.Sgemm(tA != gblas.NoTrans, tB != gblas.NoTrans, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

// Dgemm implements blas.Float64 through the wrapped GEMM.
func (t TensorBLAS) Dgemm(tA, tB gblas.Transpose, m, n, k int, alpha float64, a []float64, lda int, b []float64, ldb int, beta float64, c []float64, ldc int) {
	t.gemm.Dgemm(tA != gblas.NoTrans, tB != gblas.NoTrans, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

package blas

import (
	"errors"
	"fmt"
	"runtime"
	"strings"

	"github.com/ebitengine/purego"
)

// CBLAS enum values (cblas.h).
const (
	cblasRowMajor = 101
	cblasNoTrans  = 111
	cblasTrans    = 112
)

// openBLASNames are the sonames tried when no path is given, most specific first.
var openBLASNames = []string{
	"libopenblas.so.0",
	"libopenblas.so",
	"/usr/lib/" + runtime.GOARCH + "-linux-gnu/libopenblas.so.0",
}

// OpenBLAS is the GEMM backed by the OpenBLAS shared library.
type OpenBLAS struct {
	path       string
	sgemm      func(order, transA, transB, m, n, k int32, alpha float32, a *float32, lda int32, b *float32, ldb int32, beta float32, c *float32, ldc int32)
	dgemm      func(order, transA, transB, m, n, k int32, alpha float64, a *float64, lda int32, b *float64, ldb int32, beta float64, c *float64, ldc int32)
	setThreads func(n int32)
}

// openOpenBLAS loads OpenBLAS from path, or from the usual names when path is empty.
func openOpenBLAS(path string) (*OpenBLAS, error) {
	candidates := openBLASNames
	if path != "" {
		candidates = []string{path}
	}
	var errs []string
	for _, name := range candidates {
		h, err := purego.Dlopen(name, purego.RTLD_NOW|purego.RTLD_LOCAL)
		if err != nil {
			errs = append(errs, err.Error())
			continue
		}
		for _, sym := range []string{"cblas_sgemm", "cblas_dgemm", "openblas_set_num_threads"} {
			if _, err := purego.Dlsym(h, sym); err != nil {
				return nil, fmt.Errorf("%s has no symbol %s: %w", name, sym, err)
			}
		}
		ob := &OpenBLAS{path: name}
		purego.RegisterLibFunc(&ob.sgemm, h, "cblas_sgemm")
		purego.RegisterLibFunc(&ob.dgemm, h, "cblas_dgemm")
		purego.RegisterLibFunc(&ob.setThreads, h, "openblas_set_num_threads")
		return ob, nil
	}
	return nil, errors.New(strings.Join(errs, "; "))
}

// Name returns "openblas".
func (*OpenBLAS) Name() string { return "openblas" }

// Path returns the library that was loaded.
func (o *OpenBLAS) Path() string { return o.path }

// SetThreads sets OpenBLAS's thread count for all later calls.
func (o *OpenBLAS) SetThreads(n int) { o.setThreads(int32(n)) }

func cblasTranspose(t bool) int32 {
	if t {
		return cblasTrans
	}
	return cblasNoTrans
}

// Sgemm computes C = alpha*op(A)*op(B) + beta*C in float32 (row-major).
func (o *OpenBLAS) Sgemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	if m == 0 || n == 0 {
		return
	}
	checkGemm(transA, transB, m, n, k, len(a), lda, len(b), ldb, len(c), ldc)
	o.sgemm(cblasRowMajor, cblasTranspose(transA), cblasTranspose(transB), int32(m), int32(n), int32(k),
		alpha, first(a), int32(lda), first(b), int32(ldb), beta, &c[0], int32(ldc))
	runtime.KeepAlive(a)
	runtime.KeepAlive(b)
	runtime.KeepAlive(c)
}

// Dgemm computes C = alpha*op(A)*op(B) + beta*C in float64 (row-major).
func (o *OpenBLAS) Dgemm(transA, transB bool, m, n, k int, alpha float64, a []float64, lda int, b []float64, ldb int, beta float64, c []float64, ldc int) {
	if m == 0 || n == 0 {
		return
	}
	checkGemm(transA, transB, m, n, k, len(a), lda, len(b), ldb, len(c), ldc)
	o.dgemm(cblasRowMajor, cblasTranspose(transA), cblasTranspose(transB), int32(m), int32(n), int32(k),
		alpha, first(a), int32(lda), first(b), int32(ldb), beta, &c[0], int32(ldc))
	runtime.KeepAlive(a)
	runtime.KeepAlive(b)
	runtime.KeepAlive(c)
}

// first returns a pointer to s[0], or nil for an empty slice (k == 0).
func first[T any](s []T) *T {
	if len(s) == 0 {
		return nil
	}
	return &s[0]
}

// checkGemm panics, like gonum does, when a slice is too short for its
// matrix: OpenBLAS would otherwise read or write out of bounds. This is a
// programming error inside the engine, never a user-input error.
func checkGemm(transA, transB bool, m, n, k, la, lda, lb, ldb, lc, ldc int) {
	ar, ac := m, k
	if transA {
		ar, ac = k, m
	}
	br, bc := k, n
	if transB {
		br, bc = n, k
	}
	need := func(rows, cols, ld, have int, what string) {
		if rows == 0 || cols == 0 {
			return
		}
		if ld < cols || (rows-1)*ld+cols > have {
			panic(fmt.Sprintf("blas: %s too short: %dx%d with ld %d needs %d, have %d", what, rows, cols, ld, (rows-1)*ld+cols, have))
		}
	}
	need(ar, ac, lda, la, "A")
	need(br, bc, ldb, lb, "B")
	need(m, n, ldc, lc, "C")
}

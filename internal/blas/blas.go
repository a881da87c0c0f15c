// Package blas provides the single-precision matrix multiply (SGEMM) that the
// training engine and the edge agent share.
//
// The fast path is OpenBLAS, loaded at run time with purego (no cgo, no
// headers at build time); when the library is absent the pure-Go gonum BLAS
// takes over. Load says which one is in use so callers can log it.
package blas

import (
	"fmt"
	"log/slog"
	"os"
	"strings"
)

// Env variables read by Load.
const (
	// EnvBackend forces a backend: "openblas" (fail if missing), "gonum", or "auto".
	EnvBackend = "MOCOEDGE_BLAS"
	// EnvOpenBLASLib names the OpenBLAS shared library to load.
	EnvOpenBLASLib = "MOCOEDGE_OPENBLAS_LIB"
)

// GEMM multiplies row-major matrices: C = alpha*op(A)*op(B) + beta*C, where
// op(X) is X or its transpose, op(A) is m×k, op(B) is k×n and C is m×n.
// Implementations are safe for concurrent use.
type GEMM interface {
	// Name is the backend's name for logs and reports ("openblas", "gonum").
	Name() string
	// Sgemm is the float32 multiply.
	Sgemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int)
	// Dgemm is the float64 multiply, used by the float64 checking path.
	Dgemm(transA, transB bool, m, n, k int, alpha float64, a []float64, lda int, b []float64, ldb int, beta float64, c []float64, ldc int)
	// SetThreads sets how many threads one call may use (n >= 1).
	SetThreads(n int)
}

// Options choose the GEMM backend.
type Options struct {
	// Backend is "auto" (OpenBLAS, else gonum), "openblas" or "gonum"; empty means auto.
	Backend string
	// Library is the OpenBLAS shared library path; empty tries the usual names.
	Library string
	// Threads is the number of threads per call; 0 keeps the library default.
	Threads int
	// Logger receives one line naming the backend in use; nil discards it.
	Logger *slog.Logger
}

// OptionsFromEnv returns Options filled from MOCOEDGE_BLAS and MOCOEDGE_OPENBLAS_LIB.
func OptionsFromEnv() Options {
	return Options{Backend: os.Getenv(EnvBackend), Library: os.Getenv(EnvOpenBLASLib)}
}

// Load opens the GEMM backend that opts asks for. With "auto" a missing
// OpenBLAS is not an error: gonum is returned and the reason is logged.
func Load(opts Options) (GEMM, error) {
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	var g GEMM
	switch strings.ToLower(opts.Backend) {
	case "", "auto":
		ob, err := openOpenBLAS(opts.Library)
		if err != nil {
			log.Warn("OpenBLAS not available, using the slower pure-Go gonum GEMM; install it with `apt-get install libopenblas0`", "reason", err)
			g = Gonum{}
		} else {
			g = ob
		}
	case "openblas":
		ob, err := openOpenBLAS(opts.Library)
		if err != nil {
			return nil, fmt.Errorf("load OpenBLAS (%s=openblas): %w; install it with `apt-get install libopenblas0` or set %s", EnvBackend, err, EnvOpenBLASLib)
		}
		g = ob
	case "gonum":
		g = Gonum{}
	default:
		return nil, fmt.Errorf("unknown GEMM backend %q (%s): accepted are auto, openblas, gonum", opts.Backend, EnvBackend)
	}
	if opts.Threads > 0 {
		g.SetThreads(opts.Threads)
	}
	log.Info("GEMM backend", "backend", g.Name())
	return g, nil
}

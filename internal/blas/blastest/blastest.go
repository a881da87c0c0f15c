// Package blastest gives tests the GEMM backends they hold a kernel to.
package blastest

import (
	"testing"

	"github.com/mocoedge/mocoedge/internal/blas"
)

// Backends loads the pure-Go gonum GEMM and the one blas.Load picks by
// default (OpenBLAS when installed, else gonum again), keyed "gonum/NAME"
// and "auto/NAME"; it fails t when one cannot be loaded.
func Backends(t testing.TB) map[string]blas.GEMM {
	t.Helper()
	out := map[string]blas.GEMM{}
	for _, name := range []string{"gonum", "auto"} {
		g, err := blas.Load(blas.Options{Backend: name})
		if err != nil {
			t.Fatalf("load the %s GEMM: %v", name, err)
		}
		out[name+"/"+g.Name()] = g
	}
	return out
}

package blas

import (
	"math"
	"math/rand/v2"
	"testing"

	"gorgonia.org/tensor"
)

// naiveGemm is the reference: the textbook triple loop in float64.
func naiveGemm(transA, transB bool, m, n, k int, alpha float64, a []float64, lda int, b []float64, ldb int, beta float64, c []float64, ldc int) {
	at := func(i, p int) float64 {
		if transA {
			return a[p*lda+i]
		}
		return a[i*lda+p]
	}
	bt := func(p, j int) float64 {
		if transB {
			return b[j*ldb+p]
		}
		return b[p*ldb+j]
	}
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			var s float64
			for p := 0; p < k; p++ {
				s += at(i, p) * bt(p, j)
			}
			c[i*ldc+j] = alpha*s + beta*c[i*ldc+j]
		}
	}
}

func backends(t *testing.T) []GEMM {
	t.Helper()
	ob, err := Load(Options{Backend: "openblas"})
	if err != nil {
		t.Fatalf("OpenBLAS must be installed for the tests (make test installs libopenblas0): %v", err)
	}
	return []GEMM{ob, Gonum{}}
}

func TestGemmMatchesReference(t *testing.T) {
	cases := []struct {
		name           string
		transA, transB bool
		m, n, k, pad   int
		alpha, beta    float64
	}{
		{"NN", false, false, 7, 5, 3, 0, 1, 0},
		{"NT padded", false, true, 33, 17, 65, 3, 0.5, 1},
		{"TN", true, false, 64, 31, 9, 1, -1, 0.25},
		{"TT", true, true, 5, 70, 40, 2, 2, -1},
		{"k=1", false, false, 16, 16, 1, 0, 1, 1},
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for _, g := range backends(t) {
		for _, tc := range cases {
			t.Run(g.Name()+"/"+tc.name, func(t *testing.T) {
				ar, ac := tc.m, tc.k
				if tc.transA {
					ar, ac = tc.k, tc.m
				}
				br, bc := tc.k, tc.n
				if tc.transB {
					br, bc = tc.n, tc.k
				}
				lda, ldb, ldc := ac+tc.pad, bc+tc.pad, tc.n+tc.pad
				a64 := randSlice(rng, ar*lda)
				b64 := randSlice(rng, br*ldb)
				c64 := randSlice(rng, tc.m*ldc)
				want := append([]float64(nil), c64...)
				naiveGemm(tc.transA, tc.transB, tc.m, tc.n, tc.k, tc.alpha, a64, lda, b64, ldb, tc.beta, want, ldc)

				got64 := append([]float64(nil), c64...)
				g.Dgemm(tc.transA, tc.transB, tc.m, tc.n, tc.k, tc.alpha, a64, lda, b64, ldb, tc.beta, got64, ldc)
				if d := maxDiff(want, got64); d > 1e-12 {
					t.Errorf("Dgemm max diff %g", d)
				}
				got32 := to32(c64)
				g.Sgemm(tc.transA, tc.transB, tc.m, tc.n, tc.k, float32(tc.alpha), to32(a64), lda, to32(b64), ldb, float32(tc.beta), got32, ldc)
				if d := maxDiff(want, to64(got32)); d > 1e-4*float64(tc.k) {
					t.Errorf("Sgemm max diff %g", d)
				}
			})
		}
	}
}

func TestUnknownBackendIsAnError(t *testing.T) {
	if _, err := Load(Options{Backend: "mkl"}); err == nil {
		t.Fatal("want an error for an unknown backend")
	}
	if _, err := Load(Options{Backend: "openblas", Library: "/nonexistent/libopenblas.so"}); err == nil {
		t.Fatal("want an error for a missing OpenBLAS library when openblas is forced")
	}
	g, err := Load(Options{Backend: "auto", Library: "/nonexistent/libopenblas.so"})
	if err != nil || g.Name() != "gonum" {
		t.Fatalf("auto with a missing library must fall back to gonum, got %v, %v", g, err)
	}
}

func TestTensorMatMulUsesHook(t *testing.T) {
	ob := backends(t)[0]
	UseForTensor(ob)
	defer tensor.Use(ForTensor(Gonum{}))
	a := tensor.New(tensor.WithShape(2, 3), tensor.WithBacking([]float32{1, 2, 3, 4, 5, 6}))
	b := tensor.New(tensor.WithShape(3, 2), tensor.WithBacking([]float32{7, 8, 9, 10, 11, 12}))
	c, err := tensor.MatMul(a, b)
	if err != nil {
		t.Fatal(err)
	}
	want := []float32{58, 64, 139, 154}
	for i, v := range c.Data().([]float32) {
		if v != want[i] {
			t.Fatalf("MatMul = %v, want %v", c.Data(), want)
		}
	}
}

func BenchmarkSgemm1024(b *testing.B) {
	for _, name := range []string{"openblas", "gonum"} {
		g, err := Load(Options{Backend: name})
		if err != nil {
			b.Fatal(err)
		}
		b.Run(name, func(b *testing.B) {
			n := 1024
			x := to32(randSlice(rand.New(rand.NewPCG(3, 4)), n*n))
			c := make([]float32, n*n)
			for i := 0; i < b.N; i++ {
				g.Sgemm(false, false, n, n, n, 1, x, n, x, n, 0, c, n)
			}
			b.ReportMetric(2*float64(n*n*n)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
}

func randSlice(rng *rand.Rand, n int) []float64 {
	s := make([]float64, n)
	for i := range s {
		s[i] = rng.Float64()*2 - 1
	}
	return s
}

func to32(s []float64) []float32 {
	o := make([]float32, len(s))
	for i, v := range s {
		o[i] = float32(v)
	}
	return o
}

func to64(s []float32) []float64 {
	o := make([]float64, len(s))
	for i, v := range s {
		o[i] = float64(v)
	}
	return o
}

func maxDiff(a, b []float64) float64 {
	var d float64
	for i := range a {
		d = math.Max(d, math.Abs(a[i]-b[i]))
	}
	return d
}

func TestThreadedMatchesReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 9))
	for _, g := range backends(t) {
		th := NewThreaded(g, 3)
		for _, tc := range []struct {
			transA, transB bool
			m, n, k        int
		}{
			{false, false, 300, 70, 90}, {true, false, 70, 301, 64}, {false, true, 129, 250, 33}, {true, true, 257, 255, 40},
		} {
			ar, ac := tc.m, tc.k
			if tc.transA {
				ar, ac = tc.k, tc.m
			}
			br, bc := tc.k, tc.n
			if tc.transB {
				br, bc = tc.n, tc.k
			}
			a, b, c := randSlice(rng, ar*ac), randSlice(rng, br*bc), randSlice(rng, tc.m*tc.n)
			want := append([]float64(nil), c...)
			naiveGemm(tc.transA, tc.transB, tc.m, tc.n, tc.k, 1.5, a, ac, b, bc, 0.5, want, tc.n)
			got := append([]float64(nil), c...)
			th.Dgemm(tc.transA, tc.transB, tc.m, tc.n, tc.k, 1.5, a, ac, b, bc, 0.5, got, tc.n)
			if d := maxDiff(want, got); d > 1e-11 {
				t.Errorf("%s %+v: Dgemm max diff %g", g.Name(), tc, d)
			}
			got32 := to32(c)
			th.Sgemm(tc.transA, tc.transB, tc.m, tc.n, tc.k, 1.5, to32(a), ac, to32(b), bc, 0.5, got32, tc.n)
			if d := maxDiff(want, to64(got32)); d > 1e-3 {
				t.Errorf("%s %+v: Sgemm max diff %g", g.Name(), tc, d)
			}
		}
		g.SetThreads(2)
	}
}

package probe

import (
	"math"

	"github.com/mocoedge/mocoedge/internal/blas"
)

// objective is the class-balanced, L2-regularised softmax cross-entropy of
// a linear model over a fixed set of examples. The parameters θ are laid
// out as W (c×d, row-major) followed by b (c). Buffers are allocated once;
// an objective is not safe for concurrent use.
type objective struct {
	x       []float32 // n×d features, row-major (L2-normalised by the caller)
	y       []int     // class of each row, in [0, c)
	weight  []float64 // per-example weight; they sum to 1
	n, d, c int
	l2      float64
	gemm    blas.GEMM

	w32 []float32 // c×d: W as the products see it
	z   []float32 // n×c: logits without the bias, then ∂L/∂logits
	gw  []float32 // c×d: Gᵀ·X
}

// newObjective prepares the loss over rows x (n×d) with classes y among c.
// With balance, each example of class k weighs 1/(C'·count_k), C' being the
// number of classes present; otherwise every example weighs 1/n.
func newObjective(x []float32, y []int, n, d, c int, l2 float64, balance bool, g blas.GEMM) *objective {
	o := &objective{
		x: x, y: y, n: n, d: d, c: c, l2: l2, gemm: g,
		weight: make([]float64, n),
		w32:    make([]float32, c*d),
		z:      make([]float32, n*c),
		gw:     make([]float32, c*d),
	}
	counts := make([]int, c)
	for _, k := range y {
		counts[k]++
	}
	present := 0
	for _, k := range counts {
		if k > 0 {
			present++
		}
	}
	for i, k := range y {
		if balance {
			o.weight[i] = 1 / float64(present*counts[k])
		} else {
			o.weight[i] = 1 / float64(n)
		}
	}
	return o
}

// size is the number of parameters, c·d + c.
func (o *objective) size() int { return o.c*o.d + o.c }

// eval returns L(θ) and writes ∂L/∂θ into grad.
func (o *objective) eval(theta, grad []float64) float64 {
	c, d, cd := o.c, o.d, o.c*o.d
	for i, v := range theta[:cd] {
		o.w32[i] = float32(v)
	}
	bias := theta[cd:]
	// z (n×c) = X (n×d) · Wᵀ (d×c)
	o.gemm.Sgemm(false, true, o.n, c, d, 1, o.x, d, o.w32, d, 0, o.z, c)

	gb := grad[cd:]
	clear(gb)
	logits := make([]float64, c)
	var loss float64
	for i := range o.n {
		row := o.z[i*c : (i+1)*c]
		lse := logSumExp(logits, row, bias)
		y, w := o.y[i], o.weight[i]
		loss += w * (lse - logits[y])
		for j, l := range logits {
			g := math.Exp(l - lse)
			if j == y {
				g--
			}
			g *= w
			row[j] = float32(g)
			gb[j] += g
		}
	}
	// gW (c×d) = Gᵀ (c×n) · X (n×d)
	o.gemm.Sgemm(true, false, c, d, o.n, 1, o.z, c, o.x, d, 0, o.gw, d)

	var reg float64
	for i, v := range theta[:cd] {
		reg += v * v
		grad[i] = float64(o.gw[i]) + o.l2*v
	}
	return loss + 0.5*o.l2*reg
}

// logSumExp fills logits with row + bias in float64 and returns
// log Σ exp(logits).
func logSumExp(logits []float64, row []float32, bias []float64) float64 {
	m := math.Inf(-1)
	for j, z := range row {
		logits[j] = float64(z) + bias[j]
		m = max(m, logits[j])
	}
	var s float64
	for _, l := range logits {
		s += math.Exp(l - m)
	}
	return m + math.Log(s)
}

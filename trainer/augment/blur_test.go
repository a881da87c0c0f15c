package augment

import (
	"math"
	"testing"
)

func TestBoxRadius(t *testing.T) {
	tests := []struct {
		sigma float32
		want  float64
	}{
		// sigma^2/3 = 4/3: L = sqrt(17), l = 1, a = 3(2-4)/(6(4/3-4)) = 0.375.
		{2, 1.375},
		// sigma^2/3 = 1/3: L = sqrt(5), l = 0, a = (0-1)/(6(1/3-1)) = 0.25.
		{1, 0.25},
		// sigma^2/3 = 3: L = sqrt(37), l = 2, a = 5(6-9)/(6(3-9)) = 15/36.
		{3, 2 + 15.0/36},
	}
	for _, tt := range tests {
		if got := boxRadius(tt.sigma, 3); math.Abs(float64(got)-tt.want) > 1e-6 {
			t.Errorf("boxRadius(%v) = %v, want %v", tt.sigma, got, tt.want)
		}
	}
}

// onePass runs a single box pass over v.
func onePass(v []float32, l int, ww, fw float32) []float32 {
	out := make([]float32, len(v))
	last := len(v) - 1
	at := func(i int) float32 { return v[min(max(i, 0), last)] }
	for x := range v {
		var acc float32
		for k := -l; k <= l; k++ {
			acc += at(x + k)
		}
		out[x] = acc*ww + (at(x-l-1)+at(x+l+1))*fw
	}
	return out
}

func TestBlurOnePassHandComputed(t *testing.T) {
	// One pass of radius 0.25 (l = 0) on [0 0 1 0 0]: the centre keeps
	// 1/(2r+1) = 2/3, each neighbour gets fw = (1 - 2/3)/2 = 1/6.
	r := float32(0.25)
	ww := 1 / (2*r + 1)
	v := onePass([]float32{0, 0, 1, 0, 0}, 0, ww, (1-ww)/2)
	closeTo(t, "one pass", v, []float32{0, 1.0 / 6, 2.0 / 3, 1.0 / 6, 0}, 1e-6)
	// Three passes are the single pass three times.
	three := onePass(onePass(v, 0, ww, (1-ww)/2), 0, ww, (1-ww)/2)
	got := []float32{0, 0, 1, 0, 0}
	boxPasses(got, 1, 5, 0, ww, (1-ww)/2, make([]float32, 14))
	closeTo(t, "three passes", got, three, 1e-7)

	// Edges repeat: [1 0 0] with l = 1, r = 1.375: x=0 sums in[-1..1] =
	// 1+1+0 with weight 1/3.75 and the far pair in[-2], in[2] = 1+0 with
	// weight (1 - 3/3.75)/2; x=2 sums in[1..3] = 0 and the far pair
	// in[0], in[4] = 1+0.
	r = 1.375
	ww = 1 / (2*r + 1)
	fw := (1 - 3*ww) / 2
	v = onePass([]float32{1, 0, 0}, 1, ww, fw)
	closeTo(t, "edge", v, []float32{2*ww + fw, ww + fw, fw}, 1e-6)
}

func TestBlurVarianceIsSigmaSquared(t *testing.T) {
	// The extended box filter is built so that three passes have variance
	// sigma^2 exactly: blur an impulse far from the edges and measure.
	for _, sigma := range []float32{0.1, 0.5, 1, 1.7, 2} {
		n := 41
		m := NewImage(n, n)
		for c := range 3 {
			m.Plane(c)[20*n+20] = 1
		}
		BlurSigma(m, sigma)
		p := m.Plane(1)
		var sum, varX, varY float64
		for y := range n {
			for x := range n {
				v := float64(p[y*n+x])
				sum += v
				varX += v * float64((x-20)*(x-20))
				varY += v * float64((y-20)*(y-20))
			}
		}
		if math.Abs(sum-1) > 1e-5 {
			t.Errorf("sigma %v: mass %v, want 1", sigma, sum)
		}
		want := float64(sigma * sigma)
		if math.Abs(varX-want) > 1e-4*max(1, want) || math.Abs(varY-want) > 1e-4*max(1, want) {
			t.Errorf("sigma %v: variance %v x %v y, want %v", sigma, varX, varY, want)
		}
	}
}

func TestBlurKeepsConstant(t *testing.T) {
	m := NewImage(5, 9)
	for i := range m.Pix {
		m.Pix[i] = 0.625
	}
	BlurSigma(m, 2)
	for i, v := range m.Pix {
		if math.Abs(float64(v)-0.625) > 1e-6 {
			t.Fatalf("value %d = %v, want 0.625", i, v)
		}
	}
}

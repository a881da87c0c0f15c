package augment

import (
	"math/rand/v2"
	"testing"
)

func TestColorOpsHandComputed(t *testing.T) {
	// A 1x2 image: pixel 0 = (0.2, 0.4, 0.8), pixel 1 = (1, 0.5, 0).
	r, g, b := []float32{0.2, 1}, []float32{0.4, 0.5}, []float32{0.8, 0}
	luma0 := float32(0.299*0.2 + 0.587*0.4 + 0.114*0.8) // 0.3858
	luma1 := float32(0.299*1 + 0.587*0.5)               // 0.5925
	mean := (luma0 + luma1) / 2
	tests := []struct {
		name string
		op   func(*Image)
		want []float32 // R plane, G plane, B plane
	}{
		{"brightness 1.5 clamps at 1", func(m *Image) { AdjustBrightness(m, 1.5) },
			[]float32{0.3, 1, 0.6, 0.75, 1, 0}},
		{"brightness 0 is black", func(m *Image) { AdjustBrightness(m, 0) },
			[]float32{0, 0, 0, 0, 0, 0}},
		{"grayscale uses 0.299 0.587 0.114", Grayscale,
			[]float32{luma0, luma1, luma0, luma1, luma0, luma1}},
		{"saturation 0 is grayscale", func(m *Image) { AdjustSaturation(m, 0) },
			[]float32{luma0, luma1, luma0, luma1, luma0, luma1}},
		{"saturation 2 pushes away from grey", func(m *Image) { AdjustSaturation(m, 2) },
			[]float32{2*0.2 - luma0, 1, 2*0.4 - luma0, 2*0.5 - luma1, 1, 0}}, // 2*0.8-luma0 clamps to 1
		{"contrast 0.5 halves the way to the mean grey", func(m *Image) { AdjustContrast(m, 0.5) },
			[]float32{0.5*0.2 + 0.5*mean, 0.5*1 + 0.5*mean, 0.5*0.4 + 0.5*mean, 0.5*0.5 + 0.5*mean, 0.5*0.8 + 0.5*mean, 0.5 * mean}},
		{"flip", HFlip,
			[]float32{1, 0.2, 0.5, 0.4, 0, 0.8}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := imageOf(1, 2, r, g, b)
			tt.op(m)
			closeTo(t, tt.name, m.Pix, tt.want, 1e-6)
		})
	}
}

func TestFlipRows(t *testing.T) {
	m := imageOf(2, 3, []float32{1, 2, 3, 4, 5, 6}, []float32{7, 8, 9, 10, 11, 12}, []float32{0, 0, 1, 0, 0, 1})
	HFlip(m)
	closeTo(t, "flip", m.Pix, []float32{3, 2, 1, 6, 5, 4, 9, 8, 7, 12, 11, 10, 1, 0, 0, 1, 0, 0}, 0)
}

func TestAdjustHue(t *testing.T) {
	tests := []struct {
		name    string
		rgb     [3]float32
		shift   float32
		wantRGB [3]float32
	}{
		{"red +1/3 is green", [3]float32{1, 0, 0}, 1.0 / 3, [3]float32{0, 1, 0}},
		{"red -1/3 is blue", [3]float32{1, 0, 0}, -1.0 / 3, [3]float32{0, 0, 1}},
		// (1, .5, 0) has hue 1/12; +0.5 gives 7/12: sector 3, f = 0.5.
		{"orange +1/2 is azure", [3]float32{1, 0.5, 0}, 0.5, [3]float32{0, 0.5, 1}},
		{"grey is unchanged", [3]float32{0.3, 0.3, 0.3}, 0.25, [3]float32{0.3, 0.3, 0.3}},
		// Value and saturation are kept: (0.5, 0.25, 0.25) +1/2 -> (0.25, 0.5, 0.5).
		{"dark red +1/2 is dark cyan", [3]float32{0.5, 0.25, 0.25}, 0.5, [3]float32{0.25, 0.5, 0.5}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := imageOf(1, 1, tt.rgb[:1], tt.rgb[1:2], tt.rgb[2:])
			AdjustHue(m, tt.shift)
			closeTo(t, "hue", m.Pix, tt.wantRGB[:], 1e-6)
		})
	}
}

func TestHueRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	n := 1000
	m := NewImage(1, n)
	for i := range m.Pix {
		m.Pix[i] = rng.Float32()
	}
	orig := append([]float32(nil), m.Pix...)
	AdjustHue(m, 0)
	closeTo(t, "hue 0", m.Pix, orig, 1e-6)
	AdjustHue(m, 0.3)
	AdjustHue(m, -0.3)
	closeTo(t, "hue +0.3 -0.3", m.Pix, orig, 1e-5)
}

func TestColorJitterParams(t *testing.T) {
	j := ColorJitter{Brightness: 0.4, Contrast: 0.4, Saturation: 0.4, Hue: 0.1}
	rng := rand.New(rand.NewPCG(7, 7))
	seen := map[[4]int]bool{}
	for range 2000 {
		p := j.Params(rng)
		seen[p.Order] = true
		for _, f := range []float32{p.Brightness, p.Contrast, p.Saturation} {
			if f < 0.6 || f > 1.4 {
				t.Fatalf("factor %v outside [0.6, 1.4]", f)
			}
		}
		if p.Hue < -0.1 || p.Hue > 0.1 || p.Enabled != [4]bool{true, true, true, true} {
			t.Fatalf("params %+v", p)
		}
	}
	if len(seen) != 24 {
		t.Errorf("%d of the 24 orders drawn", len(seen))
	}
	// Brightness above 1 gives a lower bound of 0.
	if p := (ColorJitter{Brightness: 3}).Params(rng); p.Brightness < 0 || p.Brightness > 4 || p.Enabled[1] {
		t.Errorf("params %+v", p)
	}
}

func TestColorJitterAppliesDrawnParams(t *testing.T) {
	j := ColorJitter{Brightness: 0.4, Contrast: 0.4, Saturation: 0.4, Hue: 0.1}
	src := NewImage(4, 4)
	rng := rand.New(rand.NewPCG(2, 2))
	for i := range src.Pix {
		src.Pix[i] = rng.Float32()
	}
	got := imageOf(4, 4, src.Plane(0), src.Plane(1), src.Plane(2))
	j.Apply(got, rand.New(rand.NewPCG(11, 12)))

	p := j.Params(rand.New(rand.NewPCG(11, 12)))
	want := imageOf(4, 4, src.Plane(0), src.Plane(1), src.Plane(2))
	for _, op := range p.Order {
		switch op {
		case 0:
			AdjustBrightness(want, p.Brightness)
		case 1:
			AdjustContrast(want, p.Contrast)
		case 2:
			AdjustSaturation(want, p.Saturation)
		case 3:
			AdjustHue(want, p.Hue)
		}
	}
	closeTo(t, "jitter", got.Pix, want.Pix, 0)
}

func TestRandomProbabilities(t *testing.T) {
	tests := []struct {
		name string
		t    Transform
		p    float64
	}{
		{"grayscale 0.2", RandomGrayscale{P: 0.2}, 0.2},
		{"flip 0.5", RandomHorizontalFlip{P: 0.5}, 0.5},
		{"apply 0.8", RandomApply{P: 0.8, T: transformFunc(HFlip)}, 0.8},
		{"never", RandomHorizontalFlip{P: 0}, 0},
		{"always", RandomApply{P: 1, T: transformFunc(HFlip)}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(3, 3))
			changed, n := 0, 20000
			for range n {
				m := imageOf(1, 2, []float32{0, 1}, []float32{1, 1}, []float32{0.5, 0.5})
				tt.t.Apply(m, rng)
				if m.Pix[0] != 0 || m.Pix[2] != 1 {
					changed++
				}
			}
			if got := float64(changed) / float64(n); got < tt.p-0.015 || got > tt.p+0.015 {
				t.Errorf("applied %.3f of the time, want %.2f", got, tt.p)
			}
		})
	}
}

// transformFunc makes a deterministic operation a Transform.
type transformFunc func(*Image)

func (f transformFunc) Apply(m *Image, _ *rand.Rand) { f(m) }

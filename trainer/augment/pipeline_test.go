package augment

import (
	"math/rand/v2"
	"testing"
)

func TestPipelineFixedSteps(t *testing.T) {
	// A 4x4 image; crop box (1,0) 2x2 resized to 4x4, brightness 1.5,
	// grayscale, flip, normalise with mean 0.5 std 0.25: checked against
	// the hand-computed crop of TestResizedCropHandComputed.
	src := hwc(4, 4,
		func(y, x int) uint8 { return uint8(10*y + x) },
		func(y, x int) uint8 { return uint8(100 + x) },
		func(y, x int) uint8 { return 200 })
	crop := fixedCrop{top: 1, left: 0, h: 2, w: 2, out: 4}
	steps := []Transform{
		transformFunc(func(m *Image) { AdjustBrightness(m, 1.5) }),
		transformFunc(Grayscale),
		transformFunc(HFlip),
	}
	p, err := NewPipeline(crop, steps, [3]float32{0.5, 0.5, 0.5}, [3]float32{0.25, 0.25, 0.25})
	if err != nil {
		t.Fatal(err)
	}
	dst := make([]float32, p.ViewLen())
	if err := p.Apply(dst, src, 4, 4, nil, nil); err != nil {
		t.Fatal(err)
	}
	r := []float32{10, 10.25, 10.75, 11, 12.5, 12.75, 13.25, 13.5, 17.5, 17.75, 18.25, 18.5, 20, 20.25, 20.75, 21}
	g := []float32{100, 100.25, 100.75, 101}
	want := make([]float32, 48)
	for y := range 4 {
		for x := range 4 {
			rv := min(1.5*r[4*y+x]/255, 1)
			gv := min(1.5*g[x]/255, 1)
			bv := min(float32(1.5*200.0/255), 1)
			l := (0.299*rv + 0.587*gv + 0.114*bv - 0.5) / 0.25
			for c := range 3 {
				want[c*16+4*y+(3-x)] = l // flipped
			}
		}
	}
	closeTo(t, "pipeline", dst, want, 2e-6)
}

// fixedCrop is a Cropper with a fixed box.
type fixedCrop struct{ top, left, h, w, out int }

func (c fixedCrop) Crop(dst *Image, pix []uint8, h, w int, _ *rand.Rand) error {
	return ResizedCrop(dst, pix, h, w, c.top, c.left, c.h, c.w, c.out, c.out)
}

func (c fixedCrop) OutputSize() (int, int) { return c.out, c.out }

func TestTwoViewsDiffer(t *testing.T) {
	p, err := MoCoV2Config(32, [3]float32{0.5, 0.5, 0.5}, [3]float32{0.25, 0.25, 0.25}).Build()
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 1))
	src := hwc(32, 32,
		func(y, x int) uint8 { return uint8(rng.IntN(256)) },
		func(y, x int) uint8 { return uint8(8 * x) },
		func(y, x int) uint8 { return uint8(8 * y) })
	q, k := make([]float32, p.ViewLen()), make([]float32, p.ViewLen())
	if err := p.TwoViews(q, k, src, 32, 32, SampleRNG(5, 0, 3), nil); err != nil {
		t.Fatal(err)
	}
	same := true
	for i := range q {
		same = same && q[i] == k[i]
	}
	if same {
		t.Error("query and key views are identical")
	}
	// The same seed reproduces both views.
	q2, k2 := make([]float32, p.ViewLen()), make([]float32, p.ViewLen())
	if err := p.TwoViews(q2, k2, src, 32, 32, SampleRNG(5, 0, 3), &Image{}); err != nil {
		t.Fatal(err)
	}
	closeTo(t, "q again", q2, q, 0)
	closeTo(t, "k again", k2, k, 0)
}

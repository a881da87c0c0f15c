package imaging_test

import (
	"image"
	"image/color"
	"math"
	"math/rand/v2"
	"testing"
)

// randomRGB returns an h×w packed RGB image of smooth gradients plus noise,
// so that resampling errors show.
func randomRGB(seed uint64, h, w int) []uint8 {
	rng := rand.New(rand.NewPCG(seed, 1))
	pix := make([]uint8, 3*h*w)
	for y := range h {
		for x := range w {
			for c := range 3 {
				v := 128 + 100*math.Sin(float64(x*(c+1))/7+float64(y)/5) + rng.NormFloat64()*20
				pix[3*(y*w+x)+c] = uint8(max(0, min(255, v)))
			}
		}
	}
	return pix
}

// sameBits fails the test at the first value whose bits differ.
func sameBits(t *testing.T, what string, got, want []float32) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, want %d", what, len(got), len(want))
	}
	for i := range got {
		if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
			t.Fatalf("%s: value %d is %v, want %v (bit-exact)", what, i, got[i], want[i])
		}
	}
}

// referenceRGB is `trainer embed`'s decodeRGB conversion, pixel by pixel
// through the image's own accessors.
func referenceRGB(img image.Image) []uint8 {
	b := img.Bounds()
	var pix []uint8
	ycc, isYCbCr := img.(*image.YCbCr)
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			if isYCbCr {
				yi, ci := ycc.YOffset(x, y), ycc.COffset(x, y)
				r, g, bl := color.YCbCrToRGB(ycc.Y[yi], ycc.Cb[ci], ycc.Cr[ci])
				pix = append(pix, r, g, bl)
				continue
			}
			c := color.NRGBAModel.Convert(img.At(x, y)).(color.NRGBA)
			pix = append(pix, c.R, c.G, c.B)
		}
	}
	return pix
}

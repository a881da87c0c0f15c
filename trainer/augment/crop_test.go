package augment

import (
	"math"
	"math/rand/v2"
	"testing"
)

func TestRandomResizedCropParams(t *testing.T) {
	rrc := RandomResizedCrop{Height: 32, Width: 32, Scale: [2]float64{0.2, 1}, Ratio: defaultRatio()}
	rng := rand.New(rand.NewPCG(1, 1))
	for range 2000 {
		top, left, h, w := rrc.Params(32, 48, rng)
		if top < 0 || left < 0 || h <= 0 || w <= 0 || top+h > 32 || left+w > 48 {
			t.Fatalf("box %d,%d %dx%d outside 32x48", top, left, h, w)
		}
		// Rounding to whole pixels moves area and ratio a little.
		area := float64(h*w) / (32 * 48)
		ratio := float64(w) / float64(h)
		if area < 0.2*0.8 || area > 1 || ratio < 0.75*0.8 || ratio > 4.0/3*1.25 {
			t.Fatalf("box %dx%d: area fraction %.3f, ratio %.3f", h, w, area, ratio)
		}
	}
}

func TestRandomResizedCropFallback(t *testing.T) {
	tests := []struct {
		name         string
		h, w         int
		ratio        [2]float64
		wantTop      int
		wantLeft     int
		wantH, wantW int
	}{
		// Ratio 2 never fits a full-area box, so the ten tries fail and the
		// centre crop is taken: the image is narrower than the ratio, so
		// w = 32 and h = round(32/2).
		{"too narrow", 32, 32, [2]float64{2, 2}, 8, 0, 16, 32},
		// The image is wider than ratio 1/2 allows: h = 32, w = round(32*0.5).
		{"too wide", 32, 32, [2]float64{0.5, 0.5}, 0, 8, 32, 16},
		// Python's round halves to even: 15/2 = 7.5 -> 8, so w = 8.
		{"round half to even", 15, 15, [2]float64{0.5, 0.5}, 0, 3, 15, 8},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rrc := RandomResizedCrop{Height: 8, Width: 8, Scale: [2]float64{1, 1}, Ratio: tt.ratio}
			top, left, h, w := rrc.Params(tt.h, tt.w, rand.New(rand.NewPCG(5, 6)))
			if top != tt.wantTop || left != tt.wantLeft || h != tt.wantH || w != tt.wantW {
				t.Fatalf("box %d,%d %dx%d, want %d,%d %dx%d", top, left, h, w, tt.wantTop, tt.wantLeft, tt.wantH, tt.wantW)
			}
		})
	}
}

func TestRandomResizedCropDrawsLikeTorchvision(t *testing.T) {
	// Replay the draws by hand for one seed: area fraction, log-uniform
	// ratio, Python round, then top and left.
	rrc := RandomResizedCrop{Height: 32, Width: 32, Scale: [2]float64{0.2, 1}, Ratio: defaultRatio()}
	top, left, h, w := rrc.Params(32, 32, rand.New(rand.NewPCG(9, 9)))
	rng := rand.New(rand.NewPCG(9, 9))
	target := 1024 * (0.2 + 0.8*rng.Float64())
	lo, hi := math.Log(0.75), math.Log(4.0/3)
	aspect := math.Exp(lo + (hi-lo)*rng.Float64())
	ww := int(math.RoundToEven(math.Sqrt(target * aspect)))
	hh := int(math.RoundToEven(math.Sqrt(target / aspect)))
	if ww > 32 || hh > 32 {
		t.Skip("first try did not fit for this seed")
	}
	wantTop, wantLeft := rng.IntN(32-hh+1), rng.IntN(32-ww+1)
	if top != wantTop || left != wantLeft || h != hh || w != ww {
		t.Fatalf("box %d,%d %dx%d, want %d,%d %dx%d", top, left, h, w, wantTop, wantLeft, hh, ww)
	}
}

func TestRandomResizedCropZeroValueDefaults(t *testing.T) {
	rrc := RandomResizedCrop{Height: 8, Width: 8}
	if err := rrc.validate(); err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 200 {
		if _, _, h, w := rrc.Params(32, 32, rng); h <= 0 || w <= 0 || float64(h*w) < 0.08*1024*0.8 {
			t.Fatalf("box %dx%d", h, w)
		}
	}
}

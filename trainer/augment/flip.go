package augment

import (
	"math/rand/v2"
	"slices"
)

// HFlip mirrors the image left to right.
func HFlip(img *Image) {
	for c := range 3 {
		p := img.Plane(c)
		for y := range img.H {
			slices.Reverse(p[y*img.W : (y+1)*img.W])
		}
	}
}

// RandomHorizontalFlip mirrors the image with probability P, as torchvision's
// RandomHorizontalFlip.
type RandomHorizontalFlip struct {
	// P is the probability of a flip.
	P float64
}

// Apply draws whether to flip, then does.
func (t RandomHorizontalFlip) Apply(img *Image, rng *rand.Rand) {
	if rng.Float64() < t.P {
		HFlip(img)
	}
}

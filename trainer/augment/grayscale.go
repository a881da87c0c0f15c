package augment

import "math/rand/v2"

// RandomGrayscale turns the image grey (luma in all three channels) with
// probability P, as torchvision's RandomGrayscale.
type RandomGrayscale struct {
	// P is the probability of turning grey.
	P float64
}

// Apply draws whether to turn the image grey, then does.
func (t RandomGrayscale) Apply(img *Image, rng *rand.Rand) {
	if rng.Float64() < t.P {
		Grayscale(img)
	}
}

package augment

import "math/rand/v2"

// Transform is a pipeline step after the crop: it changes img in place,
// drawing any random parameters from rng.
type Transform interface {
	Apply(img *Image, rng *rand.Rand)
}

// RandomApply applies T with probability P, as torchvision's RandomApply
// (one uniform draw; applied when it is <= P).
type RandomApply struct {
	// P is the probability of applying T.
	P float64
	// T is the transform applied.
	T Transform
}

// Apply draws whether to apply T, then does.
func (r RandomApply) Apply(img *Image, rng *rand.Rand) {
	if r.P < rng.Float64() {
		return
	}
	r.T.Apply(img, rng)
}

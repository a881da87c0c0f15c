package augment

import (
	"fmt"
	"math/rand/v2"
)

// ColorJitter is torchvision's ColorJitter(brightness, contrast, saturation,
// hue): each call draws a random order of the four adjustments and a factor
// for each one that is enabled: brightness, contrast and saturation factors
// uniform in [max(0, 1-x), 1+x], the hue shift uniform in [-Hue, Hue]. A
// zero value disables that adjustment.
type ColorJitter struct {
	// Brightness, Contrast, Saturation and Hue are torchvision's
	// arguments of the same names (MoCo v2: 0.4, 0.4, 0.4, 0.1).
	Brightness, Contrast, Saturation, Hue float64
}

// JitterParams are the drawn parameters of one ColorJitter call.
type JitterParams struct {
	// Order is a permutation of 0 brightness, 1 contrast, 2 saturation,
	// 3 hue.
	Order [4]int
	// Factors of the adjustments; Enabled says which are applied.
	Brightness, Contrast, Saturation, Hue float32
	// Enabled says which adjustments are applied, indexed like Order.
	Enabled [4]bool
}

// Params draws the order and the factors, in torchvision's order of draws
// (the permutation, then brightness, contrast, saturation, hue).
func (j ColorJitter) Params(rng *rand.Rand) JitterParams {
	var p JitterParams
	copy(p.Order[:], rng.Perm(4))
	factor := func(x float64) float32 { return float32(uniform(rng, max(0, 1-x), 1+x)) }
	if j.Brightness > 0 {
		p.Brightness, p.Enabled[0] = factor(j.Brightness), true
	}
	if j.Contrast > 0 {
		p.Contrast, p.Enabled[1] = factor(j.Contrast), true
	}
	if j.Saturation > 0 {
		p.Saturation, p.Enabled[2] = factor(j.Saturation), true
	}
	if j.Hue > 0 {
		p.Hue, p.Enabled[3] = float32(uniform(rng, -j.Hue, j.Hue)), true
	}
	return p
}

// Apply draws parameters and applies them.
func (j ColorJitter) Apply(img *Image, rng *rand.Rand) {
	j.Params(rng).Apply(img)
}

// Apply applies the adjustments in the drawn order.
func (p JitterParams) Apply(img *Image) {
	for _, op := range p.Order {
		if !p.Enabled[op] {
			continue
		}
		switch op {
		case 0:
			AdjustBrightness(img, p.Brightness)
		case 1:
			AdjustContrast(img, p.Contrast)
		case 2:
			AdjustSaturation(img, p.Saturation)
		case 3:
			AdjustHue(img, p.Hue)
		}
	}
}

// validate checks the ranges torchvision accepts.
func (j ColorJitter) validate() error {
	if j.Brightness < 0 || j.Contrast < 0 || j.Saturation < 0 {
		return fmt.Errorf("color jitter: brightness, contrast and saturation must be >= 0, got %v, %v, %v",
			j.Brightness, j.Contrast, j.Saturation)
	}
	if j.Hue < 0 || j.Hue > 0.5 {
		return fmt.Errorf("color jitter: hue must be in [0, 0.5], got %v", j.Hue)
	}
	return nil
}

package augment

import (
	"fmt"
	"math"
	"math/rand/v2"
)

// Cropper is a pipeline's first step: it turns a uint8 HWC RGB image of any
// size into a float32 Image of a fixed size.
type Cropper interface {
	// Crop writes the result for pix (h x w) into dst.
	Crop(dst *Image, pix []uint8, h, w int, rng *rand.Rand) error
	// OutputSize is the size of every result.
	OutputSize() (h, w int)
}

// RandomResizedCrop is torchvision's transform of that name with bilinear
// interpolation: a box of random area (a fraction of the image drawn
// uniformly from Scale) and random aspect ratio (log-uniform in Ratio) is
// resampled to Height x Width (see ResizedCrop for the filter).
type RandomResizedCrop struct {
	// Height and Width are the output size.
	Height, Width int
	// Scale bounds the box's area as a fraction of the image's; zero means
	// torchvision's default (0.08, 1). MoCo uses (0.2, 1).
	Scale [2]float64
	// Ratio bounds the box's width/height; zero means torchvision's
	// default (3/4, 4/3).
	Ratio [2]float64
}

// withDefaults fills a zero Scale or Ratio with torchvision's defaults.
func (c RandomResizedCrop) withDefaults() RandomResizedCrop {
	if c.Scale == [2]float64{} {
		c.Scale = [2]float64{0.08, 1}
	}
	if c.Ratio == [2]float64{} {
		c.Ratio = defaultRatio()
	}
	return c
}

// Params draws a box (top, left, height, width) for an image of h x w the
// way torchvision's RandomResizedCrop.get_params does: up to ten tries of a
// random area and log-uniform aspect ratio whose box fits, with Python's
// round-half-to-even; failing that, a centred box of the whole image clamped
// to the ratio range.
func (c RandomResizedCrop) Params(h, w int, rng *rand.Rand) (top, left, ch, cw int) {
	c = c.withDefaults()
	area := float64(h * w)
	logLo, logHi := math.Log(c.Ratio[0]), math.Log(c.Ratio[1])
	for range 10 {
		target := area * uniform(rng, c.Scale[0], c.Scale[1])
		aspect := math.Exp(uniform(rng, logLo, logHi))
		cw = int(math.RoundToEven(math.Sqrt(target * aspect)))
		ch = int(math.RoundToEven(math.Sqrt(target / aspect)))
		if 0 < cw && cw <= w && 0 < ch && ch <= h {
			top = rng.IntN(h - ch + 1)
			left = rng.IntN(w - cw + 1)
			return top, left, ch, cw
		}
	}
	inRatio := float64(w) / float64(h)
	switch {
	case inRatio < min(c.Ratio[0], c.Ratio[1]):
		cw = w
		ch = int(math.RoundToEven(float64(cw) / min(c.Ratio[0], c.Ratio[1])))
	case inRatio > max(c.Ratio[0], c.Ratio[1]):
		ch = h
		cw = int(math.RoundToEven(float64(ch) * max(c.Ratio[0], c.Ratio[1])))
	default:
		ch, cw = h, w
	}
	return (h - ch) / 2, (w - cw) / 2, ch, cw
}

// Crop draws a box and resamples it into dst.
func (c RandomResizedCrop) Crop(dst *Image, pix []uint8, h, w int, rng *rand.Rand) error {
	top, left, ch, cw := c.Params(h, w, rng)
	if err := ResizedCrop(dst, pix, h, w, top, left, ch, cw, c.Height, c.Width); err != nil {
		return fmt.Errorf("random resized crop: %w", err)
	}
	return nil
}

// OutputSize is (Height, Width).
func (c RandomResizedCrop) OutputSize() (h, w int) { return c.Height, c.Width }

// validate checks the parameters.
func (c RandomResizedCrop) validate() error {
	c = c.withDefaults()
	switch {
	case c.Height <= 0 || c.Width <= 0:
		return fmt.Errorf("random resized crop: size %dx%d", c.Height, c.Width)
	case !(0 < c.Scale[0] && c.Scale[0] <= c.Scale[1] && c.Scale[1] <= 1):
		return fmt.Errorf("random resized crop: scale %v, want 0 < lo <= hi <= 1", c.Scale)
	case !(0 < c.Ratio[0] && c.Ratio[0] <= c.Ratio[1]):
		return fmt.Errorf("random resized crop: ratio %v, want 0 < lo <= hi", c.Ratio)
	}
	return nil
}

// Resize resamples the whole image to Height x Width with the same filter as
// RandomResizedCrop, and copies it when the size already matches. It draws
// no random numbers: it is the first step of evaluation pipelines.
type Resize struct {
	// Height and Width are the output size.
	Height, Width int
}

// Crop resamples pix into dst.
func (r Resize) Crop(dst *Image, pix []uint8, h, w int, _ *rand.Rand) error {
	if err := ResizedCrop(dst, pix, h, w, 0, 0, h, w, r.Height, r.Width); err != nil {
		return fmt.Errorf("resize: %w", err)
	}
	return nil
}

// OutputSize is (Height, Width).
func (r Resize) OutputSize() (h, w int) { return r.Height, r.Width }

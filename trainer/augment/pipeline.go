package augment

import (
	"fmt"
	"math/rand/v2"
)

// Pipeline is a crop step, a list of transforms and a final per-channel
// normalisation: torchvision's Compose([crop, ..., ToTensor(), Normalize]).
// A Pipeline is immutable and safe for concurrent use; each goroutine passes
// its own scratch Image.
type Pipeline struct {
	crop      Cropper
	steps     []Transform
	mean, std [3]float32
}

// NewPipeline makes a pipeline. std must have no zero.
func NewPipeline(crop Cropper, steps []Transform, mean, std [3]float32) (*Pipeline, error) {
	if crop == nil {
		return nil, fmt.Errorf("augment: pipeline needs a crop step")
	}
	if h, w := crop.OutputSize(); h <= 0 || w <= 0 {
		return nil, fmt.Errorf("augment: pipeline output size %dx%d", h, w)
	}
	for c, s := range std {
		if s == 0 {
			return nil, fmt.Errorf("augment: pipeline std of channel %d is zero", c)
		}
	}
	return &Pipeline{crop: crop, steps: append([]Transform(nil), steps...), mean: mean, std: std}, nil
}

// OutputSize is the size of every view.
func (p *Pipeline) OutputSize() (h, w int) { return p.crop.OutputSize() }

// ViewLen is the number of float32 values in one view (3*h*w).
func (p *Pipeline) ViewLen() int {
	h, w := p.OutputSize()
	return 3 * h * w
}

// Apply augments pix (uint8 HWC RGB, h x w) into dst as a normalised CHW
// view of ViewLen values, drawing from rng. scratch is the caller's
// reusable working image (nil allocates one).
func (p *Pipeline) Apply(dst []float32, pix []uint8, h, w int, rng *rand.Rand, scratch *Image) error {
	if len(dst) < p.ViewLen() {
		return fmt.Errorf("augment: view buffer holds %d values, want %d", len(dst), p.ViewLen())
	}
	if scratch == nil {
		scratch = &Image{}
	}
	if err := p.crop.Crop(scratch, pix, h, w, rng); err != nil {
		return fmt.Errorf("augment: %w", err)
	}
	for _, t := range p.steps {
		t.Apply(scratch, rng)
	}
	p.normalize(dst, scratch)
	return nil
}

// TwoViews makes the query and key views of one image, in that order from
// the same generator (MoCo's TwoCropsTransform).
func (p *Pipeline) TwoViews(q, k []float32, pix []uint8, h, w int, rng *rand.Rand, scratch *Image) error {
	if scratch == nil {
		scratch = &Image{}
	}
	if err := p.Apply(q, pix, h, w, rng, scratch); err != nil {
		return fmt.Errorf("query view: %w", err)
	}
	if err := p.Apply(k, pix, h, w, rng, scratch); err != nil {
		return fmt.Errorf("key view: %w", err)
	}
	return nil
}

// normalize writes (v - mean) / std per channel (torchvision's Normalize).
func (p *Pipeline) normalize(dst []float32, img *Image) {
	n := img.H * img.W
	for c := range 3 {
		src, out := img.Plane(c), dst[c*n:(c+1)*n]
		m, s := p.mean[c], p.std[c]
		for i, v := range src {
			out[i] = (v - m) / s
		}
	}
}

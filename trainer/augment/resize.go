package augment

import (
	"fmt"
	"image"
)

// ResizedCrop resamples the box of bh x bw pixels at (top, left) of src, a
// uint8 HWC RGB image of srcH x srcW, into dst at outH x outW, as float32
// values in [0,1] (pixel/255).
//
// The filter is PIL's bilinear, which torchvision uses for PIL images and
// reproduces for tensors with antialias=True: plain bilinear interpolation
// (half-pixel centres, edges clamped) when enlarging, and a triangle filter
// widened by the reduction factor when shrinking, so that every input pixel
// contributes (no aliasing). Unlike PIL, the result is not rounded to uint8.
// The kernel is internal/imaging's, shared with the edge's preprocessing so
// that both sides compute the same pixels.
func ResizedCrop(dst *Image, src []uint8, srcH, srcW, top, left, bh, bw, outH, outW int) error {
	if top < 0 || left < 0 || bh <= 0 || bw <= 0 || top+bh > srcH || left+bw > srcW {
		return fmt.Errorf("augment: crop box %dx%d at (%d,%d) outside a %dx%d image", bh, bw, top, left, srcH, srcW)
	}
	if len(src) < 3*srcH*srcW {
		return fmt.Errorf("augment: %d bytes for a %dx%d RGB image", len(src), srcH, srcW)
	}
	if outH <= 0 || outW <= 0 {
		return fmt.Errorf("augment: output size %dx%d", outH, outW)
	}
	dst.resize(outH, outW)
	box := image.Rect(left, top, left+bw, top+bh)
	if err := dst.resampler.Resample(dst.Pix, src, srcH, srcW, box, outH, outW, image.Rect(0, 0, outW, outH)); err != nil {
		return fmt.Errorf("augment: %w", err)
	}
	return nil
}

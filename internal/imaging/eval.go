package imaging

import (
	"fmt"
	"image"
	"math"
)

// Eval is torchvision's evaluation transform as a model manifest describes
// it: Resize(Resize) (the shorter side becomes Resize pixels, bilinear with
// antialiasing), CenterCrop(Crop), ToTensor, Normalize(Mean, Std). It turns
// a uint8 HWC RGB image of any size into Crop×Crop planar float32 values.
// An Eval is immutable and safe for concurrent use; each goroutine passes
// its own Resampler.
type Eval struct {
	resize, crop int
	mean, std    [3]float32
	lut          [3][256]float32 // (v/255 − mean)/std, for images needing no resampling
}

// NewEval returns the transform; resize >= crop >= 1 and every std must be
// positive.
func NewEval(resize, crop int, mean, std [3]float32) (*Eval, error) {
	if crop < 1 || resize < crop {
		return nil, fmt.Errorf("imaging: resize %d and crop %d: want resize >= crop >= 1", resize, crop)
	}
	e := &Eval{resize: resize, crop: crop, mean: mean, std: std}
	for c, s := range std {
		if !(s > 0) {
			return nil, fmt.Errorf("imaging: std[%d] = %v is not positive", c, s)
		}
		for v := range 256 {
			e.lut[c][v] = (float32(v)/255 - mean[c]) / s
		}
	}
	return e, nil
}

// Len is the number of values one image gives: 3·Crop·Crop.
func (e *Eval) Len() int { return 3 * e.crop * e.crop }

// Crop is the side of the output.
func (e *Eval) Crop() int { return e.crop }

// ResizedSize returns the size an h×w image has after resizing its shorter
// side to resize pixels, as torchvision's Resize(int) computes it (the
// longer side truncated, not rounded).
func ResizedSize(h, w, resize int) (rh, rw int) {
	rh, rw = resize, resize
	if h < w {
		rw = int(float64(resize) * float64(w) / float64(h))
	} else if w < h {
		rh = int(float64(resize) * float64(h) / float64(w))
	}
	return rh, rw
}

// CenterCrop returns the top-left corner of a centred crop×crop square in an
// h×w image, as torchvision's CenterCrop rounds it (half to even).
func CenterCrop(h, w, crop int) (top, left int) {
	top = int(math.RoundToEven(float64(h-crop) / 2))
	left = int(math.RoundToEven(float64(w-crop) / 2))
	return top, left
}

// Apply writes the transform of pix, an h×w uint8 HWC RGB image, into dst
// (Len values, planar CHW). r holds reusable scratch memory.
func (e *Eval) Apply(r *Resampler, dst []float32, pix []uint8, h, w int) error {
	if h < 1 || w < 1 || len(pix) < 3*h*w {
		return fmt.Errorf("imaging: %d bytes for a %dx%d RGB image", len(pix), w, h)
	}
	if len(dst) < e.Len() {
		return fmt.Errorf("imaging: destination holds %d values, want %d", len(dst), e.Len())
	}
	rh, rw := ResizedSize(h, w, e.resize)
	top, left := CenterCrop(rh, rw, e.crop)
	plane := e.crop * e.crop
	if rh == h && rw == w {
		// No resampling: the crop's pixels through the table, which holds
		// exactly what resampling's copy then normalising would compute.
		r, g, b := dst[:plane], dst[plane:2*plane], dst[2*plane:3*plane]
		for y := range e.crop {
			row := pix[3*((top+y)*w+left):]
			o := y * e.crop
			for x := range e.crop {
				r[o+x] = e.lut[0][row[3*x]]
				g[o+x] = e.lut[1][row[3*x+1]]
				b[o+x] = e.lut[2][row[3*x+2]]
			}
		}
		return nil
	}
	win := image.Rect(left, top, left+e.crop, top+e.crop)
	if err := r.Resample(dst, pix, h, w, image.Rect(0, 0, w, h), rh, rw, win); err != nil {
		return err
	}
	for c := range 3 {
		m, s := e.mean[c], e.std[c]
		out := dst[c*plane : (c+1)*plane]
		for i, v := range out {
			out[i] = (v - m) / s
		}
	}
	return nil
}

package data

import "fmt"

// NormalizeLUT maps a uint8 value of each channel to (v/255 - mean)/std,
// computed in float32 exactly as torchvision's ToTensor then Normalize.
type NormalizeLUT [3][256]float32

// NewNormalizeLUT builds the table for a per-channel mean and std.
func NewNormalizeLUT(mean, std [3]float32) *NormalizeLUT {
	var t NormalizeLUT
	for c := range 3 {
		for v := range 256 {
			t[c][v] = (float32(v)/255 - mean[c]) / std[c]
		}
	}
	return &t
}

// Batch fills dst with the images at idx as a float32 NCHW batch,
// normalised per channel with mean and std (no augmentation): dst[n][c][y][x]
// = (pixel/255 - mean[c]) / std[c]. The images must all have the same size;
// dst must hold at least len(idx)*3*h*w values.
func (d *Dataset) Batch(dst []float32, idx []int, mean, std [3]float32) error {
	return d.BatchLUT(dst, idx, NewNormalizeLUT(mean, std))
}

// BatchLUT is Batch with a prepared normalisation table, for hot loops.
func (d *Dataset) BatchLUT(dst []float32, idx []int, lut *NormalizeLUT) error {
	if d.dims != nil {
		return fmt.Errorf("data: batch: %s has images of different sizes", d.path)
	}
	plane := d.h * d.w
	if need := len(idx) * 3 * plane; len(dst) < need {
		return fmt.Errorf("data: batch: dst holds %d values, %d images of 3x%dx%d need %d", len(dst), len(idx), d.h, d.w, need)
	}
	for n, i := range idx {
		if i < 0 || i >= d.Len() {
			return fmt.Errorf("data: batch: index %d out of range [0,%d)", i, d.Len())
		}
		src := d.pix[i*3*plane : (i+1)*3*plane]
		out := dst[n*3*plane : (n+1)*3*plane]
		r, g, b := out[:plane], out[plane:2*plane], out[2*plane:3*plane]
		for p := range plane {
			r[p] = lut[0][src[3*p]]
			g[p] = lut[1][src[3*p+1]]
			b[p] = lut[2][src[3*p+2]]
		}
	}
	return nil
}

package imaging_test

import (
	"fmt"
	"math"
)

// This file keeps an independent reference for Resampler: a plain two-pass
// implementation of PIL's bilinear filter over the whole output (the
// trainer's kernel before both sides came to share this package). Resample
// computes only a window and reads only the rows it needs; it must agree
// with this reference bit for bit.

// axis holds the resampling weights along one axis: output i reads taps
// input pixels from start[i] with weights w[i*taps:(i+1)*taps].
type axis struct {
	start []int
	w     []float32
	taps  int
	k     []float64 // unnormalised weights of one output
}

// triangle is the bilinear filter, support 1.
func triangle(x float64) float64 {
	x = math.Abs(x)
	if x < 1 {
		return 1 - x
	}
	return 0
}

// set computes the weights for resampling in input pixels to out, the way
// PIL's ImagingResample does for its BILINEAR filter: output pixel i is
// centred at (i+0.5)*in/out in input coordinates; when reducing, the
// triangle is stretched by in/out (antialiasing), when enlarging it is not,
// which makes it plain bilinear interpolation with half-pixel centres
// (align_corners=False); taps falling outside the input are dropped and the
// rest renormalised, which equals clamping at the border.
func (a *axis) set(in, out int) {
	scale := float64(in) / float64(out)
	filterScale := max(scale, 1)
	support := filterScale
	a.taps = int(math.Ceil(support))*2 + 1
	if cap(a.start) < out {
		a.start = make([]int, out)
	}
	a.start = a.start[:out]
	if cap(a.w) < out*a.taps {
		a.w = make([]float32, out*a.taps)
	}
	a.w = a.w[:out*a.taps]
	clear(a.w)
	if cap(a.k) < a.taps {
		a.k = make([]float64, a.taps)
	}
	k := a.k[:a.taps]
	for i := range out {
		center := (float64(i) + 0.5) * scale
		lo := max(int(center-support+0.5), 0)
		hi := min(int(center+support+0.5), in)
		n := min(hi-lo, a.taps)
		total := 0.0
		for j := range n {
			k[j] = triangle((float64(j+lo) - center + 0.5) / filterScale)
			total += k[j]
		}
		a.start[i] = lo
		w := a.w[i*a.taps : (i+1)*a.taps]
		for j := range n {
			if total != 0 {
				w[j] = float32(k[j] / total)
			}
		}
	}
}

// referenceResizedCrop resamples the box of bh x bw pixels at (top, left)
// of src (uint8 HWC RGB, srcH x srcW) to outH x outW, as planar float32 in
// [0,1].
func referenceResizedCrop(src []uint8, srcH, srcW, top, left, bh, bw, outH, outW int) ([]float32, error) {
	if top < 0 || left < 0 || bh <= 0 || bw <= 0 || top+bh > srcH || left+bw > srcW {
		return nil, fmt.Errorf("reference: crop box %dx%d at (%d,%d) outside a %dx%d image", bh, bw, top, left, srcH, srcW)
	}
	if len(src) < 3*srcH*srcW {
		return nil, fmt.Errorf("reference: %d bytes for a %dx%d RGB image", len(src), srcH, srcW)
	}
	if outH <= 0 || outW <= 0 {
		return nil, fmt.Errorf("reference: output size %dx%d", outH, outW)
	}
	pix := make([]float32, 3*outH*outW)
	plane := outH * outW
	r, g, b := pix[:plane], pix[plane:2*plane], pix[2*plane:]
	if bh == outH && bw == outW {
		for y := range outH {
			row := src[3*((top+y)*srcW+left):]
			for x := range outW {
				o := y*outW + x
				r[o] = float32(row[3*x]) / 255
				g[o] = float32(row[3*x+1]) / 255
				b[o] = float32(row[3*x+2]) / 255
			}
		}
		return pix, nil
	}

	var ax, ay axis
	ax.set(bw, outW)
	ay.set(bh, outH)

	// Horizontal pass: bh rows of the box to outW columns, planar.
	tmp := make([]float32, 3*bh*outW)
	tp := bh * outW
	tr, tg, tb := tmp[:tp], tmp[tp:2*tp], tmp[2*tp:]
	for y := range bh {
		row := src[3*((top+y)*srcW+left):]
		for x := range outW {
			w := ax.w[x*ax.taps : (x+1)*ax.taps]
			s := 3 * ax.start[x]
			var sr, sg, sb float32
			for k, wk := range w {
				if wk == 0 {
					continue
				}
				p := row[s+3*k : s+3*k+3]
				sr += wk * float32(p[0])
				sg += wk * float32(p[1])
				sb += wk * float32(p[2])
			}
			o := y*outW + x
			tr[o], tg[o], tb[o] = sr, sg, sb
		}
	}
	// Vertical pass: bh rows to outH rows.
	for y := range outH {
		w := ay.w[y*ay.taps : (y+1)*ay.taps]
		s := ay.start[y]
		out := y * outW
		for x := range outW {
			var sr, sg, sb float32
			for k, wk := range w {
				if wk == 0 {
					continue
				}
				i := (s+k)*outW + x
				sr += wk * tr[i]
				sg += wk * tg[i]
				sb += wk * tb[i]
			}
			r[out+x], g[out+x], b[out+x] = sr/255, sg/255, sb/255
		}
	}
	return pix, nil
}

package imaging

import (
	"fmt"
	"image"
	"math"
)

// axis holds the resampling weights along one axis: output i reads taps
// input pixels from start[i] with weights w[i*taps:(i+1)*taps]. The weights
// of the last (in, out) pair are kept, so resampling many images of one
// size computes them once.
type axis struct {
	in, out int
	start   []int
	n       []int // taps of output i up to its last non-zero weight
	w       []float32
	taps    int
	k       []float64 // unnormalised weights of one output
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
	if a.in == in && a.out == out && a.taps > 0 {
		return
	}
	scale := float64(in) / float64(out)
	filterScale := max(scale, 1)
	support := filterScale
	a.taps = int(math.Ceil(support))*2 + 1
	if cap(a.start) < out {
		a.start = make([]int, out)
	}
	a.start = a.start[:out]
	if cap(a.n) < out {
		a.n = make([]int, out)
	}
	a.n = a.n[:out]
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
		a.n[i] = 0
		for j := range n {
			if total != 0 {
				w[j] = float32(k[j] / total)
			}
			if w[j] != 0 {
				a.n[i] = j + 1
			}
		}
	}
	a.in, a.out = in, out
}

// span returns the input range [lo, hi) that outputs [from, to) read.
func (a *axis) span(from, to, in int) (lo, hi int) {
	lo, hi = in, 0
	for i := from; i < to; i++ {
		lo = min(lo, a.start[i])
		hi = max(hi, min(a.start[i]+a.taps, in))
	}
	return lo, hi
}

// Resampler resamples uint8 HWC RGB images with PIL's bilinear filter. It
// keeps its coefficients and scratch memory between calls, so one
// Resampler per goroutine makes repeated resampling allocation-free. The
// zero value is ready to use; a Resampler is not safe for concurrent use.
type Resampler struct {
	ax, ay axis
	tmp    []float32
}

// Resample resamples box, a rectangle of src (an srcH×srcW uint8 HWC RGB
// image, 3 bytes a pixel, rows packed), to outH×outW pixels and writes the
// window win of that output (a rectangle inside outW×outH) into dst as
// planar float32 in [0,1] (pixel/255): the R plane, then G, then B, each
// win.Dy() rows of win.Dx() values. dst must hold 3·win.Dx()·win.Dy()
// values.
//
// The filter is PIL's bilinear, which torchvision uses for PIL images and
// reproduces for tensors with antialias=True: plain bilinear interpolation
// (half-pixel centres, edges clamped) when enlarging, and a triangle filter
// widened by the reduction factor when shrinking, so that every input pixel
// contributes (no aliasing). Unlike PIL, the result is not rounded to
// uint8. When box already has the output's size the pixels are copied.
//
// Only the window's outputs and the source rows they read are computed, so
// a centre crop of a resized image costs the crop, not the whole image; the
// values are the same, bit for bit, as resampling everything and cutting
// the window out.
func (r *Resampler) Resample(dst []float32, src []uint8, srcH, srcW int, box image.Rectangle, outH, outW int, win image.Rectangle) error {
	switch {
	case box.Empty() || !box.In(image.Rect(0, 0, srcW, srcH)):
		return fmt.Errorf("imaging: box %v outside a %dx%d image", box, srcW, srcH)
	case len(src) < 3*srcH*srcW:
		return fmt.Errorf("imaging: %d bytes for a %dx%d RGB image (want %d)", len(src), srcW, srcH, 3*srcH*srcW)
	case outH <= 0 || outW <= 0:
		return fmt.Errorf("imaging: output size %dx%d", outW, outH)
	case win.Empty() || !win.In(image.Rect(0, 0, outW, outH)):
		return fmt.Errorf("imaging: window %v outside the %dx%d output", win, outW, outH)
	case len(dst) < 3*win.Dx()*win.Dy():
		return fmt.Errorf("imaging: destination holds %d values, the %dx%d window needs %d", len(dst), win.Dx(), win.Dy(), 3*win.Dx()*win.Dy())
	}
	top, left, bh, bw := box.Min.Y, box.Min.X, box.Dy(), box.Dx()
	ww, wh := win.Dx(), win.Dy()
	plane := ww * wh
	dr, dg, db := dst[:plane], dst[plane:2*plane], dst[2*plane:3*plane]
	if bh == outH && bw == outW {
		for y := range wh {
			row := src[3*((top+win.Min.Y+y)*srcW+left+win.Min.X):]
			for x := range ww {
				o := y*ww + x
				dr[o] = float32(row[3*x]) / 255
				dg[o] = float32(row[3*x+1]) / 255
				db[o] = float32(row[3*x+2]) / 255
			}
		}
		return nil
	}

	ax, ay := &r.ax, &r.ay
	ax.set(bw, outW)
	ay.set(bh, outH)
	// The box rows [rlo, rhi) are all the window's outputs read.
	rlo, rhi := ay.span(win.Min.Y, win.Max.Y, bh)
	rows := rhi - rlo

	// Horizontal pass: the needed rows of the box to the window's columns,
	// planar; row j of tmp is box row rlo+j.
	tp := rows * ww
	if cap(r.tmp) < 3*tp {
		r.tmp = make([]float32, 3*tp)
	}
	tmp := r.tmp[:3*tp]
	tr, tg, tb := tmp[:tp], tmp[tp:2*tp], tmp[2*tp:]
	for j := range rows {
		row := src[3*((top+rlo+j)*srcW+left):]
		for x := range ww {
			ox := win.Min.X + x
			w := ax.w[ox*ax.taps : ox*ax.taps+ax.n[ox]]
			p := row[3*ax.start[ox] : 3*ax.start[ox]+3*len(w)]
			var sr, sg, sb float32
			for k, wk := range w {
				if wk == 0 {
					continue
				}
				q := p[3*k : 3*k+3 : 3*k+3]
				sr += wk * float32(q[0])
				sg += wk * float32(q[1])
				sb += wk * float32(q[2])
			}
			o := j*ww + x
			tr[o], tg[o], tb[o] = sr, sg, sb
		}
	}
	// Vertical pass: the window's rows, one input row at a time (the
	// same additions in the same order per value, in a cache-friendly
	// loop).
	for y := range wh {
		oy := win.Min.Y + y
		w := ay.w[oy*ay.taps : oy*ay.taps+ay.n[oy]]
		s := ay.start[oy] - rlo
		out := y * ww
		or, og, ob := dr[out:out+ww], dg[out:out+ww], db[out:out+ww]
		clear(or)
		clear(og)
		clear(ob)
		for k, wk := range w {
			if wk == 0 {
				continue
			}
			i := (s + k) * ww
			ir, ig, ib := tr[i:i+ww], tg[i:i+ww], tb[i:i+ww]
			for x := range ww {
				or[x] += wk * ir[x]
				og[x] += wk * ig[x]
				ob[x] += wk * ib[x]
			}
		}
		for x := range ww {
			or[x], og[x], ob[x] = or[x]/255, og[x]/255, ob[x]/255
		}
	}
	return nil
}

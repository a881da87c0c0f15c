package augment

import (
	"fmt"
	"math"
	"math/rand/v2"
)

// blurPasses is the number of box passes per axis in PIL's GaussianBlur.
const blurPasses = 3

// GaussianBlur is MoCo v2's blur (moco.loader.GaussianBlur): sigma is drawn
// uniformly from [SigmaMin, SigmaMax] and the image is filtered as PIL's
// ImageFilter.GaussianBlur(radius=sigma), which the official code calls.
// Wrap it in RandomApply for MoCo v2's p = 0.5.
//
// PIL's GaussianBlur is not a sampled Gaussian kernel: it is an "extended
// box" approximation (Gwosdek et al., SSVM 2011) of three box passes per
// axis, each of fractional radius r = l + a chosen so that the three passes
// have variance sigma^2, with edge pixels repeated. BlurSigma does the same.
// For sigma in [0.1, 2] the integer radius l is 0 or 1, so one pass spans
// 2l+3 <= 5 pixels and the three passes together at most 13 pixels per axis
// (torchvision's GaussianBlur, by contrast, takes an explicit kernel size,
// which SimCLR set to 10% of the image side).
type GaussianBlur struct {
	// SigmaMin and SigmaMax bound sigma (MoCo v2: 0.1 and 2).
	SigmaMin, SigmaMax float64
}

// Apply draws sigma and blurs.
func (t GaussianBlur) Apply(img *Image, rng *rand.Rand) {
	BlurSigma(img, float32(uniform(rng, t.SigmaMin, t.SigmaMax)))
}

// validate checks the sigma range.
func (t GaussianBlur) validate() error {
	if !(0 < t.SigmaMin && t.SigmaMin <= t.SigmaMax) {
		return fmt.Errorf("gaussian blur: sigma range [%v, %v], want 0 < min <= max", t.SigmaMin, t.SigmaMax)
	}
	return nil
}

// boxRadius is PIL's _gaussian_blur_radius: the fractional box radius whose
// passes give variance sigma^2 (computed in float32 as PIL does).
func boxRadius(sigma float32, passes int) float32 {
	sigma2 := sigma * sigma / float32(passes)
	L := float32(math.Sqrt(12*float64(sigma2) + 1))
	l := float32(math.Floor((float64(L) - 1) / 2))
	a := (2*l + 1) * (l*(l+1) - 3*sigma2)
	a /= 6 * (sigma2 - (l+1)*(l+1))
	return l + a
}

// BlurSigma filters the image as PIL's GaussianBlur(radius=sigma): three
// passes of the extended box filter along rows, then three along columns.
func BlurSigma(img *Image, sigma float32) {
	r := boxRadius(sigma, blurPasses)
	if r <= 0 {
		return
	}
	l := int(r)
	ww := 1 / (2*r + 1)
	fw := (1 - float32(2*l+1)*ww) / 2
	buf := img.scratch(2 * (max(img.H, img.W) + 2*(l+1)))
	for c := range 3 {
		p := img.Plane(c)
		for y := range img.H {
			boxPasses(p[y*img.W:], 1, img.W, l, ww, fw, buf)
		}
		for x := range img.W {
			boxPasses(p[x:], img.W, img.H, l, ww, fw, buf)
		}
	}
}

// boxPasses filters the n values at v[0], v[stride], ... in place with
// blurPasses passes of PIL's extended box (ImagingLineBoxBlur): each value
// becomes ww times the sum of the 2l+1 nearest values plus fw times the two
// next ones, the line's end values repeating beyond its ends.
func boxPasses(v []float32, stride, n, l int, ww, fw float32, buf []float32) {
	pad := l + 1
	size := n + 2*pad
	a, b := buf[:size], buf[size:2*size]
	for i := range n {
		a[pad+i] = v[i*stride]
	}
	for range blurPasses {
		for i := range pad {
			a[i], a[pad+n+i] = a[pad], a[pad+n-1]
		}
		for x := pad; x < pad+n; x++ {
			var acc float32
			for _, u := range a[x-l : x+l+1] {
				acc += u
			}
			b[x] = acc*ww + (a[x-l-1]+a[x+l+1])*fw
		}
		a, b = b, a
	}
	for i := range n {
		v[i*stride] = a[pad+i]
	}
}

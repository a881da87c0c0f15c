package augment

import "math"

// AdjustHue rotates every pixel's hue by f turns (f in [-0.5, 0.5]) through
// HSV, with torchvision's _rgb2hsv and _hsv2rgb formulas in float32.
func AdjustHue(img *Image, f float32) {
	r, g, b := img.Plane(0), img.Plane(1), img.Plane(2)
	for i := range r {
		h, s, v := rgbToHSV(r[i], g[i], b[i])
		h += f
		h -= float32(math.Floor(float64(h)))
		r[i], g[i], b[i] = hsvToRGB(h, s, v)
	}
}

// rgbToHSV follows torchvision's _rgb2hsv: hue in [0,1), grey pixels get
// hue 0 and saturation 0.
func rgbToHSV(r, g, b float32) (h, s, v float32) {
	maxc := max(r, g, b)
	minc := min(r, g, b)
	if maxc == minc {
		return 0, 0, maxc
	}
	cr := maxc - minc
	s = cr / maxc
	rc := (maxc - r) / cr
	gc := (maxc - g) / cr
	bc := (maxc - b) / cr
	switch {
	case maxc == r:
		h = bc - gc
	case maxc == g:
		h = 2 + rc - bc
	default:
		h = 4 + gc - rc
	}
	h = h/6 + 1
	h -= float32(math.Floor(float64(h))) // fmod(h/6 + 1, 1) for h/6+1 > 0
	return h, s, maxc
}

// hsvToRGB follows torchvision's _hsv2rgb.
func hsvToRGB(h, s, v float32) (r, g, b float32) {
	h6 := h * 6
	fi := float32(math.Floor(float64(h6)))
	f := h6 - fi
	i := int(fi) % 6
	if i < 0 {
		i += 6
	}
	p := clamp01(v * (1 - s))
	q := clamp01(v * (1 - s*f))
	t := clamp01(v * (1 - s*(1-f)))
	switch i {
	case 0:
		return v, t, p
	case 1:
		return q, v, p
	case 2:
		return p, v, t
	case 3:
		return p, q, v
	case 4:
		return t, p, v
	default:
		return v, p, q
	}
}

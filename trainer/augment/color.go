package augment

// Luma weights of ITU-R 601-2, as PIL's convert("L") (torchvision's tensor
// code uses 0.2989 for red).
const (
	lumaR = 0.299
	lumaG = 0.587
	lumaB = 0.114
)

// clamp01 limits v to [0,1].
func clamp01(v float32) float32 {
	return min(max(v, 0), 1)
}

// blend returns f*a + (1-f)*b clamped to [0,1], torchvision's _blend.
func blend(a, b, f float32) float32 {
	return clamp01(f*a + (1-f)*b)
}

// AdjustBrightness multiplies every value by f and clamps to [0,1]
// (torchvision's adjust_brightness: a blend with black).
func AdjustBrightness(img *Image, f float32) {
	for i, v := range img.Pix {
		img.Pix[i] = clamp01(v * f)
	}
}

// AdjustContrast blends the image with its mean grey level: v' = f*v +
// (1-f)*mean(luma), clamped (torchvision's adjust_contrast).
func AdjustContrast(img *Image, f float32) {
	r, g, b := img.Plane(0), img.Plane(1), img.Plane(2)
	var sum float64
	for i := range r {
		sum += float64(lumaR*r[i] + lumaG*g[i] + lumaB*b[i])
	}
	mean := float32(sum / float64(len(r)))
	for i, v := range img.Pix {
		img.Pix[i] = blend(v, mean, f)
	}
}

// AdjustSaturation blends each pixel with its own grey level: v' = f*v +
// (1-f)*luma, clamped (torchvision's adjust_saturation).
func AdjustSaturation(img *Image, f float32) {
	r, g, b := img.Plane(0), img.Plane(1), img.Plane(2)
	for i := range r {
		l := lumaR*r[i] + lumaG*g[i] + lumaB*b[i]
		r[i], g[i], b[i] = blend(r[i], l, f), blend(g[i], l, f), blend(b[i], l, f)
	}
}

// Grayscale replaces every pixel with its luma in all three channels
// (torchvision's rgb_to_grayscale with num_output_channels=3).
func Grayscale(img *Image) {
	r, g, b := img.Plane(0), img.Plane(1), img.Plane(2)
	for i := range r {
		l := lumaR*r[i] + lumaG*g[i] + lumaB*b[i]
		r[i], g[i], b[i] = l, l, l
	}
}

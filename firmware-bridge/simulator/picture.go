package simulator

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"math/rand/v2"
)

// Picture encodes a w×h JPEG with fine detail (a gradient with per-pixel
// noise from seed), so that it compresses poorly and a camera frame takes
// many CAMERA_FRAME chunks: what the simulated UART camera and the tests of
// everything that reassembles frames send.
func Picture(w, h int, seed uint64) ([]byte, error) {
	if w < 1 || h < 1 {
		return nil, fmt.Errorf("picture size %dx%d", w, h)
	}
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	rng := rand.New(rand.NewPCG(seed, 2))
	for y := range h {
		for x := range w {
			img.SetRGBA(x, y, color.RGBA{uint8(x), uint8(y), uint8(rng.IntN(64) + x*y), 255})
		}
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 90}); err != nil {
		return nil, fmt.Errorf("encode picture: %w", err)
	}
	return buf.Bytes(), nil
}

package agent

import (
	"bytes"
	"fmt"
	"image"
	"image/jpeg"
	"math"

	"github.com/mocoedge/mocoedge/edge/preprocess"
	"github.com/mocoedge/mocoedge/models/manifest"
)

// MakeThumbnail returns the JPEG kept with a queue entry; re-embedding
// after a model change starts from it. A frame that is already a JPEG no
// larger than size×size is its own thumbnail (nothing to encode, and the
// original pixels); otherwise it is made from the preprocessed model input
// px (normalised planar RGB): what the model saw, the normalisation undone
// and box-filtered down so that its longer side is at most size pixels.
// frame may be nil (a raw frame).
func MakeThumbnail(frame []byte, px []float32, in manifest.Input, size, quality int) ([]byte, error) {
	if frame != nil {
		if h, err := preprocess.ReadHeader(frame); err == nil && h.Format == preprocess.FormatJPEG && h.Width <= size && h.Height <= size {
			return frame, nil
		}
	}
	w, h := in.Width, in.Height
	if w*h*3 != len(px) || w < 1 || h < 1 {
		return nil, fmt.Errorf("thumbnail: %d values for a %dx%d input", len(px), w, h)
	}
	tw, th := w, h
	if longer := max(w, h); longer > size {
		tw = max(1, w*size/longer)
		th = max(1, h*size/longer)
	}
	img := image.NewRGBA(image.Rect(0, 0, tw, th))
	plane := w * h
	for ty := 0; ty < th; ty++ {
		y0, y1 := ty*h/th, max((ty+1)*h/th, ty*h/th+1)
		for tx := 0; tx < tw; tx++ {
			x0, x1 := tx*w/tw, max((tx+1)*w/tw, tx*w/tw+1)
			o := img.PixOffset(tx, ty)
			for c := 0; c < 3; c++ {
				var sum float32
				for y := y0; y < y1; y++ {
					row := px[c*plane+y*w:]
					for x := x0; x < x1; x++ {
						sum += row[x]
					}
				}
				v := (sum/float32((y1-y0)*(x1-x0))*in.Std[c] + in.Mean[c]) * 255
				img.Pix[o+c] = uint8(math.Round(float64(min(max(v, 0), 255))))
			}
			img.Pix[o+3] = 255
		}
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: quality}); err != nil {
		return nil, fmt.Errorf("thumbnail: encode JPEG: %w", err)
	}
	return buf.Bytes(), nil
}

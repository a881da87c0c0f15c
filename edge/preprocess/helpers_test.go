package preprocess_test

import (
	"bytes"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"io"
	"testing"

	"github.com/mocoedge/mocoedge/internal/testmodel"
	"github.com/mocoedge/mocoedge/models/manifest"
)

// cifarInput is the manifest input of a CIFAR-10 model.
var cifarInput = manifest.Input{Height: 32, Width: 32, Resize: 32, Crop: 32, Color: "RGB",
	Mean: [3]float32{0.4914, 0.4822, 0.4465}, Std: [3]float32{0.2023, 0.1994, 0.2010}}

// imagenetInput is the manifest input of a 224-pixel ImageNet-normalised model.
var imagenetInput = manifest.Input{Height: 224, Width: 224, Resize: 224, Crop: 224, Color: "RGB",
	Mean: [3]float32{0.485, 0.456, 0.406}, Std: [3]float32{0.229, 0.224, 0.225}}

// cifarJPEGs returns the first n JPEG files of the CIFAR-10 test archive.
func cifarJPEGs(t testing.TB, n int) [][]byte { return testmodel.CIFARJPEGs(t, n) }

// enlarged re-encodes a JPEG at w×h (nearest neighbour plus a fine
// pattern, so the file has detail to decode) with quality 85.
func enlarged(t testing.TB, data []byte, w, h int) []byte {
	t.Helper()
	src, err := jpeg.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	sb := src.Bounds()
	dst := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			r, g, b, _ := src.At(sb.Min.X+x*sb.Dx()/w, sb.Min.Y+y*sb.Dy()/h).RGBA()
			d := uint32((x*7+y*13)%16) - 8
			dst.SetRGBA(x, y, color.RGBA{uint8(r>>8 + d), uint8(g>>8 + d), uint8(b>>8 + d), 255})
		}
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, dst, &jpeg.Options{Quality: 85}); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// pngEncode writes img as PNG.
func pngEncode(w io.Writer, img image.Image) error { return png.Encode(w, img) }

package imaging_test

import (
	"bytes"
	"image"
	"image/color"
	"image/jpeg"
	"testing"

	"github.com/mocoedge/mocoedge/internal/imaging"
)

func TestRGBMatchesReference(t *testing.T) {
	const w, h = 13, 9
	src := randomRGB(3, h, w)
	rgba := image.NewRGBA(image.Rect(0, 0, w, h))
	nrgba := image.NewNRGBA(image.Rect(0, 0, w, h))
	gray := image.NewGray(image.Rect(0, 0, w, h))
	cmyk := image.NewCMYK(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			p := src[3*(y*w+x):]
			a := uint8(255)
			if x%3 == 0 {
				a = uint8(40 * (y % 7))
			}
			nrgba.SetNRGBA(x, y, color.NRGBA{p[0], p[1], p[2], a})
			rgba.Set(x, y, color.NRGBA{p[0], p[1], p[2], a})
			gray.SetGray(x, y, color.Gray{p[1]})
			cmyk.Set(x, y, color.RGBA{p[0], p[1], p[2], 255})
		}
	}
	paletted := image.NewPaletted(image.Rect(0, 0, 4, 3), color.Palette{color.RGBA{10, 20, 30, 255}, color.NRGBA{200, 100, 50, 128}})
	for i := range paletted.Pix {
		paletted.Pix[i] = uint8(i % 2)
	}
	cases := map[string]image.Image{
		"rgba with alpha":    rgba,
		"nrgba with alpha":   nrgba,
		"gray":               gray,
		"cmyk (generic)":     cmyk,
		"rgba sub-image":     rgba.SubImage(image.Rect(3, 2, 11, 9)),
		"nrgba sub-image":    nrgba.SubImage(image.Rect(1, 4, 12, 8)),
		"gray sub-image":     gray.SubImage(image.Rect(5, 1, 6, 9)),
		"paletted":           paletted,
		"paletted sub-image": paletted.SubImage(image.Rect(1, 1, 4, 3)),
	}
	ratios := map[string]image.YCbCrSubsampleRatio{
		"444": image.YCbCrSubsampleRatio444, "422": image.YCbCrSubsampleRatio422, "420": image.YCbCrSubsampleRatio420,
		"440": image.YCbCrSubsampleRatio440, "411": image.YCbCrSubsampleRatio411, "410": image.YCbCrSubsampleRatio410,
	}
	for name, ratio := range ratios {
		m := image.NewYCbCr(image.Rect(0, 0, w, h), ratio)
		for i := range m.Y {
			m.Y[i] = uint8(i * 37)
		}
		for i := range m.Cb {
			m.Cb[i], m.Cr[i] = uint8(i*11+3), uint8(255-i*13)
		}
		cases["ycbcr "+name] = m
		cases["ycbcr "+name+" sub-image"] = m.SubImage(image.Rect(3, 1, 12, 8))
		neg := *m
		neg.Rect = m.Rect.Add(image.Pt(-5, -3))
		cases["ycbcr "+name+" negative origin"] = &neg
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, rgba, nil); err != nil {
		t.Fatal(err)
	}
	decoded, err := jpeg.Decode(&buf)
	if err != nil {
		t.Fatal(err)
	}
	cases["decoded jpeg"] = decoded
	// An index past the palette is black (At would panic).
	broken := image.NewPaletted(image.Rect(0, 0, 2, 1), color.Palette{color.White})
	broken.Pix[1] = 7
	if got, _, _ := imaging.RGB(broken, nil); !bytes.Equal(got, []uint8{255, 255, 255, 0, 0, 0}) {
		t.Errorf("palette index out of range: %v", got)
	}
	for name, img := range cases {
		t.Run(name, func(t *testing.T) {
			want := referenceRGB(img)
			got, gh, gw := imaging.RGB(img, make([]uint8, 5))
			if b := img.Bounds(); gh != b.Dy() || gw != b.Dx() {
				t.Fatalf("size %dx%d, want %v", gw, gh, b)
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("pixels differ from the reference:\n got %v\nwant %v", got, want)
			}
		})
	}
}

func BenchmarkRGB(b *testing.B) {
	for _, size := range []image.Point{{32, 32}, {640, 480}} {
		m := image.NewYCbCr(image.Rect(0, 0, size.X, size.Y), image.YCbCrSubsampleRatio420)
		buf := make([]uint8, 3*size.X*size.Y)
		b.Run(size.String(), func(b *testing.B) {
			for b.Loop() {
				imaging.RGB(m, buf)
			}
		})
	}
}

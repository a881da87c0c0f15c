package data

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"io"
)

// maxImagePixels bounds the size an image header may claim (64 Mpixel, e.g.
// 8192x8192); a larger claim marks the file bad rather than letting one
// hostile header blow the memory estimate.
const maxImagePixels = 1 << 26

// The first bytes of the formats the loader reads.
const (
	jpegMagic = "\xff\xd8"
	pngMagic  = "\x89PNG\r\n\x1a\n"
)

// hasMagic reports whether b starts with magic.
func hasMagic(b []byte, magic string) bool {
	return len(b) >= len(magic) && string(b[:len(magic)]) == magic
}

// notImage is the reason for a file that is neither JPEG nor PNG inside.
func notImage() error { return errors.New("not a JPEG or PNG file") }

// readConfig reads an image header from r, choosing the decoder from the
// file's first bytes (not its name).
func readConfig(r *bufio.Reader) (image.Config, error) {
	magic, err := r.Peek(len(pngMagic))
	if len(magic) == 0 {
		if err == nil || errors.Is(err, io.EOF) {
			return image.Config{}, errors.New("empty file")
		}
		return image.Config{}, err
	}
	var cfg image.Config
	switch {
	case hasMagic(magic, jpegMagic):
		cfg, err = jpeg.DecodeConfig(r)
	case hasMagic(magic, pngMagic):
		cfg, err = png.DecodeConfig(r)
	default:
		return image.Config{}, notImage()
	}
	if err != nil {
		return image.Config{}, err
	}
	if cfg.Width <= 0 || cfg.Height <= 0 {
		return image.Config{}, fmt.Errorf("image header has size %dx%d", cfg.Width, cfg.Height)
	}
	if int64(cfg.Width)*int64(cfg.Height) > maxImagePixels {
		return image.Config{}, fmt.Errorf("image header claims %dx%d pixels, more than the %d allowed",
			cfg.Width, cfg.Height, maxImagePixels)
	}
	return cfg, nil
}

// decodeImage decodes a whole JPEG or PNG file.
func decodeImage(b []byte) (image.Image, error) {
	switch {
	case hasMagic(b, jpegMagic):
		return jpeg.Decode(bytes.NewReader(b))
	case hasMagic(b, pngMagic):
		return png.Decode(bytes.NewReader(b))
	case len(b) == 0:
		return nil, errors.New("empty file")
	default:
		return nil, notImage()
	}
}

// decodeInto decodes b into dst as h*w*3 bytes of HWC RGB. The image must
// have the size its header announced in the first pass.
func decodeInto(dst []uint8, h, w int, b []byte) error {
	img, err := decodeImage(b)
	if err != nil {
		return err
	}
	r := img.Bounds()
	if r.Dx() != w || r.Dy() != h {
		return fmt.Errorf("decoded size %dx%d differs from the header's %dx%d", r.Dy(), r.Dx(), h, w)
	}
	toRGB(dst, img)
	return nil
}

// toRGB writes img into dst as HWC RGB bytes. Colour images keep their colour
// channels and drop alpha (as PIL's convert("RGB") does); grey and paletted
// images are expanded.
func toRGB(dst []uint8, img image.Image) {
	switch m := img.(type) {
	case *image.YCbCr:
		if ycbcrToRGB(dst, m) {
			return
		}
	case *image.Gray:
		b := m.Rect
		i := 0
		for y := b.Min.Y; y < b.Max.Y; y++ {
			row := m.Pix[m.PixOffset(b.Min.X, y):][:b.Dx()]
			for _, v := range row {
				dst[i], dst[i+1], dst[i+2] = v, v, v
				i += 3
			}
		}
		return
	case *image.NRGBA:
		b := m.Rect
		i := 0
		for y := b.Min.Y; y < b.Max.Y; y++ {
			row := m.Pix[m.PixOffset(b.Min.X, y):][:4*b.Dx()]
			for p := 0; p < len(row); p += 4 {
				dst[i], dst[i+1], dst[i+2] = row[p], row[p+1], row[p+2]
				i += 3
			}
		}
		return
	case *image.Paletted:
		pal := make([][3]uint8, len(m.Palette))
		for k, c := range m.Palette {
			n := color.NRGBAModel.Convert(c).(color.NRGBA)
			pal[k] = [3]uint8{n.R, n.G, n.B}
		}
		b := m.Rect
		i := 0
		for y := b.Min.Y; y < b.Max.Y; y++ {
			row := m.Pix[m.PixOffset(b.Min.X, y):][:b.Dx()]
			for _, k := range row {
				var c [3]uint8
				if int(k) < len(pal) {
					c = pal[k]
				}
				dst[i], dst[i+1], dst[i+2] = c[0], c[1], c[2]
				i += 3
			}
		}
		return
	}
	b := img.Bounds()
	i := 0
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			c := color.NRGBAModel.Convert(img.At(x, y)).(color.NRGBA)
			dst[i], dst[i+1], dst[i+2] = c.R, c.G, c.B
			i += 3
		}
	}
}

// ycbcrToRGB converts the common JPEG case without per-pixel interface
// calls; it returns false for layouts it does not handle.
func ycbcrToRGB(dst []uint8, m *image.YCbCr) bool {
	var hs, vs uint
	switch m.SubsampleRatio {
	case image.YCbCrSubsampleRatio444:
	case image.YCbCrSubsampleRatio422:
		hs = 1
	case image.YCbCrSubsampleRatio420:
		hs, vs = 1, 1
	case image.YCbCrSubsampleRatio440:
		vs = 1
	case image.YCbCrSubsampleRatio411:
		hs = 2
	case image.YCbCrSubsampleRatio410:
		hs, vs = 2, 1
	default:
		return false
	}
	b := m.Rect
	if b.Min.X != 0 || b.Min.Y != 0 {
		return false
	}
	i := 0
	for y := 0; y < b.Max.Y; y++ {
		yrow := m.Y[y*m.YStride:][:b.Max.X]
		crow := (y >> vs) * m.CStride
		for x, yy := range yrow {
			ci := crow + x>>hs
			r, g, bl := color.YCbCrToRGB(yy, m.Cb[ci], m.Cr[ci])
			dst[i], dst[i+1], dst[i+2] = r, g, bl
			i += 3
		}
	}
	return true
}

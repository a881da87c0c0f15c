package data

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/jpeg"
	"image/png"
	"io"

	"github.com/mocoedge/mocoedge/internal/imaging"
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
	imaging.RGB(img, dst) // dst holds exactly h*w*3 bytes, so it is written in place
	return nil
}

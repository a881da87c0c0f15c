package preprocess

import (
	"bytes"
	"fmt"
	"image"
	"image/jpeg"
	"image/png"
)

// Image formats Bytes accepts, as Header.Format names them.
const (
	FormatJPEG = "jpeg"
	FormatPNG  = "png"
)

// Header is what an image file's header says, read without decoding any
// pixel.
type Header struct {
	// Format is FormatJPEG or FormatPNG.
	Format string
	// Width and Height are the image's size in pixels.
	Width, Height int
}

// ReadHeader returns the format and size of JPEG or PNG data, reading only
// its header (a walk over the JPEG marker segments up to the frame header,
// or PNG's IHDR chunk; image/jpeg and image/png when that walk fails, so
// the error says what is wrong). The error wraps ErrEmpty, ErrFormat or
// ErrCorrupt.
func ReadHeader(data []byte) (Header, error) {
	var h Header
	var cfg image.Config
	var err error
	switch {
	case len(data) == 0:
		return h, ErrEmpty
	case bytes.HasPrefix(data, []byte{0xff, 0xd8}):
		h.Format = FormatJPEG
		if w, ht, ok := jpegSize(data); ok {
			cfg.Width, cfg.Height = w, ht
		} else {
			cfg, err = jpeg.DecodeConfig(bytes.NewReader(data))
		}
	case bytes.HasPrefix(data, []byte("\x89PNG\r\n\x1a\n")):
		h.Format = FormatPNG
		if w, ht, ok := pngSize(data); ok {
			cfg.Width, cfg.Height = w, ht
		} else {
			cfg, err = png.DecodeConfig(bytes.NewReader(data))
		}
	default:
		return h, fmt.Errorf("%w: %d bytes starting %s", ErrFormat, len(data), leading(data))
	}
	if err != nil {
		return h, fmt.Errorf("%w: %s header of %d bytes: %w", ErrCorrupt, formatName(h.Format), len(data), err)
	}
	if cfg.Width < 1 || cfg.Height < 1 {
		return h, fmt.Errorf("%w: %s header of %d bytes declares a %dx%d image", ErrCorrupt, formatName(h.Format), len(data), cfg.Width, cfg.Height)
	}
	h.Width, h.Height = cfg.Width, cfg.Height
	return h, nil
}

// checkSize refuses an image larger than the limits; it names the size and
// the limit.
func (c *config) checkSize(w, h int) error {
	if w > c.maxSide || h > c.maxSide {
		return fmt.Errorf("%w: %dx%d exceeds the limit of %d pixels a side", ErrTooLarge, w, h, c.maxSide)
	}
	if w*h > c.maxPixels {
		return fmt.Errorf("%w: %dx%d is %.1f megapixels, above the limit of %.1f", ErrTooLarge, w, h, float64(w*h)/1e6, float64(c.maxPixels)/1e6)
	}
	return nil
}

// checkHeader reads the header and applies the size limits.
func (c *config) checkHeader(data []byte) (Header, error) {
	h, err := ReadHeader(data)
	if err != nil {
		return h, err
	}
	if err := c.checkSize(h.Width, h.Height); err != nil {
		return h, fmt.Errorf("%s: %w", formatName(h.Format), err)
	}
	return h, nil
}

// decode decodes data, whose header h has been checked, with the standard
// library. A panic inside a decoder (none is known, but the bytes come
// from the network) is returned as ErrCorrupt rather than taking the
// process down.
func decode(data []byte, h Header) (img image.Image, err error) {
	defer func() {
		if r := recover(); r != nil {
			img, err = nil, fmt.Errorf("%w: %s decoder panicked on %d bytes: %v", ErrCorrupt, formatName(h.Format), len(data), r)
		}
	}()
	switch h.Format {
	case FormatJPEG:
		img, err = jpeg.Decode(bytes.NewReader(data))
	default:
		img, err = png.Decode(bytes.NewReader(data))
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %dx%d %s of %d bytes: %w", ErrCorrupt, h.Width, h.Height, formatName(h.Format), len(data), err)
	}
	return img, nil
}

// formatName is the upper-case name used in messages.
func formatName(f string) string {
	switch f {
	case FormatJPEG:
		return "JPEG"
	case FormatPNG:
		return "PNG"
	}
	return "image"
}

// leading shows the first bytes of unrecognised data, for the error.
func leading(data []byte) string {
	n := min(len(data), 8)
	return fmt.Sprintf("% x", data[:n])
}

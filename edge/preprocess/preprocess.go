package preprocess

import (
	"fmt"
	"image"
	"sync"

	"github.com/mocoedge/mocoedge/internal/imaging"
	"github.com/mocoedge/mocoedge/models/manifest"
)

// Preprocessor turns images into a model's input as its manifest.Input
// describes. It is safe for concurrent use; scratch memory is pooled, so
// steady-state preprocessing allocates little beyond the decoder's own.
type Preprocessor struct {
	in      manifest.Input
	eval    *imaging.Eval
	cfg     config
	scratch sync.Pool // *scratch
	turbo   *turbo    // libjpeg-turbo (WithTurboJPEG), or nil
}

// scratch is one goroutine's reusable memory.
type scratch struct {
	r   imaging.Resampler
	rgb []uint8
}

// New returns a Preprocessor for a model taking in. The input must be RGB,
// with Crop equal to Height and Width, Resize >= Crop and positive Std.
// With WithTurboJPEG it loads libjpeg-turbo, and Close must be called.
func New(in manifest.Input, opts ...Option) (*Preprocessor, error) {
	var cfg config
	for _, o := range opts {
		o(&cfg)
	}
	cfg.defaults()
	if in.Color != "RGB" {
		return nil, fmt.Errorf("preprocess: input color %q: only \"RGB\" is supported", in.Color)
	}
	if in.Crop != in.Height || in.Crop != in.Width {
		return nil, fmt.Errorf("preprocess: crop %d does not give the model's %dx%d input", in.Crop, in.Width, in.Height)
	}
	e, err := imaging.NewEval(in.Resize, in.Crop, in.Mean, in.Std)
	if err != nil {
		return nil, fmt.Errorf("preprocess: %w", err)
	}
	p := &Preprocessor{in: in, eval: e, cfg: cfg}
	p.scratch.New = func() any { return new(scratch) }
	if cfg.turbo {
		if p.turbo, err = openTurbo(cfg.turboPath); err != nil {
			return nil, err
		}
	}
	return p, nil
}

// Close releases WithTurboJPEG's decoders; later JPEG decodes return
// ErrClosed. Without that option it does nothing.
func (p *Preprocessor) Close() error {
	if p.turbo != nil {
		p.turbo.close()
	}
	return nil
}

// Input returns the model input the Preprocessor produces.
func (p *Preprocessor) Input() manifest.Input { return p.in }

// Len is the number of float32 values one image gives: 3×Height×Width.
func (p *Preprocessor) Len() int { return p.eval.Len() }

// Bytes decodes JPEG or PNG data and writes the model input into dst (Len
// values). The header is checked against the size limits before any pixel
// is decoded. Errors wrap ErrEmpty, ErrFormat, ErrTooLarge or ErrCorrupt.
func (p *Preprocessor) Bytes(dst []float32, data []byte) error {
	if err := p.checkDst(dst); err != nil {
		return err
	}
	h, err := p.cfg.checkHeader(data)
	if err != nil {
		return fmt.Errorf("preprocess: %w", err)
	}
	if h.Format == FormatJPEG && p.turbo != nil {
		return p.turboJPEG(dst, data, h)
	}
	img, err := decode(data, h)
	if err != nil {
		return fmt.Errorf("preprocess: %w", err)
	}
	return p.image(dst, img)
}

// Image writes the model input for img into dst (Len values). Alpha is
// dropped, as PIL's convert("RGB") does.
func (p *Preprocessor) Image(dst []float32, img image.Image) error {
	if err := p.checkDst(dst); err != nil {
		return err
	}
	if b := img.Bounds(); b.Empty() {
		return fmt.Errorf("preprocess: %w: the image is empty (%v)", ErrCorrupt, b)
	} else if err := p.cfg.checkSize(b.Dx(), b.Dy()); err != nil {
		return fmt.Errorf("preprocess: %w", err)
	}
	return p.image(dst, img)
}

// turboJPEG decodes with libjpeg-turbo and applies the transform.
func (p *Preprocessor) turboJPEG(dst []float32, data []byte, h Header) error {
	s := p.scratch.Get().(*scratch)
	defer p.scratch.Put(s)
	pix, ht, w, err := p.turbo.decode(data, h, s.rgb)
	if err != nil {
		return fmt.Errorf("preprocess: %w", err)
	}
	s.rgb = pix
	if err := p.eval.Apply(&s.r, dst, pix, ht, w); err != nil {
		return fmt.Errorf("preprocess: %w", err)
	}
	return nil
}

// image converts img to RGB and applies the transform.
func (p *Preprocessor) image(dst []float32, img image.Image) error {
	s := p.scratch.Get().(*scratch)
	defer p.scratch.Put(s)
	var h, w int
	s.rgb, h, w = imaging.RGB(img, s.rgb)
	if err := p.eval.Apply(&s.r, dst, s.rgb, h, w); err != nil {
		return fmt.Errorf("preprocess: %w", err)
	}
	return nil
}

// RGB writes the model input for a raw frame of packed 8-bit RGB (3 bytes
// a pixel, rows top to bottom, no padding: ffmpeg's -pix_fmt rgb24) of
// width×height pixels into dst (Len values). Errors wrap ErrFrame or
// ErrTooLarge.
func (p *Preprocessor) RGB(dst []float32, pix []byte, width, height int) error {
	if err := p.checkDst(dst); err != nil {
		return err
	}
	if width < 1 || height < 1 {
		return fmt.Errorf("preprocess: %w: size %dx%d", ErrFrame, width, height)
	}
	if err := p.cfg.checkSize(width, height); err != nil {
		return fmt.Errorf("preprocess: frame: %w", err)
	}
	if want := 3 * width * height; len(pix) != want {
		return fmt.Errorf("preprocess: %w: %d bytes for %dx%d RGB (want %d)", ErrFrame, len(pix), width, height, want)
	}
	s := p.scratch.Get().(*scratch)
	defer p.scratch.Put(s)
	if err := p.eval.Apply(&s.r, dst, pix, height, width); err != nil {
		return fmt.Errorf("preprocess: %w", err)
	}
	return nil
}

// checkDst checks that dst holds exactly one image.
func (p *Preprocessor) checkDst(dst []float32) error {
	if len(dst) != p.Len() {
		return fmt.Errorf("preprocess: %w: %d values, one %dx%d image needs %d", ErrDestination, len(dst), p.in.Width, p.in.Height, p.Len())
	}
	return nil
}

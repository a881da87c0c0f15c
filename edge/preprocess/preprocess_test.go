package preprocess_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/mocoedge/mocoedge/edge/preprocess"
	"github.com/mocoedge/mocoedge/internal/imaging"
	"github.com/mocoedge/mocoedge/internal/testmodel"
	"github.com/mocoedge/mocoedge/models/manifest"
)

// reference preprocesses data the long way: image.Decode, imaging.RGB,
// imaging.Eval (which the imaging tests hold to the trainer's code).
func reference(t *testing.T, in manifest.Input, data []byte) []float32 {
	t.Helper()
	img, _, err := image.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	pix, h, w := imaging.RGB(img, nil)
	e, err := imaging.NewEval(in.Resize, in.Crop, in.Mean, in.Std)
	if err != nil {
		t.Fatal(err)
	}
	out := make([]float32, e.Len())
	if err := e.Apply(&imaging.Resampler{}, out, pix, h, w); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestBytesImageAndRGBAgree(t *testing.T) {
	cifar := cifarJPEGs(t, 2)
	var pngBuf bytes.Buffer
	img, err := jpeg.Decode(bytes.NewReader(cifar[1]))
	if err != nil {
		t.Fatal(err)
	}
	if err := png.Encode(&pngBuf, img); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		in   manifest.Input
		data []byte
	}{
		{"cifar jpeg at 32", cifarInput, cifar[0]},
		{"cifar png at 32", cifarInput, pngBuf.Bytes()},
		{"cifar jpeg enlarged to 224", imagenetInput, cifar[0]},
		{"vga jpeg at 224", imagenetInput, enlarged(t, cifar[1], 640, 480)},
		{"portrait jpeg at 224", imagenetInput, enlarged(t, cifar[1], 240, 320)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p, err := preprocess.New(tc.in)
			if err != nil {
				t.Fatal(err)
			}
			want := reference(t, tc.in, tc.data)
			got := make([]float32, p.Len())
			if err := p.Bytes(got, tc.data); err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, want) {
				t.Fatal("Bytes differs from decode + imaging.Eval")
			}
			img, _, err := image.Decode(bytes.NewReader(tc.data))
			if err != nil {
				t.Fatal(err)
			}
			viaImage := make([]float32, p.Len())
			if err := p.Image(viaImage, img); err != nil {
				t.Fatal(err)
			}
			pix, h, w := imaging.RGB(img, nil)
			viaRGB := make([]float32, p.Len())
			if err := p.RGB(viaRGB, pix, w, h); err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(viaImage, want) || !slices.Equal(viaRGB, want) {
				t.Fatal("Image or RGB differs from Bytes")
			}
			for i, v := range got {
				if math.IsNaN(float64(v)) || math.Abs(float64(v)) > 3 {
					t.Fatalf("value %d = %v is not a normalised pixel", i, v)
				}
			}
		})
	}
}

func hugeJPEG(t *testing.T, w, h int) []byte { return testmodel.HugeJPEG(t, w, h) }

// hugePNG patches the IHDR chunk of a real PNG to declare w×h, with a
// valid CRC.
func hugePNG(t *testing.T, w, h int) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := png.Encode(&buf, image.NewGray(image.Rect(0, 0, 1, 1))); err != nil {
		t.Fatal(err)
	}
	b := buf.Bytes()
	binary.BigEndian.PutUint32(b[16:], uint32(w))
	binary.BigEndian.PutUint32(b[20:], uint32(h))
	binary.BigEndian.PutUint32(b[29:], crc32.ChecksumIEEE(b[12:29]))
	return b
}

func TestBytesRejects(t *testing.T) {
	good := cifarJPEGs(t, 1)[0]
	var pngBuf, gifBuf bytes.Buffer
	img := image.NewRGBA(image.Rect(0, 0, 40, 30))
	if err := png.Encode(&pngBuf, img); err != nil {
		t.Fatal(err)
	}
	if err := gif.Encode(&gifBuf, img, nil); err != nil {
		t.Fatal(err)
	}
	sof := bytes.Index(good, []byte{0xff, 0xc0})
	cases := []struct {
		name string
		data []byte
		want error
		msg  string
	}{
		{"zero bytes", nil, preprocess.ErrEmpty, "empty image data"},
		{"truncated jpeg", good[:len(good)/2], preprocess.ErrCorrupt, "32x32 JPEG of"},
		{"jpeg cut in its header", good[:sof+4], preprocess.ErrCorrupt, "JPEG header"},
		{"jpeg of two bytes", good[:2], preprocess.ErrCorrupt, "JPEG header of 2 bytes"},
		{"truncated png", pngBuf.Bytes()[:pngBuf.Len()-30], preprocess.ErrCorrupt, "40x30 PNG"},
		{"20000x20000 jpeg header", hugeJPEG(t, 20000, 20000), preprocess.ErrTooLarge, "20000x20000 exceeds the limit of 16384 pixels a side"},
		{"12000x12000 png header", hugePNG(t, 12000, 12000), preprocess.ErrTooLarge, "12000x12000 is 144.0 megapixels, above the limit of 40.0"},
		{"gif", gifBuf.Bytes(), preprocess.ErrFormat, "47 49 46 38"},
		{"text", []byte("hello, this is not an image"), preprocess.ErrFormat, "27 bytes"},
		{"zero-size jpeg header", hugeJPEG(t, 0, 8), preprocess.ErrCorrupt, "JPEG header"},
	}
	p, err := preprocess.New(cifarInput)
	if err != nil {
		t.Fatal(err)
	}
	dst := make([]float32, p.Len())
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := p.Bytes(dst, tc.data)
			if !errors.Is(err, tc.want) || !strings.Contains(err.Error(), tc.msg) {
				t.Fatalf("got %v, want %v saying %q", err, tc.want, tc.msg)
			}
			t.Logf("%v", err)
		})
	}
	if err := p.Bytes(dst[:10], good); !errors.Is(err, preprocess.ErrDestination) {
		t.Errorf("short destination: %v, want ErrDestination", err)
	}
}

func TestLimitsAreOptions(t *testing.T) {
	data := enlarged(t, cifarJPEGs(t, 1)[0], 64, 48)
	cases := []struct {
		name string
		opts []preprocess.Option
		want error
	}{
		{"defaults", nil, nil},
		{"pixels", []preprocess.Option{preprocess.WithMaxPixels(64*48 - 1)}, preprocess.ErrTooLarge},
		{"side", []preprocess.Option{preprocess.WithMaxSide(63)}, preprocess.ErrTooLarge},
		{"exactly at the limits", []preprocess.Option{preprocess.WithMaxPixels(64 * 48), preprocess.WithMaxSide(64)}, nil},
	}
	for _, tc := range cases {
		p, err := preprocess.New(cifarInput, tc.opts...)
		if err != nil {
			t.Fatal(err)
		}
		dst := make([]float32, p.Len())
		if err := p.Bytes(dst, data); !errors.Is(err, tc.want) {
			t.Errorf("%s: Bytes: %v, want %v", tc.name, err, tc.want)
		}
		if err := p.RGB(dst, make([]byte, 3*64*48), 64, 48); !errors.Is(err, tc.want) {
			t.Errorf("%s: RGB: %v, want %v", tc.name, err, tc.want)
		}
	}
}

func TestRGBAndImageReject(t *testing.T) {
	p, err := preprocess.New(cifarInput)
	if err != nil {
		t.Fatal(err)
	}
	dst := make([]float32, p.Len())
	cases := []struct {
		name string
		err  error
		want error
	}{
		{"frame one byte short", p.RGB(dst, make([]byte, 3*64*48-1), 64, 48), preprocess.ErrFrame},
		{"frame of zero width", p.RGB(dst, nil, 0, 48), preprocess.ErrFrame},
		{"frame of negative height", p.RGB(dst, nil, 4, -1), preprocess.ErrFrame},
		{"frame of 20000x20000", p.RGB(dst, nil, 20000, 20000), preprocess.ErrTooLarge},
		{"frame into a short destination", p.RGB(dst[1:], make([]byte, 3*32*32), 32, 32), preprocess.ErrDestination},
		{"empty image", p.Image(dst, image.NewRGBA(image.Rectangle{})), preprocess.ErrCorrupt},
		{"image of 20000x20000 bounds", p.Image(dst, &image.Uniform{C: color.White}), preprocess.ErrTooLarge},
	}
	for _, tc := range cases {
		if !errors.Is(tc.err, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, tc.err, tc.want)
		}
	}
}

func TestNewRejects(t *testing.T) {
	edit := func(f func(*manifest.Input)) manifest.Input {
		in := cifarInput
		f(&in)
		return in
	}
	cases := []struct {
		name string
		in   manifest.Input
		msg  string
	}{
		{"bgr", edit(func(in *manifest.Input) { in.Color = "BGR" }), `color "BGR"`},
		{"crop not the input", edit(func(in *manifest.Input) { in.Crop = 28 }), "crop 28"},
		{"resize below crop", edit(func(in *manifest.Input) { in.Resize = 16 }), "resize 16 and crop 32"},
		{"zero std", edit(func(in *manifest.Input) { in.Std[0] = 0 }), "std[0]"},
	}
	for _, tc := range cases {
		if _, err := preprocess.New(tc.in); err == nil || !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("%s: %v, want an error saying %q", tc.name, err, tc.msg)
		}
	}
}

func TestBatch(t *testing.T) {
	imgs := cifarJPEGs(t, 9)
	imgs[2] = nil
	imgs[7] = imgs[7][:100]
	for _, workers := range []int{1, 3, 16} {
		p, err := preprocess.New(imagenetInput, preprocess.WithWorkers(workers))
		if err != nil {
			t.Fatal(err)
		}
		per := p.Len()
		dst := make([]float32, len(imgs)*per)
		err = p.Batch(context.Background(), dst, imgs)
		var be *preprocess.BatchError
		if !errors.As(err, &be) || !slices.Equal(be.Failed(), []int{2, 7}) {
			t.Fatalf("workers %d: %v, want a BatchError for images 2 and 7", workers, err)
		}
		if !errors.Is(err, preprocess.ErrEmpty) || !errors.Is(err, preprocess.ErrCorrupt) || !strings.Contains(err.Error(), "2 of 9 images failed") {
			t.Errorf("workers %d: %v does not wrap both causes", workers, err)
		}
		one := make([]float32, per)
		for _, i := range []int{0, 5, 8} {
			if err := p.Bytes(one, imgs[i]); err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(dst[i*per:(i+1)*per], one) {
				t.Errorf("workers %d: image %d of the batch differs from Bytes", workers, i)
			}
		}
		if err := p.Batch(context.Background(), dst[1:], imgs); !errors.Is(err, preprocess.ErrDestination) {
			t.Errorf("short destination: %v", err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if err := p.Batch(ctx, dst, imgs); !errors.Is(err, context.Canceled) {
			t.Errorf("cancelled: %v, want context.Canceled", err)
		}
	}
}

// FuzzBytes: no input makes Bytes panic, and a failure always wraps one of
// the package's sentinels.
func FuzzBytes(f *testing.F) {
	good := cifarJPEGs(f, 1)[0]
	f.Add(good)
	f.Add(good[:len(good)/3])
	f.Add([]byte{0xff, 0xd8, 0xff})
	f.Add([]byte("\x89PNG\r\n\x1a\n"))
	p, err := preprocess.New(cifarInput, preprocess.WithMaxPixels(1<<20))
	if err != nil {
		f.Fatal(err)
	}
	dst := make([]float32, p.Len())
	f.Fuzz(func(t *testing.T, data []byte) {
		err := p.Bytes(dst, data)
		if err == nil {
			return
		}
		for _, s := range []error{preprocess.ErrEmpty, preprocess.ErrFormat, preprocess.ErrTooLarge, preprocess.ErrCorrupt} {
			if errors.Is(err, s) {
				return
			}
		}
		t.Fatalf("error wraps no sentinel: %v", err)
	})
}

// TestHeaderMatchesDecoders holds ReadHeader's own header walk to
// image/jpeg's and image/png's DecodeConfig on real and edited files.
func TestHeaderMatchesDecoders(t *testing.T) {
	cifar := cifarJPEGs(t, 3)
	files := map[string][]byte{
		"cifar 0": cifar[0], "cifar 1": cifar[1], "vga": enlarged(t, cifar[2], 640, 480),
		"huge jpeg": hugeJPEG(t, 20000, 20000), "huge png": hugePNG(t, 12000, 12000),
		"jpeg with fill bytes": append([]byte{0xff, 0xd8, 0xff, 0xff}, cifar[0][2:]...),
	}
	var pngBuf bytes.Buffer
	if err := png.Encode(&pngBuf, image.NewNRGBA(image.Rect(0, 0, 17, 5))); err != nil {
		t.Fatal(err)
	}
	files["png"] = pngBuf.Bytes()
	for name, data := range files {
		var cfg image.Config
		var err error
		if data[0] == 0xff {
			cfg, err = jpeg.DecodeConfig(bytes.NewReader(data))
		} else {
			cfg, err = png.DecodeConfig(bytes.NewReader(data))
		}
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		h, err := preprocess.ReadHeader(data)
		if err != nil || h.Width != cfg.Width || h.Height != cfg.Height {
			t.Errorf("%s: ReadHeader = %+v, %v; want %dx%d", name, h, err, cfg.Width, cfg.Height)
		}
	}
}

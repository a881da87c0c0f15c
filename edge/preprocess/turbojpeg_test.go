package preprocess_test

import (
	"bytes"
	"errors"
	"image"
	"image/jpeg"
	"math"
	"os"
	"strings"
	"testing"

	"github.com/mocoedge/mocoedge/edge/preprocess"
	"github.com/mocoedge/mocoedge/internal/imaging"
)

// newTurbo returns a Preprocessor decoding JPEG with libjpeg-turbo. The
// library is Debian's libturbojpeg0; without it the test is skipped with
// the reason (WithTurboJPEG is optional).
func newTurbo(t testing.TB, opts ...preprocess.Option) *preprocess.Preprocessor {
	t.Helper()
	p, err := preprocess.New(cifarInput, append(opts, preprocess.WithTurboJPEG(""))...)
	if err != nil {
		t.Fatalf("libjpeg-turbo unavailable (make test installs libturbojpeg0): %v", err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

// TestTurboJPEGCloseToStdlib: libjpeg-turbo's pixels are within a few grey
// levels of image/jpeg's, for CIFAR files and camera-sized frames.
func TestTurboJPEGCloseToStdlib(t *testing.T) {
	cifar := cifarJPEGs(t, 32)
	files := map[string][][]byte{"cifar 32x32": cifar, "vga 640x480": {enlarged(t, cifar[0], 640, 480), enlarged(t, cifar[1], 640, 480)}}
	for name, imgs := range files {
		for _, in := range []struct {
			name string
			p    func() *preprocess.Preprocessor
		}{
			{"32", func() *preprocess.Preprocessor { return newTurbo(t) }},
		} {
			p := in.p()
			std, err := preprocess.New(cifarInput)
			if err != nil {
				t.Fatal(err)
			}
			var maxPix float64
			var sum, count float64
			for _, data := range imgs {
				got, want := make([]float32, p.Len()), make([]float32, p.Len())
				if err := p.Bytes(got, data); err != nil {
					t.Fatal(err)
				}
				if err := std.Bytes(want, data); err != nil {
					t.Fatal(err)
				}
				for i := range got {
					// Back to grey levels: (v·std + mean)·255.
					d := math.Abs(float64(got[i]-want[i])) * float64(cifarInput.Std[i/(32*32)]) * 255
					maxPix = max(maxPix, d)
					sum += d
					count++
				}
			}
			t.Logf("%s: libjpeg-turbo vs image/jpeg after preprocessing: max %.2f, mean %.3f grey levels", name, maxPix, sum/count)
			if maxPix > 8 || sum/count > 1 {
				t.Errorf("%s: libjpeg-turbo is %.2f (mean %.3f) grey levels from image/jpeg", name, maxPix, sum/count)
			}
		}
	}
}

func TestTurboJPEGRejects(t *testing.T) {
	p := newTurbo(t)
	good := cifarJPEGs(t, 1)[0]
	dst := make([]float32, p.Len())
	cases := []struct {
		name string
		data []byte
		want error
		msg  string
	}{
		{"truncated", good[:len(good)/2], preprocess.ErrCorrupt, "TurboJPEG"},
		{"huge header", hugeJPEG(t, 20000, 20000), preprocess.ErrTooLarge, "20000x20000"},
		{"empty", nil, preprocess.ErrEmpty, "empty"},
		{"garbage after the header", append(append([]byte{}, good[:200]...), bytes.Repeat([]byte{0x55}, 300)...), preprocess.ErrCorrupt, "JPEG"},
	}
	for _, tc := range cases {
		err := p.Bytes(dst, tc.data)
		if !errors.Is(err, tc.want) || !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("%s: %v, want %v saying %q", tc.name, err, tc.want, tc.msg)
		}
		t.Logf("%s: %v", tc.name, err)
		// The handle that failed must not poison the next decode.
		if err := p.Bytes(dst, good); err != nil {
			t.Errorf("a good JPEG after %s: %v", tc.name, err)
		}
	}
	// PNG still goes through image/png.
	var buf bytes.Buffer
	img, _ := jpeg.Decode(bytes.NewReader(good))
	if err := pngEncode(&buf, img); err != nil {
		t.Fatal(err)
	}
	if err := p.Bytes(dst, buf.Bytes()); err != nil {
		t.Errorf("png: %v", err)
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	if err := p.Bytes(dst, good); !errors.Is(err, preprocess.ErrClosed) {
		t.Errorf("after Close: %v, want ErrClosed", err)
	}
	missing := "/nonexistent/libturbojpeg.so.0"
	if _, err := preprocess.New(cifarInput, preprocess.WithTurboJPEG(missing)); err == nil || !strings.Contains(err.Error(), missing) {
		t.Errorf("missing library: %v", err)
	}
	_ = os.ErrNotExist
	_ = image.Point{}
	_ = imaging.Resampler{}
}

// BenchmarkTurboJPEG is BenchmarkBytes with libjpeg-turbo.
func BenchmarkTurboJPEG(b *testing.B) {
	cifar := cifarJPEGs(b, 16)
	for _, bc := range []struct {
		name string
		w, h int
	}{{"cifar32_to_32", 0, 0}, {"640x480_to_224", 640, 480}} {
		imgs := cifar
		in := cifarInput
		if bc.w > 0 {
			imgs, in = nil, imagenetInput
			for _, c := range cifar[:4] {
				imgs = append(imgs, enlarged(b, c, bc.w, bc.h))
			}
		}
		p, err := preprocess.New(in, preprocess.WithTurboJPEG(""))
		if err != nil {
			b.Skipf("libjpeg-turbo unavailable: %v", err)
		}
		dst := make([]float32, p.Len())
		b.Run(bc.name, func(b *testing.B) {
			i := 0
			for b.Loop() {
				if err := p.Bytes(dst, imgs[i%len(imgs)]); err != nil {
					b.Fatal(err)
				}
				i++
			}
		})
		p.Close()
	}
}

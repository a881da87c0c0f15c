package imaging_test

import (
	"image"
	"strings"
	"testing"

	"github.com/mocoedge/mocoedge/internal/imaging"
)

func TestResampleMatchesReference(t *testing.T) {
	cases := []struct {
		name       string
		h, w       int
		box        image.Rectangle
		outH, outW int
	}{
		{"same size copies", 32, 32, image.Rect(0, 0, 32, 32), 32, 32},
		{"shrink 640x480 to 298x224", 480, 640, image.Rect(0, 0, 640, 480), 224, 298},
		{"enlarge 32 to 224", 32, 32, image.Rect(0, 0, 32, 32), 224, 224},
		{"box, mixed", 50, 70, image.Rect(9, 4, 60, 37), 40, 20},
		{"odd shrink", 101, 37, image.Rect(0, 0, 37, 101), 13, 11},
		{"one pixel", 5, 5, image.Rect(2, 2, 3, 3), 4, 4},
	}
	var r imaging.Resampler
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			src := randomRGB(uint64(tc.h*tc.w), tc.h, tc.w)
			b := tc.box
			want, err := referenceResizedCrop(src, tc.h, tc.w, b.Min.Y, b.Min.X, b.Dy(), b.Dx(), tc.outH, tc.outW)
			if err != nil {
				t.Fatal(err)
			}
			full := image.Rect(0, 0, tc.outW, tc.outH)
			got := make([]float32, 3*tc.outH*tc.outW)
			if err := r.Resample(got, src, tc.h, tc.w, b, tc.outH, tc.outW, full); err != nil {
				t.Fatal(err)
			}
			sameBits(t, "full output", got, want)

			// A window equals the same part of the full output.
			win := image.Rect(tc.outW/4, tc.outH/3, tc.outW/4+max(tc.outW/2, 1), tc.outH/3+max(tc.outH/2, 1))
			part := make([]float32, 3*win.Dx()*win.Dy())
			if err := r.Resample(part, src, tc.h, tc.w, b, tc.outH, tc.outW, win); err != nil {
				t.Fatal(err)
			}
			var cut []float32
			for c := range 3 {
				for y := win.Min.Y; y < win.Max.Y; y++ {
					row := want[c*tc.outH*tc.outW+y*tc.outW:]
					cut = append(cut, row[win.Min.X:win.Max.X]...)
				}
			}
			sameBits(t, "window "+win.String(), part, cut)
		})
	}
}

func TestResampleRejects(t *testing.T) {
	src := make([]uint8, 3*10*10)
	full := image.Rect(0, 0, 4, 4)
	dst := make([]float32, 3*16)
	cases := []struct {
		name       string
		dst        []float32
		src        []uint8
		box, win   image.Rectangle
		outH, outW int
		msg        string
	}{
		{"box outside", dst, src, image.Rect(5, 5, 11, 8), full, 4, 4, "outside a 10x10 image"},
		{"empty box", dst, src, image.Rect(2, 2, 2, 5), full, 4, 4, "outside"},
		{"short source", dst, src[:20], image.Rect(0, 0, 10, 10), full, 4, 4, "20 bytes"},
		{"zero output", dst, src, image.Rect(0, 0, 10, 10), full, 0, 4, "output size"},
		{"window outside", dst, src, image.Rect(0, 0, 10, 10), image.Rect(2, 2, 5, 5), 4, 4, "window"},
		{"short destination", dst[:10], src, image.Rect(0, 0, 10, 10), full, 4, 4, "needs 48"},
	}
	var r imaging.Resampler
	for _, tc := range cases {
		err := r.Resample(tc.dst, tc.src, 10, 10, tc.box, tc.outH, tc.outW, tc.win)
		if err == nil || !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("%s: %v, want an error saying %q", tc.name, err, tc.msg)
		}
	}
}

func BenchmarkEvalApply(b *testing.B) {
	for _, bc := range []struct {
		name         string
		h, w, resize int
	}{{"32x32_to_32", 32, 32, 32}, {"224x224_to_224", 224, 224, 224}, {"640x480_to_224", 480, 640, 224}, {"1280x720_to_224", 720, 1280, 224}} {
		b.Run(bc.name, func(b *testing.B) {
			e, err := imaging.NewEval(bc.resize, bc.resize, [3]float32{0.5, 0.5, 0.5}, [3]float32{0.25, 0.25, 0.25})
			if err != nil {
				b.Fatal(err)
			}
			src := randomRGB(1, bc.h, bc.w)
			dst := make([]float32, e.Len())
			var r imaging.Resampler
			for b.Loop() {
				if err := e.Apply(&r, dst, src, bc.h, bc.w); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

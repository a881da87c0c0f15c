package imaging_test

import (
	"math"
	"strings"
	"testing"

	"github.com/mocoedge/mocoedge/internal/imaging"
)

// trainerPreprocess is `trainer embed`'s preprocess, spelled out on the
// reference resampler: resize the whole image, then cut the centre and
// normalise.
func trainerPreprocess(dst []float32, pix []uint8, h, w, resize, crop int, mean, std [3]float32) error {
	rh, rw := resize, resize
	if h < w {
		rw = int(float64(resize) * float64(w) / float64(h))
	} else if w < h {
		rh = int(float64(resize) * float64(h) / float64(w))
	}
	img, err := referenceResizedCrop(pix, h, w, 0, 0, h, w, rh, rw)
	if err != nil {
		return err
	}
	top := int(math.RoundToEven(float64(rh-crop) / 2))
	left := int(math.RoundToEven(float64(rw-crop) / 2))
	plane := crop * crop
	for c := range 3 {
		src := img[c*rh*rw : (c+1)*rh*rw]
		out := dst[c*plane : (c+1)*plane]
		for y := range crop {
			row := src[(top+y)*rw+left:]
			for x := range crop {
				out[y*crop+x] = (row[x] - mean[c]) / std[c]
			}
		}
	}
	return nil
}

func TestEvalMatchesTrainer(t *testing.T) {
	cifarMean, cifarStd := [3]float32{0.4914, 0.4822, 0.4465}, [3]float32{0.2023, 0.1994, 0.2010}
	netMean, netStd := [3]float32{0.485, 0.456, 0.406}, [3]float32{0.229, 0.224, 0.225}
	cases := []struct {
		name               string
		h, w, resize, crop int
		mean, std          [3]float32
	}{
		{"cifar as is", 32, 32, 32, 32, cifarMean, cifarStd},
		{"cifar crop only", 36, 36, 36, 32, cifarMean, cifarStd},
		{"enlarge to 32", 20, 24, 32, 32, cifarMean, cifarStd},
		{"vga to 224", 480, 640, 224, 224, netMean, netStd},
		{"portrait to 224", 300, 224, 224, 224, netMean, netStd},
		{"imagenet 256 then 224", 375, 500, 256, 224, netMean, netStd},
		{"hd to 224", 720, 1280, 224, 224, netMean, netStd},
	}
	var r imaging.Resampler
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e, err := imaging.NewEval(tc.resize, tc.crop, tc.mean, tc.std)
			if err != nil {
				t.Fatal(err)
			}
			pix := randomRGB(7, tc.h, tc.w)
			want := make([]float32, 3*tc.crop*tc.crop)
			if err := trainerPreprocess(want, pix, tc.h, tc.w, tc.resize, tc.crop, tc.mean, tc.std); err != nil {
				t.Fatal(err)
			}
			got := make([]float32, e.Len())
			if err := e.Apply(&r, got, pix, tc.h, tc.w); err != nil {
				t.Fatal(err)
			}
			sameBits(t, tc.name, got, want)
		})
	}
}

func TestEvalRejects(t *testing.T) {
	ok := [3]float32{1, 1, 1}
	for _, tc := range []struct {
		name         string
		resize, crop int
		std          [3]float32
		msg          string
	}{
		{"crop above resize", 16, 32, ok, "resize 16 and crop 32"},
		{"zero crop", 0, 0, ok, "crop 0"},
		{"zero std", 32, 32, [3]float32{1, 0, 1}, "std[1]"},
		{"nan std", 32, 32, [3]float32{1, 1, float32(math.NaN())}, "std[2]"},
	} {
		if _, err := imaging.NewEval(tc.resize, tc.crop, [3]float32{}, tc.std); err == nil || !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("%s: %v, want an error saying %q", tc.name, err, tc.msg)
		}
	}
	e, err := imaging.NewEval(32, 32, [3]float32{}, ok)
	if err != nil {
		t.Fatal(err)
	}
	var r imaging.Resampler
	if err := e.Apply(&r, make([]float32, e.Len()), make([]uint8, 10), 32, 32); err == nil {
		t.Error("short image accepted")
	}
	if err := e.Apply(&r, make([]float32, 5), make([]uint8, 3*32*32), 32, 32); err == nil {
		t.Error("short destination accepted")
	}
}

func TestGeometry(t *testing.T) {
	for _, tc := range []struct {
		h, w, resize, rh, rw int
	}{
		{480, 640, 224, 224, 298}, {640, 480, 224, 298, 224}, {32, 32, 32, 32, 32}, {333, 500, 256, 256, 384},
	} {
		if rh, rw := imaging.ResizedSize(tc.h, tc.w, tc.resize); rh != tc.rh || rw != tc.rw {
			t.Errorf("ResizedSize(%d, %d, %d) = %d, %d; want %d, %d", tc.h, tc.w, tc.resize, rh, rw, tc.rh, tc.rw)
		}
	}
	// torchvision: int(round((299 - 224) / 2.0)) = 38 (37.5 rounds to even).
	if top, left := imaging.CenterCrop(299, 224, 224); top != 38 || left != 0 {
		t.Errorf("CenterCrop(299, 224, 224) = %d, %d; want 38, 0", top, left)
	}
}

package augment

import (
	"math"
	"math/rand/v2"
	"testing"
)

func TestResizedCropHandComputed(t *testing.T) {
	// A 4x4 image with R = 10y + x, G = 100 + x, B = 200.
	src := hwc(4, 4,
		func(y, x int) uint8 { return uint8(10*y + x) },
		func(y, x int) uint8 { return uint8(100 + x) },
		func(y, x int) uint8 { return 200 })
	tests := []struct {
		name                          string
		top, left, bh, bw, outH, outW int
		wantR, wantG                  []float32
	}{
		{
			// Box rows 1-2, columns 0-1 ([[10 11] [20 21]]) enlarged 2x:
			// bilinear with half-pixel centres, weights per axis
			// [1 0], [.75 .25], [.25 .75], [0 1].
			name: "2x2 box to 4x4", top: 1, left: 0, bh: 2, bw: 2, outH: 4, outW: 4,
			wantR: scaled(
				10, 10.25, 10.75, 11,
				12.5, 12.75, 13.25, 13.5,
				17.5, 17.75, 18.25, 18.5,
				20, 20.25, 20.75, 21),
			wantG: scaled(
				100, 100.25, 100.75, 101,
				100, 100.25, 100.75, 101,
				100, 100.25, 100.75, 101,
				100, 100.25, 100.75, 101),
		},
		{
			// Whole image halved: PIL's antialiased triangle of support 2
			// gives weights [3/7 3/7 1/7] on pixels 0-2 and [1/7 3/7 3/7] on
			// pixels 1-3. Rows of R: 0, 10, 20, 30 -> 50/7, 160/7; columns
			// 0..3 -> 5/7, 16/7.
			name: "4x4 to 2x2", top: 0, left: 0, bh: 4, bw: 4, outH: 2, outW: 2,
			wantR: scaled(
				50.0/7+5.0/7, 50.0/7+16.0/7,
				160.0/7+5.0/7, 160.0/7+16.0/7),
			wantG: scaled(100+5.0/7, 100+16.0/7, 100+5.0/7, 100+16.0/7),
		},
		{
			name: "same size copies", top: 1, left: 1, bh: 2, bw: 3, outH: 2, outW: 3,
			wantR: scaled(11, 12, 13, 21, 22, 23),
			wantG: scaled(101, 102, 103, 101, 102, 103),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dst := &Image{}
			if err := ResizedCrop(dst, src, 4, 4, tt.top, tt.left, tt.bh, tt.bw, tt.outH, tt.outW); err != nil {
				t.Fatal(err)
			}
			closeTo(t, "R", dst.Plane(0), tt.wantR, 1e-6)
			closeTo(t, "G", dst.Plane(1), tt.wantG, 1e-6)
			for _, v := range dst.Plane(2) {
				if math.Abs(float64(v)-200.0/255) > 1e-6 {
					t.Fatalf("B %v, want 200/255", v)
				}
			}
		})
	}
}

// bilinearReference is textbook bilinear interpolation with half-pixel
// centres and clamped edges (PyTorch's align_corners=False), written
// independently of ResizedCrop, for enlargement.
func bilinearReference(src []uint8, srcW, top, left, bh, bw, outH, outW int) []float32 {
	out := make([]float32, 3*outH*outW)
	coord := func(i, in, outN int) (int, int, float64) {
		s := (float64(i)+0.5)*float64(in)/float64(outN) - 0.5
		s = max(s, 0)
		i0 := min(int(s), in-1)
		i1 := min(i0+1, in-1)
		return i0, i1, s - float64(i0)
	}
	for y := range outH {
		y0, y1, fy := coord(y, bh, outH)
		for x := range outW {
			x0, x1, fx := coord(x, bw, outW)
			for c := range 3 {
				at := func(yy, xx int) float64 { return float64(src[3*((top+yy)*srcW+left+xx)+c]) }
				v := (1-fy)*((1-fx)*at(y0, x0)+fx*at(y0, x1)) + fy*((1-fx)*at(y1, x0)+fx*at(y1, x1))
				out[c*outH*outW+y*outW+x] = float32(v / 255)
			}
		}
	}
	return out
}

func TestResizedCropMatchesBilinearWhenEnlarging(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	src := hwc(32, 32,
		func(int, int) uint8 { return uint8(rng.IntN(256)) },
		func(int, int) uint8 { return uint8(rng.IntN(256)) },
		func(int, int) uint8 { return uint8(rng.IntN(256)) })
	dst := &Image{}
	for range 50 {
		bh, bw := 1+rng.IntN(32), 1+rng.IntN(32)
		top, left := rng.IntN(32-bh+1), rng.IntN(32-bw+1)
		outH, outW := bh+rng.IntN(40), bw+rng.IntN(40)
		if err := ResizedCrop(dst, src, 32, 32, top, left, bh, bw, outH, outW); err != nil {
			t.Fatal(err)
		}
		closeTo(t, "enlarged crop", dst.Pix, bilinearReference(src, 32, top, left, bh, bw, outH, outW), 2e-6)
	}
}

func TestResizedCropConstantStaysConstant(t *testing.T) {
	src := hwc(20, 30, func(int, int) uint8 { return 77 }, func(int, int) uint8 { return 0 }, func(int, int) uint8 { return 255 })
	for _, size := range [][2]int{{7, 5}, {20, 30}, {64, 3}, {1, 1}} {
		dst := &Image{}
		if err := ResizedCrop(dst, src, 20, 30, 0, 0, 20, 30, size[0], size[1]); err != nil {
			t.Fatal(err)
		}
		n := size[0] * size[1]
		want := make([]float32, 3*n)
		for i := range n {
			want[i], want[n+i], want[2*n+i] = 77.0/255, 0, 1
		}
		closeTo(t, "constant", dst.Pix, want, 1e-6)
	}
}

func TestResizedCropRejectsBadBoxes(t *testing.T) {
	src := make([]uint8, 3*4*4)
	tests := []struct {
		name                          string
		top, left, bh, bw, outH, outW int
	}{
		{"box past the bottom", 2, 0, 3, 1, 4, 4},
		{"negative left", 0, -1, 2, 2, 4, 4},
		{"empty box", 0, 0, 0, 2, 4, 4},
		{"empty output", 0, 0, 2, 2, 0, 4},
	}
	for _, tt := range tests {
		if err := ResizedCrop(&Image{}, src, 4, 4, tt.top, tt.left, tt.bh, tt.bw, tt.outH, tt.outW); err == nil {
			t.Errorf("%s: no error", tt.name)
		}
	}
}

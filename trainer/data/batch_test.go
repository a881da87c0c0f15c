package data

import (
	"math"
	"testing"
)

func TestBatch(t *testing.T) {
	// Two 1x2 images: pixels (r,g,b) per position.
	pix := []uint8{
		0, 128, 255, 10, 20, 30, // image 0
		255, 0, 51, 1, 2, 3, // image 1
	}
	ds, err := NewUniform(pix, 1, 2, []int{0, 1}, []string{"a", "b"})
	if err != nil {
		t.Fatal(err)
	}
	mean, std := [3]float32{0.5, 0.25, 0}, [3]float32{0.5, 2, 1}
	dst := make([]float32, 2*3*2)
	if err := ds.Batch(dst, []int{1, 0}, mean, std); err != nil {
		t.Fatal(err)
	}
	norm := func(v uint8, c int) float32 { return (float32(v)/255 - mean[c]) / std[c] }
	want := []float32{
		// n=0 is image 1: R plane, G plane, B plane
		norm(255, 0), norm(1, 0), norm(0, 1), norm(2, 1), norm(51, 2), norm(3, 2),
		// n=1 is image 0
		norm(0, 0), norm(10, 0), norm(128, 1), norm(20, 1), norm(255, 2), norm(30, 2),
	}
	for i := range want {
		if dst[i] != want[i] {
			t.Errorf("dst[%d] = %v, want %v", i, dst[i], want[i])
		}
	}
	if math.Abs(float64(dst[0])-1) > 1e-6 || math.Abs(float64(dst[6])+1) > 1e-6 {
		t.Errorf("255 and 0 with mean 0.5 std 0.5 give %v and %v, want 1 and -1", dst[0], dst[6])
	}

	tests := []struct {
		name string
		dst  []float32
		idx  []int
	}{
		{"dst too small", make([]float32, 11), []int{0, 1}},
		{"index out of range", make([]float32, 12), []int{0, 2}},
		{"negative index", make([]float32, 6), []int{-1}},
	}
	for _, tt := range tests {
		if err := ds.Batch(tt.dst, tt.idx, mean, std); err == nil {
			t.Errorf("%s: no error", tt.name)
		}
	}
}

func TestNewUniformChecks(t *testing.T) {
	tests := []struct {
		name   string
		pix    []uint8
		h, w   int
		labels []int
	}{
		{"short pixels", make([]uint8, 5), 1, 2, []int{0}},
		{"bad label", make([]uint8, 6), 1, 2, []int{3}},
		{"zero size", nil, 0, 2, nil},
	}
	for _, tt := range tests {
		if _, err := NewUniform(tt.pix, tt.h, tt.w, tt.labels, []string{"a"}); err == nil {
			t.Errorf("%s: no error", tt.name)
		}
	}
}

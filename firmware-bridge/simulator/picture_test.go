package simulator

import (
	"bytes"
	"image/jpeg"
	"testing"
)

func TestPicture(t *testing.T) {
	pic, err := Picture(64, 48, 3)
	if err != nil {
		t.Fatal(err)
	}
	img, err := jpeg.Decode(bytes.NewReader(pic))
	if err != nil {
		t.Fatal(err)
	}
	if b := img.Bounds(); b.Dx() != 64 || b.Dy() != 48 {
		t.Errorf("decoded %v, want 64x48", b)
	}
	again, _ := Picture(64, 48, 3)
	other, _ := Picture(64, 48, 4)
	if !bytes.Equal(pic, again) || bytes.Equal(pic, other) {
		t.Error("a picture must depend on its seed and only on it")
	}
	if _, err := Picture(0, 10, 1); err == nil {
		t.Error("an empty picture must be refused")
	}
}

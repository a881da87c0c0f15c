package data

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/color"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// mixedFolder builds a labelled folder with PNGs of several colour models, a
// JPEG, a corrupt file, an empty file and files the loader must ignore. It
// returns the folder and the expected pixels by name.
func mixedFolder(t *testing.T) (string, map[string][]uint8) {
	t.Helper()
	dir := t.TempDir()
	want := map[string][]uint8{}
	add := func(name string, m image.Image, b []byte) {
		writeFile(t, dir, name, b)
		want[name] = wantRGB(m)
	}
	rgba := pattern(5, 7, 1)
	add("cat/rgba.png", rgba, encodePNG(t, rgba))
	gray := image.NewGray(image.Rect(0, 0, 7, 5))
	for i := range gray.Pix {
		gray.Pix[i] = uint8(i * 7)
	}
	add("cat/gray.png", gray, encodePNG(t, gray))
	pal := image.NewPaletted(image.Rect(0, 0, 7, 5), color.Palette{color.RGBA{255, 0, 0, 255}, color.RGBA{0, 0, 255, 255}, color.RGBA{10, 200, 30, 255}})
	for i := range pal.Pix {
		pal.Pix[i] = uint8(i % 3)
	}
	add("dog/pal.png", pal, encodePNG(t, pal))
	// Alpha is dropped, not composited (PIL's convert("RGB")).
	alpha := pattern(5, 7, 3)
	for i := 3; i < len(alpha.Pix); i += 8 {
		alpha.Pix[i] = 128
	}
	add("dog/alpha.png", alpha, encodePNG(t, alpha))
	jpg := encodeJPEG(t, pattern(5, 7, 9))
	decoded, err := decodeImage(jpg)
	if err != nil {
		t.Fatal(err)
	}
	add("dog/photo.JPG", decoded, jpg)

	writeFile(t, dir, "cat/corrupt.jpg", []byte("\xff\xd8 this is not really a JPEG"))
	writeFile(t, dir, "dog/empty.png", nil)
	writeFile(t, dir, "dog/notes.txt", []byte("ignored: not an image name"))
	writeFile(t, dir, "dog/._photo.jpg", []byte("macOS resource fork, ignored"))
	writeFile(t, dir, ".thumbs/x.png", encodePNG(t, rgba))
	return dir, want
}

func TestLoadFolder(t *testing.T) {
	dir, want := mixedFolder(t)
	sink := &logSink{}
	ds, err := Load(context.Background(), dir, Options{MaxBadFraction: 0.5, Logger: sink.logger(), Workers: 3})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(ds.Classes(), []string{"cat", "dog"}) {
		t.Fatalf("classes %v", ds.Classes())
	}
	if ds.Len() != len(want) {
		t.Fatalf("Len %d, want %d", ds.Len(), len(want))
	}
	for i := range ds.Len() {
		name := ds.Name(i)
		pix, h, w := ds.Image(i)
		if h != 5 || w != 7 {
			t.Errorf("%s: size %dx%d, want 5x7", name, h, w)
		}
		if !bytes.Equal(pix, want[name]) {
			t.Errorf("%s: pixels\n got %v\nwant %v", name, pix, want[name])
		}
		if class := ds.Classes()[ds.Label(i)]; !strings.HasPrefix(name, class+"/") {
			t.Errorf("%s has class %s", name, class)
		}
	}
	r := ds.Report()
	if r.Skipped != 2 || r.Estimate.Files != 7 {
		t.Errorf("report %+v: want 2 skipped of 7 files", r)
	}
	warns := sink.records("WARN")
	if len(warns) != 1 {
		t.Fatalf("%d warnings, want exactly one: %v", len(warns), warns)
	}
	files, _ := warns[0]["files"].(string)
	for _, name := range []string{"cat/corrupt.jpg", "dog/empty.png"} {
		if !strings.Contains(files, name) {
			t.Errorf("warning %v does not name %s", warns[0], name)
		}
	}
	if warns[0]["count"] != float64(2) {
		t.Errorf("warning count %v, want 2", warns[0]["count"])
	}
}

func TestLoadBadFraction(t *testing.T) {
	dir, _ := mixedFolder(t) // 2 bad files of 7
	tests := []struct {
		name     string
		fraction float64
		wantErr  bool
	}{
		{"default 1% refuses", 0, true},
		{"none tolerated", -1, true},
		{"25% refuses 2/7", 0.25, true},
		{"30% accepts 2/7", 0.30, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sink := &logSink{}
			_, err := Load(context.Background(), dir, Options{MaxBadFraction: tt.fraction, Logger: sink.logger()})
			var bad *BadFilesError
			if tt.wantErr != errors.As(err, &bad) {
				t.Fatalf("error %v, want BadFilesError: %v", err, tt.wantErr)
			}
			if tt.wantErr {
				if bad.Bad != 2 || bad.Total != 7 || !strings.Contains(err.Error(), "cat/corrupt.jpg") {
					t.Errorf("error %q: want 2 of 7 named", err)
				}
			}
			if n := len(sink.records("WARN")); n != 1 {
				t.Errorf("%d warnings, want one", n)
			}
		})
	}
}

func TestLoadMemoryBudget(t *testing.T) {
	dir := t.TempDir()
	for c := range 3 {
		for i := range 10 {
			writeFile(t, dir, filepath.Join("c"+string(rune('a'+c)), string(rune('a'+i))+".png"), encodePNG(t, pattern(16, 16, c+i)))
		}
	}
	// Learn the estimate, then refuse with a budget just below it.
	est, err := Inspect(context.Background(), dir, Options{Workers: 1})
	if err != nil {
		t.Fatal(err)
	}
	if est.Images != 30 || est.CacheBytes != 30*16*16*3 || est.Height != 16 || est.Classes != 3 {
		t.Fatalf("estimate %+v", est)
	}
	budget := est.PeakBytes() - 1
	decoded := false
	_, err = Load(context.Background(), dir, Options{Workers: 1, MemoryBudget: budget, Logger: (&logSink{}).logger(),
		Progress: func(int, int) { decoded = true }})
	var be *BudgetError
	if !errors.As(err, &be) {
		t.Fatalf("error %v, want BudgetError", err)
	}
	if decoded {
		t.Error("images were decoded before the refusal")
	}
	msg := err.Error()
	for _, part := range []string{"--limit", FormatBytes(budget), "30 images"} {
		if !strings.Contains(msg, part) {
			t.Errorf("error %q does not say %q", msg, part)
		}
	}
	// The suggested limit fits.
	fit := be.Estimate.imagesThatFit()
	if fit <= 0 || fit >= 30 {
		t.Fatalf("suggested limit %d", fit)
	}
	ds, err := Load(context.Background(), dir, Options{Workers: 1, MemoryBudget: budget, Limit: fit, Logger: (&logSink{}).logger()})
	if err != nil {
		t.Fatalf("the suggested --limit %d does not fit: %v", fit, err)
	}
	if ds.Len() != fit {
		t.Errorf("Len %d, want %d", ds.Len(), fit)
	}
	// A negative budget disables the check.
	if _, err := Load(context.Background(), dir, Options{MemoryBudget: -1, Logger: (&logSink{}).logger()}); err != nil {
		t.Fatal(err)
	}
}

func TestLoadFlatFolder(t *testing.T) {
	dir := t.TempDir()
	for i := range 4 {
		writeFile(t, dir, string(rune('a'+i))+".png", encodePNG(t, pattern(3, 4, i)))
	}
	ds, err := Load(context.Background(), dir, Options{Logger: (&logSink{}).logger()})
	if err != nil {
		t.Fatal(err)
	}
	if ds.Len() != 4 || len(ds.Classes()) != 0 {
		t.Fatalf("Len %d classes %v, want 4 and none", ds.Len(), ds.Classes())
	}
	for i := range ds.Len() {
		if ds.Label(i) != -1 {
			t.Errorf("image %d label %d, want -1", i, ds.Label(i))
		}
		if pix, _, _ := ds.Image(i); !bytes.Equal(pix, wantRGB(pattern(3, 4, i))) {
			t.Errorf("image %d pixels differ", i)
		}
	}
	limited, err := Load(context.Background(), dir, Options{Limit: 3, Logger: (&logSink{}).logger()})
	if err != nil || limited.Len() != 3 {
		t.Fatalf("Limit 3 on a flat folder: %v images, %v", limited, err)
	}
}

func TestLoadMixedLayout(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "loose.png", encodePNG(t, pattern(2, 2, 0)))
	writeFile(t, dir, "cat/a.png", encodePNG(t, pattern(2, 2, 1)))
	_, err := Load(context.Background(), dir, Options{Logger: (&logSink{}).logger()})
	if err == nil || !strings.Contains(err.Error(), "mixed layout") {
		t.Fatalf("error %v, want a mixed layout error", err)
	}
}

// TestLoadTarMixedSizes reads an uncompressed tar with a split folder and
// images of different sizes.
func TestLoadTarMixedSizes(t *testing.T) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	imgs := map[string]image.Image{
		"./train/b/x.png": pattern(4, 6, 1),
		"./train/a/y.png": pattern(3, 2, 2),
		"./train/a/z.png": pattern(5, 5, 3),
	}
	tw.WriteHeader(&tar.Header{Name: "./train/", Typeflag: tar.TypeDir, Mode: 0o755})
	for _, name := range []string{"./train/b/x.png", "./train/a/y.png", "./train/a/z.png"} {
		b := encodePNG(t, imgs[name])
		if err := tw.WriteHeader(&tar.Header{Name: name, Size: int64(len(b)), Mode: 0o644, Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		tw.Write(b)
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "ds.tar")
	if err := os.WriteFile(p, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	ds, err := Load(context.Background(), p, Options{Logger: (&logSink{}).logger()})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, ok := ds.Size(); ok {
		t.Error("Size reports a common size for mixed sizes")
	}
	wantOrder := []string{"train/a/y.png", "train/a/z.png", "train/b/x.png"}
	for i, name := range wantOrder {
		pix, h, w := ds.Image(i)
		m := imgs["./"+name]
		if ds.Name(i) != name || h != m.Bounds().Dy() || w != m.Bounds().Dx() || !bytes.Equal(pix, wantRGB(m)) {
			t.Errorf("image %d: %s %dx%d, want %s %v", i, ds.Name(i), h, w, name, m.Bounds())
		}
	}
	if err := ds.Batch(make([]float32, 1000), []int{0}, CIFAR10Mean(), CIFAR10Std()); err == nil {
		t.Error("Batch accepted images of different sizes")
	}
}

// TestLoadDecodeFailure covers files whose header reads but whose body does
// not: they are found only in the second pass, and the cache is compacted.
func TestLoadDecodeFailure(t *testing.T) {
	tests := []struct {
		name  string
		sizes [][2]int // of the good images, in name order
	}{
		{"uniform", [][2]int{{4, 4}, {4, 4}, {4, 4}, {4, 4}}},
		{"mixed sizes", [][2]int{{4, 4}, {6, 3}, {2, 5}, {4, 4}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			var want [][]uint8
			for i, s := range tt.sizes {
				m := pattern(s[0], s[1], 5*i)
				writeFile(t, dir, fmt.Sprintf("c/%d.png", 2*i+1), encodePNG(t, m))
				want = append(want, wantRGB(m))
			}
			// Truncated bodies sort between the good images.
			full := encodeJPEG(t, pattern(8, 8, 1))
			writeFile(t, dir, "c/0.jpg", full[:len(full)-20])
			writeFile(t, dir, "c/4.jpg", full[:len(full)-40])
			sink := &logSink{}
			ds, err := Load(context.Background(), dir, Options{MaxBadFraction: 0.5, Logger: sink.logger(), Workers: 2})
			if err != nil {
				t.Fatal(err)
			}
			if ds.Len() != len(want) {
				t.Fatalf("Len %d, want %d", ds.Len(), len(want))
			}
			// The 8x8 JPEGs made the plan's sizes mixed; without them the
			// uniform case is uniform again.
			if _, _, ok := ds.Size(); ok != (tt.name == "uniform") {
				t.Errorf("Size ok = %v", ok)
			}
			for i := range want {
				pix, h, w := ds.Image(i)
				if h != tt.sizes[i][0] || w != tt.sizes[i][1] || !bytes.Equal(pix, want[i]) {
					t.Errorf("image %d (%s): %dx%d, pixels differ after compaction", i, ds.Name(i), h, w)
				}
			}
			warns := sink.records("WARN")
			if len(warns) != 1 || !strings.Contains(fmt.Sprint(warns[0]["files"]), "c/0.jpg") || !strings.Contains(fmt.Sprint(warns[0]["files"]), "c/4.jpg") {
				t.Errorf("warnings %v: want one naming c/0.jpg and c/4.jpg", warns)
			}
			if r := ds.Report(); r.Skipped != 2 || r.Estimate.Unreadable != 0 {
				t.Errorf("report %+v: want both bad files found by decoding, not by their headers", r)
			}
		})
	}
}

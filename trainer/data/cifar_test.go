package data

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"image/jpeg"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

var cifarClasses = []string{"airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"}

// readArchiveFile returns one file's bytes from a tar.gz, independently of
// the loader.
func readArchiveFile(t *testing.T, archive, name string) []byte {
	t.Helper()
	f, err := os.Open(archive)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	gz, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(gz)
	for {
		hdr, err := tr.Next()
		if err != nil {
			t.Fatalf("%s not found in %s: %v", name, archive, err)
		}
		if strings.TrimPrefix(hdr.Name, "./") == name {
			b, err := io.ReadAll(tr)
			if err != nil {
				t.Fatal(err)
			}
			return b
		}
	}
}

func TestLoadCIFARTestLimit(t *testing.T) {
	archive := filepath.Join(cifarDir(t), "test.tar.gz")
	var progress []int
	ds, err := Load(context.Background(), archive, Options{
		Limit: 1000, Seed: 7, Logger: (&logSink{}).logger(),
		Progress: func(done, total int) {
			if total != 1000 {
				t.Errorf("progress total %d, want 1000", total)
			}
			progress = append(progress, done)
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if ds.Len() != 1000 {
		t.Fatalf("Len %d, want 1000", ds.Len())
	}
	if !slices.Equal(ds.Classes(), cifarClasses) {
		t.Fatalf("classes %v, want %v", ds.Classes(), cifarClasses)
	}
	if h, w, ok := ds.Size(); !ok || h != 32 || w != 32 {
		t.Fatalf("Size %d %d %v, want 32 32 true", h, w, ok)
	}
	if ds.Bytes() != 1000*32*32*3 {
		t.Errorf("Bytes %d, want %d", ds.Bytes(), 1000*32*32*3)
	}
	if len(progress) == 0 || progress[len(progress)-1] != 1000 || !slices.IsSorted(progress) {
		t.Errorf("progress calls %v: want increasing, ending at 1000", progress)
	}
	perClass := make([]int, 10)
	for i := range ds.Len() {
		l := ds.Label(i)
		perClass[l]++
		if want := "test/" + cifarClasses[l] + "/"; !strings.HasPrefix(ds.Name(i), want) {
			t.Fatalf("image %d %q has label %d (%s)", i, ds.Name(i), l, cifarClasses[l])
		}
	}
	for c, n := range perClass {
		if n != 100 {
			t.Errorf("class %s has %d images, want 100", cifarClasses[c], n)
		}
	}

	// Pixels of a few images equal what image/jpeg decodes from the file.
	for _, i := range []int{0, 517, 999} {
		img, err := jpeg.Decode(bytes.NewReader(readArchiveFile(t, archive, ds.Name(i))))
		if err != nil {
			t.Fatal(err)
		}
		pix, h, w := ds.Image(i)
		if h != 32 || w != 32 || !bytes.Equal(pix, wantRGB(img)) {
			t.Errorf("image %d (%s): pixels differ from image/jpeg's decoding", i, ds.Name(i))
		}
	}

	// The subset is a function of the seed.
	again, err := Load(context.Background(), archive, Options{Limit: 1000, Seed: 7, Logger: (&logSink{}).logger()})
	if err != nil {
		t.Fatal(err)
	}
	other, err := Load(context.Background(), archive, Options{Limit: 1000, Seed: 8, Logger: (&logSink{}).logger()})
	if err != nil {
		t.Fatal(err)
	}
	same, diff := true, false
	for i := range ds.Len() {
		same = same && ds.Name(i) == again.Name(i)
		diff = diff || ds.Name(i) != other.Name(i)
	}
	if !same || !bytes.Equal(ds.Pixels(), again.Pixels()) {
		t.Error("same seed gave a different subset")
	}
	if !diff {
		t.Error("seeds 7 and 8 gave the same subset")
	}
}

// TestLoadCIFARTrain loads the full 50,000-image training archive and
// reports the time and memory.
func TestLoadCIFARTrain(t *testing.T) {
	if testing.Short() || raceEnabled {
		t.Skip("loads 50,000 images; skipped with -short and -race")
	}
	archive := filepath.Join(cifarDir(t), "train.tar.gz")
	start := time.Now()
	ds, err := Load(context.Background(), archive, Options{Logger: (&logSink{}).logger()})
	if err != nil {
		t.Fatal(err)
	}
	took := time.Since(start)
	if ds.Len() != 50000 || len(ds.Classes()) != 10 {
		t.Fatalf("loaded %d images in %d classes, want 50000 in 10", ds.Len(), len(ds.Classes()))
	}
	est := ds.Report().Estimate
	if est.CacheBytes != ds.Bytes() {
		t.Errorf("estimated cache %d bytes, cache is %d", est.CacheBytes, ds.Bytes())
	}
	t.Logf("train.tar.gz: %d images in %v (%.0f img/s), cache %s, estimate %s",
		ds.Len(), took.Round(time.Millisecond), float64(ds.Len())/took.Seconds(), FormatBytes(ds.Bytes()), est)
}

func TestLoadTruncatedArchive(t *testing.T) {
	full, err := os.ReadFile(filepath.Join(cifarDir(t), "test.tar.gz"))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		keep int
	}{
		{"half", len(full) / 2},
		{"header only", 20},
		{"last bytes missing", len(full) - 5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "cut.tar.gz")
			if err := os.WriteFile(p, full[:tt.keep], 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := Load(context.Background(), p, Options{Logger: (&logSink{}).logger()})
			if err == nil {
				t.Fatal("loaded a truncated archive without error")
			}
			if !errors.Is(err, io.ErrUnexpectedEOF) && !strings.Contains(err.Error(), "corrupt") && !strings.Contains(err.Error(), "truncated") {
				t.Errorf("error %q does not say the archive is truncated", err)
			}
		})
	}
}

func TestLoadCancelled(t *testing.T) {
	archive := filepath.Join(cifarDir(t), "test.tar.gz")
	ctx, cancel := context.WithCancel(context.Background())
	_, err := Load(ctx, archive, Options{Logger: (&logSink{}).logger(), Progress: func(done, total int) {
		if done > 100 {
			cancel()
		}
	}})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("error %v, want context.Canceled", err)
	}
}

func BenchmarkLoadCIFARTest(b *testing.B) {
	archive := filepath.Join(cifarDir(b), "test.tar.gz")
	for b.Loop() {
		ds, err := Load(context.Background(), archive, Options{Logger: (&logSink{}).logger()})
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(ds.Len())*float64(b.N)/b.Elapsed().Seconds(), "img/s")
	}
}

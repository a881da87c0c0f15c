package preprocess_test

import (
	"context"
	"testing"

	"github.com/mocoedge/mocoedge/edge/preprocess"
	"github.com/mocoedge/mocoedge/models/manifest"
)

// BenchmarkBytes measures decode + preprocess of one JPEG on one goroutine,
// for the sizes the edge meets: CIFAR's 32x32 for a 32-pixel model, and
// CIFAR enlarged, a 224x224 file and a VGA frame for a 224-pixel model.
func BenchmarkBytes(b *testing.B) {
	cifar := cifarJPEGs(b, 16)
	for _, bc := range []struct {
		name string
		in   manifest.Input
		w, h int // 0: the CIFAR file itself
	}{
		{"cifar32_to_32", cifarInput, 0, 0},
		{"cifar32_to_224", imagenetInput, 0, 0},
		{"224x224_to_224", imagenetInput, 224, 224},
		{"640x480_to_224", imagenetInput, 640, 480},
	} {
		imgs := cifar
		if bc.w > 0 {
			imgs = nil
			for _, c := range cifar[:4] {
				imgs = append(imgs, enlarged(b, c, bc.w, bc.h))
			}
		}
		p, err := preprocess.New(bc.in)
		if err != nil {
			b.Fatal(err)
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
		b.Run(bc.name+"/header_only", func(b *testing.B) {
			i := 0
			for b.Loop() {
				if _, err := preprocess.ReadHeader(imgs[i%len(imgs)]); err != nil {
					b.Fatal(err)
				}
				i++
			}
		})
	}
}

// BenchmarkBatch measures a batch of 8 CIFAR JPEGs on every core.
func BenchmarkBatch(b *testing.B) {
	imgs := cifarJPEGs(b, 8)
	p, err := preprocess.New(cifarInput)
	if err != nil {
		b.Fatal(err)
	}
	dst := make([]float32, len(imgs)*p.Len())
	for b.Loop() {
		if err := p.Batch(context.Background(), dst, imgs); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*len(imgs))/b.Elapsed().Seconds(), "img/s")
}

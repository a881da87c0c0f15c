package probe_test

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/mocoedge/mocoedge/edge/infer"
	"github.com/mocoedge/mocoedge/edge/preprocess"
	"github.com/mocoedge/mocoedge/edge/probe"
	"github.com/mocoedge/mocoedge/internal/blas"
	"github.com/mocoedge/mocoedge/internal/repo"
	"github.com/mocoedge/mocoedge/internal/testenc"
)

// labelsPerClass is how many labelled training images per class the probe
// learns from in TestCIFAR10.
const labelsPerClass = 100

// TestCIFAR10 is the probe's acceptance test on real data: features of an
// encoder exported by `trainer export` after `trainer pretrain`, 100
// labelled CIFAR-10 training images per class (the first of each class in
// the archive), and the accuracy on all 10,000 test images, which must beat
// the same probe on a random-init encoder's features.
func TestCIFAR10(t *testing.T) {
	if testing.Short() {
		t.Skip("embeds 11,000 images with two encoders; skipped under -short")
	}
	pretrained, random := testenc.Pretrained(t), testenc.RandomInit(t)
	trainImages, trainLabels := firstPerClass(t, labelsPerClass)
	testFiles, err := repo.CIFAR10Files("test.tar.gz", 10000)
	if err != nil {
		t.Fatal(err)
	}
	testImages := make([][]byte, len(testFiles))
	testLabels := make([]string, len(testFiles))
	for i, f := range testFiles {
		testImages[i], testLabels[i] = f.Data, classOf(f.Name)
	}
	g, err := blas.Load(blas.Options{})
	if err != nil {
		t.Fatal(err)
	}
	accuracy := map[string]float64{}
	for _, enc := range []struct{ name, path string }{{"pretrained", pretrained}, {"random-init", random}} {
		start := time.Now()
		trainX, testX, dim := embed(t, enc.path, trainImages, testImages)
		embedded := time.Since(start)
		examples := make([]probe.Example, len(trainLabels))
		for i, label := range trainLabels {
			examples[i] = probe.Example{Features: trainX[i*dim : (i+1)*dim], Label: label}
		}
		start = time.Now()
		m, err := probe.Train(context.Background(), examples, probe.Options{GEMM: g})
		if err != nil {
			t.Fatal(err)
		}
		trained := time.Since(start)
		preds, err := m.PredictBatch(testX, len(testLabels))
		if err != nil {
			t.Fatal(err)
		}
		correct, unknown := 0, 0
		for i, p := range preds {
			if p.Top[0].Label == testLabels[i] {
				correct++
			}
			if p.Label == probe.Unknown {
				unknown++
			}
		}
		accuracy[enc.name] = float64(correct) / float64(len(preds))
		t.Logf("%-11s %d-d features: test accuracy %.2f%% (10,000 images), held-out %.2f%% (%s over %d), T %.3f, NLL %.3f (T=1 %.3f), %.1f%% unknown below %.2f; embedded in %.1f s, trained in %.2f s",
			enc.name, dim, 100*accuracy[enc.name], 100*m.Accuracy, m.AccuracyMethod, m.HeldOut, m.Temperature, m.NLL, m.NLLUncalibrated,
			100*float64(unknown)/float64(len(preds)), m.Unknown, embedded.Seconds(), trained.Seconds())
	}
	if accuracy["pretrained"] <= accuracy["random-init"] {
		t.Errorf("pretrained features: %.2f%% test accuracy, not above random-init's %.2f%%", 100*accuracy["pretrained"], 100*accuracy["random-init"])
	}
}

// classOf returns the class folder of an archive path such as
// "test/airplane/0001.jpg".
func classOf(name string) string {
	parts := strings.Split(name, "/")
	return parts[len(parts)-2]
}

// firstPerClass streams the training archive in place and returns the first
// n JPEG files of each class in archive order, with their classes.
func firstPerClass(t *testing.T, n int) ([][]byte, []string) {
	t.Helper()
	path, err := repo.CIFAR10("train.tar.gz")
	if err != nil {
		t.Fatal(err)
	}
	count := map[string]int{}
	kept := 0
	files, err := repo.SelectArchiveFiles(path, func(name string) (keep, more bool) {
		if class := classOf(name); count[class] < n {
			count[class]++
			kept++
			keep = true
		}
		return keep, kept < 10*n
	})
	if err != nil {
		t.Fatal(err)
	}
	var images [][]byte
	var labels []string
	for _, f := range files {
		images, labels = append(images, f.Data), append(labels, classOf(f.Name))
	}
	if len(count) != 10 || len(images) != 10*n {
		t.Fatalf("%s: %d images of %d classes, want %d of 10", path, len(images), len(count), 10*n)
	}
	return images, labels
}

// embed runs the encoder at path (CPU provider) on both image sets,
// preprocessed as its manifest says, and returns their `features` rows and
// the feature width.
func embed(t *testing.T, path string, sets ...[][]byte) (train, test []float32, dim int) {
	t.Helper()
	ctx := context.Background()
	e, err := infer.New(ctx, path, infer.WithProviders(infer.ProviderCPU), infer.WithBatch(256, time.Millisecond),
		infer.WithQueueSize(1024), infer.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := e.Close(); err != nil {
			t.Error(err)
		}
	}()
	info, _ := e.Model()
	p, err := preprocess.New(info.Input)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	var out [][]float32
	for _, images := range sets {
		features := make([]float32, 0, len(images)*info.Features)
		pixels := make([]float32, 256*p.Len())
		for lo := 0; lo < len(images); lo += 256 {
			batch := images[lo:min(lo+256, len(images))]
			x := pixels[:len(batch)*p.Len()]
			if err := p.Batch(ctx, x, batch); err != nil {
				t.Fatal(fmt.Errorf("preprocess images %d..: %w", lo, err))
			}
			res, err := e.Embed(ctx, infer.Batch{Pixels: x, N: len(batch), Model: info.SHA256})
			if err != nil {
				t.Fatal(fmt.Errorf("embed images %d..: %w", lo, err))
			}
			features = append(features, res.Features...)
		}
		out = append(out, features)
	}
	return out[0], out[1], info.Features
}

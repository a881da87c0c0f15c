package augment

import (
	"context"
	"fmt"
	"math/rand/v2"
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/mocoedge/mocoedge/internal/repo"
	"github.com/mocoedge/mocoedge/trainer/data"
)

// synthetic makes a dataset of n random h x w images in 3 classes.
func synthetic(t testing.TB, n, h, w int) *data.Dataset {
	t.Helper()
	rng := rand.New(rand.NewPCG(42, 42))
	pix := make([]uint8, n*h*w*3)
	for i := range pix {
		pix[i] = uint8(rng.IntN(256))
	}
	labels := make([]int, n)
	for i := range labels {
		labels[i] = i % 3
	}
	ds, err := data.NewUniform(pix, h, w, labels, []string{"a", "b", "c"})
	if err != nil {
		t.Fatal(err)
	}
	return ds
}

// collect runs one epoch and returns copies of its batches.
func collect(t *testing.T, l *Loader, epoch int) []*Batch {
	t.Helper()
	var out []*Batch
	for b := range l.Epoch(context.Background(), epoch) {
		if err := b.Err(); err != nil {
			t.Fatal(err)
		}
		out = append(out, &Batch{Epoch: b.Epoch, Step: b.Step, N: b.N, H: b.H, W: b.W,
			Q: slices.Clone(b.Q), K: slices.Clone(b.K), Index: slices.Clone(b.Index), Label: slices.Clone(b.Label)})
		b.Release()
	}
	return out
}

func TestLoaderDeterministicAcrossWorkers(t *testing.T) {
	ds := synthetic(t, 100, 12, 10)
	p, err := MoCoV2Config(8, [3]float32{0.5, 0.5, 0.5}, [3]float32{0.25, 0.25, 0.25}).Build()
	if err != nil {
		t.Fatal(err)
	}
	var ref []*Batch
	for _, opts := range []LoaderOptions{
		{Workers: 1, Prefetch: 1},
		{Workers: 2, Prefetch: 2},
		{Workers: 5, Prefetch: 4},
		{Workers: 16, Prefetch: 1},
	} {
		opts.BatchSize, opts.Seed = 16, 2024
		t.Run(fmt.Sprintf("workers %d prefetch %d", opts.Workers, opts.Prefetch), func(t *testing.T) {
			l, err := NewLoader(ds, p, opts)
			if err != nil {
				t.Fatal(err)
			}
			got := collect(t, l, 3)
			if ref == nil {
				ref = got
				return
			}
			if len(got) != len(ref) {
				t.Fatalf("%d batches, want %d", len(got), len(ref))
			}
			for i := range got {
				if !slices.Equal(got[i].Q, ref[i].Q) || !slices.Equal(got[i].K, ref[i].K) || !slices.Equal(got[i].Index, ref[i].Index) {
					t.Fatalf("batch %d differs from the one-worker run", i)
				}
			}
		})
	}
}

func TestLoaderEpoch(t *testing.T) {
	ds := synthetic(t, 100, 8, 8)
	p, err := CIFARDemoConfig().Build()
	if err != nil {
		t.Fatal(err)
	}
	l, err := NewLoader(ds, p, LoaderOptions{BatchSize: 16, Workers: 3, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	if l.Batches() != 7 {
		t.Fatalf("Batches %d, want 7", l.Batches())
	}
	batches := collect(t, l, 0)
	var seen []int
	for s, b := range batches {
		if b.Step != s || b.Epoch != 0 || b.H != 32 || b.W != 32 {
			t.Errorf("batch %d: step %d epoch %d size %dx%d", s, b.Step, b.Epoch, b.H, b.W)
		}
		wantN := 16
		if s == 6 {
			wantN = 4
		}
		if b.N != wantN || len(b.Q) != wantN*3*32*32 || len(b.K) != len(b.Q) || len(b.Label) != wantN {
			t.Errorf("batch %d: N %d, %d q values, %d k values", s, b.N, len(b.Q), len(b.K))
		}
		for j, i := range b.Index {
			if b.Label[j] != ds.Label(i) {
				t.Errorf("batch %d sample %d: label %d, dataset says %d", s, j, b.Label[j], ds.Label(i))
			}
		}
		seen = append(seen, b.Index...)
	}
	if !slices.Equal(seen, Permutation(1, 0, 100)) {
		t.Error("the epoch's order is not the seeded permutation")
	}
	slices.Sort(seen)
	for i, v := range seen {
		if v != i {
			t.Fatalf("sample %d missing or repeated in the epoch", i)
		}
	}
	if slices.Equal(Permutation(1, 0, 100), Permutation(1, 1, 100)) {
		t.Error("epochs 0 and 1 have the same order")
	}

	// Any sample can be reproduced on its own.
	b := batches[2]
	pix, h, w := ds.Image(b.Index[5])
	q, k := make([]float32, p.ViewLen()), make([]float32, p.ViewLen())
	if err := p.TwoViews(q, k, pix, h, w, SampleRNG(1, 0, b.Index[5]), nil); err != nil {
		t.Fatal(err)
	}
	view := p.ViewLen()
	if !slices.Equal(q, b.Q[5*view:6*view]) || !slices.Equal(k, b.K[5*view:6*view]) {
		t.Error("sample differs from TwoViews with SampleRNG")
	}
}

func TestLoaderOptions(t *testing.T) {
	ds := synthetic(t, 50, 8, 8)
	p, err := EvalConfig(8, [3]float32{0.5, 0.5, 0.5}, [3]float32{0.5, 0.5, 0.5}).Build()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name        string
		opts        LoaderOptions
		wantBatches int
		wantLastN   int
	}{
		{"keep last", LoaderOptions{BatchSize: 16}, 4, 2},
		{"drop last", LoaderOptions{BatchSize: 16, DropLast: true}, 3, 16},
		{"single view in order", LoaderOptions{BatchSize: 10, SingleView: true, NoShuffle: true}, 5, 10},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l, err := NewLoader(ds, p, tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			got := collect(t, l, 0)
			if len(got) != tt.wantBatches || got[len(got)-1].N != tt.wantLastN {
				t.Fatalf("%d batches, last of %d; want %d, last of %d", len(got), got[len(got)-1].N, tt.wantBatches, tt.wantLastN)
			}
			if tt.opts.SingleView {
				if got[0].K != nil {
					t.Error("K is set with SingleView")
				}
				// Without randomness the views equal data's Batch.
				want := make([]float32, 10*3*8*8)
				if err := ds.Batch(want, got[1].Index, [3]float32{0.5, 0.5, 0.5}, [3]float32{0.5, 0.5, 0.5}); err != nil {
					t.Fatal(err)
				}
				closeTo(t, "eval view", got[1].Q, want, 1e-6)
				if !slices.Equal(got[1].Index, []int{10, 11, 12, 13, 14, 15, 16, 17, 18, 19}) {
					t.Errorf("NoShuffle order %v", got[1].Index)
				}
			}
		})
	}
	if _, err := NewLoader(ds, p, LoaderOptions{}); err == nil {
		t.Error("batch size 0 accepted")
	}
}

func TestLoaderCancel(t *testing.T) {
	ds := synthetic(t, 400, 32, 32)
	p, err := MoCoV2Config(32, [3]float32{0.5, 0.5, 0.5}, [3]float32{0.25, 0.25, 0.25}).Build()
	if err != nil {
		t.Fatal(err)
	}
	before := runtime.NumGoroutine()
	l, err := NewLoader(ds, p, LoaderOptions{BatchSize: 8, Workers: 4, Prefetch: 3})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	got := 0
	for range l.Epoch(ctx, 0) {
		got++
		if got == 2 {
			cancel()
		}
	}
	if got >= l.Batches() {
		t.Errorf("got all %d batches despite the cancel", got)
	}
	// Every goroutine of the epoch has ended when the channel closes.
	deadline := time.Now().Add(2 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before {
		t.Errorf("%d goroutines after the epoch, %d before", n, before)
	}
}

// cifarDataset loads the real CIFAR-10 test archive.
func cifarDataset(b *testing.B) *data.Dataset {
	b.Helper()
	p, err := repo.CIFAR10("test.tar.gz")
	if err != nil {
		b.Fatal(err)
	}
	ds, err := data.Load(context.Background(), p, data.Options{})
	if err != nil {
		b.Fatal(err)
	}
	return ds
}

// normaliseTime measures the reference: one batch of two views made without
// augmentation (data.Batch twice), on one goroutine.
func normaliseTime(b *testing.B, ds *data.Dataset, batch int) time.Duration {
	b.Helper()
	dst := make([]float32, batch*3*32*32)
	idx := make([]int, batch)
	for j := range idx {
		idx[j] = (j * 7) % ds.Len()
	}
	const rounds = 20
	start := time.Now()
	for range 2 * rounds {
		if err := ds.Batch(dst, idx, data.CIFAR10Mean(), data.CIFAR10Std()); err != nil {
			b.Fatal(err)
		}
	}
	return time.Since(start) / rounds
}

// BenchmarkLoaderCIFAR augments CIFAR-10 in batches of 512 with two views
// and reports samples (two views each) per second, and the time per batch
// as a multiple of the same batch made without augmentation (data.Batch for
// both views, one goroutine) measured in the same run. The normalise-only
// sub-benchmark reports that reference's throughput.
func BenchmarkLoaderCIFAR(b *testing.B) {
	ds := cifarDataset(b)
	const batch = 512
	recipes := []struct {
		name string
		cfg  Config
	}{
		{"cifar-demo", CIFARDemoConfig()},
		{"moco-v2-32", MoCoV2Config(32, data.CIFAR10Mean(), data.CIFAR10Std())},
	}
	for _, r := range recipes {
		p, err := r.cfg.Build()
		if err != nil {
			b.Fatal(err)
		}
		b.Run(r.name, func(b *testing.B) {
			l, err := NewLoader(ds, p, LoaderOptions{BatchSize: batch, DropLast: true, Seed: 1})
			if err != nil {
				b.Fatal(err)
			}
			ref := normaliseTime(b, ds, batch)
			samples, epoch := 0, 0
			b.ResetTimer()
			for samples < b.N*batch {
				for bt := range l.Epoch(context.Background(), epoch) {
					samples += bt.N
					bt.Release()
					if samples >= b.N*batch {
						break
					}
				}
				epoch++
			}
			perBatch := b.Elapsed() / time.Duration(max(1, samples/batch))
			b.ReportMetric(float64(samples)/b.Elapsed().Seconds(), "img/s")
			b.ReportMetric(float64(perBatch)/float64(ref), "x-normalise")
		})
	}
	b.Run("normalise-only", func(b *testing.B) {
		dst := make([]float32, batch*3*32*32)
		idx := make([]int, batch)
		for b.Loop() {
			for k := range 2 {
				for j := range idx {
					idx[j] = (j*7 + k) % ds.Len()
				}
				if err := ds.Batch(dst, idx, data.CIFAR10Mean(), data.CIFAR10Std()); err != nil {
					b.Fatal(err)
				}
			}
		}
		b.ReportMetric(float64(b.N*batch)/b.Elapsed().Seconds(), "img/s")
	})
}

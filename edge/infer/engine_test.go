package infer_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mocoedge/mocoedge/edge/infer"
	"github.com/mocoedge/mocoedge/models/onnxrun"
)

// TestEmbedMatchesSession: the engine's rows equal onnxrun.Session.Run on
// the same tensors, for one request of a whole batch, for single images
// batched by the batcher, and for a request split over several batches.
func TestEmbedMatchesSession(t *testing.T) {
	path, m := exportModel(t, t.TempDir(), cifarSpec)
	images := cifarJPEGs(t, 20)
	x := pixels(t, m.Input, images)
	per := 3 * m.Input.Height * m.Input.Width

	sess, err := onnxrun.Open(path, onnxrun.WithThreads(2))
	if err != nil {
		t.Fatal(err)
	}
	defer sess.Close()
	want, err := sess.Run(x, len(images))
	if err != nil {
		t.Fatal(err)
	}
	c, d := sess.Widths()
	e := newEngine(t, path, infer.WithBatch(8, 20*time.Millisecond))
	check := func(t *testing.T, r infer.Result, first, n int) {
		t.Helper()
		if r.FeaturesDim != c || r.EmbeddingDim != d || r.Model != m.SHA256 {
			t.Fatalf("result dims %d, %d from %s; want %d, %d from %s", r.FeaturesDim, r.EmbeddingDim, r.Model, c, d, m.SHA256)
		}
		got := onnxrun.Output{Features: r.Features, Embedding: r.Embedding}
		ref := onnxrun.Output{Features: want.Features[first*c : (first+n)*c], Embedding: want.Embedding[first*d : (first+n)*d]}
		diffs, err := onnxrun.Check(got, ref, 1e-5)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("images %d..%d: features max_rel_diff %.3g, embedding max_rel_diff %.3g", first, first+n-1, diffs[0].MaxRel, diffs[1].MaxRel)
	}

	t.Run("one request of 8", func(t *testing.T) {
		r, err := e.Embed(context.Background(), infer.Batch{Pixels: x[:8*per], N: 8})
		if err != nil {
			t.Fatal(err)
		}
		check(t, r, 0, 8)
		// The same batch through the same session options: the same bits.
		same, err := sess.Run(x[:8*per], 8)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(r.Features, same.Features) || !slices.Equal(r.Embedding, same.Embedding) {
			t.Error("one request of 8 differs from Session.Run of the same 8 images")
		}
		f, emb := r.Row(3)
		if len(f) != c || len(emb) != d || f[0] != r.Features[3*c] {
			t.Error("Row(3) is not the fourth row")
		}
	})
	t.Run("single images, concurrently", func(t *testing.T) {
		var wg sync.WaitGroup
		for i := range len(images) {
			wg.Go(func() {
				r, err := e.Embed(context.Background(), infer.Batch{Pixels: x[i*per : (i+1)*per], N: 1, Model: m.SHA256})
				if err != nil {
					t.Error(err)
					return
				}
				check(t, r, i, 1)
			})
		}
		wg.Wait()
	})
	t.Run("a request of 20 split into batches of 8", func(t *testing.T) {
		before := e.Stats().Batches
		r, err := e.Embed(context.Background(), infer.Batch{Pixels: x, N: len(images)})
		if err != nil {
			t.Fatal(err)
		}
		check(t, r, 0, len(images))
		if n := e.Stats().Batches - before; n != 3 {
			t.Errorf("20 images in %d batches, want 3 (8, 8, 4)", n)
		}
	})
}

// TestEmbedRejects: requests the engine refuses, each with its sentinel.
func TestEmbedRejects(t *testing.T) {
	path, m := exportModel(t, t.TempDir(), cifarSpec)
	e := newEngine(t, path, infer.WithBatch(4, time.Millisecond), infer.WithQueueSize(16))
	per := 3 * m.Input.Height * m.Input.Width
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	cases := []struct {
		name string
		ctx  context.Context
		b    infer.Batch
		want error
		msg  string
	}{
		{"no images", context.Background(), infer.Batch{N: 0}, infer.ErrInput, "a request of 0 images"},
		{"short pixels", context.Background(), infer.Batch{Pixels: make([]float32, per-1), N: 1}, infer.ErrInput, "takes 3x32x32 per image"},
		{"224 pixels for a 32 model", context.Background(), infer.Batch{Pixels: make([]float32, 3*224*224), N: 1}, infer.ErrInput, "150528 values for 1 images"},
		{"prepared for another model", context.Background(), infer.Batch{Pixels: make([]float32, per), N: 1, Model: strings.Repeat("ab", 32)}, infer.ErrModelChanged, "prepared for abab"},
		{"larger than the queue", context.Background(), infer.Batch{Pixels: make([]float32, 17*per), N: 17}, infer.ErrInput, "can never fit the queue of 16"},
		{"context already done", cancelled, infer.Batch{Pixels: make([]float32, per), N: 1}, context.Canceled, "context canceled"},
	}
	for _, tc := range cases {
		_, err := e.Embed(tc.ctx, tc.b)
		if !errors.Is(err, tc.want) || !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("%s: %v, want %v saying %q", tc.name, err, tc.want, tc.msg)
		}
	}
	if s := e.Stats(); s.Failed != uint64(len(cases)) || s.Requests != 0 {
		t.Errorf("stats count %d failed, %d answered; want %d, 0", s.Failed, s.Requests, len(cases))
	}
}

// TestNoModelYet: an engine started without a model answers
// ErrModelNotLoaded until the first Reload.
func TestNoModelYet(t *testing.T) {
	path, m := exportModel(t, t.TempDir(), cifarSpec)
	e := newEngine(t, "")
	per := 3 * m.Input.Height * m.Input.Width
	if _, err := e.Embed(context.Background(), infer.Batch{Pixels: make([]float32, per), N: 1}); !errors.Is(err, infer.ErrModelNotLoaded) {
		t.Fatalf("Embed without a model: %v, want ErrModelNotLoaded", err)
	}
	if _, ok := e.Model(); ok || e.Provider() != "" {
		t.Fatal("Model() reports a model before any was loaded")
	}
	info, err := e.Reload(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	if info.SHA256 != m.SHA256 || info.ImageLen() != per || info.Provider != infer.ProviderCPU {
		t.Fatalf("loaded %+v", info)
	}
	if _, err := e.Embed(context.Background(), infer.Batch{Pixels: make([]float32, per), N: 1}); err != nil {
		t.Fatal(err)
	}
}

// TestEmbedCancelled: a caller whose context ends while its request waits
// gets the context's error at once, and its images leave the queue.
func TestEmbedCancelled(t *testing.T) {
	path, m := exportModel(t, t.TempDir(), cifarSpec)
	e := newEngine(t, path, infer.WithBatch(8, time.Hour))
	per := 3 * m.Input.Height * m.Input.Width
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := e.Embed(ctx, infer.Batch{Pixels: make([]float32, 3*per), N: 3})
	if !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > 5*time.Second {
		t.Fatalf("got %v after %v, want DeadlineExceeded after 50ms", err, time.Since(start))
	}
	if q := e.Stats().Queued; q != 0 {
		t.Errorf("%d images still queued after the caller left", q)
	}
}

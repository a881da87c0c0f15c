package pretrain

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mocoedge/mocoedge/internal/blas"
	"github.com/mocoedge/mocoedge/models/safetensors"
	"github.com/mocoedge/mocoedge/trainer/moco"
)

// tinyOptions is a run of 2 epochs of 4 steps on 128 CIFAR-10 images.
func tinyOptions(t *testing.T, out string) Options {
	cfg, _ := moco.Recipe("cifar")
	cfg.Width, cfg.Batch, cfg.QueueSize, cfg.Epochs, cfg.BNSplits = 0.0625, 32, 64, 2, 4
	return Options{Config: cfg, Data: cifar(t, "train.tar.gz"), Out: out, Limit: 128, LogEvery: 1, Threads: 1, Workers: 2,
		Logger: slog.New(slog.DiscardHandler)}
}

func losses(t *testing.T, dir string) map[int64]float64 {
	t.Helper()
	recs, err := readMetrics(filepath.Join(dir, "metrics.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	out := map[int64]float64{}
	for _, r := range recs {
		if r.KNNTop1 == nil {
			out[r.Step] = r.Loss
		}
	}
	return out
}

func TestResumeIsBitIdentical(t *testing.T) {
	g, err := blas.Load(blas.Options{Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	full := t.TempDir()
	if _, err := Run(ctx, g, tinyOptions(t, full)); err != nil {
		t.Fatal(err)
	}
	want := losses(t, full)
	if len(want) != 8 {
		t.Fatalf("uninterrupted run logged %d steps, want 8", len(want))
	}
	for _, stopAfter := range []int{4, 6} { // an epoch boundary, then mid-epoch
		dir := t.TempDir()
		first := tinyOptions(t, dir)
		first.MaxSteps = stopAfter
		if _, err := Run(ctx, g, first); err != nil {
			t.Fatal(err)
		}
		second := tinyOptions(t, dir)
		second.Resume = true
		sum, err := Run(ctx, g, second)
		if err != nil {
			t.Fatal(err)
		}
		if sum.Steps != int64(8-stopAfter) {
			t.Errorf("stop after %d: the resumed run took %d steps, want %d", stopAfter, sum.Steps, 8-stopAfter)
		}
		got := losses(t, dir)
		for step := int64(1); step <= 8; step++ {
			if got[step] != want[step] {
				t.Errorf("stop after %d: step %d loss %.9g, uninterrupted %.9g", stopAfter, step, got[step], want[step])
			}
		}
	}
}

func TestBadCheckpointsAreRefused(t *testing.T) {
	g, err := blas.Load(blas.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	dir := t.TempDir()
	opts := tinyOptions(t, dir)
	opts.MaxSteps = 6 // a checkpoint at the end of epoch 1 (step 4), the final one at step 6
	if _, err := Run(ctx, g, opts); err != nil {
		t.Fatal(err)
	}
	for name, step := range map[string]string{CheckpointName: "6", PreviousName: "4"} {
		f, err := safetensors.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if got := f.Metadata[keyStep]; got != step {
			t.Errorf("%s holds step %s, want %s", name, got, step)
		}
	}
	// Starting a new run over it: refused.
	if _, err := Run(ctx, g, tinyOptions(t, dir)); !errors.Is(err, ErrRunExists) {
		t.Errorf("new run over an old one: %v", err)
	}
	// A different queue size: refused with the setting named.
	other := tinyOptions(t, dir)
	other.Config.QueueSize = 128
	other.Resume = true
	if _, err := Run(ctx, g, other); !errors.Is(err, ErrCheckpoint) || !strings.Contains(err.Error(), "queue 64 in the checkpoint, 128 now") {
		t.Errorf("mismatched queue: %v", err)
	}
	// A truncated checkpoint: refused, and the previous one is named and kept.
	path := filepath.Join(dir, CheckpointName)
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b[:len(b)/2], 0o644); err != nil {
		t.Fatal(err)
	}
	again := tinyOptions(t, dir)
	again.Resume = true
	if _, err := Run(ctx, g, again); !errors.Is(err, ErrCheckpoint) || !strings.Contains(err.Error(), PreviousName) {
		t.Errorf("truncated checkpoint: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, PreviousName)); err != nil {
		t.Errorf("previous checkpoint not kept: %v", err)
	}
}

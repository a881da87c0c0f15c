package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"time"
)

// command prepares one of the project's binaries to run with the demo's
// output streams; an interrupt reaches it as SIGINT (so the trainer saves
// its checkpoint) and it gets ten seconds to stop.
func (d *demo) command(ctx context.Context, bin string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, filepath.Join(d.o.bin, bin), args...)
	cmd.Stdout, cmd.Stderr = d.stdout, d.stderr
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGINT) }
	cmd.WaitDelay = 10 * time.Second
	return cmd
}

// runBinary runs one of the project's binaries to completion.
func (d *demo) runBinary(ctx context.Context, bin string, args ...string) error {
	cmd := d.command(ctx, bin, args...)
	if err := cmd.Run(); err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return fmt.Errorf("%s %s: %w (is it built? run `make build`)", bin, args[0], err)
	}
	return nil
}

// pretrain runs `trainer pretrain` (kNN at random init, during and after),
// exports the encoder and a random-init encoder of the same architecture
// into the models folder, and records the kNN figures.
func (d *demo) pretrain(ctx context.Context, sum *summary) error {
	run := filepath.Join(d.o.out, "pretrain")
	err := d.runBinary(ctx, "trainer", "pretrain", "--recipe", "cifar", "--width", "0.25",
		"--batch", "128", "--queue", "1024", "--epochs", strconv.Itoa(d.o.epochs),
		"--data", filepath.Join(d.o.data, "train.tar.gz"), "--eval", filepath.Join(d.o.data, "test.tar.gz"),
		"--limit", strconv.Itoa(d.o.limit), "--eval-limit", strconv.Itoa(d.o.evalLimit),
		"--knn-init", "--eval-every", strconv.Itoa(d.o.evalEvery), "--out", run)
	if err != nil {
		return err
	}
	if sum.knnRandom, sum.knnPretrained, err = knnFigures(filepath.Join(run, "metrics.jsonl")); err != nil {
		return err
	}
	sum.curves = filepath.Join(run, "curves.png")
	if err := d.runBinary(ctx, "trainer", "export", "--checkpoint", filepath.Join(run, "checkpoint.safetensors"),
		"--name", "moco-cifar", "--out", filepath.Join(d.models, "encoder.onnx")); err != nil {
		return err
	}
	return d.runBinary(ctx, "trainer", "export", "--random-init", "--arch", "resnet18-cifar", "--width", "0.25",
		"--name", "random-init", "--out", filepath.Join(d.models, "random.onnx"))
}

// knnFigures reads the first (random init) and last kNN top-1 of a
// pretraining run's metrics.jsonl.
func knnFigures(path string) (first, last float64, err error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, 0, err
	}
	defer f.Close()
	var seen int
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var r struct {
			KNN *float64 `json:"knn_top1"`
		}
		if json.Unmarshal(sc.Bytes(), &r) != nil || r.KNN == nil {
			continue
		}
		if seen == 0 {
			first = *r.KNN
		}
		last = *r.KNN
		seen++
	}
	if err := sc.Err(); err != nil {
		return 0, 0, err
	}
	if seen < 2 {
		return 0, 0, fmt.Errorf("%s: %d kNN records, want the random-init one and a later one", path, seen)
	}
	return first, last, nil
}

package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"time"
)

// options size the demo.
type options struct {
	bin, data, out, report string
	quick                  bool
	// Pretraining: epochs over limit training images, kNN every evalEvery
	// epochs on evalLimit test images.
	epochs, limit, evalEvery, evalLimit int
	// camera is how many test images the camera folder plays (balanced
	// over the classes); perClass of each class are labelled; eval more,
	// never seen by the daemon before, measure the probe; queries is the
	// number of retrieval queries sent over MQTT.
	camera, perClass, eval, queries int
}

func defaultOptions() options {
	return options{
		bin: "bin", data: "../shared/datasets/cifar10", out: "runs/demo", report: "demo-report",
		epochs: 8, limit: 5000, evalEvery: 4, evalLimit: 1000,
		camera: 1000, perClass: 20, eval: 1000, queries: 3,
	}
}

// quicken shortens the demo for CI, keeping every stage and enough
// pretraining and labels for the probe to beat the random-init baseline
// clearly.
func (o *options) quicken() {
	o.quick = true
	o.epochs, o.evalEvery = 6, 6
	o.camera, o.eval = 500, 500
}

// demo is one run.
type demo struct {
	o              options
	log            *slog.Logger
	stdout, stderr io.Writer

	models  string // folder of the exported models (the daemon's model.dir)
	started time.Time
}

// run runs every stage in order and returns the summary.
func (d *demo) run(ctx context.Context) (*summary, error) {
	d.started = time.Now()
	if err := os.RemoveAll(d.o.out); err != nil {
		return nil, fmt.Errorf("clear %s: %w", d.o.out, err)
	}
	d.models = filepath.Join(d.o.out, "models")
	for _, dir := range []string{d.o.out, d.models, d.o.report} {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, err
		}
	}
	sum := &summary{quick: d.o.quick}

	d.stage(1, "pretrain a MoCo encoder on CIFAR-10 and export it")
	if err := d.pretrain(ctx, sum); err != nil {
		return nil, err
	}
	d.stage(2, "prepare the camera and the held-out images")
	set, err := d.images()
	if err != nil {
		return nil, err
	}
	d.stage(3, "run the edge daemon with its embedded broker and a simulated board")
	if err := d.edge(ctx, set, sum); err != nil {
		return nil, err
	}
	d.stage(4, "write the report")
	if err := d.writeReport(sum); err != nil {
		return nil, err
	}
	sum.seconds = time.Since(d.started).Seconds()
	return sum, nil
}

// stage announces a stage on stdout.
func (d *demo) stage(n int, what string) {
	fmt.Fprintf(d.stdout, "\n== %d/4 %s (%s elapsed)\n", n, what, time.Since(d.started).Round(time.Second))
}

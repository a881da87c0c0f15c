// Command demo is `make demo`: the whole mocoedge loop on one machine with
// no broker, camera or GPU. It pretrains a small MoCo encoder on a CIFAR-10
// subset and exports it (and a random-init baseline), starts the edge
// daemon with its embedded MQTT broker, a camera folder of CIFAR-10 test
// images, a watched "door" folder and a simulated firmware board, labels a
// few images per class through MQTT commands and board button presses,
// trains the probe, measures it on held-out test images against the same
// probe on the random-init encoder, asks for retrievals over MQTT, and ends
// with a summary and an HTML report (demo-report/index.html).
//
// Every step runs the real binaries (bin/trainer, bin/edge) and talks to
// the daemon only through its public interfaces: MQTT and the HTTP API.
// DEMO_QUICK=1 (or --quick) shortens every stage for CI.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	_, err := run(ctx, os.Args[1:], os.Stdout, os.Stderr, os.Getenv)
	stop()
	switch {
	case err == nil:
	case errors.Is(err, flag.ErrHelp):
	case errors.Is(err, context.Canceled):
		fmt.Fprintln(os.Stderr, "demo: interrupted; everything it started has stopped")
		os.Exit(130)
	default:
		fmt.Fprintf(os.Stderr, "demo: %v\n", err)
		os.Exit(1)
	}
}

// run parses the command line, runs the demo and prints its summary. A
// quick run (CI) that falls short of the summary's checks is an error.
func run(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) (*summary, error) {
	o := defaultOptions()
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.bin, "bin", o.bin, "folder holding the trainer and edge binaries (make build)")
	fs.StringVar(&o.data, "data", o.data, "CIFAR-10 folder with train.tar.gz and test.tar.gz")
	fs.StringVar(&o.out, "out", o.out, "work folder (wiped at start): runs, models, camera images, the daemon's data")
	fs.StringVar(&o.report, "report", o.report, "folder the HTML report is written to")
	fs.IntVar(&o.epochs, "epochs", o.epochs, "pretraining epochs")
	fs.IntVar(&o.limit, "limit", o.limit, "CIFAR-10 training images to pretrain on")
	fs.IntVar(&o.camera, "camera", o.camera, "test images the camera folder plays")
	fs.IntVar(&o.perClass, "per-class", o.perClass, "labels given per class over MQTT")
	fs.IntVar(&o.eval, "eval", o.eval, "held-out test images the probes are scored on")
	quick := fs.Bool("quick", getenv("DEMO_QUICK") == "1", "shortened run for CI (DEMO_QUICK=1)")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if *quick {
		o.quicken()
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	d := &demo{o: o, log: log, stdout: stdout, stderr: stderr}
	sum, err := d.run(ctx)
	if err != nil {
		return nil, err
	}
	sum.print(stdout)
	if bad := sum.check(); o.quick && len(bad) > 0 {
		return sum, fmt.Errorf("quick run fell short: %s", strings.Join(bad, "; "))
	}
	return sum, nil
}

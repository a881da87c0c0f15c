// Command edge is mocoedge's edge daemon and its CLI: `edge run` embeds
// camera frames with an exported encoder, keeps the key queue, answers
// retrieval queries and reports over HTTP and MQTT; the other verbs talk to
// a running daemon (query, label, snapshot, reload, status) or work offline
// (embed, bench, config). Run `edge help` for the verbs.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/mocoedge/mocoedge/internal/cli"
)

// version is the daemon's version, set at link time with
// -ldflags "-X main.version=...".
var version = "dev"

// usageError marks a mistake in the command line: exit code 2.
type usageError = cli.UsageError

func usagef(format string, args ...any) error { return cli.Usagef(format, args...) }

// environment is what every verb gets.
type environment struct {
	stdout, stderr io.Writer
	log            *slog.Logger
	getenv         func(string) (string, bool)
	// signals delivers SIGHUP to `edge run` (nil in tests that do not
	// send one).
	signals <-chan os.Signal
}

// verb is one sub-command.
type verb struct {
	name, summary string
	run           func(ctx context.Context, env *environment, args []string) error
}

func verbs() []verb {
	return []verb{
		{"run", "run the daemon: sources, pipeline, key queue, HTTP API, MQTT", runDaemon},
		{"config", "print the default configuration, the effective one, or the reference", runConfig},
		{"status", "print a running daemon's health (GET /healthz)", runStatus},
		{"query", "find the stored frames most like an image or a queue entry", runQuery},
		{"label", "label a queue entry or the latest frame of a source", runLabel},
		{"snapshot", "store the current frame of a source in the key queue", runSnapshot},
		{"reload", "make a running daemon load a model (validated before the swap)", runReload},
		{"train", "train the daemon's linear probe now on the labelled queue entries", runTrain},
		{"probe", "print the daemon's linear probe: classes, counts, accuracy, version", runProbe},
		{"embed", "print the features or embedding of images with an exported model (offline)", runEmbed},
		{"bench", "measure raw ONNX Runtime, the full pipeline and retrieval on this machine", runBench},
		{"help", "show this help", nil},
	}
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	env := &environment{stdout: os.Stdout, stderr: os.Stderr, getenv: os.LookupEnv, signals: hup}
	code := run(ctx, env, os.Args[1:])
	stop()
	os.Exit(code)
}

// run executes one command line and returns the exit code: 0 success,
// 1 failure, 2 a usage mistake.
func run(ctx context.Context, env *environment, args []string) int {
	if env.log == nil {
		env.log = slog.New(slog.NewTextHandler(env.stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	}
	if env.getenv == nil {
		env.getenv = func(string) (string, bool) { return "", false }
	}
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		printHelp(env.stdout)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	if args[0] == "version" || args[0] == "--version" {
		fmt.Fprintln(env.stdout, "edge", version)
		return 0
	}
	for _, v := range verbs() {
		if v.name != args[0] || v.run == nil {
			continue
		}
		return cli.ExitCode(env.stderr, "edge", v.name, v.run(ctx, env, args[1:]))
	}
	fmt.Fprintf(env.stderr, "edge: unknown verb %q; run `edge help` for the list\n", args[0])
	return 2
}

func printHelp(w io.Writer) {
	fmt.Fprintln(w, "Usage: edge VERB [flags]\n\nVerbs:")
	for _, v := range verbs() {
		fmt.Fprintf(w, "  %-8s %s\n", v.name, v.summary)
	}
	fmt.Fprintln(w, "\nRun `edge VERB --help` for a verb's flags; `edge config --reference` lists every setting\nwith its MOCOEDGE_* variable.")
}

// newFlags returns a flag set whose errors and --help go to env.stderr.
func newFlags(env *environment, name, synopsis string) *flag.FlagSet {
	return cli.NewFlags(env.stderr, "edge", name, synopsis)
}

// parse parses args and turns a malformed command line into a usage error.
func parse(fs *flag.FlagSet, args []string) error { return cli.Parse(fs, args) }

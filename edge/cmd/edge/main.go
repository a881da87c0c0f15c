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
type verb = cli.Verb[*environment]

func verbs() []verb {
	return []verb{
		{Name: "run", Summary: "run the daemon: sources, pipeline, key queue, HTTP API, MQTT", Run: runDaemon},
		{Name: "config", Summary: "print the default configuration, the effective one, or the reference", Run: runConfig},
		{Name: "status", Summary: "print a running daemon's health (GET /healthz)", Run: runStatus},
		{Name: "query", Summary: "find the stored frames most like an image or a queue entry", Run: runQuery},
		{Name: "label", Summary: "label a queue entry or the latest frame of a source", Run: runLabel},
		{Name: "snapshot", Summary: "store the current frame of a source in the key queue", Run: runSnapshot},
		{Name: "reload", Summary: "make a running daemon load a model (validated before the swap)", Run: runReload},
		{Name: "train", Summary: "train the daemon's linear probe now on the labelled queue entries", Run: runTrain},
		{Name: "probe", Summary: "print the daemon's linear probe: classes, counts, accuracy, version", Run: runProbe},
		{Name: "embed", Summary: "print the features or embedding of images with an exported model (offline)", Run: runEmbed},
		{Name: "bench", Summary: "measure raw ONNX Runtime, the full pipeline and retrieval on this machine", Run: runBench},
		{Name: "help", Summary: "show this help", Run: nil},
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
	return cli.Dispatch(ctx, env.stderr, "edge", verbs(), env, args)
}

func printHelp(w io.Writer) {
	cli.PrintHelp(w, "edge", verbs(), "Run `edge VERB --help` for a verb's flags; `edge config --reference` lists every setting\nwith its MOCOEDGE_* variable.")
}

// newFlags returns a flag set whose errors and --help go to env.stderr.
func newFlags(env *environment, name, synopsis string) *flag.FlagSet {
	return cli.NewFlags(env.stderr, "edge", name, synopsis)
}

// parse parses args and turns a malformed command line into a usage error.
func parse(fs *flag.FlagSet, args []string) error { return cli.Parse(fs, args) }

// Command trainer pretrains, benchmarks and inspects mocoedge's image
// encoders. Run `trainer help` for the verbs and `trainer VERB --help` for
// each verb's flags.
package main

import (
	"context"
	"flag"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/mocoedge/mocoedge/internal/cli"
)

// usageError marks a mistake in the command line: exit code 2.
type usageError = cli.UsageError

func usagef(format string, args ...any) error { return cli.Usagef(format, args...) }

// verb is one sub-command.
type verb = cli.Verb[*environment]

// environment is what every verb gets: output streams, a logger and the
// settings read from MOCOEDGE_* variables.
type environment struct {
	stdout, stderr io.Writer
	log            *slog.Logger
	settings       settings
}

func verbs() []verb {
	return []verb{
		{Name: "pretrain", Summary: "pretrain an encoder with MoCo (recipes cifar, moco-v1, moco-v2)", Run: runPretrain},
		{Name: "train", Summary: "train a classifier with supervised cross-entropy (the engine's end-to-end check)", Run: runTrain},
		{Name: "bench", Summary: "measure training throughput against this machine's GEMM peak", Run: runBench},
		{Name: "inspect", Summary: "print an architecture's parameter count and FLOPs", Run: runInspect},
		{Name: "export", Summary: "write a checkpoint as ONNX + manifest, verified in ONNX Runtime", Run: runExport},
		{Name: "embed", Summary: "print the features or embedding of images, from a checkpoint or an ONNX model", Run: runEmbed},
		{Name: "eval", Summary: "score an encoder with the kNN monitor and the linear protocol (or a random-init baseline)", Run: runEval},
		{Name: "help", Summary: "show this help, or `trainer help env` for the environment variables", Run: nil},
	}
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run executes one command line and returns the process exit code:
// 0 success, 1 failure, 2 a usage mistake.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	env := &environment{stdout: stdout, stderr: stderr, log: log, settings: settingsFromEnv()}
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		if len(args) > 1 && args[1] == "env" {
			printEnv(stdout)
			return 0
		}
		printHelp(stdout)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	return cli.Dispatch(ctx, env.stderr, "trainer", verbs(), env, args)
}

func printHelp(w io.Writer) {
	cli.PrintHelp(w, "trainer", verbs(), "Run `trainer VERB --help` for a verb's flags and `trainer help env` for environment variables.")
}

// newFlags returns a flag set whose errors and --help go to env.stderr and
// whose parse mistakes become usage errors.
func newFlags(env *environment, name, synopsis string) *flag.FlagSet {
	return cli.NewFlags(env.stderr, "trainer", name, synopsis)
}

// parse parses args and turns a malformed command line into a usage error.
func parse(fs *flag.FlagSet, args []string) error { return cli.Parse(fs, args) }

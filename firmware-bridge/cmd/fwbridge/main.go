// Command fwbridge links a mocoedge firmware board to its host over a serial
// port: `fwbridge run` runs the bridge and speaks JSON lines on
// stdin/stdout, `fwbridge list` lists serial ports with their USB ids, and
// `fwbridge simulate` plays a board on a pseudo-terminal. Every flag has an
// environment variable (MOCOEDGE_*); `fwbridge <verb> --help` lists them.
//
// Exit status: 0 after a clean stop (SIGINT, SIGTERM), 1 when the verb
// fails, 2 for a usage error.
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
	"syscall"
)

// hostVersion goes in the bridge's HELLO.
const hostVersion = "fwbridge-1"

// Exit statuses.
const (
	exitOK    = 0
	exitFail  = 1
	exitUsage = 2
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.LookupEnv, os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// stdio is a verb's standard streams.
type stdio struct {
	in       io.Reader
	out, err io.Writer
}

// run runs one command line and returns the exit status.
func run(ctx context.Context, args []string, env func(string) (string, bool), in io.Reader, out, errOut io.Writer) int {
	if len(args) == 0 {
		printUsage(errOut)
		return exitUsage
	}
	verb := args[0]
	if verb == "sim" {
		verb = verbSimulate // the name for it
	}
	switch verb {
	case "-h", "-help", "--help", "help":
		printUsage(out)
		return exitOK
	case verbRun, verbList, verbSimulate:
	default:
		fmt.Fprintf(errOut, "fwbridge: unknown verb %q (run, list, simulate; see fwbridge --help)\n", verb)
		return exitUsage
	}
	o, rest, err := parse(verb, args[1:], env)
	if errors.Is(err, flag.ErrHelp) {
		printVerbUsage(out, verb)
		return exitOK
	}
	if err == nil && len(rest) > 0 {
		err = fmt.Errorf("unexpected argument %q", rest[0])
	}
	if err != nil {
		fmt.Fprintf(errOut, "fwbridge %s: %v (see fwbridge %s --help)\n", verb, err, verb)
		return exitUsage
	}
	std := stdio{in: in, out: out, err: errOut}
	log := newLogger(errOut, o)
	switch verb {
	case verbRun:
		err = cmdRun(ctx, o, std, log)
	case verbList:
		err = cmdList(o, std)
	case verbSimulate:
		err = cmdSimulate(ctx, o, std, log)
	}
	var usage usageError
	switch {
	case err == nil || errors.Is(err, context.Canceled):
		return exitOK
	case errors.As(err, &usage):
		fmt.Fprintf(errOut, "fwbridge %s: %v (see fwbridge %s --help)\n", verb, err, verb)
		return exitUsage
	}
	fmt.Fprintf(errOut, "fwbridge %s: %v\n", verb, err)
	return exitFail
}

// usageError is a setting combination that cannot work; it exits 2.
type usageError struct{ err error }

// Error is the cause's message.
func (e usageError) Error() string { return e.err.Error() }

// Unwrap returns the cause.
func (e usageError) Unwrap() error { return e.err }

// newLogger logs to w at the chosen level, as text or JSON.
func newLogger(w io.Writer, o *options) *slog.Logger {
	hopts := &slog.HandlerOptions{Level: o.logLevel}
	if o.logJSON {
		return slog.New(slog.NewJSONHandler(w, hopts))
	}
	return slog.New(slog.NewTextHandler(w, hopts))
}

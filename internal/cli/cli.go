// Package cli holds the command-line plumbing the trainer and edge binaries
// share: usage errors (exit code 2), flag sets that print a verb's synopsis,
// strict parsing, and the mapping from a verb's error to the exit code.
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
)

// UsageError marks a mistake in the command line: exit code 2.
type UsageError struct{ Err error }

// Error returns the mistake.
func (u UsageError) Error() string { return u.Err.Error() }

// Unwrap returns the mistake.
func (u UsageError) Unwrap() error { return u.Err }

// Usagef returns a UsageError with a formatted message.
func Usagef(format string, args ...any) error { return UsageError{fmt.Errorf(format, args...)} }

// NewFlags returns a flag set for `tool verb` whose errors and --help go
// to stderr, with the synopsis on the first line of the help.
func NewFlags(stderr io.Writer, tool, verb, synopsis string) *flag.FlagSet {
	fs := flag.NewFlagSet(verb, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: %s %s %s\n\nFlags:\n", tool, verb, synopsis)
		fs.PrintDefaults()
	}
	return fs
}

// Parse parses args; a malformed command line or a stray argument becomes a
// UsageError, --help returns flag.ErrHelp.
func Parse(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return UsageError{err}
	}
	if fs.NArg() > 0 {
		return Usagef("unexpected argument %q", fs.Arg(0))
	}
	return nil
}

// ExitCode reports a verb's outcome on stderr as one line and returns the
// process exit code: 0 for success or --help, 2 for a usage mistake, 1 for
// any other failure.
func ExitCode(stderr io.Writer, tool, verb string, err error) int {
	var ue UsageError
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
		return 0
	case errors.As(err, &ue):
		fmt.Fprintf(stderr, "%s %s: %v\n", tool, verb, err)
		return 2
	default:
		fmt.Fprintf(stderr, "%s %s: %v\n", tool, verb, err)
		return 1
	}
}

// Verb is one sub-command of a tool whose verbs take an environment E.
type Verb[E any] struct {
	// Name is what the user types; Summary is its line in the help.
	Name, Summary string
	// Run runs the verb; nil for verbs the tool handles itself (help).
	Run func(ctx context.Context, env E, args []string) error
}

// Dispatch runs the verb args[0] names and returns the exit code (see
// ExitCode); an unknown verb is a usage mistake reported on stderr.
func Dispatch[E any](ctx context.Context, stderr io.Writer, tool string, verbs []Verb[E], env E, args []string) int {
	for _, v := range verbs {
		if v.Name == args[0] && v.Run != nil {
			return ExitCode(stderr, tool, v.Name, v.Run(ctx, env, args[1:]))
		}
	}
	fmt.Fprintf(stderr, "%s: unknown verb %q; run `%s help` for the list\n", tool, args[0], tool)
	return 2
}

// PrintHelp writes the tool's usage line, its verbs with their summaries
// and a closing hint.
func PrintHelp[E any](w io.Writer, tool string, verbs []Verb[E], hint string) {
	fmt.Fprintf(w, "Usage: %s VERB [flags]\n\nVerbs:\n", tool)
	for _, v := range verbs {
		fmt.Fprintf(w, "  %-8s %s\n", v.Name, v.Summary)
	}
	fmt.Fprintln(w, "\n"+hint)
}

// Package cli holds the command-line plumbing the trainer and edge binaries
// share: usage errors (exit code 2), flag sets that print a verb's synopsis,
// strict parsing, and the mapping from a verb's error to the exit code.
package cli

import (
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

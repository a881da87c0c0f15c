package data

import (
	"fmt"
	"log/slog"
	"strings"
)

// maxNamedBadFiles is how many unreadable files a warning or error names.
const maxNamedBadFiles = 10

// badFile is an image file that could not be used, and why.
type badFile struct {
	name   string
	reason string
}

// String is "name: reason".
func (b badFile) String() string { return b.name + ": " + b.reason }

// namedBadFiles returns up to maxNamedBadFiles descriptions.
func namedBadFiles(bad []badFile) []string {
	n := min(len(bad), maxNamedBadFiles)
	out := make([]string, n)
	for i := range n {
		out[i] = bad[i].String()
	}
	return out
}

// tooManyBad reports whether bad files out of total exceed the fraction.
func tooManyBad(bad, total int, fraction float64) bool {
	return float64(bad) > fraction*float64(total)
}

// warnBadFiles logs the one warning a load makes about skipped files.
func warnBadFiles(log *slog.Logger, path string, bad []badFile, total int) {
	if len(bad) == 0 {
		return
	}
	log.Warn("data: skipped unreadable images",
		"path", path,
		"count", len(bad),
		"of", total,
		"files", strings.Join(namedBadFiles(bad), "; "),
		"unnamed", max(0, len(bad)-maxNamedBadFiles))
}

// BadFilesError is returned when more than the tolerated fraction of a
// dataset's image files cannot be read.
type BadFilesError struct {
	// Path is the dataset.
	Path string
	// Bad and Total count the unreadable files and all image files.
	Bad, Total int
	// MaxFraction is the tolerated fraction.
	MaxFraction float64
	// Examples names up to ten bad files with the reason.
	Examples []string
}

// Error names the counts and the first bad files.
func (e *BadFilesError) Error() string {
	return fmt.Sprintf("data: %s: %d of %d image files are unreadable (%.2f%%, more than the %.2f%% tolerated; "+
		"set Options.MaxBadFraction to accept more): %s",
		e.Path, e.Bad, e.Total, 100*float64(e.Bad)/float64(max(e.Total, 1)), 100*e.MaxFraction,
		strings.Join(e.Examples, "; "))
}

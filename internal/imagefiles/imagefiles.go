// Package imagefiles expands the image arguments that the trainer and the
// edge CLIs take (--images PATH): a file, a folder searched recursively, or
// a glob pattern, always in the same sorted order so that both sides list
// the same images.
package imagefiles

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// IsImageName reports whether p ends like an image file that List picks up
// in folders and globs: .jpg, .jpeg or .png, in any case.
func IsImageName(p string) bool {
	switch strings.ToLower(filepath.Ext(p)) {
	case ".jpg", ".jpeg", ".png":
		return true
	}
	return false
}

// List expands pattern: an existing file is itself, a folder gives every
// image file below it, anything else is a glob pattern. Paths are sorted.
// Nothing found is an error naming the pattern.
func List(pattern string) ([]string, error) {
	st, err := os.Stat(pattern)
	switch {
	case err == nil && !st.IsDir():
		return []string{pattern}, nil
	case err == nil:
		var out []string
		err := filepath.WalkDir(pattern, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if !d.IsDir() && IsImageName(p) {
				out = append(out, p)
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("images: %w", err)
		}
		if len(out) == 0 {
			return nil, fmt.Errorf("images: no .jpg, .jpeg or .png files under %s", pattern)
		}
		return out, nil
	}
	matches, gerr := filepath.Glob(pattern)
	if gerr != nil {
		return nil, fmt.Errorf("images: bad pattern %q: %w", pattern, gerr)
	}
	var out []string
	for _, m := range matches {
		if st, err := os.Stat(m); err == nil && !st.IsDir() && IsImageName(m) {
			out = append(out, m)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("images: %s: no such file, folder or matching images", pattern)
	}
	slices.Sort(out)
	return out, nil
}

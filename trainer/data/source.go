package data

import (
	"context"
	"fmt"
	"os"
)

// job asks a decoding worker to fill one slot of the cache. Exactly one of
// data (archives: the file's bytes) and path (folders: read by the worker)
// is set.
type job struct {
	slot int
	data []byte
	path string
}

// bytes returns the file's content.
func (j job) bytes() ([]byte, error) {
	if j.path == "" {
		return j.data, nil
	}
	b, err := os.ReadFile(j.path)
	if err != nil {
		return nil, fmt.Errorf("reading image: %w", err)
	}
	return b, nil
}

// source is where a dataset's files come from: a folder or an archive.
type source interface {
	// scan lists the image files in the source's order and reads each
	// header; unreadable files come back with entry.bad set.
	scan(ctx context.Context, workers int) ([]entry, error)
	// feed sends one job per selected entry (selected[i] goes to slot i),
	// stopping early when send fails or every selected file has been sent.
	feed(ctx context.Context, selected []entry, send func(job) error) error
}

// openSource picks the source for a path: a folder or an archive file.
func openSource(path string) (source, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("opening dataset: %w", err)
	}
	if fi.IsDir() {
		return folderSource{root: path}, nil
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("opening dataset: %s is neither a folder nor a .tar/.tar.gz archive", path)
	}
	return archiveSource{path: path}, nil
}

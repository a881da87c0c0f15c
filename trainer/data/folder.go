package data

import (
	"bufio"
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
)

// folderSource reads an image folder: <root>/<class>/<file> or a flat
// <root>/<file> layout (any depth works; the class is the folder directly
// above a file).
type folderSource struct {
	root string
}

func (s folderSource) scan(ctx context.Context, workers int) ([]entry, error) {
	var entries []entry
	err := filepath.WalkDir(s.root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return fmt.Errorf("listing %s: %w", p, err)
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if d.IsDir() {
			if p != s.root && (strings.HasPrefix(d.Name(), ".") || d.Name() == "__MACOSX") {
				return filepath.SkipDir
			}
			return nil
		}
		rel, err := filepath.Rel(s.root, p)
		if err != nil {
			return fmt.Errorf("listing %s: %w", p, err)
		}
		rel = filepath.ToSlash(rel)
		if !isImageName(rel) {
			return nil
		}
		entries = append(entries, entry{name: rel, ord: len(entries)})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("scanning folder %s: %w", s.root, err)
	}

	// Read the headers on several goroutines: each open is a system call and
	// folders may sit on slow or network disks.
	var next atomic.Int64
	var wg sync.WaitGroup
	for range max(1, min(workers, len(entries))) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			br := bufio.NewReaderSize(nil, 4096)
			for {
				i := int(next.Add(1) - 1)
				if i >= len(entries) || ctx.Err() != nil {
					return
				}
				s.readHeader(&entries[i], br)
			}
		}()
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return entries, nil
}

// readHeader fills e's size and dimensions, or its bad reason.
func (s folderSource) readHeader(e *entry, br *bufio.Reader) {
	f, err := os.Open(s.path(e.name))
	if err != nil {
		e.bad = err.Error()
		return
	}
	defer f.Close()
	if fi, err := f.Stat(); err == nil {
		e.size = fi.Size()
	}
	br.Reset(f)
	cfg, err := readConfig(br)
	if err != nil {
		e.bad = err.Error()
		return
	}
	e.h, e.w = cfg.Height, cfg.Width
}

func (s folderSource) path(name string) string {
	return filepath.Join(s.root, filepath.FromSlash(name))
}

func (s folderSource) feed(ctx context.Context, selected []entry, send func(job) error) error {
	for slot, e := range selected {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := send(job{slot: slot, path: s.path(e.name)}); err != nil {
			return err
		}
	}
	return nil
}

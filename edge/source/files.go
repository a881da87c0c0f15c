package source

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// isImageName reports whether a file name has an image extension the
// folder, glob and watch sources pick up (.jpg, .jpeg, .png, any case) and
// is not hidden.
func isImageName(name string) bool {
	base := filepath.Base(name)
	if strings.HasPrefix(base, ".") {
		return false
	}
	switch strings.ToLower(filepath.Ext(base)) {
	case ".jpg", ".jpeg", ".png":
		return true
	}
	return false
}

// hasMeta reports whether path is a glob pattern.
func hasMeta(path string) bool { return strings.ContainsAny(path, `*?[`) }

// listImages lists the image files a files source reads, in order: a single
// file as it is (whatever its extension), a folder's image files
// recursively in lexical order, a glob's matches in lexical order (folders
// among them listed like a folder, files kept when they have an image
// extension). Entries that cannot be read (a folder without permission)
// are passed to skip and left out.
func listImages(path string, skip func(error)) ([]string, error) {
	var roots []string
	if hasMeta(path) {
		m, err := filepath.Glob(path)
		if err != nil {
			return nil, fmt.Errorf("glob %s: %w", path, err)
		}
		roots = m
	} else {
		st, err := os.Stat(path)
		if err != nil {
			return nil, fmt.Errorf("files: %w", err)
		}
		if !st.IsDir() {
			return []string{path}, nil
		}
		roots = []string{path}
	}
	var out []string
	for _, root := range roots {
		err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				if p == root {
					return err
				}
				skip(fmt.Errorf("list %s: %w", p, err))
				if d != nil && d.IsDir() {
					return fs.SkipDir
				}
				return nil
			}
			if d.IsDir() {
				if p != root && strings.HasPrefix(d.Name(), ".") {
					return fs.SkipDir
				}
				return nil
			}
			if isImageName(p) {
				out = append(out, p)
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("list %s: %w", root, err)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("files %s: %w", path, ErrNoImages)
	}
	return out, nil
}

// filesOnce reads the listed files in order, paced by the fps cap and the
// interval and by the pipeline (a file is read only when the mailbox has
// room, so none is dropped), once or (with loop) pass after pass, listing
// again each pass.
func (s *src) filesOnce(ctx context.Context) (outcome, error) {
	p := pacer{period: period(s.cfg)}
	s.setState(StateRunning)
	for {
		paths, err := listImages(s.cfg.Path, s.fail)
		if err != nil {
			return retry, err
		}
		read := 0
		for _, path := range paths {
			if !p.wait(ctx) || !s.waitRoom(ctx) {
				return retry, nil
			}
			if s.readFile(path) {
				read++
			}
		}
		if !s.cfg.Loop {
			return done, nil
		}
		if read == 0 {
			// Every file failed: wait for the back-off instead of spinning.
			return retry, fmt.Errorf("files %s: none of %d files could be read", s.cfg.Path, len(paths))
		}
	}
}

// readFile reads one image file and emits it; a file that cannot be read,
// is not a regular file or is over the size limit is counted as an error
// and passed over. It reports whether a frame was emitted.
func (s *src) readFile(path string) bool {
	data, err := readLimited(path, s.h.opts.maxFileBytes)
	if err != nil {
		s.fail(err)
		return false
	}
	s.emit(Frame{Image: data, Path: path})
	return true
}

// readLimited reads a regular file of at most limit bytes. The bytes are
// never nil, even for an empty file (nil Image means a raw frame).
func readLimited(path string, limit int64) ([]byte, error) {
	// Stat before opening: opening a FIFO would block.
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("read image: %w", err)
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("read image %s: not a regular file (%s)", path, st.Mode().Type())
	}
	if st.Size() > limit {
		return nil, fmt.Errorf("read image %s: %d bytes, %w of %d", path, st.Size(), ErrTooLarge, limit)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read image: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, fmt.Errorf("read image %s: %w", path, err)
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("read image %s: grew past %d bytes while read: %w", path, limit, ErrTooLarge)
	}
	if data == nil {
		data = []byte{}
	}
	return data, nil
}

// pacer spaces out the reads of a files source, one per period.
type pacer struct {
	period time.Duration
	next   time.Time
}

// wait sleeps until the next slot; it reports false when ctx ended. After a
// long pause (a slow read) the schedule starts over rather than bursting.
func (p *pacer) wait(ctx context.Context) bool {
	if p.period <= 0 {
		return ctx.Err() == nil
	}
	now := time.Now()
	if p.next.Before(now) {
		p.next = now
	}
	if !sleep(ctx, p.next.Sub(now)) {
		return false
	}
	p.next = p.next.Add(p.period)
	return true
}

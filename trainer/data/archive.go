package data

import (
	"archive/tar"
	"bufio"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
)

// maxImageFileBytes bounds the size of one image file inside an archive.
const maxImageFileBytes = 1 << 30

// gzipMagic starts every gzip stream.
const gzipMagic = "\x1f\x8b"

// archiveSource reads a .tar or gzip-compressed tar archive (.tar.gz, .tgz;
// compression is recognised from the content, not the name). The archive is
// streamed from start to end; nothing is unpacked to disk.
type archiveSource struct {
	path string
}

// stream is an open archive.
type stream struct {
	f  *os.File
	gz *gzip.Reader // nil for an uncompressed tar
	tr *tar.Reader
}

func (s archiveSource) open() (*stream, error) {
	f, err := os.Open(s.path)
	if err != nil {
		return nil, fmt.Errorf("opening archive: %w", err)
	}
	br := bufio.NewReaderSize(f, 1<<20)
	st := &stream{f: f}
	var r io.Reader = br
	if magic, _ := br.Peek(len(gzipMagic)); hasMagic(magic, gzipMagic) {
		gz, err := gzip.NewReader(br)
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("opening gzip stream: %w", err)
		}
		st.gz, r = gz, gz
	}
	st.tr = tar.NewReader(r)
	return st, nil
}

func (st *stream) close() error { return st.f.Close() }

// verify reads the rest of a gzip stream so that its checksum is checked.
func (st *stream) verify() error {
	if st.gz == nil {
		return nil
	}
	if _, err := io.Copy(io.Discard, st.gz); err != nil {
		return err
	}
	return nil
}

// each calls fn for every header of the archive, in order; ord counts the
// headers from zero. fn returns stop=true to end early.
func (s archiveSource) each(ctx context.Context, fn func(ord int, hdr *tar.Header, r io.Reader) (stop bool, err error)) error {
	st, err := s.open()
	if err != nil {
		return err
	}
	defer st.close()
	for ord := 0; ; ord++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		hdr, err := st.tr.Next()
		if errors.Is(err, io.EOF) {
			if err := st.verify(); err != nil {
				return fmt.Errorf("archive is corrupt at its end (after %d entries): %w", ord, err)
			}
			return nil
		}
		if err != nil {
			if ord == 0 {
				return fmt.Errorf("not a folder nor a readable .tar/.tar.gz archive: %w", err)
			}
			return fmt.Errorf("archive is truncated or corrupt after %d entries: %w", ord, err)
		}
		stop, err := fn(ord, hdr, st.tr)
		if err != nil {
			return err
		}
		if stop {
			return nil
		}
	}
}

func (s archiveSource) scan(ctx context.Context, _ int) ([]entry, error) {
	var entries []entry
	br := bufio.NewReaderSize(nil, 4096)
	err := s.each(ctx, func(ord int, hdr *tar.Header, r io.Reader) (bool, error) {
		if !hdr.FileInfo().Mode().IsRegular() {
			return false, nil
		}
		name := cleanArchiveName(hdr.Name)
		if !isImageName(name) {
			return false, nil
		}
		e := entry{name: name, ord: ord, size: hdr.Size}
		if hdr.Size > maxImageFileBytes {
			e.bad = fmt.Sprintf("file of %s is larger than the %s allowed", FormatBytes(hdr.Size), FormatBytes(maxImageFileBytes))
		} else {
			br.Reset(r)
			cfg, err := readConfig(br)
			if err != nil {
				e.bad = err.Error()
			} else {
				e.h, e.w = cfg.Height, cfg.Width
			}
		}
		entries = append(entries, e)
		return false, nil
	})
	if err != nil {
		return nil, fmt.Errorf("scanning: %w", err)
	}
	return entries, nil
}

func (s archiveSource) feed(ctx context.Context, selected []entry, send func(job) error) error {
	if len(selected) == 0 {
		return nil
	}
	slotOf := make(map[int]int, len(selected))
	for slot, e := range selected {
		slotOf[e.ord] = slot
	}
	left := len(selected)
	err := s.each(ctx, func(ord int, hdr *tar.Header, r io.Reader) (bool, error) {
		slot, ok := slotOf[ord]
		if !ok {
			return false, nil
		}
		if name := cleanArchiveName(hdr.Name); name != selected[slot].name {
			return true, fmt.Errorf("archive changed while loading: entry %d is %q, was %q", ord, name, selected[slot].name)
		}
		data := make([]byte, hdr.Size)
		if _, err := io.ReadFull(r, data); err != nil {
			return true, fmt.Errorf("archive is truncated or corrupt in %s: %w", hdr.Name, err)
		}
		if err := send(job{slot: slot, data: data}); err != nil {
			return true, err
		}
		left--
		// Stop reading once everything wanted is out: with a Limit the rest
		// of the archive is neither decompressed nor decoded.
		return left == 0, nil
	})
	if err != nil {
		return fmt.Errorf("reading: %w", err)
	}
	if left > 0 {
		return fmt.Errorf("reading: archive ended with %d selected images not found", left)
	}
	return nil
}

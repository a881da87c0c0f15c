package keyqueue

import (
	"bufio"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"strconv"
	"strings"
)

// segmentExt is the file name suffix of a segment; the stem is the
// sequence number as 16 hex digits.
const segmentExt = ".seg"

// segmentName returns the file name of segment seq.
func segmentName(seq uint64) string { return fmt.Sprintf("%016x%s", seq, segmentExt) }

// parseSegmentName returns the sequence number of a segment file name.
func parseSegmentName(name string) (uint64, bool) {
	stem, ok := strings.CutSuffix(name, segmentExt)
	if !ok || len(stem) != 16 {
		return 0, false
	}
	seq, err := strconv.ParseUint(stem, 16, 64)
	return seq, err == nil
}

// segmentScanner reads the records of one segment file in order.
type segmentScanner struct {
	r    *bufio.Reader
	tab  *crc32.Table
	off  int64 // offset of the next record
	size int64
	hdr  [frameHeaderSize]byte
	body []byte
}

// newSegmentScanner scans the first size bytes of f.
func newSegmentScanner(f io.ReaderAt, size int64, tab *crc32.Table) *segmentScanner {
	return &segmentScanner{
		r:    bufio.NewReaderSize(io.NewSectionReader(f, 0, size), int(min(max(size, 16), 1<<20))),
		tab:  tab,
		size: size,
	}
}

// next returns the next record's type, payload (valid until the next call)
// and offset in the file. It returns io.EOF at a clean end of file, and an
// error wrapping ErrTorn or ErrCorrupt at a damaged record, whose offset is
// then the returned offset; scanning must stop there.
func (s *segmentScanner) next() (recordType, []byte, int64, error) {
	start := s.off
	n, err := io.ReadFull(s.r, s.hdr[:])
	switch {
	case errors.Is(err, io.EOF) && n == 0:
		return 0, nil, start, io.EOF
	case errors.Is(err, io.ErrUnexpectedEOF):
		return 0, nil, start, fmt.Errorf("%w: %d of %d header bytes", ErrTorn, n, frameHeaderSize)
	case err != nil:
		return 0, nil, start, fmt.Errorf("keyqueue: read at offset %d: %w", start, err)
	}
	blen, err := checkFrameHeader(s.hdr[:])
	if err != nil {
		return 0, nil, start, err
	}
	if rest := s.size - start - frameHeaderSize; int64(blen) > rest {
		return 0, nil, start, fmt.Errorf("%w: %d of %d body bytes", ErrTorn, rest, blen)
	}
	if cap(s.body) < blen {
		s.body = make([]byte, blen)
	}
	body := s.body[:blen]
	if _, err := io.ReadFull(s.r, body); err != nil {
		return 0, nil, start, fmt.Errorf("keyqueue: read record body at offset %d: %w", start, err)
	}
	if err := checkFrameBody(s.tab, s.hdr[:], body); err != nil {
		return 0, nil, start, err
	}
	s.off = start + frameHeaderSize + int64(blen)
	return recordType(body[0]), body[1:], start, nil
}

// allZero reports whether f holds only zero bytes in [off, size): the tail
// a file system leaves after a crash that extended a file but did not write
// its data, which is a torn write rather than corruption.
func allZero(f io.ReaderAt, off, size int64) (bool, error) {
	buf := make([]byte, 64<<10)
	for off < size {
		n := int(min(int64(len(buf)), size-off))
		if _, err := f.ReadAt(buf[:n], off); err != nil {
			return false, err
		}
		for _, b := range buf[:n] {
			if b != 0 {
				return false, nil
			}
		}
		off += int64(n)
	}
	return true, nil
}

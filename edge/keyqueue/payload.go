package keyqueue

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"math"
	"unicode/utf8"
)

// Segment header constants; part of the on-disk format.
const (
	headerMagic    = "MOCOKQ01"
	headerVersion  = 1
	flagSnapshot   = 1
	headerPayload  = 48
	entryFixedSize = 64 // bytes of an entry payload before the source name

	// maxID bounds ids, so that id arithmetic never overflows; at a million
	// appends a second it is reached after 146 000 years.
	maxID = 1 << 62
)

// errShort is the structural error of a payload that ends early.
var errShort = errors.New("payload too short")

// segmentHeader is the first record of every segment.
type segmentHeader struct {
	snapshot bool
	seq      uint64
	nextID   uint64
	floor    uint64
	created  int64
}

// appendHeaderRecord appends h as a complete record.
func appendHeaderRecord(dst []byte, tab *crc32.Table, h segmentHeader) []byte {
	start := len(dst)
	dst = beginRecord(dst, recHeader)
	dst = append(dst, headerMagic...)
	var flags uint16
	if h.snapshot {
		flags |= flagSnapshot
	}
	dst = binary.LittleEndian.AppendUint16(dst, headerVersion)
	dst = binary.LittleEndian.AppendUint16(dst, flags)
	dst = binary.LittleEndian.AppendUint32(dst, 0)
	dst = binary.LittleEndian.AppendUint64(dst, h.seq)
	dst = binary.LittleEndian.AppendUint64(dst, h.nextID)
	dst = binary.LittleEndian.AppendUint64(dst, h.floor)
	dst = binary.LittleEndian.AppendUint64(dst, uint64(h.created))
	finishRecord(tab, dst, start)
	return dst
}

// decodeHeader parses a header payload.
func decodeHeader(p []byte) (segmentHeader, error) {
	if len(p) != headerPayload {
		return segmentHeader{}, fmt.Errorf("%w: header payload is %d bytes, want %d", ErrCorrupt, len(p), headerPayload)
	}
	if string(p[:8]) != headerMagic {
		return segmentHeader{}, fmt.Errorf("%w: bad header magic %q", ErrCorrupt, p[:8])
	}
	if v := binary.LittleEndian.Uint16(p[8:]); v != headerVersion {
		return segmentHeader{}, fmt.Errorf("%w: unsupported format version %d (this build reads %d)", ErrCorrupt, v, headerVersion)
	}
	flags := binary.LittleEndian.Uint16(p[10:])
	if flags&^flagSnapshot != 0 || binary.LittleEndian.Uint32(p[12:]) != 0 {
		return segmentHeader{}, fmt.Errorf("%w: unknown header flags %#x", ErrCorrupt, flags)
	}
	h := segmentHeader{
		snapshot: flags&flagSnapshot != 0,
		seq:      binary.LittleEndian.Uint64(p[16:]),
		nextID:   binary.LittleEndian.Uint64(p[24:]),
		floor:    binary.LittleEndian.Uint64(p[32:]),
		created:  int64(binary.LittleEndian.Uint64(p[40:])),
	}
	if h.nextID == 0 || h.nextID > maxID || h.floor > h.nextID {
		return segmentHeader{}, fmt.Errorf("%w: header next id %d, floor %d", ErrCorrupt, h.nextID, h.floor)
	}
	return h, nil
}

// entryFields are the contents of an entry record, for encoding.
type entryFields struct {
	id     uint64
	time   int64
	floor  uint64
	model  ModelID
	source string
	label  string
	vector []float32
	thumb  []byte
}

// appendEntryRecord appends f as a complete record and returns it with the
// thumbnail's offset from the start of the record.
func appendEntryRecord(dst []byte, tab *crc32.Table, f *entryFields) ([]byte, int) {
	start := len(dst)
	dst = beginRecord(dst, recEntry)
	dst = binary.LittleEndian.AppendUint64(dst, f.id)
	dst = binary.LittleEndian.AppendUint64(dst, uint64(f.time))
	dst = binary.LittleEndian.AppendUint64(dst, f.floor)
	dst = append(dst, f.model[:]...)
	dst = binary.LittleEndian.AppendUint32(dst, uint32(len(f.vector)))
	dst = binary.LittleEndian.AppendUint16(dst, uint16(len(f.source)))
	dst = binary.LittleEndian.AppendUint16(dst, uint16(len(f.label)))
	dst = append(dst, f.source...)
	dst = append(dst, f.label...)
	for _, x := range f.vector {
		dst = binary.LittleEndian.AppendUint32(dst, math.Float32bits(x))
	}
	dst = binary.LittleEndian.AppendUint32(dst, uint32(len(f.thumb)))
	thumbOff := len(dst) - start
	dst = append(dst, f.thumb...)
	finishRecord(tab, dst, start)
	return dst, thumbOff
}

// entryView is a decoded entry payload whose byte fields alias the payload.
type entryView struct {
	id       uint64
	time     int64
	floor    uint64
	model    ModelID
	source   []byte
	label    []byte
	vector   []byte // dim × 4 bytes, little-endian float32
	thumb    []byte
	thumbOff int // offset of thumb within the payload
}

// dim is the vector's dimension.
func (v *entryView) dim() int { return len(v.vector) / 4 }

// vectorInto decodes the vector into dst, which has length dim().
func (v *entryView) vectorInto(dst []float32) {
	for i := range dst {
		dst[i] = math.Float32frombits(binary.LittleEndian.Uint32(v.vector[4*i:]))
	}
}

// fields converts the view into owned entryFields.
func (v *entryView) fields() entryFields {
	vec := make([]float32, v.dim())
	v.vectorInto(vec)
	return entryFields{
		id: v.id, time: v.time, floor: v.floor, model: v.model,
		source: string(v.source), label: string(v.label),
		vector: vec, thumb: append([]byte(nil), v.thumb...),
	}
}

// decodeEntry parses an entry payload.
func decodeEntry(p []byte) (entryView, error) {
	var v entryView
	if len(p) < entryFixedSize {
		return v, fmt.Errorf("%w: entry: %w", ErrCorrupt, errShort)
	}
	v.id = binary.LittleEndian.Uint64(p)
	v.time = int64(binary.LittleEndian.Uint64(p[8:]))
	v.floor = binary.LittleEndian.Uint64(p[16:])
	copy(v.model[:], p[24:56])
	dim := int(binary.LittleEndian.Uint32(p[56:]))
	ns := int(binary.LittleEndian.Uint16(p[60:]))
	nl := int(binary.LittleEndian.Uint16(p[62:]))
	if v.id == 0 || v.id >= maxID || v.floor > v.id || v.model.IsZero() {
		return v, fmt.Errorf("%w: entry id %d, floor %d, model zero %v", ErrCorrupt, v.id, v.floor, v.model.IsZero())
	}
	if dim == 0 || dim > maxDimLimit || ns == 0 || ns > MaxNameBytes || nl > MaxNameBytes {
		return v, fmt.Errorf("%w: entry %d: dim %d, source %d bytes, label %d bytes", ErrCorrupt, v.id, dim, ns, nl)
	}
	off := entryFixedSize
	need := off + ns + nl + 4*dim + 4
	if len(p) < need {
		return v, fmt.Errorf("%w: entry %d: %w", ErrCorrupt, v.id, errShort)
	}
	v.source = p[off : off+ns]
	off += ns
	v.label = p[off : off+nl]
	off += nl
	v.vector = p[off : off+4*dim]
	off += 4 * dim
	nt := int(binary.LittleEndian.Uint32(p[off:]))
	off += 4
	if nt > maxThumbnailLimit || len(p) != off+nt {
		return v, fmt.Errorf("%w: entry %d: thumbnail of %d bytes in %d remaining", ErrCorrupt, v.id, nt, len(p)-off)
	}
	if !utf8.Valid(v.source) || !utf8.Valid(v.label) {
		return v, fmt.Errorf("%w: entry %d: source or label is not UTF-8", ErrCorrupt, v.id)
	}
	v.thumb = p[off:]
	v.thumbOff = off
	return v, nil
}

// appendLabelRecord appends a label update as a complete record.
func appendLabelRecord(dst []byte, tab *crc32.Table, id uint64, label string) []byte {
	start := len(dst)
	dst = beginRecord(dst, recLabel)
	dst = binary.LittleEndian.AppendUint64(dst, id)
	dst = binary.LittleEndian.AppendUint16(dst, uint16(len(label)))
	dst = append(dst, label...)
	finishRecord(tab, dst, start)
	return dst
}

// decodeLabel parses a label payload; the label aliases p.
func decodeLabel(p []byte) (uint64, []byte, error) {
	if len(p) < 10 {
		return 0, nil, fmt.Errorf("%w: label: %w", ErrCorrupt, errShort)
	}
	id := binary.LittleEndian.Uint64(p)
	n := int(binary.LittleEndian.Uint16(p[8:]))
	if id == 0 || id >= maxID || n > MaxNameBytes || len(p) != 10+n || !utf8.Valid(p[10:]) {
		return 0, nil, fmt.Errorf("%w: label record for id %d with %d bytes in %d", ErrCorrupt, id, n, len(p)-10)
	}
	return id, p[10:], nil
}

// appendEvictRecord appends an eviction marker as a complete record.
func appendEvictRecord(dst []byte, tab *crc32.Table, floor uint64) []byte {
	start := len(dst)
	dst = beginRecord(dst, recEvict)
	dst = binary.LittleEndian.AppendUint64(dst, floor)
	finishRecord(tab, dst, start)
	return dst
}

// decodeEvict parses an evict payload.
func decodeEvict(p []byte) (uint64, error) {
	if len(p) != 8 {
		return 0, fmt.Errorf("%w: evict payload is %d bytes, want 8", ErrCorrupt, len(p))
	}
	return binary.LittleEndian.Uint64(p), nil
}

package keyqueue

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
)

// Record framing: [body length u32][CRC-32C of length bytes + body u32][body],
// body = [type u8][payload]. See the package doc.
const (
	frameHeaderSize = 8
	maxBodySize     = 64 << 20
)

// recordType is the first byte of a record body.
type recordType uint8

// Record types; the values are part of the on-disk format.
const (
	recHeader recordType = 1
	recEntry  recordType = 2
	recLabel  recordType = 3
	recEvict  recordType = 4
)

// String names the type for error messages.
func (t recordType) String() string {
	switch t {
	case recHeader:
		return "header"
	case recEntry:
		return "entry"
	case recLabel:
		return "label"
	case recEvict:
		return "evict"
	}
	return fmt.Sprintf("type %d", uint8(t))
}

// crcTable returns the Castagnoli table; crc32 caches it and uses the CPU's
// CRC32 instruction for it.
func crcTable() *crc32.Table { return crc32.MakeTable(crc32.Castagnoli) }

// frameChecksum is the CRC-32C over the 4 length bytes and the body.
func frameChecksum(tab *crc32.Table, lenBytes, body []byte) uint32 {
	return crc32.Update(crc32.Update(0, tab, lenBytes), tab, body)
}

// beginRecord appends a frame header placeholder and the type byte to dst;
// the payload is appended next and finishRecord fills in the header.
func beginRecord(dst []byte, t recordType) []byte {
	return append(dst, 0, 0, 0, 0, 0, 0, 0, 0, byte(t))
}

// finishRecord fills in the frame header of the record starting at
// rec[start:], whose body runs to the end of rec.
func finishRecord(tab *crc32.Table, rec []byte, start int) {
	body := rec[start+frameHeaderSize:]
	binary.LittleEndian.PutUint32(rec[start:], uint32(len(body)))
	binary.LittleEndian.PutUint32(rec[start+4:], frameChecksum(tab, rec[start:start+4], body))
}

// checkFrameHeader validates a frame header's length field and returns the
// body length.
func checkFrameHeader(h []byte) (int, error) {
	n := binary.LittleEndian.Uint32(h)
	if n == 0 || n > maxBodySize {
		return 0, fmt.Errorf("%w: body length %d outside 1..%d", ErrCorrupt, n, maxBodySize)
	}
	return int(n), nil
}

// checkFrameBody verifies the checksum of a complete frame (header h, body).
func checkFrameBody(tab *crc32.Table, h, body []byte) error {
	want := binary.LittleEndian.Uint32(h[4:])
	if got := frameChecksum(tab, h[:4], body); got != want {
		return fmt.Errorf("%w: checksum mismatch (stored %08x, computed %08x)", ErrCorrupt, want, got)
	}
	return nil
}

// parseFrame parses the record at the start of b: its type, its payload (a
// subslice of b) and its total length. An incomplete record is ErrTorn; a
// bad length or checksum is ErrCorrupt.
func parseFrame(tab *crc32.Table, b []byte) (recordType, []byte, int, error) {
	if len(b) < frameHeaderSize {
		return 0, nil, 0, fmt.Errorf("%w: %d of %d header bytes", ErrTorn, len(b), frameHeaderSize)
	}
	n, err := checkFrameHeader(b)
	if err != nil {
		return 0, nil, 0, err
	}
	if len(b) < frameHeaderSize+n {
		return 0, nil, 0, fmt.Errorf("%w: %d of %d body bytes", ErrTorn, len(b)-frameHeaderSize, n)
	}
	body := b[frameHeaderSize : frameHeaderSize+n]
	if err := checkFrameBody(tab, b, body); err != nil {
		return 0, nil, 0, err
	}
	return recordType(body[0]), body[1:], frameHeaderSize + n, nil
}

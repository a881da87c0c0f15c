package protocol

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
)

// Frame sizes.
const (
	// MaxPayload is the largest payload a frame may carry (see the package
	// documentation for why 1024).
	MaxPayload = 1024
	// headerSize is type, seq and len.
	headerSize = 4
	// crcSize is the trailing CRC-32.
	crcSize = 4
	// MaxRawFrame is the largest frame before COBS encoding.
	MaxRawFrame = headerSize + MaxPayload + crcSize
	// MaxEncodedFrame is the largest COBS-encoded frame, without its
	// delimiter. A reader drops anything longer unread.
	MaxEncodedFrame = MaxRawFrame + MaxRawFrame/254 + 1
	// Delimiter ends every frame on the wire.
	Delimiter = 0x00
)

// Frame is one decoded frame: the header fields and the payload.
type Frame struct {
	// Type is the message type (bits 0-6 of the type byte).
	Type Type
	// Seq is the sender's sequence number.
	Seq uint8
	// AckRequested is bit 7 of the type byte: the sender wants ACK or NACK.
	AckRequested bool
	// Payload is the message body, at most MaxPayload bytes.
	Payload []byte
}

// typeByte is the first byte of the frame on the wire.
func (f Frame) typeByte() byte {
	b := byte(f.Type)
	if f.AckRequested {
		b |= ackRequestFlag
	}
	return b
}

// AppendFrame appends f as it goes on the wire (COBS-encoded, then the
// delimiter) to dst.
func AppendFrame(dst []byte, f Frame) ([]byte, error) {
	if f.Type > maxType {
		return dst, fmt.Errorf("protocol: frame type 0x%02x does not fit 7 bits", uint8(f.Type))
	}
	if len(f.Payload) > MaxPayload {
		return dst, fmt.Errorf("%w: %s payload of %d bytes, max %d", ErrTooLarge, f.Type, len(f.Payload), MaxPayload)
	}
	var raw [MaxRawFrame]byte
	n := putRaw(raw[:], f)
	dst = cobsEncode(dst, raw[:n])
	return append(dst, Delimiter), nil
}

// putRaw writes the unencoded frame into raw, which must hold MaxRawFrame
// bytes, and returns its length.
func putRaw(raw []byte, f Frame) int {
	raw[0] = f.typeByte()
	raw[1] = f.Seq
	binary.LittleEndian.PutUint16(raw[2:4], uint16(len(f.Payload)))
	n := headerSize + copy(raw[headerSize:], f.Payload)
	binary.LittleEndian.PutUint32(raw[n:], crc32.ChecksumIEEE(raw[:n]))
	return n + crcSize
}

// ParseFrame decodes one COBS-encoded frame (the bytes between two
// delimiters, without them) and checks its length and CRC. Errors wrap
// ErrCOBS, ErrLength, ErrTooLarge or ErrCRC. The payload is a new slice.
func ParseFrame(encoded []byte) (Frame, error) {
	if len(encoded) > MaxEncodedFrame {
		return Frame{}, fmt.Errorf("%w: %d encoded bytes, max %d", ErrTooLarge, len(encoded), MaxEncodedFrame)
	}
	raw, err := cobsDecode(make([]byte, 0, len(encoded)), encoded)
	if err != nil {
		return Frame{}, err
	}
	f, _, err := parseRaw(raw)
	return f, err
}

// parseRaw checks an unencoded frame and returns it with its CRC. The payload
// aliases raw.
func parseRaw(raw []byte) (Frame, uint32, error) {
	if len(raw) < headerSize+crcSize {
		return Frame{}, 0, fmt.Errorf("%w: %d bytes, need at least %d", ErrLength, len(raw), headerSize+crcSize)
	}
	n := int(binary.LittleEndian.Uint16(raw[2:4]))
	if n > MaxPayload {
		return Frame{}, 0, fmt.Errorf("%w: length field %d, max %d", ErrTooLarge, n, MaxPayload)
	}
	if got := len(raw) - headerSize - crcSize; got != n {
		return Frame{}, 0, fmt.Errorf("%w: length field %d, frame holds %d payload bytes", ErrLength, n, got)
	}
	body := raw[:headerSize+n]
	want := binary.LittleEndian.Uint32(raw[headerSize+n:])
	if got := crc32.ChecksumIEEE(body); got != want {
		return Frame{}, 0, fmt.Errorf("%w: computed 0x%08x, frame says 0x%08x", ErrCRC, got, want)
	}
	return Frame{
		Type:         Type(raw[0] &^ ackRequestFlag),
		Seq:          raw[1],
		AckRequested: raw[0]&ackRequestFlag != 0,
		Payload:      raw[headerSize : headerSize+n],
	}, want, nil
}

package protocol

import (
	"encoding/binary"
	"fmt"
	"unicode"
	"unicode/utf8"
)

// payloadReader reads fixed-layout fields from a payload. The first short
// read sets err; later reads return zeros, so decoders read every field and
// check once with done.
type payloadReader struct {
	t   Type
	p   []byte
	off int
	err error
}

func newPayloadReader(t Type, p []byte) *payloadReader { return &payloadReader{t: t, p: p} }

// take returns the next n bytes, or nil once the payload is short.
func (r *payloadReader) take(n int, field string) []byte {
	if r.err != nil {
		return nil
	}
	if len(r.p)-r.off < n {
		r.err = fmt.Errorf("%w: %s payload of %d bytes ends inside %s at offset %d (needs %d)",
			ErrMalformed, r.t, len(r.p), field, r.off, n)
		return nil
	}
	b := r.p[r.off : r.off+n]
	r.off += n
	return b
}

func (r *payloadReader) u8(field string) uint8 {
	if b := r.take(1, field); b != nil {
		return b[0]
	}
	return 0
}

func (r *payloadReader) u16(field string) uint16 {
	if b := r.take(2, field); b != nil {
		return binary.LittleEndian.Uint16(b)
	}
	return 0
}

func (r *payloadReader) u32(field string) uint32 {
	if b := r.take(4, field); b != nil {
		return binary.LittleEndian.Uint32(b)
	}
	return 0
}

// rest returns the remaining bytes.
func (r *payloadReader) rest() []byte {
	if r.err != nil {
		return nil
	}
	b := r.p[r.off:]
	r.off = len(r.p)
	return b
}

// done reports the first short read, or trailing bytes.
func (r *payloadReader) done() error {
	if r.err != nil {
		return r.err
	}
	if r.off != len(r.p) {
		return fmt.Errorf("%w: %s payload has %d bytes, layout ends at %d", ErrMalformed, r.t, len(r.p), r.off)
	}
	return nil
}

// malformed builds an ErrMalformed error for a field of message type t.
func malformed(t Type, format string, args ...any) error {
	return fmt.Errorf("%w: %s: %s", ErrMalformed, t, fmt.Sprintf(format, args...))
}

// checkText checks a HELLO string: at most 255 bytes, UTF-8, no control
// characters.
func checkText(t Type, field, s string) error {
	if len(s) > 255 {
		return malformed(t, "%s is %d bytes, max 255", field, len(s))
	}
	if !utf8.ValidString(s) {
		return malformed(t, "%s is not UTF-8", field)
	}
	for _, c := range s {
		if unicode.IsControl(c) {
			return malformed(t, "%s has control character %U", field, c)
		}
	}
	return nil
}

func appendU16(b []byte, v uint16) []byte { return binary.LittleEndian.AppendUint16(b, v) }

func appendU32(b []byte, v uint32) []byte { return binary.LittleEndian.AppendUint32(b, v) }

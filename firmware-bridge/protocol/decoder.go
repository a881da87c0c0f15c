package protocol

import (
	"bytes"
	"errors"
	"io"
	"sync/atomic"
	"time"
)

// readBufferSize is how much one Read of the underlying stream asks for.
const readBufferSize = 4096

// DecoderStats counts what a Decoder has read and dropped.
type DecoderStats struct {
	// Bytes is every byte read from the stream.
	Bytes uint64
	// Frames is frames whose length and CRC checked out.
	Frames uint64
	// Messages is frames that also decoded into a message (ReadMessage).
	Messages uint64
	// BadCOBS is frames dropped for invalid COBS.
	BadCOBS uint64
	// BadLength is frames dropped for their size: shorter than a header and
	// CRC, a length field that disagrees with the frame, a payload over
	// MaxPayload, or more than MaxEncodedFrame bytes without a delimiter.
	BadLength uint64
	// BadCRC is frames dropped for a CRC mismatch.
	BadCRC uint64
	// UnknownType is intact frames of a type this package does not know.
	UnknownType uint64
	// Malformed is intact frames whose payload does not decode.
	Malformed uint64
}

// Dropped is the number of frames dropped for any reason.
func (s DecoderStats) Dropped() uint64 {
	return s.BadCOBS + s.BadLength + s.BadCRC + s.UnknownType + s.Malformed
}

// decoderCounters are the live counters; atomics so that Stats may be called
// from another goroutine than the reader.
type decoderCounters struct {
	bytes, frames, messages                                  atomic.Uint64
	badCOBS, badLength, badCRC, unknownType, malformedFrames atomic.Uint64
}

// Decoder reads frames from a byte stream. It splits the stream at each 0x00,
// checks every frame, and skips bad ones, counting them by reason, so that
// after garbage it is back in step at the next delimiter. A Decoder is for one
// goroutine; Stats may be called from any.
type Decoder struct {
	r        io.Reader
	buf      []byte // read buffer; buf[start:end] is not yet scanned
	start    int
	end      int
	readErr  error  // error from the stream, returned once buf is drained
	encoded  []byte // bytes of the current frame so far
	overflow bool   // current frame passed MaxEncodedFrame; skip to delimiter
	raw      []byte // scratch for the COBS-decoded frame
	count    decoderCounters
}

// NewDecoder returns a Decoder reading from r. A Read that returns no bytes
// and no error (a serial port's read timeout) is simply retried.
func NewDecoder(r io.Reader) *Decoder {
	return &Decoder{
		r:       r,
		buf:     make([]byte, readBufferSize),
		encoded: make([]byte, 0, MaxEncodedFrame),
		raw:     make([]byte, 0, MaxEncodedFrame),
	}
}

// Stats returns the counters so far.
func (d *Decoder) Stats() DecoderStats {
	c := &d.count
	return DecoderStats{
		Bytes: c.bytes.Load(), Frames: c.frames.Load(), Messages: c.messages.Load(),
		BadCOBS: c.badCOBS.Load(), BadLength: c.badLength.Load(), BadCRC: c.badCRC.Load(),
		UnknownType: c.unknownType.Load(), Malformed: c.malformedFrames.Load(),
	}
}

// ReadFrame returns the next frame whose length and CRC check out. The only
// errors are the stream's (io.EOF when it ends); bytes of a frame left
// unterminated at the end of the stream are discarded. The payload is a new
// slice.
func (d *Decoder) ReadFrame() (Frame, error) {
	f, _, err := d.readFrame()
	return f, err
}

func (d *Decoder) readFrame() (Frame, uint32, error) {
	for {
		if d.start < d.end {
			chunk := d.buf[d.start:d.end]
			i := bytes.IndexByte(chunk, Delimiter)
			if i < 0 {
				d.collect(chunk)
				d.start = d.end
				continue
			}
			d.collect(chunk[:i])
			d.start += i + 1
			if f, crc, ok := d.finish(); ok {
				return f, crc, nil
			}
			continue
		}
		if d.readErr != nil {
			return Frame{}, 0, d.readErr
		}
		n, err := d.r.Read(d.buf)
		d.start, d.end = 0, max(n, 0)
		d.count.bytes.Add(uint64(d.end))
		d.readErr = err
	}
}

// collect adds p to the current frame, or starts skipping it when the frame
// grows past MaxEncodedFrame.
func (d *Decoder) collect(p []byte) {
	if d.overflow {
		return
	}
	if len(d.encoded)+len(p) > MaxEncodedFrame {
		d.overflow = true
		d.encoded = d.encoded[:0]
		return
	}
	d.encoded = append(d.encoded, p...)
}

// finish checks the frame that a delimiter just ended. Empty frames are idle
// line and not counted.
func (d *Decoder) finish() (Frame, uint32, bool) {
	encoded, overflow := d.encoded, d.overflow
	d.encoded, d.overflow = d.encoded[:0], false
	if overflow {
		d.count.badLength.Add(1)
		return Frame{}, 0, false
	}
	if len(encoded) == 0 {
		return Frame{}, 0, false
	}
	raw, err := cobsDecode(d.raw[:0], encoded)
	if err != nil {
		d.count.badCOBS.Add(1)
		return Frame{}, 0, false
	}
	f, crc, err := parseRaw(raw)
	switch {
	case errors.Is(err, ErrCRC):
		d.count.badCRC.Add(1)
		return Frame{}, 0, false
	case err != nil:
		d.count.badLength.Add(1)
		return Frame{}, 0, false
	}
	f.Payload = append([]byte(nil), f.Payload...)
	d.count.frames.Add(1)
	return f, crc, true
}

// ReadMessage returns the next message. An intact frame that does not decode
// (unknown type, malformed payload) is counted and returned as a *FrameError
// together with the packet's header fields; the stream stays in step and the
// caller may answer with NACK and read on. Any other error is the stream's.
func (d *Decoder) ReadMessage() (Packet, error) {
	f, crc, err := d.readFrame()
	if err != nil {
		return Packet{}, err
	}
	p := Packet{Seq: f.Seq, AckRequested: f.AckRequested, CRC: crc, Time: time.Now()}
	p.Msg, err = Decode(f)
	if err != nil {
		if errors.Is(err, ErrUnknownType) {
			d.count.unknownType.Add(1)
		} else {
			d.count.malformedFrames.Add(1)
		}
		return p, &FrameError{Frame: f, Err: err}
	}
	d.count.messages.Add(1)
	return p, nil
}

package protocol

import (
	"bytes"
	"errors"
	"io"
	"reflect"
	"testing"
	"time"
)

// Run one with, for example:
//
//	go test ./firmware-bridge/protocol -run '^$' -fuzz '^FuzzDecoder$' -fuzztime 30s

func FuzzCOBS(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte{0x01})
	f.Add([]byte{0x03, 0x11, 0x22, 0x02, 0x33})
	f.Add(append([]byte{0xFF}, seqBytes(1, 254)...))
	f.Add(append(append([]byte{0xFF}, seqBytes(1, 254)...), 0x01))
	for _, g := range goldenFrames {
		f.Add(g.wire[:len(g.wire)-1])
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		// data as encoded bytes
		dec, err := cobsDecode(nil, data)
		if err != nil {
			if !errors.Is(err, ErrCOBS) {
				t.Fatalf("error %v does not wrap ErrCOBS", err)
			}
		} else {
			again, err := cobsDecode(nil, cobsEncode(nil, dec))
			if err != nil || !bytes.Equal(again, dec) {
				t.Fatalf("re-encoding of a decoded input does not round trip: %v", err)
			}
		}
		// data as raw bytes
		enc := cobsEncode(nil, data)
		if bytes.IndexByte(enc, 0) >= 0 {
			t.Fatal("encoding contains a zero byte")
		}
		if len(enc) > cobsMaxEncodedLen(len(data)) {
			t.Fatalf("%d bytes encode to %d, bound %d", len(data), len(enc), cobsMaxEncodedLen(len(data)))
		}
		back, err := cobsDecode(nil, enc)
		if err != nil || !bytes.Equal(back, data) {
			t.Fatalf("round trip failed: %v", err)
		}
	})
}

func FuzzParseFrame(f *testing.F) {
	for _, g := range goldenFrames {
		f.Add(g.wire[:len(g.wire)-1])
	}
	f.Add(cobsEncode(nil, rawFrame(0x02, 1, 9, []byte{1, 2, 3, 4})))
	f.Add([]byte{0x05, 0x01})
	f.Fuzz(func(t *testing.T, encoded []byte) {
		fr, err := ParseFrame(encoded)
		if err != nil {
			for _, want := range []error{ErrCOBS, ErrLength, ErrTooLarge, ErrCRC} {
				if errors.Is(err, want) {
					return
				}
			}
			t.Fatalf("error %v wraps no frame sentinel", err)
		}
		wire, err := AppendFrame(nil, fr)
		if err != nil {
			t.Fatalf("a parsed frame does not encode: %v", err)
		}
		again, err := ParseFrame(wire[:len(wire)-1])
		if err != nil || !reflect.DeepEqual(again, fr) {
			t.Fatalf("frame round trip failed: %v", err)
		}
	})
}

// chunkReader hands out data in reads of at most n bytes.
type chunkReader struct {
	data []byte
	n    int
}

func (r *chunkReader) Read(p []byte) (int, error) {
	if len(r.data) == 0 {
		return 0, io.EOF
	}
	k := min(len(p), r.n, len(r.data))
	copy(p, r.data[:k])
	r.data = r.data[k:]
	return k, nil
}

func FuzzDecoder(f *testing.F) {
	all := []byte{}
	for _, g := range goldenFrames {
		all = append(all, g.wire...)
		f.Add(g.wire, uint8(3))
	}
	f.Add(all, uint8(0))
	f.Add([]byte("garbage\x00\x01\x02\x00"), uint8(1))
	f.Add(bytes.Repeat([]byte{0x7E}, 2*MaxEncodedFrame), uint8(200))
	sentinel := &Log{Level: LogInfo, Text: "end of stream"}
	tail, _ := AppendMessage([]byte{Delimiter}, 0x99, true, sentinel)

	f.Fuzz(func(t *testing.T, stream []byte, chunk uint8) {
		d := NewDecoder(&chunkReader{data: append(append([]byte(nil), stream...), tail...), n: int(chunk) + 1})
		var last Packet
		for {
			p, err := d.ReadMessage()
			var fe *FrameError
			if errors.As(err, &fe) {
				if !errors.Is(fe, ErrUnknownType) && !errors.Is(fe, ErrMalformed) {
					t.Fatalf("frame error %v", fe)
				}
				continue
			}
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			if _, err := AppendMessage(nil, p.Seq, p.AckRequested, p.Msg); err != nil {
				t.Fatalf("decoded %T does not encode: %v", p.Msg, err)
			}
			last = p
		}
		// Whatever came before, a frame after a delimiter is decoded.
		if last.Msg == nil || !reflect.DeepEqual(last.Msg, sentinel) || last.Seq != 0x99 || !last.AckRequested {
			t.Fatalf("lost the frame after the garbage: %+v", last)
		}
		s := d.Stats()
		if s.Frames != s.Messages+s.UnknownType+s.Malformed {
			t.Fatalf("inconsistent stats %+v", s)
		}
		if s.Bytes != uint64(len(stream)+len(tail)) {
			t.Fatalf("Bytes = %d, fed %d", s.Bytes, len(stream)+len(tail))
		}
	})
}

func FuzzDecodeMessage(f *testing.F) {
	for _, m := range messageLayouts {
		f.Add(uint8(m.msg.Type()), m.payload)
	}
	f.Add(uint8(0x55), []byte{1, 2})
	f.Fuzz(func(t *testing.T, typ uint8, payload []byte) {
		m, err := Decode(Frame{Type: Type(typ & maxType), Payload: payload})
		if err != nil {
			if !errors.Is(err, ErrUnknownType) && !errors.Is(err, ErrMalformed) {
				t.Fatalf("error %v wraps neither ErrUnknownType nor ErrMalformed", err)
			}
			return
		}
		// Decoding is exact: the message encodes back to the same bytes.
		again, err := m.MarshalBinary()
		if err != nil {
			t.Fatalf("decoded %T does not encode: %v", m, err)
		}
		if !bytes.Equal(again, payload) {
			t.Fatalf("%T re-encodes to % x, was % x", m, again, payload)
		}
	})
}

func FuzzAssembler(f *testing.F) {
	f.Add([]byte{0, 0, 2, 1, 0, 1, 2, 2, 0, 1, 0})
	f.Add([]byte{5, 3, 3, 4, 5, 3, 4, 1, 2, 200})
	f.Fuzz(func(t *testing.T, script []byte) {
		const maxBytes, inFlight = 64, 3
		a := NewAssembler(WithMaxFrameBytes(maxBytes), WithMaxInFlight(inFlight), WithMaxChunks(8),
			WithFrameTimeout(10*time.Millisecond))
		now := time.Unix(0, 0)
		// Each 4 bytes are one chunk: id, index, count, data length and time step.
		for len(script) >= 4 {
			op := script[:4]
			script = script[4:]
			now = now.Add(time.Duration(op[3]>>4) * time.Millisecond)
			c := &CameraChunk{FrameID: uint16(op[0] % 5), Index: uint16(op[1] % 9), Count: uint16(op[2] % 10),
				Data: bytes.Repeat([]byte{op[0] ^ op[1]}, int(op[3]&0x0F))}
			frame, ok := a.Add(now, c)
			if ok && (len(frame.Data) == 0 || len(frame.Data) > maxBytes || frame.Chunks != int(c.Count)) {
				t.Fatalf("bad frame: %d bytes, %d chunks", len(frame.Data), frame.Chunks)
			}
			s := a.Stats()
			if s.InFlight > inFlight || s.Buffered > inFlight*maxBytes || s.Buffered < 0 {
				t.Fatalf("bounds broken: %+v", s)
			}
		}
	})
}

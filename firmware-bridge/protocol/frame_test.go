package protocol

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"testing"
)

// Golden frames, written out by hand from the layout in doc.go: the raw
// frame, then its COBS encoding with the delimiter. CRCs are CRC-32/IEEE of
// the raw bytes before them.
var goldenFrames = []struct {
	name string
	msg  Message
	seq  uint8
	ack  bool
	raw  []byte
	wire []byte
}{
	{
		name: "heartbeat 1000 ms",
		msg:  &Heartbeat{UptimeMS: 1000},
		seq:  1,
		//     type  seq   len        uptime=1000            crc32
		raw: []byte{0x02, 0x01, 0x04, 0x00, 0xE8, 0x03, 0x00, 0x00, 0x38, 0x46, 0x6C, 0x0B},
		wire: []byte{
			0x04, 0x02, 0x01, 0x04, // 3 bytes, then a zero
			0x03, 0xE8, 0x03, // 2 bytes, then a zero
			0x01,                         // a zero
			0x05, 0x38, 0x46, 0x6C, 0x0B, // 4 bytes, end
			0x00, // delimiter
		},
	},
	{
		name: "LED blink request",
		msg:  &SetLED{ID: 1, Mode: LEDBlink, Brightness: 0x80, OnMS: 500, OffMS: 250},
		seq:  0x2A,
		ack:  true,
		// type 0x08|0x80, seq, len 7, id, mode, brightness, on 500, off 250, crc32
		raw: []byte{0x88, 0x2A, 0x07, 0x00, 0x01, 0x02, 0x80, 0xF4, 0x01, 0xFA, 0x00, 0x3B, 0x63, 0x77, 0x26},
		wire: []byte{
			0x04, 0x88, 0x2A, 0x07,
			0x07, 0x01, 0x02, 0x80, 0xF4, 0x01, 0xFA,
			0x05, 0x3B, 0x63, 0x77, 0x26,
			0x00,
		},
	},
	{
		name: "ACK of seq 7",
		msg:  &Ack{Seq: 7},
		seq:  0,
		raw:  []byte{0x03, 0x00, 0x01, 0x00, 0x07, 0x59, 0x72, 0x24, 0x1E},
		wire: []byte{0x02, 0x03, 0x02, 0x01, 0x06, 0x07, 0x59, 0x72, 0x24, 0x1E, 0x00},
	},
	{
		name: "camera chunk",
		msg:  &CameraChunk{FrameID: 0x0102, Index: 0, Count: 1, Data: []byte{0xFF, 0xD8, 0xFF, 0xD9}},
		seq:  5,
		// type, seq, len 10, frame id 0x0102, index 0, count 1, JPEG SOI+EOI, crc32
		raw:  []byte{0x0A, 0x05, 0x0A, 0x00, 0x02, 0x01, 0x00, 0x00, 0x01, 0x00, 0xFF, 0xD8, 0xFF, 0xD9, 0x8E, 0x1A, 0xF2, 0x1D},
		wire: []byte{0x04, 0x0A, 0x05, 0x0A, 0x03, 0x02, 0x01, 0x01, 0x02, 0x01, 0x09, 0xFF, 0xD8, 0xFF, 0xD9, 0x8E, 0x1A, 0xF2, 0x1D, 0x00},
	},
	{
		name: "hello",
		msg:  &Hello{Protocol: 1, Capabilities: CapLED | CapCamera, FirmwareVersion: "1.0", DeviceID: "b1"},
		seq:  0,
		// type, seq, len 12, protocol 1, caps 0x21, len 3 "1.0", len 2 "b1", crc32
		raw: []byte{0x01, 0x00, 0x0C, 0x00, 0x01, 0x21, 0x00, 0x00, 0x00, 0x03, '1', '.', '0', 0x02, 'b', '1', 0xB1, 0x2D, 0x14, 0xC1},
		wire: []byte{
			0x02, 0x01, 0x02, 0x0C, 0x03, 0x01, 0x21, 0x01, 0x01,
			0x0C, 0x03, '1', '.', '0', 0x02, 'b', '1', 0xB1, 0x2D, 0x14, 0xC1,
			0x00,
		},
	},
}

func TestGoldenFrames(t *testing.T) {
	for _, g := range goldenFrames {
		t.Run(g.name, func(t *testing.T) {
			wire, err := AppendMessage(nil, g.seq, g.ack, g.msg)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(wire, g.wire) {
				t.Fatalf("wire = % x\nwant   % x", wire, g.wire)
			}
			if raw, _ := cobsDecode(nil, g.wire[:len(g.wire)-1]); !bytes.Equal(raw, g.raw) {
				t.Fatalf("raw = % x\nwant  % x", raw, g.raw)
			}
			f, err := ParseFrame(g.wire[:len(g.wire)-1])
			if err != nil {
				t.Fatal(err)
			}
			if f.Type != g.msg.Type() || f.Seq != g.seq || f.AckRequested != g.ack {
				t.Fatalf("header = %v seq %d ack %v", f.Type, f.Seq, f.AckRequested)
			}
			m, err := Decode(f)
			if err != nil {
				t.Fatal(err)
			}
			assertSameMessage(t, m, g.msg)
		})
	}
}

// rawFrame builds an unencoded frame with lenField in place of the true
// length and a CRC that matches the bytes as written.
func rawFrame(typ, seq byte, lenField uint16, payload []byte) []byte {
	raw := []byte{typ, seq, byte(lenField), byte(lenField >> 8)}
	raw = append(raw, payload...)
	return binary.LittleEndian.AppendUint32(raw, crc32.ChecksumIEEE(raw))
}

func TestParseFrameErrors(t *testing.T) {
	good := rawFrame(0x02, 1, 4, []byte{1, 2, 3, 4})
	badCRC := append([]byte(nil), good...)
	badCRC[5] ^= 0x01
	tests := []struct {
		name    string
		encoded []byte
		want    error
	}{
		{"invalid COBS", []byte{0x05, 0x01}, ErrCOBS},
		{"too short", cobsEncode(nil, []byte{0x02, 0x01, 0x00, 0x00, 0xAA, 0xBB, 0xCC}), ErrLength},
		{"length field too small", cobsEncode(nil, rawFrame(0x02, 1, 3, []byte{1, 2, 3, 4})), ErrLength},
		{"length field too big", cobsEncode(nil, rawFrame(0x02, 1, 5, []byte{1, 2, 3, 4})), ErrLength},
		{"length field over max", cobsEncode(nil, rawFrame(0x02, 1, MaxPayload+1, []byte{1, 2, 3, 4})), ErrTooLarge},
		{"encoded over max", bytes.Repeat([]byte{0x01}, MaxEncodedFrame+1), ErrTooLarge},
		{"payload bit flip", cobsEncode(nil, badCRC), ErrCRC},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := ParseFrame(tt.encoded); !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
		})
	}
	if _, err := ParseFrame(cobsEncode(nil, good)); err != nil {
		t.Fatalf("control frame: %v", err)
	}
}

func TestAppendFrameLimits(t *testing.T) {
	if _, err := AppendFrame(nil, Frame{Type: TypeLog, Payload: make([]byte, MaxPayload+1)}); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("oversize payload: err = %v, want ErrTooLarge", err)
	}
	if _, err := AppendFrame(nil, Frame{Type: 0x80}); err == nil {
		t.Fatal("type 0x80 encoded without error")
	}
	full := bytes.Repeat([]byte{0xAB}, MaxPayload)
	wire, err := AppendFrame(nil, Frame{Type: TypeLog, Seq: 255, AckRequested: true, Payload: full})
	if err != nil {
		t.Fatal(err)
	}
	if enc := len(wire) - 1; enc > MaxEncodedFrame {
		t.Fatalf("full frame is %d bytes encoded, MaxEncodedFrame %d", enc, MaxEncodedFrame)
	}
	f, err := ParseFrame(wire[:len(wire)-1])
	if err != nil || !bytes.Equal(f.Payload, full) || f.Seq != 255 || !f.AckRequested {
		t.Fatalf("full frame round trip: %v", err)
	}
}

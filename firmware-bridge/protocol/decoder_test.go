package protocol

import (
	"bytes"
	"errors"
	"io"
	"testing"
	"testing/iotest"
)

// wireOf encodes messages with consecutive sequence numbers from 0.
func wireOf(t testing.TB, msgs ...Message) []byte {
	t.Helper()
	var b []byte
	for i, m := range msgs {
		var err error
		if b, err = AppendMessage(b, uint8(i), false, m); err != nil {
			t.Fatal(err)
		}
	}
	return b
}

// readAll reads messages until the stream ends, collecting FrameErrors.
func readAll(t *testing.T, d *Decoder) ([]Message, []*FrameError) {
	t.Helper()
	var msgs []Message
	var bad []*FrameError
	for {
		p, err := d.ReadMessage()
		var fe *FrameError
		switch {
		case errors.As(err, &fe):
			bad = append(bad, fe)
		case errors.Is(err, io.EOF):
			return msgs, bad
		case err != nil:
			t.Fatalf("ReadMessage: %v", err)
		default:
			msgs = append(msgs, p.Msg)
		}
	}
}

func TestDecoderCountsAndResyncs(t *testing.T) {
	hb := &Heartbeat{UptimeMS: 42}
	trig := &Trigger{Source: 1, BoardTimeMS: 7}
	good := wireOf(t, hb)
	crcBroken := append([]byte(nil), good...)
	crcBroken[5] ^= 0x40 // a data byte inside the COBS encoding
	unknown, _ := AppendFrame(nil, Frame{Type: 0x33, Payload: []byte{1}})
	malformedBtn, _ := AppendFrame(nil, Frame{Type: TypeButton, Payload: []byte{1, 9}})
	shortFrame := append(cobsEncode(nil, []byte{0x02, 0x00, 0x00}), 0)
	lenMismatch := append(cobsEncode(nil, rawFrame(0x02, 0, 9, []byte{1, 2, 3, 4})), 0)
	oversize := append(bytes.Repeat([]byte{0x01}, MaxEncodedFrame+10), 0)
	badCOBS := []byte{0x09, 0x01, 0x00}

	tests := []struct {
		name   string
		stream [][]byte
		want   []Message
		stats  DecoderStats // Bytes and Frames/Messages are checked separately
		types  []error
	}{
		{"clean", [][]byte{good, wireOf(t, trig)}, []Message{hb, trig}, DecoderStats{}, nil},
		{"idle delimiters", [][]byte{{0, 0, 0}, good, {0, 0}}, []Message{hb}, DecoderStats{}, nil},
		{"garbage before", [][]byte{[]byte("noise!"), {0}, good}, []Message{hb}, DecoderStats{BadCOBS: 1}, nil},
		{"garbage glued to frame is lost with it", [][]byte{{0x31, 0x32}, good, good}, []Message{hb}, DecoderStats{BadCOBS: 1}, nil},
		{"crc", [][]byte{crcBroken, good}, []Message{hb}, DecoderStats{BadCRC: 1}, nil},
		{"cobs", [][]byte{badCOBS, good}, []Message{hb}, DecoderStats{BadCOBS: 1}, nil},
		{"short", [][]byte{shortFrame, good}, []Message{hb}, DecoderStats{BadLength: 1}, nil},
		{"length field", [][]byte{lenMismatch, good}, []Message{hb}, DecoderStats{BadLength: 1}, nil},
		{"no delimiter for too long", [][]byte{oversize, good}, []Message{hb}, DecoderStats{BadLength: 1}, nil},
		{"unknown type", [][]byte{unknown, good}, []Message{hb}, DecoderStats{UnknownType: 1}, []error{ErrUnknownType}},
		{"malformed", [][]byte{malformedBtn, good}, []Message{hb}, DecoderStats{Malformed: 1}, []error{ErrMalformed}},
		{"unterminated tail", [][]byte{good, good[:len(good)-1]}, []Message{hb}, DecoderStats{}, nil},
	}
	readers := map[string]func(io.Reader) io.Reader{
		"whole":    func(r io.Reader) io.Reader { return r },
		"one byte": iotest.OneByteReader,
		"half":     iotest.HalfReader,
		"data+EOF": iotest.DataErrReader,
	}
	for _, tt := range tests {
		for rname, wrap := range readers {
			t.Run(tt.name+"/"+rname, func(t *testing.T) {
				stream := bytes.Join(tt.stream, nil)
				d := NewDecoder(wrap(bytes.NewReader(stream)))
				msgs, bad := readAll(t, d)
				if len(msgs) != len(tt.want) {
					t.Fatalf("got %d messages, want %d", len(msgs), len(tt.want))
				}
				for i := range msgs {
					assertSameMessage(t, msgs[i], tt.want[i])
				}
				if len(bad) != len(tt.types) {
					t.Fatalf("got %d frame errors, want %d", len(bad), len(tt.types))
				}
				for i, fe := range bad {
					if !errors.Is(fe, tt.types[i]) {
						t.Fatalf("frame error %v, want %v", fe, tt.types[i])
					}
				}
				got := d.Stats()
				if got.Bytes != uint64(len(stream)) {
					t.Errorf("Bytes = %d, want %d", got.Bytes, len(stream))
				}
				if got.Messages != uint64(len(tt.want)) || got.Frames != uint64(len(tt.want)+len(tt.types)) {
					t.Errorf("Frames %d Messages %d", got.Frames, got.Messages)
				}
				got.Bytes, got.Frames, got.Messages = 0, 0, 0
				if got != tt.stats {
					t.Errorf("stats = %+v\nwant    %+v", got, tt.stats)
				}
			})
		}
	}
}

func TestDecoderPacketHeader(t *testing.T) {
	wire, _ := AppendMessage(nil, 77, true, &SetRelay{ID: 1, On: true})
	d := NewDecoder(bytes.NewReader(wire))
	p, err := d.ReadMessage()
	if err != nil {
		t.Fatal(err)
	}
	f, _ := ParseFrame(wire[:len(wire)-1])
	raw, _ := cobsDecode(nil, wire[:len(wire)-1])
	if p.Seq != 77 || !p.AckRequested || p.Time.IsZero() || f.Seq != 77 {
		t.Fatalf("packet header = %+v", p)
	}
	if want := uint32(raw[len(raw)-4]) | uint32(raw[len(raw)-3])<<8 | uint32(raw[len(raw)-2])<<16 | uint32(raw[len(raw)-1])<<24; p.CRC != want {
		t.Fatalf("CRC = %#x, want %#x", p.CRC, want)
	}
	if d.Stats().Dropped() != 0 {
		t.Fatal("dropped frames in a clean stream")
	}
}

func TestDecoderFrameErrorReason(t *testing.T) {
	unknown, _ := AppendFrame(nil, Frame{Type: 0x20, Seq: 3, AckRequested: true})
	bad, _ := AppendFrame(nil, Frame{Type: TypeLED, Seq: 4, AckRequested: true, Payload: []byte{1}})
	d := NewDecoder(bytes.NewReader(append(unknown, bad...)))
	for _, want := range []NackReason{ReasonUnknownType, ReasonMalformed} {
		p, err := d.ReadMessage()
		var fe *FrameError
		if !errors.As(err, &fe) {
			t.Fatalf("err = %v, want *FrameError", err)
		}
		if fe.Reason() != want || !p.AckRequested || p.Seq != fe.Frame.Seq {
			t.Fatalf("reason %v (want %v), packet %+v", fe.Reason(), want, p)
		}
		if fe.Error() == "" {
			t.Fatal("empty error text")
		}
	}
}

// zeroReader returns (0, nil) a few times before each byte of data, as a
// serial port with a read timeout does.
type zeroReader struct {
	data  []byte
	zeros int
	calls int
}

func (z *zeroReader) Read(p []byte) (int, error) {
	z.calls++
	if z.calls%(z.zeros+1) != 0 {
		return 0, nil
	}
	if len(z.data) == 0 {
		return 0, io.EOF
	}
	p[0] = z.data[0]
	z.data = z.data[1:]
	return 1, nil
}

func TestDecoderToleratesEmptyReads(t *testing.T) {
	d := NewDecoder(&zeroReader{data: wireOf(t, &Heartbeat{UptimeMS: 1}), zeros: 3})
	msgs, _ := readAll(t, d)
	if len(msgs) != 1 {
		t.Fatalf("got %d messages, want 1", len(msgs))
	}
}

func TestDecoderReturnsStreamError(t *testing.T) {
	boom := errors.New("port unplugged")
	wire := wireOf(t, &Heartbeat{UptimeMS: 1})
	d := NewDecoder(io.MultiReader(bytes.NewReader(wire), iotest.ErrReader(boom)))
	if _, err := d.ReadFrame(); err != nil {
		t.Fatalf("first frame: %v", err)
	}
	for range 2 { // the error sticks
		if _, err := d.ReadFrame(); !errors.Is(err, boom) {
			t.Fatalf("err = %v, want %v", err, boom)
		}
	}
}

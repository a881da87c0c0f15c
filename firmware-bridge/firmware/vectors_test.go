package firmware

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"hash/crc32"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mocoedge/mocoedge/firmware-bridge/protocol"
)

var update = flag.Bool("update", false, "rewrite testdata/vectors.txt from the Go encoder")

const vectorsPath = "testdata/vectors.txt"

// vectors writes the test vector file: every line is produced by the Go
// protocol package, so the file says what the Go side does.
func vectors(t *testing.T) []byte {
	t.Helper()
	var b bytes.Buffer
	b.WriteString("# mocoedge firmware-bridge protocol test vectors, written by the Go encoder:\n")
	b.WriteString("#   go test ./firmware-bridge/firmware -run TestVectors -update\n")
	b.WriteString("# Read by the C unit tests (test/test_codec.c). Hex, \"-\" for empty. Lines:\n")
	b.WriteString("#   crc <data> <crc32>\n")
	b.WriteString("#   cobs <decoded> <encoded>\n")
	b.WriteString("#   frame <name> <type> <seq> <ack> <payload> <wire> valid|malformed|unknown\n")
	b.WriteString("#   bad <name> <bytes> cobs|length|crc   (the decoder drops it for that reason)\n")

	for _, data := range [][]byte{nil, []byte("123456789"), {0}, bytes.Repeat([]byte{0xFF}, 32), seq(1, 1024)} {
		fmt.Fprintf(&b, "crc %s %08x\n", hx(data), crc32.ChecksumIEEE(data))
	}
	for _, data := range cobsCases() {
		fmt.Fprintf(&b, "cobs %s %s\n", hx(data), hx(cobsEncode(data)))
	}
	for _, f := range frameCases() {
		wire, err := protocol.AppendFrame(nil, protocol.Frame{Type: f.typ, Seq: f.seq, AckRequested: f.ack, Payload: f.payload})
		if err != nil {
			t.Fatalf("frame %s: %v", f.name, err)
		}
		typeByte := byte(f.typ)
		if f.ack {
			typeByte |= 0x80
		}
		if mine := append(cobsEncode(rawFrame(typeByte, f.seq, uint16(len(f.payload)), f.payload)), 0); !bytes.Equal(mine, wire) {
			t.Fatalf("frame %s: the test's COBS disagrees with protocol's", f.name)
		}
		parsed, err := protocol.ParseFrame(wire[:len(wire)-1])
		if err != nil {
			t.Fatalf("frame %s does not parse: %v", f.name, err)
		}
		kind := "valid"
		if _, err := protocol.Decode(parsed); errors.Is(err, protocol.ErrUnknownType) {
			kind = "unknown"
		} else if errors.Is(err, protocol.ErrMalformed) {
			kind = "malformed"
		} else if err != nil {
			t.Fatalf("frame %s: %v", f.name, err)
		}
		if kind != f.want {
			t.Fatalf("frame %s: the Go decoder says %s, the case expects %s", f.name, kind, f.want)
		}
		ack := 0
		if f.ack {
			ack = 1
		}
		fmt.Fprintf(&b, "frame %s %02x %d %d %s %s %s\n", f.name, uint8(f.typ), f.seq, ack, hx(f.payload), hx(wire), kind)
	}
	for _, bad := range badCases() {
		d := protocol.NewDecoder(bytes.NewReader(bad.wire))
		if _, err := d.ReadFrame(); err == nil {
			t.Fatalf("bad frame %s decoded", bad.name)
		}
		s := d.Stats()
		got := map[string]uint64{"cobs": s.BadCOBS, "length": s.BadLength, "crc": s.BadCRC}
		if got[bad.reason] != 1 || s.Dropped() != 1 {
			t.Fatalf("bad frame %s: Go decoder stats %+v, want one %s", bad.name, s, bad.reason)
		}
		fmt.Fprintf(&b, "bad %s %s %s\n", bad.name, hx(bad.wire), bad.reason)
	}
	return b.Bytes()
}

func TestVectors(t *testing.T) {
	got := vectors(t)
	if *update {
		if err := os.MkdirAll(filepath.Dir(vectorsPath), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(vectorsPath, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(vectorsPath)
	if err != nil {
		t.Fatalf("%v (run go test -run TestVectors -update)", err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("%s is stale: the Go encoder writes other vectors now (run go test -run TestVectors -update and check the diff)", vectorsPath)
	}
	n := 0
	for _, line := range strings.Split(string(got), "\n") {
		if line != "" && !strings.HasPrefix(line, "#") {
			n++
		}
	}
	if n < 50 {
		t.Fatalf("%d vectors, want at least 50", n)
	}
	t.Logf("%d vectors", n)
}

func hx(b []byte) string {
	if len(b) == 0 {
		return "-"
	}
	return hex.EncodeToString(b)
}

// seq returns n bytes counting up from first, skipping zero.
func seq(first byte, n int) []byte {
	b := make([]byte, n)
	v := first
	for i := range b {
		if v == 0 {
			v = 1
		}
		b[i] = v
		v++
	}
	return b
}

// cobsEncode is COBS written again from the paper, for the vectors that
// protocol does not produce (corrupt frames); cobsCases check it against
// the frames protocol writes.
func cobsEncode(src []byte) []byte {
	dst := []byte{0}
	codeAt, code := 0, byte(1)
	for i, c := range src {
		if c != 0 {
			dst = append(dst, c)
			code++
			if code != 0xFF {
				continue
			}
			if i == len(src)-1 {
				break
			}
		}
		dst[codeAt] = code
		codeAt = len(dst)
		dst = append(dst, 0)
		code = 1
	}
	dst[codeAt] = code
	return dst
}

func cobsCases() [][]byte {
	cat := func(parts ...[]byte) []byte { return bytes.Join(parts, nil) }
	return [][]byte{
		nil, {0}, {0, 0}, {0, 0x11, 0}, {0x11, 0x22, 0, 0x33}, {0x11, 0, 0, 0},
		seq(1, 253), seq(1, 254), seq(1, 255), cat([]byte{0}, seq(1, 254)),
		cat(seq(2, 254), []byte{0}), cat(seq(3, 253), []byte{0, 1}), seq(1, 508), seq(1, 509),
		bytes.Repeat([]byte{0}, 300), cat(seq(1, 254), seq(1, 254), []byte{0}),
	}
}

type frameCase struct {
	name    string
	typ     protocol.Type
	seq     uint8
	ack     bool
	payload []byte
	want    string
}

// msg builds a valid frame case from a message.
func msg(name string, s uint8, ack bool, m protocol.Message) frameCase {
	p, err := m.MarshalBinary()
	if err != nil {
		panic(fmt.Sprintf("vector %s: %v", name, err))
	}
	return frameCase{name: name, typ: m.Type(), seq: s, ack: ack, payload: p, want: "valid"}
}

// raw builds a frame case from a raw payload.
func raw(name string, typ protocol.Type, want string, payload ...byte) frameCase {
	return frameCase{name: name, typ: typ, seq: 9, ack: true, payload: payload, want: want}
}

func u32(v uint32) []byte { return binary.LittleEndian.AppendUint32(nil, v) }

func frameCases() []frameCase {
	long := strings.Repeat("x", 255)
	accents := strings.Repeat("é", 127) + "a" // 255 bytes of UTF-8
	cases := []frameCase{
		// The golden frames of protocol/frame_test.go.
		msg("golden_heartbeat", 1, false, &protocol.Heartbeat{UptimeMS: 1000}),
		msg("golden_led_blink", 0x2A, true, &protocol.SetLED{ID: 1, Mode: protocol.LEDBlink, Brightness: 0x80, OnMS: 500, OffMS: 250}),
		msg("golden_ack", 0, false, &protocol.Ack{Seq: 7}),
		msg("golden_camera", 5, false, &protocol.CameraChunk{FrameID: 0x0102, Index: 0, Count: 1, Data: []byte{0xFF, 0xD8, 0xFF, 0xD9}}),
		msg("golden_hello", 0, false, &protocol.Hello{Protocol: 1, Capabilities: protocol.CapLED | protocol.CapCamera, FirmwareVersion: "1.0", DeviceID: "b1"}),

		msg("hello_max_strings", 200, false, &protocol.Hello{Protocol: 1, Capabilities: 0xFFFFFFFF, FirmwareVersion: long, DeviceID: accents}),
		msg("hello_empty_firmware", 3, true, &protocol.Hello{Protocol: 7, DeviceID: "日本-1"}),
		msg("heartbeat_zero", 0, false, &protocol.Heartbeat{}),
		msg("heartbeat_max", 255, false, &protocol.Heartbeat{UptimeMS: math.MaxUint32}),
		msg("ack_255", 255, false, &protocol.Ack{Seq: 255}),
		msg("trigger_zero", 0, true, &protocol.Trigger{}),
		msg("trigger_max", 255, true, &protocol.Trigger{Source: 255, BoardTimeMS: math.MaxUint32}),
		msg("sensor_21_5", 4, false, &protocol.Sensor{ID: 2, Value: 21.5}),
		msg("sensor_negative_zero", 4, false, &protocol.Sensor{ID: 0, Value: float32(math.Copysign(0, -1))}),
		msg("sensor_max", 4, false, &protocol.Sensor{ID: 255, Value: math.MaxFloat32}),
		msg("sensor_denormal", 4, false, &protocol.Sensor{ID: 1, Value: math.SmallestNonzeroFloat32}),
		msg("led_off", 1, true, &protocol.SetLED{ID: 0, Mode: protocol.LEDOff}),
		msg("led_on_dark", 1, true, &protocol.SetLED{ID: 7, Mode: protocol.LEDOn, Brightness: 0}),
		msg("led_blink_max", 1, true, &protocol.SetLED{ID: 255, Mode: protocol.LEDBlink, Brightness: 255, OnMS: 65535, OffMS: 65535}),
		msg("relay_on", 2, true, &protocol.SetRelay{ID: 0, On: true}),
		msg("relay_off", 2, true, &protocol.SetRelay{ID: 3, On: false}),
		msg("relay_pulse_max", 2, true, &protocol.SetRelay{ID: 1, On: true, PulseMS: 65535}),
		msg("camera_max_zeros", 10, false, &protocol.CameraChunk{FrameID: 0, Index: 0, Count: 1, Data: make([]byte, protocol.MaxChunkData)}),
		msg("camera_max_ff", 11, false, &protocol.CameraChunk{FrameID: 0xFFFF, Index: 65534, Count: 65535, Data: bytes.Repeat([]byte{0xFF}, protocol.MaxChunkData)}),
		msg("camera_one_zero_byte", 12, false, &protocol.CameraChunk{FrameID: 3, Index: 2, Count: 3, Data: []byte{0}}),
		msg("camera_counting", 13, false, &protocol.CameraChunk{FrameID: 77, Index: 1, Count: 9, Data: seq(1, 700)}),
		msg("log_empty", 0, false, &protocol.Log{Level: protocol.LogDebug}),
		msg("log_max_zeros", 0, false, &protocol.Log{Level: protocol.LogError, Text: string(make([]byte, protocol.MaxLogText))}),
		msg("log_not_utf8", 0, false, &protocol.Log{Level: protocol.LogInfo, Text: "\xff\xfe raw"}),
		// ACK-requested frames with the highest sequence number.
		msg("button_ack_seq_255", 255, true, &protocol.Button{ID: 9, Press: protocol.PressDouble}),
	}
	for i, r := range []protocol.NackReason{0, 1, 2, 3, 4, 5, 200} {
		cases = append(cases, msg(fmt.Sprintf("nack_reason_%d", r), uint8(i), false, &protocol.Nack{Seq: uint8(40 + i), Reason: r}))
	}
	for _, k := range []protocol.PressKind{protocol.PressShort, protocol.PressLong, protocol.PressDouble} {
		cases = append(cases, msg("button_"+k.String(), 6, true, &protocol.Button{ID: 1, Press: k}))
	}
	// Runs of non-zero bytes around COBS's 254-byte blocks.
	for _, n := range []int{243, 244, 245, 246, 249, 250, 251, 253, 254, 255, 500, 501, 508, 509, 1023} {
		cases = append(cases, msg(fmt.Sprintf("log_%d_bytes", n), 0x41, false, &protocol.Log{Level: protocol.LogInfo, Text: strings.Repeat("A", n)}))
	}

	hello := func(proto byte, fw, id []byte) []byte {
		p := append([]byte{proto}, u32(1)...)
		p = append(p, byte(len(fw)))
		p = append(p, fw...)
		p = append(p, byte(len(id)))
		return append(p, id...)
	}
	nan, inf := math.Float32bits(float32(math.NaN())), math.Float32bits(float32(math.Inf(1)))
	cases = append(cases,
		raw("hello_protocol_0", protocol.TypeHello, "malformed", hello(0, nil, []byte("id"))...),
		raw("hello_empty_id", protocol.TypeHello, "malformed", hello(1, []byte("1"), nil)...),
		raw("hello_control_char", protocol.TypeHello, "malformed", hello(1, nil, []byte("a\tb"))...),
		raw("hello_del", protocol.TypeHello, "malformed", hello(1, []byte{0x7F}, []byte("id"))...),
		raw("hello_c1_control", protocol.TypeHello, "malformed", hello(1, nil, []byte{'a', 0xC2, 0x85})...),
		raw("hello_bad_utf8", protocol.TypeHello, "malformed", hello(1, nil, []byte{'a', 0xFF})...),
		raw("hello_overlong_utf8", protocol.TypeHello, "malformed", hello(1, nil, []byte{0xC0, 0x80})...),
		raw("hello_surrogate", protocol.TypeHello, "malformed", hello(1, nil, []byte{0xED, 0xA0, 0x80})...),
		raw("hello_above_10ffff", protocol.TypeHello, "malformed", hello(1, nil, []byte{0xF4, 0x90, 0x80, 0x80})...),
		raw("hello_truncated_utf8", protocol.TypeHello, "malformed", hello(1, nil, []byte{'a', 0xE6, 0x97})...),
		raw("hello_trailing_byte", protocol.TypeHello, "malformed", append(hello(1, nil, []byte("id")), 0)...),
		raw("hello_short", protocol.TypeHello, "malformed", 1, 0, 0, 0, 0, 10, 'a'),
		raw("heartbeat_short", protocol.TypeHeartbeat, "malformed", 1, 2, 3),
		raw("heartbeat_long", protocol.TypeHeartbeat, "malformed", 1, 2, 3, 4, 5),
		raw("ack_empty", protocol.TypeAck, "malformed"),
		raw("ack_long", protocol.TypeAck, "malformed", 1, 2),
		raw("nack_short", protocol.TypeNack, "malformed", 1),
		raw("trigger_short", protocol.TypeTrigger, "malformed", 1, 2, 3, 4),
		raw("button_press_0", protocol.TypeButton, "malformed", 1, 0),
		raw("button_press_4", protocol.TypeButton, "malformed", 1, 4),
		raw("button_long", protocol.TypeButton, "malformed", 1, 1, 0),
		raw("sensor_nan", protocol.TypeSensor, "malformed", append([]byte{1}, u32(nan)...)...),
		raw("sensor_inf", protocol.TypeSensor, "malformed", append([]byte{1}, u32(inf)...)...),
		raw("sensor_minus_inf", protocol.TypeSensor, "malformed", append([]byte{1}, u32(inf|1<<31)...)...),
		raw("sensor_short", protocol.TypeSensor, "malformed", 1, 0, 0, 0),
		raw("led_mode_3", protocol.TypeLED, "malformed", 0, 3, 255, 0, 0, 0, 0),
		raw("led_on_with_times", protocol.TypeLED, "malformed", 0, 1, 255, 1, 0, 0, 0),
		raw("led_blink_no_off", protocol.TypeLED, "malformed", 0, 2, 255, 1, 0, 0, 0),
		raw("led_short", protocol.TypeLED, "malformed", 0, 1, 255, 0, 0, 0),
		raw("relay_state_2", protocol.TypeRelay, "malformed", 0, 2, 0, 0),
		raw("relay_long", protocol.TypeRelay, "malformed", 0, 1, 0, 0, 0),
		raw("camera_count_0", protocol.TypeCameraFrame, "malformed", 1, 0, 0, 0, 0, 0, 0xFF),
		raw("camera_index_is_count", protocol.TypeCameraFrame, "malformed", 1, 0, 2, 0, 2, 0, 0xFF),
		raw("camera_no_data", protocol.TypeCameraFrame, "malformed", 1, 0, 0, 0, 1, 0),
		raw("camera_short", protocol.TypeCameraFrame, "malformed", 1, 0, 0, 0, 1),
		raw("log_level_4", protocol.TypeLog, "malformed", 4, 'x'),
		raw("log_empty_payload", protocol.TypeLog, "malformed"),
		raw("type_0", 0x00, "unknown", 1, 2, 3),
		raw("type_0c", 0x0C, "unknown"),
		raw("type_7f", 0x7F, "unknown", make([]byte, protocol.MaxPayload)...),
	)
	return cases
}

type badCase struct {
	name   string
	wire   []byte
	reason string
}

// rawFrame is an unencoded frame with lenField in place of the true length
// and a CRC over the bytes as written.
func rawFrame(typ, s byte, lenField uint16, payload []byte) []byte {
	r := []byte{typ, s, byte(lenField), byte(lenField >> 8)}
	r = append(r, payload...)
	return binary.LittleEndian.AppendUint32(r, crc32.ChecksumIEEE(r))
}

func badCases() []badCase {
	frame := func(r []byte) []byte { return append(cobsEncode(r), 0) }
	good := rawFrame(0x02, 1, 4, []byte{0xE8, 3, 0, 0})
	flipped := bytes.Clone(good)
	flipped[len(flipped)-1] ^= 0x01
	payloadFlip := bytes.Clone(good)
	payloadFlip[4] ^= 0x80
	return []badCase{
		{"crc_flipped", frame(flipped), "crc"},
		{"payload_bit_flipped", frame(payloadFlip), "crc"},
		{"length_field_long", frame(rawFrame(0x02, 1, 5, []byte{1, 2, 3, 4})), "length"},
		{"length_field_short", frame(rawFrame(0x02, 1, 3, []byte{1, 2, 3, 4})), "length"},
		{"length_field_too_large", frame(rawFrame(0x0B, 1, 0xFFFF, []byte{1})), "length"},
		{"too_short", frame([]byte{0x02, 1, 0}), "length"},
		{"header_only", frame([]byte{0x02, 1, 0, 0}), "length"},
		{"cobs_overrun", []byte{0x05, 0x01, 0x02, 0x00}, "cobs"},
		{"cobs_overrun_long", append(append([]byte{0xFF}, seq(1, 100)...), 0), "cobs"},
		{"no_delimiter_1038_bytes", append(bytes.Repeat([]byte{1}, protocol.MaxEncodedFrame+1), 0), "length"},
		{"torn_frame", append(cobsEncode(good)[:6], 0), "cobs"},
	}
}

package protocol

import (
	"bytes"
	"errors"
	"math"
	"reflect"
	"strings"
	"testing"
)

func assertSameMessage(t *testing.T, got, want Message) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("message = %#v\nwant      %#v", got, want)
	}
}

// Every message type with its payload bytes, written out from the layout
// table in doc.go.
var messageLayouts = []struct {
	name    string
	msg     Message
	payload []byte
}{
	{"hello", &Hello{Protocol: 1, Capabilities: CapLED | CapRelay | 1<<31, FirmwareVersion: "fw-2.1", DeviceID: "board-7"},
		[]byte{0x01, 0x03, 0x00, 0x00, 0x80, 6, 'f', 'w', '-', '2', '.', '1', 7, 'b', 'o', 'a', 'r', 'd', '-', '7'}},
	{"hello empty firmware version", &Hello{Protocol: 2, DeviceID: "x"},
		[]byte{0x02, 0, 0, 0, 0, 0, 1, 'x'}},
	{"heartbeat", &Heartbeat{UptimeMS: 0xDEADBEEF}, []byte{0xEF, 0xBE, 0xAD, 0xDE}},
	{"ack", &Ack{Seq: 200}, []byte{200}},
	{"nack", &Nack{Seq: 9, Reason: ReasonInvalid}, []byte{9, 3}},
	{"nack unlisted reason", &Nack{Seq: 9, Reason: 77}, []byte{9, 77}},
	{"trigger", &Trigger{Source: 2, BoardTimeMS: 0x01020304}, []byte{2, 0x04, 0x03, 0x02, 0x01}},
	{"button long", &Button{ID: 4, Press: PressLong}, []byte{4, 2}},
	{"button double", &Button{ID: 0, Press: PressDouble}, []byte{0, 3}},
	{"sensor", &Sensor{ID: 3, Value: 21.5}, []byte{3, 0x00, 0x00, 0xAC, 0x41}},
	{"sensor negative", &Sensor{ID: 3, Value: -1}, []byte{3, 0x00, 0x00, 0x80, 0xBF}},
	{"led on", &SetLED{ID: 2, Mode: LEDOn, Brightness: 255}, []byte{2, 1, 255, 0, 0, 0, 0}},
	{"led off", &SetLED{ID: 2, Mode: LEDOff}, []byte{2, 0, 0, 0, 0, 0, 0}},
	{"led blink", &SetLED{ID: 0, Mode: LEDBlink, Brightness: 10, OnMS: 0x0100, OffMS: 0x0302}, []byte{0, 2, 10, 0x00, 0x01, 0x02, 0x03}},
	{"relay pulse", &SetRelay{ID: 1, On: true, PulseMS: 1500}, []byte{1, 1, 0xDC, 0x05}},
	{"relay off", &SetRelay{ID: 1}, []byte{1, 0, 0, 0}},
	{"camera", &CameraChunk{FrameID: 0xABCD, Index: 2, Count: 3, Data: []byte{0xFF, 0x00, 0x11}},
		[]byte{0xCD, 0xAB, 0x02, 0x00, 0x03, 0x00, 0xFF, 0x00, 0x11}},
	{"camera full chunk", &CameraChunk{FrameID: 1, Index: 0, Count: 1, Data: bytes.Repeat([]byte{7}, MaxChunkData)},
		append([]byte{1, 0, 0, 0, 1, 0}, bytes.Repeat([]byte{7}, MaxChunkData)...)},
	{"log", &Log{Level: LogWarn, Text: "low voltage"}, append([]byte{2}, "low voltage"...)},
	{"log empty", &Log{Level: LogDebug}, []byte{0}},
	{"log not utf-8", &Log{Level: LogError, Text: "\xff\xfe"}, []byte{3, 0xFF, 0xFE}},
}

func TestMessageLayouts(t *testing.T) {
	for _, tt := range messageLayouts {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.msg.MarshalBinary()
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, tt.payload) {
				t.Fatalf("payload = % x\nwant      % x", got, tt.payload)
			}
			appended, err := tt.msg.AppendBinary([]byte{0x55})
			if err != nil || !bytes.Equal(appended[1:], tt.payload) || appended[0] != 0x55 {
				t.Fatalf("AppendBinary = % x, %v", appended, err)
			}
			m, err := Decode(Frame{Type: tt.msg.Type(), Payload: tt.payload})
			if err != nil {
				t.Fatal(err)
			}
			assertSameMessage(t, m, tt.msg)
			if len(tt.payload) > MaxPayload {
				t.Fatalf("payload of %d bytes over MaxPayload", len(tt.payload))
			}
		})
	}
}

func TestMessageDoesNotKeepPayload(t *testing.T) {
	payload := []byte{1, 0, 0, 0, 1, 0, 0xAA}
	m, err := Decode(Frame{Type: TypeCameraFrame, Payload: payload})
	if err != nil {
		t.Fatal(err)
	}
	payload[6] = 0xBB
	if got := m.(*CameraChunk).Data[0]; got != 0xAA {
		t.Fatalf("chunk data changed with the frame payload: %#x", got)
	}
}

func TestMalformedPayloads(t *testing.T) {
	long := strings.Repeat("a", 256)
	tests := []struct {
		name    string
		typ     Type
		payload []byte
	}{
		{"hello empty", TypeHello, nil},
		{"hello protocol 0", TypeHello, []byte{0, 0, 0, 0, 0, 0, 1, 'x'}},
		{"hello no device id", TypeHello, []byte{1, 0, 0, 0, 0, 0, 0}},
		{"hello string past end", TypeHello, []byte{1, 0, 0, 0, 0, 5, 'a', 'b'}},
		{"hello trailing byte", TypeHello, []byte{1, 0, 0, 0, 0, 0, 1, 'x', 'y'}},
		{"hello device id not utf-8", TypeHello, []byte{1, 0, 0, 0, 0, 0, 1, 0xFF}},
		{"hello control character", TypeHello, []byte{1, 0, 0, 0, 0, 1, '\n', 1, 'x'}},
		{"heartbeat short", TypeHeartbeat, []byte{1, 2, 3}},
		{"heartbeat long", TypeHeartbeat, []byte{1, 2, 3, 4, 5}},
		{"ack empty", TypeAck, nil},
		{"ack long", TypeAck, []byte{1, 2}},
		{"nack short", TypeNack, []byte{1}},
		{"trigger short", TypeTrigger, []byte{1, 2, 3, 4}},
		{"button press 0", TypeButton, []byte{1, 0}},
		{"button press 4", TypeButton, []byte{1, 4}},
		{"button long", TypeButton, []byte{1, 1, 1}},
		{"sensor NaN", TypeSensor, []byte{1, 0x00, 0x00, 0xC0, 0x7F}},
		{"sensor +Inf", TypeSensor, []byte{1, 0x00, 0x00, 0x80, 0x7F}},
		{"sensor short", TypeSensor, []byte{1, 0, 0, 0}},
		{"led mode 3", TypeLED, []byte{1, 3, 0, 0, 0, 0, 0}},
		{"led blink without times", TypeLED, []byte{1, 2, 9, 0, 0, 5, 0}},
		{"led on with times", TypeLED, []byte{1, 1, 9, 5, 0, 5, 0}},
		{"led short", TypeLED, []byte{1, 1, 9, 0, 0, 0}},
		{"relay state 2", TypeRelay, []byte{1, 2, 0, 0}},
		{"relay long", TypeRelay, []byte{1, 1, 0, 0, 0}},
		{"camera count 0", TypeCameraFrame, []byte{1, 0, 0, 0, 0, 0, 0xAA}},
		{"camera index = count", TypeCameraFrame, []byte{1, 0, 2, 0, 2, 0, 0xAA}},
		{"camera no data", TypeCameraFrame, []byte{1, 0, 0, 0, 1, 0}},
		{"camera header short", TypeCameraFrame, []byte{1, 0, 0, 0, 1}},
		{"log empty", TypeLog, nil},
		{"log level 4", TypeLog, []byte{4, 'x'}},
		{"hello 255-byte firmware, empty id", TypeHello, append(append([]byte{1, 0, 0, 0, 0, 255}, long[:255]...), 0)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Decode(Frame{Type: tt.typ, Payload: tt.payload})
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("err = %v, want ErrMalformed", err)
			}
		})
	}
}

func TestMarshalRefusesInvalid(t *testing.T) {
	tests := []struct {
		name string
		msg  Message
	}{
		{"hello protocol 0", &Hello{DeviceID: "x"}},
		{"hello empty id", &Hello{Protocol: 1}},
		{"hello id too long", &Hello{Protocol: 1, DeviceID: strings.Repeat("a", 256)}},
		{"hello control character", &Hello{Protocol: 1, DeviceID: "a\x00b"}},
		{"button zero press", &Button{ID: 1}},
		{"sensor NaN", &Sensor{Value: float32(math.NaN())}},
		{"sensor -Inf", &Sensor{Value: float32(math.Inf(-1))}},
		{"led bad mode", &SetLED{Mode: 9}},
		{"led blink no times", &SetLED{Mode: LEDBlink, OnMS: 10}},
		{"led off with times", &SetLED{Mode: LEDOff, OffMS: 10}},
		{"camera no data", &CameraChunk{Count: 1}},
		{"camera chunk too big", &CameraChunk{Count: 1, Data: make([]byte, MaxChunkData+1)}},
		{"camera index past count", &CameraChunk{Index: 1, Count: 1, Data: []byte{1}}},
		{"log text too long", &Log{Text: strings.Repeat("a", MaxLogText+1)}},
		{"log bad level", &Log{Level: 8}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := tt.msg.MarshalBinary(); !errors.Is(err, ErrMalformed) {
				t.Fatalf("MarshalBinary err = %v, want ErrMalformed", err)
			}
			if _, err := AppendMessage(nil, 0, false, tt.msg); !errors.Is(err, ErrMalformed) {
				t.Fatalf("AppendMessage err = %v, want ErrMalformed", err)
			}
		})
	}
}

func TestUnmarshalFailureKeepsMessage(t *testing.T) {
	m := &SetLED{ID: 4, Mode: LEDOn, Brightness: 1}
	if err := m.UnmarshalBinary([]byte{1, 9, 0, 0, 0, 0, 0}); err == nil {
		t.Fatal("mode 9 accepted")
	}
	assertSameMessage(t, m, &SetLED{ID: 4, Mode: LEDOn, Brightness: 1})
}

func TestDecodeUnknownType(t *testing.T) {
	for _, typ := range []Type{0x00, 0x0C, 0x7F} {
		if _, err := Decode(Frame{Type: typ, Payload: []byte{1}}); !errors.Is(err, ErrUnknownType) {
			t.Errorf("type %#x: err = %v, want ErrUnknownType", uint8(typ), err)
		}
	}
}

func TestNewMessageCoversEveryType(t *testing.T) {
	for typ := TypeHello; typ <= TypeLog; typ++ {
		m, err := NewMessage(typ)
		if err != nil {
			t.Fatalf("%v: %v", typ, err)
		}
		if m.Type() != typ {
			t.Fatalf("NewMessage(%v).Type() = %v", typ, m.Type())
		}
		if strings.HasPrefix(typ.String(), "TYPE(") {
			t.Fatalf("type %#x has no name", uint8(typ))
		}
	}
}

func TestEnumStrings(t *testing.T) {
	tests := []struct{ got, want string }{
		{TypeCameraFrame.String(), "CAMERA_FRAME"},
		{Type(0x42).String(), "TYPE(0x42)"},
		{ReasonBusy.String(), "busy"},
		{NackReason(99).String(), "reason 99"},
		{PressDouble.String(), "double"},
		{PressKind(0).String(), "press(0)"},
		{LEDBlink.String(), "blink"},
		{LEDMode(5).String(), "mode(5)"},
		{LogWarn.String(), "warn"},
		{LogLevel(7).String(), "level(7)"},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("String() = %q, want %q", tt.got, tt.want)
		}
	}
	if !(CapLED | CapCamera).Has(CapCamera) || CapLED.Has(CapLED|CapRelay) {
		t.Error("Capability.Has is wrong")
	}
}

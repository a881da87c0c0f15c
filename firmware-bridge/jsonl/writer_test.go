package jsonl_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/mocoedge/mocoedge/firmware-bridge/bridge"
	"github.com/mocoedge/mocoedge/firmware-bridge/jsonl"
	"github.com/mocoedge/mocoedge/firmware-bridge/protocol"
)

var at = time.Date(2026, 3, 1, 10, 0, 5, 200000000, time.UTC)

// TestEventLines pins the output format: these lines are a contract.
func TestEventLines(t *testing.T) {
	mapping, err := bridge.ParseMapping([]byte(`{"buttons": [{"button": 0, "press": "short", "action": "label", "label": "person"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	board := bridge.BoardInfo{Protocol: 1, FirmwareVersion: "1.2.0", DeviceID: "door-1",
		Capabilities: protocol.CapLED | protocol.CapTrigger | protocol.CapCamera}
	tests := []struct {
		name string
		e    bridge.Event
		want string
	}{
		{"ready", bridge.Status{At: at, State: bridge.StateReady, Port: "/dev/ttyACM0", Board: board},
			`{"v":1,"event":"status","time":"2026-03-01T10:00:05.2Z","state":"ready","port":"/dev/ttyACM0","device":"door-1","firmware":"1.2.0","protocol":1,"capabilities":["led","trigger","camera"]}`},
		{"disconnected", bridge.Status{At: at, State: bridge.StateDisconnected, Port: "/dev/ttyACM0", Attempt: 2,
			Err: errors.New("bridge: /dev/ttyACM0: EOF"), Retry: 500 * time.Millisecond},
			`{"v":1,"event":"status","time":"2026-03-01T10:00:05.2Z","state":"disconnected","port":"/dev/ttyACM0","attempt":2,"error":"bridge: /dev/ttyACM0: EOF","retry_ms":500}`},
		{"silent", bridge.Status{At: at, State: bridge.StateSilent, Port: "p", Board: board, Silence: 3100 * time.Millisecond},
			`{"v":1,"event":"status","time":"2026-03-01T10:00:05.2Z","state":"silent","port":"p","device":"door-1","firmware":"1.2.0","protocol":1,"capabilities":["led","trigger","camera"],"silence_ms":3100}`},
		{"trigger source 0", bridge.Trigger{At: at, Device: "door-1", Source: 0, BoardTimeMS: 81234},
			`{"v":1,"event":"trigger","time":"2026-03-01T10:00:05.2Z","device":"door-1","source":0,"board_ms":81234}`},
		{"mapped button", bridge.Button{At: at, Device: "door-1", ID: 0, Press: protocol.PressShort},
			`{"v":1,"event":"button","time":"2026-03-01T10:00:05.2Z","device":"door-1","button":0,"press":"short","action":"label","label":"person"}`},
		{"unmapped button", bridge.Button{At: at, Device: "door-1", ID: 3, Press: protocol.PressDouble},
			`{"v":1,"event":"button","time":"2026-03-01T10:00:05.2Z","device":"door-1","button":3,"press":"double"}`},
		{"sensor", bridge.Sensor{At: at, Device: "door-1", ID: 2, Value: 21.5},
			`{"v":1,"event":"sensor","time":"2026-03-01T10:00:05.2Z","device":"door-1","sensor":2,"value":21.5}`},
		{"log", bridge.Log{At: at, Device: "door-1", Level: protocol.LogWarn, Text: "battery \"low\""},
			`{"v":1,"event":"log","time":"2026-03-01T10:00:05.2Z","device":"door-1","level":"warn","text":"battery \"low\""}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			w := jsonl.NewWriter(&buf, jsonl.Options{Mapping: mapping})
			w.HandleEvent(context.Background(), tt.e)
			if got := buf.String(); got != tt.want+"\n" {
				t.Fatalf("got  %s\nwant %s", got, tt.want)
			}
		})
	}
}

func TestFrameLines(t *testing.T) {
	pic := []byte{0xFF, 0xD8, 1, 2, 3, 0xFF, 0xD9}
	f := bridge.Frame{At: at, Started: at.Add(-250500 * time.Microsecond), Device: "cam/1", ID: 17, Chunks: 2, JPEG: pic}
	tests := []struct {
		mode    jsonl.FrameMode
		dir     bool
		want    string // "" for no line
		hasFile bool
	}{
		{jsonl.FramesMeta, false, `{"v":1,"event":"frame","time":"2026-03-01T10:00:05.2Z","device":"cam/1","frame":17,"bytes":7,"chunks":2,"assembly_ms":250.5}`, false},
		{jsonl.FramesData, false, `{"v":1,"event":"frame","time":"2026-03-01T10:00:05.2Z","device":"cam/1","frame":17,"bytes":7,"chunks":2,"assembly_ms":250.5,"jpeg":"` + base64.StdEncoding.EncodeToString(pic) + `"}`, false},
		{jsonl.FramesOff, false, "", false},
		{jsonl.FramesMeta, true, "", true},
		{jsonl.FramesOff, true, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.mode.String(), func(t *testing.T) {
			var buf bytes.Buffer
			opts := jsonl.Options{Frames: tt.mode}
			if tt.dir {
				opts.FrameDir = t.TempDir()
			}
			jsonl.NewWriter(&buf, opts).HandleFrame(context.Background(), f)
			got := strings.TrimSuffix(buf.String(), "\n")
			if tt.want != "" && got != tt.want {
				t.Fatalf("got  %s\nwant %s", got, tt.want)
			}
			if tt.mode == jsonl.FramesOff && got != "" {
				t.Fatalf("frames off wrote %s", got)
			}
			if tt.dir {
				entries, err := os.ReadDir(opts.FrameDir)
				if err != nil || len(entries) != 1 || entries[0].Name() != "cam_1-20260301T100005.200000000Z-00017.jpg" {
					t.Fatalf("frame dir holds %v, %v", entries, err)
				}
			}
			if tt.hasFile {
				var l jsonl.FrameLine
				if err := json.Unmarshal(buf.Bytes(), &l); err != nil {
					t.Fatal(err)
				}
				data, err := os.ReadFile(l.File)
				if err != nil || !bytes.Equal(data, pic) {
					t.Fatalf("file %q: %v", l.File, err)
				}
			}
		})
	}
}

func TestParseFrameMode(t *testing.T) {
	for _, s := range []string{"meta", "data", "off"} {
		m, err := jsonl.ParseFrameMode(s)
		if err != nil || m.String() != s {
			t.Errorf("ParseFrameMode(%q) = %v, %v", s, m, err)
		}
	}
	if _, err := jsonl.ParseFrameMode("all"); err == nil {
		t.Error("ParseFrameMode(all) succeeded")
	}
}

type failingWriter struct{ n int }

func (f *failingWriter) Write(p []byte) (int, error) {
	f.n++
	return 0, errors.New("broken pipe")
}

func TestWriterStopsAfterError(t *testing.T) {
	fw := &failingWriter{}
	w := jsonl.NewWriter(fw, jsonl.Options{})
	for range 3 {
		w.HandleEvent(context.Background(), bridge.Trigger{At: at})
	}
	if fw.n != 1 || w.Err() == nil {
		t.Fatalf("%d writes after a failure, Err %v", fw.n, w.Err())
	}
}

func TestStatsLine(t *testing.T) {
	var buf bytes.Buffer
	w := jsonl.NewWriter(&buf, jsonl.Options{})
	w.WriteStats("r9", bridge.Stats{State: bridge.StateReady, Reconnects: 2, BadFrames: bridge.BadFrames{CRC: 5}})
	var l struct {
		Event   string          `json:"event"`
		Request string          `json:"request"`
		Stats   json.RawMessage `json:"stats"`
	}
	if err := json.Unmarshal(buf.Bytes(), &l); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"state":"ready"`, `"reconnects":2`, `"crc":5`, `"dropped_frames":0`, `"incomplete_frames":0`} {
		if !strings.Contains(string(l.Stats), want) {
			t.Errorf("stats %s lacks %s", l.Stats, want)
		}
	}
	if l.Event != "stats" || l.Request != "r9" {
		t.Fatalf("line %s", buf.String())
	}
}

package jsonl_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/mocoedge/mocoedge/firmware-bridge/bridge"
	"github.com/mocoedge/mocoedge/firmware-bridge/jsonl"
	"github.com/mocoedge/mocoedge/firmware-bridge/protocol"
)

func TestParseCommand(t *testing.T) {
	tests := []struct {
		line    string
		request string
		err     string // "" for a good command
	}{
		{`{"cmd":"led","request":"r1","id":0,"mode":"blink","on_ms":200,"off_ms":800}`, "r1", ""},
		{`{"cmd":"led","id":3,"mode":"off"}`, "", ""},
		{`{"cmd":"relay","request":"r2","id":0,"on":true,"pulse_ms":500}`, "r2", ""},
		{`{"cmd":"relay","id":1}`, "", ""},
		{`{"cmd":"prediction","label":"cat","score":0.5}`, "", ""},
		{`{"cmd":"stats","request":"s"}`, "s", ""},
		{`{"cmd":"led","request":"r3","mode":"on"}`, "r3", "needs id and mode"},
		{`{"cmd":"led","id":0,"mode":"on","pulse_ms":3}`, "", "takes id, mode"},
		{`{"cmd":"relay","id":0,"mode":"on"}`, "", "takes id, on and pulse_ms only"},
		{`{"cmd":"relay"}`, "", "needs id"},
		{`{"cmd":"prediction","label":"cat"}`, "", "needs label and score"},
		{`{"cmd":"prediction","label":"cat","score":1.5}`, "", "outside 0..1"},
		{`{"cmd":"stats","id":1}`, "", "takes no arguments"},
		{`{"cmd":"reboot","request":"r4"}`, "r4", "unknown cmd"},
		{`{"request":"r5"}`, "r5", "no cmd"},
		{`{"cmd":"led","request":"r6","id":300,"mode":"on"}`, "r6", "cannot unmarshal"},
		{`{"cmd":"led","request":"r7","colour":"red"}`, "r7", "unknown field"},
		{`not json`, "", "invalid character"},
		{`{"cmd":"stats"} {"cmd":"stats"}`, "", "more than one"},
	}
	for _, tt := range tests {
		t.Run(tt.line, func(t *testing.T) {
			c, err := jsonl.ParseCommand([]byte(tt.line))
			if c.Request != tt.request {
				t.Errorf("request %q, want %q", c.Request, tt.request)
			}
			if tt.err == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if !errors.Is(err, jsonl.ErrBadCommand) || !strings.Contains(err.Error(), tt.err) {
				t.Fatalf("err = %v, want ErrBadCommand with %q", err, tt.err)
			}
		})
	}
}

// recordingCommander records commands and NACKs LED 7.
type recordingCommander struct {
	mu  sync.Mutex
	got []string
}

func (r *recordingCommander) SetLED(_ context.Context, c protocol.SetLED) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.got = append(r.got, fmt.Sprintf("led %d %s %d %d/%d", c.ID, c.Mode, c.Brightness, c.OnMS, c.OffMS))
	if c.ID == 7 {
		return &protocol.NackError{Reason: protocol.ReasonInvalid}
	}
	return nil
}

func (r *recordingCommander) SetRelay(_ context.Context, c protocol.SetRelay) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.got = append(r.got, fmt.Sprintf("relay %d %v %d", c.ID, c.On, c.PulseMS))
	return nil
}

func TestServer(t *testing.T) {
	mapping, err := bridge.ParseMapping([]byte(`{"predictions": [{"label": "cat", "leds": [{"id": 1, "mode": "on"}]}]}`))
	if err != nil {
		t.Fatal(err)
	}
	cmdr := &recordingCommander{}
	var out bytes.Buffer
	srv := &jsonl.Server{
		Commander: cmdr,
		Mapper:    bridge.NewPredictionMapper(mapping, cmdr),
		Stats:     func() bridge.Stats { return bridge.Stats{Commands: 42} },
		Out:       jsonl.NewWriter(&out, jsonl.Options{}),
	}
	in := strings.Join([]string{
		`{"cmd":"led","request":"a","id":0,"mode":"blink","on_ms":200,"off_ms":800}`,
		``,
		`{"cmd":"relay","request":"b","id":1,"on":true,"pulse_ms":500}`,
		`{"cmd":"led","request":"c","id":7,"mode":"on","brightness":9}`,
		`{"cmd":"prediction","request":"d","label":"cat","score":0.9}`,
		`{"cmd":"prediction","request":"e","label":"cat","score":0.8}`,
		`{"cmd":"stats","request":"f"}`,
		`garbage`,
		`{"cmd":"led","request":"g","id":0,"mode":"blink"}`,
		`{"cmd":"led","request":"h","id":0,"mode":"on"` + strings.Repeat(" ", jsonl.MaxCommandLine) + `}`,
		`{"cmd":"relay","request":"i","id":0}`, // no newline at the end
	}, "\n")
	if err := srv.Serve(context.Background(), strings.NewReader(in)); err != nil {
		t.Fatal(err)
	}
	type answer struct {
		Event   string          `json:"event"`
		Request string          `json:"request"`
		OK      bool            `json:"ok"`
		Error   string          `json:"error"`
		Changed bool            `json:"changed"`
		Stats   json.RawMessage `json:"stats"`
	}
	var got []answer
	sc := bufio.NewScanner(&out)
	for sc.Scan() {
		var a answer
		if err := json.Unmarshal(sc.Bytes(), &a); err != nil {
			t.Fatalf("output line %q: %v", sc.Text(), err)
		}
		got = append(got, a)
	}
	want := []struct {
		request string
		ok      bool
		changed bool
		err     string
	}{
		{"a", true, false, ""},
		{"b", true, false, ""},
		{"c", false, false, "NACKed"},
		{"d", true, true, ""},
		{"e", true, false, ""},
		{"f", false, false, ""}, // a stats line
		{"", false, false, "invalid character"},
		{"g", false, false, "blink needs"},
		{"", false, false, "line longer"},
		{"i", true, false, ""},
	}
	if len(got) != len(want) {
		t.Fatalf("%d answers, want %d: %+v", len(got), len(want), got)
	}
	for i, w := range want {
		g := got[i]
		if g.Request != w.request || g.OK != w.ok || g.Changed != w.changed || !strings.Contains(g.Error, w.err) {
			t.Errorf("answer %d = %+v, want %+v", i, g, w)
		}
	}
	if got[5].Event != "stats" || !strings.Contains(string(got[5].Stats), `"commands":42`) {
		t.Errorf("stats answer %+v", got[5])
	}
	wantCmds := "led 0 blink 255 200/800|relay 1 true 500|led 7 on 9 0/0|led 1 on 255 0/0|relay 0 false 0"
	if g := strings.Join(cmdr.got, "|"); g != wantCmds {
		t.Fatalf("commands %s\nwant     %s", g, wantCmds)
	}
}

func TestServerWithoutMapping(t *testing.T) {
	var out bytes.Buffer
	srv := &jsonl.Server{Commander: &recordingCommander{}, Out: jsonl.NewWriter(&out, jsonl.Options{})}
	if err := srv.Serve(context.Background(), strings.NewReader(`{"cmd":"prediction","label":"x","score":1}`+"\n"+`{"cmd":"stats"}`)); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 2 || !strings.Contains(lines[0], "no mapping") || !strings.Contains(lines[1], `"ok":false`) {
		t.Fatalf("answers %q", lines)
	}
}

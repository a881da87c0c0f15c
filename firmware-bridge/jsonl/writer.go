package jsonl

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/mocoedge/mocoedge/firmware-bridge/bridge"
)

// FrameMode says how camera frames appear in the output.
type FrameMode uint8

// Frame modes.
const (
	// FramesMeta writes a frame line without the picture.
	FramesMeta FrameMode = iota
	// FramesData adds the JPEG, base64-encoded, to the frame line.
	FramesData
	// FramesOff writes no frame lines.
	FramesOff
)

// ParseFrameMode reads "meta", "data" or "off".
func ParseFrameMode(s string) (FrameMode, error) {
	switch s {
	case "meta":
		return FramesMeta, nil
	case "data":
		return FramesData, nil
	case "off":
		return FramesOff, nil
	}
	return 0, fmt.Errorf("jsonl: frames %q is not meta, data or off", s)
}

// String names the mode as ParseFrameMode reads it.
func (m FrameMode) String() string {
	switch m {
	case FramesMeta:
		return "meta"
	case FramesData:
		return "data"
	case FramesOff:
		return "off"
	}
	return fmt.Sprintf("frames(%d)", uint8(m))
}

// Options configure a Writer.
type Options struct {
	// Frames says how frames are written.
	Frames FrameMode
	// FrameDir, when set, receives every frame as a JPEG file, named in the
	// frame line's "file" (even with FramesOff the file is written).
	FrameDir string
	// Mapping, when set, adds the mapped action to button lines.
	Mapping *bridge.Mapping
}

// Writer writes events, frames, results and stats as JSON lines, one Write
// per line. It is a bridge.Sink and safe for concurrent use. After a write
// fails (stdout closed), it writes nothing more and Err says why.
type Writer struct {
	opts Options

	mu  sync.Mutex
	w   io.Writer
	err error
}

// NewWriter returns a Writer on w.
func NewWriter(w io.Writer, opts Options) *Writer {
	return &Writer{w: w, opts: opts}
}

// Err is the first write error, or nil.
func (w *Writer) Err() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.err
}

// write marshals v and writes it as one line.
func (w *Writer) write(v any) {
	b, err := json.Marshal(v)
	if err != nil { // every line type marshals; keep the stream valid anyway
		b, _ = json.Marshal(ResultLine{Header: header(EventResult, time.Now()), Error: "jsonl: " + err.Error()})
	}
	b = append(b, '\n')
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.err != nil {
		return
	}
	if _, err := w.w.Write(b); err != nil {
		w.err = fmt.Errorf("jsonl: write: %w", err)
	}
}

// HandleEvent writes one event line.
func (w *Writer) HandleEvent(_ context.Context, e bridge.Event) {
	if line := w.eventLine(e); line != nil {
		w.write(line)
	}
}

// eventLine converts an event to its line, or nil for an unknown type.
func (w *Writer) eventLine(e bridge.Event) any {
	h := header(string(e.Kind()), e.When())
	switch e := e.(type) {
	case bridge.Status:
		return statusLine(h, e)
	case bridge.Trigger:
		return TriggerLine{Header: h, Device: e.Device, Source: e.Source, BoardMS: e.BoardTimeMS}
	case bridge.Button:
		l := ButtonLine{Header: h, Device: e.Device, Button: e.ID, Press: e.Press.String()}
		if a, ok := w.opts.Mapping.ButtonAction(e.ID, e.Press); ok {
			l.Action, l.Label = string(a.Kind), a.Label
		}
		return l
	case bridge.Sensor:
		return SensorLine{Header: h, Device: e.Device, Sensor: e.ID, Value: e.Value}
	case bridge.Log:
		return LogLine{Header: h, Device: e.Device, Level: e.Level.String(), Text: e.Text}
	}
	return nil
}

func statusLine(h Header, s bridge.Status) StatusLine {
	l := StatusLine{Header: h, State: s.State.String(), Port: s.Port, Attempt: s.Attempt,
		RetryMS: s.Retry.Milliseconds(), SilenceMS: s.Silence.Milliseconds()}
	if s.Board.DeviceID != "" {
		l.Device, l.Firmware, l.Protocol = s.Board.DeviceID, s.Board.FirmwareVersion, s.Board.Protocol
		l.Capabilities = bridge.CapabilityNames(s.Board.Capabilities)
	}
	if s.Err != nil {
		l.Error = s.Err.Error()
	}
	return l
}

// HandleFrame writes the frame to the frame directory, if any, and a frame
// line unless frames are off.
func (w *Writer) HandleFrame(_ context.Context, f bridge.Frame) {
	l := FrameLine{Header: header(EventFrame, f.At), Device: f.Device, Frame: f.ID, Bytes: len(f.JPEG), Chunks: f.Chunks,
		AssemblyMS: float64(f.At.Sub(f.Started).Microseconds()) / 1000}
	if w.opts.FrameDir != "" {
		path, err := saveFrame(w.opts.FrameDir, f)
		if err != nil {
			w.write(LogLine{Header: header(string(bridge.KindLog), time.Now()), Device: f.Device, Level: "error", Text: err.Error()})
		}
		l.File = path
	}
	if w.opts.Frames == FramesOff {
		return
	}
	if w.opts.Frames == FramesData {
		l.JPEG = f.JPEG
	}
	w.write(l)
}

// saveFrame writes f into dir under a name made of the device, the time and
// the frame id, through a temporary file so that a reader never sees half a
// picture.
func saveFrame(dir string, f bridge.Frame) (string, error) {
	device := strings.Map(func(r rune) rune {
		if r == '/' || r == '\\' || r == 0 || r == ':' {
			return '_'
		}
		return r
	}, f.Device)
	if device == "" {
		device = "board"
	}
	name := fmt.Sprintf("%s-%s-%05d.jpg", device, f.At.UTC().Format("20060102T150405.000000000Z"), f.ID)
	path := filepath.Join(dir, name)
	tmp, err := os.CreateTemp(dir, ".frame-*")
	if err != nil {
		return "", fmt.Errorf("jsonl: save frame: %w", err)
	}
	_, err = tmp.Write(f.JPEG)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		os.Remove(tmp.Name())
		return "", fmt.Errorf("jsonl: save frame %s: %w", path, err)
	}
	return path, nil
}

// WriteResult writes a command's answer.
func (w *Writer) WriteResult(r ResultLine) {
	r.Header = header(EventResult, time.Now())
	w.write(r)
}

// WriteStats writes the counters, answering request (empty for a periodic
// report).
func (w *Writer) WriteStats(request string, s bridge.Stats) {
	w.write(StatsLine{Header: header(EventStats, time.Now()), Request: request, Stats: s})
}

// Compile-time check that *Writer is a bridge.Sink.
var _ bridge.Sink = (*Writer)(nil)

package board

import (
	"sync/atomic"

	"github.com/mocoedge/mocoedge/firmware-bridge/bridge"
)

// counters are the Board's own counters.
type counters struct {
	triggers, captures, captureFailures atomic.Uint64
	buttons, ignored                    atomic.Uint64
	labels, labelFailures               atomic.Uint64
	trainings, trainFailures            atomic.Uint64
	ledCommands, ledFailures            atomic.Uint64
	frames, pushed, pushFailures        atomic.Uint64
}

// Stats are the Board's counters since New, with its bridge's.
type Stats struct {
	// Bridge is the bridge's counters: frames, bad frames by reason,
	// reconnects, reboots, drops.
	Bridge bridge.Stats `json:"bridge"`
	// Triggers is TRIGGERs handled; Captures those that stored a frame,
	// CaptureFailures those that could not.
	Triggers        uint64 `json:"triggers"`
	Captures        uint64 `json:"captures"`
	CaptureFailures uint64 `json:"capture_failures"`
	// Buttons is presses handled; Ignored those no rule maps.
	Buttons uint64 `json:"buttons"`
	Ignored uint64 `json:"buttons_ignored"`
	// Labels is entries labelled by a button, LabelFailures presses that
	// could not label (no trigger captured, say).
	Labels        uint64 `json:"labels"`
	LabelFailures uint64 `json:"label_failures"`
	// Trainings is probe trainings a long press completed, TrainFailures
	// those that failed or were refused.
	Trainings     uint64 `json:"trainings"`
	TrainFailures uint64 `json:"train_failures"`
	// LEDCommands is LED (and relay) commands sent for predictions,
	// LEDFailures those the board did not ACK.
	LEDCommands uint64 `json:"led_commands"`
	LEDFailures uint64 `json:"led_failures"`
	// Frames is camera frames received from the board; Pushed those that
	// entered the board's source, PushFailures those refused.
	Frames       uint64 `json:"frames"`
	Pushed       uint64 `json:"frames_pushed"`
	PushFailures uint64 `json:"push_failures"`
}

// Stats returns the counters so far.
func (b *Board) Stats() Stats {
	c := &b.count
	return Stats{
		Bridge:   b.bridge.Stats(),
		Triggers: c.triggers.Load(), Captures: c.captures.Load(), CaptureFailures: c.captureFailures.Load(),
		Buttons: c.buttons.Load(), Ignored: c.ignored.Load(),
		Labels: c.labels.Load(), LabelFailures: c.labelFailures.Load(),
		Trainings: c.trainings.Load(), TrainFailures: c.trainFailures.Load(),
		LEDCommands: c.ledCommands.Load(), LEDFailures: c.ledFailures.Load(),
		Frames: c.frames.Load(), Pushed: c.pushed.Load(), PushFailures: c.pushFailures.Load(),
	}
}

// Counters returns the counters as flat telemetry keys: the bridge's as
// "bridge.<name>" (bad frames in total and by reason), the Board's as
// "board.<name>", with the names of the JSON fields of bridge.Stats and
// Stats.
func (b *Board) Counters() map[string]any {
	s := b.Stats()
	br := s.Bridge
	return map[string]any{
		"bridge.state":                   br.State.String(),
		"bridge.opens":                   br.Opens,
		"bridge.open_failures":           br.OpenFailures,
		"bridge.reconnects":              br.Reconnects,
		"bridge.handshakes":              br.Handshakes,
		"bridge.reboots":                 br.Reboots,
		"bridge.silences":                br.Silences,
		"bridge.recycles":                br.Recycles,
		"bridge.bytes_in":                br.BytesIn,
		"bridge.frames_in":               br.FramesIn,
		"bridge.frames_out":              br.FramesOut,
		"bridge.bad_frames":              br.BadFrames.Total(),
		"bridge.bad_frames.cobs":         br.BadFrames.COBS,
		"bridge.bad_frames.length":       br.BadFrames.Length,
		"bridge.bad_frames.crc":          br.BadFrames.CRC,
		"bridge.bad_frames.unknown_type": br.BadFrames.UnknownType,
		"bridge.bad_frames.malformed":    br.BadFrames.Malformed,
		"bridge.inbox_dropped":           br.InboxDropped,
		"bridge.duplicates":              br.Duplicates,
		"bridge.heartbeats_in":           br.HeartbeatsIn,
		"bridge.unexpected":              br.Unexpected,
		"bridge.events":                  br.Events,
		"bridge.dropped_events":          br.DroppedEvents,
		"bridge.camera_chunks":           br.CameraChunks,
		"bridge.camera_frames":           br.CameraFrames,
		"bridge.dropped_frames":          br.DroppedFrames,
		"bridge.incomplete_frames":       br.IncompleteFrames,
		"bridge.commands":                br.Commands,
		"bridge.command_failures":        br.CommandFailures,
		"bridge.retries":                 br.Retries,
		"board.triggers":                 s.Triggers,
		"board.captures":                 s.Captures,
		"board.capture_failures":         s.CaptureFailures,
		"board.buttons":                  s.Buttons,
		"board.buttons_ignored":          s.Ignored,
		"board.labels":                   s.Labels,
		"board.label_failures":           s.LabelFailures,
		"board.trainings":                s.Trainings,
		"board.train_failures":           s.TrainFailures,
		"board.led_commands":             s.LEDCommands,
		"board.led_failures":             s.LEDFailures,
		"board.frames":                   s.Frames,
		"board.frames_pushed":            s.Pushed,
		"board.push_failures":            s.PushFailures,
	}
}

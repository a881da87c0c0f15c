package bridge

import (
	"sync/atomic"
	"time"

	"github.com/mocoedge/mocoedge/firmware-bridge/protocol"
)

// BadFrames counts frames dropped by the decoder, by reason.
type BadFrames struct {
	// COBS is frames that were not valid COBS.
	COBS uint64 `json:"cobs"`
	// Length is frames too short or too long, or whose length field
	// disagreed with their size.
	Length uint64 `json:"length"`
	// CRC is frames whose CRC-32 did not match.
	CRC uint64 `json:"crc"`
	// UnknownType is intact frames of an unknown message type.
	UnknownType uint64 `json:"unknown_type"`
	// Malformed is intact frames whose payload broke its layout.
	Malformed uint64 `json:"malformed"`
}

// Total is the frames dropped for any reason.
func (b BadFrames) Total() uint64 {
	return b.COBS + b.Length + b.CRC + b.UnknownType + b.Malformed
}

// Stats are the bridge's counters since New, over every session, for
// telemetry. Field names in JSON are stable.
type Stats struct {
	// State is the current state, Port the path of the current or last
	// session, Board the last HELLO.
	State State     `json:"state"`
	Port  string    `json:"port,omitempty"`
	Board BoardInfo `json:"board"`

	// Opens is ports opened, OpenFailures attempts that failed, Reconnects
	// sessions after the first.
	Opens        uint64 `json:"opens"`
	OpenFailures uint64 `json:"open_failures"`
	Reconnects   uint64 `json:"reconnects"`
	// Handshakes is sessions that got the board's HELLO.
	Handshakes uint64 `json:"handshakes"`
	// Reboots is board reboots seen inside a session (its heartbeat uptime
	// went back).
	Reboots uint64 `json:"reboots"`
	// Silences is times the watchdog flagged the board silent; Recycles is
	// ports closed by the watchdog or the handshake timeout.
	Silences uint64 `json:"silences"`
	Recycles uint64 `json:"recycles"`

	// BytesIn is bytes read from the port.
	BytesIn uint64 `json:"bytes_in"`
	// FramesIn is intact frames received; FramesOut is frames written
	// (messages, retransmissions, ACKs and NACKs).
	FramesIn  uint64 `json:"frames_in"`
	FramesOut uint64 `json:"frames_out"`
	// BadFrames is frames dropped by the decoder.
	BadFrames BadFrames `json:"bad_frames"`
	// InboxDropped is messages the link dropped because the bridge had not
	// drained it (NACKed busy when the board asked for ACK); it stays 0
	// unless the host machine stalls.
	InboxDropped uint64 `json:"inbox_dropped"`
	// Duplicates is retransmitted board requests recognised and not
	// delivered twice.
	Duplicates uint64 `json:"duplicates"`
	// HeartbeatsIn is heartbeats from the board.
	HeartbeatsIn uint64 `json:"heartbeats_in"`
	// Unexpected is messages the board should not send (LED, RELAY).
	Unexpected uint64 `json:"unexpected"`

	// Events is events queued for the Sink (statuses included),
	// DroppedEvents those dropped because the Sink fell behind.
	Events        uint64 `json:"events"`
	DroppedEvents uint64 `json:"dropped_events"`

	// CameraChunks is CAMERA_FRAME chunks received, CameraFrames JPEGs
	// reassembled, DroppedFrames reassembled JPEGs dropped because the Sink
	// fell behind, IncompleteFrames JPEGs that never completed (timed out,
	// evicted, oversize, or cut by a reboot).
	CameraChunks     uint64 `json:"camera_chunks"`
	CameraFrames     uint64 `json:"camera_frames"`
	DroppedFrames    uint64 `json:"dropped_frames"`
	IncompleteFrames uint64 `json:"incomplete_frames"`

	// Commands is LED/RELAY commands sent, CommandFailures those that did
	// not end in ACK; Retries is request retransmissions.
	Commands        uint64 `json:"commands"`
	CommandFailures uint64 `json:"command_failures"`
	Retries         uint64 `json:"retries"`

	// LastFrame is when the last intact message arrived (zero if none).
	LastFrame time.Time `json:"last_frame,omitzero"`
}

// counters are the bridge's own atomic counters; link and assembler counts
// are read from them.
type counters struct {
	opens, openFailures, reconnects, handshakes, reboots atomic.Uint64
	silences, recycles, heartbeatsIn, unexpected         atomic.Uint64
	commands, commandFailures                            atomic.Uint64
}

// addLinkStats adds the link counters of s to t.
func addLinkStats(t *Stats, s protocol.LinkStats) {
	d := s.Decoder
	t.BytesIn += d.Bytes
	t.FramesIn += d.Frames
	t.FramesOut += s.FramesSent
	t.BadFrames.COBS += d.BadCOBS
	t.BadFrames.Length += d.BadLength
	t.BadFrames.CRC += d.BadCRC
	t.BadFrames.UnknownType += d.UnknownType
	t.BadFrames.Malformed += d.Malformed
	t.InboxDropped += s.Dropped
	t.Duplicates += s.Duplicates
	t.Retries += s.Retries
	if s.LastFrame.After(t.LastFrame) {
		t.LastFrame = s.LastFrame
	}
}

// Package bridge links a firmware board to its host over a serial port: the
// core that the fwbridge binary runs, and that the edge daemon will run as a
// component so that a camera box needs one process.
//
// # What it does
//
// [Bridge.Run] opens the port (by path, or by USB VID:PID and an optional
// serial number, resolved again before every open) at the configured baud
// rate, 8N1, and runs one session on it:
//
//   - HELLO handshake: the bridge sends HELLO and resends it with every
//     heartbeat until the board answers; the board's HELLO must carry
//     protocol.ProtocolVersion and gives its firmware version, device id
//     and capabilities ([BoardInfo]).
//   - Heartbeats both ways: the bridge sends one per interval, and counts
//     the board's (a drop in the board's uptime counts a reboot).
//   - A watchdog: no intact frame for [Config.SilentAfter] intervals emits a
//     [StateSilent] status; for [Config.RecycleAfter] intervals it closes the
//     port and opens it again ([ErrSilent]). A board that never answers HELLO
//     is recycled after [Config.HandshakeTimeout].
//   - CAMERA_FRAME chunks are put back together by a protocol.Assembler
//     (reset on HELLO and on every new session, expired on a ticker) into
//     JPEG [Frame]s.
//   - TRIGGER, BUTTON, SENSOR and LOG become typed events ([Trigger],
//     [Button], [Sensor], [Log]); connection changes become [Status] events.
//   - LED and RELAY commands go out as requests that the board ACKs
//     ([Bridge.SetLED], [Bridge.SetRelay]), each bounded by
//     [Config.CommandTimeout].
//
// When the port cannot be opened, is unplugged, fails, or is recycled, the
// bridge logs why (log/slog), emits a [StateDisconnected] status with the
// error and the delay, and opens it again after an exponential back-off that
// is capped, jittered, and reset once a session has stayed up for
// [Backoff.ResetAfter].
//
// # Never blocking the serial reader
//
// The protocol.Link reads the port in its own goroutine and the session
// drains it without ever waiting on the host: events and frames go into two
// bounded queues that drop their oldest entry when full and count the drop
// ([Stats.DroppedEvents], [Stats.DroppedFrames]). Two goroutines hand the
// queued items to the host's [Sink], so a slow frame consumer delays neither
// triggers nor the ACKs the board waits for.
//
// # The host's side
//
// The host implements [Sink] (events and frames in) and uses [Commander]
// (LED and RELAY out), which *Bridge implements. The edge daemon will be
// that host; until it exists, the fwbridge binary's JSON-lines adapter
// (package firmware-bridge/jsonl) is. [Mapping] is the configuration that
// turns probe predictions into LED/RELAY commands and button presses into
// actions (label the last trigger, train the probe); the host applies it.
//
// [Bridge.Stats] returns counters for telemetry: frames in and out, bad
// frames by reason, reconnects, dropped events and frames, incomplete camera
// frames.
package bridge

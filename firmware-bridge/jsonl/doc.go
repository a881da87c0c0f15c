// Package jsonl is the JSON-lines interface of `fwbridge run`: every event
// from the board is one JSON object on one line of stdout, and LED, RELAY
// and prediction commands arrive as JSON lines on stdin. It is how other
// programs (the edge daemon before it embeds the bridge, a shell script, an
// MQTT adapter) drive a board today; the format below is stable: fields are
// only ever added, and "v" changes if one is ever removed or redefined.
//
// # Output lines (stdout)
//
// Every line has "v" (FormatVersion, 1), "event" and "time" (RFC 3339 with
// nanoseconds, when the bridge received the message or the change happened).
// "device" is the board's device id from its HELLO (empty before the
// handshake).
//
//	event    fields
//	status   state: "connecting"|"handshake"|"ready"|"silent"|"disconnected"|"stopped",
//	         port, attempt (connecting, disconnected), device, firmware, protocol and
//	         capabilities (a list of "led", "relay", "button", "trigger", "sensor",
//	         "camera", "log") from ready on, error and retry_ms (disconnected),
//	         silence_ms (silent)
//	trigger  device, source, board_ms (the board's uptime when it fired)
//	button   device, button, press: "short"|"long"|"double"; with a mapping,
//	         action: "label"|"train" and label
//	sensor   device, sensor, value
//	log      device, level: "debug"|"info"|"warn"|"error", text
//	frame    device, frame (the board's id), bytes, chunks, assembly_ms; jpeg
//	         (base64) with --frames=data; file (a path) with --frame-dir
//	result   request, cmd, ok, error (when ok is false), changed (prediction:
//	         whether commands were sent)
//	stats    request (when asked for), stats: the bridge.Stats counters
//
// Examples:
//
//	{"v":1,"event":"status","time":"2026-03-01T10:00:00.1Z","state":"ready","port":"/dev/ttyACM0","device":"door-1","firmware":"1.2.0","protocol":1,"capabilities":["led","button","trigger","camera"]}
//	{"v":1,"event":"trigger","time":"2026-03-01T10:00:05.2Z","device":"door-1","source":0,"board_ms":81234}
//	{"v":1,"event":"button","time":"2026-03-01T10:00:09Z","device":"door-1","button":0,"press":"short","action":"label","label":"person"}
//	{"v":1,"event":"frame","time":"2026-03-01T10:00:05.9Z","device":"door-1","frame":17,"bytes":24576,"chunks":25,"assembly_ms":268.4}
//	{"v":1,"event":"result","time":"2026-03-01T10:00:06Z","request":"r1","cmd":"led","ok":true}
//
// # Command lines (stdin)
//
//	{"cmd":"led","request":"r1","id":0,"mode":"blink","brightness":255,"on_ms":200,"off_ms":800}
//	{"cmd":"relay","request":"r2","id":0,"on":true,"pulse_ms":500}
//	{"cmd":"prediction","request":"r3","label":"person","score":0.93}
//	{"cmd":"stats","request":"r4"}
//
// "request" is echoed in the answer, a "result" line (a "stats" line for
// stats). LED, relay and prediction commands need a board: before the
// "ready" status, or while it is disconnected, they fail at once ("no board
// connected"); wait for "ready" and resend. led takes id, mode ("off", "on", "blink"), brightness (default 255
// when on or blinking) and on_ms/off_ms (blink only); relay takes id, on and
// pulse_ms; prediction applies the --mapping file's rule for the label and
// score, sending commands only when the rule changes. A line that is not
// valid JSON, has unknown fields or breaks these rules is answered with
// "ok":false and the reason; it never stops the bridge.
package jsonl

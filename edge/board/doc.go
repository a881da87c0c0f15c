// Package board runs the firmware board inside the edge daemon, so that a
// camera box needs one process: it owns a firmware-bridge Bridge on the
// board's serial port and joins it to the agent and to MQTT.
//
// # What crosses
//
//   - TRIGGER: capture a frame. With bridge.snapshot set, the agent
//     snapshots that source (Agent.Snapshot); otherwise the board's most
//     recent complete camera frame is embedded and stored (Agent.Store) as a
//     frame of the board's source: the first source of kind bridge, else
//     "board". When that bridge source's frames are already stored by the
//     pipeline (queue.every_frame), the trigger takes the pipeline's entry
//     of the frame instead of storing it twice (waiting up to 250 ms for
//     it), so a trigger with no newer frame captures the same entry again.
//     Either way an events/trigger report (kind "trigger") carries
//     the trigger input, the board's clock, the source, the key queue id of
//     the capture and the probe's predicted label, or the error when nothing
//     could be captured.
//   - BUTTON: a short press of a button listed in bridge.buttons labels the
//     entry of the last trigger with that button's label (Agent.ApplyLabel,
//     as the MQTT label command does) and reports it (kind "button"); a long
//     press of any button trains the probe in the background
//     (Agent.TrainProbe) and reports the outcome (kind "train").
//   - CAMERA_FRAME: every reassembled JPEG is pushed into the board's source
//     when one of kind bridge is configured, so it flows through the
//     pipeline like any camera's frame, and is kept as the latest board frame
//     for triggers.
//   - Predictions: as an agent.Observer, the Board follows the probe's
//     predictions for the frames of the board's source (or of
//     bridge.snapshot's source, when set) and lights the LED that bridge.leds
//     gives for the predicted label, turning the other mapped LEDs off. A
//     bridge.PredictionMapper sends commands only when the rule changes, from
//     one goroutine that coalesces predictions, so a fast camera never floods
//     the serial line and the pipeline never waits on the board. After a
//     board reboot or reconnection (its outputs start off) the current
//     prediction is sent again.
//
// # Counters
//
// Stats and Counters report the bridge's counters (bridge.Stats) and the
// Board's own: triggers, captures and failures, button actions, trainings,
// LED commands, frames pushed. The daemon merges Counters into the MQTT
// telemetry report (mqttlink.Link.AddCounters).
//
// # Lifetime
//
// New builds the Board (and its Bridge) before the agent, since the agent
// takes its observers when it is created; Attach joins it to the agent and
// the MQTT client; Run, given to agent.Run as an extra function, runs the
// bridge until the agent stops.
package board

// Package simulator is a simulated firmware board that speaks the
// firmware-bridge protocol over any io.ReadWriteCloser, typically the master
// side of a pseudo-terminal (see OpenPTY) so that the bridge under test opens
// a real tty as it would a USB serial port.
//
// A Board sends HELLO when it starts and after every reboot, heartbeats on a
// ticker, answers HELLO with HELLO, and ACKs LED and RELAY commands after
// recording their state (NACK ReasonInvalid for ids it lacks, with
// retransmissions recognised and re-ACKed). Tests tell it to emit TRIGGER and
// BUTTON events (sent as requests and retried until ACKed, as the firmware
// does), SENSOR and LOG messages, and CAMERA_FRAME chunks of a JPEG; and to
// misbehave: reboot in the middle of a frame, write garbage, or flip bits in
// everything it sends.
package simulator

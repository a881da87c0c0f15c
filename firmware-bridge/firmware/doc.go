// Package firmware holds the reference firmware of the mocoedge board, in
// portable C99 (src/, ports/, test/; see README.md), and the Go tests that
// prove the C and Go implementations of the protocol agree:
//
//   - testdata/vectors.txt is written by the Go encoder (go test -run
//     TestVectors -update) and read by the C unit tests: CRC and COBS
//     vectors, frames of every message type (valid, malformed, unknown) and
//     frames the decoder must drop, with edge cases (payloads full of 0x00,
//     maximum length, empty payloads);
//   - the C code is compiled with gcc -std=c99 -Wall -Wextra -Werror
//     -pedantic, its unit tests run, and the Linux port of the firmware runs
//     on a pseudo-terminal driven by the Go bridge (handshake, heartbeats,
//     trigger, button, LED and relay commands, a JPEG reassembled byte for
//     byte).
//
// The package has no Go API; the tests skip, saying why, when gcc is
// missing.
package firmware

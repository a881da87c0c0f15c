// Package protocol is the serial protocol between the edge host and the
// microcontroller board: framing, message layouts, a streaming decoder, a
// reliable link with ACK/NACK and retries, and reassembly of camera frames.
//
// # Frames
//
// One frame on the wire is the COBS encoding of
//
//	[type u8][seq u8][len u16 LE][payload: len bytes][crc32 LE]
//
// followed by one 0x00 delimiter. The CRC is CRC-32 (IEEE, as in
// hash/crc32.ChecksumIEEE) over type, seq, len and payload. All multi-byte
// integers are little endian. A payload holds at most [MaxPayload] (1024)
// bytes, so a whole frame is at most 1037 bytes encoded plus its delimiter:
// about 11 ms at 921600 baud, which bounds how long a command waits behind a
// camera chunk, and small enough for double-buffered receive and transmit
// buffers in a microcontroller's RAM. CRC-32 keeps a Hamming distance of 4 far
// beyond that length. A reader skips empty frames (two delimiters in a row); a
// writer sends one 0x00 before its first frame after it starts, so that a frame
// torn by a reset or a reconnect ends there and the next frame decodes.
//
// The type byte carries the message type in bits 0-6 and, in bit 7, the
// ACK-request flag: a receiver answers a frame that has the flag with ACK (or
// NACK and a reason) carrying the frame's seq. seq is a per-sender counter
// that wraps at 256; a retransmission repeats the frame unchanged, so the pair
// (seq, crc) identifies it and the receiver re-ACKs it without acting twice
// (see [Dedup]). ACK and NACK frames never carry the flag and are never
// answered.
//
// # Messages
//
//	code  type          dir   payload (offset:size field)                               size
//	0x01  HELLO         both  0:1 protocol version (1), 1:4 capabilities bitmask,       7..517
//	                          5:1 n, 6:n firmware version, 6+n:1 m, 7+n:m device id
//	0x02  HEARTBEAT     both  0:4 uptime ms (wraps after 49.7 days)                      4
//	0x03  ACK           both  0:1 acked seq                                              1
//	0x04  NACK          both  0:1 acked seq, 1:1 reason                                  2
//	0x05  TRIGGER       b->h  0:1 source id, 1:4 board time ms                           5
//	0x06  BUTTON        b->h  0:1 button id, 1:1 press (1 short, 2 long, 3 double)       2
//	0x07  SENSOR        b->h  0:1 sensor id, 1:4 value float32 (IEEE 754, finite)        5
//	0x08  LED           h->b  0:1 led id, 1:1 mode (0 off, 1 on, 2 blink),               7
//	                          2:1 brightness 0-255, 3:2 blink on ms, 5:2 blink off ms
//	0x09  RELAY         h->b  0:1 relay id, 1:1 state (0 off, 1 on), 2:2 pulse ms        4
//	0x0A  CAMERA_FRAME  b->h  0:2 frame id, 2:2 chunk index, 4:2 chunk count,            7..1024
//	                          6:rest JPEG bytes (1..1018)
//	0x0B  LOG           b->h  0:1 level (0 debug, 1 info, 2 warn, 3 error), 1:rest text  1..1024
//
// b->h is board to host, h->b host to board. A payload must have exactly its
// size; a shorter or longer one, or a field out of range, is [ErrMalformed].
// HELLO strings are UTF-8 without control characters, the device id is not
// empty. A board sends HELLO when it boots and answers a HELLO with its own,
// which is how a host that opens the port after the boot learns who is there.
// Blink times are non-zero in blink mode and zero otherwise. A relay pulse
// (pulse ms > 0) holds the state for that long and then reverts it. SENSOR
// carries float32 because real sensors report fractions (°C, %RH, lux) and
// float32 holds every integer up to 2^24 exactly. LOG text is expected to be
// UTF-8 and is passed on as received. NACK reasons are listed with
// [NackReason].
//
// # Using it
//
// [Decoder] reads frames and messages from a byte stream, resynchronising at
// the next delimiter after garbage and counting what it drops; [Encoder]
// writes them. [Link] owns a port: it reads in its own goroutine, delivers
// messages on a channel, answers ACK requests, and offers [Link.Send] and
// [Link.Request] that never block the caller longer than its context and the
// configured timeouts. [Assembler] turns CAMERA_FRAME chunks back into JPEGs.
package protocol

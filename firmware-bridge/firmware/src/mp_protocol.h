/*
 * mp_protocol.h - the mocoedge firmware-bridge serial protocol in portable
 * C99: COBS, CRC-32, frames, a streaming decoder, the message layouts and
 * the duplicate-request filter. No allocation, no global state; every
 * buffer is the caller's or inside a struct the caller owns.
 *
 * Frame on the wire: COBS(type u8, seq u8, len u16 LE, payload, crc32 LE)
 * then 0x00. CRC-32 is IEEE (zlib's) over type..payload. Bit 7 of the type
 * byte asks the receiver for ACK/NACK. The byte layouts of the messages are
 * those of the Go package firmware-bridge/protocol (doc.go); both sides are
 * checked against the same test vectors (testdata/vectors.txt).
 */
#ifndef MP_PROTOCOL_H
#define MP_PROTOCOL_H

#include <stddef.h>
#include <stdint.h>

#define MP_PROTOCOL_VERSION 1u

#define MP_MAX_PAYLOAD 1024u
#define MP_HEADER_SIZE 4u
#define MP_CRC_SIZE 4u
/* Largest frame before COBS encoding. */
#define MP_MAX_RAW_FRAME (MP_HEADER_SIZE + MP_MAX_PAYLOAD + MP_CRC_SIZE)
/* Largest COBS-encoded frame, without its delimiter. */
#define MP_MAX_ENCODED_FRAME (MP_MAX_RAW_FRAME + MP_MAX_RAW_FRAME / 254u + 1u)
/* Largest frame on the wire: encoded frame and delimiter. */
#define MP_MAX_WIRE_FRAME (MP_MAX_ENCODED_FRAME + 1u)
#define MP_DELIMITER 0x00u
#define MP_ACK_FLAG 0x80u

/* Message types: bits 0-6 of the type byte. */
enum mp_type {
	MP_HELLO = 0x01,
	MP_HEARTBEAT = 0x02,
	MP_ACK = 0x03,
	MP_NACK = 0x04,
	MP_TRIGGER = 0x05,
	MP_BUTTON = 0x06,
	MP_SENSOR = 0x07,
	MP_LED = 0x08,
	MP_RELAY = 0x09,
	MP_CAMERA_FRAME = 0x0A,
	MP_LOG = 0x0B
};

/* NACK reasons. */
enum mp_nack_reason {
	MP_REASON_UNSPECIFIED = 0,
	MP_REASON_UNKNOWN_TYPE = 1,
	MP_REASON_MALFORMED = 2,
	MP_REASON_INVALID = 3,
	MP_REASON_BUSY = 4,
	MP_REASON_UNSUPPORTED = 5
};

/* HELLO capability bits. */
enum mp_capability {
	MP_CAP_LED = 1u << 0,
	MP_CAP_RELAY = 1u << 1,
	MP_CAP_BUTTON = 1u << 2,
	MP_CAP_TRIGGER = 1u << 3,
	MP_CAP_SENSOR = 1u << 4,
	MP_CAP_CAMERA = 1u << 5,
	MP_CAP_LOG = 1u << 6
};

enum mp_press { MP_PRESS_SHORT = 1, MP_PRESS_LONG = 2, MP_PRESS_DOUBLE = 3 };
enum mp_led_mode { MP_LED_OFF = 0, MP_LED_ON = 1, MP_LED_BLINK = 2 };
enum mp_log_level { MP_LOG_DEBUG = 0, MP_LOG_INFO = 1, MP_LOG_WARN = 2, MP_LOG_ERROR = 3 };

/* Results: 0 or a positive length for success, these for failure. */
enum mp_err {
	MP_OK = 0,
	MP_ERR_COBS = -1,         /* not valid COBS */
	MP_ERR_LENGTH = -2,       /* too short, or the length field disagrees */
	MP_ERR_TOO_LARGE = -3,    /* payload over MP_MAX_PAYLOAD */
	MP_ERR_CRC = -4,          /* CRC mismatch */
	MP_ERR_UNKNOWN_TYPE = -5, /* intact frame of an unknown type */
	MP_ERR_MALFORMED = -6,    /* payload breaks its message's layout */
	MP_ERR_BUFFER = -7        /* the output buffer is too small */
};

/* ---- COBS (mp_cobs.c) ---- */

/* Encodes len bytes of src into dst, which holds len + len/254 + 1 bytes,
 * and returns the encoded length. The output has no zero byte. */
size_t mp_cobs_encode(const uint8_t *src, size_t len, uint8_t *dst);

/* Decodes len bytes of src (no delimiter) into dst of cap bytes; stores the
 * decoded length in *out_len. Returns MP_OK, MP_ERR_COBS or MP_ERR_BUFFER. */
int mp_cobs_decode(const uint8_t *src, size_t len, uint8_t *dst, size_t cap, size_t *out_len);

/* ---- CRC-32/IEEE (mp_crc32.c) ---- */

/* Continues a CRC-32 (start with 0) over n bytes, as Go's crc32.Update
 * with the IEEE table and zlib's crc32() do. */
uint32_t mp_crc32_update(uint32_t crc, const uint8_t *p, size_t n);

/* CRC-32 of n bytes. */
uint32_t mp_crc32(const uint8_t *p, size_t n);

/* ---- Frames (mp_frame.c) ---- */

/* A decoded frame. payload points into the buffer it was parsed from. */
typedef struct mp_frame {
	uint8_t type; /* bits 0-6 of the type byte */
	uint8_t seq;
	uint8_t ack_requested;
	uint16_t len;
	const uint8_t *payload;
	uint32_t crc; /* with seq, identifies a retransmission */
} mp_frame;

/* Writes the frame as it goes on the wire (COBS, then 0x00) into out of cap
 * bytes (MP_MAX_WIRE_FRAME always suffices). Returns the length written, or
 * MP_ERR_TOO_LARGE, MP_ERR_MALFORMED (type over 0x7F) or MP_ERR_BUFFER. */
int mp_frame_build(uint8_t type, uint8_t seq, int ack_requested, const uint8_t *payload, size_t len, uint8_t *out,
                   size_t cap);

/* Parses one COBS-encoded frame of len bytes (without the delimiter) into
 * *f, using raw (MP_MAX_RAW_FRAME bytes) as scratch; f->payload points into
 * raw. Returns MP_OK, MP_ERR_COBS, MP_ERR_LENGTH, MP_ERR_TOO_LARGE or
 * MP_ERR_CRC. */
int mp_frame_parse(const uint8_t *enc, size_t len, uint8_t *raw, mp_frame *f);

/* ---- Streaming decoder (mp_decoder.c) ---- */

typedef struct mp_decoder_stats {
	uint32_t bytes;      /* bytes pushed */
	uint32_t frames;     /* intact frames */
	uint32_t bad_cobs;   /* dropped: invalid COBS */
	uint32_t bad_length; /* dropped: size or length field, or no delimiter in time */
	uint32_t bad_crc;    /* dropped: CRC mismatch */
} mp_decoder_stats;

/* Splits a byte stream at 0x00 and checks every frame; after garbage it is
 * back in step at the next delimiter. About 2 KiB. */
typedef struct mp_decoder {
	uint8_t enc[MP_MAX_ENCODED_FRAME];
	size_t n;
	uint8_t overflow;
	uint8_t raw[MP_MAX_RAW_FRAME];
	mp_decoder_stats stats;
} mp_decoder;

void mp_decoder_init(mp_decoder *d);

/* Feeds one byte. Returns 1 and fills *f when the byte ends an intact frame
 * (f->payload is valid until the next push), 0 otherwise. Bad frames are
 * counted in d->stats and skipped; empty frames (0x00 0x00) are idle line. */
int mp_decoder_push(mp_decoder *d, uint8_t byte, mp_frame *f);

/* ---- Messages (mp_messages.c) ----
 * Each encode writes the payload into buf of cap bytes and returns its
 * length, MP_ERR_MALFORMED for a value that breaks the layout, or
 * MP_ERR_BUFFER. Each decode checks the payload and returns MP_OK or
 * MP_ERR_MALFORMED; strings and data point into the payload. */

typedef struct mp_hello {
	uint8_t protocol;
	uint32_t capabilities;
	const char *firmware; /* UTF-8, no control characters, <= 255 bytes */
	uint8_t firmware_len;
	const char *device_id; /* the same, 1..255 bytes */
	uint8_t device_id_len;
} mp_hello;

typedef struct mp_heartbeat {
	uint32_t uptime_ms;
} mp_heartbeat;

typedef struct mp_ack {
	uint8_t seq;
} mp_ack;

typedef struct mp_nack {
	uint8_t seq;
	uint8_t reason;
} mp_nack;

typedef struct mp_trigger {
	uint8_t source;
	uint32_t board_ms;
} mp_trigger;

typedef struct mp_button {
	uint8_t id;
	uint8_t press; /* enum mp_press */
} mp_button;

typedef struct mp_sensor {
	uint8_t id;
	float value; /* finite */
} mp_sensor;

typedef struct mp_led {
	uint8_t id;
	uint8_t mode; /* enum mp_led_mode */
	uint8_t brightness;
	uint16_t on_ms, off_ms; /* non-zero in blink mode only */
} mp_led;

typedef struct mp_relay {
	uint8_t id;
	uint8_t on;
	uint16_t pulse_ms;
} mp_relay;

#define MP_CAMERA_HEADER 6u
#define MP_MAX_CHUNK_DATA (MP_MAX_PAYLOAD - MP_CAMERA_HEADER)

typedef struct mp_camera_chunk {
	uint16_t frame_id;
	uint16_t index; /* < count */
	uint16_t count; /* >= 1 */
	const uint8_t *data;
	uint16_t len; /* 1..MP_MAX_CHUNK_DATA */
} mp_camera_chunk;

#define MP_MAX_LOG_TEXT (MP_MAX_PAYLOAD - 1u)

typedef struct mp_log {
	uint8_t level; /* enum mp_log_level */
	const char *text;
	uint16_t len; /* <= MP_MAX_LOG_TEXT */
} mp_log;

int mp_hello_encode(const mp_hello *m, uint8_t *buf, size_t cap);
int mp_hello_decode(const uint8_t *p, size_t n, mp_hello *m);
int mp_heartbeat_encode(const mp_heartbeat *m, uint8_t *buf, size_t cap);
int mp_heartbeat_decode(const uint8_t *p, size_t n, mp_heartbeat *m);
int mp_ack_encode(const mp_ack *m, uint8_t *buf, size_t cap);
int mp_ack_decode(const uint8_t *p, size_t n, mp_ack *m);
int mp_nack_encode(const mp_nack *m, uint8_t *buf, size_t cap);
int mp_nack_decode(const uint8_t *p, size_t n, mp_nack *m);
int mp_trigger_encode(const mp_trigger *m, uint8_t *buf, size_t cap);
int mp_trigger_decode(const uint8_t *p, size_t n, mp_trigger *m);
int mp_button_encode(const mp_button *m, uint8_t *buf, size_t cap);
int mp_button_decode(const uint8_t *p, size_t n, mp_button *m);
int mp_sensor_encode(const mp_sensor *m, uint8_t *buf, size_t cap);
int mp_sensor_decode(const uint8_t *p, size_t n, mp_sensor *m);
int mp_led_encode(const mp_led *m, uint8_t *buf, size_t cap);
int mp_led_decode(const uint8_t *p, size_t n, mp_led *m);
int mp_relay_encode(const mp_relay *m, uint8_t *buf, size_t cap);
int mp_relay_decode(const uint8_t *p, size_t n, mp_relay *m);
int mp_camera_encode(const mp_camera_chunk *m, uint8_t *buf, size_t cap);
int mp_camera_decode(const uint8_t *p, size_t n, mp_camera_chunk *m);
int mp_log_encode(const mp_log *m, uint8_t *buf, size_t cap);
int mp_log_decode(const uint8_t *p, size_t n, mp_log *m);

/* Decodes the payload of a frame of type t only to check it: MP_OK,
 * MP_ERR_MALFORMED or MP_ERR_UNKNOWN_TYPE. */
int mp_message_check(uint8_t type, const uint8_t *p, size_t n);

/* ---- Duplicate requests (mp_dedup.c) ---- */

#define MP_DEDUP_SLOTS 16u
#define MP_DEDUP_WINDOW_MS 2000u

typedef struct mp_dedup_entry {
	uint8_t seq;
	uint8_t used;
	uint32_t crc;
	uint32_t at_ms;
} mp_dedup_entry;

/* Recognises a retransmitted request (same seq and CRC within the window)
 * so that it is re-ACKed without acting twice; the rule of the Go side's
 * protocol.Dedup. */
typedef struct mp_dedup {
	mp_dedup_entry entries[MP_DEDUP_SLOTS];
	uint8_t next;
	uint32_t window_ms;
} mp_dedup;

void mp_dedup_init(mp_dedup *d, uint32_t window_ms);
int mp_dedup_seen(const mp_dedup *d, uint8_t seq, uint32_t crc, uint32_t now_ms);
void mp_dedup_remember(mp_dedup *d, uint8_t seq, uint32_t crc, uint32_t now_ms);
void mp_dedup_reset(mp_dedup *d);

#endif /* MP_PROTOCOL_H */

/* test_codec.c - the codec against the hand-written golden vectors of the
 * Go tests (protocol/frame_test.go, protocol/cobs_test.go) and against the
 * vectors the Go encoder writes (testdata/vectors.txt). */
#define _XOPEN_SOURCE 600

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../src/mp_protocol.h"
#include "test.h"

/* ---- golden vectors, copied from the Go tests ---- */

static void fill_seq(uint8_t *b, size_t n, uint8_t first)
{
	size_t i;
	uint8_t v = first;
	for (i = 0; i < n; i++) {
		if (v == 0) {
			v = 1;
		}
		b[i] = v++;
	}
}

static void test_cobs_golden(test_state *t)
{
	static const struct {
		const char *name;
		uint8_t dec[8];
		size_t dec_len;
		uint8_t enc[8];
		size_t enc_len;
	} small[] = {
		{"empty", {0}, 0, {0x01}, 1},
		{"zero", {0x00}, 1, {0x01, 0x01}, 2},
		{"two zeros", {0x00, 0x00}, 2, {0x01, 0x01, 0x01}, 3},
		{"zero inside", {0x00, 0x11, 0x00}, 3, {0x01, 0x02, 0x11, 0x01}, 4},
		{"no zero", {0x11, 0x22, 0x00, 0x33}, 4, {0x03, 0x11, 0x22, 0x02, 0x33}, 5},
		{"trailing zero", {0x11, 0x00, 0x00, 0x00}, 4, {0x02, 0x11, 0x01, 0x01, 0x01}, 5},
	};
	uint8_t dec[600], enc[600], want[600], back[600];
	size_t i, n, back_len = 0;
	for (i = 0; i < sizeof small / sizeof small[0]; i++) {
		n = mp_cobs_encode(small[i].dec, small[i].dec_len, enc);
		CHECK(t, n == small[i].enc_len && memcmp(enc, small[i].enc, n) == 0, "COBS encode %s", small[i].name);
		CHECK(t, mp_cobs_decode(small[i].enc, small[i].enc_len, back, sizeof back, &back_len) == MP_OK &&
		             back_len == small[i].dec_len && memcmp(back, small[i].dec, back_len) == 0,
		      "COBS decode %s", small[i].name);
	}

	/* "254 non-zero": FF, then 01..FE */
	fill_seq(dec, 254, 1);
	want[0] = 0xFF;
	memcpy(want + 1, dec, 254);
	n = mp_cobs_encode(dec, 254, enc);
	CHECK(t, n == 255 && memcmp(enc, want, n) == 0, "COBS 254 non-zero");
	/* "zero then 254" */
	back[0] = 0;
	memcpy(back + 1, dec, 254);
	n = mp_cobs_encode(back, 255, enc);
	CHECK(t, n == 256 && enc[0] == 0x01 && enc[1] == 0xFF && memcmp(enc + 2, dec, 254) == 0, "COBS zero then 254");
	/* "255 non-zero": FF 01..FE 02 FF */
	fill_seq(dec, 255, 1);
	n = mp_cobs_encode(dec, 255, enc);
	CHECK(t, n == 257 && enc[0] == 0xFF && memcmp(enc + 1, dec, 254) == 0 && enc[255] == 0x02 && enc[256] == 0xFF,
	      "COBS 255 non-zero");
	/* "254 then zero": FF 02..FF(skip 0) 01 01 */
	fill_seq(dec, 254, 2);
	dec[254] = 0;
	n = mp_cobs_encode(dec, 255, enc);
	CHECK(t, n == 257 && enc[0] == 0xFF && memcmp(enc + 1, dec, 254) == 0 && enc[255] == 0x01 && enc[256] == 0x01,
	      "COBS 254 then zero");
	CHECK(t, mp_cobs_decode(enc, n, back, sizeof back, &back_len) == MP_OK && back_len == 255 &&
	             memcmp(back, dec, 255) == 0,
	      "COBS decode 254 then zero");
	/* "253 then zero then one": FE 03.. 02 01 */
	fill_seq(dec, 253, 3);
	dec[253] = 0;
	dec[254] = 1;
	n = mp_cobs_encode(dec, 255, enc);
	CHECK(t, n == 256 && enc[0] == 0xFE && memcmp(enc + 1, dec, 253) == 0 && enc[254] == 0x02 && enc[255] == 0x01,
	      "COBS 253 then zero then one");

	/* Errors, as TestCOBSDecodeErrors. */
	{
		static const uint8_t overrun[] = {0x05, 0x01, 0x02};
		static const uint8_t zero[] = {0x02, 0x00};
		CHECK(t, mp_cobs_decode(overrun, sizeof overrun, back, sizeof back, &back_len) == MP_ERR_COBS, "overrun");
		CHECK(t, mp_cobs_decode(zero, sizeof zero, back, sizeof back, &back_len) == MP_ERR_COBS, "zero inside");
		CHECK(t, mp_cobs_decode(zero, 0, back, sizeof back, &back_len) == MP_ERR_COBS, "empty input");
	}
}

static void test_crc_golden(test_state *t)
{
	static const uint8_t check[] = "123456789";
	CHECK(t, mp_crc32(check, 9) == 0xCBF43926u, "CRC-32 check value: %08lx", (unsigned long)mp_crc32(check, 9));
	CHECK(t, mp_crc32(check, 0) == 0, "CRC of nothing");
	CHECK(t, mp_crc32_update(mp_crc32(check, 4), check + 4, 5) == 0xCBF43926u, "CRC in two parts");
}

/* The golden frames of protocol/frame_test.go. */
static void test_frames_golden(test_state *t)
{
	static const struct {
		const char *name;
		uint8_t type, seq, ack;
		uint8_t payload[16];
		size_t len;
		uint8_t wire[32];
		size_t wire_len;
	} golden[] = {
		{"heartbeat 1000 ms", MP_HEARTBEAT, 1, 0, {0xE8, 0x03, 0x00, 0x00}, 4,
		 {0x04, 0x02, 0x01, 0x04, 0x03, 0xE8, 0x03, 0x01, 0x05, 0x38, 0x46, 0x6C, 0x0B, 0x00}, 14},
		{"LED blink request", MP_LED, 0x2A, 1, {0x01, 0x02, 0x80, 0xF4, 0x01, 0xFA, 0x00}, 7,
		 {0x04, 0x88, 0x2A, 0x07, 0x07, 0x01, 0x02, 0x80, 0xF4, 0x01, 0xFA, 0x05, 0x3B, 0x63, 0x77, 0x26, 0x00}, 17},
		{"ACK of seq 7", MP_ACK, 0, 0, {0x07}, 1,
		 {0x02, 0x03, 0x02, 0x01, 0x06, 0x07, 0x59, 0x72, 0x24, 0x1E, 0x00}, 11},
		{"camera chunk", MP_CAMERA_FRAME, 5, 0, {0x02, 0x01, 0x00, 0x00, 0x01, 0x00, 0xFF, 0xD8, 0xFF, 0xD9}, 10,
		 {0x04, 0x0A, 0x05, 0x0A, 0x03, 0x02, 0x01, 0x01, 0x02, 0x01, 0x09, 0xFF, 0xD8, 0xFF, 0xD9, 0x8E, 0x1A, 0xF2,
		  0x1D, 0x00},
		 20},
		{"hello", MP_HELLO, 0, 0, {0x01, 0x21, 0x00, 0x00, 0x00, 0x03, '1', '.', '0', 0x02, 'b', '1'}, 12,
		 {0x02, 0x01, 0x02, 0x0C, 0x03, 0x01, 0x21, 0x01, 0x01, 0x0C, 0x03, '1', '.', '0', 0x02, 'b', '1', 0xB1,
		  0x2D, 0x14, 0xC1, 0x00},
		 22},
	};
	size_t i;
	for (i = 0; i < sizeof golden / sizeof golden[0]; i++) {
		uint8_t out[MP_MAX_WIRE_FRAME], raw[MP_MAX_RAW_FRAME];
		mp_frame f;
		int n = mp_frame_build(golden[i].type, golden[i].seq, golden[i].ack, golden[i].payload, golden[i].len, out,
		                       sizeof out);
		CHECK(t, n == (int)golden[i].wire_len && memcmp(out, golden[i].wire, golden[i].wire_len) == 0,
		      "golden frame %s: built %d bytes", golden[i].name, n);
		CHECK(t,
		      mp_frame_parse(golden[i].wire, golden[i].wire_len - 1, raw, &f) == MP_OK &&
		          f.type == golden[i].type && f.seq == golden[i].seq && f.ack_requested == golden[i].ack &&
		          f.len == golden[i].len && memcmp(f.payload, golden[i].payload, f.len) == 0 &&
		          mp_message_check(f.type, f.payload, f.len) == MP_OK,
		      "golden frame %s: parse", golden[i].name);
	}
}

void test_codec_golden(test_state *t)
{
	test_cobs_golden(t);
	test_crc_golden(t);
	test_frames_golden(t);
}

/* ---- vectors written by the Go encoder ---- */

/* unhex decodes hex ("-" is empty) into out of cap bytes; returns the
 * length or -1. */
static long unhex(const char *s, uint8_t *out, size_t cap)
{
	size_t n = 0;
	if (strcmp(s, "-") == 0) {
		return 0;
	}
	while (s[0] != '\0' && s[1] != '\0') {
		unsigned v;
		if (n == cap || sscanf(s, "%2x", &v) != 1) {
			return -1;
		}
		out[n++] = (uint8_t)v;
		s += 2;
	}
	return s[0] == '\0' ? (long)n : -1;
}

/* reencode decodes a valid payload and encodes it back into out. */
static int reencode(uint8_t type, const uint8_t *p, size_t n, uint8_t *out, size_t cap)
{
	union {
		mp_hello hello;
		mp_heartbeat heartbeat;
		mp_ack ack;
		mp_nack nack;
		mp_trigger trigger;
		mp_button button;
		mp_sensor sensor;
		mp_led led;
		mp_relay relay;
		mp_camera_chunk camera;
		mp_log log;
	} m;
	switch (type) {
	case MP_HELLO:
		return mp_hello_decode(p, n, &m.hello) == MP_OK ? mp_hello_encode(&m.hello, out, cap) : -100;
	case MP_HEARTBEAT:
		return mp_heartbeat_decode(p, n, &m.heartbeat) == MP_OK ? mp_heartbeat_encode(&m.heartbeat, out, cap) : -100;
	case MP_ACK:
		return mp_ack_decode(p, n, &m.ack) == MP_OK ? mp_ack_encode(&m.ack, out, cap) : -100;
	case MP_NACK:
		return mp_nack_decode(p, n, &m.nack) == MP_OK ? mp_nack_encode(&m.nack, out, cap) : -100;
	case MP_TRIGGER:
		return mp_trigger_decode(p, n, &m.trigger) == MP_OK ? mp_trigger_encode(&m.trigger, out, cap) : -100;
	case MP_BUTTON:
		return mp_button_decode(p, n, &m.button) == MP_OK ? mp_button_encode(&m.button, out, cap) : -100;
	case MP_SENSOR:
		return mp_sensor_decode(p, n, &m.sensor) == MP_OK ? mp_sensor_encode(&m.sensor, out, cap) : -100;
	case MP_LED:
		return mp_led_decode(p, n, &m.led) == MP_OK ? mp_led_encode(&m.led, out, cap) : -100;
	case MP_RELAY:
		return mp_relay_decode(p, n, &m.relay) == MP_OK ? mp_relay_encode(&m.relay, out, cap) : -100;
	case MP_CAMERA_FRAME:
		return mp_camera_decode(p, n, &m.camera) == MP_OK ? mp_camera_encode(&m.camera, out, cap) : -100;
	case MP_LOG:
		return mp_log_decode(p, n, &m.log) == MP_OK ? mp_log_encode(&m.log, out, cap) : -100;
	}
	return -100;
}

/* A stream made of every frame and bad frame of the file, checked at the
 * end through one decoder. */
typedef struct stream_check {
	mp_decoder dec;
	unsigned frames_want, cobs_want, length_want, crc_want, frames_got;
} stream_check;

static void stream_push(stream_check *s, const uint8_t *b, size_t n)
{
	size_t i;
	mp_frame f;
	for (i = 0; i < n; i++) {
		s->frames_got += (unsigned)mp_decoder_push(&s->dec, b[i], &f);
	}
}

static void check_frame(test_state *t, stream_check *s, const char *name, unsigned type, unsigned seq, unsigned ack,
                        const char *payload_hex, const char *wire_hex, const char *want)
{
	static uint8_t payload[MP_MAX_PAYLOAD + 1], wire[MP_MAX_WIRE_FRAME + 1], built[MP_MAX_WIRE_FRAME],
	    raw[MP_MAX_RAW_FRAME], again[MP_MAX_PAYLOAD];
	long plen = unhex(payload_hex, payload, sizeof payload);
	long wlen = unhex(wire_hex, wire, sizeof wire);
	int n, check, want_check;
	mp_frame f;
	CHECK(t, plen >= 0 && wlen > 0 && type <= 0x7F && seq <= 255 && ack <= 1, "vector %s: unreadable", name);
	if (plen < 0 || wlen <= 0) {
		return;
	}
	n = mp_frame_build((uint8_t)type, (uint8_t)seq, (int)ack, payload, (size_t)plen, built, sizeof built);
	CHECK(t, n == wlen && memcmp(built, wire, (size_t)n) == 0, "vector %s: built %d bytes differ from the Go encoder's %ld",
	      name, n, wlen);
	CHECK(t, mp_frame_parse(wire, (size_t)wlen - 1, raw, &f) == MP_OK && f.type == type && f.seq == seq &&
	             f.ack_requested == ack && f.len == plen && memcmp(f.payload, payload, (size_t)plen) == 0,
	      "vector %s: parse", name);
	want_check = strcmp(want, "valid") == 0 ? MP_OK : strcmp(want, "malformed") == 0 ? MP_ERR_MALFORMED : MP_ERR_UNKNOWN_TYPE;
	check = mp_message_check((uint8_t)type, payload, (size_t)plen);
	CHECK(t, check == want_check, "vector %s: message check %d, Go says %s", name, check, want);
	if (want_check == MP_OK) {
		n = reencode((uint8_t)type, payload, (size_t)plen, again, sizeof again);
		CHECK(t, n == plen && memcmp(again, payload, (size_t)plen) == 0, "vector %s: decode then encode gives %d bytes",
		      name, n);
	}
	stream_push(s, wire, (size_t)wlen);
	s->frames_want++;
}

static void check_bad(test_state *t, stream_check *s, const char *name, const char *wire_hex, const char *reason)
{
	static uint8_t wire[4 * MP_MAX_WIRE_FRAME];
	long wlen = unhex(wire_hex, wire, sizeof wire);
	mp_decoder d;
	mp_frame f;
	long i;
	int got = 0;
	CHECK(t, wlen > 0, "vector %s: unreadable", name);
	if (wlen <= 0) {
		return;
	}
	mp_decoder_init(&d);
	for (i = 0; i < wlen; i++) {
		got += mp_decoder_push(&d, wire[i], &f);
	}
	if (strcmp(reason, "cobs") == 0) {
		CHECK(t, d.stats.bad_cobs == 1, "vector %s: bad_cobs %lu", name, (unsigned long)d.stats.bad_cobs);
		s->cobs_want++;
	} else if (strcmp(reason, "length") == 0) {
		CHECK(t, d.stats.bad_length == 1, "vector %s: bad_length %lu", name, (unsigned long)d.stats.bad_length);
		s->length_want++;
	} else if (strcmp(reason, "crc") == 0) {
		CHECK(t, d.stats.bad_crc == 1, "vector %s: bad_crc %lu", name, (unsigned long)d.stats.bad_crc);
		s->crc_want++;
	} else {
		CHECK(t, 0, "vector %s: unknown reason %s", name, reason);
	}
	CHECK(t, got == 0, "vector %s: a bad frame was accepted", name);
	stream_push(s, wire, (size_t)wlen);
}

int test_codec_vectors(test_state *t, const char *path)
{
	static char line[16 * 1024];
	static stream_check s;
	FILE *fp = fopen(path, "r");
	unsigned vectors = 0;
	if (fp == NULL) {
		perror(path);
		return -1;
	}
	mp_decoder_init(&s.dec);
	while (fgets(line, sizeof line, fp) != NULL) {
		char kind[16], name[128], a[8192], b[8192], want[16];
		unsigned type, seq, ack;
		line[strcspn(line, "\n")] = '\0';
		if (line[0] == '#' || line[0] == '\0') {
			continue;
		}
		vectors++;
		if (sscanf(line, "%15s", kind) != 1) {
			CHECK(t, 0, "line %s", line);
		} else if (strcmp(kind, "crc") == 0 && sscanf(line, "crc %8191s %8191s", a, b) == 2) {
			static uint8_t data[4096];
			long n = unhex(a, data, sizeof data);
			unsigned long want_crc = strtoul(b, NULL, 16);
			CHECK(t, n >= 0 && mp_crc32(data, (size_t)n) == want_crc, "crc of %s", a);
		} else if (strcmp(kind, "cobs") == 0 && sscanf(line, "cobs %8191s %8191s", a, b) == 2) {
			static uint8_t dec[4096], enc[4096], back[4096];
			long dn = unhex(a, dec, sizeof dec), en = unhex(b, enc, sizeof enc);
			size_t out = 0, bn = 0;
			if (dn >= 0 && en > 0) {
				out = mp_cobs_encode(dec, (size_t)dn, back);
				CHECK(t, (long)out == en && memcmp(back, enc, out) == 0, "cobs encode of %s", a);
				CHECK(t, mp_cobs_decode(enc, (size_t)en, back, sizeof back, &bn) == MP_OK && (long)bn == dn &&
				             memcmp(back, dec, bn) == 0,
				      "cobs decode of %s", b);
			} else {
				CHECK(t, 0, "cobs vector %s", line);
			}
		} else if (strcmp(kind, "frame") == 0 &&
		           sscanf(line, "frame %127s %x %u %u %8191s %8191s %15s", name, &type, &seq, &ack, a, b, want) == 7) {
			check_frame(t, &s, name, type, seq, ack, a, b, want);
		} else if (strcmp(kind, "bad") == 0 && sscanf(line, "bad %127s %8191s %15s", name, a, want) == 3) {
			check_bad(t, &s, name, a, want);
		} else {
			CHECK(t, 0, "unreadable vector line: %.80s", line);
		}
	}
	fclose(fp);
	CHECK(t, vectors >= 50, "only %u vectors in %s", vectors, path);
	CHECK(t, s.frames_got == s.frames_want && s.dec.stats.bad_cobs == s.cobs_want &&
	             s.dec.stats.bad_length == s.length_want && s.dec.stats.bad_crc == s.crc_want,
	      "one stream of every vector: %u frames (want %u), bad cobs %lu/%u, length %lu/%u, crc %lu/%u", s.frames_got,
	      s.frames_want, (unsigned long)s.dec.stats.bad_cobs, s.cobs_want, (unsigned long)s.dec.stats.bad_length,
	      s.length_want, (unsigned long)s.dec.stats.bad_crc, s.crc_want);
	printf("vectors: %u from %s\n", vectors, path);
	return 0;
}

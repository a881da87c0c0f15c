/* mp_frame.c - building and parsing one frame. */
#include "mp_protocol.h"

#include <string.h>

static void put_u16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v & 0xFFu);
	p[1] = (uint8_t)(v >> 8);
}

static void put_u32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v & 0xFFu);
	p[1] = (uint8_t)((v >> 8) & 0xFFu);
	p[2] = (uint8_t)((v >> 16) & 0xFFu);
	p[3] = (uint8_t)(v >> 24);
}

static uint16_t get_u16(const uint8_t *p)
{
	return (uint16_t)(p[0] | (p[1] << 8));
}

static uint32_t get_u32(const uint8_t *p)
{
	return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

int mp_frame_build(uint8_t type, uint8_t seq, int ack_requested, const uint8_t *payload, size_t len, uint8_t *out,
                   size_t cap)
{
	/* The raw frame is encoded in place at the end of out: COBS never
	 * grows data by more than one byte per 254, so the encoder's output
	 * never overtakes the input it still has to read. */
	size_t raw_len = MP_HEADER_SIZE + len + MP_CRC_SIZE;
	size_t enc_max = raw_len + raw_len / 254u + 1u;
	uint8_t *raw;
	size_t n;
	if (type > 0x7Fu) {
		return MP_ERR_MALFORMED;
	}
	if (len > MP_MAX_PAYLOAD) {
		return MP_ERR_TOO_LARGE;
	}
	if (cap < enc_max + 1u) {
		return MP_ERR_BUFFER;
	}
	raw = out + (enc_max - raw_len);
	raw[0] = (uint8_t)(type | (ack_requested ? MP_ACK_FLAG : 0u));
	raw[1] = seq;
	put_u16(raw + 2, (uint16_t)len);
	if (len > 0) {
		memmove(raw + MP_HEADER_SIZE, payload, len);
	}
	put_u32(raw + MP_HEADER_SIZE + len, mp_crc32(raw, MP_HEADER_SIZE + len));
	n = mp_cobs_encode(raw, raw_len, out);
	out[n] = MP_DELIMITER;
	return (int)(n + 1u);
}

int mp_frame_parse(const uint8_t *enc, size_t len, uint8_t *raw, mp_frame *f)
{
	size_t n = 0;
	size_t want;
	int err;
	if (len > MP_MAX_ENCODED_FRAME) {
		return MP_ERR_TOO_LARGE;
	}
	err = mp_cobs_decode(enc, len, raw, MP_MAX_RAW_FRAME, &n);
	if (err == MP_ERR_BUFFER) {
		return MP_ERR_LENGTH;
	}
	if (err != MP_OK) {
		return err;
	}
	if (n < MP_HEADER_SIZE + MP_CRC_SIZE) {
		return MP_ERR_LENGTH;
	}
	want = get_u16(raw + 2);
	if (want > MP_MAX_PAYLOAD) {
		return MP_ERR_TOO_LARGE;
	}
	if (n - MP_HEADER_SIZE - MP_CRC_SIZE != want) {
		return MP_ERR_LENGTH;
	}
	f->crc = get_u32(raw + MP_HEADER_SIZE + want);
	if (mp_crc32(raw, MP_HEADER_SIZE + want) != f->crc) {
		return MP_ERR_CRC;
	}
	f->type = (uint8_t)(raw[0] & 0x7Fu);
	f->ack_requested = (uint8_t)((raw[0] & MP_ACK_FLAG) != 0);
	f->seq = raw[1];
	f->len = (uint16_t)want;
	f->payload = raw + MP_HEADER_SIZE;
	return MP_OK;
}

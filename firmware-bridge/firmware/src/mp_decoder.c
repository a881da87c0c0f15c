/* mp_decoder.c - the streaming frame decoder: one byte at a time, so that a
 * UART interrupt or a polling loop can feed it directly. */
#include "mp_protocol.h"

void mp_decoder_init(mp_decoder *d)
{
	d->n = 0;
	d->overflow = 0;
	d->stats.bytes = 0;
	d->stats.frames = 0;
	d->stats.bad_cobs = 0;
	d->stats.bad_length = 0;
	d->stats.bad_crc = 0;
}

/* finish checks the frame a delimiter just ended. */
static int finish(mp_decoder *d, mp_frame *f)
{
	size_t n = d->n;
	uint8_t overflow = d->overflow;
	int err;
	d->n = 0;
	d->overflow = 0;
	if (overflow) {
		d->stats.bad_length++;
		return 0;
	}
	if (n == 0) {
		return 0; /* idle line */
	}
	err = mp_frame_parse(d->enc, n, d->raw, f);
	switch (err) {
	case MP_OK:
		d->stats.frames++;
		return 1;
	case MP_ERR_COBS:
		d->stats.bad_cobs++;
		return 0;
	case MP_ERR_CRC:
		d->stats.bad_crc++;
		return 0;
	default:
		d->stats.bad_length++;
		return 0;
	}
}

int mp_decoder_push(mp_decoder *d, uint8_t byte, mp_frame *f)
{
	d->stats.bytes++;
	if (byte == MP_DELIMITER) {
		return finish(d, f);
	}
	if (d->overflow) {
		return 0;
	}
	if (d->n >= MP_MAX_ENCODED_FRAME) {
		d->overflow = 1; /* skip to the next delimiter */
		d->n = 0;
		return 0;
	}
	d->enc[d->n++] = byte;
	return 0;
}

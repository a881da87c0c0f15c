/* mp_dedup.c - the last requests accepted, by sequence number and CRC, so
 * that a retransmission (our ACK was lost) is re-ACKed without acting twice.
 * Same rule as the Go side's protocol.Dedup. */
#include "mp_protocol.h"

void mp_dedup_init(mp_dedup *d, uint32_t window_ms)
{
	d->window_ms = window_ms ? window_ms : MP_DEDUP_WINDOW_MS;
	mp_dedup_reset(d);
}

int mp_dedup_seen(const mp_dedup *d, uint8_t seq, uint32_t crc, uint32_t now_ms)
{
	unsigned i;
	for (i = 0; i < MP_DEDUP_SLOTS; i++) {
		const mp_dedup_entry *e = &d->entries[i];
		/* Unsigned subtraction copes with millis() wrapping. */
		if (e->used && e->seq == seq && e->crc == crc && (uint32_t)(now_ms - e->at_ms) <= d->window_ms) {
			return 1;
		}
	}
	return 0;
}

void mp_dedup_remember(mp_dedup *d, uint8_t seq, uint32_t crc, uint32_t now_ms)
{
	mp_dedup_entry *e = &d->entries[d->next];
	e->seq = seq;
	e->crc = crc;
	e->at_ms = now_ms;
	e->used = 1;
	d->next = (uint8_t)((d->next + 1u) % MP_DEDUP_SLOTS);
}

void mp_dedup_reset(mp_dedup *d)
{
	unsigned i;
	for (i = 0; i < MP_DEDUP_SLOTS; i++) {
		d->entries[i].used = 0;
	}
	d->next = 0;
}

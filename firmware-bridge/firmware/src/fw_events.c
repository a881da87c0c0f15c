/* fw_events.c - TRIGGER and BUTTON events, sent as requests and resent
 * after each ACK timeout until the host ACKs them (NACK busy waits for the
 * next timeout too), as many times as configured. A retransmission repeats
 * the frame byte for byte (same seq), so the host recognises it. */
#include "fw.h"

#include <string.h>

int fw_request(fw *f, uint8_t type, const uint8_t *payload, uint8_t len)
{
	unsigned i;
	for (i = 0; i < FW_MAX_PENDING; i++) {
		fw_pending *p = &f->pending[i];
		if (p->used) {
			continue;
		}
		p->used = 1;
		p->type = type;
		p->len = len;
		memcpy(p->payload, payload, len);
		p->attempts = 1;
		p->sent_ms = f->hal.millis(f->hal.ctx);
		p->seq = fw_send(f, type, 1, p->payload, p->len);
		return 0;
	}
	f->stats.events_dropped++;
	return -1;
}

void fw_requests_poll(fw *f, uint32_t now)
{
	unsigned i;
	for (i = 0; i < FW_MAX_PENDING; i++) {
		fw_pending *p = &f->pending[i];
		if (!p->used || (uint32_t)(now - p->sent_ms) < f->cfg.ack_timeout_ms) {
			continue;
		}
		if (p->attempts > f->cfg.retries) {
			p->used = 0;
			f->stats.events_failed++;
			continue;
		}
		p->attempts++;
		p->sent_ms = now;
		f->stats.retries++;
		fw_send_seq(f, p->type, p->seq, 1, p->payload, p->len);
	}
}

void fw_requests_answer(fw *f, uint8_t seq, int acked, uint8_t reason)
{
	unsigned i;
	for (i = 0; i < FW_MAX_PENDING; i++) {
		fw_pending *p = &f->pending[i];
		if (!p->used || p->seq != seq) {
			continue;
		}
		if (acked) {
			p->used = 0;
			f->stats.events++;
		} else if (reason != MP_REASON_BUSY) {
			p->used = 0;
			f->stats.events_failed++;
		}
		return;
	}
}

void fw_requests_reset(fw *f)
{
	memset(f->pending, 0, sizeof f->pending);
}

int fw_trigger(fw *f, uint8_t source)
{
	uint8_t p[5];
	mp_trigger m;
	m.source = source;
	m.board_ms = fw_uptime(f);
	(void)mp_trigger_encode(&m, p, sizeof p);
	return fw_request(f, MP_TRIGGER, p, sizeof p);
}

void fw_trigger_from_isr(fw *f, uint8_t source)
{
	if (source < FW_MAX_TRIGGERS) {
		f->trigger_flag[source] = 1;
	}
}

int fw_button_press(fw *f, uint8_t id, uint8_t press)
{
	uint8_t p[2];
	mp_button m;
	m.id = id;
	m.press = press;
	if (mp_button_encode(&m, p, sizeof p) < 0) {
		return -1;
	}
	return fw_request(f, MP_BUTTON, p, sizeof p);
}

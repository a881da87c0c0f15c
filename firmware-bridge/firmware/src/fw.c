/* fw.c - boot, the main loop and what the host sends. */
#include "fw.h"

#include <string.h>

/* Bytes handled per fw_poll, so that a flood of input cannot starve the
 * timers. */
#define FW_RX_BUDGET 512u

static void set_defaults(fw_config *c)
{
	if (c->firmware_version == NULL) {
		c->firmware_version = "ref-c-1.0.0";
	}
	if (c->heartbeat_ms == 0) {
		c->heartbeat_ms = 1000;
	}
	if (c->ack_timeout_ms == 0) {
		c->ack_timeout_ms = 250;
	}
	if (c->retries == 0) {
		c->retries = 3;
	}
	if (c->chunk_size == 0) {
		c->chunk_size = MP_MAX_CHUNK_DATA;
	}
	if (c->chunks_per_poll == 0) {
		c->chunks_per_poll = 1;
	}
	if (c->debounce_ms == 0) {
		c->debounce_ms = 20;
	}
	if (c->long_press_ms == 0) {
		c->long_press_ms = 800;
	}
	if (c->double_press_ms == 0) {
		c->double_press_ms = 300;
	}
	if (c->capabilities == 0) {
		c->capabilities = MP_CAP_TRIGGER | MP_CAP_SENSOR | MP_CAP_LOG;
		if (c->leds) {
			c->capabilities |= MP_CAP_LED;
		}
		if (c->relays) {
			c->capabilities |= MP_CAP_RELAY;
		}
		if (c->buttons) {
			c->capabilities |= MP_CAP_BUTTON;
		}
		if (c->has_camera) {
			c->capabilities |= MP_CAP_CAMERA;
		}
	}
}

/* hello fills the board's HELLO. */
static void hello(const fw *f, mp_hello *h)
{
	size_t fwl = strlen(f->cfg.firmware_version), idl = strlen(f->cfg.device_id);
	h->protocol = MP_PROTOCOL_VERSION;
	h->capabilities = f->cfg.capabilities;
	h->firmware = f->cfg.firmware_version;
	h->firmware_len = (uint8_t)fwl;
	h->device_id = f->cfg.device_id;
	h->device_id_len = (uint8_t)idl;
}

static void send_hello(fw *f)
{
	mp_hello h;
	int n;
	hello(f, &h);
	n = mp_hello_encode(&h, f->payload, sizeof f->payload);
	if (n > 0) {
		fw_send(f, MP_HELLO, 0, f->payload, (size_t)n);
	}
}

int fw_init(fw *f, const fw_config *cfg, const fw_hal *hal)
{
	mp_hello h;
	uint8_t buf[7 + 255 + 255];
	memset(f, 0, sizeof *f);
	f->cfg = *cfg;
	f->hal = *hal;
	set_defaults(&f->cfg);
	if (f->cfg.device_id == NULL || strlen(f->cfg.device_id) > 255 || strlen(f->cfg.firmware_version) > 255 ||
	    f->cfg.leds > FW_MAX_LEDS || f->cfg.relays > FW_MAX_RELAYS || f->cfg.buttons > FW_MAX_BUTTONS ||
	    f->cfg.chunk_size > MP_MAX_CHUNK_DATA || hal->uart_write == NULL || hal->uart_read_byte == NULL ||
	    hal->millis == NULL) {
		return -1;
	}
	hello(f, &h);
	if (mp_hello_encode(&h, buf, sizeof buf) < 0) {
		return -1;
	}
	fw_reboot(f);
	return 0;
}

void fw_reboot(fw *f)
{
	static const uint8_t delimiter = MP_DELIMITER;
	uint16_t i;
	mp_decoder_init(&f->dec);
	mp_dedup_init(&f->dedup, MP_DEDUP_WINDOW_MS);
	f->seq = 0;
	f->boot_ms = f->hal.millis(f->hal.ctx);
	f->heartbeat_ms = f->boot_ms;
	fw_requests_reset(f);
	fw_outputs_reset(f);
	memset(f->buttons, 0, sizeof f->buttons);
	for (i = 0; i < FW_MAX_BUTTONS; i++) {
		f->buttons[i].changed_ms = f->boot_ms - f->cfg.debounce_ms; /* settled */
	}
	for (i = 0; i < FW_MAX_TRIGGERS; i++) {
		f->trigger_flag[i] = 0;
	}
	memset(&f->cam, 0, sizeof f->cam);
	f->hal.uart_write(f->hal.ctx, &delimiter, 1);
	send_hello(f);
}

uint32_t fw_uptime(const fw *f)
{
	return f->hal.millis(f->hal.ctx) - f->boot_ms;
}

void fw_send_seq(fw *f, uint8_t type, uint8_t seq, int ack_requested, const uint8_t *payload, size_t len)
{
	int n = mp_frame_build(type, seq, ack_requested, payload, len, f->tx, sizeof f->tx);
	if (n > 0) {
		f->hal.uart_write(f->hal.ctx, f->tx, (size_t)n);
		f->stats.frames_out++;
	}
}

uint8_t fw_send(fw *f, uint8_t type, int ack_requested, const uint8_t *payload, size_t len)
{
	uint8_t seq = f->seq++;
	fw_send_seq(f, type, seq, ack_requested, payload, len);
	return seq;
}

/* answer ACKs or NACKs the host's frame seq. */
static void answer(fw *f, uint8_t seq, int ok, uint8_t reason)
{
	uint8_t p[2];
	p[0] = seq;
	p[1] = reason;
	if (ok) {
		fw_send(f, MP_ACK, 0, p, 1);
		return;
	}
	f->stats.nacks_out++;
	fw_send(f, MP_NACK, 0, p, 2);
}

/* apply carries out one message from the host: 1 if accepted, else 0 and
 * the NACK reason. */
static int apply(fw *f, const mp_frame *fr, uint32_t now, uint8_t *reason)
{
	mp_heartbeat hb;
	mp_led led;
	mp_relay relay;
	int check = mp_message_check(fr->type, fr->payload, fr->len);
	if (check == MP_ERR_UNKNOWN_TYPE) {
		*reason = MP_REASON_UNKNOWN_TYPE;
		return 0;
	}
	if (check != MP_OK) {
		*reason = MP_REASON_MALFORMED;
		return 0;
	}
	switch (fr->type) {
	case MP_HELLO:
		f->stats.hellos_in++;
		return 1;
	case MP_HEARTBEAT:
		(void)mp_heartbeat_decode(fr->payload, fr->len, &hb);
		f->stats.heartbeats_in++;
		return 1;
	case MP_LED:
		(void)mp_led_decode(fr->payload, fr->len, &led);
		if (!fw_apply_led(f, &led, now)) {
			*reason = MP_REASON_INVALID;
			return 0;
		}
		f->stats.commands++;
		return 1;
	case MP_RELAY:
		(void)mp_relay_decode(fr->payload, fr->len, &relay);
		if (!fw_apply_relay(f, &relay, now)) {
			*reason = MP_REASON_INVALID;
			return 0;
		}
		f->stats.commands++;
		return 1;
	default: /* board-to-host messages */
		*reason = MP_REASON_UNSUPPORTED;
		return 0;
	}
}

/* handle routes one intact frame. */
static void handle(fw *f, const mp_frame *fr, uint32_t now)
{
	uint8_t reason = MP_REASON_UNSPECIFIED;
	int ok;
	f->stats.frames_in++;
	if (fr->type == MP_ACK || fr->type == MP_NACK) {
		mp_nack nack;
		mp_ack ack;
		if (fr->type == MP_ACK && mp_ack_decode(fr->payload, fr->len, &ack) == MP_OK) {
			fw_requests_answer(f, ack.seq, 1, 0);
		} else if (fr->type == MP_NACK && mp_nack_decode(fr->payload, fr->len, &nack) == MP_OK) {
			fw_requests_answer(f, nack.seq, 0, nack.reason);
		}
		return; /* answers are never answered */
	}
	if (fr->type == MP_HELLO && mp_message_check(MP_HELLO, fr->payload, fr->len) == MP_OK) {
		mp_dedup_reset(&f->dedup); /* the host restarted its sequence */
	}
	if (fr->ack_requested && mp_dedup_seen(&f->dedup, fr->seq, fr->crc, now)) {
		f->stats.duplicates++;
		answer(f, fr->seq, 1, 0);
		return;
	}
	ok = apply(f, fr, now, &reason);
	if (fr->ack_requested) {
		if (ok) {
			mp_dedup_remember(&f->dedup, fr->seq, fr->crc, now);
		}
		answer(f, fr->seq, ok, reason);
	}
	if (ok && fr->type == MP_HELLO) {
		send_hello(f);
	}
}

void fw_poll(fw *f)
{
	uint32_t now = f->hal.millis(f->hal.ctx);
	unsigned budget = FW_RX_BUDGET;
	uint8_t b;
	mp_frame fr;
	uint8_t i;
	while (budget-- > 0 && f->hal.uart_read_byte(f->hal.ctx, &b)) {
		if (mp_decoder_push(&f->dec, b, &fr)) {
			handle(f, &fr, now);
		}
	}
	for (i = 0; i < FW_MAX_TRIGGERS; i++) {
		if (f->trigger_flag[i]) {
			f->trigger_flag[i] = 0;
			(void)fw_trigger(f, i);
		}
	}
	if ((uint32_t)(now - f->heartbeat_ms) >= f->cfg.heartbeat_ms) {
		uint8_t p[4];
		mp_heartbeat hb;
		f->heartbeat_ms = now;
		hb.uptime_ms = now - f->boot_ms;
		(void)mp_heartbeat_encode(&hb, p, sizeof p);
		fw_send(f, MP_HEARTBEAT, 0, p, sizeof p);
	}
	fw_requests_poll(f, now);
	fw_buttons_poll(f, now);
	fw_outputs_poll(f, now);
	fw_camera_poll(f);
}

int fw_sensor(fw *f, uint8_t id, float value)
{
	uint8_t p[5];
	mp_sensor m;
	m.id = id;
	m.value = value;
	if (mp_sensor_encode(&m, p, sizeof p) < 0) {
		return -1;
	}
	fw_send(f, MP_SENSOR, 0, p, sizeof p);
	return 0;
}

int fw_log(fw *f, uint8_t level, const char *text)
{
	mp_log m;
	int n;
	size_t len = strlen(text);
	m.level = level;
	m.text = text;
	m.len = (uint16_t)(len > MP_MAX_LOG_TEXT ? MP_MAX_LOG_TEXT : len);
	n = mp_log_encode(&m, f->payload, sizeof f->payload);
	if (n < 0) {
		return -1;
	}
	fw_send(f, MP_LOG, 0, f->payload, (size_t)n);
	return 0;
}

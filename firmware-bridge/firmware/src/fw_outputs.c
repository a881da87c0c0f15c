/* fw_outputs.c - LED commands (blink patterns run here, so a port only
 * writes PWM levels) and relay commands with pulses. */
#include "fw.h"

#include <string.h>

static void led_write(fw *f, uint8_t id, uint8_t level)
{
	fw_led *l = &f->leds[id];
	if (l->level == level) {
		return;
	}
	l->level = level;
	if (f->hal.led_write != NULL) {
		f->hal.led_write(f->hal.ctx, id, level);
	}
}

int fw_apply_led(fw *f, const mp_led *m, uint32_t now)
{
	fw_led *l;
	if (m->id >= f->cfg.leds) {
		return 0;
	}
	l = &f->leds[m->id];
	l->cmd = *m;
	l->phase_ms = now;
	led_write(f, m->id, m->mode == MP_LED_OFF ? 0 : m->brightness);
	return 1;
}

int fw_apply_relay(fw *f, const mp_relay *m, uint32_t now)
{
	fw_relay *r;
	if (m->id >= f->cfg.relays) {
		return 0;
	}
	r = &f->relays[m->id];
	r->on = m->on;
	r->pulsing = m->pulse_ms > 0;
	r->until_ms = now + m->pulse_ms;
	if (f->hal.relay_write != NULL) {
		f->hal.relay_write(f->hal.ctx, m->id, m->on);
	}
	return 1;
}

void fw_outputs_poll(fw *f, uint32_t now)
{
	uint8_t i;
	for (i = 0; i < f->cfg.leds; i++) {
		fw_led *l = &f->leds[i];
		uint32_t period, t;
		if (l->cmd.mode != MP_LED_BLINK) {
			continue;
		}
		period = (uint32_t)l->cmd.on_ms + l->cmd.off_ms;
		t = (uint32_t)(now - l->phase_ms) % period;
		led_write(f, i, t < l->cmd.on_ms ? l->cmd.brightness : 0);
	}
	for (i = 0; i < f->cfg.relays; i++) {
		fw_relay *r = &f->relays[i];
		if (r->pulsing && (int32_t)(now - r->until_ms) >= 0) {
			r->pulsing = 0;
			r->on = (uint8_t)!r->on;
			if (f->hal.relay_write != NULL) {
				f->hal.relay_write(f->hal.ctx, i, r->on);
			}
		}
	}
}

void fw_outputs_reset(fw *f)
{
	uint8_t i;
	for (i = 0; i < f->cfg.leds; i++) {
		memset(&f->leds[i].cmd, 0, sizeof f->leds[i].cmd);
		f->leds[i].cmd.id = i;
		f->leds[i].level = 1; /* forces the write below */
		led_write(f, i, 0);
	}
	for (i = 0; i < f->cfg.relays; i++) {
		f->relays[i].on = 0;
		f->relays[i].pulsing = 0;
		if (f->hal.relay_write != NULL) {
			f->hal.relay_write(f->hal.ctx, i, 0);
		}
	}
}

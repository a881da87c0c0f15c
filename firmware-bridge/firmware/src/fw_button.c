/* fw_button.c - debounces a button's raw level and classifies presses:
 * held for long_press_ms is LONG (sent while still held); released sooner
 * is SHORT, unless a second press starts within double_press_ms of the
 * release, which makes the pair DOUBLE. */
#include "fw.h"

void fw_button_level(fw *f, uint8_t id, int pressed)
{
	uint32_t now;
	fw_button *b;
	uint8_t level = pressed ? 1u : 0u;
	if (id >= f->cfg.buttons) {
		return;
	}
	b = &f->buttons[id];
	now = f->hal.millis(f->hal.ctx);
	if (level == b->level || (uint32_t)(now - b->changed_ms) < f->cfg.debounce_ms) {
		return;
	}
	b->level = level;
	b->changed_ms = now;
	if (level) {
		/* A second press while short_armed is decided at its release
		 * (double) or when it turns long (short, then long). */
		b->pressed_ms = now;
		b->long_sent = 0;
		return;
	}
	/* released */
	if (b->long_sent) {
		return;
	}
	if (b->short_armed) {
		b->short_armed = 0;
		(void)fw_button_press(f, id, MP_PRESS_DOUBLE);
		return;
	}
	b->short_armed = 1;
	b->released_ms = now;
}

void fw_buttons_poll(fw *f, uint32_t now)
{
	uint8_t id;
	for (id = 0; id < f->cfg.buttons; id++) {
		fw_button *b = &f->buttons[id];
		if (b->level && !b->long_sent && (uint32_t)(now - b->pressed_ms) >= f->cfg.long_press_ms) {
			if (b->short_armed) { /* a short press, then a long one */
				b->short_armed = 0;
				(void)fw_button_press(f, id, MP_PRESS_SHORT);
			}
			b->long_sent = 1;
			(void)fw_button_press(f, id, MP_PRESS_LONG);
			continue;
		}
		if (!b->level && b->short_armed && (uint32_t)(now - b->released_ms) > f->cfg.double_press_ms) {
			b->short_armed = 0;
			(void)fw_button_press(f, id, MP_PRESS_SHORT);
		}
	}
}

/*
 * fw_hal.h - what the firmware needs from the board, and what the board's
 * code calls in the firmware.
 *
 * The port fills a struct fw_hal with its functions (all called from the
 * main loop, never from an interrupt):
 *
 *   uart_write      send bytes; may block until they are in the UART's FIFO
 *                   or DMA buffer, but never fails silently in the middle of
 *                   a frame (a frame cut short is dropped by the host, which
 *                   is harmless; bytes reordered are not)
 *   uart_read_byte  return 1 and store a received byte, or 0 when none waits
 *                   (read from the UART's receive ring buffer)
 *   millis          milliseconds since boot, wrapping at 2^32
 *   led_write       drive LED id at a PWM level 0-255 (0 is off); the
 *                   firmware runs blink patterns itself
 *   relay_write     switch relay id on or off
 *
 * GPIO callbacks, the other direction (declared in fw.h):
 *
 *   fw_trigger_from_isr(f, source)   a trigger input fired; safe in an ISR
 *   fw_trigger(f, source)            the same from the main loop
 *   fw_button_level(f, id, pressed)  a button's raw level, sampled or on
 *                                    change; debounced and classified into
 *                                    short, long and double presses
 *   fw_button_press(f, id, kind)     a press already classified
 */
#ifndef FW_HAL_H
#define FW_HAL_H

#include <stddef.h>
#include <stdint.h>

typedef struct fw_hal {
	void *ctx; /* passed to every function */
	void (*uart_write)(void *ctx, const uint8_t *p, size_t n);
	int (*uart_read_byte)(void *ctx, uint8_t *b);
	uint32_t (*millis)(void *ctx);
	void (*led_write)(void *ctx, uint8_t id, uint8_t level);
	void (*relay_write)(void *ctx, uint8_t id, int on);
} fw_hal;

#endif /* FW_HAL_H */

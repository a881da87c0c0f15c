/*
 * ports/pico/main.c - the reference firmware on a Raspberry Pi Pico
 * (RP2040, Pico SDK 1.5 or later). Not built by the Go tests (they build
 * the Linux port); build with the Pico SDK:
 *
 *   export PICO_SDK_PATH=/path/to/pico-sdk
 *   cmake -S . -B build && cmake --build build   # -> build/mocoedge_board.uf2
 *
 * Wiring (3.3 V logic):
 *   GP0  UART0 TX -> host RX (a USB-serial adapter at 921600 8N1)
 *   GP1  UART0 RX <- host TX
 *   GP2  PIR sensor output (trigger input 0, rising edge)
 *   GP3  button 0 to GND (internal pull-up)
 *   GP4  button 1 to GND (internal pull-up)
 *   GP25 on-board LED (LED 0, PWM)
 *   GP15 LED 1 through a resistor (PWM)
 *   GP16 relay driver input (relay 0, active high)
 * The device id is the flash chip's unique id, so boxes tell themselves
 * apart without configuration.
 */
#include <stdint.h>

#include "hardware/gpio.h"
#include "hardware/irq.h"
#include "hardware/pwm.h"
#include "hardware/uart.h"
#include "pico/stdlib.h"
#include "pico/unique_id.h"

#include "fw.h"

#define UART_ID uart0
#define UART_IRQ UART0_IRQ
#define UART_BAUD 921600
#define PIN_TX 0
#define PIN_RX 1
#define PIN_PIR 2
#define PIN_BUTTON0 3
#define PIN_BUTTON1 4
#define PIN_LED0 25
#define PIN_LED1 15
#define PIN_RELAY0 16

/* The receive ring buffer, filled by the UART interrupt (the hardware FIFO
 * holds 32 bytes: 0.35 ms at 921600 baud) and drained by the main loop. */
#define RX_RING 2048u
typedef struct rx_ring {
	uint8_t buf[RX_RING];
	volatile uint32_t head; /* written by the interrupt */
	volatile uint32_t tail; /* written by the main loop */
	volatile uint32_t overruns;
} rx_ring;

static rx_ring rx;
static fw board;

static void on_uart_rx(void)
{
	while (uart_is_readable(UART_ID)) {
		uint8_t c = (uint8_t)uart_getc(UART_ID);
		uint32_t next = (rx.head + 1u) % RX_RING;
		if (next == rx.tail) {
			rx.overruns++; /* the decoder resynchronises at the next 0x00 */
			continue;
		}
		rx.buf[rx.head] = c;
		rx.head = next;
	}
}

static void on_gpio(uint gpio, uint32_t events)
{
	if (gpio == PIN_PIR && (events & GPIO_IRQ_EDGE_RISE)) {
		fw_trigger_from_isr(&board, 0);
	}
}

/* ---- the HAL ---- */

static void hal_uart_write(void *ctx, const uint8_t *p, size_t n)
{
	(void)ctx;
	uart_write_blocking(UART_ID, p, n);
}

static int hal_uart_read_byte(void *ctx, uint8_t *b)
{
	(void)ctx;
	if (rx.tail == rx.head) {
		return 0;
	}
	*b = rx.buf[rx.tail];
	rx.tail = (rx.tail + 1u) % RX_RING;
	return 1;
}

static uint32_t hal_millis(void *ctx)
{
	(void)ctx;
	return to_ms_since_boot(get_absolute_time());
}

static const uint led_pins[] = {PIN_LED0, PIN_LED1};

static void hal_led_write(void *ctx, uint8_t id, uint8_t level)
{
	(void)ctx;
	if (id < sizeof led_pins / sizeof led_pins[0]) {
		/* Square the level for a perceptually even ramp (wrap 65025). */
		pwm_set_gpio_level(led_pins[id], (uint16_t)(level * level));
	}
}

static void hal_relay_write(void *ctx, uint8_t id, int on)
{
	(void)ctx;
	if (id == 0) {
		gpio_put(PIN_RELAY0, on != 0);
	}
}

/* ---- set-up ---- */

static void setup_uart(void)
{
	uart_init(UART_ID, UART_BAUD);
	gpio_set_function(PIN_TX, GPIO_FUNC_UART);
	gpio_set_function(PIN_RX, GPIO_FUNC_UART);
	uart_set_format(UART_ID, 8, 1, UART_PARITY_NONE);
	uart_set_hw_flow(UART_ID, false, false);
	uart_set_fifo_enabled(UART_ID, true);
	irq_set_exclusive_handler(UART_IRQ, on_uart_rx);
	irq_set_enabled(UART_IRQ, true);
	uart_set_irq_enables(UART_ID, true, false);
}

static void setup_gpio(void)
{
	unsigned i;
	gpio_init(PIN_PIR);
	gpio_set_dir(PIN_PIR, GPIO_IN);
	gpio_pull_down(PIN_PIR);
	gpio_set_irq_enabled_with_callback(PIN_PIR, GPIO_IRQ_EDGE_RISE, true, &on_gpio);

	gpio_init(PIN_BUTTON0);
	gpio_set_dir(PIN_BUTTON0, GPIO_IN);
	gpio_pull_up(PIN_BUTTON0);
	gpio_init(PIN_BUTTON1);
	gpio_set_dir(PIN_BUTTON1, GPIO_IN);
	gpio_pull_up(PIN_BUTTON1);

	for (i = 0; i < sizeof led_pins / sizeof led_pins[0]; i++) {
		uint slice = pwm_gpio_to_slice_num(led_pins[i]);
		gpio_set_function(led_pins[i], GPIO_FUNC_PWM);
		pwm_set_wrap(slice, 65025);
		pwm_set_gpio_level(led_pins[i], 0);
		pwm_set_enabled(slice, true);
	}

	gpio_init(PIN_RELAY0);
	gpio_set_dir(PIN_RELAY0, GPIO_OUT);
	gpio_put(PIN_RELAY0, 0);
}

int main(void)
{
	static char device_id[2 * PICO_UNIQUE_BOARD_ID_SIZE_BYTES + 1];
	fw_config cfg = {0};
	fw_hal hal = {0};

	setup_gpio();
	setup_uart();
	pico_get_unique_board_id_string(device_id, sizeof device_id);

	cfg.firmware_version = "ref-c-1.0.0-pico";
	cfg.device_id = device_id;
	cfg.leds = 2;
	cfg.relays = 1;
	cfg.buttons = 2;
	hal.uart_write = hal_uart_write;
	hal.uart_read_byte = hal_uart_read_byte;
	hal.millis = hal_millis;
	hal.led_write = hal_led_write;
	hal.relay_write = hal_relay_write;
	if (fw_init(&board, &cfg, &hal) != 0) {
		for (;;) { /* a configuration error: blink the on-board LED fast */
			gpio_set_function(PIN_LED0, GPIO_FUNC_SIO);
			gpio_set_dir(PIN_LED0, GPIO_OUT);
			gpio_put(PIN_LED0, (to_ms_since_boot(get_absolute_time()) / 100u) & 1u);
		}
	}
	for (;;) {
		/* Buttons are active low; the firmware debounces and classifies. */
		fw_button_level(&board, 0, !gpio_get(PIN_BUTTON0));
		fw_button_level(&board, 1, !gpio_get(PIN_BUTTON1));
		fw_poll(&board);
	}
}

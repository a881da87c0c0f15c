/* test_fw.c - the firmware state machine on a fake HAL: a clock the test
 * moves, the UART as two buffers, LEDs and relays as arrays. */
#include <string.h>

#include "../src/fw.h"
#include "test.h"

typedef struct fake {
	uint32_t now;
	uint8_t out[1u << 17];
	size_t out_len, out_read;
	uint8_t in[8192];
	size_t in_len, in_pos;
	uint8_t led[FW_MAX_LEDS];
	unsigned led_writes;
	int relay[FW_MAX_RELAYS];
	unsigned relay_writes;
	mp_decoder host; /* decodes what the board sent */
	uint8_t host_seq;
} fake;

static void f_write(void *ctx, const uint8_t *p, size_t n)
{
	fake *k = ctx;
	if (k->out_len + n <= sizeof k->out) {
		memcpy(k->out + k->out_len, p, n);
		k->out_len += n;
	}
}

static int f_read(void *ctx, uint8_t *b)
{
	fake *k = ctx;
	if (k->in_pos == k->in_len) {
		k->in_pos = k->in_len = 0;
		return 0;
	}
	*b = k->in[k->in_pos++];
	return 1;
}

static uint32_t f_millis(void *ctx)
{
	return ((fake *)ctx)->now;
}

static void f_led(void *ctx, uint8_t id, uint8_t level)
{
	fake *k = ctx;
	k->led[id] = level;
	k->led_writes++;
}

static void f_relay(void *ctx, uint8_t id, int on)
{
	fake *k = ctx;
	k->relay[id] = on;
	k->relay_writes++;
}

static fake k;
static fw board;

static int boot(const fw_config *overrides, uint32_t start)
{
	fw_config cfg;
	fw_hal hal;
	memset(&k, 0, sizeof k);
	k.now = start;
	mp_decoder_init(&k.host);
	if (overrides != NULL) {
		cfg = *overrides;
	} else {
		memset(&cfg, 0, sizeof cfg);
		cfg.device_id = "test-board";
		cfg.leds = 2;
		cfg.relays = 1;
		cfg.buttons = 2;
		cfg.has_camera = 1;
		cfg.heartbeat_ms = 1000;
		cfg.ack_timeout_ms = 100;
		cfg.retries = 2;
	}
	hal.ctx = &k;
	hal.uart_write = f_write;
	hal.uart_read_byte = f_read;
	hal.millis = f_millis;
	hal.led_write = f_led;
	hal.relay_write = f_relay;
	return fw_init(&board, &cfg, &hal);
}

/* next returns the next frame the board sent, or 0 when there is none.
 * The payload is copied into payload. */
static int next(mp_frame *f, uint8_t *payload)
{
	while (k.out_read < k.out_len) {
		if (mp_decoder_push(&k.host, k.out[k.out_read++], f)) {
			memcpy(payload, f->payload, f->len);
			f->payload = payload;
			return 1;
		}
	}
	return 0;
}

/* next_of skips frames of other types (heartbeats) to the next of type. */
static int next_of(uint8_t type, mp_frame *f, uint8_t *payload)
{
	while (next(f, payload)) {
		if (f->type == type) {
			return 1;
		}
	}
	return 0;
}

static void drain(void)
{
	k.out_read = k.out_len;
}

/* host_send queues a frame from the host and returns its seq. */
static uint8_t host_send_seq(uint8_t type, uint8_t seq, int ack, const uint8_t *p, size_t n)
{
	int len = mp_frame_build(type, seq, ack, p, n, k.in + k.in_len, sizeof k.in - k.in_len);
	if (len > 0) {
		k.in_len += (size_t)len;
	}
	return seq;
}

static uint8_t host_send(uint8_t type, int ack, const uint8_t *p, size_t n)
{
	return host_send_seq(type, k.host_seq++, ack, p, n);
}

static void run_ms(uint32_t ms)
{
	uint32_t i;
	fw_poll(&board);
	for (i = 0; i < ms; i++) {
		k.now++;
		fw_poll(&board);
	}
}

static void test_boot_and_hello(test_state *t)
{
	uint8_t p[MP_MAX_PAYLOAD];
	mp_frame f;
	mp_hello h;
	uint8_t hp[64];
	int n;
	CHECK(t, boot(NULL, 5000) == 0, "boot");
	CHECK(t, k.out_len > 0 && k.out[0] == 0x00, "boot starts with a delimiter");
	CHECK(t, next(&f, p) && f.type == MP_HELLO && f.seq == 0 && !f.ack_requested, "HELLO first");
	CHECK(t, mp_hello_decode(f.payload, f.len, &h) == MP_OK && h.protocol == 1 && h.device_id_len == 10 &&
	             memcmp(h.device_id, "test-board", 10) == 0 &&
	             h.capabilities == (MP_CAP_LED | MP_CAP_RELAY | MP_CAP_BUTTON | MP_CAP_TRIGGER | MP_CAP_SENSOR |
	                                MP_CAP_CAMERA | MP_CAP_LOG),
	      "HELLO content");
	CHECK(t, k.led_writes == 2 && k.relay_writes == 1, "outputs off at boot");

	/* The host says HELLO: the board answers with its own. */
	h.device_id = "host";
	h.device_id_len = 4;
	h.firmware_len = 0;
	h.capabilities = 0;
	n = mp_hello_encode(&h, hp, sizeof hp);
	host_send(MP_HELLO, 0, hp, (size_t)n);
	run_ms(1);
	CHECK(t, next(&f, p) && f.type == MP_HELLO && f.seq == 1, "HELLO answered");
	CHECK(t, board.stats.hellos_in == 1, "hellos_in %lu", (unsigned long)board.stats.hellos_in);

	/* Heartbeats every heartbeat_ms, with the uptime. */
	drain();
	run_ms(2500);
	{
		mp_heartbeat hb;
		int beats = 0;
		uint32_t last = 0;
		while (next_of(MP_HEARTBEAT, &f, p)) {
			beats++;
			CHECK(t, mp_heartbeat_decode(f.payload, f.len, &hb) == MP_OK && hb.uptime_ms > last, "uptime grows");
			last = hb.uptime_ms;
		}
		CHECK(t, beats == 2 && last == 2000, "%d heartbeats in 2.5 s, last uptime %lu", beats, (unsigned long)last);
	}
}

static void test_commands(test_state *t)
{
	uint8_t p[MP_MAX_PAYLOAD], lp[8];
	mp_frame f;
	mp_led led = {1, MP_LED_ON, 200, 0, 0};
	mp_relay relay = {0, 1, 50};
	mp_nack nack;
	uint8_t seq;
	boot(NULL, 0);
	drain();

	/* LED ACKed and applied; the retransmission re-ACKed, not reapplied. */
	mp_led_encode(&led, lp, sizeof lp);
	seq = host_send(MP_LED, 1, lp, 7);
	run_ms(1);
	CHECK(t, next(&f, p) && f.type == MP_ACK && f.payload[0] == seq, "LED ACKed");
	CHECK(t, k.led[1] == 200 && board.stats.commands == 1, "LED on at 200");
	host_send_seq(MP_LED, seq, 1, lp, 7);
	run_ms(1);
	CHECK(t, next(&f, p) && f.type == MP_ACK && f.payload[0] == seq, "retransmission re-ACKed");
	CHECK(t, board.stats.commands == 1 && board.stats.duplicates == 1, "applied once: commands %lu dups %lu",
	      (unsigned long)board.stats.commands, (unsigned long)board.stats.duplicates);

	/* The same seq after the window is a new command. */
	run_ms(MP_DEDUP_WINDOW_MS + 1);
	drain();
	host_send_seq(MP_LED, seq, 1, lp, 7);
	run_ms(1);
	CHECK(t, next_of(MP_ACK, &f, p) && board.stats.commands == 2, "after the window: applied again");

	/* A host HELLO resets the duplicate filter (the host restarted). */
	{
		uint8_t hp[16];
		mp_hello h = {1, 0, "", 0, "h", 1};
		int n = mp_hello_encode(&h, hp, sizeof hp);
		host_send_seq(MP_LED, 77, 1, lp, 7);
		host_send(MP_HELLO, 0, hp, (size_t)n);
		host_send_seq(MP_LED, 77, 1, lp, 7);
		run_ms(1);
		CHECK(t, board.stats.commands == 4 && board.stats.duplicates == 1, "HELLO cleared the filter: commands %lu",
		      (unsigned long)board.stats.commands);
	}

	/* Refusals: id out of range, malformed, unknown type, wrong direction. */
	{
		static const struct {
			uint8_t type;
			uint8_t payload[8];
			size_t len;
			uint8_t reason;
		} bad[] = {
			{MP_LED, {5, MP_LED_ON, 1, 0, 0, 0, 0}, 7, MP_REASON_INVALID},
			{MP_LED, {0, 3, 1, 0, 0, 0, 0}, 7, MP_REASON_MALFORMED},
			{MP_RELAY, {0, 1, 0}, 3, MP_REASON_MALFORMED},
			{MP_RELAY, {4, 1, 0, 0}, 4, MP_REASON_INVALID},
			{0x42, {1}, 1, MP_REASON_UNKNOWN_TYPE},
			{MP_TRIGGER, {1, 0, 0, 0, 0}, 5, MP_REASON_UNSUPPORTED},
		};
		size_t i;
		for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
			drain();
			seq = host_send(bad[i].type, 1, bad[i].payload, bad[i].len);
			run_ms(1);
			CHECK(t,
			      next_of(MP_NACK, &f, p) && mp_nack_decode(f.payload, f.len, &nack) == MP_OK && nack.seq == seq &&
			          nack.reason == bad[i].reason,
			      "refusal %u: reason %u", (unsigned)i, nack.reason);
		}
		/* Without the ACK flag nothing is answered, and ACKs never are. */
		drain();
		host_send(0x42, 0, bad[0].payload, 1);
		host_send(MP_ACK, 0, bad[0].payload, 1);
		run_ms(1);
		CHECK(t, !next(&f, p), "unrequested frames answered");
	}

	/* Relay pulse: on for 50 ms, then back. */
	mp_relay_encode(&relay, lp, sizeof lp);
	drain();
	host_send(MP_RELAY, 1, lp, 4);
	run_ms(1);
	CHECK(t, k.relay[0] == 1, "relay on");
	run_ms(48);
	CHECK(t, k.relay[0] == 1, "relay still on during its pulse");
	run_ms(3);
	CHECK(t, k.relay[0] == 0, "relay back off after its pulse");

	/* LED blink: 30 ms on, 70 ms off. */
	led.mode = MP_LED_BLINK;
	led.on_ms = 30;
	led.off_ms = 70;
	mp_led_encode(&led, lp, sizeof lp);
	host_send(MP_LED, 1, lp, 7);
	run_ms(1);
	{
		unsigned on = 0, i;
		for (i = 0; i < 1000; i++) {
			run_ms(1);
			on += k.led[1] != 0;
		}
		CHECK(t, on >= 290 && on <= 310, "blink on %u ms of 1000", on);
	}
}

static void test_events(test_state *t)
{
	uint8_t p[MP_MAX_PAYLOAD], ap[2];
	mp_frame f;
	mp_trigger tr;
	uint8_t seq;
	fw_config cfg;
	boot(NULL, 0);
	drain();

	/* A trigger is resent every ACK timeout until ACKed. */
	CHECK(t, fw_trigger(&board, 3) == 0, "trigger queued");
	CHECK(t, next(&f, p) && f.type == MP_TRIGGER && f.ack_requested, "trigger sent as a request");
	seq = f.seq;
	CHECK(t, mp_trigger_decode(f.payload, f.len, &tr) == MP_OK && tr.source == 3, "trigger source");
	run_ms(100);
	CHECK(t, next_of(MP_TRIGGER, &f, p) && f.seq == seq, "resent with the same seq");
	ap[0] = seq;
	ap[1] = MP_REASON_BUSY;
	host_send(MP_NACK, 0, ap, 2); /* busy: keep trying */
	run_ms(100);
	CHECK(t, next_of(MP_TRIGGER, &f, p) && f.seq == seq, "resent after NACK busy");
	host_send(MP_ACK, 0, ap, 1);
	run_ms(1000);
	CHECK(t, !next_of(MP_TRIGGER, &f, p) && board.stats.events == 1 && board.stats.retries == 2,
	      "ACK stops the retries: events %lu retries %lu", (unsigned long)board.stats.events,
	      (unsigned long)board.stats.retries);

	/* No answer: given up after the retries (2), three attempts in all. */
	drain();
	fw_button_press(&board, 1, MP_PRESS_DOUBLE);
	run_ms(1000);
	{
		int sent = 0;
		while (next_of(MP_BUTTON, &f, p)) {
			sent++;
		}
		CHECK(t, sent == 3 && board.stats.events_failed == 1, "button sent %d times, failed %lu", sent,
		      (unsigned long)board.stats.events_failed);
	}

	/* NACK other than busy ends it at once. */
	drain();
	fw_trigger(&board, 1);
	next_of(MP_TRIGGER, &f, p);
	ap[0] = f.seq;
	ap[1] = MP_REASON_MALFORMED;
	host_send(MP_NACK, 0, ap, 2);
	run_ms(500);
	CHECK(t, !next_of(MP_TRIGGER, &f, p) && board.stats.events_failed == 2, "NACK ends the event");

	/* The pending slots are bounded. */
	{
		unsigned i;
		int refused = 0;
		for (i = 0; i < FW_MAX_PENDING + 2; i++) {
			refused += fw_trigger(&board, (uint8_t)i) != 0;
		}
		CHECK(t, refused == 2 && board.stats.events_dropped == 2, "refused %d", refused);
	}

	/* Triggers from an interrupt are sent by the next poll. */
	boot(NULL, 0);
	drain();
	fw_trigger_from_isr(&board, 2);
	fw_trigger_from_isr(&board, 2);
	fw_trigger_from_isr(&board, 9); /* no such input */
	run_ms(1);
	CHECK(t, next_of(MP_TRIGGER, &f, p) && f.payload[0] == 2 && !next_of(MP_TRIGGER, &f, p), "ISR trigger sent once");

	/* Sensor and log go without ACK. */
	drain();
	CHECK(t, fw_sensor(&board, 4, 21.5f) == 0 && next(&f, p) && f.type == MP_SENSOR && !f.ack_requested, "sensor");
	{
		float inf = 1e38f * 1e38f;
		CHECK(t, fw_sensor(&board, 4, inf) == -1, "infinite sensor value refused");
	}
	CHECK(t, fw_log(&board, MP_LOG_WARN, "low battery") == 0 && next(&f, p) && f.type == MP_LOG && f.len == 12 &&
	             memcmp(f.payload + 1, "low battery", 11) == 0,
	      "log");

	/* Wrong configurations are refused. */
	memset(&cfg, 0, sizeof cfg);
	CHECK(t, boot(&cfg, 0) == -1, "no device id accepted");
	cfg.device_id = "bad\nid";
	CHECK(t, boot(&cfg, 0) == -1, "control character accepted");
	cfg.device_id = "ok";
	cfg.leds = FW_MAX_LEDS + 1;
	CHECK(t, boot(&cfg, 0) == -1, "too many LEDs accepted");
}

/* press holds button id for hold ms, then releases it and waits gap ms. */
static void press(uint8_t id, uint32_t hold, uint32_t gap)
{
	fw_button_level(&board, id, 1);
	run_ms(hold);
	fw_button_level(&board, id, 0);
	run_ms(gap);
}

static void test_buttons(test_state *t)
{
	static const struct {
		const char *name;
		uint32_t holds[3];
		uint32_t gaps[3];
		uint8_t want[3];
	} cases[] = {
		{"short", {100, 0, 0}, {500, 0, 0}, {MP_PRESS_SHORT, 0, 0}},
		{"long", {1000, 0, 0}, {500, 0, 0}, {MP_PRESS_LONG, 0, 0}},
		{"double", {80, 80, 0}, {150, 500, 0}, {MP_PRESS_DOUBLE, 0, 0}},
		{"two shorts", {80, 80, 0}, {400, 500, 0}, {MP_PRESS_SHORT, MP_PRESS_SHORT, 0}},
		{"short then long", {80, 1000, 0}, {100, 500, 0}, {MP_PRESS_SHORT, MP_PRESS_LONG, 0}},
		{"bounce", {5, 100, 0}, {5, 500, 0}, {MP_PRESS_SHORT, 0, 0}},
	};
	size_t c;
	for (c = 0; c < sizeof cases / sizeof cases[0]; c++) {
		uint8_t p[MP_MAX_PAYLOAD], kinds[8];
		int seqs[8];
		mp_frame f;
		int i, n = 0;
		boot(NULL, 0);
		drain();
		for (i = 0; i < 3 && cases[c].holds[i] > 0; i++) {
			press(1, cases[c].holds[i], cases[c].gaps[i]);
		}
		/* Each press is one request; its retransmissions share its seq. */
		while (next_of(MP_BUTTON, &f, p)) {
			int seen = 0;
			for (i = 0; i < n; i++) {
				seen |= seqs[i] == f.seq;
			}
			if (!seen && n < 8) {
				CHECK(t, f.payload[0] == 1, "%s: button id %u", cases[c].name, f.payload[0]);
				seqs[n] = f.seq;
				kinds[n++] = f.payload[1];
			}
		}
		for (i = 0; i < 3; i++) {
			uint8_t want = cases[c].want[i];
			CHECK(t, (i < n ? kinds[i] : 0) == want, "%s: press %d is %u, want %u", cases[c].name, i,
			      i < n ? kinds[i] : 0, want);
		}
		CHECK(t, n <= 3 && (n == 3 || cases[c].want[n] == 0), "%s: %d presses", cases[c].name, n);
	}
}

static void test_camera(test_state *t)
{
	static uint8_t jpeg[2500], got[4096];
	uint8_t p[MP_MAX_PAYLOAD];
	mp_frame f;
	mp_camera_chunk c;
	size_t i, have = 0;
	int chunks = 0;
	fw_config cfg;
	for (i = 0; i < sizeof jpeg; i++) {
		jpeg[i] = (uint8_t)(i * 7u); /* zeros included */
	}
	boot(NULL, 0);
	drain();
	CHECK(t, fw_camera_send(&board, jpeg, sizeof jpeg) == 0, "frame id 0");
	CHECK(t, fw_camera_send(&board, jpeg, sizeof jpeg) == -1 && fw_camera_busy(&board), "busy while sending");
	run_ms(5);
	CHECK(t, !fw_camera_busy(&board), "done after a few polls");
	while (next_of(MP_CAMERA_FRAME, &f, p)) {
		CHECK(t, mp_camera_decode(f.payload, f.len, &c) == MP_OK && c.frame_id == 0 && c.count == 3 &&
		             c.index == chunks && !f.ack_requested,
		      "chunk %d", chunks);
		memcpy(got + have, c.data, c.len);
		have += c.len;
		chunks++;
	}
	CHECK(t, chunks == 3 && have == sizeof jpeg && memcmp(got, jpeg, have) == 0, "%d chunks, %lu bytes", chunks,
	      (unsigned long)have);
	CHECK(t, fw_camera_send(&board, jpeg, 10) == 1, "next frame id 1");
	CHECK(t, fw_camera_send(&board, jpeg, 0) == -1, "empty frame refused");

	memset(&cfg, 0, sizeof cfg);
	cfg.device_id = "no-cam";
	boot(&cfg, 0);
	CHECK(t, fw_camera_send(&board, jpeg, 10) == -1, "a board without camera sent a frame");
}

static void test_millis_wrap(test_state *t)
{
	uint8_t p[MP_MAX_PAYLOAD];
	mp_frame f;
	mp_heartbeat hb;
	int beats = 0;
	boot(NULL, 0xFFFFFF00u);
	drain();
	run_ms(3000);
	while (next_of(MP_HEARTBEAT, &f, p)) {
		beats++;
		mp_heartbeat_decode(f.payload, f.len, &hb);
	}
	CHECK(t, beats == 3 && hb.uptime_ms == 3000, "across the millis wrap: %d heartbeats, uptime %lu", beats,
	      (unsigned long)hb.uptime_ms);
}

void test_fw(test_state *t)
{
	test_boot_and_hello(t);
	test_commands(t);
	test_events(t);
	test_buttons(t);
	test_camera(t);
	test_millis_wrap(t);
}

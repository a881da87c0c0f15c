/*
 * fw.h - the reference firmware's state machine for the mocoedge board:
 * HELLO on boot and in answer to the host's HELLO, heartbeats, ACK/NACK
 * with the Go side's duplicate rule, TRIGGER and BUTTON events sent as
 * requests and retried until ACKed, SENSOR and LOG messages, LED (with
 * blinking) and RELAY (with pulses) commands, and a JPEG buffer sent as
 * CAMERA_FRAME chunks between other traffic.
 *
 * Single-threaded: call fw_poll from the main loop as often as possible;
 * every function but fw_trigger_from_isr belongs to the main loop. All
 * memory is inside struct fw (about 4.8 KiB with the default sizes).
 */
#ifndef FW_H
#define FW_H

#include "fw_hal.h"
#include "mp_protocol.h"

#define FW_MAX_LEDS 8u
#define FW_MAX_RELAYS 4u
#define FW_MAX_BUTTONS 4u
#define FW_MAX_TRIGGERS 8u
/* Events that may wait for their ACK at once. */
#define FW_MAX_PENDING 4u

/* Configuration; fw_init fills zero fields with the defaults noted. */
typedef struct fw_config {
	const char *firmware_version; /* "ref-c-1.0.0" */
	const char *device_id;        /* required, 1..255 bytes */
	uint32_t capabilities;        /* derived from the counts below */
	uint8_t leds;                 /* <= FW_MAX_LEDS */
	uint8_t relays;               /* <= FW_MAX_RELAYS */
	uint8_t buttons;              /* <= FW_MAX_BUTTONS */
	uint8_t has_camera;
	uint32_t heartbeat_ms;    /* 1000 */
	uint32_t ack_timeout_ms;  /* 250 */
	uint8_t retries;          /* 3 */
	uint16_t chunk_size;      /* MP_MAX_CHUNK_DATA */
	uint16_t chunks_per_poll; /* 1: other frames interleave with a JPEG */
	uint32_t debounce_ms;     /* 20 */
	uint32_t long_press_ms;   /* 800 */
	uint32_t double_press_ms; /* 300 */
} fw_config;

/* Counters, for a status LED or a debug console. */
typedef struct fw_stats {
	uint32_t frames_in;      /* intact frames received */
	uint32_t frames_out;     /* frames sent */
	uint32_t hellos_in;      /* HELLOs from the host */
	uint32_t heartbeats_in;  /* heartbeats from the host */
	uint32_t commands;       /* LED and RELAY commands applied */
	uint32_t duplicates;     /* retransmitted commands re-ACKed */
	uint32_t nacks_out;      /* requests refused */
	uint32_t events;         /* events sent and ACKed */
	uint32_t retries;        /* event retransmissions */
	uint32_t events_failed;  /* events given up after the retries, or NACKed */
	uint32_t events_dropped; /* events refused: all pending slots busy */
	uint32_t camera_frames;  /* JPEGs sent */
	uint32_t camera_chunks;  /* chunks sent */
} fw_stats;

/* An event waiting for its ACK. */
typedef struct fw_pending {
	uint8_t used;
	uint8_t type;
	uint8_t seq;
	uint8_t len;
	uint8_t payload[8];
	uint8_t attempts;
	uint32_t sent_ms;
} fw_pending;

/* An LED as last commanded. */
typedef struct fw_led {
	mp_led cmd;
	uint8_t level; /* last written */
	uint32_t phase_ms;
} fw_led;

/* A relay and its pulse. */
typedef struct fw_relay {
	uint8_t on;
	uint8_t pulsing;
	uint32_t until_ms;
} fw_relay;

/* A button's debouncer and press classifier. */
typedef struct fw_button {
	uint8_t level;       /* debounced: 1 pressed */
	uint8_t long_sent;   /* this press was reported long */
	uint8_t short_armed; /* a short press waits to see if a second follows */
	uint32_t changed_ms; /* last accepted change */
	uint32_t pressed_ms;
	uint32_t released_ms;
} fw_button;

/* The camera frame being sent. */
typedef struct fw_camera {
	const uint8_t *data;
	size_t len;
	uint16_t id;
	uint16_t next;
	uint16_t count;
	uint8_t busy;
	uint16_t next_id;
} fw_camera;

typedef struct fw {
	fw_config cfg;
	fw_hal hal;
	mp_decoder dec;
	mp_dedup dedup;
	uint8_t seq;
	uint32_t boot_ms;
	uint32_t heartbeat_ms;
	fw_pending pending[FW_MAX_PENDING];
	fw_led leds[FW_MAX_LEDS];
	fw_relay relays[FW_MAX_RELAYS];
	fw_button buttons[FW_MAX_BUTTONS];
	volatile uint8_t trigger_flag[FW_MAX_TRIGGERS];
	fw_camera cam;
	uint8_t payload[MP_MAX_PAYLOAD];
	uint8_t tx[MP_MAX_WIRE_FRAME];
	fw_stats stats;
} fw;

/* Checks cfg, then boots: a 0x00 (ends any frame torn by a reset) and
 * HELLO. Returns 0, or -1 for an unusable configuration. */
int fw_init(fw *f, const fw_config *cfg, const fw_hal *hal);

/* Restarts as after power-on: outputs off, sequence numbers, frame ids and
 * pending events start over, then 0x00 and HELLO. */
void fw_reboot(fw *f);

/* Runs the firmware: received bytes, timers (heartbeat, retries, blink,
 * relay pulses, button presses, triggers from interrupts), camera chunks. */
void fw_poll(fw *f);

/* Queues a TRIGGER from input source (< FW_MAX_TRIGGERS), sent as a
 * request. Returns 0, or -1 when every pending slot is busy. */
int fw_trigger(fw *f, uint8_t source);

/* Marks trigger input source as fired; fw_poll sends it. Safe in an ISR
 * (two triggers of one input before fw_poll runs are sent once). */
void fw_trigger_from_isr(fw *f, uint8_t source);

/* Queues a BUTTON press (enum mp_press) as a request. Returns 0 or -1. */
int fw_button_press(fw *f, uint8_t id, uint8_t press);

/* Feeds button id's raw level (1 pressed). A change within debounce_ms of
 * the last accepted one is ignored, so call it with the sampled level on
 * every main-loop pass (or at least periodically as well as on edges). */
void fw_button_level(fw *f, uint8_t id, int pressed);

/* Sends a SENSOR reading (no ACK). Returns 0 or -1 (not finite). */
int fw_sensor(fw *f, uint8_t id, float value);

/* Sends a LOG line of at most MP_MAX_LOG_TEXT bytes (no ACK). */
int fw_log(fw *f, uint8_t level, const char *text);

/* Starts sending a JPEG as CAMERA_FRAME chunks; jpeg must stay valid until
 * fw_camera_busy returns 0. Returns the frame id, or -1 when a frame is
 * still being sent, the board has no camera, or the size is 0 or needs
 * more than 65535 chunks. */
long fw_camera_send(fw *f, const uint8_t *jpeg, size_t len);

/* Reports whether a JPEG is still being sent. */
int fw_camera_busy(const fw *f);

/* Uptime as sent in heartbeats. */
uint32_t fw_uptime(const fw *f);

/* ---- internal, shared by the fw_*.c files ---- */

/* Frames payload with the next sequence number and sends it; returns the
 * sequence number used. */
uint8_t fw_send(fw *f, uint8_t type, int ack_requested, const uint8_t *payload, size_t len);
/* Sends with a given sequence number (retransmissions, answers). */
void fw_send_seq(fw *f, uint8_t type, uint8_t seq, int ack_requested, const uint8_t *payload, size_t len);
/* Queues an event request. */
int fw_request(fw *f, uint8_t type, const uint8_t *payload, uint8_t len);
void fw_requests_poll(fw *f, uint32_t now);
void fw_requests_answer(fw *f, uint8_t seq, int acked, uint8_t reason);
void fw_requests_reset(fw *f);
void fw_buttons_poll(fw *f, uint32_t now);
void fw_camera_poll(fw *f);
int fw_apply_led(fw *f, const mp_led *m, uint32_t now);
int fw_apply_relay(fw *f, const mp_relay *m, uint32_t now);
void fw_outputs_poll(fw *f, uint32_t now);
void fw_outputs_reset(fw *f);

#endif /* FW_H */

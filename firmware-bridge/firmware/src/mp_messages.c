/* mp_messages.c - payload layouts of the messages, checked as strictly as
 * the Go side: a payload of the wrong size or with a field out of range is
 * MP_ERR_MALFORMED, and so is a value that would encode to one. */
#include "mp_protocol.h"

#include <string.h>

/* ---- little-endian fields ---- */

static uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] | (p[1] << 8));
}

static uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

static void wr16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v & 0xFFu);
	p[1] = (uint8_t)(v >> 8);
}

static void wr32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v & 0xFFu);
	p[1] = (uint8_t)((v >> 8) & 0xFFu);
	p[2] = (uint8_t)((v >> 16) & 0xFFu);
	p[3] = (uint8_t)(v >> 24);
}

/* float32 <-> its IEEE 754 bits; the protocol assumes an IEEE float. */
typedef char mp_float_is_32_bits[sizeof(float) == 4 ? 1 : -1];

static uint32_t float_bits(float f)
{
	uint32_t u;
	memcpy(&u, &f, sizeof u);
	return u;
}

static float bits_float(uint32_t u)
{
	float f;
	memcpy(&f, &u, sizeof f);
	return f;
}

/* finite reports whether the bits are not NaN or an infinity. */
static int finite_bits(uint32_t u)
{
	return (u & 0x7F800000u) != 0x7F800000u;
}

/* ---- HELLO strings: UTF-8 without control characters ---- */

/* text_ok checks s as Go's utf8.ValidString and !unicode.IsControl do:
 * no overlong forms, no surrogates, nothing above U+10FFFF, and no C0,
 * DEL or C1 control characters. */
static int text_ok(const char *str, size_t n)
{
	const uint8_t *s = (const uint8_t *)str;
	size_t i = 0;
	while (i < n) {
		uint32_t c = s[i];
		size_t need, k;
		uint32_t min;
		if (c < 0x80u) {
			if (c < 0x20u || c == 0x7Fu) {
				return 0;
			}
			i++;
			continue;
		}
		if (c >= 0xC2u && c <= 0xDFu) {
			need = 1;
			c &= 0x1Fu;
			min = 0x80u;
		} else if (c >= 0xE0u && c <= 0xEFu) {
			need = 2;
			c &= 0x0Fu;
			min = 0x800u;
		} else if (c >= 0xF0u && c <= 0xF4u) {
			need = 3;
			c &= 0x07u;
			min = 0x10000u;
		} else {
			return 0;
		}
		if (n - i <= need) {
			return 0;
		}
		for (k = 1; k <= need; k++) {
			uint8_t b = s[i + k];
			if ((b & 0xC0u) != 0x80u) {
				return 0;
			}
			c = (c << 6) | (b & 0x3Fu);
		}
		if (c < min || c > 0x10FFFFu || (c >= 0xD800u && c <= 0xDFFFu)) {
			return 0;
		}
		if (c >= 0x80u && c <= 0x9Fu) {
			return 0; /* C1 controls */
		}
		i += need + 1;
	}
	return 1;
}

/* ---- HELLO ---- */

static int hello_check(const mp_hello *m)
{
	if (m->protocol == 0 || m->device_id_len == 0) {
		return MP_ERR_MALFORMED;
	}
	if (!text_ok(m->firmware, m->firmware_len) || !text_ok(m->device_id, m->device_id_len)) {
		return MP_ERR_MALFORMED;
	}
	return MP_OK;
}

int mp_hello_encode(const mp_hello *m, uint8_t *buf, size_t cap)
{
	size_t n = 7u + m->firmware_len + m->device_id_len;
	if (hello_check(m) != MP_OK) {
		return MP_ERR_MALFORMED;
	}
	if (cap < n) {
		return MP_ERR_BUFFER;
	}
	buf[0] = m->protocol;
	wr32(buf + 1, m->capabilities);
	buf[5] = m->firmware_len;
	memcpy(buf + 6, m->firmware, m->firmware_len);
	buf[6 + m->firmware_len] = m->device_id_len;
	memcpy(buf + 7 + m->firmware_len, m->device_id, m->device_id_len);
	return (int)n;
}

int mp_hello_decode(const uint8_t *p, size_t n, mp_hello *m)
{
	mp_hello v;
	size_t fw, id;
	if (n < 7) {
		return MP_ERR_MALFORMED;
	}
	fw = p[5];
	if (n < 7 + fw) {
		return MP_ERR_MALFORMED;
	}
	id = p[6 + fw];
	if (n != 7 + fw + id) {
		return MP_ERR_MALFORMED;
	}
	v.protocol = p[0];
	v.capabilities = rd32(p + 1);
	v.firmware = (const char *)(p + 6);
	v.firmware_len = (uint8_t)fw;
	v.device_id = (const char *)(p + 7 + fw);
	v.device_id_len = (uint8_t)id;
	if (hello_check(&v) != MP_OK) {
		return MP_ERR_MALFORMED;
	}
	*m = v;
	return MP_OK;
}

/* ---- fixed-size messages ---- */

int mp_heartbeat_encode(const mp_heartbeat *m, uint8_t *buf, size_t cap)
{
	if (cap < 4) {
		return MP_ERR_BUFFER;
	}
	wr32(buf, m->uptime_ms);
	return 4;
}

int mp_heartbeat_decode(const uint8_t *p, size_t n, mp_heartbeat *m)
{
	if (n != 4) {
		return MP_ERR_MALFORMED;
	}
	m->uptime_ms = rd32(p);
	return MP_OK;
}

int mp_ack_encode(const mp_ack *m, uint8_t *buf, size_t cap)
{
	if (cap < 1) {
		return MP_ERR_BUFFER;
	}
	buf[0] = m->seq;
	return 1;
}

int mp_ack_decode(const uint8_t *p, size_t n, mp_ack *m)
{
	if (n != 1) {
		return MP_ERR_MALFORMED;
	}
	m->seq = p[0];
	return MP_OK;
}

int mp_nack_encode(const mp_nack *m, uint8_t *buf, size_t cap)
{
	if (cap < 2) {
		return MP_ERR_BUFFER;
	}
	buf[0] = m->seq;
	buf[1] = m->reason;
	return 2;
}

int mp_nack_decode(const uint8_t *p, size_t n, mp_nack *m)
{
	if (n != 2) {
		return MP_ERR_MALFORMED;
	}
	m->seq = p[0];
	m->reason = p[1];
	return MP_OK;
}

int mp_trigger_encode(const mp_trigger *m, uint8_t *buf, size_t cap)
{
	if (cap < 5) {
		return MP_ERR_BUFFER;
	}
	buf[0] = m->source;
	wr32(buf + 1, m->board_ms);
	return 5;
}

int mp_trigger_decode(const uint8_t *p, size_t n, mp_trigger *m)
{
	if (n != 5) {
		return MP_ERR_MALFORMED;
	}
	m->source = p[0];
	m->board_ms = rd32(p + 1);
	return MP_OK;
}

int mp_button_encode(const mp_button *m, uint8_t *buf, size_t cap)
{
	if (m->press < MP_PRESS_SHORT || m->press > MP_PRESS_DOUBLE) {
		return MP_ERR_MALFORMED;
	}
	if (cap < 2) {
		return MP_ERR_BUFFER;
	}
	buf[0] = m->id;
	buf[1] = m->press;
	return 2;
}

int mp_button_decode(const uint8_t *p, size_t n, mp_button *m)
{
	if (n != 2 || p[1] < MP_PRESS_SHORT || p[1] > MP_PRESS_DOUBLE) {
		return MP_ERR_MALFORMED;
	}
	m->id = p[0];
	m->press = p[1];
	return MP_OK;
}

int mp_sensor_encode(const mp_sensor *m, uint8_t *buf, size_t cap)
{
	uint32_t bits = float_bits(m->value);
	if (!finite_bits(bits)) {
		return MP_ERR_MALFORMED;
	}
	if (cap < 5) {
		return MP_ERR_BUFFER;
	}
	buf[0] = m->id;
	wr32(buf + 1, bits);
	return 5;
}

int mp_sensor_decode(const uint8_t *p, size_t n, mp_sensor *m)
{
	uint32_t bits;
	if (n != 5) {
		return MP_ERR_MALFORMED;
	}
	bits = rd32(p + 1);
	if (!finite_bits(bits)) {
		return MP_ERR_MALFORMED;
	}
	m->id = p[0];
	m->value = bits_float(bits);
	return MP_OK;
}

static int led_check(const mp_led *m)
{
	switch (m->mode) {
	case MP_LED_OFF:
	case MP_LED_ON:
		return (m->on_ms == 0 && m->off_ms == 0) ? MP_OK : MP_ERR_MALFORMED;
	case MP_LED_BLINK:
		return (m->on_ms != 0 && m->off_ms != 0) ? MP_OK : MP_ERR_MALFORMED;
	default:
		return MP_ERR_MALFORMED;
	}
}

int mp_led_encode(const mp_led *m, uint8_t *buf, size_t cap)
{
	if (led_check(m) != MP_OK) {
		return MP_ERR_MALFORMED;
	}
	if (cap < 7) {
		return MP_ERR_BUFFER;
	}
	buf[0] = m->id;
	buf[1] = m->mode;
	buf[2] = m->brightness;
	wr16(buf + 3, m->on_ms);
	wr16(buf + 5, m->off_ms);
	return 7;
}

int mp_led_decode(const uint8_t *p, size_t n, mp_led *m)
{
	mp_led v;
	if (n != 7) {
		return MP_ERR_MALFORMED;
	}
	v.id = p[0];
	v.mode = p[1];
	v.brightness = p[2];
	v.on_ms = rd16(p + 3);
	v.off_ms = rd16(p + 5);
	if (led_check(&v) != MP_OK) {
		return MP_ERR_MALFORMED;
	}
	*m = v;
	return MP_OK;
}

int mp_relay_encode(const mp_relay *m, uint8_t *buf, size_t cap)
{
	if (m->on > 1) {
		return MP_ERR_MALFORMED;
	}
	if (cap < 4) {
		return MP_ERR_BUFFER;
	}
	buf[0] = m->id;
	buf[1] = m->on;
	wr16(buf + 2, m->pulse_ms);
	return 4;
}

int mp_relay_decode(const uint8_t *p, size_t n, mp_relay *m)
{
	if (n != 4 || p[1] > 1) {
		return MP_ERR_MALFORMED;
	}
	m->id = p[0];
	m->on = p[1];
	m->pulse_ms = rd16(p + 2);
	return MP_OK;
}

static int camera_check(const mp_camera_chunk *m)
{
	if (m->count == 0 || m->index >= m->count || m->len == 0 || m->len > MP_MAX_CHUNK_DATA) {
		return MP_ERR_MALFORMED;
	}
	return MP_OK;
}

int mp_camera_encode(const mp_camera_chunk *m, uint8_t *buf, size_t cap)
{
	if (camera_check(m) != MP_OK) {
		return MP_ERR_MALFORMED;
	}
	if (cap < MP_CAMERA_HEADER + (size_t)m->len) {
		return MP_ERR_BUFFER;
	}
	wr16(buf, m->frame_id);
	wr16(buf + 2, m->index);
	wr16(buf + 4, m->count);
	memcpy(buf + MP_CAMERA_HEADER, m->data, m->len);
	return (int)(MP_CAMERA_HEADER + m->len);
}

int mp_camera_decode(const uint8_t *p, size_t n, mp_camera_chunk *m)
{
	mp_camera_chunk v;
	if (n < MP_CAMERA_HEADER || n > MP_MAX_PAYLOAD) {
		return MP_ERR_MALFORMED;
	}
	v.frame_id = rd16(p);
	v.index = rd16(p + 2);
	v.count = rd16(p + 4);
	v.data = p + MP_CAMERA_HEADER;
	v.len = (uint16_t)(n - MP_CAMERA_HEADER);
	if (camera_check(&v) != MP_OK) {
		return MP_ERR_MALFORMED;
	}
	*m = v;
	return MP_OK;
}

int mp_log_encode(const mp_log *m, uint8_t *buf, size_t cap)
{
	if (m->level > MP_LOG_ERROR || m->len > MP_MAX_LOG_TEXT) {
		return MP_ERR_MALFORMED;
	}
	if (cap < 1u + m->len) {
		return MP_ERR_BUFFER;
	}
	buf[0] = m->level;
	memcpy(buf + 1, m->text, m->len);
	return (int)(1u + m->len);
}

int mp_log_decode(const uint8_t *p, size_t n, mp_log *m)
{
	if (n < 1 || n > MP_MAX_PAYLOAD || p[0] > MP_LOG_ERROR) {
		return MP_ERR_MALFORMED;
	}
	m->level = p[0];
	m->text = (const char *)(p + 1);
	m->len = (uint16_t)(n - 1);
	return MP_OK;
}

int mp_message_check(uint8_t type, const uint8_t *p, size_t n)
{
	union {
		mp_hello hello;
		mp_heartbeat heartbeat;
		mp_ack ack;
		mp_nack nack;
		mp_trigger trigger;
		mp_button button;
		mp_sensor sensor;
		mp_led led;
		mp_relay relay;
		mp_camera_chunk camera;
		mp_log log;
	} m;
	switch (type) {
	case MP_HELLO:
		return mp_hello_decode(p, n, &m.hello);
	case MP_HEARTBEAT:
		return mp_heartbeat_decode(p, n, &m.heartbeat);
	case MP_ACK:
		return mp_ack_decode(p, n, &m.ack);
	case MP_NACK:
		return mp_nack_decode(p, n, &m.nack);
	case MP_TRIGGER:
		return mp_trigger_decode(p, n, &m.trigger);
	case MP_BUTTON:
		return mp_button_decode(p, n, &m.button);
	case MP_SENSOR:
		return mp_sensor_decode(p, n, &m.sensor);
	case MP_LED:
		return mp_led_decode(p, n, &m.led);
	case MP_RELAY:
		return mp_relay_decode(p, n, &m.relay);
	case MP_CAMERA_FRAME:
		return mp_camera_decode(p, n, &m.camera);
	case MP_LOG:
		return mp_log_decode(p, n, &m.log);
	default:
		return MP_ERR_UNKNOWN_TYPE;
	}
}

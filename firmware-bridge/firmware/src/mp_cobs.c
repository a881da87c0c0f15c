/* mp_cobs.c - Consistent Overhead Byte Stuffing (Cheshire and Baker 1999),
 * byte for byte as the Go side's cobsEncode/cobsDecode. */
#include "mp_protocol.h"

size_t mp_cobs_encode(const uint8_t *src, size_t len, uint8_t *dst)
{
	size_t out = 0;
	size_t code_at = out++;
	uint8_t code = 1;
	size_t i;
	for (i = 0; i < len; i++) {
		if (src[i] != 0) {
			dst[out++] = src[i];
			code++;
			if (code != 0xFF) {
				continue;
			}
			if (i == len - 1) {
				break; /* a full run ends the input: no trailing code byte */
			}
		}
		dst[code_at] = code;
		code_at = out++;
		code = 1;
	}
	dst[code_at] = code;
	return out;
}

int mp_cobs_decode(const uint8_t *src, size_t len, uint8_t *dst, size_t cap, size_t *out_len)
{
	size_t out = 0;
	size_t i = 0;
	if (len == 0) {
		return MP_ERR_COBS;
	}
	while (i < len) {
		size_t code = src[i];
		size_t end, j;
		if (code == 0) {
			return MP_ERR_COBS;
		}
		end = i + code;
		if (end > len) {
			return MP_ERR_COBS;
		}
		for (j = i + 1; j < end; j++) {
			if (src[j] == 0) {
				return MP_ERR_COBS;
			}
			if (out >= cap) {
				return MP_ERR_BUFFER;
			}
			dst[out++] = src[j];
		}
		i = end;
		if (code != 0xFF && i < len) {
			if (out >= cap) {
				return MP_ERR_BUFFER;
			}
			dst[out++] = 0;
		}
	}
	*out_len = out;
	return MP_OK;
}

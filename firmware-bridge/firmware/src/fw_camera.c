/* fw_camera.c - a JPEG sent as CAMERA_FRAME chunks (no ACK), a few per
 * fw_poll so that heartbeats, ACKs and events go out in between. */
#include "fw.h"

long fw_camera_send(fw *f, const uint8_t *jpeg, size_t len)
{
	size_t count;
	if (f->cam.busy || !(f->cfg.capabilities & MP_CAP_CAMERA) || len == 0) {
		return -1;
	}
	count = (len + f->cfg.chunk_size - 1u) / f->cfg.chunk_size;
	if (count > 0xFFFFu) {
		return -1;
	}
	f->cam.data = jpeg;
	f->cam.len = len;
	f->cam.id = f->cam.next_id++;
	f->cam.next = 0;
	f->cam.count = (uint16_t)count;
	f->cam.busy = 1;
	return (long)f->cam.id;
}

int fw_camera_busy(const fw *f)
{
	return f->cam.busy;
}

void fw_camera_poll(fw *f)
{
	uint16_t sent;
	for (sent = 0; f->cam.busy && sent < f->cfg.chunks_per_poll; sent++) {
		mp_camera_chunk c;
		size_t off = (size_t)f->cam.next * f->cfg.chunk_size;
		size_t left = f->cam.len - off;
		int n;
		c.frame_id = f->cam.id;
		c.index = f->cam.next;
		c.count = f->cam.count;
		c.data = f->cam.data + off;
		c.len = (uint16_t)(left < f->cfg.chunk_size ? left : f->cfg.chunk_size);
		n = mp_camera_encode(&c, f->payload, sizeof f->payload);
		if (n > 0) {
			fw_send(f, MP_CAMERA_FRAME, 0, f->payload, (size_t)n);
			f->stats.camera_chunks++;
		}
		if (++f->cam.next == f->cam.count) {
			f->cam.busy = 0;
			f->stats.camera_frames++;
		}
	}
}

/*
 * ports/linux/main.c - the reference firmware on Linux, so that it can be
 * tested for real: the UART is a pseudo-terminal (or any tty), the GPIOs
 * and the camera are driven by text commands on stdin, and the outputs
 * (LED levels, relays) are printed on stdout.
 *
 *   fwboard --pty [options]        creates a pseudo-terminal, prints
 *                                  "pty /dev/pts/N"; open that path as the
 *                                  board's serial port
 *   fwboard --port PATH [options]  uses an existing tty (a USB-serial
 *                                  adapter, one end of socat)
 *
 * Options: --id ID, --firmware VERSION, --heartbeat MS, --ack-timeout MS,
 * --retries N, --chunk BYTES, --chunks-per-poll N, --leds N, --relays N,
 * --buttons N, --no-camera, --baud N (pace output as a UART at N baud, 8N1,
 * would send it; 0, the default, sends as fast as the tty takes it).
 *
 * Commands on stdin, one per line, each answered "ok CMD" or "error ...":
 *   trigger N             a trigger on input N (main-loop path)
 *   isr N                 the same through fw_trigger_from_isr
 *   button ID short|long|double
 *   level ID 0|1          a button's raw GPIO level (debounced, classified)
 *   sensor ID VALUE
 *   log debug|info|warn|error TEXT
 *   jpeg PATH             send a JPEG file as CAMERA_FRAME chunks
 *   reboot
 *   state                 prints "led ID mode=M brightness=B on=MS off=MS" and
 *                         "relay ID on=0|1" lines
 *   stats                 prints "stats name=value ..."
 *   quit                  (or end of stdin)
 * Unprompted lines: "led ID level=L", "relay ID on=0|1",
 * "sent frame=ID bytes=N chunks=C ms=T".
 */
#define _XOPEN_SOURCE 600

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "fw.h"

#define MAX_JPEG (512u * 1024u)
#define LINE_MAX_LEN 4096u

/* app is the whole port's state. */
typedef struct app {
	int fd;        /* the UART: pty master or tty */
	int keep_fd;   /* pty slave kept open, so the master never sees a hang-up */
	long baud;     /* pacing, 0 for none */
	double tx_free; /* pacing: when the emulated UART is free, in seconds */
	uint8_t rx[4096];
	size_t rx_len, rx_pos;
	unsigned long tx_dropped;
	fw board;
	uint8_t jpeg[MAX_JPEG];
	size_t jpeg_len;
	double jpeg_start;
	char line[LINE_MAX_LEN];
	size_t line_len;
} app;

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void sleep_s(double s)
{
	struct timespec ts;
	if (s <= 0) {
		return;
	}
	ts.tv_sec = (time_t)s;
	ts.tv_nsec = (long)((s - (double)ts.tv_sec) * 1e9);
	nanosleep(&ts, NULL);
}

/* ---- the HAL ---- */

static uint32_t hal_millis(void *ctx)
{
	(void)ctx;
	return (uint32_t)(unsigned long long)(now_s() * 1000.0);
}

static void hal_uart_write(void *ctx, const uint8_t *p, size_t n)
{
	app *a = ctx;
	int stalls = 0;
	if (a->baud > 0) {
		double t = now_s();
		if (a->tx_free > t) {
			sleep_s(a->tx_free - t);
		} else {
			a->tx_free = t;
		}
		a->tx_free += (double)n * 10.0 / (double)a->baud;
	}
	while (n > 0) {
		ssize_t w = write(a->fd, p, n);
		if (w > 0) {
			p += w;
			n -= (size_t)w;
			continue;
		}
		if (w < 0 && errno == EINTR) {
			continue;
		}
		if (w < 0 && errno == EAGAIN && stalls < 20) {
			struct pollfd pfd;
			pfd.fd = a->fd;
			pfd.events = POLLOUT;
			if (poll(&pfd, 1, 100) == 0) {
				stalls++;
			}
			continue;
		}
		a->tx_dropped += n; /* nobody reads the line: the bytes are lost, as on a UART */
		return;
	}
}

static int hal_uart_read_byte(void *ctx, uint8_t *b)
{
	app *a = ctx;
	if (a->rx_pos == a->rx_len) {
		ssize_t r = read(a->fd, a->rx, sizeof a->rx);
		if (r <= 0) {
			return 0;
		}
		a->rx_len = (size_t)r;
		a->rx_pos = 0;
	}
	*b = a->rx[a->rx_pos++];
	return 1;
}

static void hal_led_write(void *ctx, uint8_t id, uint8_t level)
{
	(void)ctx;
	printf("led %u level=%u\n", id, level);
}

static void hal_relay_write(void *ctx, uint8_t id, int on)
{
	(void)ctx;
	printf("relay %u on=%d\n", id, on ? 1 : 0);
}

/* ---- the serial line ---- */

static int make_raw(int fd)
{
	struct termios t;
	if (tcgetattr(fd, &t) != 0) {
		return -1;
	}
	t.c_iflag &= ~(tcflag_t)(IGNBRK | BRKINT | PARMRK | ISTRIP | INLCR | IGNCR | ICRNL | IXON | IXOFF);
	t.c_oflag &= ~(tcflag_t)OPOST;
	t.c_lflag &= ~(tcflag_t)(ECHO | ECHONL | ICANON | ISIG | IEXTEN);
	t.c_cflag &= ~(tcflag_t)(CSIZE | PARENB);
	t.c_cflag |= CS8;
	t.c_cc[VMIN] = 1;
	t.c_cc[VTIME] = 0;
	return tcsetattr(fd, TCSANOW, &t);
}

static int open_pty(app *a)
{
	const char *name;
	int m = posix_openpt(O_RDWR | O_NOCTTY);
	if (m < 0 || grantpt(m) != 0 || unlockpt(m) != 0 || (name = ptsname(m)) == NULL) {
		perror("fwboard: pty");
		return -1;
	}
	a->keep_fd = open(name, O_RDWR | O_NOCTTY);
	if (a->keep_fd < 0 || make_raw(a->keep_fd) != 0) {
		perror("fwboard: pty slave");
		return -1;
	}
	a->fd = m;
	printf("pty %s\n", name);
	return 0;
}

static int open_port(app *a, const char *path)
{
	a->fd = open(path, O_RDWR | O_NOCTTY);
	if (a->fd < 0 || make_raw(a->fd) != 0) {
		perror(path);
		return -1;
	}
	printf("port %s\n", path);
	return 0;
}

/* ---- commands ---- */

static int parse_u8(const char *s, uint8_t *v)
{
	char *end;
	long n;
	if (s == NULL) {
		return -1;
	}
	n = strtol(s, &end, 10);
	if (*end != '\0' || n < 0 || n > 255) {
		return -1;
	}
	*v = (uint8_t)n;
	return 0;
}

static int parse_press(const char *s, uint8_t *press)
{
	if (s == NULL) {
		return -1;
	}
	if (strcmp(s, "short") == 0) {
		*press = MP_PRESS_SHORT;
	} else if (strcmp(s, "long") == 0) {
		*press = MP_PRESS_LONG;
	} else if (strcmp(s, "double") == 0) {
		*press = MP_PRESS_DOUBLE;
	} else {
		return -1;
	}
	return 0;
}

static int parse_level(const char *s, uint8_t *level)
{
	static const char *const names[] = {"debug", "info", "warn", "error"};
	uint8_t i;
	for (i = 0; s != NULL && i < 4; i++) {
		if (strcmp(s, names[i]) == 0) {
			*level = i;
			return 0;
		}
	}
	return -1;
}

static int load_jpeg(app *a, const char *path)
{
	FILE *fp = fopen(path, "rb");
	size_t n;
	if (fp == NULL) {
		return -1;
	}
	n = fread(a->jpeg, 1, sizeof a->jpeg, fp);
	if (ferror(fp) || (n == sizeof a->jpeg && fgetc(fp) != EOF)) {
		fclose(fp);
		return -1;
	}
	fclose(fp);
	a->jpeg_len = n;
	return 0;
}

static void print_state(const app *a)
{
	const fw *f = &a->board;
	uint8_t i;
	for (i = 0; i < f->cfg.leds; i++) {
		const mp_led *l = &f->leds[i].cmd;
		printf("led %u mode=%u brightness=%u on=%u off=%u\n", i, l->mode, l->brightness, l->on_ms, l->off_ms);
	}
	for (i = 0; i < f->cfg.relays; i++) {
		printf("relay %u on=%u\n", i, f->relays[i].on);
	}
}

static void print_stats(const app *a)
{
	const fw_stats *s = &a->board.stats;
	const mp_decoder_stats *d = &a->board.dec.stats;
	printf("stats frames_in=%lu frames_out=%lu hellos_in=%lu heartbeats_in=%lu commands=%lu duplicates=%lu "
	       "nacks_out=%lu events=%lu retries=%lu events_failed=%lu events_dropped=%lu camera_frames=%lu "
	       "camera_chunks=%lu bytes_in=%lu bad_cobs=%lu bad_length=%lu bad_crc=%lu tx_dropped=%lu\n",
	       (unsigned long)s->frames_in, (unsigned long)s->frames_out, (unsigned long)s->hellos_in,
	       (unsigned long)s->heartbeats_in, (unsigned long)s->commands, (unsigned long)s->duplicates,
	       (unsigned long)s->nacks_out, (unsigned long)s->events, (unsigned long)s->retries,
	       (unsigned long)s->events_failed, (unsigned long)s->events_dropped, (unsigned long)s->camera_frames,
	       (unsigned long)s->camera_chunks, (unsigned long)d->bytes, (unsigned long)d->bad_cobs,
	       (unsigned long)d->bad_length, (unsigned long)d->bad_crc, a->tx_dropped);
}

/* token cuts the next space-separated word off *s; NULL when none is left.
 * *s keeps the rest of the line as it was. */
static char *token(char **s)
{
	char *start = *s, *end;
	while (*start == ' ' || *start == '\t') {
		start++;
	}
	if (*start == '\0') {
		*s = start;
		return NULL;
	}
	end = start;
	while (*end != '\0' && *end != ' ' && *end != '\t') {
		end++;
	}
	if (*end != '\0') {
		*end++ = '\0';
	}
	*s = end;
	return start;
}

/* command runs one stdin line; returns 1 to quit. */
static int command(app *a, char *line)
{
	char *rest = line;
	char *cmd = token(&rest);
	char *arg1 = token(&rest);
	uint8_t id, v;
	if (cmd == NULL) {
		return 0;
	}
	if (strcmp(cmd, "quit") == 0) {
		printf("ok quit\n");
		return 1;
	} else if (strcmp(cmd, "trigger") == 0 && parse_u8(arg1, &id) == 0) {
		if (fw_trigger(&a->board, id) != 0) {
			printf("error trigger: events queue full\n");
			return 0;
		}
	} else if (strcmp(cmd, "isr") == 0 && parse_u8(arg1, &id) == 0 && id < FW_MAX_TRIGGERS) {
		fw_trigger_from_isr(&a->board, id);
	} else if (strcmp(cmd, "button") == 0 && parse_u8(arg1, &id) == 0 && parse_press(token(&rest), &v) == 0) {
		if (fw_button_press(&a->board, id, v) != 0) {
			printf("error button: events queue full\n");
			return 0;
		}
	} else if (strcmp(cmd, "level") == 0 && parse_u8(arg1, &id) == 0 && parse_u8(token(&rest), &v) == 0 && v <= 1) {
		fw_button_level(&a->board, id, v);
	} else if (strcmp(cmd, "sensor") == 0 && parse_u8(arg1, &id) == 0) {
		char *arg2 = token(&rest), *end = NULL;
		double value = arg2 != NULL ? strtod(arg2, &end) : 0;
		if (arg2 == NULL || *end != '\0' || fw_sensor(&a->board, id, (float)value) != 0) {
			printf("error sensor: bad value\n");
			return 0;
		}
	} else if (strcmp(cmd, "log") == 0 && parse_level(arg1, &v) == 0) {
		fw_log(&a->board, v, rest); /* the rest of the line, spaces included */
	} else if (strcmp(cmd, "jpeg") == 0 && arg1 != NULL) {
		if (fw_camera_busy(&a->board)) {
			printf("error jpeg: a frame is still being sent\n");
			return 0;
		}
		if (load_jpeg(a, arg1) != 0) {
			printf("error jpeg: cannot read %s (at most %u bytes)\n", arg1, MAX_JPEG);
			return 0;
		}
		if (fw_camera_send(&a->board, a->jpeg, a->jpeg_len) < 0) {
			printf("error jpeg: refused\n");
			return 0;
		}
		a->jpeg_start = now_s();
	} else if (strcmp(cmd, "reboot") == 0) {
		fw_reboot(&a->board);
	} else if (strcmp(cmd, "state") == 0) {
		print_state(a);
	} else if (strcmp(cmd, "stats") == 0) {
		print_stats(a);
	} else {
		printf("error unknown or malformed command: %s\n", cmd);
		return 0;
	}
	printf("ok %s\n", cmd);
	return 0;
}

/* read_commands reads what stdin has and runs every complete line; returns
 * 1 to quit. */
static int read_commands(app *a)
{
	char buf[1024];
	ssize_t n = read(STDIN_FILENO, buf, sizeof buf);
	ssize_t i;
	if (n <= 0) {
		return n == 0 || errno != EINTR;
	}
	for (i = 0; i < n; i++) {
		if (buf[i] != '\n') {
			if (a->line_len < sizeof a->line - 1) {
				a->line[a->line_len++] = buf[i];
			}
			continue;
		}
		a->line[a->line_len] = '\0';
		a->line_len = 0;
		if (command(a, a->line)) {
			return 1;
		}
	}
	return 0;
}

static int usage(void)
{
	fprintf(stderr, "usage: fwboard (--pty | --port PATH) [--id ID] [--firmware V] [--heartbeat MS] "
	                "[--ack-timeout MS] [--retries N] [--chunk BYTES] [--chunks-per-poll N] [--leds N] "
	                "[--relays N] [--buttons N] [--no-camera] [--baud N]\n");
	return 2;
}

int main(int argc, char **argv)
{
	static app a;
	fw_config cfg;
	fw_hal hal;
	const char *port = NULL;
	int use_pty = 0, i;
	memset(&cfg, 0, sizeof cfg);
	cfg.device_id = "ref-c-0001";
	cfg.leds = 4;
	cfg.relays = 2;
	cfg.buttons = 2;
	cfg.has_camera = 1;
	a.fd = -1;
	a.keep_fd = -1;
	for (i = 1; i < argc; i++) {
		const char *opt = argv[i];
		const char *val = i + 1 < argc ? argv[i + 1] : NULL;
		long n = val != NULL ? strtol(val, NULL, 10) : -1;
		if (strcmp(opt, "--pty") == 0) {
			use_pty = 1;
			continue;
		}
		if (strcmp(opt, "--no-camera") == 0) {
			cfg.has_camera = 0;
			continue;
		}
		if (val == NULL) {
			return usage();
		}
		i++;
		if (strcmp(opt, "--port") == 0) {
			port = val;
		} else if (strcmp(opt, "--id") == 0) {
			cfg.device_id = val;
		} else if (strcmp(opt, "--firmware") == 0) {
			cfg.firmware_version = val;
		} else if (strcmp(opt, "--heartbeat") == 0 && n > 0) {
			cfg.heartbeat_ms = (uint32_t)n;
		} else if (strcmp(opt, "--ack-timeout") == 0 && n > 0) {
			cfg.ack_timeout_ms = (uint32_t)n;
		} else if (strcmp(opt, "--retries") == 0 && n > 0 && n < 256) {
			cfg.retries = (uint8_t)n;
		} else if (strcmp(opt, "--chunk") == 0 && n > 0 && n <= (long)MP_MAX_CHUNK_DATA) {
			cfg.chunk_size = (uint16_t)n;
		} else if (strcmp(opt, "--chunks-per-poll") == 0 && n > 0 && n < 65536) {
			cfg.chunks_per_poll = (uint16_t)n;
		} else if (strcmp(opt, "--leds") == 0 && n >= 0 && n <= (long)FW_MAX_LEDS) {
			cfg.leds = (uint8_t)n;
		} else if (strcmp(opt, "--relays") == 0 && n >= 0 && n <= (long)FW_MAX_RELAYS) {
			cfg.relays = (uint8_t)n;
		} else if (strcmp(opt, "--buttons") == 0 && n >= 0 && n <= (long)FW_MAX_BUTTONS) {
			cfg.buttons = (uint8_t)n;
		} else if (strcmp(opt, "--baud") == 0 && n >= 0) {
			a.baud = n;
		} else {
			return usage();
		}
	}
	if (use_pty == (port != NULL)) {
		return usage();
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	if ((use_pty ? open_pty(&a) : open_port(&a, port)) != 0) {
		return 1;
	}
	if (fcntl(a.fd, F_SETFL, fcntl(a.fd, F_GETFL) | O_NONBLOCK) != 0) {
		perror("fwboard: non-blocking");
		return 1;
	}
	hal.ctx = &a;
	hal.uart_write = hal_uart_write;
	hal.uart_read_byte = hal_uart_read_byte;
	hal.millis = hal_millis;
	hal.led_write = hal_led_write;
	hal.relay_write = hal_relay_write;
	if (fw_init(&a.board, &cfg, &hal) != 0) {
		fprintf(stderr, "fwboard: bad configuration\n");
		return 2;
	}
	for (;;) {
		struct pollfd pfd[2];
		int busy = fw_camera_busy(&a.board);
		pfd[0].fd = a.fd;
		pfd[0].events = POLLIN;
		pfd[1].fd = STDIN_FILENO;
		pfd[1].events = POLLIN;
		if (poll(pfd, 2, busy ? 0 : 1) < 0 && errno != EINTR) {
			perror("fwboard: poll");
			return 1;
		}
		if ((pfd[1].revents & (POLLIN | POLLHUP)) && read_commands(&a)) {
			break;
		}
		fw_poll(&a.board);
		if (busy && !fw_camera_busy(&a.board)) {
			printf("sent frame=%u bytes=%lu chunks=%u ms=%.1f\n", a.board.cam.id, (unsigned long)a.jpeg_len,
			       a.board.cam.count, (now_s() - a.jpeg_start) * 1000.0);
		}
	}
	if (a.keep_fd >= 0) {
		close(a.keep_fd);
	}
	close(a.fd);
	return 0;
}

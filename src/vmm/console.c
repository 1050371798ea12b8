#include "vmm/console.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "hw/pl011.h"
#include "os/log.h"

#define CTRL_A 0x01

struct console {
	int out_fd, in_fd;
	bool owns_out;
	bool raw;                   /* stdin is a tty we switched to raw mode */
	struct termios saved;
	int wake[2];                /* pipe that stops the input thread */
	bool thread_running;
	pthread_t thread;
	struct pl011 *uart;
	void (*on_quit)(void *opaque);
	void *opaque;
};

struct console *console_open(enum vm_console kind, const char *path, char *err, size_t errlen)
{
	struct console *c = calloc(1, sizeof(*c));
	if (!c) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	c->wake[0] = c->wake[1] = -1;
	if (kind == VM_CONSOLE_FILE) {
		c->out_fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (c->out_fd < 0) {
			snprintf(err, errlen, "cannot open console file %s: %s", path, strerror(errno));
			free(c);
			return NULL;
		}
		c->owns_out = true;
		c->in_fd = -1;          /* a file console has no input */
		return c;
	}
	c->out_fd = STDOUT_FILENO;
	c->in_fd = STDIN_FILENO;
	if (isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &c->saved) == 0) {
		struct termios raw = c->saved;
		cfmakeraw(&raw);
		if (tcsetattr(STDIN_FILENO, TCSANOW, &raw) == 0)
			c->raw = true;
	}
	return c;
}

int console_out_fd(const struct console *c)
{
	return c->out_fd;
}

/* Hands bytes to the UART, waiting while its buffer is full; gives up when
 * the console is being closed. */
static bool deliver(struct console *c, const uint8_t *buf, size_t len)
{
	while (len) {
		size_t n = pl011_receive(c->uart, buf, len);
		buf += n;
		len -= n;
		if (len) {
			struct pollfd p = { .fd = c->wake[0], .events = POLLIN };
			if (poll(&p, 1, 10) > 0)
				return false;
		}
	}
	return true;
}

size_t console_escape(bool *escape, const uint8_t *in, size_t n, uint8_t *out, bool *quit)
{
	size_t o = 0;
	for (size_t i = 0; i < n; i++) {
		if (*escape) {
			*escape = false;
			if (in[i] == 'x' || in[i] == 'X') {
				*quit = true;
				continue;
			}
			out[o++] = CTRL_A;     /* Ctrl-A, then the byte itself */
			if (in[i] == CTRL_A)
				continue;      /* ... unless that was Ctrl-A too */
		} else if (in[i] == CTRL_A) {
			*escape = true;
			continue;
		}
		out[o++] = in[i];
	}
	return o;
}

static void *input_thread(void *arg)
{
	struct console *c = arg;
	bool escape = false;
	for (;;) {
		struct pollfd p[2] = {
			{ .fd = c->wake[0], .events = POLLIN },
			{ .fd = c->in_fd, .events = POLLIN },
		};
		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (p[0].revents)
			break;
		if (!p[1].revents)
			continue;
		/* An escape pending from the last read can add one byte. */
		uint8_t in[64], out[sizeof(in) + 1];
		ssize_t n = read(c->in_fd, in, sizeof(in));
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n <= 0)
			break;      /* EOF: the guest simply gets no more input */
		size_t o = (size_t)n;
		if (c->raw) {
			bool quit = false;
			o = console_escape(&escape, in, (size_t)n, out, &quit);
			if (quit)
				c->on_quit(c->opaque);
		} else {
			memcpy(out, in, (size_t)n);
		}
		if (!deliver(c, out, o))
			break;
	}
	return NULL;
}

int console_start_input(struct console *c, struct pl011 *uart,
			void (*on_quit)(void *opaque), void *opaque)
{
	if (c->in_fd < 0)
		return 0;
	c->uart = uart;
	c->on_quit = on_quit;
	c->opaque = opaque;
	if (pipe2(c->wake, O_CLOEXEC) < 0)
		return -errno;
	int r = pthread_create(&c->thread, NULL, input_thread, c);
	if (r)
		return -r;
	c->thread_running = true;
	return 0;
}

void console_close(struct console *c)
{
	if (!c)
		return;
	if (c->thread_running) {
		char b = 0;
		if (write(c->wake[1], &b, 1) < 0)
			pv_warn("console: cannot stop the input thread");
		pthread_join(c->thread, NULL);
	}
	if (c->wake[0] >= 0) {
		close(c->wake[0]);
		close(c->wake[1]);
	}
	if (c->raw)
		tcsetattr(STDIN_FILENO, TCSANOW, &c->saved);
	if (c->owns_out)
		close(c->out_fd);
	free(c);
}

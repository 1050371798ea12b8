/*
 * The serial console's host side: where guest output goes (stdout or a
 * file) and a thread that feeds host input (stdin) to the UART. stdin is put
 * in raw mode only when it is a terminal, and restored on close; in raw mode
 * Ctrl-A x asks the VMM to quit, Ctrl-A Ctrl-A sends a literal Ctrl-A.
 */
#ifndef PV_VMM_CONSOLE_H
#define PV_VMM_CONSOLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vmm/config.h"

struct console;
struct pl011;

/* Opens the output side. Returns NULL with err filled on failure. */
struct console *console_open(enum vm_console kind, const char *path, char *err, size_t errlen);
int console_out_fd(const struct console *c);

/* Starts the input thread feeding uart; on_quit runs on Ctrl-A x. */
int console_start_input(struct console *c, struct pl011 *uart,
			void (*on_quit)(void *opaque), void *opaque);

/* The raw-mode escape filter: copies in to out (room for n + 1 bytes),
 * turning Ctrl-A x into *quit = true and Ctrl-A Ctrl-A into one Ctrl-A;
 * *escape carries a trailing Ctrl-A to the next call. Returns bytes out. */
size_t console_escape(bool *escape, const uint8_t *in, size_t n, uint8_t *out, bool *quit);

/* Stops the input thread, restores the terminal, closes a console file. */
void console_close(struct console *c);

#endif

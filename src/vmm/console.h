/*
 * The serial console's host side: where guest output goes (stdout or a
 * file) and a thread that feeds host input (stdin) to the UART. stdin is put
 * in raw mode only when it is a terminal, and restored on close; in raw mode
 * Ctrl-A x asks the VMM to quit, Ctrl-A Ctrl-A sends a literal Ctrl-A.
 */
#ifndef PV_VMM_CONSOLE_H
#define PV_VMM_CONSOLE_H

#include <stddef.h>

#include "vmm/config.h"

struct console;
struct pl011;

/* Opens the output side. Returns NULL with err filled on failure. */
struct console *console_open(enum vm_console kind, const char *path, char *err, size_t errlen);
int console_out_fd(const struct console *c);

/* Starts the input thread feeding uart; on_quit runs on Ctrl-A x. */
int console_start_input(struct console *c, struct pl011 *uart,
			void (*on_quit)(void *opaque), void *opaque);

/* Stops the input thread, restores the terminal, closes a console file. */
void console_close(struct console *c);

#endif

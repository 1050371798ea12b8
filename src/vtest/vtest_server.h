/*
 * The vtest server: accepts clients on a UNIX socket and serves each one,
 * with its own renderer and context, in a process (or thread) of its own.
 * See docs/vtest-server.md.
 */
#ifndef PV_VTEST_VTEST_SERVER_H
#define PV_VTEST_VTEST_SERVER_H

#include <stdint.h>

#include "vtest/vtest_backend.h"

struct vtest_server;

enum vtest_isolation {
	/* One forked process per client: a crash in the host driver loses
	 * only that client's context. The default. */
	VTEST_ISOLATE_PROCESS,
	/* One thread per client in the server process: one gdb, shared
	 * address space; a driver crash takes every client down. */
	VTEST_ISOLATE_THREAD,
};

struct vtest_server_stats {
	uint64_t clients_accepted;
	uint64_t clients_dropped;   /* disconnected for a protocol/renderer error */
	uint64_t clients_crashed;   /* of those: their process died (signal) */
	uint64_t clients_active;
};

/* Binds the socket. 0 or -errno (logged). */
int vtest_server_create(const char *socket_path, const struct vtest_backend *backend,
			enum vtest_isolation isolation, struct vtest_server **out);
/* Serves until stop_fd becomes readable, then disconnects every client,
 * destroys their contexts and returns 0 (or -errno on a fatal error). */
int vtest_server_run(struct vtest_server *s, int stop_fd);
void vtest_server_get_stats(struct vtest_server *s, struct vtest_server_stats *out);
/* Closes and unlinks the socket. */
void vtest_server_destroy(struct vtest_server *s);

#endif

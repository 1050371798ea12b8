/*
 * A minimal vtest client for tests: speaks the same wire format as Mesa's
 * Venus driver, and can also send deliberately broken messages. Every
 * receive has a timeout so a misbehaving server fails a test instead of
 * hanging it.
 */
#ifndef PV_TESTS_VT_CLIENT_H
#define PV_TESTS_VT_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define VTC_TIMEOUT_MS 10000

int vtc_connect(const char *path);
/* Header [len, cmd] then bytes of payload. 0 or -1. */
int vtc_send(int fd, uint32_t cmd, uint32_t len, const void *payload, size_t bytes);
/* Reads one reply header and up to cap bytes of payload (the rest is
 * discarded). 0, or -1 on timeout/EOF/error. */
int vtc_recv(int fd, uint32_t *cmd, uint32_t *len, void *buf, size_t cap);
int vtc_recv_fd(int fd);
/* True if the server closed the connection within timeout_ms (drops any
 * pending reply bytes first). */
bool vtc_dropped(int fd, int timeout_ms);

/* The Mesa 25 handshake through CONTEXT_INIT(4). 0 or -1 (message on
 * stderr). */
int vtc_handshake(int fd, const char *name);
int vtc_create_blob(int fd, uint32_t type, uint32_t flags, uint64_t size, uint64_t blob_id,
		    uint32_t *res_id, int *blob_fd);
int vtc_sync_create(int fd, uint64_t value, uint32_t *id);
int vtc_sync_read(int fd, uint32_t id, uint64_t *value);
int vtc_sync_write(int fd, uint32_t id, uint64_t value);
/* Returns the eventfd, or -1. */
int vtc_sync_wait(int fd, uint32_t flags, uint32_t timeout_ms, const uint32_t *ids,
		  const uint64_t *values, uint32_t n);
/* True if the eventfd becomes readable within timeout_ms. */
bool vtc_fd_readable(int efd, int timeout_ms);

/* One SUBMIT_CMD2 batch for vtc_submit2. */
struct vtc_batch {
	const uint32_t *cmds;
	uint32_t ndw;
	uint32_t ring_idx;
	uint32_t nsync;
	const uint32_t *sync_ids;
	const uint64_t *sync_values;
};
/* header_dw: 6 (Mesa 25) or 8 (virglrenderer's layout). */
int vtc_submit2(int fd, const struct vtc_batch *b, uint32_t count, uint32_t header_dw);

#endif

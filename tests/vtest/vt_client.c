#include "vt_client.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "os/os_fd.h"
#include "vtest/vtest_wire.h"

int vtc_connect(const char *path)
{
	int fd = os_unix_connect(path);
	if (fd < 0)
		fprintf(stderr, "vtc: connect %s: %s\n", path, strerror(-fd));
	return fd < 0 ? -1 : fd;
}

int vtc_send(int fd, uint32_t cmd, uint32_t len, const void *payload, size_t bytes)
{
	uint32_t hdr[2] = { len, cmd };
	if (os_write_full(fd, hdr, sizeof(hdr)))
		return -1;
	return bytes ? os_write_full(fd, payload, bytes) : 0;
}

static bool wait_in(int fd, int timeout_ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	int n;
	do
		n = poll(&p, 1, timeout_ms);
	while (n < 0 && errno == EINTR);
	return n > 0;
}

static int read_timed(int fd, void *buf, size_t len)
{
	char *p = buf;
	while (len) {
		if (!wait_in(fd, VTC_TIMEOUT_MS))
			return -1;
		ssize_t r = read(fd, p, len);
		if (r <= 0)
			return -1;
		p += r;
		len -= (size_t)r;
	}
	return 0;
}

int vtc_recv(int fd, uint32_t *cmd, uint32_t *len, void *buf, size_t cap)
{
	uint32_t hdr[2];
	if (read_timed(fd, hdr, sizeof(hdr)))
		return -1;
	*len = hdr[0];
	*cmd = hdr[1];
	size_t bytes = (size_t)hdr[0] * 4;
	size_t keep = bytes < cap ? bytes : cap;
	if (keep && read_timed(fd, buf, keep))
		return -1;
	for (size_t left = bytes - keep; left;) {
		char tmp[256];
		size_t n = left < sizeof(tmp) ? left : sizeof(tmp);
		if (read_timed(fd, tmp, n))
			return -1;
		left -= n;
	}
	return 0;
}

int vtc_recv_fd(int fd)
{
	if (!wait_in(fd, VTC_TIMEOUT_MS))
		return -1;
	int r = os_recv_fd(fd);
	return r < 0 ? -1 : r;
}

bool vtc_dropped(int fd, int timeout_ms)
{
	char tmp[4096];
	for (;;) {
		if (!wait_in(fd, timeout_ms))
			return false;
		ssize_t r = read(fd, tmp, sizeof(tmp));
		if (r == 0 || (r < 0 && errno == ECONNRESET))
			return true;
		if (r < 0)
			return false;
	}
}

static int expect(int fd, uint32_t want_cmd, void *buf, size_t bytes, const char *what)
{
	uint32_t cmd, len;
	if (vtc_recv(fd, &cmd, &len, buf, bytes)) {
		fprintf(stderr, "vtc: no reply to %s\n", what);
		return -1;
	}
	if (cmd != want_cmd || (size_t)len * 4 < bytes) {
		fprintf(stderr, "vtc: bad reply to %s: cmd %u len %u\n", what, cmd, len);
		return -1;
	}
	return 0;
}

int vtc_handshake(int fd, const char *name)
{
	uint32_t v[64];
	size_t n = strlen(name) + 1;
	if (vtc_send(fd, VTEST_CMD_CREATE_RENDERER, (uint32_t)n, name, n))
		return -1;
	uint32_t bw[2] = { 0, 0 };
	if (vtc_send(fd, VTEST_CMD_PING_PROTOCOL_VERSION, 0, NULL, 0) ||
	    vtc_send(fd, VTEST_CMD_RESOURCE_BUSY_WAIT, 2, bw, sizeof(bw)))
		return -1;
	if (expect(fd, VTEST_CMD_PING_PROTOCOL_VERSION, v, 0, "PING") ||
	    expect(fd, VTEST_CMD_RESOURCE_BUSY_WAIT, v, 4, "BUSY_WAIT"))
		return -1;
	v[0] = 3;
	if (vtc_send(fd, VTEST_CMD_PROTOCOL_VERSION, 1, v, 4) ||
	    expect(fd, VTEST_CMD_PROTOCOL_VERSION, v, 4, "PROTOCOL_VERSION"))
		return -1;
	if (v[0] != 3) {
		fprintf(stderr, "vtc: protocol version %u\n", v[0]);
		return -1;
	}
	v[0] = VTEST_PARAM_MAX_TIMELINE_COUNT;
	if (vtc_send(fd, VTEST_CMD_GET_PARAM, 1, v, 4) ||
	    expect(fd, VTEST_CMD_GET_PARAM, v, 8, "GET_PARAM"))
		return -1;
	if (!v[0] || v[1] != VTEST_MAX_TIMELINES) {
		fprintf(stderr, "vtc: MAX_TIMELINE_COUNT %u/%u\n", v[0], v[1]);
		return -1;
	}
	v[0] = 4;
	v[1] = 0;
	if (vtc_send(fd, VTEST_CMD_GET_CAPSET, 2, v, 8) ||
	    expect(fd, VTEST_CMD_GET_CAPSET, v, 8, "GET_CAPSET"))
		return -1;
	if (v[0] != 1) {
		fprintf(stderr, "vtc: capset 4 not valid\n");
		return -1;
	}
	v[0] = 4;
	return vtc_send(fd, VTEST_CMD_CONTEXT_INIT, 1, v, 4);
}

int vtc_create_blob(int fd, uint32_t type, uint32_t flags, uint64_t size, uint64_t blob_id,
		    uint32_t *res_id, int *blob_fd)
{
	uint32_t m[6] = { type, flags, (uint32_t)size, (uint32_t)(size >> 32),
			  (uint32_t)blob_id, (uint32_t)(blob_id >> 32) };
	if (vtc_send(fd, VTEST_CMD_RESOURCE_CREATE_BLOB, 6, m, sizeof(m)) ||
	    expect(fd, VTEST_CMD_RESOURCE_CREATE_BLOB, res_id, 4, "RESOURCE_CREATE_BLOB"))
		return -1;
	*blob_fd = vtc_recv_fd(fd);
	return *blob_fd < 0 ? -1 : 0;
}

int vtc_sync_create(int fd, uint64_t value, uint32_t *id)
{
	uint32_t m[2] = { (uint32_t)value, (uint32_t)(value >> 32) };
	if (vtc_send(fd, VTEST_CMD_SYNC_CREATE, 2, m, sizeof(m)))
		return -1;
	return expect(fd, VTEST_CMD_SYNC_CREATE, id, 4, "SYNC_CREATE");
}

int vtc_sync_read(int fd, uint32_t id, uint64_t *value)
{
	uint32_t v[2];
	if (vtc_send(fd, VTEST_CMD_SYNC_READ, 1, &id, 4) ||
	    expect(fd, VTEST_CMD_SYNC_READ, v, 8, "SYNC_READ"))
		return -1;
	*value = v[0] | (uint64_t)v[1] << 32;
	return 0;
}

int vtc_sync_write(int fd, uint32_t id, uint64_t value)
{
	uint32_t m[3] = { id, (uint32_t)value, (uint32_t)(value >> 32) };
	return vtc_send(fd, VTEST_CMD_SYNC_WRITE, 3, m, sizeof(m));
}

int vtc_sync_wait(int fd, uint32_t flags, uint32_t timeout_ms, const uint32_t *ids,
		  const uint64_t *values, uint32_t n)
{
	uint32_t *m = calloc(2 + 3 * (size_t)n, 4);
	if (!m)
		return -1;
	m[0] = flags;
	m[1] = timeout_ms;
	for (uint32_t i = 0; i < n; i++) {
		m[2 + 3 * i] = ids[i];
		m[3 + 3 * i] = (uint32_t)values[i];
		m[4 + 3 * i] = (uint32_t)(values[i] >> 32);
	}
	int r = vtc_send(fd, VTEST_CMD_SYNC_WAIT, 2 + 3 * n, m, (2 + 3 * (size_t)n) * 4);
	free(m);
	uint32_t dummy;
	if (r || expect(fd, VTEST_CMD_SYNC_WAIT, &dummy, 0, "SYNC_WAIT"))
		return -1;
	return vtc_recv_fd(fd);
}

bool vtc_fd_readable(int efd, int timeout_ms)
{
	return wait_in(efd, timeout_ms);
}

int vtc_submit2(int fd, const struct vtc_batch *b, uint32_t count, uint32_t header_dw)
{
	size_t hdr = 1 + (size_t)header_dw * count, cs = 0, syncs = 0;
	for (uint32_t i = 0; i < count; i++) {
		cs += b[i].ndw;
		syncs += 3 * (size_t)b[i].nsync;
	}
	size_t total = hdr + cs + syncs;
	uint32_t *m = calloc(total, 4);
	if (!m)
		return -1;
	m[0] = count;
	size_t cs_off = hdr, sync_off = hdr + cs;
	for (uint32_t i = 0; i < count; i++) {
		uint32_t *h = m + 1 + (size_t)header_dw * i;
		h[0] = VTEST_SUBMIT_CMD2_FLAG_RING_IDX;
		h[1] = (uint32_t)cs_off;
		h[2] = b[i].ndw;
		h[3] = (uint32_t)sync_off;
		h[4] = b[i].nsync;
		h[5] = b[i].ring_idx;
		if (b[i].ndw)
			memcpy(m + cs_off, b[i].cmds, (size_t)b[i].ndw * 4);
		for (uint32_t j = 0; j < b[i].nsync; j++) {
			m[sync_off + 3 * j] = b[i].sync_ids[j];
			m[sync_off + 3 * j + 1] = (uint32_t)b[i].sync_values[j];
			m[sync_off + 3 * j + 2] = (uint32_t)(b[i].sync_values[j] >> 32);
		}
		cs_off += b[i].ndw;
		sync_off += 3 * (size_t)b[i].nsync;
	}
	int r = vtc_send(fd, VTEST_CMD_SUBMIT_CMD2, (uint32_t)total, m, total * 4);
	free(m);
	return r;
}

/*
 * The per-client vtest protocol loop. Every length, id and offset comes
 * from the client and is checked here before use; any violation ends the
 * connection (logged once, with the reason) and only this client's context
 * is destroyed.
 */
#include "vtest/vtest_client.h"
#include "vtest/vtest_timeline.h"

#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "os/log.h"
#include "os/os_fd.h"
#include "os/os_spin.h"
#include "os/os_thread.h"
#include "os/os_time.h"
#include "os/util.h"
#include "vtest/vtest_sync.h"
#include "vtest/vtest_wire.h"

#define VTEST_RX_BYTES 4096u

/* Large enough for any Venus submit Mesa makes over vtest (it splits big
 * streams into shmem); anything bigger is refused. */
#define VTEST_MAX_MSG_BYTES (64u << 20)
#define VTEST_MAX_NAME_BYTES 1024u
#define VTEST_MAX_RESOURCES 65536u
/* Blobs back guest VkDeviceMemory and rings: keep a sanity ceiling so a
 * bogus size cannot reach the renderer. */
#define VTEST_MAX_BLOB_BYTES (64ull << 30)


struct client {
	int fd;
	uint32_t id;
	const struct vtest_backend *be;
	struct venus_renderer *renderer;
	struct venus_context *ctx;
	char name[VTEST_MAX_NAME_BYTES + 1];
	uint32_t protocol_version;
	uint32_t *buf;      /* current message payload */
	size_t buf_cap;     /* bytes */
	uint32_t next_res_id;
	uint32_t *res_ids;  /* live blob resources, sorted (ids only grow) */
	size_t res_count, res_cap;
	uint64_t next_fence_id;
	size_t baseline_objects;
	struct vtest_syncs syncs;
	struct os_spin spin;                      /* polling before a read */
	uint64_t rest_spin_ns;                    /* ... inside a message */
	/* What the last recv brought beyond the bytes asked for: Mesa's
	 * messages are small and often come several at a time, so one system
	 * call (~1-2 µs on a VM) usually reads header, body and more. */
	uint8_t rx[VTEST_RX_BYTES];
	uint32_t rx_pos, rx_len;
	uint64_t msgs[VTEST_CMD_SUBMIT_CMD2 + 1]; /* messages served, per command */
	uint64_t last_sync_read;                  /* for the timeline */
	uint64_t busy_ns;                         /* handling messages */
	struct vtest_timeline *timeline;          /* NULL unless asked for */
	char why[256];      /* reason the client is being dropped */
	bool device_lost_told;
};

__attribute__((format(printf, 2, 3)))
static int fail(struct client *c, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(c->why, sizeof(c->why), fmt, ap);
	va_end(ap);
	return -1;
}

/* Small replies (SYNC_READ's value, ...) go out in one write: the guest
 * reads header and body back to back, and a body written separately could
 * find it asleep again between the two, a second wake-up per reply. */
#define REPLY_INLINE_DW 30

/* Header and body of a reply of at most REPLY_INLINE_DW dwords in msg;
 * returns its size in bytes. */
static size_t pack_reply(uint32_t msg[2 + REPLY_INLINE_DW], uint32_t cmd, const uint32_t *data,
			 uint32_t ndw)
{
	msg[0] = ndw;
	msg[1] = cmd;
	if (ndw)
		memcpy(msg + 2, data, (size_t)ndw * 4);
	return (size_t)(2 + ndw) * 4;
}

static int reply(struct client *c, uint32_t cmd, const uint32_t *data, uint32_t ndw)
{
	uint32_t msg[2 + REPLY_INLINE_DW];
	int err;
	if (ndw <= REPLY_INLINE_DW) {
		err = os_write_full(c->fd, msg, pack_reply(msg, cmd, data, ndw));
	} else {
		const uint32_t hdr[2] = { ndw, cmd };
		err = os_write_full(c->fd, hdr, 8) || os_write_full(c->fd, data, (size_t)ndw * 4);
	}
	if (err)
		return fail(c, "write to client failed: %s", strerror(errno));
	return 0;
}

/* A short reply followed by an fd, as one system call: a guest blocked on
 * the reply is woken once, with the fd already behind it. */
static int reply_fd(struct client *c, uint32_t cmd, const uint32_t *data, uint32_t ndw, int fd)
{
	uint32_t msg[2 + REPLY_INLINE_DW];
	if (ndw > REPLY_INLINE_DW)
		return fail(c, "reply of %u dwords with an fd", ndw);
	int err = os_send_then_fd(c->fd, msg, pack_reply(msg, cmd, data, ndw), fd);
	if (err)
		return fail(c, "sending a reply with an fd failed: %s", strerror(-err));
	return 0;
}

static void fence_retired(void *opaque, uint32_t ring_idx, uint64_t fence_id)
{
	struct client *c = opaque;
	vtest_syncs_fence_retired(&c->syncs, fence_id);
	vtest_timeline_add(c->timeline, VTEST_TL_RETIRE, ring_idx, fence_id);
}

static void renderer_event(void *opaque, enum venus_event ev, uint64_t arg)
{
	static const enum vtest_tl_event tl_event[] = {
		[VENUS_EVENT_RING_BEGIN] = VTEST_TL_RING_BEGIN,
		[VENUS_EVENT_RING_END] = VTEST_TL_RING_END,
		[VENUS_EVENT_QUEUE_CALL] = VTEST_TL_QUEUE_CALL,
	};
	struct client *c = opaque;
	if ((unsigned)ev < ARRAY_SIZE(tl_event))
		vtest_timeline_add(c->timeline, tl_event[ev], 0, arg);
}

static int need_len(struct client *c, const char *what, uint32_t len, uint32_t want)
{
	if (len != want)
		return fail(c, "%s: length %u dwords, expected %u", what, len, want);
	return 0;
}

static int need_ctx(struct client *c, const char *what)
{
	if (!c->ctx)
		return fail(c, "%s before CONTEXT_INIT", what);
	return 0;
}

static int res_find(const struct client *c, uint32_t id)
{
	size_t lo = 0, hi = c->res_count;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (c->res_ids[mid] == id)
			return (int)mid;
		if (c->res_ids[mid] < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

static int do_get_capset(struct client *c, const uint32_t *p)
{
	uint32_t id = p[0], version = p[1];
	if (id != VENUS_CAPSET_ID || version != VENUS_CAPSET_VERSION) {
		uint32_t invalid = 0;
		return reply(c, VTEST_CMD_GET_CAPSET, &invalid, 1);
	}
	size_t size = c->be->get_capset(c->renderer, NULL, 0);
	size_t ndw = (size + 3) / 4;
	uint32_t *out = calloc(1 + ndw, 4);
	if (!out)
		return fail(c, "out of memory for the capset");
	out[0] = 1;
	c->be->get_capset(c->renderer, out + 1, size);
	int ret = reply(c, VTEST_CMD_GET_CAPSET, out, (uint32_t)(1 + ndw));
	free(out);
	return ret;
}

static int do_context_init(struct client *c, const uint32_t *p)
{
	if (c->ctx)
		return fail(c, "CONTEXT_INIT twice");
	if (p[0] != VENUS_CAPSET_ID)
		return fail(c, "CONTEXT_INIT for capset %u (only Venus, %u, is served)", p[0],
			    VENUS_CAPSET_ID);
	const struct venus_context_callbacks cb = {
		.opaque = c,
		.fence_retired = fence_retired,
		.event = c->timeline ? renderer_event : NULL,
	};
	/* Client ids are unique for the server's lifetime, in whichever
	 * process the client is served. */
	uint32_t ctx_id = c->id;
	int err = c->be->context_create(c->renderer, ctx_id, c->name, &cb, &c->ctx);
	if (err) {
		c->ctx = NULL;
		return fail(c, "creating the renderer context failed: %s", strerror(-err));
	}
	c->baseline_objects = c->be->object_count(c->ctx);
	pv_info("vtest: client %u (%s): context %u created", c->id, c->name, ctx_id);
	return 0;
}

static int do_create_blob(struct client *c, const uint32_t *p)
{
	if (need_ctx(c, "RESOURCE_CREATE_BLOB"))
		return -1;
	uint32_t type = p[0], flags = p[1];
	uint64_t size = p[2] | (uint64_t)p[3] << 32;
	uint64_t blob_id = p[4] | (uint64_t)p[5] << 32;
	if (type < VTEST_BLOB_TYPE_GUEST || type > VTEST_BLOB_TYPE_HOST3D_GUEST)
		return fail(c, "RESOURCE_CREATE_BLOB: unknown blob type %u", type);
	if (flags & ~7u)
		return fail(c, "RESOURCE_CREATE_BLOB: unknown flags 0x%x", flags);
	if (size == 0 || size > VTEST_MAX_BLOB_BYTES)
		return fail(c, "RESOURCE_CREATE_BLOB: size %" PRIu64 " out of range", size);
	if (c->res_count >= VTEST_MAX_RESOURCES || c->next_res_id == UINT32_MAX)
		return fail(c, "RESOURCE_CREATE_BLOB: too many resources");
	if (c->res_count == c->res_cap) {
		size_t cap = c->res_cap ? c->res_cap * 2 : 64;
		uint32_t *n = realloc(c->res_ids, cap * sizeof(*n));
		if (!n)
			return fail(c, "out of memory for resources");
		c->res_ids = n;
		c->res_cap = cap;
	}
	uint32_t res_id = c->next_res_id++;
	struct venus_blob blob = { .fd = -1 };
	int err = c->be->create_blob(c->ctx, res_id, type, flags, blob_id, size, &blob);
	if (err)
		return fail(c, "RESOURCE_CREATE_BLOB (type %u, blob id %" PRIu64 ", %" PRIu64
			       " bytes) failed: %s", type, blob_id, size, strerror(-err));
	c->res_ids[c->res_count++] = res_id;
	int ret = reply_fd(c, VTEST_CMD_RESOURCE_CREATE_BLOB, &res_id, 1, blob.fd);
	close(blob.fd);
	return ret;
}

static int do_resource_unref(struct client *c, const uint32_t *p)
{
	int idx = res_find(c, p[0]);
	if (idx < 0)
		return fail(c, "RESOURCE_UNREF of unknown resource %u", p[0]);
	c->be->destroy_resource(c->ctx, p[0]);
	memmove(&c->res_ids[idx], &c->res_ids[idx + 1],
		(c->res_count - (size_t)idx - 1) * sizeof(uint32_t));
	c->res_count--;
	return 0;
}

static int submit_stream(struct client *c, const uint32_t *cmds, uint32_t ndw)
{
	if (!ndw)
		return 0;
	int err = c->be->submit(c->ctx, cmds, (size_t)ndw * 4);
	if (!err && !c->be->is_lost(c->ctx))
		return 0;
	/* A lost host device is not the client's doing: it learns of it the
	 * way its driver expects (the rings' FATAL status, DEVICE_LOST
	 * results), and its fences still retire. Cutting the connection
	 * instead can leave a guest thread waiting on a reply for good
	 * (Mesa 26's vtest_read retries a read that returns EOF). */
	if (c->be->device_lost && c->be->device_lost(c->ctx)) {
		if (!c->device_lost_told) {
			c->device_lost_told = true;
			pv_warn("vtest: client %u (%s): its device is lost; its command "
				"streams are dropped until it disconnects", c->id,
				c->name[0] ? c->name : "?");
		}
		return 0;
	}
	return fail(c, "the renderer rejected the command stream (context lost: %s)",
		    err ? strerror(-err) : "lost");
}

static int do_sync_wait(struct client *c, const uint32_t *p, uint32_t len)
{
	if (len < 2 || (len - 2) % 3)
		return fail(c, "SYNC_WAIT: length %u is not 2 + 3n", len);
	struct vtest_wait_reply w;
	int err = vtest_sync_wait(&c->syncs, p[0], p[1], p + 2, (len - 2) / 3, &w);
	if (err)
		return fail(c, "SYNC_WAIT failed: %s", err == -ENOENT ? "unknown sync id"
							: strerror(-err));
	int ret = reply_fd(c, VTEST_CMD_SYNC_WAIT, NULL, 0, w.fd);
	vtest_sync_wait_done(&c->syncs, &w, ret == 0);
	return ret;
}

/*
 * SUBMIT_CMD2: [count][count headers][cmds...][sync triplets...]. Mesa
 * 25.x writes 6-dword headers while virglrenderer reads 8-dword ones; the
 * first batch's cmd_offset tells which layout the client used (it points
 * just past the headers), and every field is range-checked either way.
 */
static int do_submit_cmd2(struct client *c, const uint32_t *p, uint32_t len)
{
	if (need_ctx(c, "SUBMIT_CMD2"))
		return -1;
	if (len < 1)
		return fail(c, "SUBMIT_CMD2: empty message");
	uint32_t count = p[0];
	if (count == 0)
		return 0;
	if (count > (len - 1) / 6)
		return fail(c, "SUBMIT_CMD2: %u batches do not fit in %u dwords", count, len);
	uint32_t stride = 6;
	if (count <= (len - 1) / 8 && p[1 + VTEST_BATCH_CMD_OFFSET] == 1 + 8 * count &&
	    p[1 + VTEST_BATCH_CMD_OFFSET] != 1 + 6 * count)
		stride = 8;
	uint64_t hdr_end = 1 + (uint64_t)stride * count;

	for (uint32_t i = 0; i < count; i++) {
		const uint32_t *b = p + 1 + (size_t)stride * i;
		uint32_t flags = b[VTEST_BATCH_FLAGS];
		uint32_t cmd_off = b[VTEST_BATCH_CMD_OFFSET], cmd_size = b[VTEST_BATCH_CMD_SIZE];
		uint32_t sync_off = b[VTEST_BATCH_SYNC_OFFSET], sync_count = b[VTEST_BATCH_SYNC_COUNT];
		uint32_t ring = (flags & VTEST_SUBMIT_CMD2_FLAG_RING_IDX) ? b[VTEST_BATCH_RING_IDX] : 0;

		if (flags & ~VTEST_SUBMIT_CMD2_FLAG_RING_IDX)
			return fail(c, "SUBMIT_CMD2 batch %u: unknown flags 0x%x", i, flags);
		if (cmd_size && (cmd_off < hdr_end || !pv_range_ok(cmd_off, cmd_size, len)))
			return fail(c, "SUBMIT_CMD2 batch %u: commands [%u, +%u) outside the "
				       "%u-dword message", i, cmd_off, cmd_size, len);
		if (sync_count > VTEST_MAX_SYNCS ||
		    (sync_count && (sync_off < hdr_end ||
				    !pv_range_ok(sync_off, (uint64_t)sync_count * 3, len))))
			return fail(c, "SUBMIT_CMD2 batch %u: %u syncs at %u outside the "
				       "%u-dword message", i, sync_count, sync_off, len);
		if (ring >= VTEST_MAX_TIMELINES)
			return fail(c, "SUBMIT_CMD2 batch %u: ring %u >= %u", i, ring,
				    VTEST_MAX_TIMELINES);

		if (submit_stream(c, p + cmd_off, cmd_size))
			return -1;
		if (!sync_count)
			continue;
		uint64_t fence_id = ++c->next_fence_id;
		int err = vtest_syncs_add_fence(&c->syncs, fence_id, p + sync_off, sync_count);
		if (err)
			return fail(c, "SUBMIT_CMD2 batch %u: %s", i,
				    err == -ENOENT ? "unknown sync id" : strerror(-err));
		err = c->be->submit_fence(c->ctx, ring, fence_id);
		if (err) {
			vtest_syncs_cancel_fence(&c->syncs, fence_id);
			return fail(c, "SUBMIT_CMD2 batch %u: fence on ring %u failed: %s", i, ring,
				    strerror(-err));
		}
	}
	return 0;
}

static const char *cmd_name(uint32_t cmd)
{
	static const char *const names[] = {
		[VTEST_CMD_GET_CAPS] = "GET_CAPS",
		[VTEST_CMD_RESOURCE_CREATE] = "RESOURCE_CREATE",
		[VTEST_CMD_RESOURCE_UNREF] = "RESOURCE_UNREF",
		[VTEST_CMD_TRANSFER_GET] = "TRANSFER_GET",
		[VTEST_CMD_TRANSFER_PUT] = "TRANSFER_PUT",
		[VTEST_CMD_SUBMIT_CMD] = "SUBMIT_CMD",
		[VTEST_CMD_RESOURCE_BUSY_WAIT] = "RESOURCE_BUSY_WAIT",
		[VTEST_CMD_CREATE_RENDERER] = "CREATE_RENDERER",
		[VTEST_CMD_GET_CAPS2] = "GET_CAPS2",
		[VTEST_CMD_PING_PROTOCOL_VERSION] = "PING_PROTOCOL_VERSION",
		[VTEST_CMD_PROTOCOL_VERSION] = "PROTOCOL_VERSION",
		[VTEST_CMD_RESOURCE_CREATE2] = "RESOURCE_CREATE2",
		[VTEST_CMD_TRANSFER_GET2] = "TRANSFER_GET2",
		[VTEST_CMD_TRANSFER_PUT2] = "TRANSFER_PUT2",
		[VTEST_CMD_GET_PARAM] = "GET_PARAM",
		[VTEST_CMD_GET_CAPSET] = "GET_CAPSET",
		[VTEST_CMD_CONTEXT_INIT] = "CONTEXT_INIT",
		[VTEST_CMD_RESOURCE_CREATE_BLOB] = "RESOURCE_CREATE_BLOB",
		[VTEST_CMD_SYNC_CREATE] = "SYNC_CREATE",
		[VTEST_CMD_SYNC_UNREF] = "SYNC_UNREF",
		[VTEST_CMD_SYNC_READ] = "SYNC_READ",
		[VTEST_CMD_SYNC_WRITE] = "SYNC_WRITE",
		[VTEST_CMD_SYNC_WAIT] = "SYNC_WAIT",
		[VTEST_CMD_SUBMIT_CMD2] = "SUBMIT_CMD2",
	};
	return cmd < ARRAY_SIZE(names) && names[cmd] ? names[cmd] : "unknown";
}

/* Handles one message whose payload (len dwords, or bytes for
 * CREATE_RENDERER) is in c->buf. */
static int dispatch(struct client *c, uint32_t cmd, uint32_t len)
{
	const uint32_t *p = c->buf;
	uint32_t out[2];
	uint64_t v;
	int err;

	/* Before CREATE_RENDERER nothing else makes sense. */
	if (!c->name[0] && cmd != VTEST_CMD_CREATE_RENDERER)
		return fail(c, "%s (%u) before CREATE_RENDERER", cmd_name(cmd), cmd);

	switch (cmd) {
	case VTEST_CMD_CREATE_RENDERER: {
		if (c->name[0])
			return fail(c, "CREATE_RENDERER twice");
		const char *s = (const char *)c->buf;
		size_t n = strnlen(s, len);
		snprintf(c->name, sizeof(c->name), "%.*s", (int)(n ? n : 1), n ? s : "?");
		for (char *q = c->name; *q; q++)
			if (*q < 0x20 || *q > 0x7e)
				*q = '?';
		pv_info("vtest: client %u is '%s'", c->id, c->name);
		return 0;
	}
	case VTEST_CMD_PING_PROTOCOL_VERSION:
		if (need_len(c, "PING_PROTOCOL_VERSION", len, 0))
			return -1;
		return reply(c, VTEST_CMD_PING_PROTOCOL_VERSION, NULL, 0);
	case VTEST_CMD_RESOURCE_BUSY_WAIT:
		if (need_len(c, "RESOURCE_BUSY_WAIT", len, 2))
			return -1;
		/* Blob resources are never busy from vtest's point of view:
		 * completion is tracked with syncs. */
		out[0] = 0;
		return reply(c, VTEST_CMD_RESOURCE_BUSY_WAIT, out, 1);
	case VTEST_CMD_PROTOCOL_VERSION:
		if (need_len(c, "PROTOCOL_VERSION", len, 1))
			return -1;
		c->protocol_version = PV_MIN(p[0], (uint32_t)VTEST_PROTOCOL_VERSION);
		if (c->protocol_version < VTEST_PROTOCOL_VERSION)
			pv_warn("vtest: client %u asks for protocol %u; only %u is served", c->id,
				p[0], VTEST_PROTOCOL_VERSION);
		out[0] = c->protocol_version;
		return reply(c, VTEST_CMD_PROTOCOL_VERSION, out, 1);
	case VTEST_CMD_GET_PARAM:
		if (need_len(c, "GET_PARAM", len, 1))
			return -1;
		out[0] = p[0] == VTEST_PARAM_MAX_TIMELINE_COUNT;
		out[1] = out[0] ? VTEST_MAX_TIMELINES : 0;
		return reply(c, VTEST_CMD_GET_PARAM, out, 2);
	case VTEST_CMD_GET_CAPSET:
		if (need_len(c, "GET_CAPSET", len, 2))
			return -1;
		return do_get_capset(c, p);
	case VTEST_CMD_CONTEXT_INIT:
		if (need_len(c, "CONTEXT_INIT", len, 1))
			return -1;
		return do_context_init(c, p);
	case VTEST_CMD_RESOURCE_CREATE_BLOB:
		if (need_len(c, "RESOURCE_CREATE_BLOB", len, 6))
			return -1;
		return do_create_blob(c, p);
	case VTEST_CMD_RESOURCE_UNREF:
		if (need_len(c, "RESOURCE_UNREF", len, 1) || need_ctx(c, "RESOURCE_UNREF"))
			return -1;
		return do_resource_unref(c, p);
	case VTEST_CMD_SUBMIT_CMD:
		if (need_ctx(c, "SUBMIT_CMD"))
			return -1;
		return submit_stream(c, p, len);
	case VTEST_CMD_SUBMIT_CMD2:
		return do_submit_cmd2(c, p, len);
	case VTEST_CMD_SYNC_CREATE:
		if (need_len(c, "SYNC_CREATE", len, 2))
			return -1;
		err = vtest_sync_create(&c->syncs, p[0] | (uint64_t)p[1] << 32, &out[0]);
		if (err)
			return fail(c, "SYNC_CREATE failed: %s", strerror(-err));
		return reply(c, VTEST_CMD_SYNC_CREATE, out, 1);
	case VTEST_CMD_SYNC_UNREF:
		if (need_len(c, "SYNC_UNREF", len, 1))
			return -1;
		if (vtest_sync_unref(&c->syncs, p[0]))
			return fail(c, "SYNC_UNREF of unknown sync %u", p[0]);
		return 0;
	case VTEST_CMD_SYNC_READ:
		if (need_len(c, "SYNC_READ", len, 1))
			return -1;
		if (vtest_sync_read(&c->syncs, p[0], &v))
			return fail(c, "SYNC_READ of unknown sync %u", p[0]);
		c->last_sync_read = v;
		out[0] = (uint32_t)v;
		out[1] = (uint32_t)(v >> 32);
		return reply(c, VTEST_CMD_SYNC_READ, out, 2);
	case VTEST_CMD_SYNC_WRITE:
		if (need_len(c, "SYNC_WRITE", len, 3))
			return -1;
		if (vtest_sync_write(&c->syncs, p[0], p[1] | (uint64_t)p[2] << 32))
			return fail(c, "SYNC_WRITE of unknown sync %u", p[0]);
		return 0;
	case VTEST_CMD_SYNC_WAIT:
		return do_sync_wait(c, p, len);
	default:
		return fail(c, "unsupported command %s (%u), %u dwords", cmd_name(cmd), cmd, len);
	}
}

/*
 * With polling on, poll the socket for data before a blocking read: between
 * messages for the client's adaptive window (backend->spin_ns, os/os_spin.h),
 * and for up to backend->rest_spin_ns for the rest of a message begun.
 * Mesa's vtest client writes each message in several writes and waits for
 * replies in short succession (submit, sync wait, sync read): a thread
 * asleep in read() costs a wake-up per write, one that polls does not.
 * poll() with no timeout tests the receive queue without its lock, so the
 * polling does not contend with the guest's sends (FIONREAD takes the
 * lock). Readable, hung up or failed: the read that follows decides.
 */
#define VTEST_POLL_GAP_NS 2000ull

static void spin_until_readable(const struct client *c, uint64_t spin_ns)
{
	if (!spin_ns)
		return;
	uint64_t now = os_now_ns(), end = now + spin_ns;
	struct pollfd pfd = { .fd = c->fd, .events = POLLIN };
	for (;;) {
		if (poll(&pfd, 1, 0) != 0)
			return;
		/* Retiring here spares a sleeping fence thread's wake-up on
		 * the way to the guest's SYNC_WAIT or SYNC_READ. */
		if (c->be->poll_fences && c->ctx)
			c->be->poll_fences(c->ctx);
		/* A system call per VTEST_POLL_GAP_NS, pauses in between: on
		 * the H100 machine back-to-back poll()s were seen to slow the
		 * ring thread's replay (docs/PERFORMANCE.md, run 33), and a
		 * couple of µs is small beside the wake-up this saves. */
		uint64_t next = now + VTEST_POLL_GAP_NS;
		do {
			os_cpu_relax_burst();
			now = os_now_ns();
		} while (now < next && now < end);
		if (now >= end)
			return;
	}
}

/* Fills dst with the client's next `len` bytes: first from c->rx, then
 * from the socket, big remainders straight into dst. `started`: bytes of
 * this message already read before this call. 0, or -1 with errno as
 * os_read_full's (ECONNRESET for a close at a message boundary). */
static int rx_read(struct client *c, void *dst, size_t len, size_t started)
{
	uint8_t *p = dst;
	size_t done = 0;
	for (;;) {
		size_t have = c->rx_len - c->rx_pos;
		size_t take = PV_MIN(have, len - done);
		memcpy(p + done, c->rx + c->rx_pos, take);
		c->rx_pos += (uint32_t)take;
		done += take;
		if (done == len)
			return 0;
		c->rx_pos = c->rx_len = 0;
		if (started + done)
			spin_until_readable(c, c->rest_spin_ns);
		bool direct = len - done >= sizeof(c->rx);
		ssize_t r = recv(c->fd, direct ? p + done : c->rx,
				 direct ? len - done : sizeof(c->rx), 0);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -1;
		if (r == 0) {
			errno = started + done ? EPIPE : ECONNRESET;
			return -1;
		}
		if (direct)
			done += (size_t)r;
		else
			c->rx_len = (uint32_t)r;
	}
}

static int read_message(struct client *c, uint32_t *cmd, uint32_t *len, bool *eof)
{
	uint32_t hdr[2];
	*eof = false;
	/* Only a wait for a message not yet begun feeds the adaptive window. */
	bool waits = c->spin.max_ns && c->rx_pos == c->rx_len;
	uint64_t t0 = waits ? os_now_ns() : 0;
	if (waits)
		spin_until_readable(c, c->spin.window_ns);
	int rerr = rx_read(c, hdr, sizeof(hdr), 0);
	if (waits)
		os_spin_update(&c->spin, os_now_ns() - t0);
	if (rerr) {
		if (errno == ECONNRESET) {
			*eof = true;
			return -1;
		}
		return fail(c, "connection %s inside a message header",
			    errno == EPIPE ? "closed" : strerror(errno));
	}
	*len = hdr[0];
	*cmd = hdr[1];
	uint64_t bytes = *cmd == VTEST_CMD_CREATE_RENDERER ? *len : (uint64_t)*len * 4;
	uint64_t limit = *cmd == VTEST_CMD_CREATE_RENDERER ? VTEST_MAX_NAME_BYTES
							   : VTEST_MAX_MSG_BYTES;
	if (bytes > limit)
		return fail(c, "%s (%u): length %u is over the %" PRIu64 "-byte limit",
			    cmd_name(*cmd), *cmd, *len, limit);
	/* +4 keeps CREATE_RENDERER's name NUL-terminable and a zero-length
	 * buffer valid. */
	size_t need = (size_t)bytes + 4;
	if (need > c->buf_cap) {
		size_t cap = PV_MAX(need, c->buf_cap * 2);
		uint32_t *n = realloc(c->buf, cap);
		if (!n)
			return fail(c, "out of memory for a %" PRIu64 "-byte message", bytes);
		c->buf = n;
		c->buf_cap = cap;
	}
	memset((char *)c->buf + bytes, 0, 4);
	if (bytes && rx_read(c, c->buf, (size_t)bytes, sizeof(hdr)))
		return fail(c, "connection %s inside %s (%u), %" PRIu64 " bytes expected",
			    errno == EPIPE ? "closed" : strerror(errno), cmd_name(*cmd), *cmd,
			    bytes);
	return 0;
}

/* How many round trips a workload costs (SYNC_READ polling, SUBMIT_CMD2 per
 * vkQueueSubmit, ...) is what decides small-batch speed over vtest. */
static void log_message_counts(const struct client *c)
{
	if (!pv_log_enabled(PV_LOG_INFO))
		return;
	char line[768];
	size_t n = 0;
	uint64_t total = 0;
	for (uint32_t cmd = 0; cmd < ARRAY_SIZE(c->msgs); cmd++) {
		if (!c->msgs[cmd])
			continue;
		total += c->msgs[cmd];
		int w = snprintf(line + n, sizeof(line) - n, " %s %" PRIu64, cmd_name(cmd),
				 c->msgs[cmd]);
		if (w > 0)
			n = PV_MIN(n + (size_t)w, sizeof(line) - 1);
	}
	line[n] = 0;
	pv_info("vtest: client %u (%s): %" PRIu64 " messages:%s; %.1f ms handling them, "
		"%.1f ms CPU", c->id, c->name[0] ? c->name : "?", total, line,
		c->busy_ns / 1e6, os_thread_cpu_ns() / 1e6);
}

bool vtest_client_serve(int fd, uint32_t client_id, const struct vtest_backend *backend)
{
	struct client *c = calloc(1, sizeof(*c));
	if (!c) {
		pv_err("vtest: client %u: out of memory", client_id);
		return false;
	}
	c->fd = fd;
	c->id = client_id;
	c->be = backend;
	c->next_res_id = 1;
	vtest_syncs_init(&c->syncs);
	os_spin_init(&c->spin, backend->spin_ns);
	c->rest_spin_ns = backend->rest_spin_ns;

	bool clean = false;
	c->timeline = vtest_timeline_open(client_id);
	int err = backend->renderer_create(&backend->renderer_options, &c->renderer);
	if (err)
		fail(c, "cannot create the renderer: %s", strerror(-err));
	for (; !err;) {
		uint32_t cmd = 0, len = 0;
		bool eof;
		if (read_message(c, &cmd, &len, &eof)) {
			clean = eof;
			break;
		}
		vtest_timeline_add(c->timeline, VTEST_TL_READ, cmd, 0);
		uint64_t t0 = os_now_ns();
		if (dispatch(c, cmd, len))
			break;
		c->busy_ns += os_now_ns() - t0;
		if (cmd == VTEST_CMD_SYNC_READ)
			vtest_timeline_add(c->timeline, VTEST_TL_DONE, cmd | (c->buf[0] & 0xffff) << 8,
					   c->last_sync_read);
		else
			vtest_timeline_add(c->timeline, VTEST_TL_DONE, cmd, 0);
		if (cmd < ARRAY_SIZE(c->msgs))
			c->msgs[cmd]++;
	}

	if (clean)
		pv_info("vtest: client %u (%s) disconnected", c->id, c->name[0] ? c->name : "?");
	else
		pv_err("vtest: client %u (%s) dropped: %s", c->id, c->name[0] ? c->name : "?",
		       c->why);
	log_message_counts(c);
	if (c->ctx) {
		size_t live = backend->object_count(c->ctx);
		pv_info("vtest: client %u (%s): %zu live objects at disconnect (baseline %zu), "
			"%zu resources; destroying its context", c->id,
			c->name[0] ? c->name : "?", live, c->baseline_objects, c->res_count);
		/* Stops renderer threads first, so no fence callback can touch
		 * the syncs after they are freed. */
		backend->context_destroy(c->ctx);
	}
	if (c->renderer)
		backend->renderer_destroy(c->renderer);
	vtest_timeline_close(c->timeline);
	/* Tell the peer now that everything it held is gone; the server
	 * closes the fd when it joins this thread. */
	shutdown(fd, SHUT_RDWR);
	vtest_syncs_fini(&c->syncs);
	free(c->res_ids);
	free(c->buf);
	free(c);
	return clean;
}

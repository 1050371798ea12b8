/*
 * libFuzzer target for the vtest protocol loop (src/vtest/vtest_client.c):
 * message framing through the receive buffer, every command's length and
 * field checks, syncs and waits, blobs, SUBMIT_CMD2 batches. The input is
 * the byte stream a client sends, written over a socketpair in pieces whose
 * size the first byte picks (so messages arrive split and coalesced every
 * way); a peer thread drains the replies (fds included) until the server
 * ends the connection. A scripted renderer stands in for Venus: streams are
 * accepted unless their first byte is 0xff (a lost context), fences retire
 * at once, blobs are small memfds.
 * Build and run: tests/fuzz/run.sh vtest_client 60
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "vtest/vtest_client.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct venus_renderer {
	int unused;
};

struct venus_context {
	struct venus_context_callbacks cb;
	bool lost;
};

static int f_renderer_create(const struct venus_renderer_options *opts,
			     struct venus_renderer **out)
{
	(void)opts;
	*out = calloc(1, sizeof(**out));
	return *out ? 0 : -ENOMEM;
}

static void f_renderer_destroy(struct venus_renderer *r)
{
	free(r);
}

static size_t f_capset(struct venus_renderer *r, void *buf, size_t size)
{
	(void)r;
	if (buf)
		memset(buf, 1, size < 160 ? size : 160);
	return 160;
}

static int f_ctx_create(struct venus_renderer *r, uint32_t id, const char *name,
			const struct venus_context_callbacks *cb, struct venus_context **out)
{
	(void)r; (void)id; (void)name;
	struct venus_context *c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->cb = *cb;
	*out = c;
	return 0;
}

static void f_ctx_destroy(struct venus_context *c)
{
	free(c);
}

static int f_submit(struct venus_context *c, const void *cmds, size_t size)
{
	if (size >= 1 && ((const uint8_t *)cmds)[0] == 0xff)
		c->lost = true;
	return c->lost ? -EIO : 0;
}

static bool f_is_lost(const struct venus_context *c)
{
	return c->lost;
}

static int f_create_blob(struct venus_context *c, uint32_t res, uint32_t mem, uint32_t flags,
			 uint64_t blob_id, uint64_t size, struct venus_blob *out)
{
	(void)c; (void)res; (void)mem; (void)flags;
	if (blob_id || size > (1u << 20))
		return -EINVAL;
	int fd = memfd_create("fuzz-blob", MFD_CLOEXEC);
	if (fd < 0)
		return -ENOMEM;
	if (ftruncate(fd, (off_t)size)) {
		close(fd);
		return -ENOMEM;
	}
	*out = (struct venus_blob){ fd, size, VENUS_MAP_CACHE_CACHED };
	return 0;
}

static void f_destroy_resource(struct venus_context *c, uint32_t res)
{
	(void)c; (void)res;
}

static int f_submit_fence(struct venus_context *c, uint32_t ring, uint64_t fence)
{
	c->cb.fence_retired(c->cb.opaque, ring, fence);
	return 0;
}

static size_t f_object_count(const struct venus_context *c)
{
	(void)c;
	return 0;
}

static const struct vtest_backend f_backend = {
	.renderer_create = f_renderer_create,
	.renderer_destroy = f_renderer_destroy,
	.get_capset = f_capset,
	.context_create = f_ctx_create,
	.context_destroy = f_ctx_destroy,
	.submit = f_submit,
	.is_lost = f_is_lost,
	.create_blob = f_create_blob,
	.destroy_resource = f_destroy_resource,
	.submit_fence = f_submit_fence,
	.object_count = f_object_count,
	/* A short in-message poll, so that path is fuzzed too. */
	.rest_spin_ns = 2000,
};

struct peer {
	int fd;
	const uint8_t *data;
	size_t size, piece;
};

/* Writes the input in pieces while draining replies, then half-closes and
 * drains until the server ends the connection. */
static void *peer_main(void *arg)
{
	struct peer *p = arg;
	size_t off = 0;
	char sink[4096];
	for (;;) {
		struct pollfd pfd = { .fd = p->fd,
				      .events = POLLIN | (off < p->size ? POLLOUT : 0) };
		if (poll(&pfd, 1, 5000) <= 0)
			break;
		if (pfd.revents & (POLLIN | POLLHUP | POLLERR)) {
			ssize_t r = read(p->fd, sink, sizeof(sink));
			if (r == 0 || (r < 0 && errno != EINTR && errno != EAGAIN))
				break;
		}
		if (off < p->size && (pfd.revents & POLLOUT)) {
			size_t n = p->size - off < p->piece ? p->size - off : p->piece;
			ssize_t w = send(p->fd, p->data + off, n, MSG_NOSIGNAL | MSG_DONTWAIT);
			if (w < 0 && errno != EAGAIN && errno != EINTR)
				off = p->size; /* the server went away */
			else if (w > 0)
				off += (size_t)w;
			if (off >= p->size)
				shutdown(p->fd, SHUT_WR);
		}
	}
	return NULL;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc; (void)argv;
	setenv("PEARVISOR_LOG", "error", 1);
	unsetenv("PEARVISOR_VTEST_TIMELINE");
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv))
		abort();
	struct peer p = { .fd = sv[1], .data = data + 1, .size = size - 1,
			  .piece = data[0] ? data[0] : 4096 };
	if (p.size == 0)
		shutdown(sv[1], SHUT_WR);
	pthread_t t;
	if (pthread_create(&t, NULL, peer_main, &p))
		abort();
	vtest_client_serve(sv[0], 1, &f_backend);
	close(sv[0]);
	pthread_join(t, NULL);
	close(sv[1]);
	return 0;
}

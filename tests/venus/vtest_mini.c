/*
 * venus-vtest-mini: a deliberately small, single-client vtest server used
 * only to test the Venus renderer against the unmodified Mesa guest driver
 * (VN_DEBUG=vtest) before/independently of the real server in src/vtest.
 * It speaks just what Mesa's vtest backend needs at protocol version 3.
 *
 *   venus-vtest-mini SOCKET_PATH
 *
 * Forks one child per connection (as virgl's vtest does); each prints
 * "objects-left N" when its client disconnects. Exits after the first
 * connection's child ends.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/wait.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "os/log.h"
#include "venus/venus.h"

enum { GET_PARAM = 15, GET_CAPSET = 16, CONTEXT_INIT = 17, CREATE_BLOB = 18,
       SYNC_CREATE = 19, SYNC_UNREF = 20, SYNC_READ = 21, SYNC_WRITE = 22,
       SYNC_WAIT = 23, SUBMIT_CMD2 = 24, RES_UNREF = 3, BUSY_WAIT = 7,
       CREATE_RENDERER = 8, PING = 10, PROTOCOL_VERSION = 11 };

#define MAX_SYNCS 4096

struct server {
	int fd;
	struct venus_renderer *r;
	struct venus_context *ctx;
	pthread_mutex_t lock;
	uint64_t sync_val[MAX_SYNCS];
	bool sync_used[MAX_SYNCS];
	uint32_t next_res;
	/* fence id -> the sync writes it carries */
	struct pending { uint64_t fence; uint32_t n; uint32_t ids[64]; uint64_t vals[64]; } pend[256];
	uint64_t next_fence;
};

static bool rd(int fd, void *buf, size_t n)
{
	char *p = buf;
	while (n) {
		ssize_t r = read(fd, p, n);
		if (r <= 0)
			return false;
		p += r;
		n -= (size_t)r;
	}
	return true;
}

static void wr(int fd, const void *buf, size_t n)
{
	const char *p = buf;
	while (n) {
		ssize_t r = write(fd, p, n);
		if (r <= 0)
			return;
		p += r;
		n -= (size_t)r;
	}
}

static void send_fd(int sock, int fd)
{
	char c = 0, cbuf[CMSG_SPACE(sizeof(int))];
	struct iovec iov = { &c, 1 };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf,
			    .msg_controllen = sizeof(cbuf) };
	struct cmsghdr *cm = CMSG_FIRSTHDR(&m);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	sendmsg(sock, &m, 0);
}

static void reply(struct server *s, uint32_t cmd, const uint32_t *data, uint32_t n)
{
	uint32_t hdr[2] = { n, cmd };
	wr(s->fd, hdr, 8);
	wr(s->fd, data, n * 4);
}

static void fence_retired(void *opaque, uint32_t ring_idx, uint64_t fence_id)
{
	struct server *s = opaque;
	pthread_mutex_lock(&s->lock);
	for (size_t i = 0; i < 256; i++) {
		struct pending *p = &s->pend[i];
		if (p->fence != fence_id || !p->n)
			continue;
		for (uint32_t j = 0; j < p->n; j++)
			if (p->ids[j] < MAX_SYNCS && p->vals[j] > s->sync_val[p->ids[j]])
				s->sync_val[p->ids[j]] = p->vals[j];
		p->n = 0;
	}
	pthread_mutex_unlock(&s->lock);
}

static bool syncs_reached(struct server *s, const uint32_t *t, uint32_t n)
{
	bool ok = true;
	pthread_mutex_lock(&s->lock);
	for (uint32_t i = 0; i < n; i++) {
		uint32_t id = t[3 * i];
		uint64_t v = t[3 * i + 1] | (uint64_t)t[3 * i + 2] << 32;
		if (id >= MAX_SYNCS || s->sync_val[id] < v)
			ok = false;
	}
	pthread_mutex_unlock(&s->lock);
	return ok;
}

static int serve(struct server *s)
{
	uint32_t hdr[2];
	while (rd(s->fd, hdr, 8)) {
		uint32_t len = hdr[0], cmd = hdr[1];
		if (len > (64u << 20) / 4)
			return 1;
		/* CREATE_RENDERER's length counts bytes, not dwords. */
		size_t bytes = cmd == CREATE_RENDERER ? len : (size_t)len * 4;
		uint32_t *d = malloc(bytes + 4);
		if (!d || !rd(s->fd, d, bytes)) {
			free(d);
			return 1;
		}
		uint32_t out[4] = { 0 };
		pv_debug("vtest-mini: cmd %u len %u", cmd, len);
		switch (cmd) {
		case CREATE_RENDERER:
			break;
		case PING:
			reply(s, PING, NULL, 0);
			break;
		case BUSY_WAIT:
			reply(s, BUSY_WAIT, out, 1);
			break;
		case PROTOCOL_VERSION:
			out[0] = 3;
			reply(s, PROTOCOL_VERSION, out, 1);
			break;
		case GET_PARAM:
			out[0] = d[0] == 1; /* MAX_TIMELINE_COUNT */
			out[1] = 64;
			reply(s, GET_PARAM, out, 2);
			break;
		case GET_CAPSET: {
			uint32_t cap[1 + 40] = { d[0] == VENUS_CAPSET_ID };
			size_t n = venus_renderer_get_capset(s->r, cap + 1, 160);
			reply(s, GET_CAPSET, cap, cap[0] ? 1 + (uint32_t)n / 4 : 1);
			break;
		}
		case CONTEXT_INIT: {
			struct venus_context_callbacks cb = { s, fence_retired };
			if (venus_context_create(s->r, 1, "mini", &cb, &s->ctx))
				return 1;
			break;
		}
		case CREATE_BLOB: {
			struct venus_blob b;
			uint32_t res = ++s->next_res;
			uint64_t size = d[2] | (uint64_t)d[3] << 32, id = d[4] | (uint64_t)d[5] << 32;
			int err = s->ctx ? venus_context_create_blob(s->ctx, res, d[0], d[1], id, size, &b) : -1;
			out[0] = err ? 0 : res;
			reply(s, CREATE_BLOB, out, 1);
			int fd = err ? eventfd(0, 0) : b.fd;
			send_fd(s->fd, fd);
			close(fd);
			break;
		}
		case RES_UNREF:
			if (s->ctx)
				venus_context_destroy_resource(s->ctx, d[0]);
			break;
		case SYNC_CREATE:
			for (uint32_t i = 1; i < MAX_SYNCS; i++) {
				if (!s->sync_used[i]) {
					s->sync_used[i] = true;
					s->sync_val[i] = d[0] | (uint64_t)d[1] << 32;
					out[0] = i;
					break;
				}
			}
			reply(s, SYNC_CREATE, out, 1);
			break;
		case SYNC_UNREF:
			if (d[0] < MAX_SYNCS)
				s->sync_used[d[0]] = false;
			break;
		case SYNC_READ:
			pthread_mutex_lock(&s->lock);
			if (d[0] < MAX_SYNCS) {
				out[0] = (uint32_t)s->sync_val[d[0]];
				out[1] = (uint32_t)(s->sync_val[d[0]] >> 32);
			}
			pthread_mutex_unlock(&s->lock);
			reply(s, SYNC_READ, out, 2);
			break;
		case SYNC_WRITE:
			pthread_mutex_lock(&s->lock);
			if (d[0] < MAX_SYNCS)
				s->sync_val[d[0]] = d[1] | (uint64_t)d[2] << 32;
			pthread_mutex_unlock(&s->lock);
			break;
		case SYNC_WAIT: {
			uint32_t n = len >= 2 ? (len - 2) / 3 : 0;
			/* Simple and slow: wait here, then hand back a ready eventfd. */
			for (int spin = 0; spin < 100000 && !syncs_reached(s, d + 2, n); spin++)
				usleep(50);
			int efd = eventfd(1, 0);
			reply(s, SYNC_WAIT, NULL, 0);
			send_fd(s->fd, efd);
			close(efd);
			break;
		}
		case SUBMIT_CMD2: {
			uint32_t nb = len ? d[0] : 0;
			for (uint32_t b = 0; b < nb; b++) {
				/* Mesa writes 6-dword batch headers at protocol 3. */
				const uint32_t *bh = d + 1 + 6 * b;
				if (1 + 6 * (b + 1) > len)
					break;
				uint32_t off = bh[1], sz = bh[2], soff = bh[3], sc = bh[4], ring = bh[5];
				if (off > len || sz > len - off || soff > len || sc > 64 || 3 * sc > len - soff)
					break;
				if (sz && s->ctx)
					venus_context_submit(s->ctx, d + off, sz * 4);
				if (sc && s->ctx) {
					pthread_mutex_lock(&s->lock);
					uint64_t f = ++s->next_fence;
					struct pending *p = &s->pend[f % 256];
					p->fence = f;
					p->n = sc;
					for (uint32_t j = 0; j < sc; j++) {
						p->ids[j] = d[soff + 3 * j];
						p->vals[j] = d[soff + 3 * j + 1] | (uint64_t)d[soff + 3 * j + 2] << 32;
					}
					pthread_mutex_unlock(&s->lock);
					venus_context_submit_fence(s->ctx, ring, f);
				}
			}
			break;
		}
		default:
			fprintf(stderr, "vtest-mini: unhandled command %u\n", cmd);
			free(d);
			return 1;
		}
		free(d);
	}
	return 0;
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: venus-vtest-mini SOCKET_PATH\n");
		return 2;
	}
	static struct server s;
	pthread_mutex_init(&s.lock, NULL);
	struct venus_renderer_options o = { { 0 } };
	if (venus_renderer_create(&o, &s.r))
		return 1;
	int ls = socket(AF_UNIX, SOCK_STREAM, 0);
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	snprintf(a.sun_path, sizeof(a.sun_path), "%s", argv[1]);
	unlink(argv[1]);
	if (bind(ls, (struct sockaddr *)&a, sizeof(a)) || listen(ls, 1)) {
		perror("bind");
		return 1;
	}
	pid_t first = 0;
	for (;;) {
		int c = accept(ls, NULL, NULL);
		if (c < 0)
			return 1;
		pid_t pid = fork();
		if (pid == 0) {
			close(ls);
			s.fd = c;
			break;
		}
		close(c);
		if (!first)
			first = pid;
		int st;
		while (waitpid(-1, &st, WNOHANG) > 0)
			;
		if (kill(first, 0) && errno == ESRCH)
			return 0;
	}
	int rc = serve(&s);
	if (s.ctx) {
		printf("lost %d\n", venus_context_is_lost(s.ctx));
		printf("objects-left %zu\n", venus_context_object_count(s.ctx));
		venus_context_destroy(s.ctx);
	}
	venus_renderer_destroy(s.r);
	close(s.fd);
	return rc;
}

/*
 * vtest-hostile SOCKET: attacks a running gpu-server with malformed vtest
 * messages and malformed Venus streams, one connection per attack, and
 * checks after each that (a) the server closed that connection and (b) a
 * second, well-behaved client connected all along is still served. The
 * last attack kills the server process serving one client, as a host-driver
 * crash would, and checks the server goes on. Prints
 * PASS/FAIL per case; exit status 0 iff all passed.
 */
#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../vtest/vt_client.h"
#include "vtest/vtest_wire.h"

static const char *sock_path;
static int failures;

static void result(const char *name, int ok, const char *detail)
{
	printf("%s hostile-%s%s%s\n", ok ? "PASS" : "FAIL", name, detail ? ": " : "",
	       detail ? detail : "");
	fflush(stdout);
	if (!ok)
		failures++;
}

/* A Venus stream builder: dwords, with 64-bit values split low/high. */
struct stream {
	uint32_t w[64];
	uint32_t n;
};

static void put32(struct stream *s, uint32_t v)
{
	if (s->n < 64)
		s->w[s->n++] = v;
}

static void put64(struct stream *s, uint64_t v)
{
	put32(s, (uint32_t)v);
	put32(s, (uint32_t)(v >> 32));
}

/* Context-queue submit as Mesa does it: SUBMIT_CMD2, one batch, ring 0. */
static int submit_ring0(int fd, const struct stream *s)
{
	struct vtc_batch b = { .cmds = s->w, .ndw = s->n, .ring_idx = 0 };
	return vtc_submit2(fd, &b, 1, 6);
}

static int good_client_ok(int good, uint32_t sync, uint64_t v)
{
	uint64_t got = 0;
	uint32_t res;
	int bfd;
	if (vtc_sync_write(good, sync, v) || vtc_sync_read(good, sync, &got) || got != v)
		return 0;
	if (vtc_create_blob(good, VTEST_BLOB_TYPE_HOST3D, 1, 4096, 0, &res, &bfd))
		return 0;
	void *m = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, bfd, 0);
	int ok = m != MAP_FAILED;
	if (ok) {
		memset(m, 0xa5, 4096);
		munmap(m, 4096);
	}
	close(bfd);
	return ok && !vtc_send(good, VTEST_CMD_RESOURCE_UNREF, 1, &res, 4);
}

enum kind { RAW, HANDSHAKE };

struct attack {
	const char *name;
	enum kind kind;
	/* Sends the attack on fd (after the handshake unless RAW); returns
	 * 0 if it could be sent. */
	int (*send)(int fd);
};

static int a_before_renderer(int fd)
{
	uint32_t p = VTEST_PARAM_MAX_TIMELINE_COUNT;
	return vtc_send(fd, VTEST_CMD_GET_PARAM, 1, &p, 4);
}

static int a_huge_length(int fd)
{
	return vtc_send(fd, VTEST_CMD_SUBMIT_CMD2, 0x40000000u, NULL, 0);
}

static int a_unknown_vtest_cmd(int fd)
{
	uint32_t p = 0;
	return vtc_send(fd, 77, 1, &p, 4);
}

static int a_wrong_fixed_length(int fd)
{
	uint32_t p[4] = { 1, 0, 0, 0 };
	return vtc_send(fd, VTEST_CMD_SYNC_CREATE, 4, p, sizeof(p));
}

static int a_batch_offsets(int fd)
{
	/* One batch claiming commands far past the message end. */
	uint32_t p[7] = { 1, 1, 0x7fffffff, 16, 7, 0, 0 };
	return vtc_send(fd, VTEST_CMD_SUBMIT_CMD2, 7, p, sizeof(p));
}

static int a_sync_overflow(int fd)
{
	uint32_t p[10] = { 1, 1, 7, 0, 7, 0x55555556u, 0, 1, 1, 0 };
	return vtc_send(fd, VTEST_CMD_SUBMIT_CMD2, 10, p, sizeof(p));
}

static int a_ring_idx(int fd)
{
	uint32_t id;
	if (vtc_sync_create(fd, 0, &id))
		return -1;
	uint32_t ids[1] = { id };
	uint64_t vals[1] = { 1 };
	struct vtc_batch b = { .ring_idx = 4096, .nsync = 1, .sync_ids = ids,
			       .sync_values = vals };
	return vtc_submit2(fd, &b, 1, 6);
}

static int a_unknown_sync(int fd)
{
	uint32_t p[5] = { 0, 100, 0xabcdef, 1, 0 };
	return vtc_send(fd, VTEST_CMD_SYNC_WAIT, 5, p, sizeof(p));
}

static int a_unknown_resource(int fd)
{
	uint32_t r = 0x12345;
	return vtc_send(fd, VTEST_CMD_RESOURCE_UNREF, 1, &r, 4);
}

static int a_bogus_blob_id(int fd)
{
	/* A blob naming a VkDeviceMemory id that was never created. */
	uint32_t p[6] = { VTEST_BLOB_TYPE_HOST3D, 1, 4096, 0, 0xbad1d, 0 };
	return vtc_send(fd, VTEST_CMD_RESOURCE_CREATE_BLOB, 6, p, sizeof(p));
}

static int a_huge_blob(int fd)
{
	uint32_t p[6] = { VTEST_BLOB_TYPE_HOST3D, 1, 0, 0x100000, 0, 0 };
	return vtc_send(fd, VTEST_CMD_RESOURCE_CREATE_BLOB, 6, p, sizeof(p));
}

static int a_venus_unknown_cmd(int fd)
{
	struct stream s = { .n = 0 };
	put32(&s, 0x7ffffff0u);
	put32(&s, 0);
	return submit_ring0(fd, &s);
}

static int a_venus_truncated(int fd)
{
	/* vkCreateRingMESA with its arguments missing. */
	struct stream s = { .n = 0 };
	put32(&s, 188);
	put32(&s, 0);
	put32(&s, 1);
	return submit_ring0(fd, &s);
}

static int a_venus_bogus_object(int fd)
{
	/* vkDestroyBuffer(device 0xdead0001, buffer 0xdead0002, NULL). */
	struct stream s = { .n = 0 };
	put32(&s, 51);
	put32(&s, 0);
	put64(&s, 0xdead0001);
	put64(&s, 0xdead0002);
	put64(&s, 0);
	return submit_ring0(fd, &s);
}

static void ring_stream(struct stream *s, uint32_t res, uint64_t size, uint64_t buf_off,
			uint64_t buf_size)
{
	put32(s, 188);          /* vkCreateRingMESA */
	put32(s, 0);
	put64(s, 0x51);         /* ring id */
	put64(s, 1);            /* pCreateInfo present */
	put32(s, 1000384000);   /* VK_STRUCTURE_TYPE_RING_CREATE_INFO_MESA */
	put64(s, 0);            /* pNext */
	put32(s, 0);            /* flags */
	put32(s, res);
	put64(s, 0);            /* offset */
	put64(s, size);
	put64(s, 1000000);      /* idleTimeout */
	put64(s, 0);            /* head */
	put64(s, 4);            /* tail */
	put64(s, 8);            /* status */
	put64(s, buf_off);
	put64(s, buf_size);
	put64(s, 64);           /* extra */
	put64(s, 64);
}

static int a_ring_out_of_range(int fd)
{
	uint32_t res;
	int bfd;
	if (vtc_create_blob(fd, VTEST_BLOB_TYPE_HOST3D, 1, 4096, 0, &res, &bfd))
		return -1;
	close(bfd);
	struct stream s = { .n = 0 };
	/* A 4 KiB blob described as 1 TiB with the buffer 1 GiB in. */
	ring_stream(&s, res, 1ull << 40, 1ull << 30, 1ull << 20);
	return submit_ring0(fd, &s);
}

static int a_ring_bogus_resource(int fd)
{
	struct stream s = { .n = 0 };
	ring_stream(&s, 0x7777, 4096, 128, 1024);
	return submit_ring0(fd, &s);
}

static int a_reply_stream_bogus(int fd)
{
	/* vkSetReplyCommandStreamMESA({resource 0x9999, offset 0, size 4096}). */
	struct stream s = { .n = 0 };
	put32(&s, 178);
	put32(&s, 0);
	put64(&s, 1);
	put32(&s, 0x9999);
	put64(&s, 0);
	put64(&s, 4096);
	return submit_ring0(fd, &s);
}

static const struct attack attacks[] = {
	{ "before-create-renderer", RAW, a_before_renderer },
	{ "huge-length", HANDSHAKE, a_huge_length },
	{ "unknown-vtest-command", HANDSHAKE, a_unknown_vtest_cmd },
	{ "wrong-fixed-length", HANDSHAKE, a_wrong_fixed_length },
	{ "submit2-cmd-offsets", HANDSHAKE, a_batch_offsets },
	{ "submit2-sync-overflow", HANDSHAKE, a_sync_overflow },
	{ "submit2-ring-idx", HANDSHAKE, a_ring_idx },
	{ "sync-wait-unknown-id", HANDSHAKE, a_unknown_sync },
	{ "unref-unknown-resource", HANDSHAKE, a_unknown_resource },
	{ "blob-bogus-memory-id", HANDSHAKE, a_bogus_blob_id },
	{ "blob-huge", HANDSHAKE, a_huge_blob },
	{ "venus-unknown-command", HANDSHAKE, a_venus_unknown_cmd },
	{ "venus-truncated-command", HANDSHAKE, a_venus_truncated },
	{ "venus-bogus-object-id", HANDSHAKE, a_venus_bogus_object },
	{ "venus-ring-out-of-range", HANDSHAKE, a_ring_out_of_range },
	{ "venus-ring-bogus-resource", HANDSHAKE, a_ring_bogus_resource },
	{ "venus-reply-stream-bogus", HANDSHAKE, a_reply_stream_bogus },
};

/* A child that dies by SIGKILL halfway through sending a SUBMIT_CMD2. */
static int killed_mid_submit(void)
{
	pid_t pid = fork();
	if (pid < 0)
		return 0;
	if (pid == 0) {
		int fd = vtc_connect(sock_path);
		if (fd < 0 || vtc_handshake(fd, "killed-mid-submit"))
			_exit(1);
		uint32_t part[10] = { 1, 1, 7, 100, 0, 0, 0, 0, 0, 0 };
		uint32_t hdr[2] = { 500, VTEST_CMD_SUBMIT_CMD2 };
		if (write(fd, hdr, sizeof(hdr)) != sizeof(hdr) ||
		    write(fd, part, sizeof(part)) != sizeof(part))
			_exit(1);
		raise(SIGKILL);
		_exit(1);
	}
	int st;
	waitpid(pid, &st, 0);
	return WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL;
}

/* Children of pid, from /proc: the server's per-client processes. */
static size_t children_of(pid_t pid, pid_t *out, size_t max)
{
	DIR *d = opendir("/proc");
	size_t n = 0;
	struct dirent *e;
	while (d && (e = readdir(d)) && n < max) {
		char path[300], buf[512];
		snprintf(path, sizeof(path), "/proc/%s/stat", e->d_name);
		FILE *f = fopen(path, "r");
		if (!f)
			continue;
		size_t len = fread(buf, 1, sizeof(buf) - 1, f);
		fclose(f);
		buf[len] = 0;
		/* pid (comm) state ppid: comm may hold spaces, so parse
		 * after its closing parenthesis. */
		char *rp = strrchr(buf, ')');
		int ppid;
		if (rp && sscanf(rp + 1, " %*c %d", &ppid) == 1 && ppid == pid)
			out[n++] = atoi(e->d_name);
	}
	if (d)
		closedir(d);
	return n;
}

static int listed(const pid_t *set, size_t n, pid_t p)
{
	for (size_t i = 0; i < n; i++)
		if (set[i] == p)
			return 1;
	return 0;
}

/* Kills (SIGABRT, a driver assertion) the server process that serves a
 * fresh client: that client must see its connection end at once, and
 * nobody else may notice. Needs the server's process-per-client mode. */
static const char *renderer_process_crash(int good, uint32_t gsync, uint64_t round)
{
	/* The server's pid, from the bystander's connection; its children
	 * are listed before connecting, since the server may accept and fork
	 * before connect() returns here. */
	struct ucred cred;
	socklen_t len = sizeof(cred);
	if (getsockopt(good, SOL_SOCKET, SO_PEERCRED, &cred, &len))
		return "no peer credentials";
	pid_t before[256], after[256];
	size_t nb = children_of(cred.pid, before, 256);
	int fd = vtc_connect(sock_path);
	if (fd < 0)
		return "cannot connect";
	if (vtc_handshake(fd, "renderer-process-crash")) {
		close(fd);
		return "handshake failed";
	}
	size_t na = children_of(cred.pid, after, 256);
	pid_t victim = 0;
	for (size_t i = 0; i < na && !victim; i++)
		if (!listed(before, nb, after[i]))
			victim = after[i];
	if (!victim) {
		close(fd);
		return "no new server process for the client (not --isolation process?)";
	}
	kill(victim, SIGABRT);
	int dropped = vtc_dropped(fd, VTC_TIMEOUT_MS);
	close(fd);
	if (!dropped)
		return "the crashed client's connection stayed open";
	return good_client_ok(good, gsync, round) ? NULL : "the bystander client was lost";
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: %s SOCKET\n", argv[0]);
		return 2;
	}
	sock_path = argv[1];
	signal(SIGPIPE, SIG_IGN);
	int good = vtc_connect(sock_path);
	uint32_t gsync = 0;
	if (good < 0 || vtc_handshake(good, "hostile-bystander") ||
	    vtc_sync_create(good, 0, &gsync) || !good_client_ok(good, gsync, 1)) {
		result("bystander-setup", 0, "cannot set up the well-behaved client");
		return 1;
	}
	uint64_t round = 2;
	for (size_t i = 0; i < sizeof(attacks) / sizeof(attacks[0]); i++) {
		const struct attack *a = &attacks[i];
		int fd = vtc_connect(sock_path);
		int sent = fd >= 0 && (a->kind == RAW || !vtc_handshake(fd, a->name)) &&
			   !a->send(fd);
		int dropped = sent && vtc_dropped(fd, VTC_TIMEOUT_MS);
		if (fd >= 0)
			close(fd);
		int alive = good_client_ok(good, gsync, round++);
		result(a->name, sent && dropped && alive,
		       !sent ? "could not send" : !dropped ? "server kept the connection"
				 : !alive ? "the bystander client stopped being served" : NULL);
	}
	int killed = killed_mid_submit();
	int alive = good_client_ok(good, gsync, round++);
	result("killed-mid-submit", killed && alive,
	       !killed ? "child did not die as planned" : !alive ? "bystander lost" : NULL);

	const char *why = renderer_process_crash(good, gsync, round++);
	result("renderer-process-crash", !why, why);
	/* A fresh client still gets a full handshake. */
	int fresh = vtc_connect(sock_path);
	uint32_t fsync = 0;
	result("fresh-client-after-attacks", fresh >= 0 && !vtc_handshake(fresh, "fresh") &&
						     !vtc_sync_create(fresh, 0, &fsync) &&
						     good_client_ok(fresh, fsync, 7), NULL);
	if (fresh >= 0)
		close(fresh);
	close(good);
	return failures ? 1 : 0;
}

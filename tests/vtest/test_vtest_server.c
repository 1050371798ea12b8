/*
 * The vtest server against a scripted renderer: the Mesa handshake, blobs,
 * syncs and multi-batch SUBMIT_CMD2 in both header layouts, hostile
 * messages that must drop only the offending client, and a renderer crash
 * that, under process isolation, loses only that client.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "fake_renderer.h"
#include "../unit/test.h"
#include "vt_client.h"
#include "os/os_fd.h"
#include "vtest/vtest_server.h"
#include "vtest/vtest_wire.h"

struct running {
	struct vtest_backend be; /* the fake renderer, with this run's spin */
	enum vtest_isolation isolation;
	struct vtest_server *server;
	pthread_t thread;
	int stop[2];
	char path[108];
};

static void *serve(void *arg)
{
	struct running *r = arg;
	vtest_server_run(r->server, r->stop[0]);
	return NULL;
}

/* spin_ns > 0: client threads poll their socket before blocking reads,
 * between messages and (for 20 µs) inside one (PEARVISOR_VENUS_SPIN_US),
 * which must not change what the server does. */
static int start_mode(struct running *r, enum vtest_isolation iso, uint64_t spin_ns)
{
	r->isolation = iso;
	snprintf(r->path, sizeof(r->path), "/tmp/pv-vtest-unit-%d.sock", (int)getpid());
	if (pipe(r->stop))
		return -1;
	r->be = fake_backend;
	r->be.spin_ns = spin_ns;
	r->be.rest_spin_ns = spin_ns ? 20000 : 0;
	if (vtest_server_create(r->path, &r->be, iso, &r->server))
		return -1;
	return pthread_create(&r->thread, NULL, serve, r) ? -1 : 0;
}

static int start(struct running *r, enum vtest_isolation iso)
{
	return start_mode(r, iso, 0);
}

static void stop(struct running *r)
{
	char x = 1;
	if (write(r->stop[1], &x, 1) != 1)
		return;
	pthread_join(r->thread, NULL);
	vtest_server_destroy(r->server);
	close(r->stop[0]);
	close(r->stop[1]);
}

static struct vtest_server_stats stats(struct running *r)
{
	struct vtest_server_stats st;
	vtest_server_get_stats(r->server, &st);
	return st;
}

static uint64_t dropped(struct running *r)
{
	return stats(r).clients_dropped;
}

/* Waits until the server has seen every client end: a thread joined or a
 * process reaped. */
static bool settled(struct running *r, uint64_t active)
{
	for (int i = 0; i < 500 && stats(r).clients_active > active; i++)
		usleep(10000);
	return stats(r).clients_active == active;
}

/* Under thread isolation the contexts are visible here; under process
 * isolation a child whose renderer still holds a context at exit aborts
 * (fake_renderer.c), which shows up as a crash. */
static void check_contexts(struct running *r, int live_in_threads)
{
	if (r->isolation == VTEST_ISOLATE_THREAD)
		CHECK_EQ(fake_live_contexts(), live_in_threads);
	else
		CHECK_EQ(fake_live_contexts(), 0);
	CHECK_EQ(stats(r).clients_crashed, 0);
}

/* The client hangs up: the server takes it as a clean close, drops no one
 * and leaves no context behind; then it stops. */
static void close_cleanly(struct running *r, int fd)
{
	close(fd);
	CHECK(settled(r, 0));
	CHECK_EQ(dropped(r), 0);
	check_contexts(r, 0);
	stop(r);
}

static void handshake_blob(enum vtest_isolation iso)
{
	struct running r;
	CHECK_EQ(start(&r, iso), 0);
	int fd = vtc_connect(r.path);
	CHECK(fd >= 0);
	CHECK_EQ(vtc_handshake(fd, "unit"), 0);

	uint32_t res = 0;
	int bfd = -1;
	CHECK_EQ(vtc_create_blob(fd, VTEST_BLOB_TYPE_HOST3D, 1, 8192, 0, &res, &bfd), 0);
	CHECK(res != 0);
	struct stat st;
	CHECK(bfd >= 0 && fstat(bfd, &st) == 0 && st.st_size == 8192);
	void *m = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_SHARED, bfd, 0);
	CHECK(m != MAP_FAILED);
	if (m != MAP_FAILED)
		munmap(m, 8192);
	close(bfd);
	CHECK_EQ(vtc_send(fd, VTEST_CMD_RESOURCE_UNREF, 1, &res, 4), 0);

	/* A v1 SUBMIT_CMD with a valid stream is accepted silently. */
	uint32_t ops[] = { FAKE_OP_CREATE, FAKE_OP_DESTROY };
	CHECK_EQ(vtc_send(fd, VTEST_CMD_SUBMIT_CMD, 2, ops, sizeof(ops)), 0);
	uint32_t id;
	CHECK_EQ(vtc_sync_create(fd, 3, &id), 0);
	close_cleanly(&r, fd);
}

TEST(handshake_blob_and_clean_disconnect_process)
{
	handshake_blob(VTEST_ISOLATE_PROCESS);
}

TEST(handshake_blob_and_clean_disconnect_thread)
{
	handshake_blob(VTEST_ISOLATE_THREAD);
}

static void submit2_layout(enum vtest_isolation iso, uint32_t header_dw, uint64_t spin_ns)
{
	struct running r;
	CHECK_EQ(start_mode(&r, iso, spin_ns), 0);
	int fd = vtc_connect(r.path);
	CHECK_EQ(vtc_handshake(fd, "submit2"), 0);
	uint32_t a, b;
	CHECK_EQ(vtc_sync_create(fd, 0, &a), 0);
	CHECK_EQ(vtc_sync_create(fd, 0, &b), 0);

	uint32_t ops0[] = { FAKE_OP_CREATE, FAKE_OP_CREATE };
	uint32_t ops1[] = { FAKE_OP_NOP };
	uint64_t va = 5, vb = 7;
	struct vtc_batch batches[3] = {
		{ .cmds = ops0, .ndw = 2, .ring_idx = 1, .nsync = 1, .sync_ids = &a,
		  .sync_values = &va },
		{ .cmds = ops1, .ndw = 1, .ring_idx = 2, .nsync = 1, .sync_ids = &b,
		  .sync_values = &vb },
		{ .cmds = NULL, .ndw = 0, .ring_idx = 0 },
	};
	uint32_t ids[2] = { a, b };
	uint64_t vals[2] = { 5, 7 };
	int efd = vtc_sync_wait(fd, 0, 5000, ids, vals, 2);
	CHECK(efd >= 0);
	CHECK(!vtc_fd_readable(efd, 20));
	CHECK_EQ(vtc_submit2(fd, batches, 3, header_dw), 0);
	CHECK(vtc_fd_readable(efd, 5000));
	close(efd);
	uint64_t v = 0;
	CHECK_EQ(vtc_sync_read(fd, a, &v), 0);
	CHECK_EQ(v, 5);
	CHECK_EQ(vtc_sync_read(fd, b, &v), 0);
	CHECK_EQ(v, 7);

	/* WAIT_ANY fires on one of two; a plain SYNC_WRITE signals waits. */
	vals[0] = 6;
	vals[1] = 100;
	efd = vtc_sync_wait(fd, VTEST_SYNC_WAIT_FLAG_ANY, UINT32_MAX, ids, vals, 2);
	CHECK(efd >= 0 && !vtc_fd_readable(efd, 20));
	CHECK_EQ(vtc_sync_write(fd, a, 6), 0);
	CHECK(vtc_fd_readable(efd, 5000));
	close(efd);
	/* An already reached value gives a readable fd at once. */
	efd = vtc_sync_wait(fd, 0, 0, ids, vals, 1);
	CHECK(efd >= 0 && vtc_fd_readable(efd, 0));
	close(efd);
	close_cleanly(&r, fd);
}

TEST(submit_cmd2_mesa_6dw_headers)
{
	submit2_layout(VTEST_ISOLATE_PROCESS, 6, 0);
}

TEST(submit_cmd2_virgl_8dw_headers)
{
	submit2_layout(VTEST_ISOLATE_PROCESS, 8, 0);
}

TEST(submit_cmd2_in_client_threads)
{
	submit2_layout(VTEST_ISOLATE_THREAD, 6, 0);
}

TEST(submit_cmd2_spinning_client_processes)
{
	submit2_layout(VTEST_ISOLATE_PROCESS, 6, 2000000);
}

/*
 * The server reads whatever the socket holds at once and keeps the surplus:
 * several messages in one write, one message in many writes with pauses
 * (longer than the in-message poll, so the reads block mid-message), and a
 * body bigger than the receive buffer in pieces must all parse the same.
 * A wait that already holds gets a fd that stays readable, even after the
 * client reads it.
 */
static void framing(enum vtest_isolation iso, uint64_t spin_ns)
{
	struct running r;
	CHECK_EQ(start_mode(&r, iso, spin_ns), 0);
	int fd = vtc_connect(r.path);
	CHECK_EQ(vtc_handshake(fd, "framing"), 0);
	uint32_t a, b;
	CHECK_EQ(vtc_sync_create(fd, 0, &a), 0);
	CHECK_EQ(vtc_sync_create(fd, 0, &b), 0);

	/* SYNC_WRITE a=3, SYNC_WRITE b=4, SYNC_READ a: one write. */
	uint32_t three[] = { 3, VTEST_CMD_SYNC_WRITE, a, 3, 0,
			     3, VTEST_CMD_SYNC_WRITE, b, 4, 0,
			     1, VTEST_CMD_SYNC_READ, a };
	CHECK_EQ(os_write_full(fd, three, sizeof(three)), 0);
	uint32_t cmd = 0, len = 0, v2[2] = { 0, 0 };
	CHECK_EQ(vtc_recv(fd, &cmd, &len, v2, sizeof(v2)), 0);
	CHECK(cmd == VTEST_CMD_SYNC_READ && len == 2 && v2[0] == 3 && v2[1] == 0);

	/* SYNC_READ b, a byte at a time, 2 ms apart. */
	uint32_t read_b[] = { 1, VTEST_CMD_SYNC_READ, b };
	for (size_t i = 0; i < sizeof(read_b); i++) {
		CHECK_EQ(os_write_full(fd, (const char *)read_b + i, 1), 0);
		usleep(2000);
	}
	CHECK_EQ(vtc_recv(fd, &cmd, &len, v2, sizeof(v2)), 0);
	CHECK(cmd == VTEST_CMD_SYNC_READ && len == 2 && v2[0] == 4);

	/* A 12 KiB SUBMIT_CMD of no-ops in three pieces, then SYNC_WRITE b=5
	 * in the same write as the last piece. */
	enum { NOPS = 3072 };
	uint32_t *big = malloc((2 + NOPS + 5) * 4);
	CHECK(big != NULL);
	if (big) {
		big[0] = NOPS;
		big[1] = VTEST_CMD_SUBMIT_CMD;
		for (int i = 0; i < NOPS; i++)
			big[2 + i] = FAKE_OP_NOP;
		uint32_t tail[] = { 3, VTEST_CMD_SYNC_WRITE, b, 5, 0 };
		memcpy(big + 2 + NOPS, tail, sizeof(tail));
		size_t total = (2 + NOPS + 5) * 4, cut1 = 5, cut2 = 6000;
		CHECK_EQ(os_write_full(fd, big, cut1), 0);
		usleep(2000);
		CHECK_EQ(os_write_full(fd, (char *)big + cut1, cut2 - cut1), 0);
		usleep(2000);
		CHECK_EQ(os_write_full(fd, (char *)big + cut2, total - cut2), 0);
		free(big);
	}
	uint64_t v = 0;
	CHECK_EQ(vtc_sync_read(fd, b, &v), 0);
	CHECK_EQ(v, 5);

	/* Ready waits: readable at once, each time, though the client drains
	 * what it was handed. */
	uint32_t ids[1] = { a };
	uint64_t vals[1] = { 3 };
	for (int i = 0; i < 3; i++) {
		int efd = vtc_sync_wait(fd, 0, 5000, ids, vals, 1);
		CHECK(efd >= 0 && vtc_fd_readable(efd, 0));
		uint64_t got = 0;
		if (efd >= 0)
			CHECK_EQ(read(efd, &got, sizeof(got)), (ssize_t)sizeof(got));
		close(efd);
	}
	/* ... and one not yet reached is still not readable. */
	vals[0] = 9;
	int efd = vtc_sync_wait(fd, 0, 0, ids, vals, 1);
	CHECK(efd >= 0 && !vtc_fd_readable(efd, 20));
	close(efd);
	close_cleanly(&r, fd);
}

TEST(framing_and_ready_waits_process)
{
	framing(VTEST_ISOLATE_PROCESS, 0);
}

TEST(framing_and_ready_waits_spinning_threads)
{
	framing(VTEST_ISOLATE_THREAD, 2000000);
}

/* Each hostile sequence runs on its own connection after a full handshake
 * (unless raw), and must end with the server closing that connection. */
struct hostile {
	const char *name;
	bool raw;        /* skip the handshake */
	uint32_t cmd, len;
	uint32_t payload[16];
	size_t bytes;
	bool truncate;   /* close right after sending */
};

static void hostile_messages(enum vtest_isolation iso, uint64_t spin_ns)
{
	struct running r;
	CHECK_EQ(start_mode(&r, iso, spin_ns), 0);
	int good = vtc_connect(r.path);
	CHECK_EQ(vtc_handshake(good, "good"), 0);
	uint32_t gs;
	CHECK_EQ(vtc_sync_create(good, 1, &gs), 0);

	const uint32_t bad_op = 0xdeadbeef;
	const struct hostile cases[] = {
		{ "command before CREATE_RENDERER", true, VTEST_CMD_GET_PARAM, 1, { 1 }, 4, false },
		{ "huge length", false, VTEST_CMD_SUBMIT_CMD, 0xffffffffu, { 0 }, 0, false },
		{ "huge renderer name", true, VTEST_CMD_CREATE_RENDERER, 1u << 20, { 0 }, 0, false },
		{ "unknown command", false, 99, 1, { 0 }, 4, false },
		{ "GET_PARAM with wrong length", false, VTEST_CMD_GET_PARAM, 3, { 1, 2, 3 }, 12, false },
		{ "truncated SUBMIT_CMD", false, VTEST_CMD_SUBMIT_CMD, 10, { FAKE_OP_NOP }, 4, true },
		{ "malformed Venus stream", false, VTEST_CMD_SUBMIT_CMD, 1, { bad_op }, 4, false },
		{ "SUBMIT_CMD2 too many batches", false, VTEST_CMD_SUBMIT_CMD2, 2,
		  { 0x10000000, 0 }, 8, false },
		{ "SUBMIT_CMD2 cmd range outside", false, VTEST_CMD_SUBMIT_CMD2, 7,
		  { 1, 1, 7, 0xfffffff0u, 0, 0, 0 }, 28, false },
		{ "SUBMIT_CMD2 cmds overlap headers", false, VTEST_CMD_SUBMIT_CMD2, 8,
		  { 1, 1, 1, 1, 0, 0, 0, FAKE_OP_NOP }, 32, false },
		{ "SUBMIT_CMD2 sync range overflow", false, VTEST_CMD_SUBMIT_CMD2, 7,
		  { 1, 1, 7, 0, 7, 0x55555556u, 1 }, 28, false },
		{ "SUBMIT_CMD2 ring 64", false, VTEST_CMD_SUBMIT_CMD2, 10,
		  { 1, 1, 7, 0, 7, 1, 64, 1, 1, 0 }, 40, false },
		{ "SUBMIT_CMD2 unknown sync id", false, VTEST_CMD_SUBMIT_CMD2, 10,
		  { 1, 1, 7, 0, 7, 1, 1, 12345, 1, 0 }, 40, false },
		{ "SUBMIT_CMD2 unknown flags", false, VTEST_CMD_SUBMIT_CMD2, 7,
		  { 1, 0x80, 7, 0, 7, 0, 0 }, 28, false },
		{ "SYNC_UNREF unknown id", false, VTEST_CMD_SYNC_UNREF, 1, { 777 }, 4, false },
		{ "SYNC_WAIT unknown id", false, VTEST_CMD_SYNC_WAIT, 5, { 0, 10, 777, 1, 0 }, 20, false },
		{ "SYNC_WAIT bad length", false, VTEST_CMD_SYNC_WAIT, 4, { 0, 10, 1, 1 }, 16, false },
		{ "RESOURCE_UNREF unknown id", false, VTEST_CMD_RESOURCE_UNREF, 1, { 55 }, 4, false },
		{ "blob of size 0", false, VTEST_CMD_RESOURCE_CREATE_BLOB, 6, { 2, 1, 0, 0, 0, 0 }, 24, false },
		{ "blob of unknown type", false, VTEST_CMD_RESOURCE_CREATE_BLOB, 6,
		  { 9, 1, 4096, 0, 0, 0 }, 24, false },
		{ "blob the renderer refuses", false, VTEST_CMD_RESOURCE_CREATE_BLOB, 6,
		  { 2, 1, 4096, 0, 42, 0 }, 24, false },
		{ "second CONTEXT_INIT", false, VTEST_CMD_CONTEXT_INIT, 1, { 4 }, 4, false },
	};
	uint64_t before = dropped(&r);
	for (size_t i = 0; i < (sizeof(cases) / sizeof(cases[0])); i++) {
		const struct hostile *h = &cases[i];
		int fd = vtc_connect(r.path);
		if (!h->raw)
			CHECK_EQ(vtc_handshake(fd, h->name), 0);
		CHECK_EQ(vtc_send(fd, h->cmd, h->len, h->payload, h->bytes), 0);
		if (h->truncate)
			close(fd);
		else if (!vtc_dropped(fd, 5000)) {
			fprintf(stderr, "  not dropped: %s\n", h->name);
			CHECK(0);
		}
		if (!h->truncate)
			close(fd);
		/* The good client is still served after every attack. */
		uint64_t v = 0;
		CHECK_EQ(vtc_sync_write(good, gs, i + 2), 0);
		CHECK_EQ(vtc_sync_read(good, gs, &v), 0);
		CHECK_EQ(v, i + 2);
	}
	for (int i = 0; i < 200 && dropped(&r) < before + (sizeof(cases) / sizeof(cases[0])); i++)
		usleep(10000);
	CHECK_EQ(dropped(&r), before + (sizeof(cases) / sizeof(cases[0])));
	CHECK(settled(&r, 1));
	check_contexts(&r, 1);
	close(good);
	CHECK(settled(&r, 0));
	check_contexts(&r, 0);
	stop(&r);
}

TEST(hostile_messages_drop_only_that_client_process)
{
	hostile_messages(VTEST_ISOLATE_PROCESS, 0);
}

TEST(hostile_messages_drop_only_that_client_thread)
{
	hostile_messages(VTEST_ISOLATE_THREAD, 0);
}

/* Truncated messages and peers that vanish are told apart from "not yet"
 * while a client polls its socket. */
TEST(hostile_messages_spinning_client_threads)
{
	hostile_messages(VTEST_ISOLATE_THREAD, 2000000);
}

static void stop_disconnects(enum vtest_isolation iso)
{
	struct running r;
	CHECK_EQ(start(&r, iso), 0);
	int fd[3];
	for (int i = 0; i < 3; i++) {
		fd[i] = vtc_connect(r.path);
		CHECK_EQ(vtc_handshake(fd[i], "idle"), 0);
	}
	/* Half a message: the client thread is blocked reading the rest. */
	uint32_t part = FAKE_OP_NOP;
	CHECK_EQ(vtc_send(fd[0], VTEST_CMD_SUBMIT_CMD, 4, &part, 4), 0);
	uint32_t id;
	CHECK_EQ(vtc_sync_create(fd[2], 0, &id), 0);
	stop(&r);
	CHECK_EQ(fake_live_contexts(), 0);
	for (int i = 0; i < 3; i++) {
		CHECK(vtc_dropped(fd[i], 5000));
		close(fd[i]);
	}
}

TEST(stop_disconnects_blocked_clients_process)
{
	stop_disconnects(VTEST_ISOLATE_PROCESS);
}

TEST(stop_disconnects_blocked_clients_thread)
{
	stop_disconnects(VTEST_ISOLATE_THREAD);
}

/* A renderer that dies mid-submit (a host-driver crash) takes its own
 * client's connection with it and nothing else: the other clients keep
 * their state and the server goes on accepting. */
/* A device loss is not the client's doing: its connection stays up, its
 * later streams are dropped, and their fences still retire, so that a
 * guest waiting on one learns of the loss its driver's way instead of
 * waiting on a closed socket. */
TEST(device_loss_keeps_the_connection)
{
	struct running r;
	CHECK_EQ(start(&r, VTEST_ISOLATE_PROCESS), 0);
	int fd = vtc_connect(r.path);
	CHECK_EQ(vtc_handshake(fd, "device lost"), 0);
	uint32_t s;
	CHECK_EQ(vtc_sync_create(fd, 0, &s), 0);
	uint32_t lose[] = { FAKE_OP_CREATE, FAKE_OP_LOSE_DEVICE };
	CHECK_EQ(vtc_send(fd, VTEST_CMD_SUBMIT_CMD, 2, lose, sizeof(lose)), 0);
	uint32_t nop = FAKE_OP_NOP;
	uint64_t one = 1;
	struct vtc_batch b = { .cmds = &nop, .ndw = 1, .ring_idx = 0, .nsync = 1,
			       .sync_ids = &s, .sync_values = &one };
	CHECK_EQ(vtc_submit2(fd, &b, 1, 6), 0);
	int efd = vtc_sync_wait(fd, 0, 5000, &s, &one, 1);
	CHECK(efd >= 0);
	CHECK(vtc_fd_readable(efd, 5000));
	close(efd);
	CHECK(!vtc_dropped(fd, 100));
	CHECK_EQ(stats(&r).clients_dropped, 0);
	close(fd);
	CHECK(settled(&r, 0));
	stop(&r);
}

TEST(crashing_renderer_loses_only_its_client)
{
	struct running r;
	CHECK_EQ(start(&r, VTEST_ISOLATE_PROCESS), 0);
	int good = vtc_connect(r.path);
	CHECK_EQ(vtc_handshake(good, "good"), 0);
	uint32_t gs;
	CHECK_EQ(vtc_sync_create(good, 1, &gs), 0);

	int bad = vtc_connect(r.path);
	CHECK_EQ(vtc_handshake(bad, "crashes"), 0);
	uint32_t ops[] = { FAKE_OP_CREATE, FAKE_OP_CRASH };
	CHECK_EQ(vtc_send(bad, VTEST_CMD_SUBMIT_CMD, 2, ops, sizeof(ops)), 0);
	/* EOF as soon as the server reaps the process, not when it stops. */
	CHECK(vtc_dropped(bad, 5000));
	close(bad);
	CHECK(settled(&r, 1));
	struct vtest_server_stats st = stats(&r);
	CHECK_EQ(st.clients_crashed, 1);
	CHECK_EQ(st.clients_dropped, 1);

	uint64_t v = 0;
	CHECK_EQ(vtc_sync_write(good, gs, 9), 0);
	CHECK_EQ(vtc_sync_read(good, gs, &v), 0);
	CHECK_EQ(v, 9);
	int late = vtc_connect(r.path);
	CHECK_EQ(vtc_handshake(late, "after the crash"), 0);
	uint32_t ls;
	CHECK_EQ(vtc_sync_create(late, 4, &ls), 0);
	CHECK_EQ(vtc_sync_read(late, ls, &v), 0);
	CHECK_EQ(v, 4);
	close(late);
	close(good);
	CHECK(settled(&r, 0));
	st = stats(&r);
	CHECK_EQ(st.clients_crashed, 1);
	CHECK_EQ(st.clients_dropped, 1);
	CHECK_EQ(st.clients_accepted, 3);
	stop(&r);
}

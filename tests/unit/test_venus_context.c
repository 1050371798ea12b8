/*
 * Venus context tests through the public API: loss on hostile streams,
 * ring layout validation, and a ring round trip (command in the ring,
 * reply in a reply stream, head published) with no guest driver.
 */
#include <sched.h>
#include <stdio.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "test.h"
#include "venus/venus.h"
#include "venus/vn_codec.h"
#include "venus/vn_internal.h"
#include "venus_buf.h"

static struct venus_renderer *renderer(void)
{
	static struct venus_renderer *r;
	struct venus_renderer_options o = { { 0 } };
	/* Fence attach and chaining (the defaults, set in case the
	 * environment turns them off):
	 * venus_device_life_cycle_and_semaphore_resources holds them to their
	 * contracts. */
	setenv("PEARVISOR_VENUS_FENCE_ATTACH", "1", 1);
	setenv("PEARVISOR_VENUS_FENCE_CHAIN", "1", 1);
	if (!r)
		CHECK_EQ(venus_renderer_create(&o, &r), 0);
	return r;
}

/* Fences retire on renderer threads (or a polling caller's); in order
 * on each timeline, which the ids below rise along. */
static _Atomic unsigned retired;
static _Atomic uint64_t last_retired[4];
static _Atomic unsigned out_of_order;
static void on_retire(void *opaque, uint32_t ring_idx, uint64_t fence_id)
{
	if (ring_idx < 4 && atomic_exchange(&last_retired[ring_idx], fence_id) > fence_id)
		atomic_fetch_add(&out_of_order, 1);
	atomic_fetch_add(&retired, (unsigned)fence_id);
}

static struct venus_context *context(void)
{
	struct venus_context *ctx = NULL;
	struct venus_context_callbacks cb = { .opaque = NULL, .fence_retired = on_retire };
	CHECK_EQ(venus_context_create(renderer(), 7, "test", &cb, &ctx), 0);
	return ctx;
}

TEST(venus_capset_layout)
{
	uint32_t cap[40];
	CHECK_EQ(venus_renderer_get_capset(renderer(), cap, sizeof(cap)), 160);
	CHECK_EQ(cap[0], 1);                         /* wire format */
	CHECK(cap[1] >= VK_MAKE_API_VERSION(0, 1, 3, 0));
	CHECK_EQ(cap[2], 1);                         /* command serialization */
	CHECK_EQ(cap[3], 2);                         /* venus protocol spec */
	CHECK_EQ(cap[4], 1);                         /* blob id 0 */
	CHECK(cap[5] & 1);                           /* mask valid */
	CHECK(cap[5 + 385 / 32] & (1u << (385 % 32)));
	CHECK_EQ(cap[37], 1);
	CHECK_EQ(cap[38], 1);
}

TEST(venus_unknown_command_loses_context)
{
	struct venus_context *ctx = context();
	struct buf b = { .n = 0 };
	u32(&b, 100000);
	u32(&b, 0);
	CHECK_EQ(venus_context_submit(ctx, b.d, b.n), -5);
	CHECK(venus_context_is_lost(ctx));
	/* A lost context refuses everything else. */
	b.n = 0;
	u32(&b, VN_CMD_vkNotifyRingMESA);
	CHECK_EQ(venus_context_submit(ctx, b.d, b.n), -5);
	venus_context_destroy(ctx);
}

TEST(venus_truncated_header_and_fence)
{
	struct venus_context *ctx = context();
	uint8_t three[3] = { 1, 2, 3 };
	CHECK_EQ(venus_context_submit(ctx, three, 3), -5);
	venus_context_destroy(ctx);
	ctx = context();
	unsigned before = atomic_load(&retired);
	CHECK_EQ(venus_context_submit_fence(ctx, 0, 5), 0); /* CPU timeline */
	CHECK_EQ(venus_context_submit_fence(ctx, 3, 6), 0); /* unbound */
	CHECK_EQ(atomic_load(&retired) - before, 11);
	CHECK(venus_context_submit_fence(ctx, 1000, 1) < 0);
	venus_context_destroy(ctx);
}

struct layout {
	uint64_t head, tail, status, buffer, bufsize, extra, extrasize, offset, size;
};

static const struct layout good = { 0, 64, 128, 192, 1024, 1216, 64, 0, 1280 };
/* Room for more than the 4 KiB a notifier replays itself. */
static const struct layout big = { 0, 64, 128, 192, 16384, 16576, 64, 0, 16640 };

static void create_ring_cmd(struct buf *b, uint32_t res, const struct layout *l)
{
	u32(b, VN_CMD_vkCreateRingMESA);
	u32(b, 0);
	u64(b, 0x55);   /* ring id */
	u64(b, 1);
	u32(b, VK_STRUCTURE_TYPE_RING_CREATE_INFO_MESA);
	u64(b, 0);      /* pNext */
	u32(b, 0);      /* flags */
	u32(b, res);
	u64(b, l->offset);
	u64(b, l->size);
	u64(b, 1000000); /* idle timeout 1 ms */
	u64(b, l->head);
	u64(b, l->tail);
	u64(b, l->status);
	u64(b, l->buffer);
	u64(b, l->bufsize);
	u64(b, l->extra);
	u64(b, l->extrasize);
}

static void *blob(struct venus_context *ctx, uint32_t res, size_t size, int *fd)
{
	struct venus_blob bl;
	CHECK_EQ(venus_context_create_blob(ctx, res, VENUS_BLOB_MEM_HOST3D,
					   VENUS_BLOB_FLAG_MAPPABLE, 0, size, &bl), 0);
	*fd = bl.fd;
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, bl.fd, 0);
	CHECK(p != MAP_FAILED);
	return p;
}

TEST(venus_bad_ring_layouts)
{
	struct layout bad[] = {
		{ 0, 64, 128, 192, 1000, 1216, 64, 0, 1280 },     /* not power of two */
		{ 0, 0, 128, 192, 1024, 1216, 64, 0, 1280 },      /* head == tail */
		{ 0, 64, 128, 192, 1024, 1200, 64, 0, 1280 },     /* extra overlaps buffer */
		{ 0, 64, 130, 192, 1024, 1216, 64, 0, 1280 },     /* misaligned status */
		{ 0, 64, 128, 192, 1024, 1216, 64, 4096, 1280 },  /* outside resource */
		{ 0, 64, 128, 192, 1024, 1216, 64, 0, 1 << 20 },  /* size past resource */
		{ 0, 64, 128, 192, 32u << 20, 1216, 64, 0, 1280 },/* buffer > 16 MiB */
		{ 0, 64, 128, 192, 1024, ~0ull - 8, 64, 0, 1280 },/* overflowing extra */
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct venus_context *ctx = context();
		int fd;
		void *p = blob(ctx, 1, 4096, &fd);
		struct buf b = { .n = 0 };
		create_ring_cmd(&b, 1, &bad[i]);
		CHECK_EQ(venus_context_submit(ctx, b.d, b.n), -5);
		venus_context_destroy(ctx);
		munmap(p, 4096);
		close(fd);
	}
	/* An unknown resource is refused too. */
	struct venus_context *ctx = context();
	struct buf b = { .n = 0 };
	create_ring_cmd(&b, 9, &good);
	CHECK_EQ(venus_context_submit(ctx, b.d, b.n), -5);
	venus_context_destroy(ctx);
}

/* A context with a ring (id 0x55) in resource 1 and a 4 KiB reply
 * stream resource 2, as the guest maps them. */
struct ring_fixture {
	struct venus_context *ctx;
	const struct layout *l;
	size_t size;
	uint8_t *shm, *reply;
	int fd, rfd;
	_Atomic uint32_t *head, *tail, *status;
};

static void ring_fixture_init(struct ring_fixture *f, const struct layout *l)
{
	f->ctx = context();
	f->l = l;
	f->size = (l->size + 4095) & ~(size_t)4095;
	f->shm = blob(f->ctx, 1, f->size, &f->fd);
	f->reply = blob(f->ctx, 2, 4096, &f->rfd);
	struct buf b = { .n = 0 };
	create_ring_cmd(&b, 1, l);
	CHECK_EQ(venus_context_submit(f->ctx, b.d, b.n), 0);
	f->head = (_Atomic uint32_t *)(f->shm + l->head);
	f->tail = (_Atomic uint32_t *)(f->shm + l->tail);
	f->status = (_Atomic uint32_t *)(f->shm + l->status);
}

static void ring_fixture_fini(struct ring_fixture *f)
{
	venus_context_destroy(f->ctx);
	munmap(f->shm, f->size);
	munmap(f->reply, 4096);
	close(f->fd);
	close(f->rfd);
}

/* Appends `c` to the ring at `at` and publishes the new tail. */
static uint32_t ring_write(struct ring_fixture *f, uint32_t at, const struct buf *c)
{
	CHECK(at + c->n <= f->l->bufsize);
	memcpy(f->shm + f->l->buffer + at, c->d, c->n);
	atomic_store(f->tail, at + (uint32_t)c->n);
	return at + (uint32_t)c->n;
}

static void notify_cmd(struct buf *b, uint32_t seqno)
{
	u32(b, VN_CMD_vkNotifyRingMESA);
	u32(b, 0);
	u64(b, 0x55);
	u32(b, seqno);
	u32(b, 0);
}

static void reply_stream_cmd(struct buf *c)
{
	u32(c, VN_CMD_vkSetReplyCommandStreamMESA);
	u32(c, 0);
	u64(c, 1);
	u32(c, 2);  /* resource */
	u64(c, 0);  /* offset */
	u64(c, 256);
}

static void enumerate_version_cmd(struct buf *c)
{
	u32(c, VN_CMD_vkEnumerateInstanceVersion);
	u32(c, VN_COMMAND_GENERATE_REPLY);
	u64(c, 1); /* pApiVersion */
}

static void wait_status(_Atomic uint32_t *status, uint32_t bit)
{
	for (long spin = 0; spin < 100000000 && !(atomic_load(status) & bit); spin++)
		sched_yield();
	CHECK(atomic_load(status) & bit);
}

static void wait_head(_Atomic uint32_t *head, uint32_t want)
{
	for (long spin = 0; spin < 100000000 && atomic_load(head) != want; spin++)
		sched_yield();
	CHECK_EQ(atomic_load(head), want);
}

TEST(venus_ring_round_trip)
{
	struct ring_fixture f;
	ring_fixture_init(&f, &good);

	/* Into the ring: set the reply stream, then a call that replies. */
	struct buf c = { .n = 0 };
	reply_stream_cmd(&c);
	enumerate_version_cmd(&c);
	uint32_t end = ring_write(&f, 0, &c);
	/* Make sure the ring notices even if it already parked. */
	struct buf n = { .n = 0 };
	notify_cmd(&n, end);
	CHECK_EQ(venus_context_submit(f.ctx, n.d, n.n), 0);
	wait_head(f.head, end);
	uint32_t w[5];
	memcpy(w, f.reply, sizeof(w));
	CHECK_EQ(w[0], VN_CMD_vkEnumerateInstanceVersion);
	CHECK_EQ(w[1], VK_SUCCESS);
	CHECK_EQ(w[2], 1); /* pointer marker, low half */
	CHECK(w[4] >= VK_MAKE_API_VERSION(0, 1, 1, 0));
	CHECK(!venus_context_is_lost(f.ctx));

	/* Garbage in the ring loses the context and flags FATAL. */
	struct buf junk = { .n = 0 };
	u32(&junk, 99999);
	u32(&junk, 0);
	ring_write(&f, end, &junk);
	/* May already be lost by the time the notify arrives. */
	(void)venus_context_submit(f.ctx, n.d, n.n);
	wait_status(f.status, VN_RING_STATUS_FATAL);
	CHECK(venus_context_is_lost(f.ctx));
	CHECK_EQ(venus_context_object_count(f.ctx), 0);
	ring_fixture_fini(&f);
}

/* A notify for a parked ring replays its batch on the notifying thread,
 * up to (not into) a command that may block, here a wait for a virtqueue
 * seqno that only this same thread can release: a borrower that ran it
 * would never return from the notify. The ring's thread does the rest. */
TEST(venus_parked_ring_replayed_by_notifier)
{
	struct ring_fixture f;
	ring_fixture_init(&f, &good);
	wait_status(f.status, VN_RING_STATUS_IDLE); /* its 1 ms timeout: parked */

	struct buf c = { .n = 0 };
	reply_stream_cmd(&c);
	enumerate_version_cmd(&c);
	uint32_t before_wait = (uint32_t)c.n;
	u32(&c, VN_CMD_vkWaitVirtqueueSeqnoMESA);
	u32(&c, 0);
	u64(&c, 5);
	enumerate_version_cmd(&c);
	uint32_t end = ring_write(&f, 0, &c);
	struct buf n = { .n = 0 };
	notify_cmd(&n, end);
	CHECK_EQ(venus_context_submit(f.ctx, n.d, n.n), 0);
	/* Replayed before the notify returned, by the notifier. */
	CHECK_EQ(atomic_load(f.head), before_wait);
	CHECK_EQ(f.ctx->rings->borrowed_batches, 1);
	uint32_t w[2];
	memcpy(w, f.reply, sizeof(w));
	CHECK_EQ(w[0], VN_CMD_vkEnumerateInstanceVersion);
	CHECK_EQ(w[1], VK_SUCCESS);

	/* The ring's thread waits for seqno 5, and finishes once it comes. */
	struct buf q = { .n = 0 };
	u32(&q, VN_CMD_vkSubmitVirtqueueSeqnoMESA);
	u32(&q, 0);
	u64(&q, 0x55);
	u64(&q, 5);
	CHECK_EQ(venus_context_submit(f.ctx, q.d, q.n), 0);
	wait_head(f.head, end);

	/* Parked again: a wait for a seqno already in does not block, so
	 * the notifier replays through it. */
	wait_status(f.status, VN_RING_STATUS_IDLE);
	struct buf e = { .n = 0 };
	u32(&e, VN_CMD_vkWaitVirtqueueSeqnoMESA);
	u32(&e, 0);
	u64(&e, 5);
	enumerate_version_cmd(&e);
	end = ring_write(&f, end, &e);
	struct buf n2 = { .n = 0 };
	notify_cmd(&n2, end);
	CHECK_EQ(venus_context_submit(f.ctx, n2.d, n2.n), 0);
	CHECK_EQ(atomic_load(f.head), end);
	CHECK_EQ(f.ctx->rings->borrowed_batches, 2);
	CHECK(!venus_context_is_lost(f.ctx));
	ring_fixture_fini(&f);
}

/* More than 4 KiB waiting is the ring thread's to replay, not the
 * notifier's, which would be held up longer than a wake-up takes. */
TEST(venus_parked_ring_big_batch_left_to_its_thread)
{
	struct ring_fixture f;
	ring_fixture_init(&f, &big);
	wait_status(f.status, VN_RING_STATUS_IDLE);
	struct buf c = { .n = 0 };
	while (c.n < 2560) {
		u32(&c, VN_CMD_vkEnumerateInstanceVersion);
		u32(&c, 0); /* no reply */
		u64(&c, 1);
	}
	uint32_t end = ring_write(&f, 0, &c);
	end = ring_write(&f, end, &c); /* 5 KiB */
	struct buf n = { .n = 0 };
	notify_cmd(&n, end);
	CHECK_EQ(venus_context_submit(f.ctx, n.d, n.n), 0);
	wait_head(f.head, end);
	CHECK_EQ(f.ctx->rings->borrowed_batches, 0);
	CHECK(!venus_context_is_lost(f.ctx));
	ring_fixture_fini(&f);
}

/* A whole object life cycle on the host's first Vulkan device, encoded by
 * hand (no guest driver): instance, physical device, device, queue, a
 * semaphore moved through the MESA sync-resource commands, and teardown. */
TEST(venus_device_life_cycle_and_semaphore_resources)
{
	struct venus_context *ctx = context();
	struct buf b = { .n = 0 };
	u32(&b, VN_CMD_vkCreateInstance); u32(&b, 0);
	u64(&b, 1); u32(&b, VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO); u64(&b, 0); u32(&b, 0);
	u64(&b, 0); u32(&b, 0); u64(&b, 0); u32(&b, 0); u64(&b, 0);
	u64(&b, 0); u64(&b, 1); u64(&b, 1);
	u32(&b, VN_CMD_vkEnumeratePhysicalDevices); u32(&b, 0);
	u64(&b, 1); u64(&b, 1); u32(&b, 1); u64(&b, 1); u64(&b, 2);
	CHECK_EQ(venus_context_submit(ctx, b.d, b.n), 0);
	if (venus_context_object_count(ctx) < 2) {
		printf("  (no host Vulkan device: skipped)\n");
		venus_context_destroy(ctx);
		return;
	}
	b.n = 0;
	u32(&b, VN_CMD_vkCreateDevice); u32(&b, 0);
	u64(&b, 2); u64(&b, 1); u32(&b, VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO); u64(&b, 0);
	u32(&b, 0); u32(&b, 1); u64(&b, 1);
	u32(&b, VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO); u64(&b, 0); u32(&b, 0);
	u32(&b, 0); u32(&b, 1); u64(&b, 1); u32(&b, 0x3f800000u);
	u32(&b, 0); u64(&b, 0); u32(&b, 0); u64(&b, 0); u64(&b, 0);
	u64(&b, 0); u64(&b, 1); u64(&b, 3);
	u32(&b, VN_CMD_vkGetDeviceQueue); u32(&b, 0);
	u64(&b, 3); u32(&b, 0); u32(&b, 0); u64(&b, 1); u64(&b, 4);
	/* The same queue again, bound to fence timeline (ring_idx) 1. */
	u32(&b, VN_CMD_vkGetDeviceQueue2); u32(&b, 0);
	u64(&b, 3); u64(&b, 1); u32(&b, VK_STRUCTURE_TYPE_DEVICE_QUEUE_INFO_2);
	u64(&b, 1); u32(&b, VK_STRUCTURE_TYPE_DEVICE_QUEUE_TIMELINE_INFO_MESA); u64(&b, 0);
	u32(&b, 1);
	u32(&b, 0); u32(&b, 0); u32(&b, 0); u64(&b, 1); u64(&b, 4);
	u32(&b, VN_CMD_vkQueueWaitIdle); u32(&b, 0);
	u64(&b, 4);
	u32(&b, VN_CMD_vkCreateSemaphore); u32(&b, 0);
	u64(&b, 3); u64(&b, 1); u32(&b, VK_STRUCTURE_TYPE_SEMAPHORE_CREATE_INFO); u64(&b, 0);
	u32(&b, 0); u64(&b, 0); u64(&b, 1); u64(&b, 5);
	u32(&b, VN_CMD_vkImportSemaphoreResourceMESA); u32(&b, 0);
	u64(&b, 3); u64(&b, 1); u32(&b, VK_STRUCTURE_TYPE_IMPORT_SEMAPHORE_RESOURCE_INFO_MESA);
	u64(&b, 0); u64(&b, 5); u32(&b, 0);
	u32(&b, VN_CMD_vkWaitSemaphoreResourceMESA); u32(&b, 0);
	u64(&b, 3); u64(&b, 5);
	u32(&b, VN_CMD_vkDeviceWaitIdle); u32(&b, 0);
	u64(&b, 3);
	CHECK_EQ(venus_context_submit(ctx, b.d, b.n), 0);
	CHECK_EQ(venus_context_object_count(ctx), 5);
	/* Real fences on the bound timeline retire from its waiter thread;
	 * the unbound timeline 2 retires at once. */
	unsigned before = atomic_load(&retired);
	CHECK_EQ(venus_context_submit_fence(ctx, 1, 100), 0);
	CHECK_EQ(venus_context_submit_fence(ctx, 1, 200), 0);
	CHECK_EQ(venus_context_submit_fence(ctx, 2, 1000), 0);
	for (int i = 0; i < 5000 && atomic_load(&retired) - before != 1300; i++)
		usleep(1000);
	CHECK_EQ(atomic_load(&retired) - before, 1300);

	/* Fences riding on the guest's own vkQueueSubmit (no VkFence, to the
	 * queue bound to timeline 1; each submit here is empty): the fences
	 * above made the queue eligible, so a submit now carries one, which
	 * the next fence on timeline 1 takes. Two submits in a row: the
	 * first's fence is stale (the second covers more) and is recycled,
	 * the second's is taken. A last submit with no fence after it keeps
	 * its fence until vkDestroyDevice, which must wait for it first. */
	uint64_t total0, att0, ch0, total1, att1, ch1;
	venus_context_fence_counts(ctx, &total0, &att0, &ch0);
	struct buf q1 = { .n = 0 };
	u32(&q1, VN_CMD_vkQueueSubmit); u32(&q1, 0);
	u64(&q1, 4); u32(&q1, 0); u64(&q1, 0); u64(&q1, 0);
	before = atomic_load(&retired);
	CHECK_EQ(venus_context_submit(ctx, q1.d, q1.n), 0);
	CHECK_EQ(venus_context_submit_fence(ctx, 1, 300), 0);
	CHECK_EQ(venus_context_submit(ctx, q1.d, q1.n), 0);
	CHECK_EQ(venus_context_submit(ctx, q1.d, q1.n), 0);
	CHECK_EQ(venus_context_submit_fence(ctx, 1, 400), 0);
	CHECK_EQ(venus_context_submit(ctx, q1.d, q1.n), 0);
	for (int i = 0; i < 5000 && atomic_load(&retired) - before != 700; i++)
		usleep(1000);
	CHECK_EQ(atomic_load(&retired) - before, 700);
	venus_context_fence_counts(ctx, &total1, &att1, &ch1);
	CHECK_EQ(total1 - total0, 2);
	CHECK_EQ(att1 - att0, 2);
	CHECK_EQ(ch1 - ch0, 0);


	/* A polling caller (a vtest client thread) retires heads the fence
	 * thread has not taken up, racing it: each fence still retires
	 * once, in order. */
	before = atomic_load(&retired);
	unsigned want = 0;
	for (unsigned i = 1; i <= 64; i++) {
		CHECK_EQ(venus_context_submit(ctx, q1.d, q1.n), 0);
		CHECK_EQ(venus_context_submit_fence(ctx, 1, 1000 + i), 0);
		want += 1000 + i;
		venus_context_poll_fences(ctx);
	}
	for (int i = 0; i < 5000000 && atomic_load(&retired) - before != want; i++)
		venus_context_poll_fences(ctx);
	CHECK_EQ(atomic_load(&retired) - before, want);
	CHECK_EQ(atomic_load(&out_of_order), 0);

	/* Fences asked for with nothing reaching the queue in between need
	 * no host fence: each retires with the one before it (Mesa 26 asks
	 * for several per frame). A queue call in between ends the chain:
	 * the next fence rides on that call again. */
	venus_context_fence_counts(ctx, &total0, &att0, &ch0);
	before = atomic_load(&retired);
	CHECK_EQ(venus_context_submit(ctx, q1.d, q1.n), 0);
	CHECK_EQ(venus_context_submit_fence(ctx, 1, 2100), 0);
	CHECK_EQ(venus_context_submit_fence(ctx, 1, 2200), 0);
	CHECK_EQ(venus_context_submit_fence(ctx, 1, 2300), 0);
	CHECK_EQ(venus_context_submit(ctx, q1.d, q1.n), 0);
	CHECK_EQ(venus_context_submit_fence(ctx, 1, 2400), 0);
	CHECK_EQ(venus_context_submit_fence(ctx, 1, 2500), 0);
	for (int i = 0; i < 5000 && atomic_load(&retired) - before != 11500; i++)
		usleep(1000);
	CHECK_EQ(atomic_load(&retired) - before, 11500);
	venus_context_fence_counts(ctx, &total1, &att1, &ch1);
	CHECK_EQ(total1 - total0, 5);
	CHECK_EQ(att1 - att0, 2);
	CHECK_EQ(ch1 - ch0, 3);

	/* Mesa 26's frame on NVIDIA: two submits (render, then the WSI's),
	 * then the frame's fences. The first submit's fence is superseded
	 * every frame, the second's taken every frame: fences keep riding on
	 * the submits (they decayed to every other frame, H100 run 66). */
	venus_context_fence_counts(ctx, &total0, &att0, &ch0);
	before = atomic_load(&retired);
	want = 0;
	for (unsigned i = 0; i < 16; i++) {
		CHECK_EQ(venus_context_submit(ctx, q1.d, q1.n), 0);
		CHECK_EQ(venus_context_submit(ctx, q1.d, q1.n), 0);
		CHECK_EQ(venus_context_submit_fence(ctx, 1, 3000 + 2 * i), 0);
		CHECK_EQ(venus_context_submit_fence(ctx, 1, 3001 + 2 * i), 0);
		want += 6001 + 4 * i;
	}
	for (int i = 0; i < 5000 && atomic_load(&retired) - before != want; i++)
		usleep(1000);
	CHECK_EQ(atomic_load(&retired) - before, want);
	venus_context_fence_counts(ctx, &total1, &att1, &ch1);
	CHECK_EQ(total1 - total0, 32);
	CHECK_EQ(att1 - att0, 16);
	CHECK_EQ(ch1 - ch0, 16);
	CHECK_EQ(atomic_load(&out_of_order), 0);
	CHECK(!venus_context_is_lost(ctx));
	b.n = 0;
	u32(&b, VN_CMD_vkDestroySemaphore); u32(&b, 0); u64(&b, 3); u64(&b, 5); u64(&b, 0);
	u32(&b, VN_CMD_vkDestroyDevice); u32(&b, 0); u64(&b, 3); u64(&b, 0);
	u32(&b, VN_CMD_vkDestroyInstance); u32(&b, 0); u64(&b, 1); u64(&b, 0);
	CHECK_EQ(venus_context_submit(ctx, b.d, b.n), 0);
	CHECK(!venus_context_is_lost(ctx));
	CHECK_EQ(venus_context_object_count(ctx), 0);
	venus_context_destroy(ctx);
}

/* NVIDIA's layout: host-pointer import covers the system-memory types
 * (2, 3) but not the BAR type (4), which must then stop looking mappable
 * while keeping its other flags. */
TEST(venus_memory_mask_props)
{
	const VkMemoryPropertyFlags dl = VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT,
				    hv = VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT,
				    hc = VK_MEMORY_PROPERTY_HOST_COHERENT_BIT,
				    hca = VK_MEMORY_PROPERTY_HOST_CACHED_BIT;
	VkPhysicalDeviceMemoryProperties p = { .memoryTypeCount = 5 };
	p.memoryTypes[0].propertyFlags = dl;
	p.memoryTypes[1].propertyFlags = dl;
	p.memoryTypes[2].propertyFlags = hv | hc;
	p.memoryTypes[3].propertyFlags = hv | hc | hca;
	p.memoryTypes[4].propertyFlags = dl | hv | hc;
	p.memoryTypes[4].heapIndex = 1;
	vn_memory_mask_props(&p, 0xc);
	CHECK_EQ(p.memoryTypes[0].propertyFlags, dl);
	CHECK_EQ(p.memoryTypes[2].propertyFlags, hv | hc);
	CHECK_EQ(p.memoryTypes[3].propertyFlags, hv | hc | hca);
	CHECK_EQ(p.memoryTypes[4].propertyFlags, dl);
	CHECK_EQ(p.memoryTypes[4].heapIndex, 1);
	/* A host-claimed count past the array is clamped, not trusted. */
	p.memoryTypeCount = 1000;
	for (unsigned i = 0; i < VK_MAX_MEMORY_TYPES; i++)
		p.memoryTypes[i].propertyFlags = hv;
	vn_memory_mask_props(&p, 1);
	CHECK_EQ(p.memoryTypes[0].propertyFlags, hv);
	CHECK_EQ(p.memoryTypes[VK_MAX_MEMORY_TYPES - 1].propertyFlags, 0);
}

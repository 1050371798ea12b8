/*
 * The VK_MESA_venus_protocol transport: rings in shared-memory blobs (one
 * thread each), reply streams, indirect command streams, and the seqno
 * commands that order the virtqueue against rings.
 *
 * A ring thread copies [head, tail) out of the shared buffer before
 * decoding (the guest may rewrite it) and publishes head after every
 * command. When the ring runs dry it relaxes in four bounded stages (see
 * ring_relax): spin with a pause instruction, yield, sleep in short steps
 * until the guest's idle timeout, then set the IDLE status bit and park
 * until vkNotifyRingMESA.
 */
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "os/log.h"
#include "os/os_spin.h"
#include "os/os_thread.h"
#include "os/os_time.h"
#include "os/util.h"
#include "venus/vn_internal.h"

#define VN_RING_BUFFER_MAX (16u << 20)
/* Relax policy after the last command (the guest's idle timeout, 1 ms
 * from Mesa, ends all of it by parking):
 * - spin with a pause instruction for the thread's adaptive window
 *   (os/os_spin.h; capped by PEARVISOR_VENUS_SPIN_US, see vn_internal.h):
 *   measured on the 2-core CI host, a 20 us spin halved the null-call
 *   median but multiplied the event-call and submit+wait medians by 3-6
 *   (the spinning thread uses up its CFS share and is then descheduled
 *   exactly when the guest's next command comes: docs/PERFORMANCE.md),
 *   so by default it is only on for hosts with cores to spare;
 * - sched_yield until 200 us: prompt, and lets the guest's own thread and
 *   the host driver's threads run on an oversubscribed host;
 * - then timed waits on the ring's condition variable from 5 us, doubling
 *   up to 100 us, with the thread's timer slack at 5 us so the waits are
 *   as short as asked (the default 50 us slack made the first 1 us sleep
 *   ~55 us); vkWaitRingSeqnoMESA and vkNotifyRingMESA end a wait early;
 * - park at the guest's idle timeout. */
#define VN_RING_YIELD_NS 200000ull
#define VN_RING_SLEEP_MIN_NS 5000ull
#define VN_RING_SLEEP_MAX_NS 100000ull
#define VN_RING_TIMER_SLACK_NS 5000ul
#define VN_RING_PARK_RECHECK_NS 10000000ull
/* The most a notifier replays for a parked ring: replay runs ~1 µs per
 * 100-200 bytes of commands, so 4 KiB costs about the ring thread's
 * wake-up it saves (30-45 µs on the H100 machine); past that the notifier
 * (the vtest client thread, a VM's vCPU thread) would be held up longer
 * than the guest gains. */
#define VN_RING_BORROW_MAX_BYTES 4096u
/* vkWaitRingSeqnoMESA gives up (context lost) after this long without the
 * ring's head moving: a guest-made deadlock must not pin the caller. */
#define VN_RING_STALL_MS 30000u
#define VN_MAX_RINGS 64

static void deadline_in(struct timespec *ts, uint64_t ns)
{
	clock_gettime(CLOCK_MONOTONIC, ts);
	uint64_t t = (uint64_t)ts->tv_nsec + ns;
	ts->tv_sec += (time_t)(t / 1000000000ull);
	ts->tv_nsec = (long)(t % 1000000000ull);
}

static void cond_init_monotonic(pthread_cond_t *c)
{
	pthread_condattr_t a;
	pthread_condattr_init(&a);
	pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
	pthread_cond_init(c, &a);
	pthread_condattr_destroy(&a);
}

static struct vn_ring *find_ring(struct venus_context *ctx, uint64_t id)
{
	pthread_mutex_lock(&ctx->ring_lock);
	struct vn_ring *r = ctx->rings;
	while (r && r->id != id)
		r = r->next;
	pthread_mutex_unlock(&ctx->ring_lock);
	return r;
}

void vn_rings_set_fatal(struct venus_context *ctx)
{
	pthread_mutex_lock(&ctx->ring_lock);
	for (struct vn_ring *r = ctx->rings; r; r = r->next) {
		atomic_fetch_or(r->status, VN_RING_STATUS_FATAL);
		pthread_mutex_lock(&r->lock);
		pthread_cond_broadcast(&r->head_cond);
		pthread_cond_broadcast(&r->cond);
		pthread_mutex_unlock(&r->lock);
	}
	pthread_mutex_unlock(&ctx->ring_lock);
}

/* Replays what the guest wrote from r->cur up to `tail` (all of it, or up
 * to the first command that may block when borrowed) and publishes the
 * new head. Only the ring's owner calls it: its thread, or a borrower
 * while the thread is parked. */
static void ring_replay(struct vn_ring *r, uint32_t tail)
{
	struct venus_context *ctx = r->ctx;
	uint32_t avail = tail - r->cur;
	if (avail > r->buffer_size) {
		vn_context_set_lost(ctx, "ring %llu: tail %u is %u bytes past head %u",
				    (unsigned long long)r->id, tail, avail, r->cur);
		return;
	}
	uint32_t off = r->cur & (r->buffer_size - 1);
	uint32_t first = PV_MIN(avail, r->buffer_size - off);
	memcpy(r->scratch, r->buffer + off, first);
	memcpy(r->scratch + first, r->buffer, avail - first);
	uint64_t t0 = os_now_ns();
	if (ctx->cb.event)
		ctx->cb.event(ctx->cb.opaque, VENUS_EVENT_RING_BEGIN, avail);
	bool ok = vn_exec_stream(&r->exec, r->scratch, avail);
	if (ctx->cb.event)
		ctx->cb.event(ctx->cb.opaque, VENUS_EVENT_RING_END, avail);
	if (ctx->trace.on)
		vn_trace_since_record(&ctx->trace, VN_TRACE_RING_EXEC, t0);
	if (ok) {
		r->cur += (uint32_t)r->exec.done;
		atomic_store(r->head, r->cur);
		vn_ring_head_published(r);
	}
	r->busy_ns += os_now_ns() - t0;
	r->batches++;
}

static bool ring_idle_wait(struct vn_ring *r)
{
	pthread_mutex_lock(&r->lock);
	atomic_fetch_or(r->status, VN_RING_STATUS_IDLE);
	/* The guest stores tail and then reads status: recheck after
	 * publishing IDLE so a command written in between is not missed. */
	if (atomic_load_explicit(r->tail, memory_order_seq_cst) != r->cur)
		r->notified = true;
	/* Timed, and rechecking tail: a guest whose tail store and status
	 * load were reordered would otherwise never send its notify. A
	 * borrower owns r->cur until it gives the ring back. */
	r->parked = true;
	while (r->borrowed ||
	       (!r->notified && !r->stop &&
		atomic_load_explicit(r->tail, memory_order_acquire) == r->cur)) {
		struct timespec ts;
		deadline_in(&ts, VN_RING_PARK_RECHECK_NS);
		pthread_cond_timedwait(&r->cond, &r->lock, &ts);
	}
	r->parked = false;
	r->notified = false;
	atomic_fetch_and(r->status, ~VN_RING_STATUS_IDLE);
	bool stop = r->stop;
	pthread_mutex_unlock(&r->lock);
	return !stop;
}

static void *ring_thread(void *arg)
{
	struct vn_ring *r = arg;
	struct venus_context *ctx = r->ctx;
	char name[16];
	snprintf(name, sizeof(name), "vn-ring-%u", ctx->id);
	pthread_setname_np(pthread_self(), name);
	os_thread_set_timer_slack_ns(VN_RING_TIMER_SLACK_NS);
	struct os_spin spin;
	os_spin_init(&spin, vn_spin_ns(ctx->r, VN_SPIN_RING));
	uint64_t last = os_now_ns(), sleep = VN_RING_SLEEP_MIN_NS;
	r->t_start = last;
	bool waited = false;
	for (;;) {
		if (__atomic_load_n(&r->stop, __ATOMIC_ACQUIRE))
			break;
		uint32_t tail = atomic_load_explicit(r->tail, memory_order_acquire);
		if (tail != r->cur && !atomic_load(&ctx->lost)) {
			if (waited)
				os_spin_update(&spin, os_now_ns() - last);
			waited = false;
			ring_replay(r, tail);
			last = os_now_ns();
			sleep = VN_RING_SLEEP_MIN_NS;
			continue;
		}
		if (atomic_load(&ctx->lost)) {
			/* Nothing more will be decoded: wait to be stopped. */
			pthread_mutex_lock(&r->lock);
			while (!r->stop)
				pthread_cond_wait(&r->cond, &r->lock);
			pthread_mutex_unlock(&r->lock);
			break;
		}
		uint64_t idle = os_now_ns() - last;
		waited = true;
		if (idle >= r->idle_timeout_ns) {
			os_spin_update(&spin, idle);
			waited = false;
			if (!ring_idle_wait(r))
				break;
			vn_timelines_kick(ctx);
			last = os_now_ns();
			sleep = VN_RING_SLEEP_MIN_NS;
		} else if (idle < spin.window_ns) {
			os_cpu_relax_burst();
		} else if (idle < VN_RING_YIELD_NS) {
			sched_yield();
		} else {
			/* A timed wait, not a sleep: a guest blocked in
			 * vkWaitRingSeqnoMESA or vkNotifyRingMESA wakes the ring
			 * at once instead of after the step. */
			pthread_mutex_lock(&r->lock);
			if (!r->notified && !r->stop) {
				struct timespec ts;
				deadline_in(&ts, sleep);
				pthread_cond_timedwait(&r->cond, &r->lock, &ts);
			}
			r->notified = false;
			pthread_mutex_unlock(&r->lock);
			if (sleep < VN_RING_SLEEP_MAX_NS)
				sleep *= 2;
		}
	}
	r->cpu_ns = os_thread_cpu_ns();
	return NULL;
}

/* Called after every head store (seq_cst), so a vkWaitRingSeqnoMESA caller
 * wakes when its seqno passes, not when the ring's whole batch is done.
 * Pairs with the seq_cst head_waiters increment in h_wait_ring_seqno:
 * either this sees the waiter, or the waiter sees the new head. */
void vn_ring_head_published(struct vn_ring *r)
{
	if (!atomic_load(&r->head_waiters))
		return;
	pthread_mutex_lock(&r->lock);
	pthread_cond_broadcast(&r->head_cond);
	pthread_mutex_unlock(&r->lock);
}

static void *monitor_thread(void *arg)
{
	struct venus_context *ctx = arg;
	pthread_setname_np(pthread_self(), "vn-ringmon");
	pthread_mutex_lock(&ctx->ring_lock);
	while (!ctx->monitor_stop) {
		for (struct vn_ring *r = ctx->rings; r; r = r->next)
			atomic_fetch_or(r->status, VN_RING_STATUS_ALIVE);
		struct timespec ts;
		deadline_in(&ts, (uint64_t)ctx->monitor_period_us * 1000 / 2);
		pthread_cond_timedwait(&ctx->monitor_cond, &ctx->ring_lock, &ts);
	}
	pthread_mutex_unlock(&ctx->ring_lock);
	return NULL;
}

/* Called with ring_lock held. */
static void monitor_request(struct venus_context *ctx, uint32_t period_us)
{
	if (!period_us)
		return;
	if (period_us < 1000)
		period_us = 1000;
	if (!ctx->monitor_period_us || period_us < ctx->monitor_period_us)
		ctx->monitor_period_us = period_us;
	if (ctx->monitor_started)
		return;
	cond_init_monotonic(&ctx->monitor_cond);
	ctx->monitor_stop = false;
	if (!pthread_create(&ctx->monitor_thread, NULL, monitor_thread, ctx))
		ctx->monitor_started = true;
	else
		pthread_cond_destroy(&ctx->monitor_cond);
}

static void monitor_stop(struct venus_context *ctx)
{
	pthread_mutex_lock(&ctx->ring_lock);
	bool started = ctx->monitor_started;
	ctx->monitor_stop = true;
	if (started)
		pthread_cond_broadcast(&ctx->monitor_cond);
	pthread_mutex_unlock(&ctx->ring_lock);
	if (!started)
		return;
	pthread_join(ctx->monitor_thread, NULL);
	pthread_cond_destroy(&ctx->monitor_cond);
	ctx->monitor_started = false;
}

static bool region_ok(uint64_t off, uint64_t size, uint64_t total)
{
	return (off & 3) == 0 && pv_range_ok(off, size, total);
}

static bool disjoint(uint64_t a, uint64_t an, uint64_t b, uint64_t bn)
{
	return a + an <= b || b + bn <= a;
}

/* Returns NULL and a reason when the layout is unusable. */
static const char *check_layout(const VkRingCreateInfoMESA *ci, const struct vn_resource *res)
{
	if (!pv_range_ok(ci->offset, ci->size, res->size))
		return "ring lies outside its resource";
	if (ci->offset & 3)
		return "ring offset not 4-byte aligned";
	uint64_t bs = ci->bufferSize;
	if (!bs || (bs & (bs - 1)) || bs > VN_RING_BUFFER_MAX)
		return "buffer size not a power of two up to 16 MiB";
	uint64_t off[5] = { ci->headOffset, ci->tailOffset, ci->statusOffset,
			    ci->bufferOffset, ci->extraOffset };
	uint64_t len[5] = { 4, 4, 4, bs, ci->extraSize };
	for (int i = 0; i < 5; i++) {
		if (!region_ok(off[i], len[i], ci->size))
			return "ring region misaligned or out of bounds";
		for (int j = 0; j < i; j++)
			if (len[i] && len[j] && !disjoint(off[i], len[i], off[j], len[j]))
				return "ring regions overlap";
	}
	return NULL;
}

static void ring_free(struct vn_ring *r)
{
	vn_exec_fini(&r->exec);
	if (r->res)
		vn_resource_put(r->ctx, r->res);
	pthread_mutex_destroy(&r->lock);
	pthread_cond_destroy(&r->cond);
	pthread_cond_destroy(&r->head_cond);
	free(r->scratch);
	free(r);
}

static void ring_stop(struct vn_ring *r)
{
	pthread_mutex_lock(&r->lock);
	__atomic_store_n(&r->stop, true, __ATOMIC_RELEASE);
	pthread_cond_broadcast(&r->cond);
	pthread_cond_broadcast(&r->head_cond);
	pthread_mutex_unlock(&r->lock);
	if (!r->started)
		return;
	pthread_join(r->thread, NULL);
	r->started = false;
	/* Replay's share of the thread's life and its CPU (polling counts as
	 * CPU, not as busy): says whether a workload waits on replay. */
	if (r->batches)
		pv_info("venus: ctx %u ring %llu: %llu batches (%llu replayed by its notifier), "
			"%.1f ms replaying, %.1f ms CPU, over %.2f s", r->ctx->id,
			(unsigned long long)r->id, (unsigned long long)r->batches,
			(unsigned long long)r->borrowed_batches, r->busy_ns / 1e6,
			r->cpu_ns / 1e6, (os_now_ns() - r->t_start) / 1e9);
}

static void h_create_ring(struct vn_exec *x, const struct vn_cmd_desc *c,
			  void *args, struct vn_decoder *d)
{
	struct vn_args_vkCreateRingMESA *a = args;
	struct venus_context *ctx = x->ctx;
	if (x->ring) {
		vn_decoder_fail(d, "only allowed on the context stream");
		return;
	}
	if (find_ring(ctx, a->ring)) {
		vn_decoder_fail(d, "ring %llu already exists", (unsigned long long)a->ring);
		return;
	}
	unsigned nrings = 0;
	pthread_mutex_lock(&ctx->ring_lock);
	for (struct vn_ring *q = ctx->rings; q; q = q->next)
		nrings++;
	pthread_mutex_unlock(&ctx->ring_lock);
	if (nrings >= VN_MAX_RINGS) {
		vn_decoder_fail(d, "more than %u rings", VN_MAX_RINGS);
		return;
	}
	const VkRingCreateInfoMESA *ci = a->pCreateInfo;
	struct vn_resource *res = vn_context_get_resource(ctx, ci->resourceId);
	if (!res || !res->map) {
		if (res)
			vn_resource_put(ctx, res);
		vn_decoder_fail(d, "ring resource %u is not a shared-memory blob", ci->resourceId);
		return;
	}
	const char *why = check_layout(ci, res);
	if (why) {
		vn_resource_put(ctx, res);
		vn_decoder_fail(d, "bad ring layout: %s", why);
		return;
	}
	struct vn_ring *r = calloc(1, sizeof(*r));
	uint8_t *base = res->map + ci->offset;
	if (r)
		r->scratch = malloc(ci->bufferSize);
	if (!r || !r->scratch) {
		free(r);
		vn_resource_put(ctx, res);
		vn_decoder_fail(d, "out of memory");
		return;
	}
	r->ctx = ctx;
	r->id = a->ring;
	r->res = res;
	r->head = (_Atomic uint32_t *)(base + ci->headOffset);
	r->tail = (_Atomic uint32_t *)(base + ci->tailOffset);
	r->status = (_Atomic uint32_t *)(base + ci->statusOffset);
	r->buffer = base + ci->bufferOffset;
	r->buffer_size = (uint32_t)ci->bufferSize;
	r->extra = base + ci->extraOffset;
	r->extra_size = (uint32_t)PV_MIN(ci->extraSize, UINT32_MAX);
	r->idle_timeout_ns = ci->idleTimeout;
	if (r->idle_timeout_ns > 1000000000ull)
		r->idle_timeout_ns = 1000000000ull;
	r->cur = atomic_load(r->head);
	pthread_mutex_init(&r->lock, NULL);
	cond_init_monotonic(&r->cond);
	cond_init_monotonic(&r->head_cond);
	vn_exec_init(&r->exec, ctx, r);
	if (pthread_create(&r->thread, NULL, ring_thread, r)) {
		ring_free(r);
		vn_decoder_fail(d, "cannot start ring thread");
		return;
	}
	r->started = true;
	uint32_t period = 0;
	for (const VkBaseInStructure *s = ci->pNext; s; s = s->pNext)
		if (s->sType == VK_STRUCTURE_TYPE_RING_MONITOR_INFO_MESA)
			period = ((const VkRingMonitorInfoMESA *)s)->maxReportingPeriodMicroseconds;
	pthread_mutex_lock(&ctx->ring_lock);
	r->next = ctx->rings;
	ctx->rings = r;
	atomic_fetch_or(r->status, VN_RING_STATUS_ALIVE);
	monitor_request(ctx, period);
	pthread_mutex_unlock(&ctx->ring_lock);
}

static void h_destroy_ring(struct vn_exec *x, const struct vn_cmd_desc *c,
			   void *args, struct vn_decoder *d)
{
	struct vn_args_vkDestroyRingMESA *a = args;
	struct venus_context *ctx = x->ctx;
	if (x->ring) {
		vn_decoder_fail(d, "only allowed on the context stream");
		return;
	}
	pthread_mutex_lock(&ctx->ring_lock);
	struct vn_ring **pp = &ctx->rings;
	while (*pp && (*pp)->id != a->ring)
		pp = &(*pp)->next;
	struct vn_ring *r = *pp;
	if (r)
		*pp = r->next;
	pthread_mutex_unlock(&ctx->ring_lock);
	if (!r) {
		vn_decoder_fail(d, "unknown ring %llu", (unsigned long long)a->ring);
		return;
	}
	ring_stop(r);
	ring_free(r);
}

void vn_rings_stop_all(struct venus_context *ctx)
{
	monitor_stop(ctx);
	pthread_mutex_lock(&ctx->ring_lock);
	struct vn_ring *r = ctx->rings;
	ctx->rings = NULL;
	pthread_mutex_unlock(&ctx->ring_lock);
	while (r) {
		struct vn_ring *next = r->next;
		ring_stop(r);
		ring_free(r);
		r = next;
	}
}

/* Wakes a parked ring; vq_seqno (0: none) also releases its
 * vkWaitVirtqueueSeqnoMESA. */
static void wake(struct vn_ring *r, uint64_t vq_seqno)
{
	pthread_mutex_lock(&r->lock);
	if (vq_seqno > r->vq_seqno)
		r->vq_seqno = vq_seqno;
	r->notified = true;
	pthread_cond_broadcast(&r->cond);
	pthread_mutex_unlock(&r->lock);
}

/* A guest notifies a ring it found idle, i.e. parked: waking its thread
 * costs 30 µs on the H100 machine (docs/PERFORMANCE.md, runs 51-55), on
 * the path of every call after an idle spell. So the notifying thread,
 * awake already, replays a small batch itself, up to any command that may
 * block (it may be the thread that must release that wait), and wakes
 * the ring thread for the rest and for the burst that usually follows.
 * Returns whether it took the ring. */
static bool ring_borrow(struct vn_ring *r, struct venus_context *ctx)
{
	if (!ctx->r->ring_borrow || atomic_load(&ctx->lost))
		return false;
	uint32_t tail = atomic_load_explicit(r->tail, memory_order_acquire);
	pthread_mutex_lock(&r->lock);
	/* r->cur is the parked thread's, which does not move it while parked. */
	bool take = r->parked && !r->borrowed && !r->stop &&
		    tail - r->cur <= VN_RING_BORROW_MAX_BYTES;
	if (take)
		r->borrowed = true;
	pthread_mutex_unlock(&r->lock);
	if (!take)
		return false;
	vn_timelines_kick(ctx);
	if (tail != r->cur) {
		r->exec.borrowed = true;
		ring_replay(r, tail);
		r->exec.borrowed = false;
		r->borrowed_batches++;
	}
	return true;
}

static void h_notify_ring(struct vn_exec *x, const struct vn_cmd_desc *c,
			  void *args, struct vn_decoder *d)
{
	struct vn_args_vkNotifyRingMESA *a = args;
	struct vn_ring *r = find_ring(x->ctx, a->ring);
	if (!r) {
		vn_decoder_fail(d, "unknown ring %llu", (unsigned long long)a->ring);
		return;
	}
	bool mine = ring_borrow(r, x->ctx);
	pthread_mutex_lock(&r->lock);
	if (mine)
		r->borrowed = false;
	r->notified = true;
	pthread_cond_broadcast(&r->cond);
	pthread_mutex_unlock(&r->lock);
}

static void h_write_ring_extra(struct vn_exec *x, const struct vn_cmd_desc *c,
			       void *args, struct vn_decoder *d)
{
	struct vn_args_vkWriteRingExtraMESA *a = args;
	struct vn_ring *r = find_ring(x->ctx, a->ring);
	if (!r) {
		vn_decoder_fail(d, "unknown ring %llu", (unsigned long long)a->ring);
		return;
	}
	if ((a->offset & 3) || !pv_range_ok(a->offset, 4, r->extra_size)) {
		vn_decoder_fail(d, "extra offset %zu out of bounds", a->offset);
		return;
	}
	atomic_store((_Atomic uint32_t *)(r->extra + a->offset), a->value);
}

static void h_submit_vq_seqno(struct vn_exec *x, const struct vn_cmd_desc *c,
			      void *args, struct vn_decoder *d)
{
	struct vn_args_vkSubmitVirtqueueSeqnoMESA *a = args;
	struct vn_ring *r = find_ring(x->ctx, a->ring);
	if (!r) {
		vn_decoder_fail(d, "unknown ring %llu", (unsigned long long)a->ring);
		return;
	}
	wake(r, a->seqno);
}

static void h_wait_vq_seqno(struct vn_exec *x, const struct vn_cmd_desc *c,
			    void *args, struct vn_decoder *d)
{
	struct vn_args_vkWaitVirtqueueSeqnoMESA *a = args;
	struct vn_ring *r = x->ring;
	if (!r) {
		vn_decoder_fail(d, "only allowed on a ring");
		return;
	}
	uint64_t t0 = vn_trace_now(&x->ctx->trace);
	pthread_mutex_lock(&r->lock);
	while (r->vq_seqno < a->seqno && !r->stop && !atomic_load(&x->ctx->lost))
		pthread_cond_wait(&r->cond, &r->lock);
	r->notified = false;
	pthread_mutex_unlock(&r->lock);
	vn_trace_since(&x->ctx->trace, VN_TRACE_VQ_SEQNO_WAIT, t0);
}

bool vn_ring_wait_done(struct vn_exec *x, uint32_t type, const void *args)
{
	if (type == VN_CMD_vkWaitVirtqueueSeqnoMESA) {
		const struct vn_args_vkWaitVirtqueueSeqnoMESA *a = args;
		struct vn_ring *r = x->ring;
		if (!r)
			return true; /* refused by its handler, without waiting */
		pthread_mutex_lock(&r->lock);
		bool done = r->vq_seqno >= a->seqno;
		pthread_mutex_unlock(&r->lock);
		return done;
	}
	if (type == VN_CMD_vkWaitRingSeqnoMESA) {
		const struct vn_args_vkWaitRingSeqnoMESA *a = args;
		struct vn_ring *r = find_ring(x->ctx, a->ring);
		return !r || r == x->ring ||
		       (int32_t)(atomic_load(r->head) - (uint32_t)a->seqno) >= 0;
	}
	return false;
}

struct seqno_poll {
	struct vn_ring *ring;
	struct venus_context *ctx;
	uint32_t seqno;
};

/* The seqno is reached, or waiting for it is over (a stop, a lost device). */
static bool seqno_poll_done(const void *arg)
{
	const struct seqno_poll *p = arg;
	return (int32_t)(atomic_load(p->ring->head) - p->seqno) >= 0 ||
	       __atomic_load_n(&p->ring->stop, __ATOMIC_ACQUIRE) ||
	       atomic_load(&p->ctx->lost);
}

static void h_wait_ring_seqno(struct vn_exec *x, const struct vn_cmd_desc *c,
			      void *args, struct vn_decoder *d)
{
	struct vn_args_vkWaitRingSeqnoMESA *a = args;
	struct vn_ring *r = find_ring(x->ctx, a->ring);
	if (!r || r == x->ring) {
		vn_decoder_fail(d, "unknown ring %llu", (unsigned long long)a->ring);
		return;
	}
	uint32_t seqno = (uint32_t)a->seqno;
	/* A guest only waits for what it already wrote; anything else would
	 * block this (client) thread forever. */
	if ((int32_t)(seqno - atomic_load(r->tail)) > 0) {
		vn_decoder_fail(d, "seqno %u is past the ring's tail %u", seqno,
				atomic_load(r->tail));
		return;
	}
	uint64_t t0 = vn_trace_now(&x->ctx->trace), spin_start = 0;
	pthread_mutex_lock(&r->lock);
	r->notified = true;
	pthread_cond_broadcast(&r->cond);
	/* With polling on, watch the head for this thread's window first: the
	 * ring thread's replay of a submit takes µs, and the wake-up a
	 * blocked waiter pays when the head moves (6-20 µs on the H100
	 * machine) lands on every guest submit that waits for its ring. */
	struct os_spin *spin = &x->seqno_spin;
	if (spin->window_ns && (int32_t)(atomic_load(r->head) - seqno) < 0) {
		pthread_mutex_unlock(&r->lock);
		uint64_t start = os_now_ns();
		struct seqno_poll poll = { r, x->ctx, seqno };
		os_spin_poll(start, spin->window_ns, seqno_poll_done, &poll);
		bool reached = (int32_t)(atomic_load(r->head) - seqno) >= 0;
		if (reached)
			os_spin_update(spin, os_now_ns() - start);
		pthread_mutex_lock(&r->lock);
		spin_start = reached ? 0 : start;
	}
	r->head_waiters++;
	uint32_t last = atomic_load(r->head);
	unsigned stalled_ms = 0;
	while ((int32_t)(atomic_load(r->head) - seqno) < 0 && !r->stop &&
	       !atomic_load(&x->ctx->lost) && stalled_ms < VN_RING_STALL_MS) {
		struct timespec ts;
		deadline_in(&ts, 1000000);
		pthread_cond_timedwait(&r->head_cond, &r->lock, &ts);
		uint32_t h = atomic_load(r->head);
		stalled_ms = h == last ? stalled_ms + 1 : 0;
		last = h;
	}
	r->head_waiters--;
	pthread_mutex_unlock(&r->lock);
	if (spin_start)
		os_spin_update(spin, os_now_ns() - spin_start);
	vn_trace_since(&x->ctx->trace, VN_TRACE_SEQNO_WAIT, t0);
	if (stalled_ms >= VN_RING_STALL_MS)
		vn_decoder_fail(d, "ring %llu made no progress for %u ms",
				(unsigned long long)a->ring, VN_RING_STALL_MS);
}

static void h_set_reply_stream(struct vn_exec *x, const struct vn_cmd_desc *c,
			       void *args, struct vn_decoder *d)
{
	struct vn_args_vkSetReplyCommandStreamMESA *a = args;
	const VkCommandStreamDescriptionMESA *s = a->pStream;
	struct vn_resource *res = vn_context_get_resource(x->ctx, s->resourceId);
	if (!res || !res->map || !pv_range_ok(s->offset, s->size, res->size)) {
		if (res)
			vn_resource_put(x->ctx, res);
		vn_decoder_fail(d, "reply stream (resource %u, %zu+%zu) is invalid",
				s->resourceId, s->offset, s->size);
		return;
	}
	if (x->reply.res)
		vn_resource_put(x->ctx, x->reply.res);
	x->reply.res = res;
	x->reply.offset = s->offset;
	x->reply.size = s->size;
	x->reply.pos = 0;
}

static void h_seek_reply_stream(struct vn_exec *x, const struct vn_cmd_desc *c,
				void *args, struct vn_decoder *d)
{
	struct vn_args_vkSeekReplyCommandStreamMESA *a = args;
	if (!x->reply.res || a->position > x->reply.size) {
		vn_decoder_fail(d, "seek to %zu outside the reply stream", a->position);
		return;
	}
	x->reply.pos = a->position;
}

static void h_execute_streams(struct vn_exec *x, const struct vn_cmd_desc *c,
			      void *args, struct vn_decoder *d)
{
	struct vn_args_vkExecuteCommandStreamsMESA *a = args;
	if (x->in_streams) {
		vn_decoder_fail(d, "nested command streams");
		return;
	}
	uint32_t n = a->streamCount;
	/* The arena is reused by each inner command: keep our own copy. */
	VkCommandStreamDescriptionMESA *streams = calloc(n ? n : 1, sizeof(*streams));
	size_t *pos = calloc(n ? n : 1, sizeof(*pos));
	if (!streams || !pos) {
		free(streams);
		free(pos);
		vn_decoder_fail(d, "out of memory");
		return;
	}
	memcpy(streams, a->pStreams, n * sizeof(*streams));
	bool have_pos = a->pReplyPositions != NULL;
	if (have_pos)
		memcpy(pos, a->pReplyPositions, n * sizeof(*pos));
	x->in_streams = true;
	for (uint32_t i = 0; i < n; i++) {
		struct vn_resource *res = vn_context_get_resource(x->ctx, streams[i].resourceId);
		if (!res || !res->map || !pv_range_ok(streams[i].offset, streams[i].size, res->size)) {
			if (res)
				vn_resource_put(x->ctx, res);
			vn_decoder_fail(d, "command stream %u (resource %u) is invalid", i,
					streams[i].resourceId);
			break;
		}
		if (have_pos) {
			if (!x->reply.res || pos[i] > x->reply.size) {
				vn_resource_put(x->ctx, res);
				vn_decoder_fail(d, "reply position %zu outside the reply stream", pos[i]);
				break;
			}
			x->reply.pos = pos[i];
		}
		bool ok = vn_exec_stream(x, res->map + streams[i].offset, streams[i].size);
		vn_resource_put(x->ctx, res);
		if (!ok)
			break;
	}
	x->in_streams = false;
	free(streams);
	free(pos);
	if (!d->fatal && atomic_load(&x->ctx->lost))
		vn_decoder_fail(d, "a command stream failed");
}

/* Sync-resource helpers. Mesa uses them around sync_fd payloads it keeps
 * in the guest: the host object only has to reach the matching state.
 * vtest has no sync resources, so resourceId 0 (a signaled payload) is the
 * only import there is. */
struct sem_ctx {
	struct vn_object *dev;
	const struct vn_device_fns *f;
	VkDevice device;
	/* the host's own sync_fd import/export may be used (not emulated) */
	bool native_sync_fd;
};

static bool sem_ctx_get(struct vn_exec *x, VkDevice device, struct sem_ctx *sc)
{
	sc->dev = vn_objects_of_handle(&x->ctx->objs, VN_OBJ_VkDevice, (uint64_t)(uintptr_t)device);
	struct vn_device_data *dd = sc->dev ? sc->dev->data : NULL;
	sc->f = dd ? &dd->fns : NULL;
	sc->device = device;
	const struct vn_physical_device_data *pdd =
		dd && dd->physical_device ? dd->physical_device->data : NULL;
	sc->native_sync_fd = pdd && !pdd->sync_fd_emulated;
	return sc->f != NULL;
}

/* An empty batch on one of the device's queues that waits on and/or
 * signals a binary semaphore: the portable way to move its state. */
static VkResult sem_submit(struct vn_exec *x, struct sem_ctx *sc, VkSemaphore wait,
			   VkSemaphore signal)
{
	struct vn_object *qo = vn_objects_child_of_type(&x->ctx->objs, sc->dev, VN_OBJ_VkQueue);
	if (!qo || !qo->data)
		return VK_ERROR_DEVICE_LOST;
	const VkPipelineStageFlags stage = VK_PIPELINE_STAGE_ALL_COMMANDS_BIT;
	VkSubmitInfo si = {
		.sType = VK_STRUCTURE_TYPE_SUBMIT_INFO,
		.waitSemaphoreCount = wait ? 1 : 0, .pWaitSemaphores = &wait,
		.pWaitDstStageMask = &stage,
		.signalSemaphoreCount = signal ? 1 : 0, .pSignalSemaphores = &signal,
	};
	struct vn_queue_data *q = qo->data;
	pthread_mutex_lock(&q->lock);
	VkResult r = sc->f->QueueSubmit((VkQueue)(uintptr_t)qo->handle, 1, &si, VK_NULL_HANDLE);
	/* A semaphore operation on the queue: a fence attached or chained
	 * before it no longer covers the queue (vn_fence.c). */
	q->gen++;
	pthread_mutex_unlock(&q->lock);
	pv_debug("venus: ctx %u semaphore resource: empty submit on queue %p, wait [%p], "
		 "signal [%p]: %d", x->ctx->id, (void *)(uintptr_t)qo->handle, (void *)wait,
		 (void *)signal, r);
	if (x->ctx->r->submit_probe)
		vn_queue_probe(x, (VkQueue)(uintptr_t)qo->handle, "a semaphore-resource submit");
	return r;
}

static void h_reset_fence_resource(struct vn_exec *x, const struct vn_cmd_desc *c,
				   void *args, struct vn_decoder *d)
{
	struct vn_args_vkResetFenceResourceMESA *a = args;
	struct sem_ctx sc;
	if (!sem_ctx_get(x, a->device, &sc)) {
		vn_decoder_fail(d, "device is NULL");
		return;
	}
	if (a->fence)
		sc.f->ResetFences(a->device, 1, &a->fence);
}

static void h_import_semaphore_resource(struct vn_exec *x, const struct vn_cmd_desc *c,
					void *args, struct vn_decoder *d)
{
	struct vn_args_vkImportSemaphoreResourceMESA *a = args;
	const VkImportSemaphoreResourceInfoMESA *info = a->pImportSemaphoreResourceInfo;
	struct sem_ctx sc;
	if (!sem_ctx_get(x, a->device, &sc)) {
		vn_decoder_fail(d, "device is NULL");
		return;
	}
	if (!info->semaphore)
		return;
	if (info->resourceId) {
		pv_warn("venus: ctx %u: semaphore import from resource %u unsupported",
			x->ctx->id, info->resourceId);
		return;
	}
	/* A temporary sync_fd import of -1 is "already signaled". */
	if (sc.native_sync_fd && sc.f->ImportSemaphoreFdKHR) {
		VkImportSemaphoreFdInfoKHR ii = {
			.sType = VK_STRUCTURE_TYPE_IMPORT_SEMAPHORE_FD_INFO_KHR,
			.semaphore = info->semaphore,
			.flags = VK_SEMAPHORE_IMPORT_TEMPORARY_BIT,
			.handleType = VK_EXTERNAL_SEMAPHORE_HANDLE_TYPE_SYNC_FD_BIT,
			.fd = -1,
		};
		if (sc.f->ImportSemaphoreFdKHR(a->device, &ii) == VK_SUCCESS)
			return;
	}
	if (sem_submit(x, &sc, VK_NULL_HANDLE, info->semaphore) != VK_SUCCESS)
		pv_warn("venus: ctx %u: could not signal an imported semaphore", x->ctx->id);
}

static void h_wait_semaphore_resource(struct vn_exec *x, const struct vn_cmd_desc *c,
				      void *args, struct vn_decoder *d)
{
	struct vn_args_vkWaitSemaphoreResourceMESA *a = args;
	struct sem_ctx sc;
	if (!sem_ctx_get(x, a->device, &sc)) {
		vn_decoder_fail(d, "device is NULL");
		return;
	}
	if (!a->semaphore)
		return;
	/* Exporting a sync_fd consumes the payload like a wait does. */
	if (sc.native_sync_fd && sc.f->GetSemaphoreFdKHR) {
		VkSemaphoreGetFdInfoKHR gi = {
			.sType = VK_STRUCTURE_TYPE_SEMAPHORE_GET_FD_INFO_KHR,
			.semaphore = a->semaphore,
			.handleType = VK_EXTERNAL_SEMAPHORE_HANDLE_TYPE_SYNC_FD_BIT,
		};
		int fd = -1;
		if (sc.f->GetSemaphoreFdKHR(a->device, &gi, &fd) == VK_SUCCESS) {
			if (fd >= 0)
				close(fd);
			return;
		}
	}
	if (sem_submit(x, &sc, a->semaphore, VK_NULL_HANDLE) != VK_SUCCESS)
		pv_warn("venus: ctx %u: could not wait on a semaphore resource", x->ctx->id);
}

vn_handler_fn vn_transport_handler_for(uint32_t t)
{
	switch (t) {
	case VN_CMD_vkSetReplyCommandStreamMESA: return h_set_reply_stream;
	case VN_CMD_vkSeekReplyCommandStreamMESA: return h_seek_reply_stream;
	case VN_CMD_vkExecuteCommandStreamsMESA: return h_execute_streams;
	case VN_CMD_vkCreateRingMESA: return h_create_ring;
	case VN_CMD_vkDestroyRingMESA: return h_destroy_ring;
	case VN_CMD_vkNotifyRingMESA: return h_notify_ring;
	case VN_CMD_vkWriteRingExtraMESA: return h_write_ring_extra;
	case VN_CMD_vkSubmitVirtqueueSeqnoMESA: return h_submit_vq_seqno;
	case VN_CMD_vkWaitVirtqueueSeqnoMESA: return h_wait_vq_seqno;
	case VN_CMD_vkWaitRingSeqnoMESA: return h_wait_ring_seqno;
	case VN_CMD_vkResetFenceResourceMESA: return h_reset_fence_resource;
	case VN_CMD_vkWaitSemaphoreResourceMESA: return h_wait_semaphore_resource;
	case VN_CMD_vkImportSemaphoreResourceMESA: return h_import_semaphore_resource;
	default: return NULL;
	}
}

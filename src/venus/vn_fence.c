/*
 * Fence timelines: ring_idx N > 0 follows the VkQueue that the guest bound
 * to it with VkDeviceQueueTimelineInfoMESA. A fence on it is an empty
 * vkQueueSubmit with a VkFence, made under the queue's lock so it orders
 * after everything submitted before.
 *
 * Each timeline has its own list and its own waiter thread (started on the
 * timeline's first real fence): fences retire in order within a timeline,
 * and a slow queue never delays another timeline's retirement. Unbound
 * timelines (and ring_idx 0, the CPU timeline) retire at once when nothing
 * is queued ahead of them on the same timeline.
 *
 * A fence asked for on a timeline when nothing has reached its queue since
 * the timeline's last fence was made (attached or submitted) needs no host
 * fence of its own: a queue submission's fence signals only after all the
 * work submitted before it (Vulkan's submission order), so the new one
 * retires right after the last, or at once if that one has. Mesa 26 asks
 * for several per vkmark frame (its WSI's semaphores and fences, each a
 * vtest sync), and an empty submit of their own costs each the host's
 * whole submit-to-signal latency (25-30 µs on the H100) on the guest's
 * path.
 *
 * Also here: vkQueueWaitIdle, done as "submit a fence under the queue's
 * lock, wait for it without the lock", so a long wait never blocks fence
 * submissions or other rings' submits to the same queue.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "os/log.h"
#include "os/os_spin.h"
#include "os/os_thread.h"
#include "os/os_time.h"
#include "os/util.h"
#include "venus/vn_internal.h"

void vn_timeline_bind(struct venus_context *ctx, uint32_t ring_idx, struct vn_object *queue)
{
	struct vn_timeline *tl = &ctx->tl[ring_idx];
	pthread_mutex_lock(&tl->lock);
	tl->queue = queue;
	struct vn_queue_data *q = queue->data;
	q->ring_idx = (int)ring_idx;
	pthread_mutex_unlock(&tl->lock);
}

void vn_timeline_unbind_queue(struct venus_context *ctx, struct vn_object *queue)
{
	for (int i = 0; i < VN_MAX_TIMELINES; i++) {
		struct vn_timeline *tl = &ctx->tl[i];
		pthread_mutex_lock(&tl->lock);
		if (tl->queue == queue)
			tl->queue = NULL;
		pthread_mutex_unlock(&tl->lock);
	}
}

static void retire(struct venus_context *ctx, uint32_t ring_idx, uint64_t fence_id)
{
	if (ctx->cb.fence_retired)
		ctx->cb.fence_retired(ctx->cb.opaque, ring_idx, fence_id);
}

/* A reset fence from the device's pool, or a new one. */
static VkFence fence_get(struct vn_device_data *dd, VkDevice device)
{
	VkFence f = VK_NULL_HANDLE;
	pthread_mutex_lock(&dd->fence_lock);
	if (dd->fence_pool_n)
		f = dd->fence_pool[--dd->fence_pool_n];
	pthread_mutex_unlock(&dd->fence_lock);
	if (f)
		return f;
	VkFenceCreateInfo fci = { .sType = VK_STRUCTURE_TYPE_FENCE_CREATE_INFO };
	if (dd->fns.CreateFence(device, &fci, NULL, &f) != VK_SUCCESS)
		return VK_NULL_HANDLE;
	return f;
}

/* Back to the pool; `signaled` fences are reset first (off the critical
 * path: after their retirement). */
static void fence_put(struct vn_device_data *dd, VkDevice device, VkFence f, bool signaled)
{
	if (signaled && dd->fns.ResetFences(device, 1, &f) != VK_SUCCESS) {
		dd->fns.DestroyFence(device, f, NULL);
		return;
	}
	pthread_mutex_lock(&dd->fence_lock);
	bool kept = dd->fence_pool_n < VN_FENCE_POOL;
	if (kept)
		dd->fence_pool[dd->fence_pool_n++] = f;
	pthread_mutex_unlock(&dd->fence_lock);
	if (!kept)
		dd->fns.DestroyFence(device, f, NULL);
}

/* Waits for a fence from queue_fence, then pools it (or, failed, drops it). */
static VkResult wait_and_put(struct vn_device_data *dd, VkDevice device, VkFence fence)
{
	VkResult r = dd->fns.WaitForFences(device, 1, &fence, VK_TRUE, UINT64_MAX);
	if (r == VK_SUCCESS)
		fence_put(dd, device, fence, true);
	else
		dd->fns.DestroyFence(device, fence, NULL);
	return r;
}

static bool timeline_has_device(struct vn_timeline *tl, struct vn_device_data *dd)
{
	for (struct vn_fence_req *r = tl->head; r; r = r->next)
		if (r->dd == dd)
			return true;
	return false;
}

void vn_device_fences_fini(struct venus_context *ctx, struct vn_device_data *dd, VkDevice dev)
{
	/* A guest may destroy a device with virtqueue fences still pending
	 * (Vulkan forbids it, a hostile guest does not care): their waits
	 * end with the GPU work, so wait for them rather than free the
	 * device under the timeline threads. */
	for (int i = 0; ctx->fences_ready && i < VN_MAX_TIMELINES; i++) {
		struct vn_timeline *tl = &ctx->tl[i];
		pthread_mutex_lock(&tl->lock);
		while (tl->started && !tl->stop && timeline_has_device(tl, dd))
			pthread_cond_wait(&tl->retired_cond, &tl->lock);
		pthread_mutex_unlock(&tl->lock);
	}
	/* Fences still attached to the device's queues (their virtqueue
	 * fence never came): likewise, then into the pool freed below. */
	struct vn_object *devo = vn_objects_of_handle(&ctx->objs, VN_OBJ_VkDevice,
						      (uint64_t)(uintptr_t)dev);
	struct vn_object *queues[64];
	size_t nq = devo ? vn_objects_children_of_type(&ctx->objs, devo, VN_OBJ_VkQueue,
							queues, 64) : 0;
	for (size_t i = 0; i < nq; i++) {
		struct vn_queue_data *q = queues[i]->data;
		if (!q)
			continue;
		pthread_mutex_lock(&q->lock);
		VkFence f = q->attached;
		q->attached = VK_NULL_HANDLE;
		pthread_mutex_unlock(&q->lock);
		if (f)
			wait_and_put(dd, dev, f);
	}
	pthread_mutex_lock(&dd->fence_lock);
	for (unsigned i = 0; i < dd->fence_pool_n; i++)
		dd->fns.DestroyFence(dev, dd->fence_pool[i], NULL);
	dd->fence_pool_n = 0;
	pthread_mutex_unlock(&dd->fence_lock);
}

/* With polling on, an idle timeline thread polls for the next fence for
 * its adaptive window (os/os_spin.h) before sleeping on its condition
 * variable, and for the whole cap when kicked. Called and returns with
 * tl->lock held. */
static bool timeline_has_work(const void *arg)
{
	const struct vn_timeline *tl = arg;
	return __atomic_load_n(&tl->head, __ATOMIC_ACQUIRE) ||
	       __atomic_load_n(&tl->stop, __ATOMIC_ACQUIRE);
}

static void spin_for_work(struct vn_timeline *tl, uint64_t window_ns)
{
	if (!window_ns || tl->head || tl->stop)
		return;
	pthread_mutex_unlock(&tl->lock);
	os_spin_poll(os_now_ns(), window_ns, timeline_has_work, tl);
	pthread_mutex_lock(&tl->lock);
}

/* A fence wait that finds the device lost retires the fence all the same
 * (nothing else will), and loses the context so that the guest is told
 * rather than handed results the GPU never computed. */
static void fence_lost(struct vn_timeline *tl, VkResult r)
{
	if (r == VK_ERROR_DEVICE_LOST)
		vn_context_device_lost(tl->ctx, "a fence wait");
}

/* Host waits may block in the driver (an interrupt and a wake-up, tens of
 * µs); with polling on, poll the fence's status first, for a window of its
 * own: a fence behind milliseconds of GPU work shrinks it to its floor. */
static void wait_fence(struct vn_timeline *tl, struct vn_fence_req *req, struct os_spin *spin)
{
	uint64_t start = spin->max_ns ? os_now_ns() : 0;
	if (spin->window_ns) {
		uint64_t end = start + spin->window_ns;
		do {
			VkResult s = req->dd->fns.GetFenceStatus(req->device, req->fence);
			if (s != VK_NOT_READY) {
				/* signaled, or lost: WaitForFences says no more */
				os_spin_update(spin, os_now_ns() - start);
				fence_lost(tl, s);
				return;
			}
		} while (os_now_ns() < end);
	}
	/* Bounded waits so a stop request is noticed. */
	VkResult res;
	do {
		res = req->dd->fns.WaitForFences(req->device, 1, &req->fence, VK_TRUE, 100000000ull);
	} while (res == VK_TIMEOUT && !__atomic_load_n(&tl->stop, __ATOMIC_ACQUIRE));
	if (spin->max_ns)
		os_spin_update(spin, os_now_ns() - start);
	fence_lost(tl, res);
}

/* Takes a retired (or recycled) head off its timeline. Called with
 * tl->lock held; device teardown waits on retired_cond. */
static void pop_done(struct vn_timeline *tl, struct vn_fence_req *req)
{
	__atomic_store_n(&tl->head, req->next, __ATOMIC_RELEASE);
	if (!tl->head)
		tl->tail = &tl->head;
	free(req);
	tl->fences++;
	pthread_cond_broadcast(&tl->retired_cond);
}

static void *timeline_thread(void *arg)
{
	struct vn_timeline *tl = arg;
	struct venus_context *ctx = tl->ctx;
	char name[16];
	snprintf(name, sizeof(name), "vn-fence-%u", tl->idx);
	pthread_setname_np(pthread_self(), name);
	struct os_spin work_spin, fence_spin;
	os_spin_init(&work_spin, vn_spin_ns(ctx->r, VN_SPIN_FENCE));
	os_spin_init(&fence_spin, vn_spin_ns(ctx->r, VN_SPIN_FENCE_WAIT));
	tl->t_start = os_now_ns();
	pthread_mutex_lock(&tl->lock);
	for (;;) {
		uint64_t idle_from = tl->head || !work_spin.max_ns ? 0 : os_now_ns();
		spin_for_work(tl, work_spin.window_ns);
		while (!tl->head && !tl->stop) {
			pthread_cond_wait(&tl->cond, &tl->lock);
			if (tl->kicked) {
				tl->kicked = false;
				spin_for_work(tl, work_spin.max_ns);
			}
		}
		if (!tl->head)
			break;
		if (idle_from)
			os_spin_update(&work_spin, os_now_ns() - idle_from);
		struct vn_fence_req *req = tl->head;
		req->claimed = true;
		pthread_mutex_unlock(&tl->lock);
		vn_trace_since(&ctx->trace, VN_TRACE_FENCE_HANDOFF, req->t_queued);
		if (req->fence) {
			uint64_t t0 = vn_trace_now(&ctx->trace);
			wait_fence(tl, req, &fence_spin);
			vn_trace_since(&ctx->trace, VN_TRACE_FENCE_WAIT, t0);
		}
		if (!req->silent) {
			uint64_t t1 = vn_trace_now(&ctx->trace);
			retire(ctx, req->ring_idx, req->fence_id);
			vn_trace_since(&ctx->trace, VN_TRACE_FENCE_RETIRE, t1);
			vn_trace_since(&ctx->trace, VN_TRACE_FENCE_TOTAL, req->t_submit);
		}
		if (req->fence)
			fence_put(req->dd, req->device, req->fence, true);
		/* Off the list only now: until its fence is back in the pool
		 * vn_device_fences_fini must still see it (it destroys that
		 * pool; validation caught a fence left over), and a fence
		 * submitted meanwhile must not retire ahead of it. */
		pthread_mutex_lock(&tl->lock);
		pop_done(tl, req);
	}
	pthread_mutex_unlock(&tl->lock);
	tl->cpu_ns = os_thread_cpu_ns();
	return NULL;
}

/*
 * Retires, for another thread that polls anyway (a vtest client thread
 * between messages), the fence at the head of each timeline if the GPU
 * has signalled it and the timeline thread has not taken it up: that
 * thread, idle longer than its polling window, sleeps, and waking it costs
 * the retirement tens of µs on a VM (docs/PERFORMANCE.md, runs 42-48). Only
 * from the head (signalled fences, and chained ones, which have no host
 * fence to wait for), under the timeline's lock, so a timeline's fences
 * still retire in order: the timeline thread keeps its claimed head on the
 * list until it has retired it.
 */
void venus_context_poll_fences(struct venus_context *ctx)
{
	if (!ctx->fences_ready)
		return;
	for (uint32_t i = 1; i < VN_MAX_TIMELINES; i++) {
		struct vn_timeline *tl = &ctx->tl[i];
		struct vn_fence_req *req = __atomic_load_n(&tl->head, __ATOMIC_ACQUIRE);
		if (!req || pthread_mutex_trylock(&tl->lock))
			continue;
		/* A fenceless head (chained) is one the timeline thread
		 * would retire unwaited. */
		while ((req = tl->head) && !req->claimed) {
			if (req->fence) {
				if (req->dd->fns.GetFenceStatus(req->device, req->fence) != VK_SUCCESS)
					break;
				vn_trace_since(&ctx->trace, VN_TRACE_FENCE_POLLED, req->t_submit);
			}
			if (!req->silent)
				retire(ctx, req->ring_idx, req->fence_id);
			if (req->fence)
				fence_put(req->dd, req->device, req->fence, true);
			pop_done(tl, req);
		}
		pthread_mutex_unlock(&tl->lock);
	}
}

/*
 * A ring that leaves its idle park (the guest idled past its ring timeout
 * and notified it) is about to replay work, a submit and so a fence most
 * likely among it. The timeline threads have idled as long and sleep;
 * woken only when that fence arrives, each would add its wake-up (6-20 µs
 * on a VM) to the burst's path. Kicked now, they wake while the ring
 * replays and poll for their fence. Costs one poll of the cap per idle
 * spell; the rings' park timeout bounds how often.
 */
void vn_timelines_kick(struct venus_context *ctx)
{
	if (!ctx->fences_ready || !vn_spin_ns(ctx->r, VN_SPIN_FENCE))
		return;
	for (uint32_t i = 0; i < VN_MAX_TIMELINES; i++) {
		struct vn_timeline *tl = &ctx->tl[i];
		pthread_mutex_lock(&tl->lock);
		if (tl->started && !tl->head && !tl->kicked) {
			tl->kicked = true;
			pthread_cond_signal(&tl->cond);
		}
		pthread_mutex_unlock(&tl->lock);
	}
}

int vn_fences_start(struct venus_context *ctx)
{
	for (uint32_t i = 0; i < VN_MAX_TIMELINES; i++) {
		struct vn_timeline *tl = &ctx->tl[i];
		tl->ctx = ctx;
		tl->idx = i;
		tl->head = NULL;
		tl->tail = &tl->head;
		tl->kicked = false;
		pthread_mutex_init(&tl->lock, NULL);
		pthread_cond_init(&tl->cond, NULL);
		pthread_cond_init(&tl->retired_cond, NULL);
	}
	ctx->fences_ready = true;
	return 0;
}

void vn_fences_stop(struct venus_context *ctx)
{
	if (!ctx->fences_ready)
		return;
	for (int i = 0; i < VN_MAX_TIMELINES; i++) {
		struct vn_timeline *tl = &ctx->tl[i];
		pthread_mutex_lock(&tl->lock);
		__atomic_store_n(&tl->stop, true, __ATOMIC_RELEASE);
		pthread_cond_broadcast(&tl->cond);
		bool started = tl->started;
		pthread_mutex_unlock(&tl->lock);
		if (started) {
			pthread_join(tl->thread, NULL);
			if (tl->fences)
				pv_info("venus: ctx %u fence timeline %u: %llu fences, %.1f ms CPU "
					"over %.2f s", ctx->id, tl->idx,
					(unsigned long long)tl->fences, tl->cpu_ns / 1e6,
					(os_now_ns() - tl->t_start) / 1e9);
		}
		tl->started = false;
		/* Whatever is left never reached the thread (or the thread
		 * never started): only the host fences need freeing. */
		struct vn_fence_req *req = tl->head;
		tl->head = NULL;
		tl->tail = &tl->head;
		while (req) {
			struct vn_fence_req *next = req->next;
			if (req->fence)
				req->dd->fns.DestroyFence(req->device, req->fence, NULL);
			free(req);
			req = next;
		}
		pthread_mutex_destroy(&tl->lock);
		pthread_cond_destroy(&tl->cond);
		pthread_cond_destroy(&tl->retired_cond);
	}
	ctx->fences_ready = false;
}

/* An empty submit with a new fence on the queue, under the queue's lock:
 * the fence signals once everything submitted to the queue before has
 * finished; a timeline's fence (cover_ring > 0) is then the one later
 * fences on it may chain to. VK_NULL_HANDLE when that could not be done. */
static VkFence queue_fence(struct vn_object *qo, uint32_t cover_ring, VkDevice *device_out,
			   struct vn_device_data **dd_out)
{
	struct vn_queue_data *q = qo->data;
	struct vn_object *dev = vn_owner(qo, VN_OBJ_VkDevice);
	struct vn_device_data *dd = dev ? dev->data : NULL;
	if (!q || !dd)
		return VK_NULL_HANDLE;
	VkDevice device = (VkDevice)(uintptr_t)dev->handle;
	VkFence fence = fence_get(dd, device);
	if (!fence)
		return VK_NULL_HANDLE;
	pthread_mutex_lock(&q->lock);
	VkResult res = dd->fns.QueueSubmit((VkQueue)(uintptr_t)qo->handle, 0, NULL, fence);
	if (res == VK_SUCCESS && cover_ring) {
		q->covered_ring = cover_ring;
		q->covered_gen = q->gen;
	}
	pthread_mutex_unlock(&q->lock);
	if (res != VK_SUCCESS) {
		fence_put(dd, device, fence, false);
		return VK_NULL_HANDLE;
	}
	*device_out = device;
	*dd_out = dd;
	return fence;
}

/* How far attach_score climbs: a guest that changes its pattern stops
 * getting attached fences after a few stale ones. A fence taken counts
 * VN_ATTACH_HIT, one superseded by the next submit's 1: Mesa 26's WSI
 * follows each frame's submit with a second one before the frame's fence,
 * so a frame supersedes one fence and takes the next (at +1 for a take
 * and -2 for a supersession that decayed every other frame to an empty
 * submit: docs/PERFORMANCE.md, run 66), while a guest that takes none (Mesa 25) stops
 * getting them after a few submits. */
#define VN_ATTACH_SCORE_MAX 8
#define VN_ATTACH_HIT 4

/* Appends a request to its timeline, starting the timeline's thread on
 * first use. Called with tl->lock held; on failure the caller still owns
 * req. */
static int enqueue(struct venus_context *ctx, struct vn_timeline *tl, struct vn_fence_req *req)
{
	if (!tl->started) {
		if (pthread_create(&tl->thread, NULL, timeline_thread, tl))
			return -EAGAIN;
		tl->started = true;
	}
	req->t_queued = vn_trace_now(&ctx->trace);
	__atomic_store_n(tl->tail, req, __ATOMIC_RELEASE);
	tl->tail = &req->next;
	pthread_cond_signal(&tl->cond);
	return 0;
}

/* Queues a silent request for an attached fence nobody took: the timeline
 * waits for it and pools it, retiring nothing. Called with tl->lock held;
 * false when it could not be queued (the caller must wait for it). */
static bool enqueue_silent(struct venus_context *ctx, struct vn_timeline *tl, VkFence f,
			   VkDevice device, struct vn_device_data *dd)
{
	struct vn_fence_req *req = calloc(1, sizeof(*req));
	if (!req)
		return false;
	*req = (struct vn_fence_req){ .ring_idx = tl->idx, .fence = f, .device = device,
				      .dd = dd, .silent = true };
	if (enqueue(ctx, tl, req)) {
		free(req);
		return false;
	}
	return true;
}

/*
 * The fence attached to the guest's own vkQueueSubmit on this queue, if
 * it still covers everything submitted to the queue (nothing was submitted
 * after it): then the virtqueue fence needs no empty submit of its own,
 * which costs a driver submission (~4 µs on NVIDIA) per guest submit. One
 * that no longer covers the queue is handed to the timeline as a silent
 * request, which waits for it and pools it. Called with tl->lock held.
 */
static VkFence claim_attached(struct venus_context *ctx, struct vn_timeline *tl,
			      struct vn_object *qo, VkDevice *device, struct vn_device_data **dd)
{
	struct vn_queue_data *q = qo->data;
	if (!q)
		return VK_NULL_HANDLE;
	pthread_mutex_lock(&q->lock);
	VkFence f = q->attached;
	bool current = q->attach_gen == q->gen;
	*device = q->attach_device;
	*dd = q->attach_dd;
	q->attached = VK_NULL_HANDLE;
	/* Attach to this queue's submits while that pays: a fence there to
	 * take counts up most, one wanted with none attached (the queue not
	 * attaching yet) a little, a stale one down. */
	if (f && current)
		q->attach_score = PV_MIN(q->attach_score + VN_ATTACH_HIT, VN_ATTACH_SCORE_MAX);
	else if (!f)
		q->attach_score = PV_MIN(q->attach_score + 1, VN_ATTACH_SCORE_MAX);
	else
		q->attach_score = PV_MAX(q->attach_score - 2, -1);
	if (f && current) {
		q->covered_ring = tl->idx;
		q->covered_gen = q->gen;
	}
	pthread_mutex_unlock(&q->lock);
	if (!f || current)
		return f;
	/* Nowhere to wait for it: wait here rather than leak or free a
	 * fence the driver may still signal. */
	if (!enqueue_silent(ctx, tl, f, *device, *dd))
		wait_and_put(*dd, *device, f);
	return VK_NULL_HANDLE;
}

/* At debug level, why a fence needed an empty submit of its own. */
static void log_own_fence(struct venus_context *ctx, struct vn_object *qo, uint32_t ring_idx,
			  uint64_t fence_id)
{
	struct vn_queue_data *q = qo->data;
	pthread_mutex_lock(&q->lock);
	unsigned long long gen = q->gen, covered = q->covered_gen, attached = q->attach_gen;
	uint32_t covered_ring = q->covered_ring;
	int score = q->attach_score;
	pthread_mutex_unlock(&q->lock);
	pv_debug("venus: ctx %u: fence %llu on timeline %u: an empty submit of its own "
		 "(queue %p at call %llu; last covered by timeline %u at call %llu; last "
		 "attached fence at call %llu, score %d)", ctx->id, (unsigned long long)fence_id,
		 ring_idx, (void *)(uintptr_t)qo->handle, gen, covered_ring, covered, attached,
		 score);
}

/* Whether this timeline's last fence still covers the queue: nothing was
 * called on it since that fence was made. */
static bool still_covered(struct vn_timeline *tl, struct vn_object *qo)
{
	struct vn_queue_data *q = qo->data;
	if (!q)
		return false;
	pthread_mutex_lock(&q->lock);
	bool covered = q->covered_ring == tl->idx && q->covered_gen == q->gen;
	pthread_mutex_unlock(&q->lock);
	return covered;
}

int vn_fence_submit(struct venus_context *ctx, uint32_t ring_idx, uint64_t fence_id)
{
	if (ring_idx >= VN_MAX_TIMELINES)
		return -EINVAL;
	struct vn_timeline *tl = &ctx->tl[ring_idx];
	struct vn_fence_req *req = calloc(1, sizeof(*req));
	if (!req)
		return -ENOMEM;
	req->ring_idx = ring_idx;
	req->fence_id = fence_id;
	req->t_submit = vn_trace_now(&ctx->trace);
	/* The queue is used under the timeline's lock so it cannot be
	 * destroyed (and unbound) in between. */
	pthread_mutex_lock(&tl->lock);
	struct vn_object *qo = ring_idx ? tl->queue : NULL;
	if (qo && !atomic_load(&ctx->lost)) {
		atomic_fetch_add_explicit(&ctx->fences_total, 1, memory_order_relaxed);
		if (ctx->r->fence_chain && still_covered(tl, qo)) {
			/* No host fence: it retires after the timeline's last
			 * one (below, at once if that one has retired). */
			atomic_fetch_add_explicit(&ctx->fences_chained, 1, memory_order_relaxed);
			qo = NULL;
		}
	}
	if (qo && !atomic_load(&ctx->lost)) {
		req->fence = claim_attached(ctx, tl, qo, &req->device, &req->dd);
		if (req->fence) {
			atomic_fetch_add_explicit(&ctx->fences_attached, 1, memory_order_relaxed);
			vn_trace_since(&ctx->trace, VN_TRACE_FENCE_ATTACHED, req->t_submit);
		} else {
			req->fence = queue_fence(qo, ring_idx, &req->device, &req->dd);
			if (pv_log_enabled(PV_LOG_DEBUG))
				log_own_fence(ctx, qo, ring_idx, fence_id);
		}
		vn_trace_since(&ctx->trace, VN_TRACE_FENCE_QUEUE, req->t_submit);
	}
	if (req->fence && !tl->head && ctx->r->fence_poll_ns) {
		uint64_t end = os_now_ns() + ctx->r->fence_poll_ns;
		VkResult st;
		do {
			st = req->dd->fns.GetFenceStatus(req->device, req->fence);
		} while (st == VK_NOT_READY && os_now_ns() < end);
		if (st == VK_SUCCESS) {
			/* Pooled before the lock goes: vn_device_fences_fini
			 * (device destroy) waits on this lock for fences it
			 * cannot see on the list, then frees the pool. */
			fence_put(req->dd, req->device, req->fence, true);
			pthread_mutex_unlock(&tl->lock);
			vn_trace_since(&ctx->trace, VN_TRACE_FENCE_POLLED, req->t_submit);
			retire(ctx, ring_idx, fence_id);
			free(req);
			return 0;
		}
	}
	if (!req->fence && !tl->head) {
		/* Nothing to wait for and nothing queued ahead: retire now. */
		pthread_mutex_unlock(&tl->lock);
		free(req);
		retire(ctx, ring_idx, fence_id);
		return 0;
	}
	if (enqueue(ctx, tl, req)) {
		/* Under the lock for the same reason as above. */
		if (req->fence)
			wait_and_put(req->dd, req->device, req->fence);
		pthread_mutex_unlock(&tl->lock);
		free(req);
		return -EAGAIN;
	}
	pthread_mutex_unlock(&tl->lock);
	return 0;
}

/* Hands a fence that was attached but never taken to its timeline, which
 * waits for it and pools it. */
static void put_stale(struct venus_context *ctx, int ring_idx, VkFence f, VkDevice device,
		      struct vn_device_data *dd)
{
	if (ring_idx > 0 && ring_idx < VN_MAX_TIMELINES) {
		struct vn_timeline *tl = &ctx->tl[ring_idx];
		pthread_mutex_lock(&tl->lock);
		/* Waited for under the lock if it cannot be queued, so
		 * vn_device_fences_fini cannot free its pool meanwhile. */
		if (!enqueue_silent(ctx, tl, f, device, dd))
			wait_and_put(dd, device, f);
		pthread_mutex_unlock(&tl->lock);
		return;
	}
	wait_and_put(dd, device, f);
}

/*
 * vkQueueSubmit / vkQueueSubmit2 with no fence, on a queue bound to a fence
 * timeline. Mesa 26's Venus driver keeps guest fences as vtest syncs: it
 * sends vkQueueSubmit on the ring without a VkFence, then a virtqueue batch
 * that waits for the ring and asks for a fence on the queue's timeline,
 * which would otherwise be an empty submit of its own (~4 µs of NVIDIA's
 * driver each). So give the guest's submit a pooled fence; vn_fence_submit
 * takes it if nothing was submitted to the queue after. Only while that
 * keeps paying (attach_score, kept by claim_attached): a guest whose
 * submits no virtqueue fence follows (Mesa 25 uses feedback buffers) would
 * only have each attached fence waited for and recycled.
 */
static void queue_submit(struct vn_exec *x, const struct vn_cmd_desc *c, void *args,
			 struct vn_decoder *d, VkQueue queue, VkFence *fence, const VkResult *ret)
{
	struct venus_context *ctx = x->ctx;
	struct vn_object *qo = NULL;
	struct vn_queue_data *q = NULL;
	struct vn_device_data *dd = NULL;
	VkDevice device = VK_NULL_HANDLE;
	VkFence mine = VK_NULL_HANDLE;
	if (!*fence && ctx->r->fence_attach) {
		qo = vn_objects_of_handle(&ctx->objs, VN_OBJ_VkQueue, (uint64_t)(uintptr_t)queue);
		q = qo ? qo->data : NULL;
		struct vn_object *dev = qo ? vn_owner(qo, VN_OBJ_VkDevice) : NULL;
		dd = dev ? dev->data : NULL;
		if (q && dd && q->ring_idx > 0 &&
		    __atomic_load_n(&q->attach_score, __ATOMIC_RELAXED) > 0) {
			device = (VkDevice)(uintptr_t)dev->handle;
			mine = fence_get(dd, device);
			*fence = mine;
		}
	}
	vn_dispatch_generic(x, c, args, d);
	if (!mine)
		return;
	*fence = VK_NULL_HANDLE;
	if (d->fatal || *ret != VK_SUCCESS) {
		/* Never submitted: back to the pool as it was. */
		fence_put(dd, device, mine, false);
		return;
	}
	pthread_mutex_lock(&q->lock);
	VkFence prev = q->attached;
	VkDevice prev_device = q->attach_device;
	struct vn_device_data *prev_dd = q->attach_dd;
	int ring_idx = q->ring_idx;
	q->attached = mine;
	q->attach_gen = x->last_queue_gen;
	q->attach_device = device;
	q->attach_dd = dd;
	if (prev)
		q->attach_score = PV_MAX(q->attach_score - 1, -1);
	pthread_mutex_unlock(&q->lock);
	/* The previous one was never taken; the new one covers more. */
	if (prev)
		put_stale(ctx, ring_idx, prev, prev_device, prev_dd);
}

/* At debug level, what each submit waits on and signals: the handles are
 * the host's, as the semaphore-resource helpers (vn_transport.c) log
 * them, so a guest stuck in a fence wait can be matched to the submit
 * that never ran. */
static void log_submit(const struct venus_context *ctx, VkQueue queue, uint32_t i,
		       uint32_t ncmd, VkFence fence,
		       VkResult ret, const char *waits, const char *signals)
{
	pv_debug("venus: ctx %u submit queue %p batch %u: %u cmd, wait [%s], signal [%s], "
		 "fence %p: %d", ctx->id, (void *)queue, i, ncmd, waits, signals,
		 (void *)fence, ret);
}

static void append_handle(char *buf, size_t size, const void *h)
{
	size_t n = strlen(buf);
	if (n + 20 < size)
		snprintf(buf + n, size - n, "%s%p", n ? " " : "", h);
}

static void log_submit1(const struct venus_context *ctx, const struct vn_args_vkQueueSubmit *a)
{
	for (uint32_t i = 0; a->pSubmits && i < a->submitCount; i++) {
		const VkSubmitInfo *s = &a->pSubmits[i];
		char w[256] = "", g[256] = "";
		for (uint32_t j = 0; s->pWaitSemaphores && j < s->waitSemaphoreCount; j++)
			append_handle(w, sizeof(w), (void *)s->pWaitSemaphores[j]);
		for (uint32_t j = 0; s->pSignalSemaphores && j < s->signalSemaphoreCount; j++)
			append_handle(g, sizeof(g), (void *)s->pSignalSemaphores[j]);
		log_submit(ctx, a->queue, i, s->commandBufferCount, a->fence, a->ret, w, g);
	}
	if (!a->submitCount)
		log_submit(ctx, a->queue, 0, 0, a->fence, a->ret, "", "");
}

static void log_submit2(const struct venus_context *ctx, const struct vn_args_vkQueueSubmit2 *a)
{
	for (uint32_t i = 0; a->pSubmits && i < a->submitCount; i++) {
		const VkSubmitInfo2 *s = &a->pSubmits[i];
		char w[256] = "", g[256] = "";
		for (uint32_t j = 0; s->pWaitSemaphoreInfos && j < s->waitSemaphoreInfoCount; j++)
			append_handle(w, sizeof(w), (void *)s->pWaitSemaphoreInfos[j].semaphore);
		for (uint32_t j = 0; s->pSignalSemaphoreInfos && j < s->signalSemaphoreInfoCount; j++)
			append_handle(g, sizeof(g), (void *)s->pSignalSemaphoreInfos[j].semaphore);
		log_submit(ctx, a->queue, i, s->commandBufferInfoCount, a->fence, a->ret, w, g);
	}
	if (!a->submitCount)
		log_submit(ctx, a->queue, 0, 0, a->fence, a->ret, "", "");
}

/*
 * A diagnostic (PEARVISOR_VENUS_SUBMIT_PROBE=1, with PEARVISOR_LOG=debug
 * for the submits themselves): after each submit, a fence on the same
 * queue, waited for up to 2 s, says whether the queue drained. The first
 * submit after which it does not is where a guest's fence wait sticks. It
 * serializes the GPU; never for measuring.
 */
void vn_queue_probe(struct vn_exec *x, VkQueue queue, const char *what)
{
	struct vn_object *qo = vn_objects_of_handle(&x->ctx->objs, VN_OBJ_VkQueue,
						    (uint64_t)(uintptr_t)queue);
	VkDevice device;
	struct vn_device_data *dd;
	VkFence f = qo ? queue_fence(qo, 0, &device, &dd) : VK_NULL_HANDLE;
	if (!f) {
		pv_info("venus: ctx %u probe after %s: no fence", x->ctx->id, what);
		return;
	}
	uint64_t t0 = os_now_ns();
	VkResult r = dd->fns.WaitForFences(device, 1, &f, VK_TRUE, 2000000000ull);
	pv_info("venus: ctx %u probe after %s on queue %p: %s after %.3f ms", x->ctx->id, what,
		(void *)queue, r == VK_SUCCESS ? "drained" : r == VK_TIMEOUT ? "STUCK" : "failed",
		(double)(os_now_ns() - t0) / 1e6);
	/* A fence still pending stays in the driver's hands (leaked). */
	if (r == VK_SUCCESS)
		fence_put(dd, device, f, true);
}

void vn_handle_queue_submit(struct vn_exec *x, const struct vn_cmd_desc *c, void *args,
			    struct vn_decoder *d)
{
	struct vn_args_vkQueueSubmit *a = args;
	queue_submit(x, c, args, d, a->queue, &a->fence, &a->ret);
	if (!d->fatal && pv_log_enabled(PV_LOG_DEBUG))
		log_submit1(x->ctx, a);
	if (!d->fatal && x->ctx->r->submit_probe)
		vn_queue_probe(x, a->queue, "vkQueueSubmit");
}

void vn_handle_queue_submit2(struct vn_exec *x, const struct vn_cmd_desc *c, void *args,
			     struct vn_decoder *d)
{
	struct vn_args_vkQueueSubmit2 *a = args;
	queue_submit(x, c, args, d, a->queue, &a->fence, &a->ret);
	if (!d->fatal && pv_log_enabled(PV_LOG_DEBUG))
		log_submit2(x->ctx, a);
	if (!d->fatal && x->ctx->r->submit_probe)
		vn_queue_probe(x, a->queue, "vkQueueSubmit2");
}

void vn_handle_queue_wait_idle(struct vn_exec *x, const struct vn_cmd_desc *c, void *args,
			       struct vn_decoder *d)
{
	struct vn_args_vkQueueWaitIdle *a = args;
	struct vn_objects *objs = &x->ctx->objs;
	struct vn_object *qo = vn_objects_of_handle(objs, VN_OBJ_VkQueue,
						    (uint64_t)(uintptr_t)a->queue);
	if (!qo || !qo->data) {
		vn_decoder_fail(d, "queue is NULL or orphaned");
		return;
	}
	VkDevice device;
	struct vn_device_data *dd;
	VkFence fence = queue_fence(qo, 0, &device, &dd);
	if (!fence) {
		/* No fence to be had: the plain call, holding the lock. */
		vn_dispatch_generic(x, c, args, d);
		return;
	}
	a->ret = wait_and_put(dd, device, fence);
}

/* vkDeviceWaitIdle needs every queue of the device externally synchronized;
 * like vkQueueWaitIdle it becomes one fence per queue, submitted under
 * each queue's lock and waited for without any. */
void vn_handle_device_wait_idle(struct vn_exec *x, const struct vn_cmd_desc *c, void *args,
				struct vn_decoder *d)
{
	struct vn_args_vkDeviceWaitIdle *a = args;
	struct vn_objects *objs = &x->ctx->objs;
	struct vn_object *dev = vn_objects_of_handle(objs, VN_OBJ_VkDevice,
						     (uint64_t)(uintptr_t)a->device);
	if (!dev || !dev->data) {
		vn_decoder_fail(d, "device is NULL");
		return;
	}
	struct vn_object *queues[64];
	VkFence fences[64];
	size_t n = vn_objects_children_of_type(objs, dev, VN_OBJ_VkQueue, queues, 64);
	struct vn_device_data *dd = dev->data;
	VkDevice device = a->device;
	size_t k = 0;
	/* A full array may have left queues out: the plain call then too. */
	bool all = n < 64;
	for (size_t i = 0; i < n; i++) {
		struct vn_device_data *qdd;
		VkDevice qdev;
		fences[k] = queue_fence(queues[i], 0, &qdev, &qdd);
		if (fences[k])
			k++;
		else
			all = false;
	}
	a->ret = VK_SUCCESS;
	for (size_t i = 0; i < k; i++) {
		VkResult r = wait_and_put(dd, device, fences[i]);
		if (r != VK_SUCCESS && a->ret == VK_SUCCESS)
			a->ret = r;
	}
	if (!all && a->ret == VK_SUCCESS) {
		/* A queue without a fence (none could be made): the plain
		 * call, with every queue's lock held, in one order. */
		for (size_t i = 0; i < n; i++)
			if (queues[i]->data)
				pthread_mutex_lock(&((struct vn_queue_data *)queues[i]->data)->lock);
		a->ret = dd->fns.DeviceWaitIdle(device);
		for (size_t i = n; i-- > 0;)
			if (queues[i]->data)
				pthread_mutex_unlock(&((struct vn_queue_data *)queues[i]->data)->lock);
	}
}

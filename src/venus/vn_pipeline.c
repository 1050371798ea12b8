/*
 * Replay pipelining: while a ring's thread decodes a command buffer's
 * recording, a helper thread makes the driver calls of the commands
 * already decoded.
 *
 * Why: Mesa's Venus driver sends a command buffer's commands in one batch
 * at vkEndCommandBuffer and submits right after, so the guest waits for
 * the whole replay (decode, then the driver's own recording, per command
 * in series). Token generation in llama.cpp waits on exactly that, twice a
 * token. With the two halves on two cores the wait is the longer half
 * instead of the sum.
 *
 * Only plain recording commands go to the helper (a VkCommandBuffer first,
 * no reply, no object created or destroyed, no hand-written handler): their
 * arguments live in the ring's arena, which is not reset while any are
 * queued, and the ring thread drains the queue before anything else runs,
 * before the ring's head moves (so vkWaitRingSeqnoMESA and the guest see
 * commands only once their calls are made) and before the stream's bytes
 * are reused. The helper spins while a batch is in flight and a little
 * after (a sleeping helper would add a wake-up to every batch), then
 * sleeps until the next large batch.
 */
#include <errno.h>
#include <stdalign.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "os/log.h"
#include "os/os_thread.h"
#include "os/os_time.h"
#include "venus/vn_internal.h"

#define VN_PIPE_SLOTS 1024u
/* How long an idle helper keeps spinning after a batch: the next batch of
 * a token's graph often follows within tens of µs. */
#define VN_PIPE_LINGER_NS 50000ull

struct vn_pipe_item {
	void (*call)(const void *fns, void *args);
	const void *fns;
	void *args;
};

/* The two threads' counters sit on cache lines of their own: each side
 * writes only its own line and reads the other's only when it has caught
 * up (helper) or must wait (ring thread: drain, full queue), so handing
 * over a command costs no cache-line ping-pong. */
struct vn_pipe {
	struct vn_pipe_item item[VN_PIPE_SLOTS];
	/* ring thread's line */
	alignas(64) _Atomic uint32_t pushed;
	bool queued;    /* pushed anything since the last drain */
	unsigned depth; /* nested batches (vkExecuteCommandStreamsMESA) */
	/* helper's line */
	alignas(64) _Atomic uint32_t done;
	/* rarely written */
	alignas(64) _Atomic bool active; /* the ring thread is inside a large batch */
	_Atomic bool awake;              /* the helper is polling the queue */
	bool started, stop;
	uint32_t ring_ctx_id;
	uint64_t handed; /* commands the helper ran (written by it, read after join) */
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;
};

static bool queue_empty(const struct vn_pipe *p)
{
	return atomic_load_explicit(&p->done, memory_order_acquire) ==
	       atomic_load_explicit(&p->pushed, memory_order_acquire);
}

static void *pipe_thread(void *arg)
{
	struct vn_pipe *p = arg;
	char name[16];
	snprintf(name, sizeof(name), "vn-replay-%u", p->ring_ctx_id);
	pthread_setname_np(pthread_self(), name);
	pthread_mutex_lock(&p->lock);
	for (;;) {
		while (!atomic_load(&p->active) && queue_empty(p) && !p->stop)
			pthread_cond_wait(&p->cond, &p->lock);
		if (p->stop)
			break;
		pthread_mutex_unlock(&p->lock);
		atomic_store(&p->awake, true);
		uint64_t idle_since = 0;
		uint32_t d = atomic_load_explicit(&p->done, memory_order_relaxed);
		for (;;) {
			uint32_t end = atomic_load_explicit(&p->pushed, memory_order_acquire);
			if (d != end) {
				while (d != end) {
					const struct vn_pipe_item *it = &p->item[d & (VN_PIPE_SLOTS - 1)];
					it->call(it->fns, it->args);
					d++;
					atomic_store_explicit(&p->done, d, memory_order_release);
				}
				idle_since = 0;
				continue;
			}
			if (atomic_load(&p->active)) {
				idle_since = 0;
			} else {
				uint64_t now = os_now_ns();
				if (!idle_since)
					idle_since = now;
				else if (now - idle_since >= VN_PIPE_LINGER_NS)
					break;
			}
			os_cpu_relax_burst();
		}
		/* Pairs with vn_pipe_begin: either it sees awake cleared and
		 * signals under the lock, or this sees active set. */
		atomic_store(&p->awake, false);
		pthread_mutex_lock(&p->lock);
		p->handed = d;
	}
	pthread_mutex_unlock(&p->lock);
	return NULL;
}

struct vn_pipe *vn_pipe_create(uint32_t ctx_id)
{
	struct vn_pipe *p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	p->ring_ctx_id = ctx_id;
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->cond, NULL);
	return p;
}

void vn_pipe_destroy(struct vn_pipe *p)
{
	if (!p)
		return;
	if (p->started) {
		pthread_mutex_lock(&p->lock);
		p->stop = true;
		pthread_cond_broadcast(&p->cond);
		pthread_mutex_unlock(&p->lock);
		pthread_join(p->thread, NULL);
		pv_info("venus: ctx %u: replay helper ran %llu recording commands",
			p->ring_ctx_id, (unsigned long long)p->handed);
	}
	pthread_mutex_destroy(&p->lock);
	pthread_cond_destroy(&p->cond);
	free(p);
}

bool vn_pipe_begin(struct vn_pipe *p)
{
	if (p->depth) {
		p->depth++;
		return true;
	}
	if (!p->started) {
		if (pthread_create(&p->thread, NULL, pipe_thread, p)) {
			pv_warn("venus: replay helper thread: %s; replaying on one thread",
				strerror(errno));
			return false;
		}
		p->started = true;
	}
	p->depth = 1;
	atomic_store(&p->active, true);
	if (!atomic_load(&p->awake)) {
		pthread_mutex_lock(&p->lock);
		pthread_cond_signal(&p->cond);
		pthread_mutex_unlock(&p->lock);
	}
	return true;
}

/* Nothing handed over since the last drain (ring thread only; reads no
 * helper state). */
bool vn_pipe_idle(const struct vn_pipe *p)
{
	return !p->queued;
}

/* Until the helper polls, commands run inline: handing them to a thread
 * still waking up would only wait for it. */
bool vn_pipe_ready(const struct vn_pipe *p)
{
	return p->queued || atomic_load_explicit(&p->awake, memory_order_relaxed);
}

void vn_pipe_push(struct vn_pipe *p, void (*call)(const void *, void *), const void *fns,
		  void *args)
{
	uint32_t n = atomic_load_explicit(&p->pushed, memory_order_relaxed);
	while (n - atomic_load_explicit(&p->done, memory_order_acquire) >= VN_PIPE_SLOTS)
		os_cpu_relax();
	p->item[n & (VN_PIPE_SLOTS - 1)] = (struct vn_pipe_item){ call, fns, args };
	atomic_store_explicit(&p->pushed, n + 1, memory_order_release);
	p->queued = true;
}

void vn_pipe_drain(struct vn_pipe *p)
{
	if (!p->queued)
		return;
	uint32_t n = atomic_load_explicit(&p->pushed, memory_order_relaxed);
	while (atomic_load_explicit(&p->done, memory_order_acquire) != n)
		os_cpu_relax();
	p->queued = false;
}

void vn_pipe_end(struct vn_pipe *p)
{
	vn_pipe_drain(p);
	if (!--p->depth)
		atomic_store(&p->active, false);
}

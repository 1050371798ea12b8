/*
 * Adaptive busy-polling before a thread blocks, in the manner of Linux's
 * cpuidle-haltpoll governor. A blocking hand-off costs a wake-up (6-20 µs
 * on the H100 machine, a VM); polling first avoids it but holds a core.
 * The window adapts to what the waits turn out to be:
 * - a wait that ends inside the window: the poll paid off, keep it;
 * - one that ends after the window but within the cap: a longer poll would
 *   have caught it, so double the window (from OS_SPIN_GROW_START_NS);
 * - one that outlasts the cap (the guest went idle, or the GPU is busy for
 *   milliseconds): polling was wasted, so halve it, down to a floor of
 *   OS_SPIN_FLOOR_NS. Not to off: the work after an idle spell comes as a
 *   burst (a frame, a submit and its wait), and a thread that blocks on
 *   each of the burst's short gaps pays a wake-up (6-20 µs on the H100
 *   machine) on each; the floor costs at most as much, once, at the end of
 *   each burst, and catches those gaps.
 * So a thread polls while work comes in quick succession (vkmark's frames,
 * token generation's submits) and stops burning its core in long waits.
 * Not thread-safe: one per polling thread.
 */
#ifndef PV_OS_SPIN_H
#define PV_OS_SPIN_H

#include <stdbool.h>
#include <stdint.h>

#include "os/os_thread.h"
#include "os/os_time.h"

#define OS_SPIN_GROW_START_NS 10000ull
#define OS_SPIN_FLOOR_NS 20000ull

struct os_spin {
	uint64_t window_ns; /* how long the next wait polls */
	uint64_t max_ns;    /* the cap; 0 turns polling off */
};

static inline void os_spin_init(struct os_spin *s, uint64_t max_ns)
{
	s->max_ns = max_ns;
	s->window_ns = max_ns;
}

/* `waited_ns`: how long the last wait took, polling and blocking. */
static inline void os_spin_update(struct os_spin *s, uint64_t waited_ns)
{
	if (waited_ns <= s->window_ns || !s->max_ns)
		return;
	if (waited_ns <= s->max_ns) {
		uint64_t w = s->window_ns ? s->window_ns * 2 : OS_SPIN_GROW_START_NS;
		s->window_ns = w < s->max_ns ? w : s->max_ns;
	} else {
		uint64_t floor = s->max_ns < OS_SPIN_FLOOR_NS ? s->max_ns : OS_SPIN_FLOOR_NS;
		s->window_ns /= 2;
		if (s->window_ns < floor)
			s->window_ns = floor;
	}
}

/* Polls `done(arg)` with pauses in between until it holds or `window_ns`
 * has passed since `start_ns`; returns whether it held. `done` also says
 * when to give up early (a stop request). */
static inline bool os_spin_poll(uint64_t start_ns, uint64_t window_ns,
				bool (*done)(const void *arg), const void *arg)
{
	uint64_t end = start_ns + window_ns;
	for (;;) {
		if (done(arg))
			return true;
		if (os_now_ns() >= end)
			return false;
		os_cpu_relax_burst();
	}
}

#endif

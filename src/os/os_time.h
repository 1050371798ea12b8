/* Monotonic time for latency bookkeeping and spin deadlines. */
#ifndef PV_OS_TIME_H
#define PV_OS_TIME_H

#include <stdint.h>
#include <time.h>

static inline uint64_t os_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* CPU time the calling thread has used (polling included). */
static inline uint64_t os_thread_cpu_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

#endif

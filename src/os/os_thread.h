/* Thread tuning for latency-critical polling threads. */
#ifndef PV_OS_THREAD_H
#define PV_OS_THREAD_H

/* Tell the CPU this is a spin-wait (x86 PAUSE, arm64 YIELD): cheaper for
 * the sibling hyperthread and no memory-order mis-speculation on exit. */
static inline void os_cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__)
	__asm__ __volatile__("yield" ::: "memory");
#else
	__asm__ __volatile__("" ::: "memory");
#endif
}

/* A pause between two looks at a polled location: long enough (a few
 * hundred ns) not to hammer its cache line, short beside a wake-up. */
static inline void os_cpu_relax_burst(void)
{
	for (int i = 0; i < 16; i++)
		os_cpu_relax();
}

/* Lets the calling thread's short sleeps end close to when they were asked
 * to (Linux adds 50 us of timer slack to every sleep by default). */
void os_thread_set_timer_slack_ns(unsigned long ns);

#endif

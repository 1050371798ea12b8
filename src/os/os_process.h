/*
 * Child processes for isolation: work that may crash or leave host-driver
 * state behind (a Vulkan driver serving one client, a device probe) runs in
 * a forked child, and the parent watches it through a pollable handle.
 */
#ifndef PV_OS_OS_PROCESS_H
#define PV_OS_OS_PROCESS_H

#include <stddef.h>
#include <sys/types.h>

/* A pollable fd that becomes readable when process pid exits (a pidfd on
 * Linux); -errno on failure. The caller still reaps pid with waitpid. */
int os_process_watch(pid_t pid);

/* Closes every fd from lowfd up: a forked child keeps only what it was
 * handed, so it cannot hold other clients' connections open. */
void os_close_fds_from(int lowfd);

/* In a forked child: dies with SIGKILL when the parent does, so no child
 * outlives the server that supervised it. parent is the pid that forked. */
void os_die_with_parent(pid_t parent);

/* "exit status 1", "killed by signal 11 (Segmentation fault)". */
void os_describe_wait_status(int status, char *buf, size_t size);

/* Runs fn in a forked child and returns what it wrote to out (size bytes)
 * once it exits with 0. Anything fn loads (a Vulkan driver and its threads)
 * dies with the child, so the caller can fork again safely. 0, or -1 when
 * fn failed (fn logs why) or the child died (logged here). */
int os_call_in_child(const char *what, int (*fn)(void *arg, void *out, size_t size),
		     void *arg, void *out, size_t size);

#endif

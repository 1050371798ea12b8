/*
 * A client's vtest syncs: 64-bit timeline values that the client writes
 * directly or that retire with a renderer fence (SUBMIT_CMD2), and waits
 * that hand the client an eventfd which becomes readable when the values
 * are reached. Everything here is bounded: a client cannot make the server
 * hold more than the caps below.
 *
 * Locking: one mutex per client. Fence retirement arrives on renderer
 * threads; everything else on the client's thread.
 */
#ifndef PV_VTEST_VTEST_SYNC_H
#define PV_VTEST_VTEST_SYNC_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define VTEST_MAX_SYNCS 65536
#define VTEST_MAX_WAITS 4096
#define VTEST_MAX_PENDING_FENCES 65536

struct vtest_sync_entry {
	uint32_t id;
	uint64_t value;
};

struct vtest_wait;
struct vtest_pending_fence;

struct vtest_syncs {
	pthread_mutex_t lock;
	struct vtest_sync_entry *syncs; /* sorted by id: ids only grow */
	size_t count, cap;
	uint32_t next_id;
	struct vtest_wait *waits;
	size_t wait_count;
	struct vtest_pending_fence *fences;
	size_t fence_count;
	/* Handed out for every wait that holds on arrival, the common case
	 * (vkmark: 70% of SYNC_WAITs); -1 until the first. */
	int ready_fd;
};

void vtest_syncs_init(struct vtest_syncs *s);
/* Closes the server's side of every pending wait (the client's copies
 * simply never fire) and frees everything. */
void vtest_syncs_fini(struct vtest_syncs *s);

/* All return 0 or a negative errno: -ENOENT for an unknown id, -ENOSPC
 * when a cap is hit, -ENOMEM. */
int vtest_sync_create(struct vtest_syncs *s, uint64_t value, uint32_t *id);
int vtest_sync_unref(struct vtest_syncs *s, uint32_t id);
int vtest_sync_read(struct vtest_syncs *s, uint32_t id, uint64_t *value);
int vtest_sync_write(struct vtest_syncs *s, uint32_t id, uint64_t value);

/* What a SYNC_WAIT hands the client: fd, readable once the condition
 * holds. A wait that already holds gets the set's ready_fd (shared): an
 * eventfd that stays readable, which spares the eventfd's creation, signal
 * and close, ~2.5 µs of system calls on a VM, on every such round trip.
 * One that does not is armed only after its fd went out (arm), so the
 * send happens outside the lock the fence threads retire under and the
 * server needs no second descriptor of its own. */
struct vtest_wait_reply {
	int fd;
	bool shared;
	struct vtest_wait *arm;
};

/* triplets: n x {id, value_lo, value_hi} as on the wire. On success the
 * caller sends out->fd and then calls vtest_sync_wait_done, whatever the
 * send gave. timeout_ms bounds how long the server keeps watching
 * (UINT32_MAX: until the client goes). */
int vtest_sync_wait(struct vtest_syncs *s, uint32_t flags, uint32_t timeout_ms,
		    const uint32_t *triplets, uint32_t n, struct vtest_wait_reply *out);
/* Arms the wait (sent) or drops it, and releases the server's share of
 * the fd: closed, or owned by the armed wait until it fires. */
void vtest_sync_wait_done(struct vtest_syncs *s, struct vtest_wait_reply *r, bool sent);

/* Records that fence_id sets these syncs when it retires. */
int vtest_syncs_add_fence(struct vtest_syncs *s, uint64_t fence_id, const uint32_t *triplets,
			  uint32_t n);
/* Drops a recorded fence that was never submitted to the renderer. */
void vtest_syncs_cancel_fence(struct vtest_syncs *s, uint64_t fence_id);
void vtest_syncs_fence_retired(struct vtest_syncs *s, uint64_t fence_id);

#endif

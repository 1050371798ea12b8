/*
 * Opt-in event timeline of one vtest client (PEARVISOR_VTEST_TIMELINE=DIR):
 * when each message was read and answered and when each fence retired,
 * written to DIR/client-<id>.tl when the client ends. Made to see where a
 * guest's time goes between its GPU waits (bench/h100/timeline.py reads it),
 * which latency distributions alone cannot show.
 */
#ifndef PV_VTEST_VTEST_TIMELINE_H
#define PV_VTEST_VTEST_TIMELINE_H

#include <stdint.h>

enum vtest_tl_event {
	VTEST_TL_READ = 1,  /* a: command; message fully read */
	VTEST_TL_DONE = 2,  /* a: command (| sync id << 8 and b: the value, for
			     * SYNC_READ); handled and answered */
	VTEST_TL_RETIRE = 3, /* a: ring, b: fence id; from a renderer thread */
	/* From the renderer (venus_context_callbacks.event): */
	VTEST_TL_RING_BEGIN = 4, /* b: bytes; a ring thread starts a batch */
	VTEST_TL_RING_END = 5,   /* b: bytes; ... and is done with it */
	VTEST_TL_QUEUE_CALL = 6, /* a host vkQueue* call returned */
};

struct vtest_timeline;

/* NULL (and every call below a no-op) unless the variable is set. */
struct vtest_timeline *vtest_timeline_open(uint32_t client_id);
void vtest_timeline_add(struct vtest_timeline *tl, enum vtest_tl_event type, uint32_t a,
			uint64_t b);
/* Writes the file (logged) and frees tl. */
void vtest_timeline_close(struct vtest_timeline *tl);

#endif

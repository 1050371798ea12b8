/*
 * Opt-in latency tracing of the renderer's hand-offs (PEARVISOR_VENUS_TRACE=1):
 * each point keeps its last samples and the context logs their
 * distribution when it is destroyed. Made to find where an empty
 * submit + wait spends its time on a real GPU, where no profiler is at hand.
 */
#ifndef PV_VENUS_VN_TRACE_H
#define PV_VENUS_VN_TRACE_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "os/os_time.h"

enum vn_trace_point {
	VN_TRACE_QUEUE_CALL,    /* a host vkQueue* call under the queue lock */
	VN_TRACE_SEQNO_WAIT,    /* vkWaitRingSeqnoMESA: until the ring's head passed */
	VN_TRACE_FENCE_QUEUE,   /* fence creation + empty submit for a virtqueue fence */
	VN_TRACE_FENCE_HANDOFF, /* fence queued -> its timeline thread starts waiting */
	VN_TRACE_FENCE_WAIT,    /* the host wait for that fence */
	VN_TRACE_FENCE_RETIRE,  /* the retire callback (vtest sync, eventfd) */
	VN_TRACE_FENCE_TOTAL,   /* fence submitted -> retired */
	VN_TRACE_FENCE_POLLED,  /* fence submitted -> retired by the submitter's poll */
	VN_TRACE_FENCE_ATTACHED, /* virtqueue fence taken from the guest's own submit */
	VN_TRACE_RING_EXEC,     /* a ring thread decoding and running one batch */
	VN_TRACE_VQ_SEQNO_WAIT, /* vkWaitVirtqueueSeqnoMESA on a ring */
	VN_TRACE_COUNT
};

#define VN_TRACE_SAMPLES 16384u

struct vn_trace_cmd {
	const char *name;
	uint64_t count, total_ns, max_ns;
};

struct vn_trace {
	bool on;
	pthread_mutex_t lock;
	uint64_t count[VN_TRACE_COUNT];
	uint32_t *ns[VN_TRACE_COUNT]; /* ring of the last VN_TRACE_SAMPLES */
	/* Per command type: where decode + execution time goes. */
	struct vn_trace_cmd *cmds;
	uint32_t ncmds;
};

void vn_trace_init(struct vn_trace *t, bool on, uint32_t ncmds);
void vn_trace_cmd_record(struct vn_trace *t, uint32_t type, const char *name, uint64_t start_ns);
void vn_trace_since_record(struct vn_trace *t, enum vn_trace_point p, uint64_t start_ns);
/* Logs the distributions (when on) and frees the samples. */
void vn_trace_fini(struct vn_trace *t, uint32_t ctx_id);

/* Inline: the replay calls these once or twice per command, and with
 * tracing off they are one branch. */

/* 0 when tracing is off, so callers pay one branch. */
static inline uint64_t vn_trace_now(const struct vn_trace *t)
{
	return t->on ? os_now_ns() : 0;
}

/* One command of type `type` (< ncmds) took the time since start_ns. */
static inline void vn_trace_cmd(struct vn_trace *t, uint32_t type, const char *name,
				uint64_t start_ns)
{
	if (t->on && start_ns)
		vn_trace_cmd_record(t, type, name, start_ns);
}

static inline void vn_trace_since(struct vn_trace *t, enum vn_trace_point p, uint64_t start_ns)
{
	if (t->on && start_ns)
		vn_trace_since_record(t, p, start_ns);
}

#endif

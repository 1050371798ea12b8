#include "venus/vn_trace.h"

#include <stdlib.h>
#include <string.h>

#include "os/log.h"
#include "os/os_time.h"

static const char *const names[VN_TRACE_COUNT] = {
	[VN_TRACE_QUEUE_CALL] = "queue_call",
	[VN_TRACE_SEQNO_WAIT] = "seqno_wait",
	[VN_TRACE_FENCE_QUEUE] = "fence_queue",
	[VN_TRACE_FENCE_HANDOFF] = "fence_handoff",
	[VN_TRACE_FENCE_WAIT] = "fence_wait",
	[VN_TRACE_FENCE_RETIRE] = "fence_retire",
	[VN_TRACE_FENCE_TOTAL] = "fence_total",
	[VN_TRACE_FENCE_POLLED] = "fence_polled",
	[VN_TRACE_FENCE_ATTACHED] = "fence_attached",
	[VN_TRACE_RING_EXEC] = "ring_exec",
	[VN_TRACE_VQ_SEQNO_WAIT] = "vq_seqno_wait",
};

void vn_trace_init(struct vn_trace *t, bool on, uint32_t ncmds)
{
	memset(t, 0, sizeof(*t));
	pthread_mutex_init(&t->lock, NULL);
	for (int i = 0; on && i < VN_TRACE_COUNT; i++) {
		t->ns[i] = calloc(VN_TRACE_SAMPLES, sizeof(uint32_t));
		if (!t->ns[i])
			on = false;
	}
	if (on) {
		t->cmds = calloc(ncmds, sizeof(*t->cmds));
		t->ncmds = t->cmds ? ncmds : 0;
	}
	t->on = on;
}

void vn_trace_cmd_record(struct vn_trace *t, uint32_t type, const char *name, uint64_t start_ns)
{
	if (!t->on || !start_ns || type >= t->ncmds)
		return;
	uint64_t d = vn_trace_now(t) - start_ns;
	pthread_mutex_lock(&t->lock);
	struct vn_trace_cmd *c = &t->cmds[type];
	c->name = name;
	c->count++;
	c->total_ns += d;
	if (d > c->max_ns)
		c->max_ns = d;
	pthread_mutex_unlock(&t->lock);
}

static int cmp_cmd_total(const void *a, const void *b)
{
	const struct vn_trace_cmd *x = a, *y = b;
	return (x->total_ns < y->total_ns) - (x->total_ns > y->total_ns);
}

void vn_trace_since_record(struct vn_trace *t, enum vn_trace_point p, uint64_t start_ns)
{
	if (!t->on || !start_ns)
		return;
	uint64_t d = vn_trace_now(t) - start_ns;
	pthread_mutex_lock(&t->lock);
	t->ns[p][t->count[p] % VN_TRACE_SAMPLES] = d > UINT32_MAX ? UINT32_MAX : (uint32_t)d;
	t->count[p]++;
	pthread_mutex_unlock(&t->lock);
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return (x > y) - (x < y);
}

void vn_trace_fini(struct vn_trace *t, uint32_t ctx_id)
{
	for (int i = 0; t->on && i < VN_TRACE_COUNT; i++) {
		size_t n = t->count[i] < VN_TRACE_SAMPLES ? (size_t)t->count[i] : VN_TRACE_SAMPLES;
		if (!n)
			continue;
		qsort(t->ns[i], n, sizeof(uint32_t), cmp_u32);
		double sum = 0;
		for (size_t k = 0; k < n; k++)
			sum += t->ns[i][k];
		pv_info("venus: ctx %u trace %-13s n=%llu median_us=%.2f p90_us=%.2f "
			"p99_us=%.2f mean_us=%.2f", ctx_id, names[i],
			(unsigned long long)t->count[i], t->ns[i][n / 2] / 1e3,
			t->ns[i][n * 9 / 10] / 1e3, t->ns[i][n * 99 / 100] / 1e3, sum / n / 1e3);
	}
	if (t->on && t->cmds) {
		qsort(t->cmds, t->ncmds, sizeof(*t->cmds), cmp_cmd_total);
		for (uint32_t i = 0; i < t->ncmds && i < 48 && t->cmds[i].count; i++) {
			const struct vn_trace_cmd *c = &t->cmds[i];
			pv_info("venus: ctx %u trace cmd %-34s n=%llu total_ms=%.2f mean_us=%.2f "
				"max_us=%.2f", ctx_id, c->name, (unsigned long long)c->count,
				c->total_ns / 1e6, c->total_ns / 1e3 / c->count, c->max_ns / 1e3);
		}
	}
	free(t->cmds);
	for (int i = 0; i < VN_TRACE_COUNT; i++)
		free(t->ns[i]);
	pthread_mutex_destroy(&t->lock);
	t->on = false;
}

/*
 * What the vtest server needs from a renderer: the subset of venus.h it
 * calls, as a table, so tests can drive the server with a scripted
 * renderer while pearvisor itself wires in the real one (cmd_gpu_server.c).
 */
#ifndef PV_VTEST_VTEST_BACKEND_H
#define PV_VTEST_VTEST_BACKEND_H

#include "venus/venus.h"

struct vtest_backend {
	/* Each client gets its own renderer, made in the process that serves
	 * it (vtest_server.c), so clients share no host-driver state. */
	int (*renderer_create)(const struct venus_renderer_options *opts,
			       struct venus_renderer **out);
	void (*renderer_destroy)(struct venus_renderer *r);
	struct venus_renderer_options renderer_options;
	size_t (*get_capset)(struct venus_renderer *r, void *buf, size_t size);
	int (*context_create)(struct venus_renderer *r, uint32_t ctx_id, const char *debug_name,
			      const struct venus_context_callbacks *cb,
			      struct venus_context **out);
	void (*context_destroy)(struct venus_context *ctx);
	int (*submit)(struct venus_context *ctx, const void *cmds, size_t size);
	bool (*is_lost)(const struct venus_context *ctx);
	/* Lost by the host device, not by the client (may be NULL). */
	bool (*device_lost)(const struct venus_context *ctx);
	int (*create_blob)(struct venus_context *ctx, uint32_t res_id, uint32_t blob_mem,
			   uint32_t blob_flags, uint64_t blob_id, uint64_t size,
			   struct venus_blob *out);
	void (*destroy_resource)(struct venus_context *ctx, uint32_t res_id);
	int (*submit_fence)(struct venus_context *ctx, uint32_t ring_idx, uint64_t fence_id);
	/* Called while a client thread polls its socket (may be NULL). */
	void (*poll_fences)(struct venus_context *ctx);
	size_t (*object_count)(const struct venus_context *ctx);
	/* Client threads poll their socket this long before blocking in a
	 * read (0: never); see PEARVISOR_VENUS_SPIN_US. */
	uint64_t spin_ns;
	/* ... and this long for the rest of a message they have begun to
	 * read (0: never). */
	uint64_t rest_spin_ns;
};

#endif

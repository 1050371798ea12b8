/* The virtio-gpu device's renderer table over src/venus. */
#include "virtio/gpu_venus.h"

static size_t get_capset(void *opaque, void *buf, size_t size)
{
	return venus_renderer_get_capset(opaque, buf, size);
}

static int ctx_create(void *opaque, uint32_t ctx_id, const char *name,
		      const struct venus_context_callbacks *cb, struct venus_context **out)
{
	return venus_context_create(opaque, ctx_id, name, cb, out);
}

void virtio_gpu_venus_renderer(struct venus_renderer *r, struct virtio_gpu_renderer *out)
{
	*out = (struct virtio_gpu_renderer){
		.opaque = r,
		.capset_id = VENUS_CAPSET_ID,
		.capset_version = VENUS_CAPSET_VERSION,
		.get_capset = get_capset,
		.ctx_create = ctx_create,
		.ctx_destroy = venus_context_destroy,
		.submit = venus_context_submit,
		.create_blob = venus_context_create_blob,
		.destroy_resource = venus_context_destroy_resource,
		.submit_fence = venus_context_submit_fence,
	};
}

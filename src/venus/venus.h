/*
 * The Venus renderer's public interface. Its clients are the vtest server
 * (src/vtest) and the virtio-gpu device (src/virtio); both see contexts,
 * blob resources and fences, never Vulkan objects.
 *
 * Threading: a context may be driven from one client thread at a time; the
 * renderer runs its own threads (one per ring, fence retirement) and calls
 * back from them.
 */
#ifndef PV_VENUS_VENUS_H
#define PV_VENUS_VENUS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define VENUS_CAPSET_ID 4
#define VENUS_CAPSET_VERSION 0

/* virtio-gpu blob_mem / blob_flags / map_info values (the virtio spec's). */
#define VENUS_BLOB_MEM_GUEST 1
#define VENUS_BLOB_MEM_HOST3D 2
#define VENUS_BLOB_MEM_HOST3D_GUEST 3
#define VENUS_BLOB_FLAG_MAPPABLE 1
#define VENUS_BLOB_FLAG_SHAREABLE 2
#define VENUS_BLOB_FLAG_CROSS_DEVICE 4
#define VENUS_MAP_CACHE_CACHED 1
#define VENUS_MAP_CACHE_UNCACHED 2
#define VENUS_MAP_CACHE_WC 3

struct venus_renderer;
struct venus_context;

struct venus_renderer_options {
	/* The one host physical device the renderer exposes to guests,
	 * identified by VkPhysicalDeviceIDProperties::deviceUUID (chosen by
	 * src/gpu's device selection). */
	uint8_t device_uuid[16];
};

/* Returns 0 or a negative errno (logged). */
int venus_renderer_create(const struct venus_renderer_options *opts,
			  struct venus_renderer **out);
void venus_renderer_destroy(struct venus_renderer *r);

/* Copies up to size bytes of capset 4 into buf; returns the capset's full
 * size. */
size_t venus_renderer_get_capset(struct venus_renderer *r, void *buf, size_t size);

/* The cap in ns (0: off) on how long vtest client threads poll their
 * socket before they block (PEARVISOR_VENUS_SPIN_US and _SPIN_THREADS;
 * os/os_spin.h adapts each thread's window below it). */
uint64_t venus_renderer_spin_ns(const struct venus_renderer *r);
/* How long (ns, 0: never) a vtest client thread polls for the rest of a
 * message it has begun to read before it blocks (kind "vtestrest"). */
uint64_t venus_renderer_rest_spin_ns(const struct venus_renderer *r);

enum venus_event {
	VENUS_EVENT_RING_BEGIN, /* arg: bytes in the batch */
	VENUS_EVENT_RING_END,   /* arg: bytes in the batch */
	VENUS_EVENT_QUEUE_CALL, /* a host vkQueueSubmit, ...WaitIdle, ... returned */
};

struct venus_context_callbacks {
	void *opaque;
	/* A fence from venus_context_submit_fence() retired: every command
	 * submitted on ring_idx's queue before it has completed. Called from
	 * a renderer thread, or from the submit call itself for ring_idx 0. */
	void (*fence_retired)(void *opaque, uint32_t ring_idx, uint64_t fence_id);
	/* Optional, for timelines (NULL: none): a ring thread began or ended
	 * replaying a batch, a host vkQueue* call returned. */
	void (*event)(void *opaque, enum venus_event ev, uint64_t arg);
};

int venus_context_create(struct venus_renderer *r, uint32_t ctx_id,
			 const char *debug_name,
			 const struct venus_context_callbacks *cb,
			 struct venus_context **out);
/* Stops the context's rings and threads and frees every host object and
 * resource it still holds. Safe on a lost context. */
void venus_context_destroy(struct venus_context *ctx);

/* Decodes and executes a command stream on the context thread (the
 * virtqueue / vtest SUBMIT_CMD path). Returns 0, or -EIO once the context is
 * lost (malformed stream, unknown command, bad object id); a lost context
 * refuses all further work, and the reason is logged once. */
int venus_context_submit(struct venus_context *ctx, const void *cmds, size_t size);
bool venus_context_is_lost(const struct venus_context *ctx);
/* Lost because the host driver lost its device (VK_ERROR_DEVICE_LOST),
 * not because of anything in the guest's streams: the guest is owed its
 * driver's own way of learning that (the rings' FATAL status, results). */
bool venus_context_device_lost(const struct venus_context *ctx);
/* Live guest-visible objects (instances, devices, buffers, ...) in the
 * context's table; a client that destroyed everything is back to 0. */
size_t venus_context_object_count(const struct venus_context *ctx);

struct venus_blob {
	int fd;            /* owned by the caller; mmap()able for size bytes */
	uint64_t size;
	uint32_t map_info; /* VENUS_MAP_CACHE_* */
};

/* RESOURCE_CREATE_BLOB. blob_id 0 with HOST3D makes shared memory (rings,
 * reply and command streams); a nonzero blob_id names a VkDeviceMemory by
 * its guest object id. Returns 0 or a negative errno. */
int venus_context_create_blob(struct venus_context *ctx, uint32_t res_id,
			      uint32_t blob_mem, uint32_t blob_flags,
			      uint64_t blob_id, uint64_t size,
			      struct venus_blob *out);
void venus_context_destroy_resource(struct venus_context *ctx, uint32_t res_id);

/* Asks for fence_retired(ring_idx, fence_id) once all work queued so far
 * on the queue bound to ring_idx completes. ring_idx 0 is the CPU timeline
 * and retires at once. Returns 0 or a negative errno. */
int venus_context_submit_fence(struct venus_context *ctx, uint32_t ring_idx,
			       uint64_t fence_id);
/* Retires, on the calling thread, any fence whose GPU work is done and
 * that the fence threads have not taken up yet; never blocks. For a
 * thread that polls anyway (vtest clients between messages): a sleeping
 * fence thread is a wake-up away from noticing. */
void venus_context_poll_fences(struct venus_context *ctx);
/* Of the fences on queue timelines so far, how many rode on the guest's own
 * vkQueueSubmit instead of an empty submit of their own, and how many
 * retired with the fence before them, nothing having reached the queue in
 * between (vn_fence.c). */
void venus_context_fence_counts(const struct venus_context *ctx, uint64_t *total,
				uint64_t *attached, uint64_t *chained);

#endif

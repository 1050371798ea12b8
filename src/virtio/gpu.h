/*
 * virtio-gpu (spec 5.7) on the virtio-mmio transport: 2D resources and one
 * scanout for the guest's fbcon/DRM, and the 3D/blob commands that carry
 * Venus (Vulkan) to a renderer. The device does not link the renderer: the
 * VMM hands it a struct virtio_gpu_renderer (gpu_venus.c wraps src/venus;
 * unit tests and the fuzzer pass scripted ones). Without a renderer the
 * device offers 2D only.
 *
 * Host-visible memory (shared memory region id 1): the VMM reserves a host
 * window (virtio_gpu_shm_reserve) and maps it as guest RAM at a fixed guest
 * physical address through the hypervisor once; RESOURCE_MAP_BLOB then
 * mmap()s a blob's fd MAP_FIXED at the requested offset inside that window,
 * and UNMAP_BLOB puts the PROT_NONE reservation back. A guest access to an
 * unmapped part of the window faults the vCPU (KVM_RUN -EFAULT).
 */
#ifndef PV_VIRTIO_GPU_H
#define PV_VIRTIO_GPU_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "venus/venus.h"
#include "virtio/virtio.h"

/* Feature bits (spec 5.7.3). */
#define VIRTIO_GPU_F_VIRGL         0
#define VIRTIO_GPU_F_EDID          1
#define VIRTIO_GPU_F_RESOURCE_UUID 2
#define VIRTIO_GPU_F_RESOURCE_BLOB 3
#define VIRTIO_GPU_F_CONTEXT_INIT  4

#define VIRTIO_GPU_SHM_ID_HOST_VISIBLE 1

/* Command and response types (spec 5.7.6.7). */
enum {
	VIRTIO_GPU_CMD_GET_DISPLAY_INFO = 0x0100,
	VIRTIO_GPU_CMD_RESOURCE_CREATE_2D,
	VIRTIO_GPU_CMD_RESOURCE_UNREF,
	VIRTIO_GPU_CMD_SET_SCANOUT,
	VIRTIO_GPU_CMD_RESOURCE_FLUSH,
	VIRTIO_GPU_CMD_TRANSFER_TO_HOST_2D,
	VIRTIO_GPU_CMD_RESOURCE_ATTACH_BACKING,
	VIRTIO_GPU_CMD_RESOURCE_DETACH_BACKING,
	VIRTIO_GPU_CMD_GET_CAPSET_INFO,
	VIRTIO_GPU_CMD_GET_CAPSET,
	VIRTIO_GPU_CMD_GET_EDID,
	VIRTIO_GPU_CMD_RESOURCE_ASSIGN_UUID,
	VIRTIO_GPU_CMD_RESOURCE_CREATE_BLOB,
	VIRTIO_GPU_CMD_SET_SCANOUT_BLOB,

	VIRTIO_GPU_CMD_CTX_CREATE = 0x0200,
	VIRTIO_GPU_CMD_CTX_DESTROY,
	VIRTIO_GPU_CMD_CTX_ATTACH_RESOURCE,
	VIRTIO_GPU_CMD_CTX_DETACH_RESOURCE,
	VIRTIO_GPU_CMD_RESOURCE_CREATE_3D,
	VIRTIO_GPU_CMD_TRANSFER_TO_HOST_3D,
	VIRTIO_GPU_CMD_TRANSFER_FROM_HOST_3D,
	VIRTIO_GPU_CMD_SUBMIT_3D,
	VIRTIO_GPU_CMD_RESOURCE_MAP_BLOB,
	VIRTIO_GPU_CMD_RESOURCE_UNMAP_BLOB,

	VIRTIO_GPU_CMD_UPDATE_CURSOR = 0x0300,
	VIRTIO_GPU_CMD_MOVE_CURSOR,

	VIRTIO_GPU_RESP_OK_NODATA = 0x1100,
	VIRTIO_GPU_RESP_OK_DISPLAY_INFO,
	VIRTIO_GPU_RESP_OK_CAPSET_INFO,
	VIRTIO_GPU_RESP_OK_CAPSET,
	VIRTIO_GPU_RESP_OK_EDID,
	VIRTIO_GPU_RESP_OK_RESOURCE_UUID,
	VIRTIO_GPU_RESP_OK_MAP_INFO,

	VIRTIO_GPU_RESP_ERR_UNSPEC = 0x1200,
	VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY,
	VIRTIO_GPU_RESP_ERR_INVALID_SCANOUT_ID,
	VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID,
	VIRTIO_GPU_RESP_ERR_INVALID_CONTEXT_ID,
	VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER,
};

#define VIRTIO_GPU_FLAG_FENCE         1u
#define VIRTIO_GPU_FLAG_INFO_RING_IDX 2u

/* Pixel formats: the names give the byte order in memory. */
#define VIRTIO_GPU_FORMAT_B8G8R8A8_UNORM 1
#define VIRTIO_GPU_FORMAT_B8G8R8X8_UNORM 2
#define VIRTIO_GPU_FORMAT_A8R8G8B8_UNORM 3
#define VIRTIO_GPU_FORMAT_X8R8G8B8_UNORM 4
#define VIRTIO_GPU_FORMAT_R8G8B8A8_UNORM 67
#define VIRTIO_GPU_FORMAT_X8B8G8R8_UNORM 68
#define VIRTIO_GPU_FORMAT_A8B8G8R8_UNORM 121
#define VIRTIO_GPU_FORMAT_R8G8B8X8_UNORM 134

#define VIRTIO_GPU_CONTEXT_INIT_CAPSET_ID_MASK 0xff

/* Wire structures (little-endian, as the spec lays them out). */
struct virtio_gpu_ctrl_hdr {
	uint32_t type;
	uint32_t flags;
	uint64_t fence_id;
	uint32_t ctx_id;
	uint8_t ring_idx;
	uint8_t padding[3];
};

struct virtio_gpu_rect {
	uint32_t x, y, width, height;
};

struct virtio_gpu_mem_entry {
	uint64_t addr;
	uint32_t length;
	uint32_t padding;
};

/* The renderer behind the 3D commands. The function signatures are those
 * of src/venus (gpu_venus.c fills the table from it). */
struct virtio_gpu_renderer {
	void *opaque;
	uint32_t capset_id;      /* offered through GET_CAPSET_INFO */
	uint32_t capset_version;
	size_t (*get_capset)(void *opaque, void *buf, size_t size);
	int (*ctx_create)(void *opaque, uint32_t ctx_id, const char *name,
			  const struct venus_context_callbacks *cb, struct venus_context **out);
	void (*ctx_destroy)(struct venus_context *ctx);
	int (*submit)(struct venus_context *ctx, const void *cmds, size_t size);
	int (*create_blob)(struct venus_context *ctx, uint32_t res_id, uint32_t blob_mem,
			   uint32_t blob_flags, uint64_t blob_id, uint64_t size,
			   struct venus_blob *out);
	void (*destroy_resource)(struct venus_context *ctx, uint32_t res_id);
	int (*submit_fence)(struct venus_context *ctx, uint32_t ring_idx, uint64_t fence_id);
};

/* A reserved host window for the host-visible region. */
struct virtio_gpu_shm {
	void *host;     /* PROT_NONE reservation, page aligned */
	uint64_t gpa;   /* where the VMM mapped it in the guest */
	uint64_t size;
};

/* mmap a PROT_NONE window of size bytes (page multiple). 0 or -errno. */
int virtio_gpu_shm_reserve(uint64_t size, struct virtio_gpu_shm *out);
void virtio_gpu_shm_release(struct virtio_gpu_shm *shm);

struct virtio_gpu_config {
	uint32_t width, height;                   /* the one scanout's mode */
	const struct virtio_gpu_renderer *renderer;   /* NULL: 2D only */
	const struct virtio_gpu_shm *shm;         /* NULL or size 0: no region */
};

/* NULL after pv_err on failure. The renderer table and shm window must
 * outlive the device (the device unmaps its blobs, the VMM releases the
 * window after destroying it). */
struct virtio_device *virtio_gpu_create(const struct virtio_gpu_config *cfg);

/* Writes the scanout's current image (as last flushed) to a PNG file; with
 * the scanout off, the last frame it showed. 0, or -ENODATA when nothing
 * was ever shown, or -errno. Any thread. */
int virtio_gpu_screenshot(struct virtio_device *dev, const char *path);

/* Copies the scanout as packed 8-bit RGB (malloc'ed, caller frees). 0 or
 * -ENODATA/-ENOMEM. For tests and the PNG writer. */
int virtio_gpu_scanout_rgb(struct virtio_device *dev, uint8_t **rgb, uint32_t *w, uint32_t *h);

/* PNG encoder (gpu_png.c): 8-bit RGB, rows packed. 0 or -errno. */
int pv_png_write_rgb(const char *path, const uint8_t *rgb, uint32_t w, uint32_t h);

#endif

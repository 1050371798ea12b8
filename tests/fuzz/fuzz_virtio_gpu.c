/*
 * libFuzzer target for the virtio-gpu command parser (src/virtio/gpu.c):
 * 2D resources and page lists, capsets, contexts, blobs mapped into a host
 * window, fences. A fresh device per input, with a scripted renderer
 * (memfd blobs; ring 0 fences retire at once, others when the input says).
 *
 * Input: records of [flags u8][split u8][req_len u16][resp_len u16][req]:
 * the request is copied to guest RAM and posted as one chain on the control
 * queue (flags bit 0: cursor queue), split into two readable descriptors at
 * `split`, followed by one writable response descriptor. flags bit 1
 * retires the last fence the renderer was given. Guest RAM is 64 KiB at
 * 0x10000. Build and run: tests/fuzz/run.sh virtio_gpu 60
 */
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "virtio/gpu.h"
#include "vmm/guest_mem.h"

#define RAM_GPA  0x10000ull
#define RAM_SIZE 0x10000u
#define QSIZE    16
#define DESC     (RAM_GPA + 0x0)
#define AVAIL    (RAM_GPA + 0x100)
#define USED     (RAM_GPA + 0x200)
#define BUF      (RAM_GPA + 0x1000)

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct fctx {
	struct venus_context_callbacks cb;
	uint32_t ring;
	uint64_t fence;
	bool has_fence;
};

static struct fctx *last_ctx;

static size_t f_capset(void *o, void *buf, size_t size)
{
	if (buf)
		memset(buf, 1, size < 160 ? size : 160);
	return 160;
}

static int f_ctx_create(void *o, uint32_t id, const char *name,
			const struct venus_context_callbacks *cb, struct venus_context **out)
{
	struct fctx *c = calloc(1, sizeof(*c));
	if (!c)
		return -1;
	c->cb = *cb;
	last_ctx = c;
	*out = (struct venus_context *)c;
	return 0;
}

static void f_ctx_destroy(struct venus_context *vc)
{
	if (last_ctx == (struct fctx *)vc)
		last_ctx = NULL;
	free(vc);
}

static int f_submit(struct venus_context *vc, const void *cmds, size_t size)
{
	/* Some streams "lose" the context, as the real decoder would. */
	return size >= 4 && ((const uint8_t *)cmds)[0] == 0xff ? -5 : 0;
}

static int f_create_blob(struct venus_context *vc, uint32_t res, uint32_t mem, uint32_t flags,
			 uint64_t blob_id, uint64_t size, struct venus_blob *out)
{
	if (blob_id || size > (64u << 20))
		return -22;
	int fd = memfd_create("fuzz-blob", MFD_CLOEXEC);
	if (fd < 0)
		return -12;
	if (ftruncate(fd, (off_t)size)) {
		close(fd);
		return -12;
	}
	*out = (struct venus_blob){ fd, size, VENUS_MAP_CACHE_CACHED };
	return 0;
}

static void f_destroy_resource(struct venus_context *vc, uint32_t res) { }

static int f_submit_fence(struct venus_context *vc, uint32_t ring, uint64_t fence)
{
	struct fctx *c = (struct fctx *)vc;
	if (ring == 0) {
		c->cb.fence_retired(c->cb.opaque, 0, fence);
		return 0;
	}
	c->ring = ring;
	c->fence = fence;
	c->has_fence = true;
	return 0;
}

static const struct virtio_gpu_renderer f_renderer = {
	.capset_id = 4, .capset_version = 0,
	.get_capset = f_capset, .ctx_create = f_ctx_create, .ctx_destroy = f_ctx_destroy,
	.submit = f_submit, .create_blob = f_create_blob,
	.destroy_resource = f_destroy_resource, .submit_fence = f_submit_fence,
};

static uint8_t *ram;
static struct guest_mem mem;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc; (void)argv;
	setenv("PEARVISOR_LOG", "error", 1);
	ram = aligned_alloc(4096, RAM_SIZE);
	if (!ram)
		abort();
	mem.nr_regions = 1;
	mem.regions[0] = (struct guest_mem_region){ RAM_GPA, RAM_SIZE, ram };
	return 0;
}

static void *at(uint64_t gpa)
{
	return ram + (gpa - RAM_GPA);
}

static void set_desc(uint16_t i, uint64_t addr, uint32_t len, uint16_t flags, uint16_t next)
{
	uint8_t *d = at(DESC + 16ull * i);
	memcpy(d, &addr, 8);
	memcpy(d + 8, &len, 4);
	memcpy(d + 12, &flags, 2);
	memcpy(d + 14, &next, 2);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct virtio_gpu_shm shm = { 0 };
	if (virtio_gpu_shm_reserve(1 << 20, &shm))
		return 0;
	shm.gpa = 0x100000000ull;
	struct virtio_gpu_config cfg = { 64, 48, &f_renderer, &shm };
	struct virtio_device *dev = virtio_gpu_create(&cfg);
	if (!dev) {
		virtio_gpu_shm_release(&shm);
		return 0;
	}
	memset(ram, 0, RAM_SIZE);
	dev->mem = &mem;
	dev->features_acked = dev->ops->features | (1ull << 32);
	for (unsigned q = 0; q < 2; q++) {
		struct virtqueue *vq = &dev->vqs[q];
		vq->num = QSIZE;
		vq->desc_gpa = DESC + 0x4000ull * q;
		vq->avail_gpa = AVAIL + 0x4000ull * q;
		vq->used_gpa = USED + 0x4000ull * q;
		vq->ready = true;
		if (virtq_start(vq, &mem, dev->features_acked))
			abort();
	}
	dev->active = true;

	uint16_t avail_idx[2] = { 0, 0 }, next[2] = { 0, 0 };
	const uint8_t *p = data;
	size_t left = size;
	while (left >= 6) {
		uint8_t flags = p[0], split = p[1];
		uint16_t req_len, resp_len;
		memcpy(&req_len, p + 2, 2);
		memcpy(&resp_len, p + 4, 2);
		p += 6;
		left -= 6;
		if (req_len > left)
			req_len = (uint16_t)left;
		req_len = req_len > 0x3000 ? 0x3000 : req_len;
		resp_len = resp_len > 0x1000 ? 0x1000 : resp_len;
		unsigned q = flags & 1;
		uint64_t base = DESC + 0x4000ull * q;
		uint64_t req = base + 0x400, resp = base + 0x3400 - 0x400;
		if (req_len > 0x2800)
			req_len = 0x2800;
		memcpy(at(req), p, req_len);
		p += req_len;
		left -= req_len;
		uint16_t d0 = next[q] % QSIZE, d1 = (d0 + 1) % QSIZE, d2 = (d0 + 2) % QSIZE;
		next[q] = (uint16_t)(next[q] + 3);
		uint32_t s = split < req_len ? split : req_len;
		uint16_t dflags = 1;                   /* NEXT */
		set_desc(d0, req, s, dflags, d1);
		set_desc(d1, req + s, req_len - s, dflags, d2);
		set_desc(d2, resp, resp_len, 2, 0);    /* WRITE */
		uint16_t *avail = at(AVAIL + 0x4000ull * q);
		avail[2 + avail_idx[q] % QSIZE] = d0;
		avail_idx[q]++;
		__atomic_store_n(&avail[1], avail_idx[q], __ATOMIC_RELEASE);
		pthread_mutex_lock(&dev->lock);
		if (dev->active)
			dev->ops->queue_notify(dev, q);
		pthread_mutex_unlock(&dev->lock);
		if ((flags & 2) && last_ctx && last_ctx->has_fence)
			last_ctx->cb.fence_retired(last_ctx->cb.opaque, last_ctx->ring,
						   last_ctx->fence);
	}
	uint8_t *rgb;
	uint32_t w, h;
	if (virtio_gpu_scanout_rgb(dev, &rgb, &w, &h) == 0)
		free(rgb);
	virtio_device_destroy(dev);
	virtio_gpu_shm_release(&shm);
	last_ctx = NULL;
	return 0;
}

/* virtio-gpu on the real Venus renderer (lavapipe or whatever Vulkan device
 * the host has): the guest's path for a ring, end to end. The ring and its
 * reply stream are HOST3D blobs mapped into the host-visible window; the
 * test writes commands through the window (the guest's view), notifies via
 * SUBMIT_3D and reads the reply back through the window. */
#include <sched.h>
#include <stdatomic.h>

#include "gpu/gpu_device.h"
#include "gpu_sim.h"
#include "test.h"
#include "venus/vn_codec.h"
#include "virtio/gpu_venus.h"

static struct venus_renderer *real_renderer(struct virtio_gpu_renderer *tab)
{
	struct gpu_device_info *devs = NULL;
	uint32_t n = 0;
	struct venus_renderer *r = NULL;
	if (gpu_enumerate(&devs, &n) || n == 0) {
		free(devs);
		return NULL;
	}
	int sel = gpu_select(devs, n, NULL);
	struct venus_renderer_options o;
	memset(&o, 0, sizeof(o));
	if (sel >= 0)
		memcpy(o.device_uuid, devs[sel].uuid, 16);
	free(devs);
	if (sel < 0 || venus_renderer_create(&o, &r))
		return NULL;
	virtio_gpu_venus_renderer(r, tab);
	return r;
}

static size_t enc32(uint8_t *b, size_t n, uint32_t v) { memcpy(b + n, &v, 4); return n + 4; }
static size_t enc64(uint8_t *b, size_t n, uint64_t v) { memcpy(b + n, &v, 8); return n + 8; }

static uint32_t submit(struct gpu_t *t, uint32_t ctx, const uint8_t *cmds, uint32_t len)
{
	uint8_t b[512] = { 0 };
	hdr(b, VIRTIO_GPU_CMD_SUBMIT_3D, 0, 0, ctx, 0);
	put32(b, 24, len);
	memcpy(b + 32, cmds, len);
	return cmd(t, b, 32 + len, NULL, 32);
}

TEST(gpu_venus_ring_through_window)
{
	struct virtio_gpu_renderer tab;
	struct venus_renderer *r = real_renderer(&tab);
	if (!r) {
		printf("SKIP gpu_venus_ring_through_window: no Vulkan device / renderer\n");
		return;
	}
	struct gpu_t t;
	gpu_up_with(&t, &tab);

	uint8_t b[32] = { 0 }, caps[24 + 160];
	hdr(b, VIRTIO_GPU_CMD_GET_CAPSET, 0, 0, 0, 0);
	put32(b, 24, VENUS_CAPSET_ID);
	CHECK_EQ(cmd(&t, b, 32, caps, sizeof(caps)), VIRTIO_GPU_RESP_OK_CAPSET);
	uint32_t wire;
	memcpy(&wire, caps + 24, 4);
	CHECK_EQ(wire, 1);

	CHECK_EQ(ctx_create(&t, 5, VENUS_CAPSET_ID), VIRTIO_GPU_RESP_OK_NODATA);
	CHECK_EQ(create_blob(&t, 5, 1, VENUS_BLOB_MEM_HOST3D, VENUS_BLOB_FLAG_MAPPABLE, 4096),
		 VIRTIO_GPU_RESP_OK_NODATA);
	CHECK_EQ(create_blob(&t, 5, 2, VENUS_BLOB_MEM_HOST3D, VENUS_BLOB_FLAG_MAPPABLE, 4096),
		 VIRTIO_GPU_RESP_OK_NODATA);
	CHECK_EQ(map_blob(&t, 1, 0x10000, NULL), VIRTIO_GPU_RESP_OK_MAP_INFO);
	CHECK_EQ(map_blob(&t, 2, 0x20000, NULL), VIRTIO_GPU_RESP_OK_MAP_INFO);
	uint8_t *ring = (uint8_t *)t.shm.host + 0x10000, *reply = (uint8_t *)t.shm.host + 0x20000;

	/* vkCreateRingMESA: head 0, tail 64, status 128, buffer 192+1024,
	 * extra 1216+64, in resource 1. */
	uint8_t c[256];
	size_t n = 0;
	n = enc32(c, n, VN_CMD_vkCreateRingMESA);
	n = enc32(c, n, 0);
	n = enc64(c, n, 0x55);
	n = enc64(c, n, 1);
	n = enc32(c, n, VK_STRUCTURE_TYPE_RING_CREATE_INFO_MESA);
	n = enc64(c, n, 0);
	n = enc32(c, n, 0);
	n = enc32(c, n, 1);
	n = enc64(c, n, 0);
	n = enc64(c, n, 1280);
	n = enc64(c, n, 1000000);
	uint64_t lay[] = { 0, 64, 128, 192, 1024, 1216, 64 };
	for (unsigned i = 0; i < 7; i++)
		n = enc64(c, n, lay[i]);
	CHECK_EQ(submit(&t, 5, c, (uint32_t)n), VIRTIO_GPU_RESP_OK_NODATA);

	/* In the ring, through the window: reply stream, then a call. */
	size_t m = 0;
	uint8_t *rb = ring + 192;
	m = enc32(rb, m, VN_CMD_vkSetReplyCommandStreamMESA);
	m = enc32(rb, m, 0);
	m = enc64(rb, m, 1);
	m = enc32(rb, m, 2);
	m = enc64(rb, m, 0);
	m = enc64(rb, m, 256);
	m = enc32(rb, m, VN_CMD_vkEnumerateInstanceVersion);
	m = enc32(rb, m, VN_COMMAND_GENERATE_REPLY);
	m = enc64(rb, m, 1);
	_Atomic uint32_t *head = (_Atomic uint32_t *)ring, *tail = (_Atomic uint32_t *)(ring + 64);
	atomic_store(tail, (uint32_t)m);
	n = 0;
	n = enc32(c, n, VN_CMD_vkNotifyRingMESA);
	n = enc32(c, n, 0);
	n = enc64(c, n, 0x55);
	n = enc32(c, n, (uint32_t)m);
	n = enc32(c, n, 0);
	CHECK_EQ(submit(&t, 5, c, (uint32_t)n), VIRTIO_GPU_RESP_OK_NODATA);
	for (long spin = 0; spin < 100000000 && atomic_load(head) != m; spin++)
		sched_yield();
	CHECK_EQ(atomic_load(head), m);
	uint32_t w[5];
	memcpy(w, reply, sizeof(w));
	CHECK_EQ(w[0], VN_CMD_vkEnumerateInstanceVersion);
	CHECK_EQ(w[1], VK_SUCCESS);
	CHECK(w[4] >= VK_MAKE_API_VERSION(0, 1, 1, 0));

	/* A fenced submit on the CPU timeline comes straight back. */
	uint8_t f[32] = { 0 };
	hdr(f, VIRTIO_GPU_CMD_SUBMIT_3D, VIRTIO_GPU_FLAG_FENCE, 9, 5, 0);
	CHECK_EQ(cmd(&t, f, 32, NULL, 32), VIRTIO_GPU_RESP_OK_NODATA);

	/* Garbage loses the context (an error, not a crash); destroying it
	 * with blobs still mapped is fine, and unref restores the window. */
	uint32_t junk[2] = { 99999, 0 };
	CHECK_EQ(submit(&t, 5, (const uint8_t *)junk, 8), VIRTIO_GPU_RESP_ERR_UNSPEC);
	CHECK_EQ(submit(&t, 5, (const uint8_t *)junk, 0), VIRTIO_GPU_RESP_ERR_UNSPEC);
	uint32_t none[1] = { 0 };
	CHECK_EQ(simple(&t, VIRTIO_GPU_CMD_CTX_DESTROY, 5, none, 0), VIRTIO_GPU_RESP_OK_NODATA);
	CHECK_EQ(submit(&t, 5, c, (uint32_t)n), VIRTIO_GPU_RESP_ERR_INVALID_CONTEXT_ID);
	uint32_t u[] = { 1 };
	CHECK_EQ(simple(&t, VIRTIO_GPU_CMD_RESOURCE_UNREF, 0, u, 1), VIRTIO_GPU_RESP_OK_NODATA);
	u[0] = 2;
	CHECK_EQ(simple(&t, VIRTIO_GPU_CMD_RESOURCE_UNREF, 0, u, 1), VIRTIO_GPU_RESP_OK_NODATA);
	gpu_down(&t);
	venus_renderer_destroy(r);
}

/* virtio-gpu through the simulated driver: 2D scanout, capsets, contexts,
 * blobs mapped into a host window, fences, and hostile commands. The 3D
 * side runs against a scripted renderer (real Venus: test_virtio_gpu_venus). */
#include <errno.h>
#include <pthread.h>
#include <sys/mman.h>
#include <unistd.h>
#include <zlib.h>

#include "gpu_sim.h"
#include "test.h"

#define F(bit) (1ull << (bit))
#define HDR 24

/* ---- scripted renderer ---- */

struct fake_ctx {
	uint32_t id;
	struct venus_context_callbacks cb;
	size_t submitted;
	uint32_t last_ring;
	uint64_t last_fence;
	bool fail_submit;
};

static struct fake_ctx *fake_last;
static int fake_live;

static size_t fake_capset(void *o, void *buf, size_t size)
{
	static const uint8_t caps[32] = { 1, 0, 0, 0, 0x0d, 0x03, 0x40, 0 };
	if (buf)
		memcpy(buf, caps, size < sizeof(caps) ? size : sizeof(caps));
	return sizeof(caps);
}

static int fake_ctx_create(void *o, uint32_t id, const char *name,
			   const struct venus_context_callbacks *cb, struct venus_context **out)
{
	struct fake_ctx *c = calloc(1, sizeof(*c));
	c->id = id;
	c->cb = *cb;
	fake_last = c;
	fake_live++;
	*out = (struct venus_context *)c;
	return 0;
}

static void fake_ctx_destroy(struct venus_context *vc)
{
	fake_live--;
	if (fake_last == (struct fake_ctx *)vc)
		fake_last = NULL;
	free(vc);
}

static int fake_submit(struct venus_context *vc, const void *cmds, size_t size)
{
	struct fake_ctx *c = (struct fake_ctx *)vc;
	c->submitted += size;
	return c->fail_submit ? -EIO : 0;
}

static int fake_create_blob(struct venus_context *vc, uint32_t res, uint32_t mem, uint32_t flags,
			    uint64_t blob_id, uint64_t size, struct venus_blob *out)
{
	if (blob_id)
		return -EINVAL;
	int fd = memfd_create("fake-blob", MFD_CLOEXEC);
	if (fd < 0 || ftruncate(fd, (off_t)size))
		return -EIO;
	/* A recognisable first byte. */
	uint8_t b = (uint8_t)res;
	if (pwrite(fd, &b, 1, 0) != 1)
		return -EIO;
	*out = (struct venus_blob){ fd, size, VENUS_MAP_CACHE_CACHED };
	return 0;
}

static void fake_destroy_resource(struct venus_context *vc, uint32_t res) { }

static int fake_submit_fence(struct venus_context *vc, uint32_t ring, uint64_t fence)
{
	struct fake_ctx *c = (struct fake_ctx *)vc;
	c->last_ring = ring;
	c->last_fence = fence;
	if (ring == 0)
		c->cb.fence_retired(c->cb.opaque, 0, fence);
	return 0;
}

static const struct virtio_gpu_renderer fake_renderer = {
	.capset_id = 4, .capset_version = 0,
	.get_capset = fake_capset, .ctx_create = fake_ctx_create,
	.ctx_destroy = fake_ctx_destroy, .submit = fake_submit,
	.create_blob = fake_create_blob, .destroy_resource = fake_destroy_resource,
	.submit_fence = fake_submit_fence,
};

/* ---- driver helpers ---- */

void gpu_up_with(struct gpu_t *t, const struct virtio_gpu_renderer *rd)
{
	memset(t, 0, sizeof(*t));
	if (rd) {
		CHECK_EQ(virtio_gpu_shm_reserve(1 << 20, &t->shm), 0);
		t->shm.gpa = 0x100000000ull;
	}
	struct virtio_gpu_config cfg = {
		.width = 64, .height = 48,
		.renderer = rd,
		.shm = rd ? &t->shm : NULL,
	};
	struct virtio_device *dev = virtio_gpu_create(&cfg);
	CHECK(dev != NULL);
	if (!dev)
		abort();
	sim_init(&t->s, dev);
	CHECK(sim_bring_up(&t->s, ~0ull, 2, 64) & VIRTIO_STATUS_DRIVER_OK);
}

static void gpu_up(struct gpu_t *t, bool with_3d)
{
	gpu_up_with(t, with_3d ? &fake_renderer : NULL);
}

void gpu_down(struct gpu_t *t)
{
	sim_fini(&t->s);
	virtio_gpu_shm_release(&t->shm);
}

void hdr(uint8_t *b, uint32_t type, uint32_t flags, uint64_t fence, uint32_t ctx,
		uint8_t ring)
{
	struct virtio_gpu_ctrl_hdr h = { type, flags, fence, ctx, ring, { 0 } };
	memcpy(b, &h, sizeof(h));
}

void put32(uint8_t *b, size_t off, uint32_t v) { memcpy(b + off, &v, 4); }
void put64(uint8_t *b, size_t off, uint64_t v) { memcpy(b + off, &v, 8); }

/* Posts req and a response buffer; returns the head. */
uint16_t post(struct gpu_t *t, const void *req, uint32_t len, uint64_t *resp_gpa,
		     uint32_t resp_len)
{
	uint64_t rq = sim_alloc(&t->s, len), rs = sim_alloc(&t->s, resp_len);
	memcpy(sim_host(&t->s, rq), req, len);
	memset(sim_host(&t->s, rs), 0xee, resp_len);
	struct sim_buf b[2] = { { rq, len, false }, { rs, resp_len, true } };
	*resp_gpa = rs;
	uint16_t head = sim_post(&t->s, 0, b, 2);
	sim_notify(&t->s, 0);
	return head;
}

/* One synchronous command: response type, or 0 when nothing came back. */
uint32_t cmd(struct gpu_t *t, const void *req, uint32_t len, void *resp, uint32_t resp_len)
{
	uint64_t rs;
	uint16_t head = post(t, req, len, &rs, resp_len);
	uint32_t id, used_len;
	if (!sim_used(&t->s, 0, &id, &used_len) || id != head)
		return 0;
	if (resp)
		memcpy(resp, sim_host(&t->s, rs), resp_len);
	uint32_t type;
	memcpy(&type, sim_host(&t->s, rs), 4);
	return type;
}

uint32_t simple(struct gpu_t *t, uint32_t type, uint32_t ctx, const uint32_t *args,
		       unsigned n)
{
	uint8_t b[256] = { 0 };
	hdr(b, type, 0, 0, ctx, 0);
	for (unsigned i = 0; i < n; i++)
		put32(b, HDR + 4 * i, args[i]);
	uint32_t len = HDR + 4 * n < 32 ? 32 : HDR + 4 * n;
	return cmd(t, b, len, NULL, 64);
}

static uint32_t create_2d(struct gpu_t *t, uint32_t id, uint32_t fmt, uint32_t w, uint32_t h)
{
	uint32_t a[] = { id, fmt, w, h };
	return simple(t, VIRTIO_GPU_CMD_RESOURCE_CREATE_2D, 0, a, 4);
}

static uint32_t attach(struct gpu_t *t, uint32_t id, uint64_t addr, uint32_t len)
{
	uint8_t b[48] = { 0 };
	hdr(b, VIRTIO_GPU_CMD_RESOURCE_ATTACH_BACKING, 0, 0, 0, 0);
	put32(b, 24, id);
	put32(b, 28, 1);
	put64(b, 32, addr);
	put32(b, 40, len);
	return cmd(t, b, 48, NULL, 64);
}

static uint32_t transfer(struct gpu_t *t, uint32_t id, uint32_t x, uint32_t y, uint32_t w,
			 uint32_t h, uint64_t off)
{
	uint8_t b[56] = { 0 };
	hdr(b, VIRTIO_GPU_CMD_TRANSFER_TO_HOST_2D, 0, 0, 0, 0);
	put32(b, 24, x); put32(b, 28, y); put32(b, 32, w); put32(b, 36, h);
	put64(b, 40, off);
	put32(b, 48, id);
	return cmd(t, b, 56, NULL, 64);
}

static uint32_t scanout(struct gpu_t *t, uint32_t sid, uint32_t id, uint32_t w, uint32_t h)
{
	uint32_t a[] = { 0, 0, w, h, sid, id };
	return simple(t, VIRTIO_GPU_CMD_SET_SCANOUT, 0, a, 6);
}

/* ---- 2D ---- */

TEST(gpu_display_info_and_config)
{
	struct gpu_t t;
	gpu_up(&t, false);
	uint8_t b[32] = { 0 }, r[408];
	hdr(b, VIRTIO_GPU_CMD_GET_DISPLAY_INFO, 0, 0, 0, 0);
	CHECK_EQ(cmd(&t, b, 24, r, sizeof(r)), VIRTIO_GPU_RESP_OK_DISPLAY_INFO);
	uint32_t w, h, en;
	memcpy(&w, r + 24 + 8, 4);
	memcpy(&h, r + 24 + 12, 4);
	memcpy(&en, r + 24 + 16, 4);
	CHECK_EQ(w, 64);
	CHECK_EQ(h, 48);
	CHECK_EQ(en, 1);
	CHECK_EQ(sim_r32(&t.s, VIRTIO_MMIO_CONFIG + 8), 1);   /* num_scanouts */
	CHECK_EQ(sim_r32(&t.s, VIRTIO_MMIO_CONFIG + 12), 0);  /* no capsets in 2D */
	CHECK_EQ(sim_features(&t.s) & F(VIRTIO_GPU_F_VIRGL), 0);
	gpu_down(&t);
}

/* Decodes our own PNG layout (one IDAT, filter 0 rows) and compares it with
 * the pattern gpu_2d_scanout_pixels transferred. */
static int png_pixels_match(const char *path, uint32_t w, uint32_t h)
{
	uint8_t file[4096], raw[4096];
	FILE *f = fopen(path, "rb");
	if (!f)
		return 0;
	size_t n = fread(file, 1, sizeof(file), f);
	fclose(f);
	size_t off = 8 + 25;     /* signature, IHDR chunk */
	if (n < off + 8 || memcmp(file + off + 4, "IDAT", 4))
		return 0;
	uint32_t len = (uint32_t)file[off] << 24 | file[off + 1] << 16 | file[off + 2] << 8 |
		       file[off + 3];
	uLongf raw_len = sizeof(raw);
	if (off + 8 + len > n || uncompress(raw, &raw_len, file + off + 8, len) != Z_OK ||
	    raw_len != (w * 3 + 1) * h)
		return 0;
	for (uint32_t y = 0; y < h; y++) {
		const uint8_t *row = raw + y * (w * 3 + 1);
		if (row[0] != 0)
			return 0;
		for (uint32_t x = 0; x < w; x++) {
			uint32_t i = y * w + x;
			if (row[1 + x * 3] != (uint8_t)(i * 3) || row[2 + x * 3] != (uint8_t)(i * 2) ||
			    row[3 + x * 3] != (uint8_t)i)
				return 0;
		}
	}
	return 1;
}

TEST(gpu_2d_scanout_pixels)
{
	struct gpu_t t;
	gpu_up(&t, false);
	const uint32_t W = 8, H = 4;
	uint64_t fb = sim_alloc(&t.s, W * H * 4);
	uint8_t *px = sim_host(&t.s, fb);
	for (uint32_t i = 0; i < W * H; i++) {   /* B, G, R, X */
		px[i * 4 + 0] = (uint8_t)i;
		px[i * 4 + 1] = (uint8_t)(i * 2);
		px[i * 4 + 2] = (uint8_t)(i * 3);
		px[i * 4 + 3] = 0xff;
	}
	CHECK_EQ(create_2d(&t, 1, VIRTIO_GPU_FORMAT_B8G8R8X8_UNORM, W, H), VIRTIO_GPU_RESP_OK_NODATA);
	CHECK_EQ(attach(&t, 1, fb, W * H * 4), VIRTIO_GPU_RESP_OK_NODATA);
	CHECK_EQ(scanout(&t, 0, 1, W, H), VIRTIO_GPU_RESP_OK_NODATA);
	/* Only the lower-right 4x2 first: the rest stays black. */
	CHECK_EQ(transfer(&t, 1, 4, 2, 4, 2, (2 * W + 4) * 4), VIRTIO_GPU_RESP_OK_NODATA);
	uint8_t *rgb;
	uint32_t w, h;
	CHECK_EQ(virtio_gpu_scanout_rgb(t.s.dev, &rgb, &w, &h), 0);
	CHECK_EQ(w, W);
	CHECK_EQ(h, H);
	CHECK_EQ(rgb[0], 0);
	uint32_t i = 3 * W + 7;
	CHECK_EQ(rgb[i * 3 + 0], (uint8_t)(i * 3));
	CHECK_EQ(rgb[i * 3 + 1], (uint8_t)(i * 2));
	CHECK_EQ(rgb[i * 3 + 2], (uint8_t)i);
	free(rgb);

	CHECK_EQ(transfer(&t, 1, 0, 0, W, H, 0), VIRTIO_GPU_RESP_OK_NODATA);
	uint32_t a[] = { 0, 0, W, H, 1, 0 };
	CHECK_EQ(simple(&t, VIRTIO_GPU_CMD_RESOURCE_FLUSH, 0, a, 6), VIRTIO_GPU_RESP_OK_NODATA);
	CHECK_EQ(virtio_gpu_scanout_rgb(t.s.dev, &rgb, &w, &h), 0);
	int bad = 0;
	for (i = 0; i < W * H; i++)
		bad += rgb[i * 3] != (uint8_t)(i * 3) || rgb[i * 3 + 1] != (uint8_t)(i * 2) ||
		       rgb[i * 3 + 2] != (uint8_t)i;
	CHECK_EQ(bad, 0);
	free(rgb);

	char path[] = "/tmp/pv-test-gpu-XXXXXX";
	int fd = mkstemp(path);
	CHECK(fd >= 0);
	close(fd);
	CHECK_EQ(virtio_gpu_screenshot(t.s.dev, path), 0);
	FILE *f = fopen(path, "rb");
	uint8_t sig[24] = { 0 };
	CHECK(f && fread(sig, 1, 24, f) == 24);
	if (f)
		fclose(f);
	CHECK(memcmp(sig, "\x89PNG\r\n\x1a\n", 8) == 0);
	CHECK_EQ(sig[19], W);    /* IHDR width, big-endian */
	CHECK_EQ(sig[23], H);
	CHECK_EQ(png_pixels_match(path, W, H), 1);
	unlink(path);

	/* Unref drops the scanout; a screenshot then shows the last frame
	 * (a guest shutting down turns its display off before it stops). */
	uint32_t u[] = { 1 };
	CHECK_EQ(simple(&t, VIRTIO_GPU_CMD_RESOURCE_UNREF, 0, u, 1), VIRTIO_GPU_RESP_OK_NODATA);
	CHECK_EQ(virtio_gpu_scanout_rgb(t.s.dev, &rgb, &w, &h), 0);
	CHECK_EQ(w, W);
	CHECK_EQ(h, H);
	bad = 0;
	for (i = 0; i < W * H; i++)
		bad += rgb[i * 3] != (uint8_t)(i * 3) || rgb[i * 3 + 1] != (uint8_t)(i * 2) ||
		       rgb[i * 3 + 2] != (uint8_t)i;
	CHECK_EQ(bad, 0);
	free(rgb);
	gpu_down(&t);

	/* A device that never showed anything has nothing to give. */
	gpu_up(&t, false);
	CHECK_EQ(virtio_gpu_scanout_rgb(t.s.dev, &rgb, &w, &h), -ENODATA);
	gpu_down(&t);
}

TEST(gpu_2d_hostile)
{
	struct gpu_t t;
	gpu_up(&t, false);
	uint32_t u[] = { 999 };
	CHECK_EQ(simple(&t, VIRTIO_GPU_CMD_RESOURCE_UNREF, 0, u, 1),
		 VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID);
	CHECK_EQ(create_2d(&t, 0, VIRTIO_GPU_FORMAT_B8G8R8X8_UNORM, 4, 4),
		 VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID);
	CHECK_EQ(create_2d(&t, 2, 12345, 4, 4), VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER);
	CHECK_EQ(create_2d(&t, 2, VIRTIO_GPU_FORMAT_B8G8R8X8_UNORM, 100000, 4),
		 VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER);
	CHECK_EQ(create_2d(&t, 2, VIRTIO_GPU_FORMAT_B8G8R8X8_UNORM, 16384, 16384),
		 VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY);    /* 512 MiB cap */
	CHECK_EQ(create_2d(&t, 2, VIRTIO_GPU_FORMAT_B8G8R8X8_UNORM, 4, 4), VIRTIO_GPU_RESP_OK_NODATA);
	CHECK_EQ(create_2d(&t, 2, VIRTIO_GPU_FORMAT_B8G8R8X8_UNORM, 4, 4),
		 VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID);
	/* Backing outside guest RAM, straddling its end, overflowing. */
	CHECK_EQ(attach(&t, 2, 0x1000, 64), VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER);
	CHECK_EQ(attach(&t, 2, SIM_RAM_GPA + SIM_RAM_SIZE - 8, 64),
		 VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER);
	CHECK_EQ(attach(&t, 2, ~0ull - 4, 64), VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER);
	/* More entries than the request carries. */
	uint32_t a[] = { 2, 1000000 };
	CHECK_EQ(simple(&t, VIRTIO_GPU_CMD_RESOURCE_ATTACH_BACKING, 0, a, 2),
		 VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER);
	/* Transfer before backing, then outside the resource and the backing. */
	CHECK_EQ(transfer(&t, 2, 0, 0, 4, 4, 0), VIRTIO_GPU_RESP_ERR_UNSPEC);
	uint64_t fb = sim_alloc(&t.s, 64);
	CHECK_EQ(attach(&t, 2, fb, 64), VIRTIO_GPU_RESP_OK_NODATA);
	CHECK_EQ(attach(&t, 2, fb, 64), VIRTIO_GPU_RESP_ERR_UNSPEC);
	CHECK_EQ(transfer(&t, 2, 2, 0, 4, 4, 0), VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER);
	CHECK_EQ(transfer(&t, 2, 0, 0, 4, 4, 8), VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER);
	CHECK_EQ(transfer(&t, 2, 0, 0, 4, 4, ~0ull - 16), VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER);
	CHECK_EQ(transfer(&t, 2, 0xffffffffu, 0, 2, 1, 0), VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER);
	CHECK_EQ(scanout(&t, 5, 2, 4, 4), VIRTIO_GPU_RESP_ERR_INVALID_SCANOUT_ID);
	CHECK_EQ(scanout(&t, 0, 77, 4, 4), VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID);
	CHECK_EQ(scanout(&t, 0, 2, 5, 4), VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER);
	/* 3D commands on a 2D-only device, unknown and truncated commands. */
	CHECK_EQ(simple(&t, VIRTIO_GPU_CMD_GET_CAPSET_INFO, 0, u, 1), VIRTIO_GPU_RESP_ERR_UNSPEC);
	CHECK_EQ(simple(&t, 0x7777, 0, u, 1), VIRTIO_GPU_RESP_ERR_UNSPEC);
	uint8_t b[24] = { 0 };
	hdr(b, VIRTIO_GPU_CMD_RESOURCE_CREATE_2D, 0, 0, 0, 0);
	CHECK_EQ(cmd(&t, b, 24, NULL, 32), VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER);
	CHECK_EQ(cmd(&t, b, 8, NULL, 32), VIRTIO_GPU_RESP_ERR_UNSPEC);
	/* Detach twice. */
	CHECK_EQ(simple(&t, VIRTIO_GPU_CMD_RESOURCE_DETACH_BACKING, 0, a, 1),
		 VIRTIO_GPU_RESP_OK_NODATA);
	CHECK_EQ(simple(&t, VIRTIO_GPU_CMD_RESOURCE_DETACH_BACKING, 0, a, 1),
		 VIRTIO_GPU_RESP_ERR_UNSPEC);
	/* The device still works. */
	CHECK_EQ(create_2d(&t, 3, VIRTIO_GPU_FORMAT_R8G8B8A8_UNORM, 4, 4), VIRTIO_GPU_RESP_OK_NODATA);
	CHECK(!(sim_r32(&t.s, VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_NEEDS_RESET));
	gpu_down(&t);
}

/* ---- 3D ---- */

uint32_t ctx_create(struct gpu_t *t, uint32_t ctx, uint32_t capset)
{
	uint8_t b[96] = { 0 };
	hdr(b, VIRTIO_GPU_CMD_CTX_CREATE, 0, 0, ctx, 0);
	put32(b, 24, 4);
	put32(b, 28, capset);
	memcpy(b + 32, "test", 4);
	return cmd(t, b, 96, NULL, 32);
}

uint32_t create_blob(struct gpu_t *t, uint32_t ctx, uint32_t id, uint32_t mem,
			    uint32_t flags, uint64_t size)
{
	uint8_t b[56] = { 0 };
	hdr(b, VIRTIO_GPU_CMD_RESOURCE_CREATE_BLOB, 0, 0, ctx, 0);
	put32(b, 24, id);
	put32(b, 28, mem);
	put32(b, 32, flags);
	put64(b, 48, size);
	return cmd(t, b, 56, NULL, 32);
}

uint32_t map_blob(struct gpu_t *t, uint32_t id, uint64_t off, uint32_t *map_info)
{
	uint8_t b[40] = { 0 }, r[32];
	hdr(b, VIRTIO_GPU_CMD_RESOURCE_MAP_BLOB, 0, 0, 1, 0);
	put32(b, 24, id);
	put64(b, 32, off);
	uint32_t type = cmd(t, b, 40, r, 32);
	if (map_info)
		memcpy(map_info, r + 24, 4);
	return type;
}

TEST(gpu_capset_and_context)
{
	struct gpu_t t;
	gpu_up(&t, true);
	uint64_t f = sim_features(&t.s);
	CHECK(f & F(VIRTIO_GPU_F_VIRGL));
	CHECK(f & F(VIRTIO_GPU_F_CONTEXT_INIT));
	CHECK(f & F(VIRTIO_GPU_F_RESOURCE_BLOB));
	CHECK_EQ(sim_r32(&t.s, VIRTIO_MMIO_CONFIG + 12), 1);
	sim_w32(&t.s, VIRTIO_MMIO_SHM_SEL, 1);
	CHECK_EQ(sim_r32(&t.s, VIRTIO_MMIO_SHM_LEN_LOW), 1 << 20);
	CHECK_EQ(sim_r32(&t.s, VIRTIO_MMIO_SHM_BASE_HIGH), 1);
	sim_w32(&t.s, VIRTIO_MMIO_SHM_SEL, 0);
	CHECK_EQ(sim_r32(&t.s, VIRTIO_MMIO_SHM_LEN_LOW), 0xffffffffu);

	uint8_t b[32] = { 0 }, r[64];
	hdr(b, VIRTIO_GPU_CMD_GET_CAPSET_INFO, 0, 0, 0, 0);
	CHECK_EQ(cmd(&t, b, 32, r, 40), VIRTIO_GPU_RESP_OK_CAPSET_INFO);
	uint32_t v;
	memcpy(&v, r + 24, 4);
	CHECK_EQ(v, 4);
	memcpy(&v, r + 32, 4);
	CHECK_EQ(v, 32);
	put32(b, 24, 1);
	CHECK_EQ(cmd(&t, b, 32, r, 40), VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER);
	hdr(b, VIRTIO_GPU_CMD_GET_CAPSET, 0, 0, 0, 0);
	put32(b, 24, 4);
	put32(b, 28, 0);
	CHECK_EQ(cmd(&t, b, 32, r, 24 + 32), VIRTIO_GPU_RESP_OK_CAPSET);
	CHECK_EQ(r[24], 1);
	CHECK_EQ(r[28], 0x0d);
	put32(b, 24, 2);
	CHECK_EQ(cmd(&t, b, 32, r, 56), VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER);

	CHECK_EQ(ctx_create(&t, 1, 1), VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER);  /* virgl */
	CHECK_EQ(ctx_create(&t, 1, 5), VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER);
	CHECK_EQ(ctx_create(&t, 1, 0x104), VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER);
	CHECK_EQ(ctx_create(&t, 0, 4), VIRTIO_GPU_RESP_ERR_INVALID_CONTEXT_ID);
	CHECK_EQ(ctx_create(&t, 1, 4), VIRTIO_GPU_RESP_OK_NODATA);
	CHECK_EQ(ctx_create(&t, 1, 4), VIRTIO_GPU_RESP_ERR_INVALID_CONTEXT_ID);
	CHECK_EQ(fake_live, 1);

	uint8_t s[64] = { 0 };
	hdr(s, VIRTIO_GPU_CMD_SUBMIT_3D, 0, 0, 1, 0);
	put32(s, 24, 16);
	CHECK_EQ(cmd(&t, s, 48, NULL, 32), VIRTIO_GPU_RESP_OK_NODATA);
	CHECK_EQ(fake_last->submitted, 16);
	put32(s, 24, 17);      /* more than the request holds */
	CHECK_EQ(cmd(&t, s, 48, NULL, 32), VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER);
	put32(s, 24, 0xffffffffu);
	CHECK_EQ(cmd(&t, s, 48, NULL, 32), VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER);
	hdr(s, VIRTIO_GPU_CMD_SUBMIT_3D, 0, 0, 9, 0);
	put32(s, 24, 0);
	CHECK_EQ(cmd(&t, s, 32, NULL, 32), VIRTIO_GPU_RESP_ERR_INVALID_CONTEXT_ID);

	uint32_t none[1] = { 0 };
	CHECK_EQ(simple(&t, VIRTIO_GPU_CMD_CTX_DESTROY, 1, none, 0), VIRTIO_GPU_RESP_OK_NODATA);
	CHECK_EQ(simple(&t, VIRTIO_GPU_CMD_CTX_DESTROY, 1, none, 0),
		 VIRTIO_GPU_RESP_ERR_INVALID_CONTEXT_ID);
	CHECK_EQ(fake_live, 0);
	gpu_down(&t);
}

TEST(gpu_blob_map_hostile)
{
	struct gpu_t t;
	gpu_up(&t, true);
	CHECK_EQ(ctx_create(&t, 1, 4), VIRTIO_GPU_RESP_OK_NODATA);
	CHECK_EQ(create_blob(&t, 1, 10, VENUS_BLOB_MEM_HOST3D, VENUS_BLOB_FLAG_MAPPABLE, 8192),
		 VIRTIO_GPU_RESP_OK_NODATA);
	CHECK_EQ(create_blob(&t, 1, 11, VENUS_BLOB_MEM_HOST3D, VENUS_BLOB_FLAG_MAPPABLE, 4096),
		 VIRTIO_GPU_RESP_OK_NODATA);
	CHECK_EQ(create_blob(&t, 1, 12, VENUS_BLOB_MEM_HOST3D, 0, 4096), VIRTIO_GPU_RESP_OK_NODATA);
	CHECK_EQ(create_blob(&t, 1, 10, VENUS_BLOB_MEM_HOST3D, 1, 4096),
		 VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID);
	CHECK_EQ(create_blob(&t, 7, 13, VENUS_BLOB_MEM_HOST3D, 1, 4096),
		 VIRTIO_GPU_RESP_ERR_INVALID_CONTEXT_ID);
	CHECK_EQ(create_blob(&t, 1, 13, VENUS_BLOB_MEM_HOST3D, 1, 0),
		 VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER);
	CHECK_EQ(create_blob(&t, 1, 13, VENUS_BLOB_MEM_HOST3D, 1, 1ull << 40),
		 VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER);
	CHECK_EQ(create_blob(&t, 1, 13, 99, 1, 4096), VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER);
	CHECK_EQ(create_blob(&t, 1, 13, VENUS_BLOB_MEM_GUEST, 0, 4096),  /* no pages */
		 VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER);

	uint32_t mi = 0;
	CHECK_EQ(map_blob(&t, 10, 0x2000, &mi), VIRTIO_GPU_RESP_OK_MAP_INFO);
	CHECK_EQ(mi, VENUS_MAP_CACHE_CACHED);
	/* The blob's memory shows through the window. */
	CHECK_EQ(((uint8_t *)t.shm.host)[0x2000], 10);
	CHECK_EQ(map_blob(&t, 10, 0x8000, NULL), VIRTIO_GPU_RESP_ERR_UNSPEC);   /* twice */
	CHECK_EQ(map_blob(&t, 11, 0x3000, NULL), VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER); /* overlap */
	CHECK_EQ(map_blob(&t, 11, 0x1000, NULL), VIRTIO_GPU_RESP_OK_MAP_INFO);  /* touching */
	CHECK_EQ(map_blob(&t, 12, 0x9000, NULL), VIRTIO_GPU_RESP_ERR_UNSPEC);   /* not mappable */
	CHECK_EQ(map_blob(&t, 99, 0x9000, NULL), VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID);

	uint32_t u[] = { 11 };
	CHECK_EQ(simple(&t, VIRTIO_GPU_CMD_RESOURCE_UNMAP_BLOB, 0, u, 1), VIRTIO_GPU_RESP_OK_NODATA);
	CHECK_EQ(simple(&t, VIRTIO_GPU_CMD_RESOURCE_UNMAP_BLOB, 0, u, 1), VIRTIO_GPU_RESP_ERR_UNSPEC);
	CHECK_EQ(map_blob(&t, 11, (1 << 20) - 4096, NULL), VIRTIO_GPU_RESP_OK_MAP_INFO);  /* last page */
	CHECK_EQ(simple(&t, VIRTIO_GPU_CMD_RESOURCE_UNMAP_BLOB, 0, u, 1), VIRTIO_GPU_RESP_OK_NODATA);
	CHECK_EQ(map_blob(&t, 11, 1 << 20, NULL), VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER);
	CHECK_EQ(map_blob(&t, 11, ~0ull & ~4095ull, NULL), VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER);
	CHECK_EQ(map_blob(&t, 11, 0x123, NULL), VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER);
	CHECK_EQ(map_blob(&t, 10 + 0 * 0, 0, NULL), VIRTIO_GPU_RESP_ERR_UNSPEC);

	/* Context gone: the mapped blob stays until unref, which restores the
	 * window. */
	uint32_t none[1] = { 0 };
	CHECK_EQ(simple(&t, VIRTIO_GPU_CMD_CTX_DESTROY, 1, none, 0), VIRTIO_GPU_RESP_OK_NODATA);
	u[0] = 10;
	CHECK_EQ(simple(&t, VIRTIO_GPU_CMD_RESOURCE_UNREF, 0, u, 1), VIRTIO_GPU_RESP_OK_NODATA);
	unsigned char vec = 0;
	CHECK_EQ(mincore((uint8_t *)t.shm.host + 0x2000, 4096, &vec), 0);
	CHECK_EQ(vec & 1, 0);   /* no page behind the window any more */
	gpu_down(&t);
}

TEST(gpu_guest_blob_backing)
{
	struct gpu_t t;
	gpu_up(&t, true);
	uint64_t pg = sim_alloc(&t.s, 4096);
	uint8_t b[72] = { 0 };
	hdr(b, VIRTIO_GPU_CMD_RESOURCE_CREATE_BLOB, 0, 0, 0, 0);
	put32(b, 24, 20);
	put32(b, 28, VENUS_BLOB_MEM_GUEST);
	put32(b, 36, 1);
	put64(b, 48, 4096);
	put64(b, 56, pg);
	put32(b, 64, 4096);
	CHECK_EQ(cmd(&t, b, 72, NULL, 32), VIRTIO_GPU_RESP_OK_NODATA);
	put32(b, 24, 21);
	put64(b, 56, SIM_RAM_GPA + SIM_RAM_SIZE);    /* outside RAM */
	CHECK_EQ(cmd(&t, b, 72, NULL, 32), VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER);
	put64(b, 56, pg);
	put64(b, 48, 8192);                          /* pages smaller than size */
	CHECK_EQ(cmd(&t, b, 72, NULL, 32), VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER);
	put32(b, 36, 2);                             /* entry count past the end */
	CHECK_EQ(cmd(&t, b, 72, NULL, 32), VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER);
	gpu_down(&t);
}

struct retire_arg {
	struct fake_ctx *c;
	uint32_t ring;
	uint64_t fence;
};

static void *retire_thread(void *p)
{
	struct retire_arg *a = p;
	a->c->cb.fence_retired(a->c->cb.opaque, a->ring, a->fence);
	return NULL;
}

static uint16_t post_fenced_submit(struct gpu_t *t, uint32_t ctx, uint8_t ring, uint64_t fence,
				   uint64_t *resp)
{
	uint8_t s[32] = { 0 };
	hdr(s, VIRTIO_GPU_CMD_SUBMIT_3D, VIRTIO_GPU_FLAG_FENCE | VIRTIO_GPU_FLAG_INFO_RING_IDX,
	    fence, ctx, ring);
	return post(t, s, 32, resp, 32);
}

TEST(gpu_fences_per_ring)
{
	struct gpu_t t;
	gpu_up(&t, true);
	CHECK_EQ(ctx_create(&t, 1, 4), VIRTIO_GPU_RESP_OK_NODATA);
	struct fake_ctx *c = fake_last;
	uint32_t id, len;

	/* Ring 0 retires at once. */
	uint64_t rs;
	uint16_t h0 = post_fenced_submit(&t, 1, 0, 5, &rs);
	CHECK(sim_used(&t.s, 0, &id, &len) && id == h0);

	/* Ring 1: held until the renderer retires fence 7 (which also covers
	 * fence 6); ring 2's fence 8 stays held. */
	uint16_t h6 = post_fenced_submit(&t, 1, 1, 6, &rs);
	uint16_t h7 = post_fenced_submit(&t, 1, 1, 7, &rs);
	uint16_t h8 = post_fenced_submit(&t, 1, 2, 8, &rs);
	CHECK_EQ(c->last_fence, 8);
	CHECK(!sim_used(&t.s, 0, &id, &len));
	struct retire_arg a = { c, 1, 7 };
	pthread_t th;
	pthread_create(&th, NULL, retire_thread, &a);
	pthread_join(th, NULL);
	uint32_t got[2] = { 0, 0 };
	CHECK(sim_wait_used(&t.s, 0, &got[0], &len));
	CHECK(sim_wait_used(&t.s, 0, &got[1], &len));
	CHECK((got[0] == h6 && got[1] == h7) || (got[0] == h7 && got[1] == h6));
	struct virtio_gpu_ctrl_hdr rh;
	memcpy(&rh, sim_host(&t.s, rs), sizeof(rh));   /* fence 8's response */
	CHECK_EQ(rh.type, VIRTIO_GPU_RESP_OK_NODATA);
	CHECK_EQ(rh.fence_id, 8);
	CHECK_EQ(rh.ring_idx, 2);
	CHECK(!sim_used(&t.s, 0, &id, &len));

	/* A failing submit still answers (with an error) through its fence. */
	c->fail_submit = true;
	uint16_t h9 = post_fenced_submit(&t, 1, 2, 9, &rs);
	CHECK(!sim_used(&t.s, 0, &id, &len));
	memcpy(&rh, sim_host(&t.s, rs), sizeof(rh));
	CHECK_EQ(rh.type, VIRTIO_GPU_RESP_ERR_UNSPEC);

	/* Destroying the context returns everything it still held. */
	uint8_t d[24];
	hdr(d, VIRTIO_GPU_CMD_CTX_DESTROY, 0, 0, 1, 0);
	uint64_t drs;
	uint16_t hd = post(&t, d, 24, &drs, 32);
	int seen8 = 0, seen9 = 0, seend = 0;
	for (int i = 0; i < 3; i++) {
		if (!sim_wait_used(&t.s, 0, &id, &len))
			break;
		seen8 += id == h8;
		seen9 += id == h9;
		seend += id == hd;
	}
	CHECK_EQ(seen8 + seen9 + seend, 3);
	/* A late retirement for the dead context is ignored. */
	a = (struct retire_arg){ c, 2, 9 };
	(void)a;
	gpu_down(&t);
}

/* Linux creates a context with no capset (context_init 0) for every DRM
 * client that did not ask for one, e.g. its fbdev console when it makes the
 * dumb buffer, and attaches/detaches resources to it. That must work
 * without a renderer context; 3D work on it must not. */
TEST(gpu_context_without_capset)
{
	struct gpu_t t;
	gpu_up(&t, true);
	CHECK_EQ(ctx_create(&t, 2, 0), VIRTIO_GPU_RESP_OK_NODATA);
	CHECK_EQ(fake_live, 0);
	CHECK_EQ(ctx_create(&t, 2, 0), VIRTIO_GPU_RESP_ERR_INVALID_CONTEXT_ID);
	CHECK_EQ(create_2d(&t, 7, VIRTIO_GPU_FORMAT_B8G8R8X8_UNORM, 16, 16),
		 VIRTIO_GPU_RESP_OK_NODATA);
	uint32_t res[1] = { 7 };
	CHECK_EQ(simple(&t, VIRTIO_GPU_CMD_CTX_ATTACH_RESOURCE, 2, res, 1),
		 VIRTIO_GPU_RESP_OK_NODATA);
	CHECK_EQ(simple(&t, VIRTIO_GPU_CMD_CTX_DETACH_RESOURCE, 2, res, 1),
		 VIRTIO_GPU_RESP_OK_NODATA);
	/* No 3D on it: submits and HOST3D blobs fail, the device goes on. */
	uint8_t s[48] = { 0 };
	hdr(s, VIRTIO_GPU_CMD_SUBMIT_3D, 0, 0, 2, 0);
	put32(s, 24, 16);
	CHECK_EQ(cmd(&t, s, 48, NULL, 32), VIRTIO_GPU_RESP_ERR_INVALID_CONTEXT_ID);
	CHECK_EQ(create_blob(&t, 2, 8, VENUS_BLOB_MEM_HOST3D, VENUS_BLOB_FLAG_MAPPABLE, 4096),
		 VIRTIO_GPU_RESP_ERR_INVALID_CONTEXT_ID);
	/* A fenced command naming it is answered at once (nothing retires
	 * its fences), with the fence echoed. */
	uint64_t rs;
	uint32_t id, len;
	uint16_t h = post_fenced_submit(&t, 2, 1, 11, &rs);
	CHECK(sim_used(&t.s, 0, &id, &len) && id == h);
	struct virtio_gpu_ctrl_hdr rh;
	memcpy(&rh, sim_host(&t.s, rs), sizeof(rh));
	CHECK_EQ(rh.type, VIRTIO_GPU_RESP_ERR_INVALID_CONTEXT_ID);
	CHECK(rh.flags & VIRTIO_GPU_FLAG_FENCE);
	CHECK_EQ(rh.fence_id, 11);
	/* A Venus context beside it is unaffected. */
	CHECK_EQ(ctx_create(&t, 3, 4), VIRTIO_GPU_RESP_OK_NODATA);
	CHECK_EQ(fake_live, 1);
	uint32_t none[1] = { 0 };
	CHECK_EQ(simple(&t, VIRTIO_GPU_CMD_CTX_DESTROY, 2, none, 0), VIRTIO_GPU_RESP_OK_NODATA);
	CHECK_EQ(fake_live, 1);
	CHECK_EQ(simple(&t, VIRTIO_GPU_CMD_CTX_DESTROY, 3, none, 0), VIRTIO_GPU_RESP_OK_NODATA);
	CHECK_EQ(fake_live, 0);
	gpu_down(&t);
}

TEST(gpu_reset_drops_everything)
{
	struct gpu_t t;
	gpu_up(&t, true);
	CHECK_EQ(ctx_create(&t, 3, 4), VIRTIO_GPU_RESP_OK_NODATA);
	CHECK_EQ(create_blob(&t, 3, 30, VENUS_BLOB_MEM_HOST3D, 1, 4096), VIRTIO_GPU_RESP_OK_NODATA);
	CHECK_EQ(map_blob(&t, 30, 0, NULL), VIRTIO_GPU_RESP_OK_MAP_INFO);
	uint64_t rs;
	post_fenced_submit(&t, 3, 1, 1, &rs);
	sim_w32(&t.s, VIRTIO_MMIO_STATUS, 0);
	CHECK_EQ(fake_live, 0);
	CHECK(sim_bring_up(&t.s, ~0ull, 2, 64) & VIRTIO_STATUS_DRIVER_OK);
	CHECK_EQ(ctx_create(&t, 3, 4), VIRTIO_GPU_RESP_OK_NODATA);
	CHECK_EQ(create_blob(&t, 3, 30, VENUS_BLOB_MEM_HOST3D, 1, 4096), VIRTIO_GPU_RESP_OK_NODATA);
	CHECK_EQ(map_blob(&t, 30, 0, NULL), VIRTIO_GPU_RESP_OK_MAP_INFO);
	gpu_down(&t);
	CHECK_EQ(fake_live, 0);
}
